/* mm/vdso.c - the vDSO and the vvar page in every process: [vvar] and
 * [vdso] in /proc/PID/maps, AT_SYSINFO_EHDR in the auxiliary vector.
 *
 * Why: clock_gettime, gettimeofday, time and getcpu need no privilege and
 * are called more than any other system call; Linux answers them in user
 * space, from a small shared object it maps into every process (vdso(7)),
 * and programs (glibc, musl, LTP's clock tests) expect it there. Vigil's
 * image is vdso/vdso.c, embedded in the kernel (vdso_image.asm). It reads
 * the clock from the vvar page, which is the kernel's clock itself
 * (sys/timekeep.c, sys/vvar.h), mapped read-only into every process.
 *
 * How it is mapped. Each is a file mapping of an inode that belongs to no
 * file system, whose page cache holds the kernel's own frames (put there
 * once, at boot: filemap_install), so everything uvm.c does with file
 * mappings applies unchanged: faults map the cached frame, fork shares it,
 * munmap and mremap move or drop the mapping and never the frame, reclaim
 * never drops it (the inodes have no read op: filemap_reclaimable says no).
 *   - [vvar]: one page, MAP_SHARED without write permission ever
 *     (VMA_MAYWRITE unset: mprotect(PROT_WRITE) is EACCES, as Linux's),
 *     so every process sees the kernel's writes at once and none can write;
 *     left out of core dumps (Linux's is too).
 *   - [vdso]: the image's pages, MAP_PRIVATE read+execute: a debugger's
 *     breakpoint (ptrace POKETEXT) lands in a private copy, as on Linux.
 * The pair goes at USER_MMAP_BASE, just above where mmap's top-down search
 * starts and far below the stack (at most a gigabyte), so it moves no other
 * mapping; the vvar page is just before the image, where the image's code
 * expects it (vdso/vdso.lds).
 *
 * Locking: the inodes and frames are [const] after vdso_init; mappings are
 * made under the kernel lock like every other. */
#include "mm.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"
#include "../sys/syscall.h"
#include "../sys/vvar.h"

extern const uint8_t vdso_image[], vdso_image_end[];

static struct file *vvar_file, *vdso_file;     /* [const] after vdso_init */
static size_t vdso_pages;                       /* [const] */

static const struct inode_ops vdso_inode_ops;   /* nothing: not read, written or released */
static const struct file_ops vdso_file_ops;

static struct file *special_file(uint64_t size)
{
    struct inode *ino = kzalloc(sizeof(*ino));
    struct file *f = ino ? file_alloc(&vdso_file_ops, NULL) : NULL;
    if (!f)
        panic("vdso: out of memory");
    *ino = (struct inode){ .ino = 0, .mode = S_IFREG | 0444, .size = size, .refs = 1,
                           .ops = &vdso_inode_ops };
    f->inode = ino;
    f->flags = O_RDONLY;
    f->size = size;
    return f;
}

void vdso_init(void)
{
    ASSERT_KLOCK();
    size_t len = (size_t)(vdso_image_end - vdso_image);
    vdso_pages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
    uint64_t vvar_pa;
    struct vvar *vv = timekeep_vvar(&vvar_pa);
    _Static_assert((GDT_CPUNUM | 3) == VV_CPUNUM_SELECTOR, "the vDSO's getcpu selector");
    vv->getcpu = cpu_rdpid ? VV_GETCPU_RDPID : VV_GETCPU_LSL;
    vvar_file = special_file(PAGE_SIZE);
    vdso_file = special_file(vdso_pages * PAGE_SIZE);
    if (filemap_install(vvar_file->inode, 0, vvar_pa))
        panic("vdso: cannot install the vvar page");
    for (size_t i = 0; i < vdso_pages; i++) {
        uint64_t pa = pmm_alloc_zeroed();
        if (!pa)
            panic("vdso: out of memory");
        memcpy(P2V(pa), vdso_image + i * PAGE_SIZE, MIN(PAGE_SIZE, len - i * PAGE_SIZE));
        if (filemap_install(vdso_file->inode, i, pa))
            panic("vdso: cannot install the image");
    }
    kprintf("vdso: %lu bytes in %lu pages, getcpu by %s\n", (uint64_t)len, (uint64_t)vdso_pages,
            cpu_rdpid ? "rdpid" : "lsl");
}

/* Map [vvar] and [vdso] into mm (exec's new address space): the vDSO's
 * address (AT_SYSINFO_EHDR), or 0 if there was no room. */
uintptr_t vdso_map(struct mm *mm)
{
    if (!vdso_file)
        return 0;                               /* before vdso_init: no vDSO */
    size_t len = (1 + vdso_pages) * PAGE_SIZE;
    uintptr_t at = USER_MMAP_BASE;
    if (!mm_range_free(mm, at, len))
        at = mm_find_free(mm, len);             /* a program that put itself there */
    if (!at)
        return 0;
#ifdef BREAK_VVAR_LIVE
    /* The break switch: the process gets a copy of the clock as it was at
     * exec, not the kernel's page: clock changes never reach its vDSO. */
    uint64_t pa;
    if (mm_map(mm, at, PAGE_SIZE, VM_READ) || mm_write(mm, at, timekeep_vvar(&pa), PAGE_SIZE))
        return 0;
#else
    /* INVARIANT(mutual exclusion): every process reads the kernel's one
     * clock record, live, under its sequence count; the vvar page is
     * mapped shared, never copied (vvar.h). */
    uint32_t vprot = VM_READ;
#ifdef BREAK_VVAR_RO
    vprot |= VM_WRITE;                          /* the break switch: user space may write the clock */
#endif
    /* INVARIANT(privilege separation): only the kernel writes the clock
     * every process reads: [vvar] is mapped without write permission and
     * can never get it (no VMA_MAYWRITE: mprotect says EACCES, and
     * mm_write refuses a shared region without PROT_WRITE). */
    if (mm_map_file(mm, at, PAGE_SIZE, vprot, VMA_SHARED | VMA_DONTDUMP, vvar_file, 0))
        return 0;
#endif
    if (mm_map_file(mm, at + PAGE_SIZE, vdso_pages * PAGE_SIZE, VM_READ | VM_EXEC, 0, vdso_file, 0)) {
        mm_unmap(mm, at, PAGE_SIZE);
        return 0;
    }
    return at + PAGE_SIZE;
}

const char *vdso_region_name(const struct inode *ino)
{
    if (vvar_file && ino == vvar_file->inode)
        return "[vvar]";
    if (vdso_file && ino == vdso_file->inode)
        return "[vdso]";
    return NULL;
}
