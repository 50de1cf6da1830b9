/* fs/timerfd.c - timerfd_create(2): a timer as a file.
 *
 * A timer expires at next_ns on its clock and then every interval_ns; a
 * read returns how many expirations happened since the last read (waiting
 * for the first), and the file is readable while that count is not 0. The
 * count is brought up to date from the clock wherever it is looked at
 * (read, poll, gettime), and the boot CPU's timer tick does the same for
 * every armed timer, which is what notifies the waitq (fs/poll.h) and wakes
 * the waiters at the expiry, to the tick (10 ms). */
#include "poll.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../debug/debug.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

struct timerfd {
    int clockid;                        /* [const] CLOCK_REALTIME or MONOTONIC (BOOTTIME) */
    uint64_t next_ns;                   /* [sched_lock] next expiry on the clock (0: off) */
    uint64_t interval_ns;               /* [sched_lock] 0: once */
    uint64_t ticks;                     /* [sched_lock] expirations not yet read */
    struct waitq wq;
    struct timerfd *anext, **apprev;    /* [sched_lock] on `armed` while next_ns */
};

static struct timerfd *armed;           /* [sched_lock] */

static uint64_t clock_now(const struct timerfd *t)
{
    return t->clockid == CLOCK_REALTIME ? time_realtime_ns() : time_monotonic_ns();
}

static void tfd_arm_locked(struct timerfd *t)
{
    if (t->apprev)
        return;
    t->anext = armed;
    t->apprev = &armed;
    if (armed)
        armed->apprev = &t->anext;
    armed = t;
}

static void tfd_disarm_locked(struct timerfd *t)
{
    if (!t->apprev)
        return;
    *t->apprev = t->anext;
    if (t->anext)
        t->anext->apprev = t->apprev;
    t->anext = NULL;
    t->apprev = NULL;
}

/* Count the expirations up to now; sched_lock held. */
/* Count the expirations up to now. The tick (tick_path) tells the waiters
 * of every expiry, as Linux's timer interrupt does; a read or a poll that
 * finds expirations tells them only when the timer becomes readable (ticks
 * was 0). A poll that itself woke its own waiters at every look spun for
 * ever, holding the kernel lock, on a timer that is always expired (an
 * interval of 1 ns) polled for something else than POLLIN: trinity found it. */
static void tfd_expire_locked(struct timerfd *t, uint64_t now, bool tick_path)
{
    if (!t->next_ns || now < t->next_ns)
        return;
    uint64_t n = 1, step;
    bool was_readable = t->ticks != 0;
    if (t->interval_ns) {
        n += (now - t->next_ns) / t->interval_ns;
        if (__builtin_mul_overflow(n, t->interval_ns, &step) ||
            __builtin_add_overflow(t->next_ns, step, &t->next_ns))
            t->next_ns = UINT64_MAX;            /* past the clock's end: never again */
    } else {
        t->next_ns = 0;
        tfd_disarm_locked(t);
    }
    t->ticks += n;
    if (tick_path || !was_readable)
        waitq_notify_locked(&t->wq, POLLIN | POLLRDNORM);
}

static void tfd_update_locked(struct timerfd *t, uint64_t now) { tfd_expire_locked(t, now, false); }

void timerfd_tick_locked(void)
{
    ASSERT_HELD(&sched_lock);
    for (struct timerfd *t = armed, *n; t; t = n) {
        n = t->anext;
        tfd_expire_locked(t, clock_now(t), true);
    }
}

static long tfd_read(struct file *f, void *ubuf, size_t n)
{
    struct timerfd *t = f->priv;
    if (n < 8)
        return -EINVAL;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    for (;;) {
        tfd_update_locked(t, clock_now(t));
        if (t->ticks)
            break;
        long r = (f->flags & O_NONBLOCK) ? -EAGAIN : proc_signal_pending() ? -EINTR : 0;
        if (r) {
            spin_unlock_irqrestore(&sched_lock, fl);
            return r;
        }
        waitq_sleep_locked(&t->wq);
        file_check(f, "timerfd_read");
    }
    uint64_t v = t->ticks;
    t->ticks = 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    return copy_to_user(ubuf, &v, 8) ? -EFAULT : 8;
}

static uint32_t tfd_poll(struct file *f, struct poll_table *pt)
{
    struct timerfd *t = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &t->wq);
    tfd_update_locked(t, clock_now(t));
    uint32_t mask = t->ticks ? POLLIN | POLLRDNORM : 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static void tfd_release(struct file *f)
{
    struct timerfd *t = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    tfd_disarm_locked(t);
    spin_unlock_irqrestore(&sched_lock, fl);
    kfree(t);
}

static const struct file_ops timerfd_ops = {
    .read = tfd_read, .poll = tfd_poll, .stat = file_anon_stat, .release = tfd_release,
};

long sys_timerfd_create(int clockid, int flags)
{
    if ((flags & ~(TFD_NONBLOCK | TFD_CLOEXEC)) ||
        (clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC && clockid != CLOCK_BOOTTIME &&
         clockid != CLOCK_REALTIME_ALARM && clockid != CLOCK_BOOTTIME_ALARM))
        return -EINVAL;
    if ((clockid == CLOCK_REALTIME_ALARM || clockid == CLOCK_BOOTTIME_ALARM) && current()->euid)
        return -EPERM;                  /* CAP_WAKE_ALARM */
    struct timerfd *t = kzalloc(sizeof(*t));
    struct file *f = t ? file_alloc(&timerfd_ops, t) : NULL;
    if (!f) {
        kfree(t);
        return -ENOMEM;
    }
    t->clockid = clockid == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : clockid;
    f->flags = O_RDONLY | (flags & O_NONBLOCK);
    int fd = fd_install(f, 0, flags & TFD_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

struct itimerspec_k {
    int64_t int_sec, int_nsec, val_sec, val_nsec;
};

static bool ts_ok(int64_t sec, int64_t nsec)
{
    return sec >= 0 && nsec >= 0 && nsec < 1000000000;
}

/* The current setting (time left, interval); sched_lock held. */
static struct itimerspec_k tfd_get_locked(struct timerfd *t)
{
    uint64_t now = clock_now(t);
    tfd_update_locked(t, now);
    uint64_t left = t->next_ns ? t->next_ns - now : 0;
    struct itimerspec_k v = {
        (int64_t)(t->interval_ns / 1000000000), (int64_t)(t->interval_ns % 1000000000),
        (int64_t)(left / 1000000000), (int64_t)(left % 1000000000),
    };
    return v;
}

static struct timerfd *tfd_of(int fd, long *err)
{
    struct file *f = fd_get(fd);
    *err = !f ? -EBADF : f->ops != &timerfd_ops ? -EINVAL : 0;
    return *err ? NULL : f->priv;
}

long sys_timerfd_settime(int fd, int flags, const void *unew, void *uold)
{
    struct itimerspec_k nv, old;
    if (copy_from_user(&nv, unew, sizeof(nv)))
        return -EFAULT;
    if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
        !ts_ok(nv.int_sec, nv.int_nsec) || !ts_ok(nv.val_sec, nv.val_nsec))
        return -EINVAL;
    long err;
    struct timerfd *t = tfd_of(fd, &err);
    if (!t)
        return err;
    uint64_t value = ts_to_ns_sat(nv.val_sec, nv.val_nsec);
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    old = tfd_get_locked(t);
    t->ticks = 0;
    t->interval_ns = ts_to_ns_sat(nv.int_sec, nv.int_nsec);
    if (value == 0) {
        t->next_ns = 0;
        tfd_disarm_locked(t);
    } else {
        uint64_t now = clock_now(t), at;
        if (flags & TFD_TIMER_ABSTIME)
            at = value;
        else if (__builtin_add_overflow(now, value, &at))
            at = UINT64_MAX;
        t->next_ns = at;
        tfd_arm_locked(t);
        tfd_update_locked(t, now);      /* an absolute time already past: now */
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

long sys_timerfd_gettime(int fd, void *ucur)
{
    long err;
    struct timerfd *t = tfd_of(fd, &err);
    if (!t)
        return err;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct itimerspec_k v = tfd_get_locked(t);
    spin_unlock_irqrestore(&sched_lock, fl);
    return copy_to_user(ucur, &v, sizeof(v)) ? -EFAULT : 0;
}
