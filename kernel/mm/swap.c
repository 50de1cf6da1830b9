/* mm/swap.c - swap: where anonymous memory goes when RAM is short.
 *
 * Without swap, reclaim (reclaim.c) can give back only clean file pages: a
 * program's heap and stack have no other home, and once they fill RAM the
 * OOM killer must choose. With a swap file (swapon(2) on a file Debian's
 * mkswap prepared: the "SWAPSPACE2" signature at the end of its first page,
 * version 1, the last usable page in the header) an anonymous page can be
 * written out and its frame freed; its page-table entry then holds the
 * swap slot instead of a frame (a swap entry: not present, PTE_SWAP set,
 * the slot number where the frame address was), and the next touch reads
 * it back (a major fault).
 *
 * The file is used as Linux uses one: at swapon every page of it is looked
 * up once in its file system (inode op bmap: the disk sector of each
 * page, which must be allocated and contiguous) and from then on pages go
 * to and from those sectors directly (block_read/block_write_batch), never
 * through the buffer cache or the journal: swap I/O allocates nothing,
 * which is what reclaim under memory pressure needs. The file system is
 * synced at swapon so no older dirty buffer of the file lands on a slot
 * later. The header page (slot 0) is never used.
 *
 * Slots are reference counted (refs[]): fork copies a swap entry into the
 * child as it shares a frame, and each entry holds one reference; a slot is
 * free again when its last entry is gone (munmap, exit, or the swap-in of
 * the last one). A swap-in gives the faulting address space a private
 * frame of its own, so a slot shared after fork becomes two copies as the
 * two processes touch it, as copy-on-write would have made them.
 *
 * One swap area at a time; swap partitions (a block device) are not
 * supported (EINVAL). Everything here is [klock]. */
#include "mm.h"
#include "../fs/vfs.h"
#include "../fs/file.h"
#include "../drivers/block.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../debug/debug.h"

#define SWAP_MAGIC       "SWAPSPACE2"
#define SWAP_FLAGS_KNOWN 0x7ffff        /* SWAP_FLAG_PREFER | PRIO_MASK | DISCARD... */
#define SLOT_BAD         0xffff         /* refs[] of a page the header lists as bad */

struct swap_area {
    struct inode *ino;          /* one reference, while swap is on */
    char path[256];
    uint64_t nslots;            /* slot 0 is the header */
    uint64_t *sector;           /* [nslots] where each slot's page is on the disk */
    uint16_t *refs;             /* [nslots] swap entries naming each slot */
    uint64_t used;              /* slots with refs > 0 */
    uint64_t usable;            /* slots that may hold pages (not the header, not bad ones) */
    uint64_t hint;              /* where the next search starts */
};

static struct swap_area *area;          /* [klock] NULL: swap is off */
static uint64_t pswpin, pswpout;        /* [klock] pages read in, written out (/proc/vmstat) */

bool swap_on(void) { return area != NULL; }

void swap_counts(uint64_t *total, uint64_t *free, uint64_t *in, uint64_t *out)
{
    *total = area ? area->usable : 0;
    *free = area ? area->usable - area->used : 0;
    *in = pswpin;
    *out = pswpout;
}

uint64_t swap_alloc(void)
{
    ASSERT_KLOCK();
    if (!area || area->used >= area->usable)
        return 0;
    for (uint64_t k = 0; k < area->nslots; k++) {
        uint64_t s = 1 + (area->hint + k) % (area->nslots - 1);
        if (area->refs[s] == 0) {
            area->refs[s] = 1;
            area->used++;
            area->hint = s;
            return s;
        }
    }
    return 0;
}

void swap_dup(uint64_t slot)
{
    ASSERT_KLOCK();
    if (!area || !slot || slot >= area->nslots || area->refs[slot] == 0 ||
        area->refs[slot] >= SLOT_BAD - 1)
        panic("swap: bad dup of slot %lu", slot);
    area->refs[slot]++;
}

unsigned swap_refcount(uint64_t slot)
{
    if (!area || !slot || slot >= area->nslots || area->refs[slot] == SLOT_BAD)
        return 0;
    return area->refs[slot];
}

void swap_put(uint64_t slot)
{
    ASSERT_KLOCK();
    if (!area || !slot || slot >= area->nslots || area->refs[slot] == 0 ||
        area->refs[slot] == SLOT_BAD)
        panic("swap: bad put of slot %lu", slot);
    if (--area->refs[slot] == 0)
        area->used--;
}

int swap_write_batch(const uint64_t *slots, const uint64_t *frames, int n)
{
    struct block_io ios[SWAP_BATCH];
    if (!area || n > SWAP_BATCH)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        ios[i] = (struct block_io){ area->sector[slots[i]], P2V(frames[i]), PAGE_SIZE / SECTOR_SIZE };
    int r = block_write_batch(ios, n);
    if (!r)
        pswpout += (uint64_t)n;
    return r;
}

int swap_read(uint64_t slot, uint64_t pa)
{
    if (!area || !slot || slot >= area->nslots)
        return -EIO;
    int r = block_read(area->sector[slot], P2V(pa), PAGE_SIZE / SECTOR_SIZE);
    if (!r)
        pswpin++;
    return r;
}

/* The swap header (Linux's union swap_header, include/linux/swap.h). */
struct swap_header {
    uint8_t bootbits[1024];
    uint32_t version, last_page, nr_badpages;
    uint8_t uuid[16];
    char volume[16];
    uint32_t padding[117];
    uint32_t badpages[1];
};

static int lookup_swapfile(const char *upath, char *path, struct inode **out)
{
    if (current()->euid != 0)
        return -EPERM;                      /* CAP_SYS_ADMIN, as on Linux */
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return (int)r;
    return vfs_lookup(current()->fs->cwd, path, LOOKUP_FOLLOW, out);
}

/* Read and check the header; build the slot table. 0 or -errno (EINVAL:
 * not a swap area Vigil can use). */
static int setup(struct inode *ino, struct swap_area *a)
{
    if (!S_ISREG(ino->mode) || !ino->ops->bmap || !ino->ops->read || ino->size < 2 * PAGE_SIZE)
        return -EINVAL;
    uint8_t *page = kmalloc(PAGE_SIZE);
    if (!page)
        return -ENOMEM;
    long n = ino->ops->read(ino, 0, page, PAGE_SIZE);
    const struct swap_header *h = (const struct swap_header *)page;
    int r = 0;
    /* INVARIANT(memory under pressure): only a file mkswap made becomes
     * swap: anything else would have its bytes overwritten by pages. */
    if (n != (long)PAGE_SIZE || memcmp(page + PAGE_SIZE - 10, SWAP_MAGIC, 10) || h->version != 1 ||
        h->last_page < 1 || h->nr_badpages > 637)
        r = -EINVAL;
    uint64_t nslots = 0;
    if (!r) {
        nslots = MIN((uint64_t)h->last_page + 1, ino->size / PAGE_SIZE);
        a->sector = kmalloc(nslots * sizeof(uint64_t));
        a->refs = kzalloc(nslots * sizeof(uint16_t));
        if (!a->sector || !a->refs)
            r = -ENOMEM;
    }
    for (uint64_t s = 1; !r && s < nslots; s++) {
        /* Every page allocated, its sectors in one run (Linux: "swapfile has holes"). */
        long first = ino->ops->bmap(ino, s * PAGE_SIZE);
        for (uint64_t k = 1; first >= 0 && k < PAGE_SIZE / SECTOR_SIZE; k++)
            if (ino->ops->bmap(ino, s * PAGE_SIZE + k * SECTOR_SIZE) != first + (long)k)
                first = -EINVAL;
        if (first < 0)
            r = -EINVAL;
        else
            a->sector[s] = (uint64_t)first;
    }
    if (!r) {
        a->nslots = nslots;
        a->usable = nslots - 1;
        a->refs[0] = SLOT_BAD;
        for (uint32_t i = 0; i < h->nr_badpages; i++)
            if (h->badpages[i] > 0 && h->badpages[i] < nslots && a->refs[h->badpages[i]] != SLOT_BAD) {
                a->refs[h->badpages[i]] = SLOT_BAD;
                a->usable--;
            }
    }
    kfree(page);
    return r;
}

long sys_swapon(const char *upath, int flags)
{
    PATH_BUF(path);
    struct inode *ino;
    int r = lookup_swapfile(upath, path, &ino);
    if (r)
        return r;
    if (flags & ~SWAP_FLAGS_KNOWN) {
        iput(ino);
        return -EINVAL;
    }
    if (area) {
        iput(ino);
        return -EBUSY;                      /* one area at a time (this file or another) */
    }
    struct swap_area *a = kzalloc(sizeof(*a));
    r = a ? setup(ino, a) : -ENOMEM;
    /* Older dirty buffers of the file must reach the disk before slots
     * are written there directly (they would land on top later). */
    if (!r && ino->ops->sync)
        r = ino->ops->sync(ino->sb);
    if (r || area) {                        /* (another swapon won while this one slept) */
        if (a) {
            kfree(a->sector);
            kfree(a->refs);
        }
        kfree(a);
        iput(ino);
        return r ? r : -EBUSY;
    }
    a->ino = ino;
    snprintf(a->path, sizeof(a->path), "%s", path);
    a->hint = 0;
    area = a;
    kprintf("swap: %s on: %lu pages\n", a->path, a->usable);
    return 0;
}

long sys_swapoff(const char *upath)
{
    PATH_BUF(path);
    struct inode *ino;
    int r = lookup_swapfile(upath, path, &ino);
    if (r)
        return r;
    iput(ino);
    if (!area || area->ino != ino)
        return -EINVAL;                     /* not a swap area */
    /* Every swapped page comes home first; without room for them, swap
     * stays on (Linux: ENOMEM). */
    r = mm_swap_in_all();
    if (r)
        return r;
    struct swap_area *a = area;
    if (!a || a->used)
        return a ? -EBUSY : -EINVAL;
    area = NULL;
    kprintf("swap: %s off\n", a->path);
    iput(a->ino);
    kfree(a->sector);
    kfree(a->refs);
    kfree(a);
    return 0;
}

/* /proc/swaps: Linux's columns. */
void swap_describe(char *buf, size_t n)
{
    buf[0] = 0;
    if (!area)
        return;
    char pad[41];
    size_t len = strlen(area->path), k = len < 40 ? 40 - len : 1;
    memset(pad, ' ', k);
    pad[k] = 0;
    snprintf(buf, n, "%s%sfile\t\t%lu\t\t%lu\t\t-2\n", area->path, pad, area->usable * 4,
             area->used * 4);
}
