/* proc/ptimer.c - POSIX per-process timers: timer_create, timer_settime,
 * timer_gettime, timer_getoverrun, timer_delete.
 *
 * Why they exist beside setitimer: a process may have many, each on its
 * own clock, each sending the signal and value it asked for (coreutils'
 * timeout, and glibc's SIGEV_THREAD timers, which it builds on
 * SIGEV_THREAD_ID). Vigil keeps up to NTIMERS per process, in the leader,
 * counted in timer ticks like the interval timers: the boot CPU's tick
 * fires what is due (ptimer_tick_locked). A timer whose last signal is
 * still pending when it fires again counts an overrun instead of queueing
 * another (timer_getoverrun), as Linux does. Timers are not inherited by
 * fork and go at exec and exit.
 *
 * Clocks: CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME (the same
 * ticks here; TIMER_ABSTIME converts from the clock asked). CPU-time
 * clocks are EINVAL (not supported).
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
    uint64_t expire;            /* the tick it fires at; 0: disarmed */
    uint64_t interval;          /* ticks; 0: once */
    int overrun, overrun_last;  /* fires missed since the last signal; at its delivery */
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

long sys_timer_create(int clock, const void *usev, int *uid)
{
    struct proc *p = current(), *l = p->leader;
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
        return -EINVAL;
    struct sigevent_k ev = { 0, SIGALRM, SIGEV_SIGNAL, 0, { 0 } };
    if (usev && copy_from_user(&ev, usev, sizeof(ev)))
        return -EFAULT;
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
        l->ptimers[id] = (struct ptimer){ true, clock, ev.notify, ev.signo, ev.tid,
                                          usev ? ev.value : (uint64_t)id, 0, 0, 0, 0 };
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

static void to_its(const struct ptimer *t, struct itimerspec_k *o)
{
    uint64_t tick_ns = 1000000000ul / timer_hz(), now = timer_ticks();
    uint64_t left = t->expire ? (t->expire > now ? t->expire - now : 1) * tick_ns : 0;
    uint64_t iv = t->interval * tick_ns;
    *o = (struct itimerspec_k){ (int64_t)(iv / 1000000000), (int64_t)(iv % 1000000000),
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
    uint64_t val = ns_of(nv.val_sec, nv.val_nsec);
    if (val && (flags & TIMER_ABSTIME)) {
        uint64_t now = t->clock == CLOCK_REALTIME ? time_realtime_ns() : time_monotonic_ns();
        val = val > now ? val - now : 1;        /* already past: at the next tick */
    }
    t->expire = val ? tick_deadline_sat(ns_to_ticks_sat(val)) : 0;
    t->interval = val ? ns_to_ticks_sat(ns_of(nv.int_sec, nv.int_nsec)) : 0;
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
void ptimer_tick_locked(struct proc *l, uint64_t now)
{
    ASSERT_HELD(&sched_lock);
    for (int id = 0; id < NTIMERS; id++) {
        struct ptimer *t = &l->ptimers[id];
        if (!t->used || !t->expire || t->expire > now)
            continue;
        int missed = 0;
        if (t->interval) {
            while (t->expire <= now) {
                t->expire += t->interval;
                missed++;
            }
            missed--;                           /* the one being signalled now */
        } else {
            t->expire = 0;
        }
        if (t->notify == SIGEV_NONE)
            continue;
        struct proc *to = t->notify == SIGEV_THREAD_ID ? proc_find_thread(t->tid) : NULL;
        if (t->notify == SIGEV_THREAD_ID && (!to || to->tgid != l->tgid))
            continue;
        uint64_t bit = 1ul << (t->signo - 1);
        struct proc *target = to ? to : signal_target_locked(l, t->signo);
        if (!target)
            continue;
        if ((target->sig_pending & bit) && target->sig_code[t->signo - 1] == SI_TIMER &&
            (int)target->sig_sender[t->signo - 1] == id) {
            t->overrun += 1 + missed;           /* its last one is still pending */
            continue;
        }
        t->overrun += missed;                   /* periods it fired late for */
        signal_send_locked(target, t->signo, id);   /* si_timerid sits where si_pid does */
        target->sig_code[t->signo - 1] = SI_TIMER;
        target->sig_value[t->signo - 1] = t->value;
    }
}

int ptimer_delivered_locked(struct proc *l, int id)
{
    ASSERT_HELD(&sched_lock);
    struct ptimer *t = l->ptimers;
    if (!t || id < 0 || id >= NTIMERS || !t[id].used)
        return 0;
    t[id].overrun_last = t[id].overrun;
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
