/* fs/poll.c - wait queues, and poll(2), ppoll, select(2) and pselect6.
 *
 * Why wait queues: a thread that waits for one of many objects cannot sleep
 * on all their channels at once, so instead it hangs an entry on each
 * object's wait queue and sleeps on something of its own; whichever object
 * changes first runs the entry's callback, which wakes it. poll.h gives the
 * three-step rule that makes this lose no wake-up on several CPUs; here it
 * is carried out: poll_wait registers under sched_lock before the file
 * reads its state, waitq_notify_locked runs the callbacks under sched_lock
 * after the change, and the poller sleeps only while `triggered` is false,
 * tested under sched_lock.
 *
 * poll and select are one loop (do_poll): ask every file (registering on
 * the first pass only), stop if something is ready, the time is up or a
 * signal is pending, else sleep until an entry fires or the deadline, and
 * ask again. The files watched are held by a reference each entry takes,
 * so a close in another thread cannot free a wait queue we hang on.
 *
 * Time: the deadline is kept in monotonic nanoseconds; the sleep itself is
 * in timer ticks, rounded up, and checked against the clock on waking, so a
 * timeout never ends early, and select/ppoll/pselect6 write back the time
 * left as Linux does (0 once it ran out). */
#include "poll.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

/* ---- wait queues ---- */

void waitq_add_locked(struct waitq *wq, struct wait_entry *e)
{
    ASSERT_HELD(&sched_lock);
    e->wq = wq;
    e->next = wq->first;
    e->pprev = &wq->first;
    if (wq->first)
        wq->first->pprev = &e->next;
    wq->first = e;
}

void waitq_del_locked(struct wait_entry *e)
{
    ASSERT_HELD(&sched_lock);
    if (!e->wq)
        return;
    *e->pprev = e->next;
    if (e->next)
        e->next->pprev = e->pprev;
    e->next = NULL;
    e->pprev = NULL;
    e->wq = NULL;
}

void waitq_notify_locked(struct waitq *wq, uint32_t events)
{
    ASSERT_HELD(&sched_lock);
#ifndef BREAK_POLL_WAKE
    /* INVARIANT(mutual exclusion): every waiter registered on the object
     * hears of the change (poll.h: no wake-up falls between a waiter's
     * check and its sleep). A callback may take its own entry off (epoll
     * does not; poll does not), so the next one is read first. */
    /* Exclusive entries (EPOLLEXCLUSIVE, epoll(7)): of those, only
     * the first whose callback reaches a waiting thread is told (Linux's
     * nr_exclusive = 1), so one event wakes one of many epoll_waits on the
     * same file instead of all of them (a thundering herd). */
    bool exclusive_done = false;
    for (struct wait_entry *e = wq->first, *n; e; e = n) {
        n = e->next;
        if (e->exclusive && exclusive_done)
            continue;
        if (e->func(e, events) && e->exclusive)
            exclusive_done = true;
#ifdef BREAK_EPOLL_EXCL
        exclusive_done = false;         /* the break switch: every exclusive waiter is told */
#endif
    }
#else
    (void)events;                       /* the break switch: waiters are never told */
#endif
    if (wq->sleepers)
        wakeup_locked(wq);
}

void waitq_notify(struct waitq *wq, uint32_t events)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    waitq_notify_locked(wq, events);
    spin_unlock_irqrestore(&sched_lock, f);
}

void waitq_sleep_locked(struct waitq *wq)
{
    ASSERT_HELD(&sched_lock);
    wq->sleepers++;
    sleep_locked(wq);
    wq->sleepers--;
}

void poll_wait_locked(struct poll_table *pt, struct waitq *wq)
{
    ASSERT_HELD(&sched_lock);
    if (pt && pt->qproc)
        pt->qproc(pt, wq);
}

void poll_wait(struct poll_table *pt, struct waitq *wq)
{
    if (!pt || !pt->qproc)
        return;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    pt->qproc(pt, wq);
    spin_unlock_irqrestore(&sched_lock, f);
}

uint32_t file_poll(struct file *f, struct poll_table *pt)
{
    ASSERT_KLOCK();
    return f->ops->poll ? f->ops->poll(f, pt) : DEFAULT_POLLMASK;
}

/* ---- sleeping until an entry fires, a signal, or a deadline ---- */

/* One sleep on chan, with sched_lock held: -EINTR if a signal is pending,
 * -ETIMEDOUT if the monotonic clock reached end_ns (UINT64_MAX: never),
 * else 0 after a wake-up (the caller tests its condition again). */
long poll_sleep_locked(void *chan, uint64_t end_ns)
{
    ASSERT_HELD(&sched_lock);
    struct proc *p = current();
    if (proc_signal_pending())
        return -EINTR;
    uint64_t now = time_monotonic_ns();
    if (now >= end_ns)
        return -ETIMEDOUT;
    p->wake_tick = end_ns == UINT64_MAX ? 0 : tick_deadline_sat(ns_to_ticks_sat(end_ns - now));
    sleep_locked(chan);
    p->wake_tick = 0;
    return 0;
}

/* A relative timeout to a deadline: 0 stays 0 (do not wait at all). */
uint64_t poll_deadline(uint64_t timeout_ns)
{
    uint64_t end;
    if (timeout_ns == 0)
        return 0;
    if (timeout_ns == UINT64_MAX || __builtin_add_overflow(time_monotonic_ns(), timeout_ns, &end))
        return UINT64_MAX;
    return end;
}

/* ---- the poll table of poll and select ---- */

struct poll_entry {
    struct wait_entry we;
    struct file *file;                  /* a reference, while queued */
};

/* Entries come in chunks: the first few on the poller's stack (most calls
 * watch a handful of files, and then poll allocates nothing, as Linux's
 * inline entries), then pages from the heap. */
#define INLINE_ENTRIES 6
#define PAGE_ENTRIES   ((4096 - 32) / sizeof(struct poll_entry))

struct poll_chunk {
    struct poll_chunk *next;            /* older chunks */
    size_t used, cap;
    struct poll_entry *e;
};

struct poll_wqueues {
    struct poll_table pt;               /* first: qproc finds us from it */
    struct proc *thread;                /* [const] the poller */
    bool triggered;                     /* [sched_lock] an entry fired since the last sleep */
    struct poll_chunk *chunks;          /* [self] newest first; the last is first_chunk */
    struct poll_chunk first_chunk;
    struct poll_entry inline_e[INLINE_ENTRIES];
};

static bool pollwake(struct wait_entry *e, uint32_t events)
{
    (void)events;
    struct poll_wqueues *pw = e->owner;
    pw->triggered = true;
    struct proc *t = pw->thread;
    if (t->state == P_SLEEPING && t->chan == pw)
        make_runnable_locked(t);
    return true;
}

static void pw_queue(struct poll_table *pt, struct waitq *wq)
{
    struct poll_wqueues *pw = (struct poll_wqueues *)pt;
    struct poll_chunk *c = pw->chunks;
    /* pw_reserve made room for POLL_MAX_WAITQS before the file was asked. */
    if (c->used == c->cap) {
        kprintf("vigil: poll: a file registered on more than %d wait queues\n", POLL_MAX_WAITQS);
        return;
    }
    struct poll_entry *pe = &c->e[c->used++];
    pe->we.func = pollwake;
    pe->we.owner = pw;
    pe->we.exclusive = false;
    pe->we.wq = NULL;
    pe->file = NULL;                    /* the caller takes the reference */
    waitq_add_locked(wq, &pe->we);
}

static int pw_reserve(struct poll_wqueues *pw)
{
    if (pw->chunks->used + POLL_MAX_WAITQS <= pw->chunks->cap)
        return 0;
    struct poll_chunk *c = kmalloc(sizeof(*c) + PAGE_ENTRIES * sizeof(struct poll_entry));
    if (!c)
        return -ENOMEM;
    c->next = pw->chunks;
    c->used = 0;
    c->cap = PAGE_ENTRIES;
    c->e = (struct poll_entry *)(c + 1);
    pw->chunks = c;
    return 0;
}

/* Ask f, registering pw: the new entries each take a reference to f (no
 * sleep between: the kernel lock keeps f in its slot meanwhile). */
static uint32_t pw_poll(struct poll_wqueues *pw, struct file *f, bool reg, int *err)
{
    if (!reg)
        return file_poll(f, NULL);
    if (pw_reserve(pw)) {
        *err = -ENOMEM;
        return 0;
    }
    struct poll_chunk *c = pw->chunks;
    size_t before = c->used;
    uint32_t mask = file_poll(f, &pw->pt);
    for (size_t i = before; i < c->used; i++)
        c->e[i].file = file_dup(f);
    return mask;
}

static void pw_init(struct poll_wqueues *pw)
{
    pw->pt.qproc = pw_queue;
    pw->thread = current();
    pw->triggered = false;
    pw->first_chunk = (struct poll_chunk){ NULL, 0, INLINE_ENTRIES, pw->inline_e };
    pw->chunks = &pw->first_chunk;
}

static void pw_free(struct poll_wqueues *pw)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    for (struct poll_chunk *c = pw->chunks; c; c = c->next)
        for (size_t i = 0; i < c->used; i++)
            waitq_del_locked(&c->e[i].we);
    spin_unlock_irqrestore(&sched_lock, fl);
    for (struct poll_chunk *c = pw->chunks, *next; c; c = next) {
        next = c->next;
        for (size_t i = 0; i < c->used; i++)
            if (c->e[i].file)
                file_close(c->e[i].file);
        if (c != &pw->first_chunk)
            kfree(c);
    }
}

/* Sleep until an entry fires, a signal or end_ns: 0, -EINTR, -ETIMEDOUT. */
static long pw_wait(struct poll_wqueues *pw, uint64_t end_ns)
{
    long r = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (!pw->triggered && !(r = poll_sleep_locked(pw, end_ns)))
        ;
    pw->triggered = false;
    spin_unlock_irqrestore(&sched_lock, fl);
    return r;
}

/* ---- poll, ppoll ---- */

struct pollfd_k {
    int32_t fd;
    int16_t events, revents;
};

/* The count of entries with revents, or -EINTR / -ENOMEM. */
static long do_poll(struct pollfd_k *fds, size_t nfds, uint64_t end_ns)
{
    struct poll_wqueues pw;
    pw_init(&pw);
    struct fdtable *fdt = current()->fdt;
    bool reg = end_ns != 0, timed_out = false;
    long count;
    for (;;) {
        int err = 0;
        count = 0;
        for (size_t i = 0; i < nfds; i++) {
            uint32_t mask = 0;
            int fd = fds[i].fd;
            if (fd >= 0) {
                struct file *f = fdt_file(fdt, fd);
                if (!f)
                    mask = POLLNVAL;
                else
                    mask = pw_poll(&pw, f, reg, &err) &
                           ((uint16_t)fds[i].events | POLLERR | POLLHUP);
                if (err) {
                    pw_free(&pw);
                    return err;
                }
            }
            fds[i].revents = (int16_t)mask;
            if (mask) {
                count++;
                reg = false;            /* something is ready: no need to wait */
            }
        }
        reg = false;
        if (count || timed_out || end_ns == 0)
            break;
        long r = pw_wait(&pw, end_ns);
        if (r == -EINTR) {
            count = -EINTR;
            break;
        }
        timed_out = r == -ETIMEDOUT;    /* one more look, then 0 */
    }
    pw_free(&pw);
    return count;
}

/* Apply a caller's temporary signal mask (ppoll, pselect6, epoll_pwait):
 * 0, or -EINVAL/-EFAULT. *saved gets the mask to put back. */
long poll_set_sigmask(const void *umask, size_t size, bool *set, uint64_t *saved)
{
    *set = false;
    if (!umask)
        return 0;
    if (size != 8)
        return -EINVAL;
    uint64_t mask;
    if (copy_from_user(&mask, umask, 8))
        return -EFAULT;
    struct proc *p = current();
    *saved = p->sig_blocked;
    *set = true;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    p->sig_blocked = mask & ~((1ul << (SIGKILL - 1)) | (1ul << (SIGSTOP - 1)));
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

/* Put the mask back: at once, or, when the call was cut short by a signal,
 * after its handler has run (its sigreturn restores it, as rt_sigsuspend's). */
void poll_restore_sigmask(bool set, uint64_t saved, long ret)
{
    if (!set)
        return;
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (ret == -EINTR) {
        p->sig_saved_mask = saved;
        p->sig_mask_saved = true;
    } else {
        p->sig_blocked = saved;
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

static long sys_poll_common(struct pollfd_k *ufds, uint64_t nfds, uint64_t end_ns)
{
    if (nfds > (uint64_t)fd_limit())           /* RLIMIT_NOFILE, as Linux */
        return -EINVAL;
    struct pollfd_k *fds = nfds ? kmalloc(nfds * sizeof(*fds)) : NULL;
    if (nfds && !fds)
        return -ENOMEM;
    long r = -EFAULT;
    if (!nfds || !copy_from_user(fds, ufds, nfds * sizeof(*fds))) {
        r = do_poll(fds, nfds, end_ns);
        for (uint64_t i = 0; i < nfds && r != -ENOMEM; i++)
            if (copy_to_user(&ufds[i].revents, &fds[i].revents, sizeof(fds[i].revents))) {
                r = -EFAULT;
                break;
            }
    }
    kfree(fds);
    return r;
}

/* A poll with a timeout, cut short by a signal: with no handler run it goes
 * on as restart_syscall to the same end (Linux's do_restart_poll); one
 * without a timeout starts again as it was. */
long poll_restart(struct pollfd_k *ufds, uint64_t nfds, uint64_t end_ns)
{
    long r = sys_poll_common(ufds, nfds, end_ns);
    if (r == -EINTR && end_ns != UINT64_MAX) {
        current()->restart = (struct restart_block){ .kind = RESTART_POLL, .end = end_ns,
                                                     .uptr = ufds, .n = nfds };
        r = -ERESTART_RESTARTBLOCK;
    }
    return r;
}

long sys_poll(void *ufds, unsigned nfds, int timeout_ms)
{
    uint64_t end = timeout_ms < 0 ? UINT64_MAX : poll_deadline((uint64_t)timeout_ms * 1000000ul);
    return poll_restart(ufds, nfds, end);
}

struct timespec_k {
    int64_t sec, nsec;
};

/* Linux's poll_select_set_timeout check: a valid, non-negative time. */
static bool ts_valid(int64_t sec, int64_t nsec)
{
    return sec >= 0 && nsec >= 0 && nsec < 1000000000;
}

/* Write back the time left to end_ns (select, pselect6, ppoll): not for a
 * zero timeout, and a failed write is ignored, as on Linux. */
static void write_left(void *ut, uint64_t end_ns, bool timeval)
{
    if (!ut || end_ns == 0 || end_ns == UINT64_MAX)
        return;
    if (current()->leader->personality & STICKY_TIMEOUTS)
        return;                                 /* personality(2): the timeout stays as given */
    uint64_t now = time_monotonic_ns(), left = end_ns > now ? end_ns - now : 0;
    struct timespec_k t = { (int64_t)(left / 1000000000), (int64_t)(left % 1000000000) };
    if (timeval)
        t.nsec /= 1000;
    (void)copy_to_user(ut, &t, sizeof(t));
}

long sys_ppoll(void *ufds, unsigned nfds, const void *uts, const void *umask, size_t size)
{
    uint64_t end = UINT64_MAX;
    if (uts) {
        struct timespec_k ts;
        if (copy_from_user(&ts, uts, sizeof(ts)))
            return -EFAULT;
        if (!ts_valid(ts.sec, ts.nsec))
            return -EINVAL;
        end = poll_deadline(ts_to_ns_sat(ts.sec, ts.nsec));
    }
    bool set;
    uint64_t saved;
    long r = poll_set_sigmask(umask, size, &set, &saved);
    if (r)
        return r;
    r = sys_poll_common(ufds, nfds, end);
    poll_restore_sigmask(set, saved, r);
    write_left((void *)uts, end, false);
    return r;
}

/* ---- select, pselect6 ---- */

#define SEL_IN  (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define SEL_OUT (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define SEL_EX  POLLPRI

/* The three sets, and the three answers, as n bits each: n is clamped to
 * the descriptor table's size (Linux's max_fds: bits past it are not looked
 * at), and the user's sets are copied in as (n + 63) / 64 words, so they
 * live in one allocation of six bitmaps, never in fixed words on the stack. */

static bool bit_at(const uint64_t *set, int fd)
{
    return (set[fd / 64] >> (fd % 64)) & 1;
}

static long do_select(int n, void *uin, void *uout, void *uex, uint64_t end_ns)
{
    if (n < 0)
        return -EINVAL;
    struct fdtable *fdt = current()->fdt;
    if (n > fdt->max)
        n = fdt->max;                   /* Linux: clamped to the table's size (it never shrinks) */
    size_t words = (size_t)(n + 63) / 64, bytes = words * 8;
    uint64_t *w = kzalloc(6 * (words ? words : 1) * sizeof(uint64_t));
    if (!w)
        return -ENOMEM;
    uint64_t *in = w, *out = w + words, *ex = w + 2 * words;
    uint64_t *rin = w + 3 * words, *rout = w + 4 * words, *rex = w + 5 * words;
    long count = 0;
    if ((uin && copy_from_user(in, uin, bytes)) || (uout && copy_from_user(out, uout, bytes)) ||
        (uex && copy_from_user(ex, uex, bytes))) {
        count = -EFAULT;
        goto done;
    }
    if (n % 64) {                       /* bits past n are not looked at */
        uint64_t valid = (1ul << (n % 64)) - 1;
        in[words - 1] &= valid, out[words - 1] &= valid, ex[words - 1] &= valid;
    }
    for (int fd = 0; fd < n; fd++)
        if ((bit_at(in, fd) || bit_at(out, fd) || bit_at(ex, fd)) && !fdt_file(fdt, fd)) {
            count = -EBADF;
            goto done;
        }

    struct poll_wqueues pw;
    pw_init(&pw);
    bool reg = end_ns != 0, timed_out = false;
    for (;;) {
        int err = 0;
        count = 0;
        memset(rin, 0, 3 * words * sizeof(uint64_t));
        for (int fd = 0; fd < n; fd++) {
            bool i = bit_at(in, fd), o = bit_at(out, fd), e = bit_at(ex, fd);
            if (!i && !o && !e)
                continue;
            uint64_t bit = 1ul << (fd % 64);
            struct file *f = fdt_file(fdt, fd);
            if (!f) {                   /* closed while we slept */
                pw_free(&pw);
                count = -EBADF;
                goto done;
            }
            uint32_t mask = pw_poll(&pw, f, reg, &err);
            if (err) {
                pw_free(&pw);
                count = err;
                goto done;
            }
            if (i && (mask & SEL_IN))
                rin[fd / 64] |= bit, count++;
            if (o && (mask & SEL_OUT))
                rout[fd / 64] |= bit, count++;
            if (e && (mask & SEL_EX))
                rex[fd / 64] |= bit, count++;
            if (count)
                reg = false;
        }
        reg = false;
        if (count || timed_out || end_ns == 0)
            break;
        long r = pw_wait(&pw, end_ns);
        if (r == -EINTR) {
            pw_free(&pw);
            count = -EINTR;
            goto done;
        }
        timed_out = r == -ETIMEDOUT;
    }
    pw_free(&pw);
    if ((uin && copy_to_user(uin, rin, bytes)) || (uout && copy_to_user(uout, rout, bytes)) ||
        (uex && copy_to_user(uex, rex, bytes)))
        count = -EFAULT;
done:
    kfree(w);
    return count;
}

long sys_select(int n, void *uin, void *uout, void *uex, void *utv)
{
    uint64_t end = UINT64_MAX;
    if (utv) {
        struct timespec_k tv;           /* sec, usec */
        if (copy_from_user(&tv, utv, sizeof(tv)))
            return -EFAULT;
        /* Linux normalises the microseconds first (1500000 us is 1.5 s). */
        int64_t sec = tv.sec + tv.nsec / 1000000, nsec = tv.nsec % 1000000 * 1000;
        if (!ts_valid(sec, nsec))
            return -EINVAL;
        end = poll_deadline(ts_to_ns_sat(sec, nsec));
    }
    long r = do_select(n, uin, uout, uex, end);
    write_left(utv, end, true);
    return r;
}

long sys_pselect6(int n, void *uin, void *uout, void *uex, void *uts, const void *usig)
{
    uint64_t end = UINT64_MAX;
    if (uts) {
        struct timespec_k ts;
        if (copy_from_user(&ts, uts, sizeof(ts)))
            return -EFAULT;
        if (!ts_valid(ts.sec, ts.nsec))
            return -EINVAL;
        end = poll_deadline(ts_to_ns_sat(ts.sec, ts.nsec));
    }
    /* The sixth argument: { const sigset_t *ss; size_t ss_len; }. */
    uint64_t sig[2] = { 0, 0 };
    if (usig && copy_from_user(sig, usig, sizeof(sig)))
        return -EFAULT;
    bool set;
    uint64_t saved;
    long r = poll_set_sigmask((const void *)sig[0], sig[1], &set, &saved);
    if (r)
        return r;
    r = do_select(n, uin, uout, uex, end);
    poll_restore_sigmask(set, saved, r);
    write_left(uts, end, false);
    return r;
}
