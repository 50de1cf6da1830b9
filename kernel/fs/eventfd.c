/* fs/eventfd.c - eventfd(2): a 64-bit counter as a file.
 *
 * The smallest pollable object, and the one programs use to wake an event
 * loop from another thread: write adds to the counter (waiting while it
 * would pass 0xfffffffffffffffe), read takes it all, or one with
 * EFD_SEMAPHORE (waiting while it is 0). Readable iff the counter is not 0,
 * writable iff one more can be added; every change notifies the waitq
 * (fs/poll.h), and blocking reads and writes sleep on that same waitq. */
#include "poll.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

#define EFD_MAX 0xfffffffffffffffeull

struct eventfd {
    uint64_t count;                     /* [sched_lock] */
    bool semaphore;                     /* [const] */
    struct waitq wq;
};

static long efd_read(struct file *f, void *ubuf, size_t n)
{
    struct eventfd *e = f->priv;
    if (n < 8)
        return -EINVAL;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (e->count == 0) {
        long r = (f->flags & O_NONBLOCK) ? -EAGAIN : proc_signal_pending() ? -EINTR : 0;
        if (r) {
            spin_unlock_irqrestore(&sched_lock, fl);
            return r;
        }
        waitq_sleep_locked(&e->wq);
        file_check(f, "eventfd_read");
    }
    uint64_t v = e->semaphore ? 1 : e->count;
    e->count -= v;
    waitq_notify_locked(&e->wq, POLLOUT | POLLWRNORM);
    spin_unlock_irqrestore(&sched_lock, fl);
    return copy_to_user(ubuf, &v, 8) ? -EFAULT : 8;
}

static long efd_write(struct file *f, const void *ubuf, size_t n)
{
    struct eventfd *e = f->priv;
    uint64_t v;
    if (n < 8)
        return -EINVAL;
    if (copy_from_user(&v, ubuf, 8))
        return -EFAULT;
    if (v == UINT64_MAX)
        return -EINVAL;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (EFD_MAX - e->count < v) {
        long r = (f->flags & O_NONBLOCK) ? -EAGAIN : proc_signal_pending() ? -EINTR : 0;
        if (r) {
            spin_unlock_irqrestore(&sched_lock, fl);
            return r;
        }
        waitq_sleep_locked(&e->wq);
        file_check(f, "eventfd_write");
    }
    e->count += v;
    if (v)
        waitq_notify_locked(&e->wq, POLLIN | POLLRDNORM);
    spin_unlock_irqrestore(&sched_lock, fl);
    return 8;
}

static uint32_t efd_poll(struct file *f, struct poll_table *pt)
{
    struct eventfd *e = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &e->wq);
    uint32_t mask = 0;
    if (e->count > 0)
        mask |= POLLIN | POLLRDNORM;
    if (e->count == UINT64_MAX)
        mask |= POLLERR;
    if (EFD_MAX > e->count)
        mask |= POLLOUT | POLLWRNORM;
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static void efd_release(struct file *f) { kfree(f->priv); }

static const struct file_ops eventfd_ops = {
    .read = efd_read, .write = efd_write, .poll = efd_poll, .stat = file_anon_stat, .release = efd_release,
};

long sys_eventfd2(unsigned initval, int flags)
{
    if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
        return -EINVAL;
    struct eventfd *e = kzalloc(sizeof(*e));
    struct file *f = e ? file_alloc(&eventfd_ops, e) : NULL;
    if (!f) {
        kfree(e);
        return -ENOMEM;
    }
    e->count = initval;
    e->semaphore = flags & EFD_SEMAPHORE;
    f->flags = O_RDWR | (flags & O_NONBLOCK);
    int fd = fd_install(f, 0, flags & EFD_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

long sys_eventfd(unsigned initval) { return sys_eventfd2(initval, 0); }
