/* mm/mm.h - memory management: physical frames (pmm.c), page tables and the
 * kernel's address space (vmm.c), the kernel heap (kheap.c), and kernel
 * stacks with guard pages (vmm.c).
 *
 * Virtual layout (the upper half is shared by every address space):
 *   0x0000000000000000 - 0x00007fffffffffff   user
 *   0xffff800000000000 ...                     direct map of physical RAM
 *   0xffffc00000000000 ...                     kernel stacks, each over an unmapped guard page
 *   0xffffd00000000000 ...                     MMIO (uncached)
 *   0xffffffff80000000 ...                     kernel image (text RX, rodata R, data RW)
 */
#pragma once
#include "../lib/types.h"

#define PAGE_SIZE        4096ul
#define PAGE_SHIFT       12
#define LARGE_PAGE_SIZE  (2ul << 20)

#define USER_TOP         0x0000800000000000ul
#define PHYS_MAP_BASE    0xffff800000000000ul
#define KSTACK_BASE      0xffffc00000000000ul
#define MMIO_BASE        0xffffd00000000000ul
#define KERNEL_VMA       0xffffffff80000000ul

#define P2V(pa)          ((void *)((uintptr_t)(pa) + PHYS_MAP_BASE))
#define V2P(va)          ((uintptr_t)(va) >= KERNEL_VMA ? (uintptr_t)(va) - KERNEL_VMA \
                                                        : (uintptr_t)(va) - PHYS_MAP_BASE)

/* Page-table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P            (1ul << 0)
#define PTE_W            (1ul << 1)
#define PTE_U            (1ul << 2)
#define PTE_PWT          (1ul << 3)
#define PTE_PCD          (1ul << 4)
#define PTE_A            (1ul << 5)
#define PTE_D            (1ul << 6)
#define PTE_PS           (1ul << 7)
#define PTE_G            (1ul << 8)
#define PTE_COW          (1ul << 9)    /* software bit: read-only because shared after fork */
#define PTE_SHMAP        (1ul << 10)   /* software bit: a MAP_SHARED page, shared on purpose */
#define PTE_PKEY_SHIFT   59            /* bits 59-62: the page's protection key (CR4.PKE) */
#define PTE_PKEY         (0xful << PTE_PKEY_SHIFT)
#define PTE_NX           (1ul << 63)
#define PTE_ADDR         0x000ffffffffff000ul

typedef uint64_t pte_t;

struct mem_range {
    uint64_t base, len;
};

/* ---- physical frames ---- */
/* usable: RAM the firmware says is free; reserved: parts of it already in use
 * (kernel image, boot modules). */
void     pmm_init(const struct mem_range *usable, int nusable,
                  const struct mem_range *reserved, int nreserved);
uint64_t pmm_alloc(void);                 /* a free frame's address, or 0 */
uint64_t pmm_alloc_zeroed(void);
uint64_t pmm_alloc_contig(size_t n);      /* n consecutive frames, or 0 */
void     pmm_free(uint64_t pa);
void     pmm_free_contig(uint64_t pa, size_t n);
void     pmm_ref(uint64_t pa);            /* one more mapping of this frame */
void     pmm_unref(uint64_t pa);          /* one fewer; frees it at zero */
unsigned pmm_refcount(uint64_t pa);
uint64_t pmm_free_frames(void);
/* A frame for a user page (demand-zero, a copy, a page-cache fill), or 0
 * when only the kernel's reserve is left: the caller reclaims (reclaim.c). */
uint64_t pmm_alloc_user(bool zeroed);
uint64_t pmm_reserve_frames(void);
uint64_t pmm_total_frames(void);          /* usable frames managed */
uint64_t pmm_max_phys(void);              /* end of the highest usable range */

/* ---- page tables ---- */
void     vmm_init(const struct mem_range *direct, int ndirect);
uint64_t vmm_kernel_root(void);           /* physical address of the kernel PML4 */
uint64_t vmm_new_space(void);             /* fresh PML4 sharing the kernel half; 0 on OOM */
void     vmm_destroy_space(uint64_t root);/* frees the user half's tables (not the frames mapped) */
/* Return the level-1 entry for va (or the level-2 entry of a 2 MiB page);
 * with create, missing tables are allocated. NULL if absent or out of memory. */
pte_t   *vmm_walk(uint64_t root, uintptr_t va, bool create);
int      vmm_map(uint64_t root, uintptr_t va, uint64_t pa, uint64_t flags);
uint64_t vmm_unmap(uint64_t root, uintptr_t va);  /* the frame that was mapped, or 0 */
bool     vmm_translate(uint64_t root, uintptr_t va, uint64_t *pa, uint64_t *flags);
bool     vmm_kernel_mapped(uintptr_t va);     /* in the kernel half and mapped (never a user page) */
/* Call fn on every present leaf entry in [start, end) of the user half,
 * skipping absent tables whole. */
typedef void (*pte_fn)(pte_t *pte, uintptr_t va, void *arg);
void     vmm_range_walk(uint64_t root, uintptr_t start, uintptr_t end, pte_fn fn, void *arg);
/* ... and on every non-zero leaf entry, present or not (swap entries). */
void     vmm_range_walk_all(uint64_t root, uintptr_t start, uintptr_t end, pte_fn fn, void *arg);
/* Free the user-half page tables left empty inside [start, end). */
void     vmm_prune(uint64_t root, uintptr_t start, uintptr_t end);
void    *vmm_map_mmio(uint64_t pa, size_t len);

/* ---- kernel stacks ---- */
#define KSTACK_PAGES 4
struct kstack {
    uintptr_t guard;    /* lowest address: the unmapped guard page */
    uintptr_t bottom;   /* first mapped byte */
    uintptr_t top;      /* initial stack pointer */
};
bool kstack_alloc(struct kstack *ks);      /* painted, so its depth can be measured */
void kstack_free(struct kstack *ks);
size_t kstack_used(const struct kstack *ks);   /* bytes below top ever written */
void kstack_note(const struct kstack *ks);     /* count it in kstack_deepest */
size_t kstack_deepest(void);                   /* the most any kernel stack used so far */

/* ---- kernel heap ---- */
void    *kmalloc(size_t n);
void    *kzalloc(size_t n);
void     kfree(void *p);
uint64_t kheap_pages_in_use(void);
uint64_t kheap_bytes_in_use(void);
/* Blocks handed out and not yet freed: one count per size class (16, 32,
 * ... 2016 bytes), then large blocks (the leak test's exact measure). */
#define KHEAP_NCOUNTS 9
void     kheap_object_counts(uint64_t out[KHEAP_NCOUNTS]);
/* The tracer (/proc/vigil/kheap): "mark" starts recording each block's
 * allocation sites; a report groups the recorded blocks still live. */
struct kheap_site {
    uintptr_t site[3];                  /* kmalloc's return address, then its caller's... */
    uint32_t size;                      /* what was asked for */
    uint32_t count;                     /* live blocks of this size from these sites */
};
long     kheap_trace_control(const char *buf, size_t n);
size_t   kheap_trace_report(struct kheap_site *out, size_t max, uint64_t *untracked);
/* A crash report's line for a register that points into a heap block: the
 * block, and its allocation sites if the tracer recorded them (or, for a
 * freed block, who freed it). */
void     kheap_whois(const char *reg, uintptr_t addr);
/* A freed block of 64 bytes or more, freed while the tracer records: true
 * and kfree's three callers. "quarantine" (written to the same file) keeps
 * freed blocks out of use for a while so that they stay so. */
bool     kheap_freed_by(const void *block, uintptr_t site[3]);

/* ---- user address spaces (uvm.c) ---- */
#define VM_READ   1
#define VM_WRITE  2
#define VM_EXEC   4

#define USER_STACK_TOP   0x00007ffffffff000ul
#define USER_STACK_SIZE  (8ul << 20)
#define USER_MMAP_BASE   0x00007f0000000000ul

#define VMA_SHARED   1           /* MAP_SHARED: writes reach the file; fork shares, never copies */
#define VMA_MAYWRITE 2           /* the file was opened for writing: PROT_WRITE may be added */
#define VMA_LOCKED   4           /* mlock: its pages stay resident (reclaim passes them by) */
#define VMA_ONFAULT  8           /* ... locked as they are touched, not faulted in (MLOCK_ONFAULT) */
#define VMA_DONTDUMP 16          /* madvise(MADV_DONTDUMP): left out of core dumps */
#define VMA_GROWSDOWN 32         /* MAP_GROWSDOWN: a fault just below it extends it (a stack) */
#define VMA_DONTFORK 64          /* madvise(MADV_DONTFORK): a fork's child does not have it */
#define VMA_WIPEONFORK 128       /* madvise(MADV_WIPEONFORK): a fork's child has it, zero-filled */
#define STACK_GUARD_GAP (256ul * PAGE_SIZE)   /* Linux's stack_guard_gap: room kept below it */
#define VMA_LOCKMASK (VMA_LOCKED | VMA_ONFAULT)

struct file;
struct inode;

struct vma {                    /* all [klock], as the list it is on */
    uintptr_t start, end;       /* page aligned, end exclusive */
    uint32_t prot;              /* VM_READ | VM_WRITE | VM_EXEC */
    uint32_t flags;             /* VMA_* */
    struct file *file;          /* NULL: anonymous; else one reference (file_dup) per VMA */
    uint64_t pgoff;             /* the file page mapped at start */
    uint32_t pkey;              /* protection key of its pages (pkey_mprotect; 0: the default) */
    struct uffd *uffd;          /* userfaultfd(2) serving its missing pages, or NULL */
    struct vma *next;           /* sorted by address */
};

/* An address space, shared by the threads of a process (CLONE_VM), whose
 * kernel work runs on several CPUs: guards as in proc/proc.h. [klock] takes
 * in the page tables below root: every change to them (mmap, munmap,
 * mprotect, brk, fork's copy-on-write marking, a fault's demand page or
 * copy) holds the kernel lock; the functions that make one assert it. An
 * address space still being built by exec, not yet anyone's, is its
 * builder's alone. The hardware reads the tables on every CPU at any time:
 * that is what flush_mm's shootdowns are for. */
struct mm {
    uint64_t root;              /* [const] PML4 */
    struct vma *vmas;           /* [klock] */
    uintptr_t brk_start, brk;   /* [klock] */
    uint64_t resident;          /* [klock] pages mapped (VmRSS): change it with mm_rss_add */
    uint64_t hiwater_rss;       /* [klock] the most pages ever resident at once (VmHWM) */
    uint64_t hiwater_vm;        /* [klock] the most pages ever in its regions at once (VmPeak) */
    uint64_t swapped;           /* [klock] swap entries in its page tables (VmSwap) */
    uintptr_t swap_hand;        /* [klock] where swap-out's clock looks next (mm_swap_out) */
    uint32_t def_flags;         /* [klock] VMA_LOCKMASK bits new regions get (mlockall MCL_FUTURE) */
    uint32_t coredump_filter;   /* [klock] /proc/PID/coredump_filter: what a core dump holds */
    uint32_t membarrier;        /* [klock] membarrier(2) registrations (MEMBARRIER_CMD_REGISTER_*) */
    uint16_t pkeys;             /* [klock] protection keys allocated (bit n: key n; key 0 from the
                                 * start when the CPU has them): pkey_alloc/pkey_free */
    int map_count;              /* [klock] regions in vmas (vm.max_map_count bounds it) */
    uint64_t total_pages;       /* [klock] pages in its regions (VmSize) */
    struct vma *hint;           /* [klock] a region in vmas, NULL: where the last was made (walks
                                 * for a later address may start there instead of at the head) */
    /* [const] set by exec (and copied by fork), for /proc/PID: where the
     * argv and envp strings lie, the program's lowest and highest loaded
     * address, the stack's top, and the program's absolute path. */
    uintptr_t arg_start, arg_end, env_start, env_end;
    uintptr_t auxv_start, auxv_end;             /* the auxiliary vector (/proc/PID/auxv) */
    uintptr_t start_code, end_code, start_stack;
    char exe_path[256];
    /* [const] the program's file (exec), denied writing while this runs
     * it (ETXTBSY): given back by mm_destroy. */
    struct inode *exe_ino;
    int users;                  /* [atomic] threads sharing it (CLONE_VM) */
    volatile uint64_t cpus;     /* [atomic] bit n: loaded on CPU n (who needs TLB shootdowns) */
    struct mm *mm_prev, *mm_next;   /* [klock] every address space (mm_unmap_file_from) */
};

/* One more page resident in mm, and the high-water mark with it: /proc's
 * VmRSS and VmHWM are honest only if every page mapped into mm counts here. */
static inline void mm_rss_add(struct mm *mm)
{
    if (++mm->resident > mm->hiwater_rss)
        mm->hiwater_rss = mm->resident;
}
uint64_t   mm_total_vm(struct mm *mm);                /* pages in its regions */
/* /proc/sys/vm/max_map_count: the regions an address space may have (mmap
 * ENOMEM past it, and a munmap that would split one more). [klock] */
extern int vm_max_map_count;
/* /proc/sys/vm/mmap_min_addr: the lowest address a process without root
 * may map (mmap, mremap and shmat at a fixed address: EPERM below it; a
 * hint below it is not taken). [klock] */
extern unsigned long vm_mmap_min_addr;
int        mm_min_addr_check(uintptr_t addr);      /* 0, or -EPERM */
/* Is [addr, addr+len) free of regions? */
bool       mm_range_free(struct mm *mm, uintptr_t addr, size_t len);

/* May the current program read [addr, addr+n)? No if a PROT_NONE region
 * overlaps it (unmapped parts fault as usual). */
bool       mm_user_readable(uintptr_t addr, size_t n);
struct mm *mm_create(void);
void       mm_destroy(struct mm *mm);
void       mm_get(struct mm *mm);                    /* one more user */
void       mm_put(struct mm *mm);                    /* one fewer; destroyed at zero */
struct mm *mm_fork(struct mm *parent);
void       mm_activate(struct mm *mm);
struct mm *mm_current(void);
int        mm_map(struct mm *mm, uintptr_t start, size_t len, uint32_t prot);
/* A file mapping: file page pgoff at start; flags VMA_*; takes its own
 * reference on file. */
int        mm_map_file(struct mm *mm, uintptr_t start, size_t len, uint32_t prot,
                       uint32_t flags, struct file *file, uint64_t pgoff);
int        mm_unmap(struct mm *mm, uintptr_t start, size_t len);
int        mm_protect(struct mm *mm, uintptr_t start, size_t len, uint32_t prot);
/* ... and give the regions protection key pkey (-1: each keeps its own). */
int        mm_protect_key(struct mm *mm, uintptr_t start, size_t len, uint32_t prot, int pkey);
/* ---- userfaultfd(2) (mm/userfaultfd.c) ---- all [klock] */
struct uffd;
/* The region holding addr, or NULL. */
struct vma *mm_vma_at(struct mm *mm, uintptr_t addr);
/* Every region in [start, end) served by from gets to (split at the ends
 * first): registration and unregistration. 0 or -ENOMEM. */
int        mm_set_uffd(struct mm *mm, uintptr_t start, uintptr_t end, struct uffd *from,
                       struct uffd *to);
/* Give the missing page va of a region u serves a frame of its own, filled
 * from src (a kernel buffer; NULL: zeros): 0, -ENOENT (no region, or not
 * u's), -EEXIST (a page is there), -ENOMEM. */
int        mm_uffd_fill(struct mm *mm, struct uffd *u, uintptr_t va, const void *src);
/* A page fault at addr that u must answer (a missing page of a region it
 * serves, not on swap): the region, else NULL. */
struct vma *mm_uffd_missing(struct mm *mm, uintptr_t addr, bool write, bool exec);
/* userfaultfd.c: the thread waits until the page at addr is filled (or the
 * fd goes); 0 to retry the access, -EFAULT for a uaccess cut short. */
int        uffd_handle_fault(struct mm *mm, struct vma *v, uintptr_t addr, bool write, bool user);
/* Is this protection key allocated in mm (pkey_mprotect, pkey_free may use it)? */
bool       mm_pkey_allocated(struct mm *mm, int pkey);
uintptr_t  mm_find_free(struct mm *mm, size_t len);   /* 0 if none */
uint32_t   mm_prot_at(struct mm *mm, uintptr_t addr); /* 0 if unmapped */
long       mm_brk(struct mm *mm, uintptr_t want);
/* Resolve a fault at addr: 0, or -EFAULT if the access is not allowed. */
int        mm_fault(struct mm *mm, uintptr_t addr, bool write, bool exec);
/* Copy into mm (which need not be active), whatever the pages' protection:
 * for exec building an image. */
int        mm_write(struct mm *mm, uintptr_t va, const void *src, size_t n);
/* Copy out of mm (need not be active), as its owner would read: 0 or -EFAULT. */
int        mm_read(struct mm *mm, uintptr_t va, void *dst, size_t n);
void       uvm_init(void);
/* mremap(2) on mm: the new address or -errno (flags MREMAP_*; with
 * MREMAP_DONTUNMAP the pages move and the old range stays mapped, empty). */
long       mm_remap(struct mm *mm, uintptr_t old, size_t old_len, size_t new_len,
                    int flags, uintptr_t new_addr);
/* madvise(MADV_DONTNEED): drop the pages of [start, end) (anonymous ones
 * read as zeros again, private file pages re-read the file). */
int        mm_dontneed(struct mm *mm, uintptr_t start, size_t len);
/* mlock(2) and friends: set the lock bits (VMA_LOCKMASK; 0 unlocks) of
 * every region in [start, end), which must all be mapped (-ENOMEM), then
 * fault in what is locked and not VMA_ONFAULT (mm_populate): 0 or -errno. */
int        mm_mlock(struct mm *mm, uintptr_t start, uintptr_t end, uint32_t lock);
/* Fault in the pages of [start, end) as their owner's touch would (a
 * write for private writable regions, so copy-on-write is broken now);
 * only_locked: just the regions locked without VMA_ONFAULT. Holes are
 * passed over; 0, -ENOMEM if frames ran out, -EFAULT at a page that cannot
 * be had (PROT_NONE, past a file's end). May sleep. */
int        mm_populate(struct mm *mm, uintptr_t start, uintptr_t end, bool only_locked);
uint64_t   mm_locked_pages(struct mm *mm);           /* pages in locked regions (VmLck) */
/* The locked pages of [start, end) (what a new mlock there need not count again). */
uint64_t   mm_locked_in(struct mm *mm, uintptr_t start, uintptr_t end);
/* Set or clear (set false) flag on the regions of [start, end): 0 or -ENOMEM. */
int        mm_set_vma_flag(struct mm *mm, uintptr_t start, uintptr_t end, uint32_t flag, bool set);
/* mincore(2): one byte per page of [start, start+len) into vec (kernel
 * buffer): 1 if resident; -ENOMEM if a page is unmapped. */
int        mm_mincore(struct mm *mm, uintptr_t start, size_t len, uint8_t *vec);
/* msync(2): write the dirty pages of the MAP_SHARED file mappings in the
 * range back through their file systems (sync: and make them durable). */
int        mm_msync(struct mm *mm, uintptr_t start, size_t len, bool sync);

/* A file was cut short: every mapping of ino, in every address space, lets
 * go of its pages from file page first on (copy-on-write copies too, as
 * Linux), so touching them faults again: SIGBUS past the new end. */
void       mm_unmap_file_from(struct inode *ino, uint64_t first);
/* A memory barrier on every CPU running mm's threads (all CPUs: mm NULL):
 * an interrupt to each, which serialises it (membarrier(2)). */
void       mm_barrier_cpus(struct mm *mm);
/* Does some address space map ino shared and writable (or able to become
 * so by mprotect)? (memfd's F_SEAL_WRITE: EBUSY while one does.) */
bool       mm_file_mapped_writable(struct inode *ino);
/* Before a write-back of ino's pages [first, last]: every writable entry
 * of them, in every address space, becomes read-only (the next write
 * faults and marks its page dirty again). */
void       mm_clean_file(struct inode *ino, uint64_t first, uint64_t last);

/* Reclaim (reclaim.c's policy): in every address space in turn, clear the
 * accessed bit of the file pages mapped from the page cache, and take out
 * of the page table those whose bit was already clear, up to want of them;
 * the number taken out. */
uint64_t   mm_age_file_pages(uint64_t want);
/* Resident pages that are the page cache's frames (file) and the rest (anon). */
void       mm_rss_split(struct mm *mm, uint64_t *anon, uint64_t *file);
/* ... and of the page cache's, those of shared anonymous memory (RssShmem). */
void       mm_rss_split3(struct mm *mm, uint64_t *anon, uint64_t *file, uint64_t *shmem);
uint64_t   mm_reclaimed_total(void);                 /* frames reclaim freed since boot */
struct proc;
/* The OOM killer's figure for p, in pages (0: never chosen: init, -1000). */
long       oom_badness(struct proc *p);
/* Make free frames: reclaim (page cache, then mapped file pages, then with
 * may_swap anonymous pages to swap); the number freed. May sleep. */
uint64_t   mm_reclaim(uint64_t want, bool may_swap);
/* No frame is left for a user page after reclaim: choose a process by its
 * memory and oom_score_adj and SIGKILL it (reclaim.c). True if a victim is
 * dying (chosen now or before), false if none may be chosen. */
bool       oom_kill(void);
/* The fault path's reclaim-or-kill loop: mm_fault(mm, addr...) again until
 * it no longer says -ENOMEM, or the current process is the one to die. */
int        mm_fault_reclaim(struct mm *mm, uintptr_t addr, bool write, bool exec, bool user);

/* ---- swap (swap.c) ---- all [klock]. A swap entry is a page-table entry
 * that is not present, has PTE_SWAP and holds its slot where a frame's
 * address would be. */
#define PTE_SWAP     (1ul << 11)        /* software bit, in a non-present entry */
#define SWAP_BATCH   16                 /* pages written out per disk batch */
static inline pte_t swap_entry(uint64_t slot) { return (slot << PAGE_SHIFT) | PTE_SWAP; }
static inline bool is_swap_entry(pte_t e) { return !(e & PTE_P) && (e & PTE_SWAP); }
static inline uint64_t swap_slot(pte_t e) { return (e & PTE_ADDR) >> PAGE_SHIFT; }
bool       swap_on(void);
uint64_t   swap_alloc(void);                         /* a free slot (one reference) or 0 */
void       swap_dup(uint64_t slot);                  /* one more entry names it */
void       swap_put(uint64_t slot);                  /* one fewer; free at zero */
unsigned   swap_refcount(uint64_t slot);             /* entries naming it (0: none, no area) */
/* Write frames[i] to slots[i] (n <= SWAP_BATCH), or read one slot: 0 or
 * -errno. They sleep. */
int        swap_write_batch(const uint64_t *slots, const uint64_t *frames, int n);
int        swap_read(uint64_t slot, uint64_t pa);
/* Pages: usable and free slots; pages read in and written out since boot. */
void       swap_counts(uint64_t *total, uint64_t *free, uint64_t *in, uint64_t *out);
void       swap_describe(char *buf, size_t n);       /* /proc/swaps' line ("" when off) */
/* (uvm.c) Write out up to want anonymous pages not used lately (the
 * clock: the accessed bit) and free their frames; the number freed. May
 * sleep. */
uint64_t   mm_swap_out(uint64_t want);
/* (uvm.c) Read every swapped page of every address space back (swapoff):
 * 0, or -ENOMEM when they do not fit. */
int        mm_swap_in_all(void);

/* What /proc/PID/maps prints: each VMA of mm in address order. cb gets a
 * copy (no pointer into the list: it may sleep); returning false stops. */
struct vma_info {
    uintptr_t start, end;
    uint32_t prot;              /* VM_READ | VM_WRITE | VM_EXEC */
    bool shared;                /* MAP_SHARED (maps' 's'), else private ('p') */
    uint64_t offset;            /* bytes into the file (0 for anonymous memory) */
    uint64_t dev, ino;          /* the file's (0, 0 for anonymous memory) */
    struct inode *inode;        /* the file's inode or NULL; valid only during cb */
    const char *path;           /* the name it was opened by (struct file's path) or NULL;
                                 * valid until cb sleeps: copy it first */
    uint32_t flags;             /* VMA_* */
    uint32_t pkey;              /* its protection key (smaps' ProtectionKey) */
    const char *special;        /* "[vvar]", "[vdso]" (vdso.c) or NULL */
};
/* What /proc/PID/smaps says of a region: bytes, each PSS figure in
 * 1/4096ths of a byte (a page shared by n mappings counts 1/n here). */
struct vma_stats {
    uint64_t rss, shared_clean, shared_dirty, private_clean, private_dirty;
    uint64_t referenced, anonymous, swap, locked_rss;
    uint64_t pss, pss_dirty, pss_anon, pss_file, pss_shmem, swap_pss, pss_locked;
    uint64_t file_rss, shmem_rss;       /* the page cache's frames, of files and of shared memory */
};
typedef bool (*vma_visit_fn)(const struct vma_info *vi, void *arg);
void       mm_for_each_vma(struct mm *mm, vma_visit_fn cb, void *arg);
/* The page figures of [start, end) (smaps: a region, or a part of one). */
void       mm_range_stats(struct mm *mm, uintptr_t start, uintptr_t end, struct vma_stats *st);
/* The pagemap(5) entries of the pages from va on, n of them, into out. */
void       mm_pagemap(struct mm *mm, uintptr_t va, uint64_t *out, size_t n);
/* Resident pages of locked regions, over every address space (Mlocked). */
uint64_t   mm_mlocked_all(void);

/* ---- file pages (filemap.c) ----
 * The page cache: per inode, the 4 KiB pages of its file that are mapped
 * or were mapped while it stays in use (the design: filemap.c's essay).
 * All [klock]. */
/* The frame caching file page index of ino, filling it through the
 * inode's read op if absent: 0 and *pa (the cache's reference; the caller
 * pmm_refs what it maps), 1 if the kernel lock was let go meanwhile (the
 * caller's view of its address space may be stale: look again), or -errno. */
int      filemap_get(struct inode *ino, uint64_t index, uint64_t *pa);
bool     filemap_cached(struct inode *ino, uint64_t index);
bool     filemap_peek(struct inode *ino, uint64_t index, uint64_t *pa);   /* cached: its frame */
/* Put frame pa (its reference goes to the cache) as page index of ino: an
 * inode whose pages are not file data but the kernel's own (vdso.c). */
int      filemap_install(struct inode *ino, uint64_t index, uint64_t pa);
void     filemap_set_dirty(struct inode *ino, uint64_t index);
/* Write the dirty cached pages in [first, last] back through the file
 * system's write op, after making their writable entries read-only (the
 * next write through a mapping dirties the page again). 0 or the first
 * error. May sleep. */
int      filemap_writeback(struct inode *ino, uint64_t first, uint64_t last);
/* read()/write() of a regular file go through these, so a page both mapped
 * and written or read shows one content (kernel buffers). */
long     filemap_read(struct inode *ino, uint64_t off, void *buf, size_t n);
long     filemap_write(struct inode *ino, uint64_t off, const void *buf, size_t n);
/* [off, end) of a file whose pages are memory (tmpfs, memfd, shared
 * anonymous) reads as zeros again (fallocate's PUNCH_HOLE, madvise's
 * REMOVE): 0 or -errno. The size stays; Vigil zeroes the pages where Linux
 * frees them. */
long     filemap_zero_range(struct inode *ino, uint64_t off, uint64_t end);
int      filemap_writeback_all(void);            /* sync(2): every inode's */
/* After the file system cut or grew the file from old_size to size. */
void     filemap_truncate(struct inode *ino, uint64_t old_size, uint64_t size);
void     filemap_evict(struct inode *ino);       /* the inode's last reference went */
uint64_t filemap_pages(void);                    /* frames the page cache holds */
/* Reclaim (reclaim.c): free up to want clean pages no mapping holds, by
 * the clock; the number freed. */
uint64_t filemap_shrink(uint64_t want);
bool     filemap_reclaimable(const struct inode *ino);   /* its clean pages may be dropped */
bool     filemap_is_memory(const struct inode *ino);     /* tmpfs, memfd, shared anonymous */
/* ---- the vDSO and the vvar page (vdso.c) ---- */
void        vdso_init(void);                    /* at boot, under the kernel lock */
uintptr_t   vdso_map(struct mm *mm);            /* exec: the image's address, or 0 */
const char *vdso_region_name(const struct inode *ino);  /* "[vvar]", "[vdso]" or NULL */
/* A new file of len zero bytes in memory only, for MAP_SHARED anonymous
 * memory (one reference: the caller's); NULL if out of memory. */
struct file *filemap_shared_anon(size_t len);
/* The fault of a file VMA at va (not present): the frame to map, or 1
 * (retry), -ENOMEM, or -EIO (past the end of the file: SIGBUS). */
int      filemap_fault_page(struct vma *v, uintptr_t va, uint64_t *pa);
