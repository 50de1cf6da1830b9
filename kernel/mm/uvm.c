/* mm/uvm.c - user address spaces: a list of regions (VMAs) saying what may
 * be mapped where, and page tables filled lazily from it.
 *
 * Nothing is mapped until touched: the first access to a page of a region
 * faults, and mm_fault gives it a zeroed frame (demand paging). fork shares
 * every frame read-only and marks it PTE_COW, whatever its protection then:
 * a page that is read-only at fork may be made writable later (mprotect),
 * and it is still shared. The rule that keeps processes apart is one line:
 * a frame mapped more than once (pmm_refcount > 1) is never writable through
 * any of its mappings. mprotect leaves such entries read-only, and the first
 * write to one - by the process (mm_fault) or by the kernel for it
 * (mm_write) - copies the frame, or just re-enables writing if nobody else
 * holds it any more (unshare).
 *
 * A region may map a file (v->file, from page v->pgoff): its pages come
 * from the page cache (filemap.c), private ones under the same rule (the
 * cache holds a reference, so a cached frame is always "mapped more than
 * once": the first write copies), shared ones (VMA_SHARED, PTE_SHMAP)
 * writable through every mapping and written back to the file. */
#include "mm.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"
#include "../proc/proc.h"
#include "../lib/abi.h"

static struct mm *active[MAX_CPUS];     /* what each CPU has in CR3 */
static struct mm *all_mms;              /* [klock] every address space, for truncate */

static int cpu_me(void) { return cpu_count() > 1 ? this_cpu()->id : 0; }

/* Make a change to mm's page tables visible on every CPU that has mm
 * loaded (npages == 0: the whole space). Frames unmapped before this call
 * cannot be reused before it returns: reuse needs the kernel lock, which
 * the caller holds. */
static void flush_mm(struct mm *mm, uintptr_t va, size_t npages)
{
    ASSERT_KLOCK();
    uint64_t mask = __atomic_load_n(&mm->cpus, __ATOMIC_ACQUIRE);
#ifdef BREAK_TLB
    mask &= 1ul << cpu_me();                /* the break switch: other CPUs keep stale entries */
#endif
    if (npages == 0 && (mask & (1ul << cpu_me()))) {
        write_cr3(mm->root);                /* cheaper than a global flush */
        mask &= ~(1ul << cpu_me());
    }
    if (mask)
        tlb_shootdown(mask, npages ? va : 0, npages);
}

/* The entry bits of a page of region v: its protection, and its
 * protection key (with CR4.PKE: the hardware checks the key against the
 * running thread's PKRU on every user-page access). */
static uint64_t pte_flags(const struct vma *v)
{
    uint32_t prot = v->prot;
    uint64_t f = PTE_P | PTE_U;
#ifndef BREAK_PKEY_PTE
    /* INVARIANT(process isolation): a page carries its region's key, so
     * PKRU's write- and access-disable bits hold for it. */
    f |= (uint64_t)v->pkey << PTE_PKEY_SHIFT;
#endif
    if (prot & VM_WRITE)
        f |= PTE_W;
#ifndef BREAK_NX
    /* INVARIANT(privilege separation): data pages (stack, heap, bss) are
     * never executable unless mapped PROT_EXEC. */
    if (!(prot & VM_EXEC))
        f |= PTE_NX;
#endif
    return f;
}

struct mm *mm_create(void)
{
    struct mm *mm = kzalloc(sizeof(*mm));
    if (!mm)
        return NULL;
    mm->root = vmm_new_space();
    if (!mm->root) {
        kfree(mm);
        return NULL;
    }
    mm->users = 1;
    mm->coredump_filter = 0x33;             /* Linux's default: anonymous memory and ELF headers */
    mm->pkeys = cpu_pku ? 1 : 0;            /* key 0, the default, is every mm's (Linux) */
    mm->mm_next = all_mms;
    if (all_mms)
        all_mms->mm_prev = mm;
    all_mms = mm;
    return mm;
}

/* INVARIANT(kernel memory safety): as iget's rule (fs/vfs.c): a user is
 * added only through one that is held; an address space with none left is
 * being destroyed. Said once, with the stack, as a kernel fault. */
void mm_get(struct mm *mm)
{
    static bool said;
    if (__atomic_fetch_add(&mm->users, 1, __ATOMIC_RELAXED) <= 0 && !said) {
        said = true;
        kprintf("mm: BUG: a user added to an address space with none left\n");
        backtrace_from((uintptr_t)__builtin_return_address(0), (uintptr_t)__builtin_frame_address(0));
    }
}

void mm_put(struct mm *mm)
{
    if (__atomic_sub_fetch(&mm->users, 1, __ATOMIC_ACQ_REL) == 0)
        mm_destroy(mm);
}

static void unmap_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct mm *mm = arg;
    (void)va;
    if (is_swap_entry(*pte)) {
        swap_put(swap_slot(*pte));          /* the page was on the swap area: its slot goes */
        *pte = 0;
        mm->swapped--;
        return;
    }
    pmm_unref(*pte & PTE_ADDR);
    *pte = 0;
    mm->resident--;
}

static void vma_free(struct vma *v)
{
    if (v->file)
        file_close(v->file);            /* may be the last: the inode may go (iput) */
    kfree(v);
}

/* Write the pages of a MAP_SHARED file region back through its file system:
 * munmap, exit, msync. May sleep. */
static int vma_writeback(struct vma *v, uintptr_t start, uintptr_t end)
{
    if (!v->file || !(v->flags & VMA_SHARED))
        return 0;
    uint64_t first = v->pgoff + (start - v->start) / PAGE_SIZE;
    return filemap_writeback(v->file->inode, first, first + (end - start) / PAGE_SIZE - 1);
}

/* Regions taken off an address space: their pages are unmapped; write the
 * shared ones back, then let their files go (either may sleep). */
static void vmas_retire(struct vma *list)
{
    for (struct vma *v = list, *n; v; v = n) {
        n = v->next;
        vma_writeback(v, v->start, v->end);
        vma_free(v);
    }
}

void mm_destroy(struct mm *mm)
{
    if (active[cpu_me()] == mm)
        mm_activate(NULL);
    /* Off the list first: reclaim and swapoff walk it (mm_get's rule). */
    if (mm->mm_prev)
        mm->mm_prev->mm_next = mm->mm_next;
    else
        all_mms = mm->mm_next;
    if (mm->mm_next)
        mm->mm_next->mm_prev = mm->mm_prev;
    vmm_range_walk_all(mm->root, 0, USER_TOP, unmap_leaf, mm);
    vmm_destroy_space(mm->root);
    struct vma *list = mm->vmas;
    mm->vmas = NULL;
    struct inode *exe = mm->exe_ino;
    kfree(mm);
    vmas_retire(list);
    if (exe) {
        vfs_allow_write_access(exe);
        iput(exe);
    }
}

void mm_activate(struct mm *mm)
{
    int me = cpu_me();
    struct mm *old = active[me];
    if (old == mm)
        return;
    if (old)
        __atomic_and_fetch(&old->cpus, ~(1ul << me), __ATOMIC_RELEASE);
    active[me] = mm;
    if (mm)
        __atomic_or_fetch(&mm->cpus, 1ul << me, __ATOMIC_ACQ_REL);
    write_cr3(mm ? mm->root : vmm_kernel_root());
}

struct mm *mm_current(void) { return active[cpu_me()]; }

static struct vma *find_vma(struct mm *mm, uintptr_t addr)
{
    for (struct vma *v = mm->vmas; v && v->start <= addr; v = v->next)
        if (addr < v->end)
            return v;
    return NULL;
}

bool kernel_lock_held(void);

/* INVARIANT(kernel memory safety): the kernel reads user memory on a
 * program's behalf only where the program could read it itself. A
 * PROT_NONE page stays present but kernel-only (so its frame stays put),
 * which the kernel's own accesses would not notice: this checks the
 * regions. Without the kernel lock (lock-free syscalls only write, and a
 * PROT_NONE page is not writable) the region list may change: no check. */
bool mm_user_readable(uintptr_t addr, size_t n)
{
    struct mm *mm = active[cpu_me()];
    if (!mm || !n || !kernel_lock_held())
        return true;
    uintptr_t end = addr + n;
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
        if (v->end > addr && !v->prot)
            return false;
    return true;
}

int vm_max_map_count = 65530;           /* Linux's default (DEFAULT_MAX_MAP_COUNT) */
unsigned long vm_mmap_min_addr = 65536;  /* Linux's x86 default (DEFAULT_MMAP_MIN_ADDR), Debian's */

/* INVARIANT(privilege separation): below vm.mmap_min_addr only root
 * (CAP_SYS_RAWIO) maps anything, so that a stray NULL pointer, in a
 * process or in the kernel's view of one, reads no page a user chose. */
int mm_min_addr_check(uintptr_t addr)
{
#ifdef BREAK_MMAP_MIN_ADDR
    return 0;                           /* the break switch: page 0 is anyone's to map */
#endif
    return addr < vm_mmap_min_addr && current()->euid != 0 ? -EPERM : 0;
}

uint64_t mm_total_vm(struct mm *mm) { return mm->total_pages; }

/* The first region that may end after addr: from the hint when it lies
 * before addr (a run of mappings at rising addresses, as munmap04's
 * 65530, then costs one step each), else from the head. */
static struct vma *first_from(struct mm *mm, uintptr_t addr, struct vma ***pp_out)
{
    struct vma **pp = &mm->vmas;
    if (mm->hint && mm->hint->end <= addr)
        pp = &mm->hint->next;
    while (*pp && (*pp)->end <= addr)
        pp = &(*pp)->next;
    if (pp_out)
        *pp_out = pp;
    return *pp;
}

bool mm_range_free(struct mm *mm, uintptr_t addr, size_t len)
{
    struct vma *v = first_from(mm, addr, NULL);
    return !v || v->start >= addr + len;
}

uint32_t mm_prot_at(struct mm *mm, uintptr_t addr)
{
    struct vma *v = find_vma(mm, addr);
    return v ? v->prot : 0;
}

/* Split so that a VMA boundary falls at addr (if a VMA spans it). */
static int split_at(struct mm *mm, uintptr_t addr)
{
    struct vma *v = find_vma(mm, addr);
    if (!v || v->start == addr)
        return 0;
    struct vma *tail = kmalloc(sizeof(*tail));
    if (!tail)
        return -ENOMEM;
    *tail = *v;
    tail->start = addr;
    if (tail->file) {
        file_dup(tail->file);
        tail->pgoff += (addr - v->start) / PAGE_SIZE;
    }
    v->end = addr;
    v->next = tail;
    mm->map_count++;
    return 0;
}

/* Can n, starting where v ends, be part of v? Same protection, sharing
 * and file, and the file's pages continue where v's end. */
static bool mergeable(const struct vma *v, const struct vma *n)
{
    return v->end == n->start && v->prot == n->prot && v->flags == n->flags &&
           v->file == n->file && v->pkey == n->pkey && v->uffd == n->uffd &&
           (!v->file || n->pgoff == v->pgoff + (v->end - v->start) / PAGE_SIZE);
}

/* Merge neighbours that can be one, keeping the list short. */
static void merge(struct mm *mm)
{
    for (struct vma *v = mm->vmas; v && v->next;) {
        struct vma *n = v->next;
        if (mergeable(v, n)) {
            v->end = n->end;
            v->next = n->next;
            mm->map_count--;
            if (mm->hint == n)
                mm->hint = v;
            vma_free(n);                /* v holds the file too: never its last reference */
        } else {
            v = n;
        }
    }
}

static int map_vma(struct mm *mm, uintptr_t start, size_t len, uint32_t prot,
                   uint32_t flags, struct file *file, uint64_t pgoff)
{
    uintptr_t end = start + ALIGN_UP(len, PAGE_SIZE);
    if ((start & (PAGE_SIZE - 1)) || !len || end > USER_TOP || end < start)
        return -EINVAL;
    struct vma **pp;
    struct vma *at = first_from(mm, start, &pp);
    if (at && at->start < end)
        return -EEXIST;                     /* overlaps: caller unmaps first */
    struct vma *v = kmalloc(sizeof(*v));
    if (!v)
        return -ENOMEM;
    /* mlockall(MCL_FUTURE): every new region is locked (its caller
     * faults it in: mm_populate). */
    flags |= mm->def_flags;
    *v = (struct vma){ .start = start, .end = end, .prot = prot, .flags = flags,
                       .file = file ? file_dup(file) : NULL, .pgoff = pgoff, .next = *pp };
    *pp = v;
    mm->map_count++;
    mm->total_pages += (end - start) / PAGE_SIZE;
    /* Merged with its neighbours where they can be one (the rest of the
     * list was merged already): the one before it is the region whose
     * next pointer pp is, if any. */
    struct vma *prev = pp == &mm->vmas ? NULL : (struct vma *)((char *)pp - __builtin_offsetof(struct vma, next));
    if (prev && mergeable(prev, v)) {
        prev->end = v->end;
        prev->next = v->next;
        mm->map_count--;
        vma_free(v);                        /* prev holds the file too */
        v = prev;
    }
    if (v->next && mergeable(v, v->next)) {
        struct vma *n = v->next;
        v->end = n->end;
        v->next = n->next;
        mm->map_count--;
        if (mm->hint == n)
            mm->hint = v;
        vma_free(n);
    }
    mm->hint = v;
    if (mm->total_pages > mm->hiwater_vm)
        mm->hiwater_vm = mm->total_pages;
    return 0;
}

int mm_map(struct mm *mm, uintptr_t start, size_t len, uint32_t prot)
{
    return map_vma(mm, start, len, prot, 0, NULL, 0);
}

int mm_map_file(struct mm *mm, uintptr_t start, size_t len, uint32_t prot,
                uint32_t flags, struct file *file, uint64_t pgoff)
{
    return map_vma(mm, start, len, prot, flags, file, pgoff);
}

int mm_unmap(struct mm *mm, uintptr_t start, size_t len)
{
    ASSERT_KLOCK();
    uintptr_t end = start + ALIGN_UP(len, PAGE_SIZE);
    if ((start & (PAGE_SIZE - 1)) || !len || end > USER_TOP || end < start)
        return -EINVAL;
    /* A hole cut inside one region makes one more: not past the limit
     * (Linux lets a munmap that splits only at one end go past it). */
    struct vma *in = find_vma(mm, start);
    if (in && in->start < start && end < in->end && mm->map_count >= vm_max_map_count)
        return -ENOMEM;
    if (split_at(mm, start) || split_at(mm, end))
        return -ENOMEM;
    vmm_range_walk_all(mm->root, start, end, unmap_leaf, mm);
    vmm_prune(mm->root, start, end);
    struct vma *gone = NULL, **gtail = &gone;
    for (struct vma **pp = &mm->vmas; *pp && (*pp)->start < end;) {
        struct vma *v = *pp;
        if (v->start >= start && v->end <= end) {
            *pp = v->next;
            v->next = NULL;
            *gtail = v;
            gtail = &v->next;
            mm->map_count--;
            mm->total_pages -= (v->end - v->start) / PAGE_SIZE;
            if (mm->hint == v)
                mm->hint = NULL;
        } else {
            pp = &v->next;
        }
    }
    flush_mm(mm, start, (end - start) / PAGE_SIZE);
    vmas_retire(gone);                      /* the address space is consistent: may sleep */
    return 0;
}

struct protect_arg {
    uint64_t set;
};

/* Is this entry's frame (possibly) mapped by another address space too? */
static bool shared_frame(pte_t pte)
{
    return (pte & PTE_COW) || pmm_refcount(pte & PTE_ADDR) > 1;
}

static void reprotect_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct protect_arg *a = arg;
    uint64_t flags = a->set;
    if (*pte & PTE_SHMAP) {
        /* MAP_SHARED: shared on purpose, never copied. Writable only once a
         * write fault has marked the page dirty (the cache must know). */
        *pte = (*pte & PTE_ADDR) | (flags & ~PTE_W) | (flags & *pte & PTE_W) | PTE_SHMAP;
        (void)va;
        return;
    }
    /* INVARIANT(process isolation): mprotect never makes a shared frame writable;
     * the entry stays copy-on-write and the first write copies it. */
#ifndef BREAK_COW_MPROTECT
    if (shared_frame(*pte))
        flags = (flags & ~PTE_W) | PTE_COW;
#endif
    *pte = (*pte & PTE_ADDR) | flags;
    (void)va;
}

int mm_protect(struct mm *mm, uintptr_t start, size_t len, uint32_t prot)
{
    return mm_protect_key(mm, start, len, prot, -1);
}

bool mm_pkey_allocated(struct mm *mm, int pkey)
{
    return pkey >= 0 && pkey < PKEY_MAX && (mm->pkeys & (1u << pkey));
}

int mm_protect_key(struct mm *mm, uintptr_t start, size_t len, uint32_t prot, int pkey)
{
    ASSERT_KLOCK();
    uintptr_t end = start + ALIGN_UP(len, PAGE_SIZE);
    if ((start & (PAGE_SIZE - 1)) || end > USER_TOP || end < start)
        return -EINVAL;
    /* Linux: the whole range must be mapped, or ENOMEM; a shared file
     * mapping becomes writable only if its file was opened for writing. */
    for (uintptr_t a = start; a < end;) {
        struct vma *v = find_vma(mm, a);
        if (!v)
            return -ENOMEM;
        if ((prot & VM_WRITE) && (v->flags & VMA_SHARED) && !(v->flags & VMA_MAYWRITE))
            return -EACCES;
        a = v->end;
    }
    if (split_at(mm, start) || split_at(mm, end))
        return -ENOMEM;
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next) {
        if (v->start < start || v->end > end)
            continue;
        v->prot = prot;
        if (pkey >= 0)
            v->pkey = (uint32_t)pkey;
        struct protect_arg a = { pte_flags(v) };
        if (!(prot & VM_READ) && !(prot & VM_WRITE) && !(prot & VM_EXEC))
            a.set = PTE_P | PTE_NX;         /* PROT_NONE: present but kernel-only */
        vmm_range_walk(mm->root, v->start, v->end, reprotect_leaf, &a);
    }
    merge(mm);
    flush_mm(mm, start, (end - start) / PAGE_SIZE);
    return 0;
}

uintptr_t mm_find_free(struct mm *mm, size_t len)
{
    /* Top-down below USER_MMAP_BASE, like Linux's default layout: lower the
     * candidate below each region it collides with until it fits. */
    len = ALIGN_UP(len, PAGE_SIZE);
    uintptr_t top = USER_MMAP_BASE;
    for (;;) {
        if (!len || top < len + 0x10000)
            return 0;
        uintptr_t cand = top - len;
        struct vma *clash = NULL;
        for (struct vma *v = mm->vmas; v && !clash; v = v->next)
            if (v->start < top && cand < v->end)
                clash = v;
        if (!clash)
            return cand;
        top = clash->start;
    }
}

long mm_brk(struct mm *mm, uintptr_t want)
{
    ASSERT_KLOCK();
    /* INVARIANT(kernel memory safety): the break moves only within
     * [brk_start, USER_TOP - a page]: brk(-1) must not round up to 0 and
     * "shrink" the heap over the program itself. */
    if (want < mm->brk_start || want > USER_TOP - PAGE_SIZE)
        return (long)mm->brk;
    uintptr_t old_end = ALIGN_UP(mm->brk, PAGE_SIZE), new_end = ALIGN_UP(want, PAGE_SIZE);
    if (new_end > old_end) {
        if (mm_map(mm, old_end, new_end - old_end, VM_READ | VM_WRITE))
            return (long)mm->brk;           /* collides with something: refuse */
    } else if (new_end < old_end) {
        mm_unmap(mm, new_end, old_end - new_end);
    }
    mm->brk = want;
    return (long)want;
}

/* Give va a frame if it has none; returns the entry. */
static pte_t *ensure_page(struct mm *mm, uintptr_t va, const struct vma *v)
{
    pte_t *pte = vmm_walk(mm->root, va, true);
    if (!pte)
        return NULL;
    if (!(*pte & PTE_P)) {
        uint64_t pa = pmm_alloc_user(true);
        if (!pa)
            return NULL;
        *pte = pa | pte_flags(v);
        mm_rss_add(mm);
    }
    return pte;
}

/* Make the entry for va private to mm before a write through it: a frame
 * someone else still maps is copied; one nobody else holds is simply taken.
 * The entry loses PTE_COW and gets writable (PTE_W or 0). */
static int unshare(struct mm *mm, uintptr_t va, pte_t *pte, uint64_t writable)
{
    uint64_t old = *pte & PTE_ADDR;
    uint64_t flags = (*pte & ~PTE_ADDR & ~PTE_COW & ~PTE_W) | writable;
    /* INVARIANT(process isolation): a write never reaches a frame another address
     * space still maps: it is copied first. */
    if (pmm_refcount(old) == 1) {
        *pte = old | flags;                 /* last holder: just take it */
        return 0;
    }
    uint64_t pa = pmm_alloc_user(false);
    if (!pa)
        return -ENOMEM;
    memcpy(P2V(pa), P2V(old), PAGE_SIZE);
    *pte = pa | flags;
    /* Other threads of this process must stop reading the old frame. */
    flush_mm(mm, va, 1);
    pmm_unref(old);
    return 0;
}

#define FAULT_AROUND 16             /* pages: the aligned window a read fault fills */

/* A read fault maps the file's already-cached pages around it too, as
 * read-only as its own (flags), within the region, the file and one page
 * table: a program reading a mapped file sequentially takes one fault per
 * window instead of one per page (Linux's fault-around). Nothing is read
 * from the file here, and no table is made. */
static void fault_around(struct mm *mm, struct vma *v, uintptr_t va, uint64_t flags)
{
    struct inode *ino = v->file->inode;
    uintptr_t from = MAX(v->start, ALIGN_DOWN(va, FAULT_AROUND * PAGE_SIZE));
    uintptr_t to = MIN(v->end, ALIGN_DOWN(va, FAULT_AROUND * PAGE_SIZE) + FAULT_AROUND * PAGE_SIZE);
    uint64_t npages = ALIGN_UP(ino->size, PAGE_SIZE) / PAGE_SIZE;
    for (uintptr_t a = from; a < to; a += PAGE_SIZE) {
        uint64_t index = v->pgoff + (a - v->start) / PAGE_SIZE, pa;
        if (a == va || index >= npages || !filemap_peek(ino, index, &pa))
            continue;
        pte_t *pte = vmm_walk(mm->root, a, false);
        if (!pte || (*pte & PTE_P))
            continue;
        pmm_ref(pa);
        *pte = pa | flags;
        mm_rss_add(mm);
    }
}

/* The first touch of a page of a file region: map the cached page. 0 also
 * when the page is not mapped yet because the kernel lock was let go (the
 * access is retried and faults again); -EIO: past the file's end. */
static int file_fault(struct mm *mm, struct vma *v, uintptr_t va, bool write)
{
    uint64_t pa;
    int r = filemap_fault_page(v, va, &pa);
    if (r)
        return r == 1 ? 0 : r;
    pte_t *pte = vmm_walk(mm->root, va, true);
    if (!pte)
        return -ENOMEM;
    if (*pte & PTE_P)
        return 0;
    uint64_t flags = pte_flags(v);
    if (v->flags & VMA_SHARED) {
        /* Writable only from a write fault, which marks the page dirty. */
        flags |= PTE_SHMAP;
        if (write)
            filemap_set_dirty(v->file->inode, v->pgoff + (va - v->start) / PAGE_SIZE);
        else
            flags &= ~PTE_W;
    } else {
#ifndef BREAK_PRIVATE_FILE
        /* INVARIANT(process isolation): a MAP_PRIVATE mapping never writes
         * the file's page: it is mapped read-only, and the cache's own
         * reference makes the first write copy it (unshare). */
        if (flags & PTE_W)
            flags = (flags & ~PTE_W) | PTE_COW;
#endif
    }
    pmm_ref(pa);
    *pte = pa | flags;
    mm_rss_add(mm);
    if (write && !(*pte & PTE_W))
        return unshare(mm, va, pte, PTE_W);
    if (!write)
        fault_around(mm, v, va, flags & ~PTE_W);
    return 0;
}

/* A touch of a page out on swap: read it into a frame of its own and map
 * it as its region says. The read sleeps (the kernel lock goes): the entry
 * is looked at again after, and if it changed (another thread of this
 * process read it in, or it was unmapped) the frame goes back and the
 * access is simply tried again. */
static int swap_in(struct mm *mm, uintptr_t va, pte_t entry)
{
    uint64_t slot = swap_slot(entry);
    uint64_t pa = pmm_alloc_user(false);
    if (!pa)
        return -ENOMEM;
    swap_dup(slot);                         /* the slot stays ours while we read it */
    int r = swap_read(slot, pa);
    pte_t *pte = vmm_walk(mm->root, va, false);
    struct vma *v = find_vma(mm, va);
    if (!r && pte && *pte == entry && v && !v->file) {
        *pte = pa | pte_flags(v);
        pa = 0;
        swap_put(slot);                     /* the entry's reference */
        mm->swapped--;
        mm_rss_add(mm);
    }
    swap_put(slot);
    if (pa)
        pmm_free(pa);
    return r ? -EIO : 0;
}

/* A touch below a MAP_GROWSDOWN region extends it down to the page
 * touched, as Linux grows a stack: unless that would come within
 * STACK_GUARD_GAP of the mapping below (an accessible one that does not
 * grow itself) or make it larger than RLIMIT_STACK. The region, or NULL. */
static struct vma *grow_down(struct mm *mm, uintptr_t addr)
{
    struct vma *prev = NULL, *v = mm->vmas;
    while (v && v->end <= addr)
        prev = v, v = v->next;
    if (!v || v->start <= addr || !(v->flags & VMA_GROWSDOWN) || v->file)
        return NULL;
    uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE);
    if (prev && !(prev->flags & VMA_GROWSDOWN) && prev->prot &&
        (start < prev->end || start - prev->end < STACK_GUARD_GAP))
        return NULL;
    if (prev && start < prev->end)
        return NULL;
    struct proc *me = current();
    if (me && me->mm == mm && v->end - start > me->leader->rlim[RLIMIT_STACK].cur)
        return NULL;
    mm->total_pages += (v->start - start) / PAGE_SIZE;
    v->start = start;
    if (mm->total_pages > mm->hiwater_vm)
        mm->hiwater_vm = mm->total_pages;
    return v;
}

int mm_fault(struct mm *mm, uintptr_t addr, bool write, bool exec)
{
    ASSERT_KLOCK();
    uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
    struct vma *v = find_vma(mm, addr);
    if (!v)
        v = grow_down(mm, addr);
#ifdef BREAK_FAULT_REGION
    /* The break switch: any user address is as good as a region. */
    static const struct vma anywhere = { .start = 0, .end = USER_TOP, .prot = VM_READ | VM_WRITE };
    if (!v)
        v = (struct vma *)&anywhere;
#endif
    /* INVARIANT(process isolation): a process can only ever reach frames that its own
     * regions map; anything else is a segmentation fault. */
    if (!v)
        return -EFAULT;
    if ((write && !(v->prot & VM_WRITE)) || (exec && !(v->prot & VM_EXEC)) ||
        (!write && !exec && !(v->prot & (VM_READ | VM_WRITE | VM_EXEC))))
        return -EFAULT;

    pte_t *pte = vmm_walk(mm->root, va, false);
    if (pte && is_swap_entry(*pte)) {
        int r = swap_in(mm, va, *pte);
        if (r)
            return r;
    } else if (!pte || !(*pte & PTE_P)) {
        /* Demand paging: first touch of this page. */
        if (v->file) {
            int r = file_fault(mm, v, va, write);
            if (r)
                return r;
        } else if (!ensure_page(mm, va, v)) {
            return -ENOMEM;
        }
    } else if (write && !(*pte & PTE_W) && (*pte & PTE_SHMAP)) {
        /* A shared file page's first write: the cache learns it is dirty. */
        filemap_set_dirty(v->file->inode, v->pgoff + (va - v->start) / PAGE_SIZE);
        *pte |= PTE_W;
    } else if (write && !(*pte & PTE_W)) {
        /* Copy-on-write after fork, or a region made writable (mprotect). */
        if (unshare(mm, va, pte, PTE_W))
            return -ENOMEM;
    }
    if (active[cpu_me()] == mm)
        invlpg(va);
    return 0;
}

int mm_write(struct mm *mm, uintptr_t va, const void *src, size_t n)
{
    const uint8_t *s = src;
    while (n) {
        struct vma *v = find_vma(mm, va);
        if (!v)
            return -EFAULT;
        uintptr_t pva = ALIGN_DOWN(va, PAGE_SIZE);
        pte_t *pte;
        /* INVARIANT(privilege separation): a shared mapping without write
         * permission is never written, not even by the kernel for a
         * debugger (/proc/PID/mem, POKEDATA): its page is the file's, or
         * the kernel's clock ([vvar]). Linux: EFAULT (a private one gets a
         * copy below). */
        if ((v->flags & VMA_SHARED) && !(v->prot & VM_WRITE))
            return -EFAULT;
        if (v->file) {
            pte = vmm_walk(mm->root, pva, false);
            if (!pte || !(*pte & PTE_P)) {
                int r = file_fault(mm, v, pva, false);
                if (r)
                    return r == -ENOMEM ? r : -EFAULT;
                continue;                   /* look again: the fill may have slept */
            }
            if (*pte & PTE_SHMAP)
                filemap_set_dirty(v->file->inode, v->pgoff + (pva - v->start) / PAGE_SIZE);
        } else {
            pte = vmm_walk(mm->root, pva, false);
            if (pte && is_swap_entry(*pte)) {
                int r = mm_fault(mm, pva, false, false);
                if (r)
                    return r == -ENOMEM ? r : -EFAULT;
                continue;                   /* look again: the read slept */
            }
            pte = ensure_page(mm, pva, v);
        }
        if (!pte)
            return -ENOMEM;
        /* The kernel writing for mm (exec, CLONE_CHILD_SETTID) goes around
         * the page tables' write bit, so it must break the sharing itself. */
#ifndef BREAK_COW_KWRITE
        /* INVARIANT(process isolation): nor does the kernel's own write. */
        if (!(*pte & PTE_SHMAP) && shared_frame(*pte) &&
            unshare(mm, ALIGN_DOWN(va, PAGE_SIZE), pte, (v->prot & VM_WRITE) ? PTE_W : 0))
            return -ENOMEM;
#endif
        size_t off = va & (PAGE_SIZE - 1), chunk = MIN(n, PAGE_SIZE - off);
        memcpy((uint8_t *)P2V(*pte & PTE_ADDR) + off, s, chunk);
        va += chunk, s += chunk, n -= chunk;
    }
    return 0;
}

/* Copy out of mm (which need not be active), faulting pages in as a read by
 * the owner would (ptrace's PEEKDATA, process_vm_readv): 0 or -EFAULT. */
int mm_read(struct mm *mm, uintptr_t va, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n) {
        uintptr_t pva = ALIGN_DOWN(va, PAGE_SIZE);
        pte_t *pte = vmm_walk(mm->root, pva, false);
        if (!pte || !(*pte & PTE_P)) {
            int r = mm_fault(mm, pva, false, false);
            if (r)
                return r == -ENOMEM ? r : -EFAULT;
            continue;                       /* look again: the fill may have slept */
        }
        size_t off = va & (PAGE_SIZE - 1), chunk = MIN(n, PAGE_SIZE - off);
        memcpy(d, (uint8_t *)P2V(*pte & PTE_ADDR) + off, chunk);
        va += chunk, d += chunk, n -= chunk;
    }
    return 0;
}

struct fork_arg {
    struct mm *child;
    bool failed;
    const struct mm *parent;    /* its regions, when some are not copied (see mm_fork) */
};

/* Is va in a region of the parent's whose pages a fork does not copy? */
static bool fork_skips(const struct fork_arg *a, uintptr_t va)
{
    for (const struct vma *v = a->parent ? a->parent->vmas : NULL; v && v->start <= va; v = v->next)
        if (va < v->end)
            return v->flags & (VMA_DONTFORK | VMA_WIPEONFORK);
    return false;
}

static void share_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct fork_arg *a = arg;
    if (a->failed || fork_skips(a, va))
        return;
    if (is_swap_entry(*pte)) {
        /* A page out on swap: the child's entry names the same slot (one
         * more reference); whoever touches it first reads a private copy. */
        pte_t *c = vmm_walk(a->child->root, va, true);
        if (!c) {
            a->failed = true;
            return;
        }
        *c = *pte;
        swap_dup(swap_slot(*pte));
        a->child->swapped++;
        return;
    }
    uint64_t pa = *pte & PTE_ADDR;
    if (*pte & PTE_SHMAP)
        goto shared;                        /* MAP_SHARED: both see each other's writes */
#ifdef BREAK_COW
    /* The break switch: fork shares every frame writable, so parent and
     * child write into each other's globals, heap and mappings. Only the
     * main stack stays copy-on-write: two processes running on one stack
     * would trample each other's return addresses before either could show
     * anything (init itself forks). */
    if (va < USER_STACK_TOP - USER_STACK_SIZE)
        goto shared;
#endif
    /* INVARIANT(process isolation): parent and child share frames read-only after
     * fork; whoever writes first gets a private copy (mm_fault). Every
     * entry is marked, writable or not: mprotect may make it writable
     * later, while it is still shared. */
    *pte = (*pte & ~PTE_W) | PTE_COW;
shared:
    pte_t *c = vmm_walk(a->child->root, va, true);
    if (!c) {
        a->failed = true;
        return;
    }
    *c = *pte;
    pmm_ref(pa);
    mm_rss_add(a->child);
}

struct mm *mm_fork(struct mm *parent)
{
    ASSERT_KLOCK();
    struct mm *child = mm_create();
    if (!child)
        return NULL;
    struct vma **tail = &child->vmas;
    bool skips = false;
    child->map_count = parent->map_count;
    child->total_pages = parent->total_pages;
    for (struct vma *v = parent->vmas; v; v = v->next) {
        skips |= (v->flags & (VMA_DONTFORK | VMA_WIPEONFORK)) != 0;
        if (v->flags & VMA_DONTFORK) {      /* madvise(MADV_DONTFORK): not the child's */
            child->map_count--;
            child->total_pages -= (v->end - v->start) / PAGE_SIZE;
            continue;
        }
        struct vma *c = kmalloc(sizeof(*c));
        if (!c) {
            mm_destroy(child);
            return NULL;
        }
        *c = *v;
        c->next = NULL;
        c->flags &= ~VMA_LOCKMASK;          /* locks are not inherited (mlock(2)) */
        c->uffd = NULL;                     /* nor userfaultfd registrations (no EVENT_FORK) */
        if (c->file)
            file_dup(c->file);              /* each region holds its file */
        *tail = c;
        tail = &c->next;
    }
    child->brk_start = parent->brk_start;
    child->brk = parent->brk;
    child->hiwater_vm = parent->hiwater_vm;
    child->coredump_filter = parent->coredump_filter;
    child->pkeys = parent->pkeys;
    child->arg_start = parent->arg_start, child->arg_end = parent->arg_end;
    child->env_start = parent->env_start, child->env_end = parent->env_end;
    child->auxv_start = parent->auxv_start, child->auxv_end = parent->auxv_end;
    child->start_code = parent->start_code, child->end_code = parent->end_code;
    child->start_stack = parent->start_stack;
    memcpy(child->exe_path, parent->exe_path, sizeof(child->exe_path));
    if (parent->exe_ino && !vfs_deny_write_access(parent->exe_ino))
        child->exe_ino = iget(parent->exe_ino);
    /* MADV_DONTFORK's regions are left out, MADV_WIPEONFORK's pages too
     * (the child faults in zeros there). */
    struct fork_arg a = { child, false, skips ? parent : NULL };
    vmm_range_walk_all(parent->root, 0, USER_TOP, share_leaf, &a);
    flush_mm(parent, 0, 0);                 /* the parent's writable entries changed */
    if (a.failed) {
        mm_destroy(child);
        return NULL;
    }
    return child;
}

/* Page faults on user addresses: demand paging and copy-on-write. */
/* Does the running thread's PKRU deny this access to region v's pages?
 * (Instruction fetches are not checked against keys.) */
static bool pkey_denies(const struct vma *v, bool write, bool exec)
{
    if (!cpu_pku || exec)
        return false;
    uint32_t rights = rdpkru() >> (2 * v->pkey);
    return (rights & PKEY_DISABLE_ACCESS) || (write && (rights & PKEY_DISABLE_WRITE));
}

static bool page_fault(struct trapframe *tf)
{
    uintptr_t addr = read_cr2();
    struct mm *mm = active[cpu_me()];
    if (!mm || addr >= USER_TOP)
        return false;
    /* INVARIANT(process isolation): an access the page's protection key
     * denies (the CPU says so with PF_PK; a page not there yet is checked
     * against its region's key, as Linux does before filling it) is never
     * resolved: SIGSEGV with SEGV_PKUERR and the key from user mode, and
     * EFAULT for a syscall's uaccess (the fixup). A user-mode fault holds
     * the kernel lock (trap_dispatch), so the region may be looked at. */
    if (cpu_pku && (tf->error & PF_USER)) {
        struct vma *v = find_vma(mm, addr);
        if (v && ((tf->error & PF_PK) ||
                  pkey_denies(v, tf->error & PF_WRITE, tf->error & PF_IFETCH))) {
            current()->fault_pkey = v->pkey;
            signal_fault_info(tf, SIGSEGV, SEGV_PKUERR, addr);
            return true;
        }
    }
    if (tf->error & PF_PK)
        return false;
    /* A present page refused for a plain read or fetch is a real violation. */
    if ((tf->error & PF_PRESENT) && !(tf->error & PF_WRITE))
        return false;
    /* From kernel mode only uaccess may touch user memory; anything else is
     * a kernel bug and must not be papered over. */
    if (!(tf->error & PF_USER) && !user_range_ok(addr, 1))
        return false;
    /* The address space is [klock]: a fault from user mode arrives with the
     * kernel lock (trap_dispatch), and so does a uaccess fault in a KLOCK
     * syscall; a NOLOCK syscall (clock_gettime...) copying out to a page
     * not yet present or still copy-on-write takes it here, for the fault. */
    bool took = uaccess_fault_enter();
    /* A missing page of a region a userfaultfd serves: its reader fills
     * it (UFFDIO_COPY...) while this thread waits, then the access is
     * tried again. */
    struct vma *uv = mm_uffd_missing(mm, addr, tf->error & PF_WRITE, tf->error & PF_IFETCH);
    int r = uv ? uffd_handle_fault(mm, uv, addr, tf->error & PF_WRITE, tf->error & PF_USER)
               : mm_fault_reclaim(mm, addr, tf->error & PF_WRITE, tf->error & PF_IFETCH,
                                  tf->error & PF_USER);
    if (took)
        uaccess_fault_leave();
    /* INVARIANT(memory under pressure): no frame for a valid page, even
     * after reclaim, is out of memory, not a bad access: the OOM killer has
     * chosen a victim (reclaim.c) and the access is tried again, after a
     * signal to this process if it was the one (a fault in a syscall's
     * uaccess gets EFAULT instead). */
    if (r == -ENOMEM && (tf->error & PF_USER))
        return true;
    /* A file page past the end of its file (or unreadable): SIGBUS, as
     * Linux; in a syscall's uaccess, EFAULT. */
    if (r == -EIO && (tf->error & PF_USER)) {
        signal_fault(tf, SIGBUS);
        return true;
    }
    return r == 0;
}

void uvm_init(void)
{
    trap_register(T_PAGE_FAULT, page_fault);
}

/* ---- what smaps and pagemap show ---- */

struct stats_arg {
    struct vma *v;
    struct vma_stats *st;
    bool locked, shmem;
};

/* Is pte's frame the page cache's own page for its place in v (not a
 * private copy)? */
static bool cache_frame(struct vma *v, uintptr_t va, pte_t pte)
{
    uint64_t cached;
    return v->file && v->file->inode &&
           filemap_peek(v->file->inode, v->pgoff + (va - v->start) / PAGE_SIZE, &cached) &&
           cached == (pte & PTE_ADDR);
}

static void stats_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct stats_arg *a = arg;
    struct vma_stats *st = a->st;
    if (is_swap_entry(*pte)) {
        unsigned refs = swap_refcount(swap_slot(*pte));
        st->swap += PAGE_SIZE;
        st->swap_pss += (PAGE_SIZE << 12) / (refs ? refs : 1);
        return;
    }
    if (!(*pte & PTE_P))
        return;
    bool file = cache_frame(a->v, va, *pte);
    /* Mappings of the frame: its references, less the cache's own. */
    unsigned maps = pmm_refcount(*pte & PTE_ADDR) - (file ? 1 : 0);
    if (!maps)
        maps = 1;
    /* A private frame is dirty memory (nothing holds its bytes but RAM
     * or swap); a cache frame is dirty when written through this entry. */
    bool dirty = !file || (*pte & PTE_D);
    uint64_t pss = (PAGE_SIZE << 12) / maps;
    st->rss += PAGE_SIZE;
    st->pss += pss;
    if (maps > 1)
        *(dirty ? &st->shared_dirty : &st->shared_clean) += PAGE_SIZE;
    else
        *(dirty ? &st->private_dirty : &st->private_clean) += PAGE_SIZE;
    if (dirty)
        st->pss_dirty += pss;
    if (*pte & PTE_A)
        st->referenced += PAGE_SIZE;
    if (!file) {
        st->anonymous += PAGE_SIZE;
        st->pss_anon += pss;
    } else if (a->shmem) {
        st->shmem_rss += PAGE_SIZE;
        st->pss_shmem += pss;
    } else {
        st->file_rss += PAGE_SIZE;
        st->pss_file += pss;
    }
    if (a->locked) {
        st->locked_rss += PAGE_SIZE;
        st->pss_locked += pss;
    }
}

static void stats_range(struct mm *mm, struct vma *v, uintptr_t start, uintptr_t end,
                        struct vma_stats *st)
{
    struct stats_arg a = { v, st, v->flags & VMA_LOCKED,
                           v->file && v->file->inode && !filemap_reclaimable(v->file->inode) };
    vmm_range_walk_all(mm->root, MAX(start, v->start), MIN(end, v->end), stats_leaf, &a);
}

static void vma_stats(struct mm *mm, struct vma *v, struct vma_stats *st)
{
    memset(st, 0, sizeof(*st));
    stats_range(mm, v, v->start, v->end, st);
}

void mm_range_stats(struct mm *mm, uintptr_t start, uintptr_t end, struct vma_stats *st)
{
    ASSERT_KLOCK();
    memset(st, 0, sizeof(*st));
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
        if (v->end > start)
            stats_range(mm, v, start, end, st);
}

void mm_rss_split3(struct mm *mm, uint64_t *anon, uint64_t *file, uint64_t *shmem)
{
    *anon = *file = *shmem = 0;
    for (struct vma *v = mm->vmas; v; v = v->next) {
        struct vma_stats st;
        vma_stats(mm, v, &st);
        *anon += st.anonymous / PAGE_SIZE;
        *file += st.file_rss / PAGE_SIZE;
        *shmem += st.shmem_rss / PAGE_SIZE;
    }
}

uint64_t mm_mlocked_all(void)
{
    ASSERT_KLOCK();
    uint64_t n = 0;
    for (struct mm *mm = all_mms; mm; mm = mm->mm_next)
        for (struct vma *v = mm->vmas; v; v = v->next)
            if (v->flags & VMA_LOCKED) {
                struct vma_stats st;
                vma_stats(mm, v, &st);
                n += st.locked_rss / PAGE_SIZE;
            }
    return n;
}

/* pagemap(5): bit 63 present (bits 0-54 the frame number), 62 swapped
 * (bits 0-4 the swap type, 0, and 5-54 the slot), 61 a page of a file or
 * of shared memory, 56 mapped by this address space alone, 55 soft-dirty
 * (Vigil does not track it: written since the start is all it could say:
 * never set). Nothing mapped: 0. */
void mm_pagemap(struct mm *mm, uintptr_t va, uint64_t *out, size_t n)
{
    ASSERT_KLOCK();
    for (size_t i = 0; i < n; i++, va += PAGE_SIZE) {
        out[i] = 0;
        struct vma *v = va < USER_TOP ? find_vma(mm, va) : NULL;
        pte_t *pte = v ? vmm_walk(mm->root, va, false) : NULL;
        if (!pte)
            continue;
        if (is_swap_entry(*pte)) {
            out[i] = (1ull << 62) | (swap_slot(*pte) << 5);
            continue;
        }
        if (!(*pte & PTE_P))
            continue;
        bool file = cache_frame(v, va, *pte);
        uint64_t pfn = (*pte & PTE_ADDR) >> PAGE_SHIFT;
        out[i] = (1ull << 63) | (pfn & ((1ull << 55) - 1)) | (file ? 1ull << 61 : 0) |
                 (pmm_refcount(*pte & PTE_ADDR) - (file ? 1 : 0) == 1 ? 1ull << 56 : 0);
    }
}

void mm_for_each_vma(struct mm *mm, vma_visit_fn cb, void *arg)
{
    uintptr_t at = 0;
    for (;;) {
        struct vma *v = mm->vmas;
        while (v && v->end <= at)
            v = v->next;                    /* the first region not yet visited */
        if (!v)
            return;
        struct vma_info vi = {
            .start = v->start, .end = v->end, .prot = v->prot,
            .shared = v->flags & VMA_SHARED, .flags = v->flags, .pkey = v->pkey,
        };
        if (v->file && v->file->inode) {
            struct inode *ino = v->file->inode;
            vi.offset = v->pgoff * PAGE_SIZE;
            vi.dev = ino->sb ? ino->sb->dev : 0;
            vi.ino = ino->ino;
            vi.inode = iget(ino);           /* cb may sleep and the region go */
            vi.path = v->file->path;
            vi.special = vdso_region_name(ino);
            if (vi.special)
                vi.shared = false;          /* Linux's [vvar] is no MAP_SHARED region ('p') */
        }
        at = v->end;
        bool more = cb(&vi, arg);
        iput(vi.inode);
        if (!more)
            return;
    }
}


/* ---- mremap, madvise, mincore, msync ---- */

/* Is every page of [start, end) in some region? */
static bool all_mapped(struct mm *mm, uintptr_t start, uintptr_t end)
{
    for (uintptr_t a = start; a < end;) {
        struct vma *v = find_vma(mm, a);
        if (!v)
            return false;
        a = v->end;
    }
    return true;
}

struct move_arg {
    struct mm *mm;
    intptr_t delta;             /* new address - old address */
    bool prepare, failed;
};

/* Pass 1 (prepare) makes the page tables the entries need at their new
 * addresses, so pass 2 (the move) cannot fail half-way. */
static void move_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct move_arg *a = arg;
    pte_t *to = vmm_walk(a->mm->root, va + a->delta, true);
    if (!to) {
        a->failed = true;
        return;
    }
    if (a->prepare)
        return;
    *to = *pte;                 /* the frame's references move with the entry */
    *pte = 0;
}

long mm_remap(struct mm *mm, uintptr_t old, size_t old_len, size_t new_len, int flags,
              uintptr_t new_addr)
{
    ASSERT_KLOCK();
    bool fixed = flags & MREMAP_FIXED;
    bool keep = flags & MREMAP_DONTUNMAP;   /* the old range stays mapped, emptied */
    if (fixed) {
        if (new_addr >= USER_TOP || new_len > USER_TOP - new_addr)
            return -EINVAL;
        if (new_addr < old + old_len && old < new_addr + new_len)
            return -EINVAL;             /* the two ranges overlap */
        if (mm_min_addr_check(new_addr))
            return -EPERM;              /* below vm.mmap_min_addr */
        mm_unmap(mm, new_addr, new_len);
        if (old_len > new_len) {
            mm_unmap(mm, old + new_len, old_len - new_len);
            old_len = new_len;
        }
    } else if (!keep && old_len >= new_len) {
        /* Shrink: the tail goes, as munmap (Linux does not ask that it was mapped). */
        if (old_len > new_len)
            mm_unmap(mm, old + new_len, old_len - new_len);
        return (long)old;
    }
    /* The old range must lie in one region. */
    struct vma *v = find_vma(mm, old);
    if (!v || old_len > v->end - old)
        return -EFAULT;
    if (!old_len)
        return -EINVAL;                 /* duplicating a shared mapping: not supported */
    uintptr_t grow = new_len - old_len;
    /* Grow in place when the region ends there and the room after is free. */
    if (!fixed && !keep && old + old_len == v->end && new_len <= USER_TOP - old &&
        (!v->next || v->next->start >= old + new_len)) {
        int r = map_vma(mm, v->end, grow, v->prot, v->flags, v->file,
                        v->pgoff + (v->end - v->start) / PAGE_SIZE);
        return r ? r : (long)old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    /* MREMAP_DONTUNMAP's new_addr is a hint, taken when the range there is free. */
    if (!fixed && (!keep || (new_addr & (PAGE_SIZE - 1)) || new_addr < MAX(vm_mmap_min_addr, 0x10000ul) ||
                   new_addr >= USER_TOP || new_len > USER_TOP - new_addr ||
                   !mm_range_free(mm, new_addr, new_len)) &&
        !(new_addr = mm_find_free(mm, new_len)))
        return -ENOMEM;
    /* The region the new range gets under MREMAP_DONTUNMAP, had before
     * anything changes so that nothing can fail half-way. */
    struct vma *copy = NULL;
    if (keep && !(copy = kmalloc(sizeof(*copy))))
        return -ENOMEM;
    struct move_arg a = { mm, (intptr_t)(new_addr - old), true, false };
    if (!split_at(mm, old) && !split_at(mm, old + old_len))
        vmm_range_walk_all(mm->root, old, old + old_len, move_leaf, &a);
    else
        a.failed = true;
    if (a.failed) {
        kfree(copy);
        return -ENOMEM;
    }
    a.prepare = false;
    vmm_range_walk_all(mm->root, old, old + old_len, move_leaf, &a);
    vmm_prune(mm->root, old, old + old_len);
    flush_mm(mm, old, old_len / PAGE_SIZE);
    struct vma **pp = &mm->vmas;
    while (*pp != find_vma(mm, old))
        pp = &(*pp)->next;
    struct vma *m = *pp;
    if (keep) {
        /* The old region stays where it is, with no pages: a touch faults
         * in zeros (anonymous) or the file's page again. Its lock goes
         * with the pages to the new region, as on Linux. */
        *copy = *m;
        if (copy->file)
            file_dup(copy->file);
        m->flags &= ~VMA_LOCKMASK;
        m = copy;
        m->uffd = NULL;                 /* the old range stays registered, the new is not */
        mm->map_count++;
        mm->total_pages += old_len / PAGE_SIZE;
        if (mm->total_pages > mm->hiwater_vm)
            mm->hiwater_vm = mm->total_pages;
    } else {
        *pp = m->next;                  /* the region itself moves to its place in the list */
        m->uffd = NULL;                 /* a userfaultfd registration does not move (no EVENT_REMAP) */
    }
    m->start = new_addr;
    m->end = new_addr + old_len;
    for (pp = &mm->vmas; *pp && (*pp)->start < new_addr; pp = &(*pp)->next)
        ;
    m->next = *pp;
    *pp = m;
    if (grow) {
        int r = map_vma(mm, m->end, grow, m->prot, m->flags, m->file,
                        m->pgoff + old_len / PAGE_SIZE);
        if (r)
            return r;
    }
    merge(mm);
    return (long)new_addr;
}

int mm_dontneed(struct mm *mm, uintptr_t start, size_t len)
{
    ASSERT_KLOCK();
    uintptr_t end = start + len;
    /* Dropping an entry is all it takes: the next touch faults in zeros
     * (anonymous), the file's page again (private), or the cached page
     * with what was written to it (shared). */
    vmm_range_walk_all(mm->root, start, end, unmap_leaf, mm);
    flush_mm(mm, start, len / PAGE_SIZE);
    return all_mapped(mm, start, end) ? 0 : -ENOMEM;
}

int mm_mincore(struct mm *mm, uintptr_t start, size_t len, uint8_t *vec)
{
    ASSERT_KLOCK();
    if (!all_mapped(mm, start, start + len))
        return -ENOMEM;
    for (size_t i = 0; i < len / PAGE_SIZE; i++) {
        uintptr_t va = start + i * PAGE_SIZE;
        pte_t *pte = vmm_walk(mm->root, va, false);
        struct vma *v = find_vma(mm, va);
        vec[i] = (pte && (*pte & PTE_P)) ||
                 (v->file && filemap_cached(v->file->inode, v->pgoff + (va - v->start) / PAGE_SIZE));
    }
    return 0;
}

/* ---- mlock: pages that stay ----
 * A locked region (VMA_LOCKED) is one whose pages, once in, stay: reclaim's
 * clocks pass it by (age_leaf, swap_out_mm), so it never faults on a page
 * reclaim took or waits for swap. mlock faults the whole range in at once
 * (mm_populate), so afterwards nothing in it faults for a missing page at
 * all; MLOCK_ONFAULT (VMA_ONFAULT) locks each page only as it is touched.
 * VmLck is the size of the locked regions, present or not, as Linux
 * counts it. Locks are the address space's: fork's child has none, exec
 * starts without, munmap drops them with the region. */

uint64_t mm_locked_in(struct mm *mm, uintptr_t start, uintptr_t end)
{
    uint64_t n = 0;
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
        if ((v->flags & VMA_LOCKED) && v->end > start)
            n += (MIN(v->end, end) - MAX(v->start, start)) / PAGE_SIZE;
    return n;
}

uint64_t mm_locked_pages(struct mm *mm) { return mm_locked_in(mm, 0, USER_TOP); }

struct vma *mm_vma_at(struct mm *mm, uintptr_t addr)
{
    ASSERT_KLOCK();
    return find_vma(mm, addr);
}

int mm_set_uffd(struct mm *mm, uintptr_t start, uintptr_t end, struct uffd *from, struct uffd *to)
{
    ASSERT_KLOCK();
    if (split_at(mm, start) || split_at(mm, end))
        return -ENOMEM;
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
        if (v->start >= start && v->uffd == from)
            v->uffd = to;
    merge(mm);
    return 0;
}

struct vma *mm_uffd_missing(struct mm *mm, uintptr_t addr, bool write, bool exec)
{
    ASSERT_KLOCK();
    struct vma *v = find_vma(mm, addr);
    if (!v || !v->uffd || v->file)
        return NULL;
    if ((write && !(v->prot & VM_WRITE)) || (exec && !(v->prot & VM_EXEC)) ||
        !(v->prot & (VM_READ | VM_WRITE | VM_EXEC)))
        return NULL;                        /* not allowed at all: mm_fault's SIGSEGV */
    pte_t *pte = vmm_walk(mm->root, ALIGN_DOWN(addr, PAGE_SIZE), false);
    return pte && *pte ? NULL : v;          /* present, or on swap: the kernel's to handle */
}

int mm_uffd_fill(struct mm *mm, struct uffd *u, uintptr_t va, const void *src)
{
    ASSERT_KLOCK();
    struct vma *v = find_vma(mm, va);
    if (!v || v->uffd != u || v->file)
        return -ENOENT;
    pte_t *pte = vmm_walk(mm->root, va, true);
    if (!pte)
        return -ENOMEM;
    if (*pte)
        return -EEXIST;
    uint64_t pa = pmm_alloc_user(!src);
    if (!pa)
        return -ENOMEM;
    if (src)
        memcpy(P2V(pa), src, PAGE_SIZE);
    *pte = pa | pte_flags(v);
    mm_rss_add(mm);
    return 0;
}

int mm_set_vma_flag(struct mm *mm, uintptr_t start, uintptr_t end, uint32_t flag, bool set)
{
    ASSERT_KLOCK();
    if (split_at(mm, start) || split_at(mm, end))
        return -ENOMEM;
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
        if (v->start >= start)
            v->flags = set ? v->flags | flag : v->flags & ~flag;
    merge(mm);
    return 0;
}

int mm_mlock(struct mm *mm, uintptr_t start, uintptr_t end, uint32_t lock)
{
    ASSERT_KLOCK();
    if (!all_mapped(mm, start, end))
        return -ENOMEM;
    int r = mm_set_vma_flag(mm, start, end, VMA_LOCKMASK, false);
    if (!r && lock)
        r = mm_set_vma_flag(mm, start, end, lock, true);
    if (r || !lock || (lock & VMA_ONFAULT))
        return r;
    /* As Linux's mlock(2): the lock stays set either way; a page that
     * cannot be had is ENOMEM, no frame for it EAGAIN. */
    r = mm_populate(mm, start, end, true);
    return r == -ENOMEM ? -EAGAIN : r == -EFAULT ? -ENOMEM : r;
}

int mm_populate(struct mm *mm, uintptr_t start, uintptr_t end, bool only_locked)
{
    ASSERT_KLOCK();
    int tries = 0;
    for (uintptr_t va = start; va < end;) {
        if (proc_fatal_signal_pending())
            return 0;                       /* dying: what is not in need not come */
        /* Looked up again each page: a fault may sleep and the regions change. */
        struct vma *v = mm->vmas;
        while (v && v->end <= va)
            v = v->next;
        if (!v || v->start >= end)
            return 0;
        if (v->start > va)
            va = v->start;
        /* The main stack's region is its whole 8 MiB; Linux's grows as it is
         * used, so only from the stack pointer up is what it would hold. */
        struct proc *me = current();
        if (v->end == USER_STACK_TOP && me->mm == mm && me->tf &&
            me->tf->rsp >= v->start && me->tf->rsp < v->end)
            va = MAX(va, ALIGN_DOWN(me->tf->rsp, PAGE_SIZE));
        if (only_locked && (v->flags & VMA_LOCKMASK) != VMA_LOCKED) {
            va = v->end;
            continue;
        }
        if (!v->prot)
            return -EFAULT;                 /* PROT_NONE: nothing can be faulted in */
        /* Private writable: the write a program's own touch would make,
         * so a copy-on-write page is copied now, not later. */
        bool write = (v->prot & VM_WRITE) && !(v->flags & VMA_SHARED);
        pte_t *pte = vmm_walk(mm->root, va, false);
        bool in = pte && (*pte & PTE_P) && (!write || (*pte & PTE_W));
        if (!in && tries < 4) {
            int r = mm_fault_reclaim(mm, va, write, false, false);
            if (r == -ENOMEM)
                return -ENOMEM;
            if (r)
                return -EFAULT;             /* past the file's end (SIGBUS) */
            tries++;
            continue;                       /* look again: the fault may have slept */
        }
        tries = 0;
        va += PAGE_SIZE;
    }
    return 0;
}

int mm_msync(struct mm *mm, uintptr_t start, size_t len, bool sync)
{
    ASSERT_KLOCK();
    uintptr_t end = start + len;
    int err = all_mapped(mm, start, end) ? 0 : -ENOMEM;
    /* Region by region; a write-back may sleep, so the next region is found
     * again by address, and the file held meanwhile. */
    for (uintptr_t at = start; at < end;) {
        struct vma *v = mm->vmas;
        while (v && v->end <= at)
            v = v->next;
        if (!v || v->start >= end)
            break;
        uintptr_t s = MAX(v->start, at), e = MIN(v->end, end);
        at = e;
        if (!v->file || !(v->flags & VMA_SHARED))
            continue;
        struct file *f = file_dup(v->file);
        int r = vma_writeback(v, s, e);
        if (!r && sync && f->inode->ops->sync)
            r = f->inode->ops->sync(f->inode->sb);
        file_close(f);
        if (r && !err)
            err = r;
    }
    return err;
}

void mm_barrier_cpus(struct mm *mm)
{
    ASSERT_KLOCK();
    uint64_t mask = mm ? __atomic_load_n(&mm->cpus, __ATOMIC_ACQUIRE)
                       : (cpu_count() >= 64 ? ~0ul : (1ul << cpu_count()) - 1);
    mask &= ~(1ul << cpu_me());             /* this CPU: the syscall's return serialises it */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (mask)
        tlb_shootdown(mask, 0, 0);          /* waits for each CPU to take the interrupt */
}

bool mm_file_mapped_writable(struct inode *ino)
{
    ASSERT_KLOCK();
    for (struct mm *mm = all_mms; mm; mm = mm->mm_next)
        for (struct vma *v = mm->vmas; v; v = v->next)
            if (v->file && v->file->inode == ino && (v->flags & VMA_SHARED) &&
                ((v->flags & VMA_MAYWRITE) || (v->prot & VM_WRITE)))
                return true;
    return false;
}

void mm_unmap_file_from(struct inode *ino, uint64_t first)
{
    ASSERT_KLOCK();
    for (struct mm *mm = all_mms; mm; mm = mm->mm_next)
        for (struct vma *v = mm->vmas; v; v = v->next) {
            if (!v->file || v->file->inode != ino)
                continue;
            uint64_t pages = (v->end - v->start) / PAGE_SIZE;
            uint64_t skip = first > v->pgoff ? first - v->pgoff : 0;
            if (skip >= pages)
                continue;
            uintptr_t start = v->start + skip * PAGE_SIZE;
            vmm_range_walk(mm->root, start, v->end, unmap_leaf, mm);
            flush_mm(mm, start, (v->end - start) / PAGE_SIZE);
        }
}

struct split_arg {
    struct vma *v;
    uint64_t file;
};

static void split_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct split_arg *a = arg;
    uint64_t cached;
    uint64_t index = a->v->pgoff + (va - a->v->start) / PAGE_SIZE;
    if (filemap_peek(a->v->file->inode, index, &cached) && cached == (*pte & PTE_ADDR))
        a->file++;
}

void mm_rss_split(struct mm *mm, uint64_t *anon, uint64_t *file)
{
    struct split_arg a = { 0 };
    for (struct vma *v = mm->vmas; v; v = v->next) {
        if (!v->file || !v->file->inode)
            continue;
        a.v = v;
        vmm_range_walk(mm->root, v->start, v->end, split_leaf, &a);
    }
    *file = MIN(a.file, mm->resident);
    *anon = mm->resident - *file;
}

/* ---- reclaim: taking file pages out of page tables (policy: reclaim.c) ---- */

struct age_arg {
    struct mm *mm;
    struct vma *v;
    uint64_t want, unmapped;
    bool changed;               /* an entry went: flush this address space */
};

/* A mapped page of a file region. The hardware's accessed bit is its
 * reference bit: set, it is cleared (the page was used since the last
 * look); clear, the page leaves this page table (the cache keeps it; the
 * next touch faults it back in from there). Only the cache's own frame,
 * never a private copy (that is anonymous memory now), and never a
 * MAP_SHARED page writable here (written since its last write-back). */
static void age_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct age_arg *a = arg;
    if (a->unmapped >= a->want)
        return;
    struct vma *v = a->v;
    uint64_t pa = *pte & PTE_ADDR, cached;
    uint64_t index = v->pgoff + (va - v->start) / PAGE_SIZE;
    if (!filemap_peek(v->file->inode, index, &cached) || cached != pa)
        return;
#ifndef BREAK_MLOCK_PIN
    /* INVARIANT(memory under pressure): a locked page stays resident
     * (mlock(2)): reclaim never takes it out of a locked region. */
    if (v->flags & VMA_LOCKED)
        return;
#endif
#ifndef BREAK_RECLAIM_DIRTY
    /* INVARIANT(memory under pressure): a shared page written through this
     * entry is dirty: it stays until a write-back has put it in the file. */
    if ((*pte & PTE_SHMAP) && (*pte & PTE_W))
        return;
#endif
    if (*pte & PTE_A) {
        *pte &= ~PTE_A;
        return;
    }
    *pte = 0;
    pmm_unref(pa);
    a->mm->resident--;
    a->unmapped++;
    a->changed = true;
}

/* The first address space of all_mms, moved to the end: a clock's turn
 * over address spaces (reclaim's aging and swap-out), so the next call
 * starts with another. all_mms must not be empty. */
static struct mm *next_mm_in_turn(void)
{
    struct mm *mm = all_mms;
    if (mm->mm_next) {
        all_mms = mm->mm_next;
        all_mms->mm_prev = NULL;
        struct mm *t = all_mms;
        while (t->mm_next)
            t = t->mm_next;
        t->mm_next = mm;
        mm->mm_prev = t;
        mm->mm_next = NULL;
    }
    return mm;
}

uint64_t mm_age_file_pages(uint64_t want)
{
    ASSERT_KLOCK();
    struct age_arg a = { .want = want };
    int n = 0;
    for (struct mm *mm = all_mms; mm; mm = mm->mm_next)
        n++;
    /* Every address space once, in turn: the one looked at first goes to
     * the end of the list, so the next call starts with another. */
    for (int i = 0; i < n && a.unmapped < want && all_mms; i++) {
        struct mm *mm = next_mm_in_turn();
        a.mm = mm;
        a.changed = false;
        for (struct vma *v = mm->vmas; v && a.unmapped < want; v = v->next) {
            if (!v->file || !v->file->inode || !filemap_reclaimable(v->file->inode))
                continue;
            a.v = v;
            vmm_range_walk(mm->root, v->start, v->end, age_leaf, &a);
        }
        if (a.changed)
            flush_mm(mm, 0, 0);             /* no CPU may go on using an entry that went */
    }
    return a.unmapped;
}

/* ---- swap-out: anonymous pages to the swap area (policy: reclaim.c) ---- */

struct swapscan {
    uintptr_t va[SWAP_BATCH];
    pte_t val[SWAP_BATCH];      /* each entry as it was left: read-only */
    int n;
    bool full;
    uintptr_t next;             /* where the hand goes once the batch is full */
};

/* The clock over an address space's anonymous pages: the accessed bit set
 * is cleared (a second chance); clear, the page joins the batch and its
 * entry becomes read-only, so a write while it is written out changes the
 * entry (the write fault takes the frame back) and the swap copy is not
 * used. A frame still shared after fork (copy-on-write) goes out from this
 * address space alone: this entry becomes a swap entry holding the same
 * bytes and the other keeps the frame, now its own, which its own clock
 * may write out later. */
static void swapscan_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct swapscan *s = arg;
    if (s->full || (*pte & PTE_SHMAP) || !(*pte & PTE_U))
        return;
    if (*pte & PTE_A) {
        *pte &= ~PTE_A;
        return;
    }
    *pte &= ~PTE_W;
    s->va[s->n] = va;
    s->val[s->n] = *pte;
    if (++s->n == SWAP_BATCH) {
        s->full = true;
        s->next = va + PAGE_SIZE;
    }
}

/* One batch from mm, from its hand on (wrapping once): written out, and
 * the entries that did not change meanwhile become swap entries. The
 * frames freed (not those another address space still maps). */
static uint64_t swap_out_mm(struct mm *mm)
{
    struct swapscan s = { 0 };
    for (int pass = 0; pass < 2 && !s.full; pass++) {
        uintptr_t from = pass ? 0 : mm->swap_hand, to = pass ? mm->swap_hand : USER_TOP;
        for (struct vma *v = mm->vmas; v && !s.full; v = v->next) {
            if (v->file || !v->prot || v->end <= from || v->start >= to)
                continue;
#ifndef BREAK_MLOCK_PIN
            /* INVARIANT(memory under pressure): nor writes it out to swap. */
            if (v->flags & VMA_LOCKED)
                continue;
#endif
            vmm_range_walk(mm->root, MAX(v->start, from), MIN(v->end, to), swapscan_leaf, &s);
        }
    }
    mm->swap_hand = s.full ? s.next : 0;
    if (!s.n)
        return 0;
    flush_mm(mm, 0, 0);                     /* read-only on every CPU before the copy is taken */
    uint64_t slots[SWAP_BATCH], frames[SWAP_BATCH];
    int m = 0;
    for (; m < s.n; m++) {
        if (!(slots[m] = swap_alloc()))
            break;
        frames[m] = s.val[m] & PTE_ADDR;
        pmm_ref(frames[m]);                 /* the frame outlives an munmap while we sleep */
    }
    if (!m)
        return 0;
    mm_get(mm);
    int r = swap_write_batch(slots, frames, m);
    uint64_t out = 0, written = 0;
    for (int k = 0; k < m; k++) {
        pte_t *pte = vmm_walk(mm->root, s.va[k], false);
        if (!r && pte && !((*pte ^ s.val[k]) & ~PTE_A)) {
            *pte = swap_entry(slots[k]);
            if (pmm_refcount(frames[k]) == 2)
                out++;                      /* the entry's and ours: the frame is free after */
            pmm_unref(frames[k]);           /* the entry's reference */
            mm->resident--;
            mm->swapped++;
            written++;
        } else {
            swap_put(slots[k]);             /* written to, unmapped or failed: not used */
        }
    }
    if (written)
        flush_mm(mm, 0, 0);
    for (int k = 0; k < m; k++)
        pmm_unref(frames[k]);               /* ours: the frames of swapped pages are free now */
    mm_put(mm);
    return out;
}

uint64_t mm_swap_out(uint64_t want)
{
    ASSERT_KLOCK();
    if (!swap_on())
        return 0;
    uint64_t freed = 0;
    int n = 0;
    for (struct mm *mm = all_mms; mm; mm = mm->mm_next)
        n++;
    /* Address spaces in turn (the first goes to the end each time), two
     * rounds: the first look at a page may only clear its accessed bit. */
    for (int i = 0; i < 2 * n + 2 && freed < want && all_mms && swap_on(); i++) {
        struct mm *mm = next_mm_in_turn();
        freed += swap_out_mm(mm);
    }
    return freed;
}

struct swapfind {
    uintptr_t va[64];
    int n;
};

static void swapfind_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct swapfind *f = arg;
    if (is_swap_entry(*pte) && f->n < 64)
        f->va[f->n++] = va;
}

int mm_swap_in_all(void)
{
    ASSERT_KLOCK();
    for (;;) {
        struct mm *mm = all_mms;
        struct swapfind f = { .n = 0 };
        for (; mm && !f.n; mm = f.n ? mm : mm->mm_next)
            if (mm->swapped)
                vmm_range_walk_all(mm->root, 0, USER_TOP, swapfind_leaf, &f);
        if (!f.n)
            return 0;
        mm_get(mm);
        int r = 0;
        for (int k = 0; k < f.n && !r; k++) {
            r = mm_fault(mm, f.va[k], false, false);
            if (r == -ENOMEM && mm_reclaim(1024, false))
                r = mm_fault(mm, f.va[k], false, false);
        }
        mm_put(mm);
        if (r)
            return r == -ENOMEM ? r : -EIO;
    }
}

static void clean_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    (void)va, (void)arg;
    if (*pte & PTE_SHMAP)
        *pte &= ~(PTE_W | PTE_D);
}

void mm_clean_file(struct inode *ino, uint64_t first, uint64_t last)
{
    ASSERT_KLOCK();
    for (struct mm *mm = all_mms; mm; mm = mm->mm_next)
        for (struct vma *v = mm->vmas; v; v = v->next) {
            if (!v->file || v->file->inode != ino || !(v->flags & VMA_SHARED))
                continue;
            uint64_t pages = (v->end - v->start) / PAGE_SIZE;
            if (last < v->pgoff || first >= v->pgoff + pages)
                continue;
            uint64_t from = first > v->pgoff ? first - v->pgoff : 0;
            uint64_t to = last - v->pgoff >= pages ? pages : last - v->pgoff + 1;   /* exclusive */
            uintptr_t start = v->start + from * PAGE_SIZE, end = v->start + to * PAGE_SIZE;
            vmm_range_walk(mm->root, start, end, clean_leaf, NULL);
            flush_mm(mm, start, (end - start) / PAGE_SIZE);
        }
}
