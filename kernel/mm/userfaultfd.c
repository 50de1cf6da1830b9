/* mm/userfaultfd.c - userfaultfd(2): a program answers its own page faults.
 *
 * A userfaultfd serves the address space it was made in. UFFDIO_REGISTER
 * (MISSING mode, private anonymous regions) points regions at it
 * (vma->uffd). From then on a touch of a page there that has no frame does
 * not get a zeroed one: the faulting thread queues a message (event
 * PAGEFAULT, the page's address, WRITE if a write) and waits; a reader
 * (read(2), poll) takes the message and fills the page with UFFDIO_COPY
 * (from its own memory) or UFFDIO_ZEROPAGE, which wake the waiters of the
 * range (UFFDIO_WAKE alone wakes them to fault again). The access is then
 * tried again and finds its page. mremap's MREMAP_DONTUNMAP leaves the old
 * range registered and empty: the use mremap07 makes of it.
 *
 * What is not here, as on a Linux without the features: write-protect and
 * minor modes, the fork/remap/remove events, file and shared memory.
 *
 * Lifetime: the fd holds the address space (mm_get, so registered regions
 * never point at a freed uffd: its release unregisters them all) and one
 * reference on the uffd; each waiting thread holds another, so the last of
 * them frees it. Waiters and messages are [sched_lock]; registrations are
 * the regions' [klock]. */
#include "mm.h"
#include "../fs/poll.h"
#include "../fs/file.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../debug/debug.h"

/* One thread waiting for a page, on its kernel stack. */
struct uffd_wait {
    uintptr_t addr;                     /* the page */
    bool write;
    bool read;                          /* its message went to a reader */
    bool woken;                         /* filled or woken: try again */
    struct uffd_wait *next;
};

struct uffd {
    struct mm *mm;                      /* [const] the address space served (a reference) */
    bool api;                           /* [klock] UFFDIO_API was called */
    bool user_only;                     /* [const] UFFD_USER_MODE_ONLY: a syscall's copy gets EFAULT */
    bool released;                      /* [sched_lock] the fd went: waiters give up */
    int refs;                           /* [sched_lock] the file's one, and one per waiter */
    struct uffd_wait *waits;            /* [sched_lock] in fault order */
    struct waitq wq;                    /* readers and pollers, and the waiters */
};

struct uffd_msg_u {                     /* Linux's struct uffd_msg, 32 bytes */
    uint8_t event, reserved1;
    uint16_t reserved2;
    uint32_t reserved3;
    uint64_t flags, address, ptid;
};

struct uffdio_range_u { uint64_t start, len; };

static void uffd_put_locked(struct uffd *u)
{
    ASSERT_HELD(&sched_lock);
    if (--u->refs == 0)
        kfree(u);
}

int uffd_handle_fault(struct mm *mm, struct vma *v, uintptr_t addr, bool write, bool user)
{
    ASSERT_KLOCK();
    (void)mm;
    struct uffd *u = v->uffd;
    if (!user && u->user_only)
        return -EFAULT;
    struct uffd_wait w = { .addr = ALIGN_DOWN(addr, PAGE_SIZE), .write = write };
    uint64_t f = spin_lock_irqsave(&sched_lock);
    u->refs++;
    struct uffd_wait **tail = &u->waits;
    while (*tail)
        tail = &(*tail)->next;
    *tail = &w;
    waitq_notify_locked(&u->wq, POLLIN | POLLRDNORM);
    /* From user mode a signal ends the wait (the access faults again after
     * the handler); a syscall's copy gives up only for a fatal one. */
    while (!w.woken && !u->released &&
           !(user ? proc_signal_pending() : proc_fatal_signal_pending()))
        waitq_sleep_locked(&u->wq);
    for (struct uffd_wait **pp = &u->waits; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    bool done = w.woken || u->released;
    uffd_put_locked(u);
    spin_unlock_irqrestore(&sched_lock, f);
    return done || user ? 0 : -EFAULT;
}

/* Wake the threads waiting for a page of [start, start + len). */
static void wake_range(struct uffd *u, uintptr_t start, uint64_t len)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (struct uffd_wait *w = u->waits; w; w = w->next)
        if (w->addr >= start && w->addr - start < len)
            w->woken = true;
    waitq_notify_locked(&u->wq, 0);
    spin_unlock_irqrestore(&sched_lock, f);
}

static long uffd_read(struct file *fl, void *ubuf, size_t n)
{
    struct uffd *u = fl->priv;
    if (n < sizeof(struct uffd_msg_u))
        return -EINVAL;
    struct uffd_msg_u msgs[4];
    size_t want = MIN(n / sizeof(msgs[0]), 4), got = 0;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (;;) {
        for (struct uffd_wait *w = u->waits; w && got < want; w = w->next) {
            if (w->read || w->woken)
                continue;
            w->read = true;
            msgs[got++] = (struct uffd_msg_u){ .event = UFFD_EVENT_PAGEFAULT, .address = w->addr,
                                               .flags = w->write ? UFFD_PAGEFAULT_FLAG_WRITE : 0 };
        }
        if (got)
            break;
        long r = (fl->flags & O_NONBLOCK) ? -EAGAIN : proc_signal_pending() ? -EINTR : 0;
        if (r) {
            spin_unlock_irqrestore(&sched_lock, f);
            return r;
        }
        waitq_sleep_locked(&u->wq);
        file_check(fl, "uffd_read");
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return copy_to_user(ubuf, msgs, got * sizeof(msgs[0])) ? -EFAULT : (long)(got * sizeof(msgs[0]));
}

static uint32_t uffd_poll(struct file *fl, struct poll_table *pt)
{
    struct uffd *u = fl->priv;
    /* As Linux: a blocking uffd polls as an error (a message may be taken
     * back by a wake before the read). */
    if (!(fl->flags & O_NONBLOCK) || !u->api)
        return POLLERR;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &u->wq);
    uint32_t mask = 0;
    for (struct uffd_wait *w = u->waits; w; w = w->next)
        if (!w->read && !w->woken)
            mask = POLLIN | POLLRDNORM;
    spin_unlock_irqrestore(&sched_lock, f);
    return mask;
}

/* Linux's validate_range: page aligned, not empty, inside user space. */
static int check_range(uint64_t start, uint64_t len)
{
    if ((start | len) & (PAGE_SIZE - 1) || !len || start < PAGE_SIZE * 16 ||
        start >= USER_TOP || len > USER_TOP - start)
        return -EINVAL;
    return 0;
}

static long uffd_register(struct uffd *u, void *uarg)
{
    struct { struct uffdio_range_u range; uint64_t mode, ioctls; } reg;
    if (copy_from_user(&reg, uarg, sizeof(reg)))
        return -EFAULT;
    if (reg.mode != UFFDIO_REGISTER_MODE_MISSING)
        return -EINVAL;                 /* WP and MINOR are not offered */
    uint64_t start = reg.range.start, len = reg.range.len;
    long r = check_range(start, len);
    if (r)
        return r;
    struct mm *mm = u->mm;
    bool any = false;
    for (uintptr_t a = start; a < start + len;) {
        struct vma *v = mm_vma_at(mm, a);
        if (!v) {                       /* a hole: go on at the next region */
            a += PAGE_SIZE;
            continue;
        }
        if (v->file)
            return -EINVAL;             /* anonymous private memory only */
        if (v->uffd && v->uffd != u)
            return -EBUSY;
        any = true;
        a = v->end;
    }
    if (!any)
        return -EINVAL;
    if ((r = mm_set_uffd(mm, start, start + len, NULL, u)))
        return r;
    reg.ioctls = (1ul << _UFFDIO_WAKE) | (1ul << _UFFDIO_COPY) | (1ul << _UFFDIO_ZEROPAGE);
    return copy_to_user(uarg, &reg, sizeof(reg)) ? -EFAULT : 0;
}

/* UFFDIO_COPY and UFFDIO_ZEROPAGE: fill [dst, dst + len) page by page, from
 * the caller's src or with zeros; the bytes done go to *done (or the errno
 * when none were), 0 if all were, -EAGAIN if some. */
static long uffd_fill(struct uffd *u, uint64_t dst, uint64_t src, uint64_t len, bool dontwake,
                      int64_t *done)
{
    long r = check_range(dst, len);
    if (r)
        return r;
    uint8_t *page = NULL;
    if (src && !(page = kmalloc(PAGE_SIZE)))
        return -ENOMEM;
    uint64_t off = 0;
    for (; off < len; off += PAGE_SIZE) {
        if (page && copy_from_user(page, (const void *)(src + off), PAGE_SIZE)) {
            r = -EFAULT;
            break;
        }
        if ((r = mm_uffd_fill(u->mm, u, dst + off, page)))
            break;
    }
    kfree(page);
    *done = off ? (int64_t)off : r;
    if (!off)
        return r;
    if (!dontwake)
        wake_range(u, dst, off);
    return off == len ? 0 : -EAGAIN;
}

static long uffd_ioctl(struct file *fl, unsigned long cmd, unsigned long arg)
{
    struct uffd *u = fl->priv;
    void *uarg = (void *)arg;
    if (cmd == UFFDIO_API) {
        struct { uint64_t api, features, ioctls; } a;
        if (copy_from_user(&a, uarg, sizeof(a)))
            return -EFAULT;
        long r = 0;
        if (a.api != UFFD_API || a.features || u->api) {
            r = -EINVAL;                /* no optional features are offered; once only */
            a.api = a.features = a.ioctls = 0;
        } else {
            a.ioctls = (1ul << _UFFDIO_REGISTER) | (1ul << _UFFDIO_UNREGISTER) | (1ul << _UFFDIO_API);
        }
        if (copy_to_user(uarg, &a, sizeof(a)))
            return -EFAULT;
        if (!r)
            u->api = true;
        return r;
    }
    if (!u->api)
        return -EINVAL;
    switch (cmd) {
    case UFFDIO_REGISTER:
        return uffd_register(u, uarg);
    case UFFDIO_UNREGISTER:
    case UFFDIO_WAKE: {
        struct uffdio_range_u rg;
        if (copy_from_user(&rg, uarg, sizeof(rg)))
            return -EFAULT;
        long r = check_range(rg.start, rg.len);
        if (!r && cmd == UFFDIO_UNREGISTER)
            r = mm_set_uffd(u->mm, rg.start, rg.start + rg.len, u, NULL);
        if (!r)
            wake_range(u, rg.start, rg.len);
        return r;
    }
    case UFFDIO_COPY: {
        struct { uint64_t dst, src, len, mode; int64_t copy; } c;
        if (copy_from_user(&c, uarg, sizeof(c)))
            return -EFAULT;
        if (c.mode & ~(uint64_t)UFFDIO_COPY_MODE_DONTWAKE)
            return -EINVAL;
        if (c.src + c.len <= c.src)
            return -EINVAL;
        long r = uffd_fill(u, c.dst, c.src, c.len, c.mode & UFFDIO_COPY_MODE_DONTWAKE, &c.copy);
        if (r != -EINVAL && copy_to_user((char *)uarg + 32, &c.copy, 8))
            return -EFAULT;
        return r;
    }
    case UFFDIO_ZEROPAGE: {
        struct { struct uffdio_range_u range; uint64_t mode; int64_t zeropage; } z;
        if (copy_from_user(&z, uarg, sizeof(z)))
            return -EFAULT;
        if (z.mode & ~(uint64_t)UFFDIO_ZEROPAGE_MODE_DONTWAKE)
            return -EINVAL;
        long r = uffd_fill(u, z.range.start, 0, z.range.len, z.mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE,
                           &z.zeropage);
        if (r != -EINVAL && copy_to_user((char *)uarg + 24, &z.zeropage, 8))
            return -EFAULT;
        return r;
    }
    default:
        return -EINVAL;
    }
}

static void uffd_release(struct file *fl)
{
    struct uffd *u = fl->priv;
    /* Its regions fault as usual again (the kernel lock: close and exit
     * hold it), and every waiter tries its access again. */
    mm_set_uffd(u->mm, 0, USER_TOP, u, NULL);
    struct mm *mm = u->mm;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    u->released = true;
    waitq_notify_locked(&u->wq, POLLHUP);
    uffd_put_locked(u);
    spin_unlock_irqrestore(&sched_lock, f);
    mm_put(mm);
}

static const struct file_ops uffd_ops = {
    .read = uffd_read, .poll = uffd_poll, .ioctl = uffd_ioctl, .stat = file_anon_stat,
    .release = uffd_release,
};

long sys_userfaultfd(int flags)
{
    struct proc *p = current();
    /* vm.unprivileged_userfaultfd is 0: others may serve user-mode faults only. */
    if (p->euid != 0 && !(flags & UFFD_USER_MODE_ONLY))
        return -EPERM;
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY))
        return -EINVAL;
    struct uffd *u = kzalloc(sizeof(*u));
    struct file *fl = u ? file_alloc(&uffd_ops, u) : NULL;
    if (!fl) {
        kfree(u);
        return -ENOMEM;
    }
    u->mm = p->mm;
    mm_get(u->mm);
    u->refs = 1;
    u->user_only = flags & UFFD_USER_MODE_ONLY;
    fl->flags = O_RDWR | (flags & O_NONBLOCK);
    int fd = fd_install(fl, 0, flags & O_CLOEXEC);
    if (fd < 0)
        file_close(fl);
    return fd;
}
