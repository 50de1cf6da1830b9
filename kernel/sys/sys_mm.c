/* sys/sys_mm.c - brk, mmap, munmap, mprotect, madvise: the argument
 * checks (Linux's errnos, in Linux's order); the work is in mm/uvm.c and,
 * for file mappings, mm/filemap.c. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../ipc/ipc.h"
#include "../arch/x86_64/cpu.h"
#include "../lib/abi.h"

static uint32_t vm_prot(int prot)
{
    return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
           (prot & PROT_EXEC ? VM_EXEC : 0);
}

long sys_brk(uintptr_t addr)
{
    struct mm *mm = current()->mm;
    uintptr_t old = ALIGN_UP(mm->brk, PAGE_SIZE), want = ALIGN_UP(addr, PAGE_SIZE);
    if (addr > mm->brk && want > old && !rlimit_as_allows(mm, 0, 0, want - old))
        return (long)mm->brk;               /* RLIMIT_AS: the break stays */
    long r = mm_brk(mm, addr);
    if ((mm->def_flags & VMA_LOCKMASK) == VMA_LOCKED && want > old && (uintptr_t)r == addr)
        mm_populate(mm, old, want, true);   /* mlockall(MCL_FUTURE): locked and in */
    return r;
}

static bool range_free(struct mm *mm, uintptr_t addr, size_t len)
{
    return mm_range_free(mm, addr, len);
}

/* What a file descriptor may be mapped as: 0, or Linux's errno (checked in
 * do_mmap's order: the access mode, then whether the file can be mapped).
 * *anon: /dev/zero, which maps as anonymous memory. */
static int mappable(struct file *f, int type, int flags, int prot, bool *anon)
{
    int acc = f->flags & O_ACCMODE;
    if (type == MAP_SHARED_VALIDATE &&
        (flags & ~(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
                   MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
                   MAP_STACK | MAP_HUGETLB)))
        return -EOPNOTSUPP;
    if (type != MAP_PRIVATE && (prot & PROT_WRITE) && acc == O_RDONLY)
        return -EACCES;                 /* writes would reach a file opened read-only */
    if (acc == O_WRONLY)
        return -EACCES;                 /* a mapping reads the file */
    struct inode *ino = f->inode;
    if (ino && S_ISCHR(ino->mode) && ino->rdev == MKDEV(1, 5)) {
        *anon = true;                   /* /dev/zero */
        return 0;
    }
    if (!ino || !S_ISREG(ino->mode) || !ino->ops->read)
        return -ENODEV;                 /* pipes, terminals, directories, devices */
    return 0;
}

long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)
{
    struct mm *mm = current()->mm;
    if (off & (PAGE_SIZE - 1))
        return -EINVAL;
    struct file *f = NULL;
    if (!(flags & MAP_ANONYMOUS) && !(f = fd_get(fd)))
        return -EBADF;
    if (!len || (prot & ~7))
        return -EINVAL;
    if (len > USER_TOP)
        return -ENOMEM;
    len = ALIGN_UP(len, PAGE_SIZE);
    uint64_t pgoff = (uint64_t)off / PAGE_SIZE;
    if (f && pgoff + len / PAGE_SIZE < pgoff)
        return -EOVERFLOW;
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed && (addr & (PAGE_SIZE - 1)))
        return -EINVAL;
    if (fixed && (addr >= USER_TOP || len > USER_TOP - addr))
        return -ENOMEM;
    int type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (fixed && mm_min_addr_check(addr))
        return -EPERM;                  /* below vm.mmap_min_addr */
    bool anon = !f;
    if (f) {
        int r = mappable(f, type, flags, prot, &anon);
        if (r)
            return r;
        if (type != MAP_PRIVATE && (prot & PROT_WRITE) && f->inode && (f->inode->seals & SEALS_MEMFD) &&
            (f->inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
            return -EPERM;                  /* a write-sealed memfd (memfd_create(2)) */
    }
    if (flags & MAP_LOCKED) {
        /* As mlock: the right to lock, and room under RLIMIT_MEMLOCK (EAGAIN). */
        uint64_t lim = current()->leader->rlim[RLIMIT_MEMLOCK].cur;
        if (current()->euid != 0 && lim == 0)
            return -EPERM;
        if (current()->euid != 0 && lim != RLIM_INFINITY &&
            mm_locked_pages(mm) + len / PAGE_SIZE > lim / PAGE_SIZE)
            return -EAGAIN;
    }
    if (mm->map_count > vm_max_map_count)
        return -ENOMEM;                 /* vm.max_map_count regions already */
    bool replaces = fixed && !(flags & MAP_FIXED_NOREPLACE);
    if (!rlimit_as_allows(mm, replaces ? addr : 0, replaces ? len : 0, len))
        return -ENOMEM;                 /* RLIMIT_AS, counting what MAP_FIXED replaces */
    if (fixed) {
        if (flags & MAP_FIXED_NOREPLACE) {
            if (!range_free(mm, addr, len))
                return -EEXIST;
        } else {
            mm_unmap(mm, addr, len);
        }
    } else {
        /* A hint is taken if the range there is free, as Linux does. */
        addr = ALIGN_UP(addr, PAGE_SIZE);
        if (!addr || addr < MAX(vm_mmap_min_addr, 0x10000ul) || addr >= USER_TOP || len > USER_TOP - addr ||
            !range_free(mm, addr, len))
            addr = mm_find_free(mm, len);
        if (!addr)
            return -ENOMEM;
    }
    long r;
    if (anon && type == MAP_PRIVATE) {
        r = mm_map(mm, addr, len, vm_prot(prot));
    } else if (anon) {
        /* Shared anonymous memory: a file in memory only (filemap.c). */
        struct file *shm = filemap_shared_anon(len);
        if (!shm)
            return -ENOMEM;
        /* /dev/zero opened read-only: never writable later (mprotect EACCES). */
        uint32_t may = f && (f->flags & O_ACCMODE) != O_RDWR ? 0 : VMA_MAYWRITE;
        r = mm_map_file(mm, addr, len, vm_prot(prot), VMA_SHARED | may, shm, 0);
        file_close(shm);                /* the region holds its own reference */
    } else {
        uint32_t vflags = 0;
        /* A write-sealed memfd is never mapped shared and writable (EPERM),
         * nor made so later (mprotect: EACCES). */
        bool sealed = (f->inode->seals & SEALS_MEMFD) &&
                      (f->inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
        if (type != MAP_PRIVATE)
            vflags = VMA_SHARED | ((f->flags & O_ACCMODE) == O_RDWR && !sealed ? VMA_MAYWRITE : 0);
        r = mm_map_file(mm, addr, len, vm_prot(prot), vflags, f, pgoff);
    }
    if (r)
        return r;
    if (flags & MAP_LOCKED)
        mm_set_vma_flag(mm, addr, addr + len, VMA_LOCKED, true);
    if ((flags & MAP_GROWSDOWN) && anon && type == MAP_PRIVATE)
        mm_set_vma_flag(mm, addr, addr + len, VMA_GROWSDOWN, true);   /* a stack that grows */
    /* MAP_POPULATE, MAP_LOCKED and mlockall(MCL_FUTURE): the pages come now
     * (what cannot be had is left to fault later, as Linux). */
    uint32_t lockbits = ((flags & MAP_LOCKED) ? VMA_LOCKED : 0) | mm->def_flags;
    if ((flags & MAP_POPULATE) || (lockbits & VMA_LOCKMASK) == VMA_LOCKED)
        mm_populate(mm, addr, addr + len, !(flags & MAP_POPULATE));
    return (long)addr;
}

long sys_munmap(uintptr_t addr, size_t len)
{
    if ((addr & (PAGE_SIZE - 1)) || !len || addr >= USER_TOP || len > USER_TOP - addr)
        return -EINVAL;
    return mm_unmap(current()->mm, addr, len);
}

/* mprotect, and pkey_mprotect with a key (-1: each region keeps its own). */
static long do_mprotect(uintptr_t addr, size_t len, int prot, int pkey)
{
    if ((addr & (PAGE_SIZE - 1)) || (prot & ~(7 | PROT_GROWSDOWN | PROT_GROWSUP)))
        return -EINVAL;
    if (!len)
        return 0;
    /* Only a key pkey_alloc gave (or key 0, every mm's with protection
     * keys): checked before the range, as Linux. */
    if (pkey != -1 && !mm_pkey_allocated(current()->mm, pkey))
        return -EINVAL;
    if (addr >= USER_TOP || len > USER_TOP - addr)
        return -ENOMEM;
    if (prot & PROT_GROWSUP)
        return -EINVAL;                 /* no region grows up on x86-64 */
    if (prot & PROT_GROWSDOWN) {
        /* As Linux: from addr down to the start of the region that grows
         * down (the stack), which addr must be in. */
        uintptr_t base = USER_STACK_TOP - USER_STACK_SIZE;
        if (addr < base || addr >= USER_STACK_TOP)
            return -EINVAL;
        len = addr + len - base;
        addr = base;
        prot &= 7;
    }
    return mm_protect_key(current()->mm, addr, len, vm_prot(prot), pkey);
}

long sys_mprotect(uintptr_t addr, size_t len, int prot)
{
    return do_mprotect(addr, len, prot, -1);
}

/* ---- memory protection keys (pkeys(7)) ----
 * A process allocates up to 15 keys besides key 0 (mm->pkeys); pkey_alloc
 * also sets the calling thread's rights for the key in PKRU, which the
 * thread changes itself afterwards (WRPKRU) and which is switched with
 * it (sched.c). pkey_mprotect stamps a key on regions and their pages'
 * entries (uvm.c's pte_flags); the CPU then checks every data access to
 * them against PKRU, and the fault is SIGSEGV with SEGV_PKUERR (uvm.c).
 * Without the CPU feature (or with "nopku") no key is ever allocated,
 * not even key 0: pkey_alloc says EINVAL, as Linux. */
long sys_pkey_mprotect(uintptr_t addr, size_t len, int prot, int pkey)
{
    return do_mprotect(addr, len, prot, pkey);
}

long sys_pkey_alloc(unsigned long flags, unsigned long access_rights)
{
    if (flags || (access_rights & ~(unsigned long)PKEY_ACCESS_MASK))
        return -EINVAL;
    struct mm *mm = current()->mm;
    if (!cpu_pku)
        return -EINVAL;                 /* Linux: key 0 is "free" but the CPU cannot set it */
    if (mm->pkeys == 0xffff)
        return -ENOSPC;
    int key = __builtin_ctz(~(uint32_t)mm->pkeys);
    mm->pkeys |= (uint16_t)(1u << key);
    uint32_t shift = 2 * (uint32_t)key;
    wrpkru((rdpkru() & ~(3u << shift)) | ((uint32_t)access_rights << shift));
    return key;
}

long sys_pkey_free(int pkey)
{
    struct mm *mm = current()->mm;
    if (!mm_pkey_allocated(mm, pkey))
        return -EINVAL;
    /* Regions that still carry the key keep it, as on Linux. */
    mm->pkeys &= (uint16_t)~(1u << pkey);
    return 0;
}

/* MADV_REMOVE: a shared, writable mapping of memory-backed file pages
 * (tmpfs, memfd, MAP_SHARED|MAP_ANONYMOUS) gives them back: the range reads
 * as zeros in every mapping of them, as after fallocate's PUNCH_HOLE. Per
 * region in Linux's order: a locked one EINVAL, private or anonymous
 * memory EINVAL, a private mapping or one of a file opened read-only
 * EACCES (a shared mapping made PROT_READ may still be given back, as
 * Linux since 6.7 says: it could be made writable); a file system that
 * cannot punch (ext2/ext3) EOPNOTSUPP; a hole in the range ENOMEM after
 * the rest is done. */
static long madvise_remove(struct mm *mm, uintptr_t addr, size_t alen)
{
    uintptr_t end = addr + alen, at = addr;
    long gap = 0;
    for (struct vma *v = mm->vmas; v && v->start < end; v = v->next) {
        if (v->end <= at)
            continue;
        if (v->start > at)
            gap = -ENOMEM;
        if (v->flags & VMA_LOCKED)
            return -EINVAL;
        struct inode *ino = v->file ? v->file->inode : NULL;
        if (!ino)
            return -EINVAL;
        if (!(v->flags & VMA_SHARED) || (v->file->flags & O_ACCMODE) == O_RDONLY)
            return -EACCES;                     /* not shared, or could never be written */
        if (!filemap_is_memory(ino))
            return -EOPNOTSUPP;
        if ((ino->seals & SEALS_MEMFD) && (ino->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
            return -EPERM;                      /* a write-sealed memfd, as fallocate */
        uintptr_t from = MAX(v->start, at), to = MIN(v->end, end);
        uint64_t off = (v->pgoff + (from - v->start) / PAGE_SIZE) * PAGE_SIZE;
        long r = filemap_zero_range(ino, off, off + (to - from));
        if (r)
            return r;
        at = to;
    }
    return at < end ? -ENOMEM : gap;
}

long sys_madvise(uintptr_t addr, size_t len, int advice)
{
    struct mm *mm = current()->mm;
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE:
    case 10: case 11:                   /* DONTFORK, DOFORK */
    case 18: case 19:                   /* WIPEONFORK, KEEPONFORK */
    case 14: case 15:                   /* HUGEPAGE, NOHUGEPAGE */
    case 16: case 17:                   /* DONTDUMP, DODUMP */
    case 20: case 21: case 22: case 23: /* COLD, PAGEOUT, POPULATE_READ, POPULATE_WRITE */
    case 24: case 25:                   /* DONTNEED_LOCKED, COLLAPSE */
        break;
    case MADV_REMOVE:
        break;
    default:
        /* MERGEABLE and UNMERGEABLE: as a Linux built without KSM. */
        return -EINVAL;
    }
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    size_t alen = ALIGN_UP(len, PAGE_SIZE);
    if ((len && !alen) || addr + alen < addr)
        return -EINVAL;
    if (!alen)
        return 0;
    if (addr >= USER_TOP || alen > USER_TOP - addr)
        return -ENOMEM;
    if (advice == MADV_FREE) {
        /* Anonymous private memory only, as Linux; then as DONTNEED. */
        for (struct vma *v = mm->vmas; v && v->start < addr + alen; v = v->next)
            if (v->end > addr && (v->file || (v->flags & VMA_SHARED)))
                return -EINVAL;
    }
    if (advice == MADV_DONTNEED || advice == MADV_FREE) {
        /* A locked page may not be dropped (MADV_DONTNEED_LOCKED may). */
        for (struct vma *v = mm->vmas; v && v->start < addr + alen; v = v->next)
            if (v->end > addr && (v->flags & VMA_LOCKED))
                return -EINVAL;
    }
    if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == 24)
        return mm_dontneed(mm, addr, alen);
    if (advice == MADV_REMOVE)
        return madvise_remove(mm, addr, alen);
    if (advice == 18) {                     /* WIPEONFORK: private anonymous memory only */
        for (struct vma *v = mm->vmas; v && v->start < addr + alen; v = v->next)
            if (v->end > addr && (v->file || (v->flags & VMA_SHARED)))
                return -EINVAL;
    }
    if (advice == 10 || advice == 11 || (advice >= 16 && advice <= 19)) {
        /* DONTDUMP/DODUMP (the core dump's choice), DONTFORK/DOFORK and
         * WIPEONFORK/KEEPONFORK (what a fork's child gets): a region flag,
         * over a range that must be mapped throughout (ENOMEM). */
        for (uintptr_t a = addr; a < addr + alen;) {
            struct vma *v = mm->vmas;
            while (v && v->end <= a)
                v = v->next;
            if (!v || v->start > a)
                return -ENOMEM;
            a = v->end;
        }
        uint32_t flag = advice >= 18 ? VMA_WIPEONFORK : advice >= 16 ? VMA_DONTDUMP : VMA_DONTFORK;
        return mm_set_vma_flag(mm, addr, addr + alen, flag, advice == 10 || advice == 16 || advice == 18);
    }
    /* Hints: nothing to do but say whether the range was mapped. */
    for (uintptr_t a = addr; a < addr + alen;) {
        struct vma *v = mm->vmas;
        while (v && v->end <= a)
            v = v->next;
        if (!v || v->start > a)
            return -ENOMEM;
        a = v->end;
    }
    return 0;
}

long sys_msync(uintptr_t addr, size_t len, int flags)
{
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
        return -EINVAL;
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if ((flags & MS_ASYNC) && (flags & MS_SYNC))
        return -EINVAL;
    size_t alen = ALIGN_UP(len, PAGE_SIZE);
    if (addr + alen < addr || (len && !alen))
        return -ENOMEM;
    if (!alen)
        return 0;
    if (addr >= USER_TOP || alen > USER_TOP - addr)
        return -ENOMEM;
    /* MS_INVALIDATE cannot drop locked pages (Linux: EBUSY). */
    struct mm *mm = current()->mm;
    for (struct vma *v = mm->vmas; (flags & MS_INVALIDATE) && v && v->start < addr + alen;
         v = v->next)
        if (v->end > addr && (v->flags & VMA_LOCKED))
            return -EBUSY;
    /* MS_ASYNC writes back too (into the file system's cache), MS_SYNC
     * then makes it durable; MS_INVALIDATE has nothing to do: mappings
     * and the file are always one (filemap.c). */
    return mm_msync(mm, addr, alen, flags & MS_SYNC);
}

long sys_mincore(uintptr_t addr, size_t len, uint8_t *uvec)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if (addr >= USER_TOP || len > USER_TOP - addr)
        return -ENOMEM;
    size_t pages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
    uint8_t *vec = kmalloc(PAGE_SIZE);
    if (!vec)
        return -ENOMEM;
    long r = 0;
    for (size_t done = 0; done < pages && !r;) {
        size_t k = MIN(pages - done, PAGE_SIZE);
        r = mm_mincore(current()->mm, addr + done * PAGE_SIZE, k * PAGE_SIZE, vec);
        if (!r && copy_to_user(uvec + done, vec, k))
            r = -EFAULT;
        done += k;
    }
    kfree(vec);
    return r;
}

long sys_mremap(uintptr_t addr, size_t old_len, size_t new_len, int flags, uintptr_t new_addr)
{
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if (old_len > USER_TOP || new_len > USER_TOP)
        return -EINVAL;
    old_len = ALIGN_UP(old_len, PAGE_SIZE);
    new_len = ALIGN_UP(new_len, PAGE_SIZE);
    if (!new_len)
        return -EINVAL;
    /* MREMAP_DONTUNMAP is a move that leaves the old range mapped and
     * empty: never a resize (in whole pages). Without MREMAP_FIXED its
     * new_addr is only a hint, unchecked (Linux 6.18). */
    if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_len != new_len))
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && (new_addr & (PAGE_SIZE - 1)))
        return -EINVAL;
    struct mm *mm = current()->mm;
    if ((flags & MREMAP_DONTUNMAP) && !rlimit_as_allows(mm, 0, 0, new_len))
        return -ENOMEM;                 /* the old range stays: the new one counts in full */
    return mm_remap(mm, addr, old_len, new_len, flags, new_addr);
}

/* remap_file_pages(2): deprecated; as Linux since 3.16, emulated by a new
 * mapping of the same file at pgoff over [start, start+size), which must
 * lie in one MAP_SHARED file region (or neighbours of it with the same
 * file and flags); prot must be 0 and the region's own protection stays. */
long sys_remap_file_pages(uintptr_t start, size_t size, int prot, size_t pgoff, int flags)
{
    (void)flags;                            /* MAP_NONBLOCK, the only one Linux keeps */
    if (prot)
        return -EINVAL;
    start = ALIGN_DOWN(start, PAGE_SIZE);
    size = ALIGN_DOWN(size, PAGE_SIZE);
    uintptr_t end = start + size;
    if (end <= start || end > USER_TOP || pgoff + size / PAGE_SIZE < pgoff)
        return -EINVAL;
    struct mm *mm = current()->mm;
    struct vma *v = mm->vmas;
    while (v && v->end <= start)
        v = v->next;
    if (!v || v->start > start || !v->file || !(v->flags & VMA_SHARED))
        return -EINVAL;
    for (struct vma *w = v; w->end < end; w = w->next)
        if (!w->next || w->next->start != w->end || w->next->file != v->file ||
            w->next->flags != v->flags || w->next->prot != v->prot)
            return -EINVAL;
    struct file *f = file_dup(v->file);
    uint32_t vprot = v->prot, vflags = v->flags;
    mm_unmap(mm, start, size);
    /* A System V segment removed meanwhile (IPC_RMID) whose last
     * attachment this was is gone, as on Linux: nothing to map again. */
    long r = shm_file_gone(f) ? -EINVAL : mm_map_file(mm, start, size, vprot, vflags, f, pgoff);
    file_close(f);
    if (!r)
        mm_populate(mm, start, end, false);     /* MAP_POPULATE, as Linux's emulation */
    return r;
}

/* membarrier(2): the commands Vigil offers (what MEMBARRIER_CMD_QUERY
 * says); a barrier is an interrupt to each CPU running the process's
 * threads (GLOBAL: every CPU), which orders their memory accesses. The
 * private expedited ones need their registration first (EPERM); rseq's are
 * not offered (no rseq): EINVAL, as for an unknown command. */
#define MB_GLOBAL            1
#define MB_GLOBAL_EXP        2
#define MB_REG_GLOBAL_EXP    4
#define MB_PRIV_EXP          8
#define MB_REG_PRIV_EXP      16
#define MB_PRIV_EXP_SYNC     32
#define MB_REG_PRIV_EXP_SYNC 64
#define MB_GET_REGISTRATIONS 512
#define MB_OFFERED (MB_GLOBAL | MB_GLOBAL_EXP | MB_REG_GLOBAL_EXP | MB_PRIV_EXP | MB_REG_PRIV_EXP | \
                    MB_PRIV_EXP_SYNC | MB_REG_PRIV_EXP_SYNC | MB_GET_REGISTRATIONS)

long sys_membarrier(int cmd, unsigned flags, int cpu_id)
{
    (void)cpu_id;                           /* only MEMBARRIER_CMD_FLAG_CPU (rseq) reads it */
    struct mm *mm = current()->mm;
    if (flags)
        return -EINVAL;
    switch (cmd) {
    case 0:                                 /* QUERY */
        return MB_OFFERED;
    case MB_GLOBAL:
        mm_barrier_cpus(NULL);
        return 0;
    case MB_GLOBAL_EXP:
        mm_barrier_cpus(NULL);              /* registered processes among them */
        return 0;
    case MB_PRIV_EXP:
    case MB_PRIV_EXP_SYNC:
        if (!(mm->membarrier & (cmd == MB_PRIV_EXP ? MB_REG_PRIV_EXP : MB_REG_PRIV_EXP_SYNC)))
            return -EPERM;
        mm_barrier_cpus(mm);
        return 0;
    case MB_REG_GLOBAL_EXP:
    case MB_REG_PRIV_EXP:
    case MB_REG_PRIV_EXP_SYNC:
        mm->membarrier |= (uint32_t)cmd;
        return 0;
    case MB_GET_REGISTRATIONS:
        return mm->membarrier;
    default:
        return -EINVAL;
    }
}
