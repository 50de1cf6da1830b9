/* arch/x86_64/uaccess.c - checked copies between kernel and user memory.
 * INVARIANT(privilege separation): every user pointer a syscall is given is
 * range-checked to lie in the user half, and touched only by usercopy.asm,
 * whose faults turn into -EFAULT (trap.c) instead of a kernel oops. */
#include "arch.h"
#include "../../lib/errno.h"
#include "../../mm/mm.h"
#include "../../lib/string.h"
#include "../../proc/proc.h"

size_t uaccess_copy(void *dst, const void *src, size_t n);
long   uaccess_strncpy(char *dst, const char *src, size_t max);

/* SMAP: open the window to user pages only around the copy itself. */
static inline void user_access_begin(void) { if (this_cpu()->smap) __asm__ volatile("stac" ::: "memory"); }
static inline void user_access_end(void) { if (this_cpu()->smap) __asm__ volatile("clac" ::: "memory"); }

bool user_range_ok(uintptr_t addr, size_t n)
{
#ifdef BREAK_USERCOPY
    (void)addr, (void)n;
    return true;
#else
    return addr < USER_TOP && n <= USER_TOP - addr;
#endif
}

/* Is [a, a+n) inside the kernel buffer the current thread lent to a file
 * op (struct proc's kio_base: splice)? Only that range, nothing else of the
 * kernel's, passes as "user" memory. */
static bool kio_window(uintptr_t a, size_t n)
{
    struct proc *p = this_cpu()->current;
    return p && p->kio_len && a >= p->kio_base && n <= p->kio_len && a - p->kio_base <= p->kio_len - n;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
    if (kio_window((uintptr_t)usrc, n)) {
        memcpy(dst, usrc, n);
        return 0;
    }
    if (!user_range_ok((uintptr_t)usrc, n) || !mm_user_readable((uintptr_t)usrc, n))
        return -EFAULT;
    user_access_begin();
    size_t left = uaccess_copy(dst, usrc, n);
    user_access_end();
    return left ? -EFAULT : 0;
}

int copy_to_user(void *udst, const void *src, size_t n)
{
    if (kio_window((uintptr_t)udst, n)) {
        memcpy(udst, src, n);
        return 0;
    }
    if (!user_range_ok((uintptr_t)udst, n))
        return -EFAULT;
    user_access_begin();
    size_t left = uaccess_copy(udst, src, n);
    user_access_end();
    return left ? -EFAULT : 0;
}

long strncpy_from_user(char *dst, const char *usrc, size_t max)
{
    uintptr_t a = (uintptr_t)usrc;
    if (!user_range_ok(a, 1))
        return -EFAULT;
    size_t lim = MIN(max, USER_TOP - a);
    /* A page at a time: each must be readable (mm_user_readable) as far as
     * the string goes, and no further. */
    size_t done = 0;
    while (done < lim) {
        size_t piece = MIN(lim - done, PAGE_SIZE - ((a + done) & (PAGE_SIZE - 1)));
        if (!mm_user_readable(a + done, piece))
            return -EFAULT;
        user_access_begin();
        long n = uaccess_strncpy(dst + done, usrc + done, piece);
        user_access_end();
        if (n < 0)
            return -EFAULT;
        if ((size_t)n < piece)
            return (long)(done + (size_t)n);
        done += piece;
    }
    return lim == max ? -ENAMETOOLONG : -EFAULT;
}

int uaccess_cmpxchg32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur);

int cmpxchg_user32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur)
{
    if (((uintptr_t)uaddr & 3) || !user_range_ok((uintptr_t)uaddr, 4))
        return -EFAULT;
    user_access_begin();
    int r = uaccess_cmpxchg32(uaddr, old, new, cur);
    user_access_end();
    return r ? -EFAULT : 0;
}
