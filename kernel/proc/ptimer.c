/* proc/ptimer.c - POSIX per-process timers: timer_create, timer_settime,
 * timer_gettime, timer_getoverrun, timer_delete.
 *
 * Why they exist beside setitimer: a process may have many, each on its
 * own clock, each sending the signal and value it asked for (coreutils'
 * timeout, and glibc's SIGEV_THREAD timers, which it builds on
 * SIGEV_THREAD_ID). Vigil keeps up to NTIMERS per process, in the leader;
 * the boot CPU's tick fires what is due (ptimer_tick_locked). A timer whose last signal is
 * still pending when it fires again counts an overrun instead of queueing
 * another (timer_getoverrun), as Linux does. Timers are not inherited by
 * fork and go at exec and exit.
 *
 * Clocks: CLOCK_REALTIME (and TAI, and the alarm clocks, root's),
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME: a timer holds its expiry and interval
 * in ns on its own clock, exact as set (timer_gettime reads them back), and
 * the tick fires it once the clock has reached it (a real-time timer set
 * for 12:00 fires at 12:00 whatever clock_settime did meanwhile). The
 * CPU-time clocks (the caller's process or thread, or any of its threads
 * or processes by clock_getcpuclockid's id) count in ticks of CPU used, so
 * their timers fire at the tick that crosses the expiry.
 *
 * Locking: the table is [sched_lock] (the tick reads and changes it); the
 * syscalls run under the kernel lock and take sched_lock around it. */
#include "proc.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../mm/mm.h"
#include "../debug/debug.h"

struct ptimer {
    bool used;
    int clock;
    int notify;                 /* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID */
    int signo;
    int tid;                    /* SIGEV_THREAD_ID's thread */
    uint64_t value;             /* sigev_value, into si_value */
    int cpu_id;                 /* a CPU-time clock's thread or process id (cpu_thread: which) */
    bool cpu_thread;
    /* Armed relative on a settable clock: it counts monotonic time (as
     * Linux: a step of the real-time clock moves only absolute timers). */
    bool on_mono;
    uint64_t expire;            /* ns on the timer's clock when it fires; 0: disarmed */
    uint64_t interval;          /* ns; 0: once */
    int64_t overrun;            /* fires missed since the last signal (capped at delivery) */
    int overrun_last;           /* ... at its delivery: timer_getoverrun */
};

struct sigevent_k {
    uint64_t value;
    int32_t signo, notify;
    int32_t tid;
    int32_t pad[11];
};

struct itimerspec_k {
    int64_t int_sec, int_nsec, val_sec, val_nsec;
};

static struct ptimer *table_of(struct proc *l) { return l->ptimers; }

/* The caller's timer id, or NULL (EINVAL); with sched_lock held. */
static struct ptimer *lookup_locked(int id)
{
    struct ptimer *t = table_of(current()->leader);
    if (!t || id < 0 || id >= NTIMERS || !t[id].used)
        return NULL;
    return &t[id];
}

static bool cpu_clock(int clock) { return clock == CLOCK_PROCESS_CPUTIME_ID ||
                                          clock == CLOCK_THREAD_CPUTIME_ID || clock < 0; }

/* The timer's clock now, in ns; with sched_lock held. A CPU-time clock
 * whose thread or process is gone reads 0 (it never fires again). */
static uint64_t clock_now_locked(const struct ptimer *t)
{
    ASSERT_HELD(&sched_lock);
    if (t->on_mono)
        return time_monotonic_ns();
    switch (t->clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_ALARM:
        return time_realtime_ns();
    case CLOCK_TAI:
        return time_realtime_ns() + (uint64_t)time_tai_offset() * 1000000000ul;
    default:
        if (!cpu_clock(t->clock))
            return time_monotonic_ns();
    }
    uint64_t ticks = 0;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        if (!q || q->state == P_DEAD || q->state == P_UNUSED)
            continue;
        if (t->cpu_thread ? q->pid == t->cpu_id : q->tgid == t->cpu_id)
            ticks += q->utime + q->stime;
    }
    return ticks * (1000000000ul / timer_hz());
}

long sys_timer_create(int clock, const void *usev, int *uid)
{
    struct proc *p = current(), *l = p->leader;
    int cpu_id = 0;
    bool cpu_thread = false;
    if (clock == 4 || clock == 5 || clock == 6)
        return -EOPNOTSUPP;                     /* MONOTONIC_RAW and the coarse clocks: no timers */
    if (cpu_clock(clock)) {
        uint64_t ns;
        if (cpu_clock_read(clock, &ns))
            return -EINVAL;                     /* no such process or thread (of ours) */
        int id = clock < 0 ? ~(clock >> 3) : 0;
        cpu_thread = clock == CLOCK_THREAD_CPUTIME_ID || (clock < 0 && (clock & 4));
        cpu_id = id ? id : cpu_thread ? p->pid : p->tgid;
    } else if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME &&
               clock != CLOCK_TAI && clock != CLOCK_REALTIME_ALARM && clock != CLOCK_BOOTTIME_ALARM) {
        return -EINVAL;
    }
    if ((clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) && p->euid != 0)
        return -EPERM;                          /* Linux: CAP_WAKE_ALARM */
    struct sigevent_k ev = { 0, SIGALRM, SIGEV_SIGNAL, 0, { 0 } };
    if (usev && copy_from_user(&ev, usev, sizeof(ev)))
        return -EFAULT;
    if (ev.notify == SIGEV_THREAD)
        ev.notify = SIGEV_SIGNAL;               /* the C library's business: a signal to the kernel */
    if (ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_NONE && ev.notify != SIGEV_THREAD_ID)
        return -EINVAL;
    if (ev.notify != SIGEV_NONE && (ev.signo < 1 || ev.signo > NSIG))
        return -EINVAL;
    if (!l->ptimers && !(l->ptimers = kzalloc(sizeof(struct ptimer) * NTIMERS)))
        return -EAGAIN;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (ev.notify == SIGEV_THREAD_ID) {
        struct proc *t = proc_find_thread(ev.tid);
        if (!t || t->tgid != p->tgid) {
            spin_unlock_irqrestore(&sched_lock, f);
            return -EINVAL;
        }
    }
    int id = -1;
    for (int i = 0; i < NTIMERS && id < 0; i++)
        if (!l->ptimers[i].used)
            id = i;
    if (id >= 0)
        l->ptimers[id] = (struct ptimer){ .used = true, .clock = clock, .notify = ev.notify,
                                          .signo = ev.signo, .tid = ev.tid,
                                          .value = usev ? ev.value : (uint64_t)id,
                                          .cpu_id = cpu_id, .cpu_thread = cpu_thread };
    spin_unlock_irqrestore(&sched_lock, f);
    if (id < 0)
        return -EAGAIN;                         /* Linux: too many timers */
    if (copy_to_user(uid, &id, sizeof(id))) {
        f = spin_lock_irqsave(&sched_lock);
        l->ptimers[id].used = false;
        spin_unlock_irqrestore(&sched_lock, f);
        return -EFAULT;
    }
    return 0;
}

static uint64_t ns_of(int64_t s, int64_t ns) { return ts_to_ns_sat(s, ns); }

/* sched_lock held. */
static void to_its(const struct ptimer *t, struct itimerspec_k *o)
{
    uint64_t now = clock_now_locked(t);
    uint64_t left = t->expire ? (t->expire > now ? t->expire - now : 1) : 0;
    *o = (struct itimerspec_k){ (int64_t)(t->interval / 1000000000), (int64_t)(t->interval % 1000000000),
                                (int64_t)(left / 1000000000), (int64_t)(left % 1000000000) };
}

long sys_timer_settime(int id, int flags, const void *unew, void *uold)
{
    struct itimerspec_k nv, old;
    if (!unew)
        return -EINVAL;
    if (copy_from_user(&nv, unew, sizeof(nv)))
        return -EFAULT;
    if (nv.int_sec < 0 || nv.int_nsec < 0 || nv.int_nsec >= 1000000000 ||
        nv.val_sec < 0 || nv.val_nsec < 0 || nv.val_nsec >= 1000000000)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct ptimer *t = lookup_locked(id);
    if (!t) {
        spin_unlock_irqrestore(&sched_lock, f);
        return -EINVAL;
    }
    to_its(t, &old);
    t->on_mono = !(flags & TIMER_ABSTIME) && (t->clock == CLOCK_REALTIME || t->clock == CLOCK_TAI ||
                                              t->clock == CLOCK_REALTIME_ALARM);
    uint64_t val = ns_of(nv.val_sec, nv.val_nsec), now = clock_now_locked(t);
    if (val && !(flags & TIMER_ABSTIME))
        val = val > UINT64_MAX - now ? UINT64_MAX : now + val;
    t->expire = val;                            /* a time already past fires at the next tick */
    t->interval = val ? ns_of(nv.int_sec, nv.int_nsec) : 0;
    t->overrun = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    return uold && copy_to_user(uold, &old, sizeof(old)) ? -EFAULT : 0;
}

long sys_timer_gettime(int id, void *ucur)
{
    struct itimerspec_k cur;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct ptimer *t = lookup_locked(id);
    if (t)
        to_its(t, &cur);
    spin_unlock_irqrestore(&sched_lock, f);
    if (!t)
        return -EINVAL;
    return copy_to_user(ucur, &cur, sizeof(cur)) ? -EFAULT : 0;
}

long sys_timer_getoverrun(int id)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct ptimer *t = lookup_locked(id);
    long r = t ? t->overrun_last : -EINVAL;
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long sys_timer_delete(int id)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct ptimer *t = lookup_locked(id);
    if (t)
        t->used = false;
    spin_unlock_irqrestore(&sched_lock, f);
    return t ? 0 : -EINVAL;
}

/* The boot CPU's tick: fire l's due timers; with sched_lock held. */
void ptimer_tick_locked(struct proc *l, uint64_t tick)
{
    ASSERT_HELD(&sched_lock);
    (void)tick;
    for (int id = 0; id < NTIMERS; id++) {
        struct ptimer *t = &l->ptimers[id];
        if (!t->used || !t->expire)
            continue;
        uint64_t now = clock_now_locked(t);
        if (t->expire > now)
            continue;
        int64_t missed = 0;
        if (t->interval) {
            /* The periods that went by: one signal, the rest overruns. */
            uint64_t periods = (now - t->expire) / t->interval;
            missed = periods > INT32_MAX ? INT32_MAX : (int64_t)periods;
            uint64_t step, next;
            if (__builtin_mul_overflow(periods + 1, t->interval, &step) ||
                __builtin_add_overflow(t->expire, step, &next))
                next = UINT64_MAX;
            t->expire = next;
        } else {
            t->expire = 0;
        }
        if (t->notify == SIGEV_NONE)
            continue;
        struct proc *to = t->notify == SIGEV_THREAD_ID ? proc_find_thread(t->tid) : NULL;
        if (t->notify == SIGEV_THREAD_ID && (!to || to->tgid != l->tgid))
            continue;
        struct proc *target = to ? to : signal_target_locked(l, t->signo);
        if (!target)
            continue;
        if (signal_timer_pending_locked(target, t->signo, id)) {
            t->overrun += 1 + missed;           /* its last one is still pending */
        } else {
            t->overrun += missed;               /* periods it fired late for */
            /* si_timerid sits where si_pid does */
            signal_send_info_locked(target, t->signo, id, SI_TIMER, t->value);
        }
        if (t->overrun > INT32_MAX)
            t->overrun = INT32_MAX;             /* DELAYTIMER_MAX: the count saturates */
    }
}

int ptimer_delivered_locked(struct proc *l, int id)
{
    ASSERT_HELD(&sched_lock);
    struct ptimer *t = l->ptimers;
    if (!t || id < 0 || id >= NTIMERS || !t[id].used)
        return 0;
    t[id].overrun_last = (int)t[id].overrun;
    t[id].overrun = 0;
    return t[id].overrun_last;
}

/* exec and exit: the process's timers go. */
void ptimer_release(struct proc *l)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct ptimer *t = l->ptimers;
    l->ptimers = NULL;
    spin_unlock_irqrestore(&sched_lock, f);
    kfree(t);
}
