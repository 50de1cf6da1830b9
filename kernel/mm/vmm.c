/* mm/vmm.c - 4-level page tables. The kernel builds its own tables here and
 * drops the boot stub's: the direct map of RAM (no execute), the kernel image
 * mapped W^X section by section, and nothing at all in the lower half until
 * a process puts something there. */
#include "mm.h"
#include "../lib/string.h"
#include "../lib/spinlock.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"

extern char _text[], _etext[], _rodata[], _erodata[], _data[], _end[];

static uint64_t kernel_root;                /* physical address of the kernel PML4 */
static struct spinlock kmap_lock = SPINLOCK_INIT("kmap");

#define PML4_INDEX(va) (((va) >> 39) & 511)
#define PDPT_INDEX(va) (((va) >> 30) & 511)
#define PD_INDEX(va)   (((va) >> 21) & 511)
#define PT_INDEX(va)   (((va) >> 12) & 511)

static inline pte_t *table_of(pte_t e) { return P2V(e & PTE_ADDR); }

/* INVARIANT(privilege separation): kernel mappings are supervisor-only (no
 * PTE_U), so ring 3 cannot read or run a byte of the kernel. The break
 * switch hands them to user mode, as a kernel without U/S separation would. */
#ifdef BREAK_USER_PAGES
#define KERNEL_U PTE_U
#else
#define KERNEL_U 0
#endif

/* Walk one level down from table[idx], creating the next table if asked. */
static pte_t *next_level(pte_t *table, int idx, bool create, bool user)
{
    pte_t e = table[idx];
    if (e & PTE_P)
        return (e & PTE_PS) ? NULL : table_of(e);
    if (!create)
        return NULL;
    uint64_t pa = pmm_alloc_zeroed();
    if (!pa)
        return NULL;
    /* Intermediate levels are permissive; the leaf entry decides. Only the
     * user half gets U here, so a kernel leaf can never become reachable. */
    table[idx] = pa | PTE_P | PTE_W | (user ? PTE_U : KERNEL_U);
    return P2V(pa);
}

pte_t *vmm_walk(uint64_t root, uintptr_t va, bool create)
{
    bool user = va < USER_TOP;
    pte_t *pml4 = P2V(root);
    pte_t *pdpt = next_level(pml4, PML4_INDEX(va), create, user);
    if (!pdpt)
        return NULL;
    pte_t *pd = next_level(pdpt, PDPT_INDEX(va), create, user);
    if (!pd)
        return NULL;
    pte_t *pde = &pd[PD_INDEX(va)];
    if ((*pde & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
        return pde;                                   /* a 2 MiB page */
    pte_t *pt = next_level(pd, PD_INDEX(va), create, user);
    if (!pt)
        return NULL;
    return &pt[PT_INDEX(va)];
}

static inline void flush_if_current(uint64_t root, uintptr_t va)
{
    /* Kernel-half changes are seen by every address space: flush regardless. */
    if (va >= USER_TOP || (read_cr3() & PTE_ADDR) == root)
        invlpg(va);
}

int vmm_map(uint64_t root, uintptr_t va, uint64_t pa, uint64_t flags)
{
    pte_t *pte = vmm_walk(root, va, true);
    if (!pte)
        return -12;                                   /* -ENOMEM */
    if (*pte & PTE_P)
        return -17;                                   /* -EEXIST */
    *pte = (pa & PTE_ADDR) | flags | PTE_P;
    return 0;
}

uint64_t vmm_unmap(uint64_t root, uintptr_t va)
{
    pte_t *pte = vmm_walk(root, va, false);
    if (!pte || !(*pte & PTE_P) || (*pte & PTE_PS))
        return 0;
    uint64_t pa = *pte & PTE_ADDR;
    *pte = 0;
    flush_if_current(root, va);
    return pa;
}

bool vmm_translate(uint64_t root, uintptr_t va, uint64_t *pa, uint64_t *flags)
{
    pte_t *pte = vmm_walk(root, va, false);
    if (!pte || !(*pte & PTE_P))
        return false;
    uint64_t off_mask = (*pte & PTE_PS) ? LARGE_PAGE_SIZE - 1 : PAGE_SIZE - 1;
    if (pa)
        *pa = (*pte & PTE_ADDR & ~off_mask) | (va & off_mask);
    if (flags)
        *flags = *pte & ~PTE_ADDR;
    return true;
}

static void range_walk(uint64_t root, uintptr_t start, uintptr_t end, pte_fn fn, void *arg,
                       bool all);

void vmm_range_walk(uint64_t root, uintptr_t start, uintptr_t end, pte_fn fn, void *arg)
{
    range_walk(root, start, end, fn, arg, false);
}

void vmm_range_walk_all(uint64_t root, uintptr_t start, uintptr_t end, pte_fn fn, void *arg)
{
    range_walk(root, start, end, fn, arg, true);
}

static void range_walk(uint64_t root, uintptr_t start, uintptr_t end, pte_fn fn, void *arg,
                       bool all)
{
    const uintptr_t G512 = 1ul << 39, G1 = 1ul << 30, M2 = 1ul << 21;
    uintptr_t va = start;
    end = MIN(end, USER_TOP);
    while (va < end) {
        pte_t e = ((pte_t *)P2V(root))[PML4_INDEX(va)];
        if (!(e & PTE_P)) {
            va = ALIGN_DOWN(va, G512) + G512;
            continue;
        }
        e = table_of(e)[PDPT_INDEX(va)];
        if (!(e & PTE_P)) {
            va = ALIGN_DOWN(va, G1) + G1;
            continue;
        }
        e = table_of(e)[PD_INDEX(va)];
        if (!(e & PTE_P)) {
            va = ALIGN_DOWN(va, M2) + M2;
            continue;
        }
        pte_t *pt = table_of(e);
        for (; va < end; va += PAGE_SIZE) {
            pte_t *pte = &pt[PT_INDEX(va)];
            if ((*pte & PTE_P) || (all && *pte))
                fn(pte, va, arg);
            if (PT_INDEX(va) == 511) {
                va += PAGE_SIZE;
                break;
            }
        }
    }
}

static bool table_empty(const pte_t *t)
{
    for (int i = 0; i < 512; i++)
        if (t[i])
            return false;
    return true;
}

void vmm_prune(uint64_t root, uintptr_t start, uintptr_t end)
{
    /* Free page tables (and then directories) that cover only [start, end)
     * and hold nothing any more. */
    const uintptr_t M2 = 1ul << 21, G1 = 1ul << 30;
    end = MIN(end, USER_TOP);
    pte_t *pml4 = P2V(root);
    for (uintptr_t va = ALIGN_UP(start, M2); va + M2 <= end; va += M2) {
        pte_t e4 = pml4[PML4_INDEX(va)];
        if (!(e4 & PTE_P))
            continue;
        pte_t *pdpt = table_of(e4), e3 = pdpt[PDPT_INDEX(va)];
        if (!(e3 & PTE_P))
            continue;
        pte_t *pd = table_of(e3), e2 = pd[PD_INDEX(va)];
        if ((e2 & PTE_P) && !(e2 & PTE_PS) && table_empty(table_of(e2))) {
            pmm_free(e2 & PTE_ADDR);
            pd[PD_INDEX(va)] = 0;
        }
        if (PD_INDEX(va) == 511 && va + M2 - G1 >= start && table_empty(pd)) {
            pmm_free(e3 & PTE_ADDR);
            pdpt[PDPT_INDEX(va)] = 0;
        }
    }
}

bool vmm_kernel_mapped(uintptr_t va)
{
    /* Only the kernel half: a user page mapped in the current space is not
     * the kernel's to read (SMAP faults it; a crash report that followed a
     * user pointer in a register faulted again, and again). */
    if (va < PHYS_MAP_BASE)
        return false;
    return vmm_translate(read_cr3() & PTE_ADDR, va, NULL, NULL);
}

uint64_t vmm_kernel_root(void) { return kernel_root; }

uint64_t vmm_new_space(void)
{
    uint64_t root = pmm_alloc_zeroed();
    if (!root)
        return 0;
    /* The kernel half's PML4 entries point at tables vmm_init created once
     * and never frees, so every space sees later kernel mappings too. */
    memcpy((pte_t *)P2V(root) + 256, (pte_t *)P2V(kernel_root) + 256, 256 * sizeof(pte_t));
    return root;
}

static void free_table(pte_t *table, int level)
{
    for (int i = 0; i < 512; i++) {
        pte_t e = table[i];
        if ((e & PTE_P) && level > 1 && !(e & PTE_PS))
            free_table(table_of(e), level - 1);
    }
    pmm_free(V2P(table));
}

void vmm_destroy_space(uint64_t root)
{
    pte_t *pml4 = P2V(root);
    for (int i = 0; i < 256; i++)
        if (pml4[i] & PTE_P)
            free_table(table_of(pml4[i]), 3);
    pmm_free(root);
}

/* Map [va, va+len) to [pa, ...) with 4 KiB pages in the kernel root. */
static void map_range(uintptr_t va, uint64_t pa, size_t len, uint64_t flags)
{
    for (size_t off = 0; off < len; off += PAGE_SIZE)
        if (vmm_map(kernel_root, va + off, pa + off, flags))
            panic("vmm: cannot map 0x%lx", va + off);
}

void vmm_init(const struct mem_range *direct, int ndirect)
{
    kernel_root = pmm_alloc_zeroed();
    if (!kernel_root)
        panic("vmm: out of memory");
    pte_t *pml4 = P2V(kernel_root);
    /* Pre-create every kernel-half PDPT so the 256 upper PML4 entries never
     * change again (see vmm_new_space). */
    for (int i = 256; i < 512; i++) {
        uint64_t pa = pmm_alloc_zeroed();
        if (!pa)
            panic("vmm: out of memory");
        pml4[i] = pa | PTE_P | PTE_W | KERNEL_U;
    }

    /* Direct map: exactly the 4 KiB pages of RAM, ACPI data and the first
     * MiB, never executable, never user. Page-granular so that no device
     * memory in a hole between RAM ranges is ever mapped cacheable. */
    for (int i = 0; i < ndirect; i++) {
        uint64_t end = ALIGN_UP(direct[i].base + direct[i].len, PAGE_SIZE);
        for (uint64_t pa = ALIGN_DOWN(direct[i].base, PAGE_SIZE); pa < end; pa += PAGE_SIZE) {
            pte_t *pte = vmm_walk(kernel_root, PHYS_MAP_BASE + pa, true);
            if (!pte)
                panic("vmm: out of memory");
            *pte = pa | PTE_P | PTE_W | PTE_G | PTE_NX | KERNEL_U;   /* ranges may overlap */
        }
    }

    /* The kernel image, each part with only the rights it needs.
     * INVARIANT(privilege separation): W^X, kernel text is never writable and
     * kernel data is never executable. */
    uintptr_t text = (uintptr_t)_text, rodata = (uintptr_t)_rodata, data = (uintptr_t)_data;
#ifdef BREAK_KERNEL_WX
    map_range(text, V2P(text), rodata - text, PTE_G | KERNEL_U | PTE_W);  /* the break switch */
#else
    map_range(text, V2P(text), rodata - text, PTE_G | KERNEL_U);
#endif
    map_range(rodata, V2P(rodata), data - rodata, PTE_G | PTE_NX | KERNEL_U);
    map_range(data, V2P(data), ALIGN_UP((uintptr_t)_end, PAGE_SIZE) - data,
              PTE_G | PTE_W | PTE_NX | KERNEL_U);

    write_cr4(read_cr4() | (1 << 7));                 /* PGE: global pages */
    write_cr3(kernel_root);
}

/* ---- MMIO ---- */
static uintptr_t mmio_next = MMIO_BASE;

void *vmm_map_mmio(uint64_t pa, size_t len)
{
    uint64_t base = ALIGN_DOWN(pa, PAGE_SIZE);
    size_t span = ALIGN_UP(pa + len, PAGE_SIZE) - base;
    uint64_t flags = spin_lock_irqsave(&kmap_lock);
    uintptr_t va = mmio_next;
    mmio_next += span + PAGE_SIZE;                    /* and a hole after each */
    spin_unlock_irqrestore(&kmap_lock, flags);
    map_range(va, base, span, PTE_W | PTE_PCD | PTE_PWT | PTE_G | PTE_NX);
    return (void *)(va + (pa - base));
}

/* ---- kernel stacks ---- */
/* Fixed slots of KSTACK_PAGES mapped pages above one page left unmapped:
 * running off the bottom of a stack faults instead of silently overwriting
 * whatever lies below.
 * INVARIANT(process isolation): a kernel stack overflow is caught by its guard page. */
#define KSTACK_SLOT  ((KSTACK_PAGES + 1) * PAGE_SIZE)
#define KSTACK_SLOTS 4096
static uint64_t kstack_slot_used[KSTACK_SLOTS / 64];

/* Stack depth, measured: every kernel stack is painted when it is made;
 * when it is freed (and at power-off for the live ones, kstack_note) the
 * lowest word no longer holding the paint says how deep it ever went. The
 * deepest is reported at power-off, and the tests fail above a limit
 * (tests/conftest.py): the frame-size warning bounds each function, this
 * bounds what the calls add up to. */
#define KSTACK_PAINT 0x5354414b5354414bull      /* "KATSKATS" */
static size_t kstack_max_used;

size_t kstack_used(const struct kstack *ks)
{
    const uint64_t *w = (const uint64_t *)ks->bottom, *end = (const uint64_t *)ks->top;
    while (w < end && *w == KSTACK_PAINT)
        w++;
    return (size_t)(ks->top - (uintptr_t)w);
}

void kstack_note(const struct kstack *ks)
{
    size_t used = kstack_used(ks), seen = __atomic_load_n(&kstack_max_used, __ATOMIC_RELAXED);
    while (used > seen &&
           !__atomic_compare_exchange_n(&kstack_max_used, &seen, used, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
}

size_t kstack_deepest(void) { return kstack_max_used; }

bool kstack_alloc(struct kstack *ks)
{
    uint64_t flags = spin_lock_irqsave(&kmap_lock);
    int slot = -1;
    for (int i = 0; i < KSTACK_SLOTS && slot < 0; i++)
        if (!(kstack_slot_used[i / 64] & (1ul << (i % 64)))) {
            kstack_slot_used[i / 64] |= 1ul << (i % 64);
            slot = i;
        }
    spin_unlock_irqrestore(&kmap_lock, flags);
    if (slot < 0)
        return false;
    ks->guard = KSTACK_BASE + (uintptr_t)slot * KSTACK_SLOT;
    ks->bottom = ks->guard + PAGE_SIZE;
    ks->top = ks->bottom + KSTACK_PAGES * PAGE_SIZE;
    uintptr_t first = ks->bottom;
#ifdef BREAK_KSTACK_GUARD
    first = ks->guard;                    /* the break switch: the guard page is mapped too */
#endif
    for (uintptr_t va = first; va < ks->top; va += PAGE_SIZE) {
        uint64_t pa = pmm_alloc();
        if (!pa || vmm_map(kernel_root, va, pa, PTE_W | PTE_G | PTE_NX)) {
            if (pa)
                pmm_free(pa);
            ks->top = va;                 /* free what was mapped so far */
            kstack_free(ks);
            return false;
        }
    }
    for (uint64_t *w = (uint64_t *)ks->bottom; w < (uint64_t *)ks->top; w++)
        *w = KSTACK_PAINT;
    return true;
}

void kstack_free(struct kstack *ks)
{
    uint64_t frames[KSTACK_PAGES + 1];
    int n = 0;
    uintptr_t first = ks->bottom;
#ifdef BREAK_KSTACK_GUARD
    first = ks->guard;
#endif
    for (uintptr_t va = first; va < ks->top; va += PAGE_SIZE) {
        uint64_t pa = vmm_unmap(kernel_root, va);
        if (pa)
            frames[n++] = pa;
    }
    /* The slot's addresses will be reused: no CPU may keep the old (global)
     * translations. Only then can the frames go back. */
    if (ks->top > ks->bottom)
        tlb_shootdown(~0ul, ks->bottom, (ks->top - ks->bottom) / PAGE_SIZE);
    for (int i = 0; i < n; i++)
        pmm_free(frames[i]);
    int slot = (int)((ks->guard - KSTACK_BASE) / KSTACK_SLOT);
    uint64_t flags = spin_lock_irqsave(&kmap_lock);
    kstack_slot_used[slot / 64] &= ~(1ul << (slot % 64));
    spin_unlock_irqrestore(&kmap_lock, flags);
}
