/* sys/sys_mm.c - brk, mmap, munmap, mprotect (anonymous private memory). */
#include "sys.h"
#include "../proc/proc.h"
#include "../lib/abi.h"

static uint32_t vm_prot(int prot)
{
    return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
           (prot & PROT_EXEC ? VM_EXEC : 0);
}

long sys_brk(uintptr_t addr)
{
    return mm_brk(current()->mm, addr);
}

long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)
{
    struct mm *mm = current()->mm;
    (void)fd;
    if (!len || len > USER_TOP || (off & (PAGE_SIZE - 1)) || (prot & ~7))
        return -EINVAL;
    int type = flags & 3;
    if (type != MAP_PRIVATE && type != MAP_SHARED)
        return -EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return -ENODEV;                 /* file mappings come with the VFS */
    if (type == MAP_SHARED)
        return -EINVAL;                 /* shared anonymous memory: not yet */
    len = ALIGN_UP(len, PAGE_SIZE);
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (addr & (PAGE_SIZE - 1))
            return -EINVAL;
        if (addr >= USER_TOP || len > USER_TOP - addr)
            return -ENOMEM;
        if (flags & MAP_FIXED_NOREPLACE) {
            for (uintptr_t a = addr; a < addr + len; a += PAGE_SIZE)
                if (mm_prot_at(mm, a))
                    return -EEXIST;
        } else {
            mm_unmap(mm, addr, len);
        }
    } else {
        addr = mm_find_free(mm, len);
        if (!addr)
            return -ENOMEM;
    }
    long r = mm_map(mm, addr, len, vm_prot(prot));
    return r ? r : (long)addr;
}

long sys_munmap(uintptr_t addr, size_t len)
{
    if ((addr & (PAGE_SIZE - 1)) || !len || addr >= USER_TOP || len > USER_TOP - addr)
        return -EINVAL;
    return mm_unmap(current()->mm, addr, len);
}

long sys_mprotect(uintptr_t addr, size_t len, int prot)
{
    if ((addr & (PAGE_SIZE - 1)) || (prot & ~(7 | PROT_GROWSDOWN | PROT_GROWSUP)))
        return -EINVAL;
    if (!len)
        return 0;
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
    return mm_protect(current()->mm, addr, len, vm_prot(prot));
}

long sys_madvise(uintptr_t addr, size_t len, int advice)
{
    (void)len, (void)advice;
    return (addr & (PAGE_SIZE - 1)) ? -EINVAL : 0;
}
