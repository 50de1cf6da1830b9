/* mm/pmm.c - the physical frame allocator: one bit per 4 KiB frame of RAM,
 * set when the frame is in use. Frames outside the firmware's usable ranges
 * are marked in use forever, so nothing can hand them out. */
#include "mm.h"
#include "../lib/string.h"
#include "../lib/spinlock.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

static uint64_t *bitmap;        /* bit n set: frame n in use */
static uint16_t *refs;          /* mappings of frame n (user pages; COW shares them) */
static uint64_t nframes;        /* frames covered by the bitmap */
static uint64_t free_count;
static uint64_t total_count;
static uint64_t next_hint;      /* where the next search starts (next fit) */
static struct spinlock pmm_lock = SPINLOCK_INIT("pmm");

static inline bool frame_used(uint64_t f) { return bitmap[f / 64] & (1ul << (f % 64)); }
static inline void set_used(uint64_t f) { bitmap[f / 64] |= 1ul << (f % 64); }
static inline void set_free(uint64_t f) { bitmap[f / 64] &= ~(1ul << (f % 64)); }

static bool overlaps(uint64_t base, uint64_t len, const struct mem_range *r, int n)
{
    for (int i = 0; i < n; i++)
        if (base < r[i].base + r[i].len && r[i].base < base + len)
            return true;
    return false;
}

void pmm_init(const struct mem_range *usable, int nusable,
              const struct mem_range *reserved, int nreserved)
{
    uint64_t top = 0;
    for (int i = 0; i < nusable; i++)
        top = MAX(top, usable[i].base + usable[i].len);
    nframes = top / PAGE_SIZE;
    size_t bitmap_bytes = (nframes + 63) / 64 * 8;
    size_t bytes = ALIGN_UP(bitmap_bytes + nframes * sizeof(uint16_t), PAGE_SIZE);

    /* The bitmap needs a home before there is an allocator: the first
     * page-aligned spot in usable RAM above 1 MiB that holds nothing else and
     * that the boot stub's direct map (the first 1 GiB) can reach. */
    uint64_t home = 0;
    for (int i = 0; i < nusable && !home; i++) {
        uint64_t b = ALIGN_UP(MAX(usable[i].base, 0x100000ul), PAGE_SIZE);
        for (; b + bytes <= usable[i].base + usable[i].len && b + bytes <= (1ul << 30); b += PAGE_SIZE) {
            if (!overlaps(b, bytes, reserved, nreserved)) {
                home = b;
                break;
            }
        }
    }
    if (!home)
        panic("pmm: no room for the frame bitmap (%lu bytes)", bytes);
    bitmap = P2V(home);
    refs = (uint16_t *)((uint8_t *)bitmap + bitmap_bytes);

    memset(bitmap, 0xff, bitmap_bytes);
    memset(refs, 0, nframes * sizeof(uint16_t));
    for (int i = 0; i < nusable; i++) {
        uint64_t first = ALIGN_UP(usable[i].base, PAGE_SIZE) / PAGE_SIZE;
        uint64_t end = ALIGN_DOWN(usable[i].base + usable[i].len, PAGE_SIZE) / PAGE_SIZE;
        for (uint64_t f = first; f < end; f++) {
            set_free(f);
            free_count++;
        }
    }
    /* Frame 0 stays in use so that 0 can mean "no frame"; the first MiB holds
     * firmware data (and later the SMP trampoline). */
    struct mem_range keep[] = { { 0, 0x100000 }, { home, bytes } };
    for (int pass = 0; pass < 2; pass++) {
        const struct mem_range *r = pass ? reserved : keep;
        int n = pass ? nreserved : (int)ARRAY_SIZE(keep);
        for (int i = 0; i < n; i++) {
            uint64_t first = r[i].base / PAGE_SIZE;
            uint64_t end = MIN(ALIGN_UP(r[i].base + r[i].len, PAGE_SIZE) / PAGE_SIZE, nframes);
            for (uint64_t f = first; f < end; f++) {
                if (!frame_used(f)) {
                    set_used(f);
                    free_count--;
                }
            }
        }
    }
    total_count = free_count;
    next_hint = 0;
}

static uint64_t find_free_run(uint64_t start, size_t n)
{
    uint64_t run = 0;
    for (uint64_t f = start; f < nframes; f++) {
        if (!(f % 64) && bitmap[f / 64] == ~0ul) {  /* skip full words */
            run = 0;
            f += 63;
            continue;
        }
        run = frame_used(f) ? 0 : run + 1;
        if (run == n)
            return f + 1 - n;
    }
    return 0;
}

uint64_t pmm_alloc_contig(size_t n)
{
    if (!n)
        return 0;
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t f = find_free_run(next_hint, n);
    if (!f)
        f = find_free_run(0, n);
    if (f) {
        for (size_t i = 0; i < n; i++) {
            set_used(f + i);
            refs[f + i] = 1;
        }
        free_count -= n;
        next_hint = f + n;
    }
    spin_unlock_irqrestore(&pmm_lock, flags);
    return f * PAGE_SIZE;
}

uint64_t pmm_alloc(void)
{
    return pmm_alloc_contig(1);
}

uint64_t pmm_alloc_zeroed(void)
{
    uint64_t pa = pmm_alloc();
    if (pa)
        memset(P2V(pa), 0, PAGE_SIZE);
    return pa;
}

void pmm_free_contig(uint64_t pa, size_t n)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    for (size_t i = 0; i < n; i++) {
        uint64_t f = pa / PAGE_SIZE + i;
        /* Freeing a free frame means two owners thought they had it. */
        if ((pa & (PAGE_SIZE - 1)) || f >= nframes || !frame_used(f))
            panic("pmm: bad free of frame 0x%lx", f * PAGE_SIZE);
        set_free(f);
        refs[f] = 0;
    }
    free_count += n;
    spin_unlock_irqrestore(&pmm_lock, flags);
}

void pmm_free(uint64_t pa)
{
    pmm_free_contig(pa, 1);
}

uint64_t pmm_free_frames(void) { return free_count; }

/* The frames user pages may not take (a 256th of RAM and 32 more):
 * the kernel's own allocations (page tables, the heap, kernel stacks, disk
 * buffers) find them there while a program that wants more memory than
 * there is waits for reclaim or the OOM killer (mm/reclaim.c). */
uint64_t pmm_reserve_frames(void) { return total_count / 256 + 32; }

uint64_t pmm_alloc_user(bool zeroed)
{
    if (free_count <= pmm_reserve_frames())
        return 0;
    return zeroed ? pmm_alloc_zeroed() : pmm_alloc();
}
uint64_t pmm_total_frames(void) { return total_count; }
uint64_t pmm_max_phys(void) { return nframes * PAGE_SIZE; }

/* Reference counts let several page tables map one frame (copy-on-write
 * after fork): the frame is freed when the last mapping goes. */
void pmm_ref(uint64_t pa)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t f = pa / PAGE_SIZE;
    if (f >= nframes || !frame_used(f) || refs[f] == 0xffff)
        panic("pmm: bad ref of frame 0x%lx", pa);
    refs[f]++;
    spin_unlock_irqrestore(&pmm_lock, flags);
}

void pmm_unref(uint64_t pa)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t f = pa / PAGE_SIZE;
    if (f >= nframes || !frame_used(f) || refs[f] == 0)
        panic("pmm: bad unref of frame 0x%lx", pa);
    bool last = --refs[f] == 0;
    if (last) {
        set_free(f);
        free_count++;
    }
    spin_unlock_irqrestore(&pmm_lock, flags);
}

unsigned pmm_refcount(uint64_t pa)
{
    uint64_t f = pa / PAGE_SIZE;
    return f < nframes ? refs[f] : 0;
}
