/* sys/sys_proc.c - process syscalls. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../proc/sched_internal.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../debug/debug.h"
#include "../arch/x86_64/cpu.h"
#include "../fs/file.h"
#include "../fs/poll.h"

long sys_fork(void) { return proc_fork(); }

long sys_execve(const char *path, char *const argv[], char *const envp[])
{
    return exec(path, argv, envp, true);
}

long sys_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    return exec_at(dirfd, path, argv, envp, flags, true);
}

long sys_exit(int code) { proc_exit(W_EXITED(code)); }
long sys_exit_group(int code) { proc_exit_group(W_EXITED(code)); }

long sys_clone(uint64_t flags, uintptr_t newsp, int *ptid, int *ctid, uint64_t tls)
{
    /* clone(2) puts CLONE_PIDFD's descriptor where the parent's tid would go. */
    if ((flags & CLONE_PIDFD) && (flags & CLONE_PARENT_SETTID))
        return -EINVAL;
    return proc_clone(flags, newsp, ptid, ctid, tls, ptid);
}

long sys_vfork(void) { return proc_clone(CLONE_VFORK | CLONE_VM | SIGCHLD, 0, NULL, NULL, 0, NULL); }

long sys_futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout, uint32_t *uaddr2,
               uint32_t val3)
{
    return futex_op(uaddr, op, val, timeout, uaddr2, val3);
}

long sys_tgkill(int tgid, int tid, int sig) { return tgid <= 0 ? -EINVAL : proc_tgkill(tgid, tid, sig); }
long sys_tkill(int tid, int sig) { return proc_tgkill(-1, tid, sig); }

long sys_wait4(int pid, int *status, int options, void *rusage)
{
    return proc_wait4(pid, status, options, rusage);
}

long sys_waitid(int idtype, int id, void *info, int options, void *rusage)
{
    return proc_waitid(idtype, id, info, options, rusage);
}

long sys_kill(int pid, int sig) { return proc_kill(pid, sig); }
long sys_getpid(void) { return current()->tgid; }
long sys_gettid(void) { return current()->pid; }
long sys_getppid(void) { struct proc *p = current()->leader; return p->parent ? p->parent->tgid : 0; }

long sys_set_tid_address(int *tidptr)
{
    current()->clear_child_tid = (uintptr_t)tidptr;
    return current()->pid;                      /* the thread id */
}

long sys_sched_yield(void)
{
    yield();
    return 0;
}

struct timespec {
    int64_t sec, nsec;
};

/* Sleep until CLOCK_MONOTONIC reads end, as POSIX promises: never early.
 * Sleeps are counted in timer ticks, and ticks are not the clock: the tick
 * running when the sleep began is partly gone, and a tick the host
 * delivered late shifts the rest. So sleep again for whatever the clock
 * says is left. Cut short by a signal: what is left goes to urem, and the
 * end is kept for restart_syscall (-ERESTART_RESTARTBLOCK: signal.c makes
 * it EINTR if a handler runs, the rest of the sleep if none does). */
static long sleep_until(uint64_t end, void *urem)
{
    uint64_t now;
    long r = 0;
    while (!r && (now = time_monotonic_ns()) < end)
        r = sleep_ticks(ns_to_ticks_sat(end - now));
    if (!r)
        return 0;
    if (urem) {
        now = time_monotonic_ns();
        uint64_t left = now < end ? end - now : 0;
        struct timespec rem = { (int64_t)(left / 1000000000), (int64_t)(left % 1000000000) };
        if (copy_to_user(urem, &rem, sizeof(rem)))
            return -EFAULT;
    }
    current()->restart = (struct restart_block){ .kind = RESTART_NANOSLEEP, .end = end, .uptr = urem };
    return -ERESTART_RESTARTBLOCK;
}

static long sleep_ns(uint64_t ns, void *urem)
{
    uint64_t end;
    if (__builtin_add_overflow(time_monotonic_ns(), ns, &end))
        end = UINT64_MAX;
    return sleep_until(end, urem);
}

/* restart_syscall(2): the rest of the sleep a signal cut short with no
 * handler run (signal.c puts the thread back on this call); -EINTR if
 * there is none (a program calling it itself), as Linux. */
long sys_restart_syscall(void)
{
    struct proc *p = current();
    struct restart_block b = p->restart;
    p->restart.kind = RESTART_NONE;
    switch (b.kind) {
    case RESTART_NANOSLEEP: return sleep_until(b.end, b.uptr);
    case RESTART_POLL: return poll_restart(b.uptr, b.n, b.end);
    case RESTART_FUTEX: return futex_restart(&b);
    default: return -EINTR;
    }
}

long sys_nanosleep(const void *ureq, void *urem)
{
    struct timespec req;
    if (copy_from_user(&req, ureq, sizeof(req)))
        return -EFAULT;
    if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1000000000)
        return -EINVAL;
    return sleep_ns(ts_to_ns_sat(req.sec, req.nsec), urem);
}

long sys_clock_nanosleep(int clk, int flags, const void *ureq, void *urem)
{
    struct timespec req;
    /* Linux: clocks without a sleep of their own (the thread's CPU clock,
     * the raw and coarse ones) are EOPNOTSUPP; unknown ids EINVAL. */
    if (clk == 3 || clk == 4 || clk == 5 || clk == 6 || (clk < 0 && (clk & 4)))
        return -EOPNOTSUPP;
    if (clk != 0 && clk != 1 && clk != 2 && clk != 7 && clk != 8 && clk != 9 && clk != CLOCK_TAI)
        return -EINVAL;
    if ((clk == 8 || clk == 9) && current()->euid != 0)
        return -EPERM;                                  /* the alarm clocks: CAP_WAKE_ALARM */
    if (copy_from_user(&req, ureq, sizeof(req)))
        return -EFAULT;
    if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1000000000)
        return -EINVAL;
    uint64_t ns = ts_to_ns_sat(req.sec, req.nsec);
    if (clk == 2) {
        /* The process's CPU clock: until its threads have used that much more. */
        uint64_t start = cpu_time_ns(true), end = (flags & 1) ? ns : start + ns, now;
        long r = 0;
        while (!r && (now = cpu_time_ns(true)) < end)
            r = sleep_ticks(1);
        if (r && urem && !(flags & 1)) {
            uint64_t left = end - cpu_time_ns(true);
            struct timespec rem = { (int64_t)(left / 1000000000), (int64_t)(left % 1000000000) };
            if (copy_to_user(urem, &rem, sizeof(rem)))
                return -EFAULT;
        }
        return r;
    }
    if (!(flags & 1))                                   /* relative: monotonic time */
        return sleep_ns(ns, urem);
    if (clk == 1 || clk == 7)
        return sleep_until(ns, NULL);
    /* TIMER_ABSTIME on the real-time clock: it may be set or step back (a
     * leap second) while we sleep, so wake, look at it again, and sleep on
     * until it reads the target: never early. */
    uint64_t tai = clk == CLOCK_TAI ? (uint64_t)time_tai_offset() * 1000000000ul : 0;
    for (;;) {
        uint64_t now = time_realtime_ns() + tai;
        if (now >= ns)
            return 0;
        uint64_t left = ns - now;
        long r = sleep_ticks(ns_to_ticks_sat(left > 10000000 ? left - 5000000 : left));
        if (r)
            return r;
    }
}

/* ---- interval timers: setitimer, getitimer, alarm ---- */

struct itimerval_k {
    int64_t int_sec, int_usec, val_sec, val_usec;
};

static uint64_t tv_to_ns(int64_t sec, int64_t usec) { return ts_to_ns_sat(sec, usec * 1000); }

static void ns_to_tv(uint64_t ns, int64_t *sec, int64_t *usec)
{
    uint64_t us = ns / 1000 + (ns % 1000 != 0);        /* a running timer never reads 0 */
    *sec = (int64_t)(us / 1000000);
    *usec = (int64_t)(us % 1000000);
}

/* The timer's state now; with sched_lock held. */
static struct itimerval_k itimer_get_locked(struct proc *l, int which)
{
    struct itimerval_k v;
    uint64_t now = time_monotonic_ns();
    uint64_t left = which == ITIMER_REAL ?
        (l->itimer_real_at ? (l->itimer_real_at > now ? l->itimer_real_at - now : 1) : 0) :
        l->itimer_left[which];
    ns_to_tv(left, &v.val_sec, &v.val_usec);
    ns_to_tv(l->itimer_interval[which], &v.int_sec, &v.int_usec);
    return v;
}

static long itimer_set(int which, const struct itimerval_k *nv, struct itimerval_k *old)
{
    if (which < ITIMER_REAL || which > ITIMER_PROF)
        return -EINVAL;
    if (nv && (nv->val_sec < 0 || nv->val_usec < 0 || nv->val_usec >= 1000000 ||
               nv->int_sec < 0 || nv->int_usec < 0 || nv->int_usec >= 1000000))
        return -EINVAL;
    struct proc *l = current()->leader;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (old)
        *old = itimer_get_locked(l, which);
    if (nv) {
        uint64_t val = tv_to_ns(nv->val_sec, nv->val_usec), now = time_monotonic_ns();
        l->itimer_interval[which] = val ? tv_to_ns(nv->int_sec, nv->int_usec) : 0;
        if (which == ITIMER_REAL)                       /* saturating: UINT64_MAX is never */
            l->itimer_real_at = !val ? 0 : val > UINT64_MAX - now ? UINT64_MAX : now + val;
        else
            l->itimer_left[which] = val;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

long sys_setitimer(int which, const void *unew, void *uold)
{
    struct itimerval_k nv, old;
    if (unew && copy_from_user(&nv, unew, sizeof(nv)))
        return -EFAULT;
    long r = itimer_set(which, unew ? &nv : NULL, &old);
    if (!r && uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return r;
}

long sys_getitimer(int which, void *ucur)
{
    struct itimerval_k cur;
    long r = itimer_set(which, NULL, &cur);
    if (!r && copy_to_user(ucur, &cur, sizeof(cur)))
        return -EFAULT;
    return r;
}

/* alarm(2): ITIMER_REAL once; the seconds the old one had left, rounded
 * as Linux rounds them (to the nearest, and never 0 if it was running). */
long sys_alarm(unsigned secs)
{
    struct itimerval_k nv = { 0, 0, secs, 0 }, old;
    itimer_set(ITIMER_REAL, &nv, &old);
    long left = old.val_sec;
    if ((old.val_usec >= 500000) || (!left && old.val_usec))
        left++;
    return left;
}

long sys_getrusage(int who, void *uru)
{
    struct proc *p = current();
    uint8_t ru[144];
    if (who == RUSAGE_SELF) {                   /* every thread of the process */
        uint64_t ut = 0, st = 0;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *q = sched_proc_at(i);
            if (q && q->tgid == p->tgid) {
                ut += q->utime;
                st += q->stime;
            }
        }
        spin_unlock_irqrestore(&sched_lock, f);
        fill_rusage(ru, ut, st);
    } else if (who == RUSAGE_THREAD) {
        fill_rusage(ru, p->utime, p->stime);
    } else if (who == RUSAGE_CHILDREN) {
        fill_rusage(ru, p->leader->cutime, p->leader->cstime);
    } else {
        return -EINVAL;
    }
    return copy_to_user(uru, ru, sizeof(ru)) ? -EFAULT : 0;
}

long sys_times(void *ubuf)
{
    struct proc *p = current();
    /* clock_t in USER_HZ (100) ticks, which is also Vigil's tick. */
    int64_t t[4] = { (int64_t)p->utime, (int64_t)p->stime, (int64_t)p->cutime, (int64_t)p->cstime };
    if (ubuf && copy_to_user(ubuf, t, sizeof(t)))
        return -EFAULT;
    return (long)timer_ticks();
}

long sys_arch_prctl(int code, uintptr_t addr)
{
    struct proc *p = current();
    switch (code) {
    case ARCH_SET_FS:
        if (addr >= USER_TOP)
            return -EPERM;
        p->fs_base = addr;
        wrmsr(MSR_FS_BASE, addr);
        return 0;
    case ARCH_GET_FS:
        return copy_to_user((void *)addr, &p->fs_base, sizeof(p->fs_base)) ? -EFAULT : 0;
    /* CPUID faulting: Vigil does not use it (QEMU's CPUs lack it, like many),
     * so cpuid always works: GET says 1, SET is ENODEV, as Linux says then. */
    case ARCH_GET_CPUID:
        return 1;
    case ARCH_SET_CPUID:
        return -ENODEV;
    default:
        return -EINVAL;
    }
}

/* ---- port I/O: ioperm, iopl ----
 * A root process may be given I/O ports (a driver in user space, an X
 * server of old). The TSS's I/O permission bitmap says, port by port,
 * what ring 3 may touch; each thread's own is loaded by schedule
 * (io_perm_load). iopl(3) opens every port as Linux 6.1 does it: through
 * the bitmap, not the IOPL field of rflags, so cli and sti still fault. */

static uint64_t io_version = 1;         /* [klock] 1: the all-open bitmap of iopl(3) */
static const uint8_t io_all_open[IO_BITMAP_BYTES];

void io_perm_load(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    struct io_perm *io = p->io;
    if (!io)
        tss_set_io_bitmap(NULL, 0);
    else if (io->iopl == 3)
        tss_set_io_bitmap(io_all_open, 1);
    else
        tss_set_io_bitmap(io->bits, io->version);
}

static struct io_perm *io_perm_of(struct proc *p)
{
    if (!p->io && (p->io = kmalloc(sizeof(*p->io)))) {
        memset(p->io->bits, 0xff, sizeof(p->io->bits));
        p->io->iopl = 0;
    }
    return p->io;
}

/* This thread's ports changed: a new version, loaded here now. */
static void io_perm_changed(struct proc *p)
{
    p->io->version = ++io_version;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    io_perm_load(p);
    spin_unlock_irqrestore(&sched_lock, f);
}

void tsc_mode_load(struct proc *p)
{
    uint64_t cr4 = read_cr4();
    if (p->tsc_sigsegv != !!(cr4 & CR4_TSD))
        write_cr4(p->tsc_sigsegv ? cr4 | CR4_TSD : cr4 & ~CR4_TSD);
}

long sys_ioperm(unsigned long from, unsigned long num, int turn_on)
{
    struct proc *p = current();
    if (from + num <= from || from + num > IO_BITMAP_BYTES * 8)
        return -EINVAL;
    /* INVARIANT(privilege separation): only root gains ports (CAP_SYS_RAWIO). */
    if (turn_on && p->euid != 0)
        return -EPERM;
    if (!turn_on && !p->io)
        return 0;
    if (!io_perm_of(p))
        return -ENOMEM;
    for (unsigned long port = from; port < from + num; port++) {
        if (turn_on)
            p->io->bits[port / 8] &= (uint8_t)~(1u << (port % 8));
        else
            p->io->bits[port / 8] |= (uint8_t)(1u << (port % 8));
    }
    io_perm_changed(p);
    return 0;
}

long sys_iopl(unsigned level)
{
    struct proc *p = current();
    int old = p->io ? p->io->iopl : 0;
    if (level > 3)
        return -EINVAL;
    if ((int)level > old && p->euid != 0)
        return -EPERM;                          /* a raise is root's (CAP_SYS_RAWIO) */
    if (!level && !p->io)
        return 0;
    if (!io_perm_of(p))
        return -ENOMEM;
    p->io->iopl = (int)level;
    io_perm_changed(p);
    return 0;
}

/* The robust futex list's head (24 bytes: struct robust_list_head), kept
 * per thread for get_robust_list; Vigil does not walk it at exit. */
long sys_unshare(unsigned long flags) { return proc_unshare(flags); }

/* vhangup(2): root's (CAP_SYS_TTY_CONFIG); a process without a
 * controlling terminal has nothing to hang up. */
long sys_vhangup(void)
{
    struct proc *l = current()->leader;
    if (current()->euid != 0)
        return -EPERM;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (l->ctty)
        tty_vhangup_locked(l->ctty);
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

long sys_set_robust_list(void *head, size_t len)
{
    if (len != 24)
        return -EINVAL;
    current()->robust_head = (uint64_t)(uintptr_t)head;
    return 0;
}

long sys_get_robust_list(int tid, uint64_t *uhead, size_t *ulen)
{
    struct proc *me = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = tid ? proc_find_thread(tid) : me;
    long r = !t ? -ESRCH : t->tgid != me->tgid && !ptrace_may_access(me, t) ? -EPERM : 0;
    uint64_t head = t ? t->robust_head : 0;
    spin_unlock_irqrestore(&sched_lock, f);
    if (r)
        return r;
    size_t len = 24;
    if (copy_to_user(ulen, &len, sizeof(len)))
        return -EFAULT;
    return copy_to_user(uhead, &head, sizeof(head)) ? -EFAULT : 0;
}

long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig)
{
    (void)rseq, (void)len, (void)flags, (void)sig;
    return -ENOSYS;                     /* glibc and musl fall back quietly */
}

/* ---- scheduling policy and priority ---- */

/* The thread a scheduling call names (0: the caller); sched_lock held. */
static struct proc *sched_target(int tid)
{
    ASSERT_HELD(&sched_lock);
    return tid == 0 ? current() : tid > 0 ? proc_find_thread(tid) : NULL;
}

static bool may_sched(struct proc *t)
{
    struct proc *me = current();
    return me->euid == 0 || me->euid == t->uid || me->euid == t->euid;
}

/* The threads getpriority/setpriority's (which, who) names: PRIO_PROCESS
 * the thread who (0: the caller), PRIO_PGRP the processes of group who
 * (0: the caller's), PRIO_USER those whose real uid is who (0: the
 * caller's). The i-th from *i on, or NULL; with sched_lock held. */
static struct proc *prio_next_locked(int which, int who, int *i)
{
    struct proc *me = current();
    if (which == 0)
        return (*i)++ || who < 0 ? NULL : sched_target(who);
    for (; *i < sched_slots(); (*i)++) {
        struct proc *q = sched_proc_at(*i);
        if (!q || q->state == P_ZOMBIE || q->state == P_DEAD || q->state == P_UNUSED ||
            q->state == P_EMBRYO)
            continue;
        if (which == 1 ? q->leader->pgid == (who ? who : me->leader->pgid)
                       : q->uid == (who ? (uint32_t)who : me->uid)) {
            (*i)++;
            return q;
        }
    }
    return NULL;
}

long sys_getpriority(int which, int who)
{
    if (which < 0 || which > 2)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    long r = -ESRCH;
    int i = 0;
    for (struct proc *t; (t = prio_next_locked(which, who, &i));)
        if (20 - t->nice > r)
            r = 20 - t->nice;                    /* the raw syscall returns 20 - nice: the best */
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

/* As Linux: ESRCH if nobody is named; else 0, unless a target refused
 * (EPERM: not the caller's; EACCES: a raise without root). */
long sys_setpriority(int which, int who, int prio)
{
    if (which < 0 || which > 2)
        return -EINVAL;
    int nice = prio < -20 ? -20 : prio > 19 ? 19 : prio;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    long r = -ESRCH;
    int i = 0;
    for (struct proc *t; (t = prio_next_locked(which, who, &i));) {
        if (!may_sched(t))
            r = -EPERM;
        else if (nice < t->nice && current()->euid != 0)
            r = -EACCES;                         /* only root may raise priority */
        else {
            t->nice = nice;
            if (r == -ESRCH)
                r = 0;
        }
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

struct sched_param_k {
    int sched_priority;
};

#define KEEP_NICE INT32_MIN

/* Set thread tid's policy and real-time priority (and, for a fair policy,
 * its nice value unless KEEP_NICE): sched_setscheduler, sched_setparam
 * (keep_policy) and sched_setattr. */
static long apply_sched(int tid, int policy, int prio, bool keep_policy, int nice)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = sched_target(tid);
    long r = 0;
    if (!t) {
        r = -ESRCH;
        goto out;
    }
    if (keep_policy)
        policy = t->policy;
    policy &= ~SCHED_RESET_ON_FORK;
    bool rt = policy == SCHED_FIFO || policy == SCHED_RR;
    if (policy != SCHED_OTHER && policy != SCHED_BATCH && policy != SCHED_IDLE && !rt) {
        r = -EINVAL;
        goto out;
    }
    if ((rt && (prio < 1 || prio > 99)) || (!rt && prio != 0)) {
        r = -EINVAL;
        goto out;
    }
    if (!may_sched(t) || (rt && current()->euid != 0) ||
        (!rt && nice != KEEP_NICE && nice < t->nice && current()->euid != 0)) {
        r = -EPERM;                              /* real time, or a raise, needs root (CAP_SYS_NICE) */
        goto out;
    }
    t->policy = policy;
    t->rt_priority = rt ? prio : 0;
    if (!rt && nice != KEEP_NICE)
        t->nice = nice;
    /* Its effective priority: the new one, or what PI waiters lend it. */
    pi_update(t);
out:
    spin_unlock_irqrestore(&sched_lock, f);
    if (r == 0 && tid == 0)
        yield();                                 /* a lower priority may mean giving way now */
    return r;
}

static long set_sched(int tid, int policy, const struct sched_param_k *uparam, bool keep_policy)
{
    struct sched_param_k sp;
    if (tid < 0 || !uparam)
        return -EINVAL;
    if (copy_from_user(&sp, uparam, sizeof(sp)))
        return -EFAULT;
    return apply_sched(tid, policy, sp.sched_priority, keep_policy, KEEP_NICE);
}

/* ---- sched_setattr, sched_getattr: the same with struct sched_attr ----
 * SCHED_DEADLINE (runtime <= deadline <= period, a root's reservation) is
 * checked as Linux checks it and read back as set; Vigil has no earliest-
 * deadline class, so such a thread is scheduled as a fair one. */
struct sched_attr_k {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

static long set_deadline(int tid, const struct sched_attr_k *a)
{
    uint64_t period = a->period ? a->period : a->deadline;
    if (a->priority || !a->deadline || a->runtime < SCHED_DL_MIN_NS || a->runtime > a->deadline ||
        a->deadline > period || period >> 63)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = sched_target(tid);
    long r = !t ? -ESRCH : !may_sched(t) || current()->euid != 0 ? -EPERM : 0;
    if (!r) {
        t->policy = SCHED_DEADLINE;
        t->rt_priority = 0;
        t->dl_runtime = a->runtime;
        t->dl_deadline = a->deadline;
        t->dl_period = period;
        pi_update(t);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long sys_sched_setattr(int tid, void *uattr, unsigned flags)
{
    if (!uattr || tid < 0 || flags)
        return -EINVAL;
    struct sched_attr_k a;
    memset(&a, 0, sizeof(a));
    uint32_t size;
    if (copy_from_user(&size, uattr, sizeof(size)))
        return -EFAULT;
    if (!size)
        size = SCHED_ATTR_SIZE_VER0;
    if (size < SCHED_ATTR_SIZE_VER0 || size > PAGE_SIZE) {
        uint32_t k = sizeof(a);                 /* the size we know, for the caller */
        return copy_to_user(uattr, &k, sizeof(k)) ? -EFAULT : -E2BIG;
    }
    if (copy_from_user(&a, uattr, MIN(size, (uint32_t)sizeof(a))))
        return -EFAULT;
    for (uint32_t off = sizeof(a); off < size; off++) {        /* a longer one's tail: zeros */
        uint8_t c;
        if (copy_from_user(&c, (const uint8_t *)uattr + off, 1))
            return -EFAULT;
        if (c)
            return -E2BIG;
    }
    if ((int32_t)a.policy < 0 || (a.flags & ~(uint64_t)SCHED_FLAG_ALL))
        return -EINVAL;
    if (a.policy == SCHED_DEADLINE && !(a.flags & SCHED_FLAG_KEEP_POLICY))
        return set_deadline(tid, &a);
    int nice = a.nice < -20 ? -20 : a.nice > 19 ? 19 : a.nice;
    bool keep = a.flags & SCHED_FLAG_KEEP_POLICY;
    return apply_sched(tid, (int)a.policy, (int)a.priority, keep, nice);
}

long sys_sched_getattr(int tid, void *uattr, unsigned usize, unsigned flags)
{
    if (!uattr || tid < 0 || usize > PAGE_SIZE || usize < SCHED_ATTR_SIZE_VER0 || flags)
        return -EINVAL;
    struct sched_attr_k a;
    memset(&a, 0, sizeof(a));
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = sched_target(tid);
    if (t) {
        a.policy = (uint32_t)t->policy;
        a.priority = (uint32_t)t->rt_priority;
        a.nice = t->policy == SCHED_FIFO || t->policy == SCHED_RR ? 0 : t->nice;
        if (t->policy == SCHED_DEADLINE) {
            a.nice = 0;
            a.runtime = t->dl_runtime;
            a.deadline = t->dl_deadline;
            a.period = t->dl_period;
        }
        a.util_max = 1024;                      /* no clamping */
    }
    spin_unlock_irqrestore(&sched_lock, f);
    if (!t)
        return -ESRCH;
    a.size = MIN(usize, (uint32_t)sizeof(a));
    return copy_to_user(uattr, &a, a.size) ? -EFAULT : 0;
}

long sys_sched_setscheduler(int tid, int policy, const void *param)
{
    return set_sched(tid, policy, param, false);
}

long sys_sched_setparam(int tid, const void *param) { return set_sched(tid, 0, param, true); }

long sys_sched_getscheduler(int tid)
{
    if (tid < 0)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = sched_target(tid);
    long r = t ? t->policy : -ESRCH;
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long sys_sched_getparam(int tid, void *uparam)
{
    if (tid < 0 || !uparam)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = sched_target(tid);
    struct sched_param_k sp = { t ? t->rt_priority : 0 };
    spin_unlock_irqrestore(&sched_lock, f);
    if (!t)
        return -ESRCH;
    return copy_to_user(uparam, &sp, sizeof(sp)) ? -EFAULT : 0;
}

long sys_sched_get_priority_max(int policy)
{
    return policy == SCHED_FIFO || policy == SCHED_RR ? 99 :
           policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE ||
           policy == SCHED_DEADLINE ? 0 : -EINVAL;
}

long sys_sched_get_priority_min(int policy)
{
    return policy == SCHED_FIFO || policy == SCHED_RR ? 1 :
           policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE ||
           policy == SCHED_DEADLINE ? 0 : -EINVAL;
}

long sys_sched_setaffinity(int tid, size_t len, const void *umask)
{
    uint64_t mask = 0;
    if (len < sizeof(mask))
        return -EINVAL;
    if (copy_from_user(&mask, umask, sizeof(mask)))
        return -EFAULT;
    uint64_t online = cpu_count() >= 64 ? ~0ul : (1ul << cpu_count()) - 1;
    if (!(mask & online))
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = tid < 0 ? NULL : sched_target(tid);
    long r = !t ? -ESRCH : !may_sched(t) ? -EPERM : 0;
    if (!r)
        t->affinity = mask & online;
    spin_unlock_irqrestore(&sched_lock, f);
    if (!r && tid == 0 && !(mask >> this_cpu()->id & 1))
        yield();                                 /* off this CPU now */
    return r;
}

long sys_sched_getaffinity(int tid, size_t len, void *umask)
{
    if (len < sizeof(uint64_t) || (len & 7))
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = tid < 0 ? NULL : sched_target(tid);
    uint64_t online = (1ul << cpu_count()) - 1;
    uint64_t mask = t ? t->affinity & online : 0;
    spin_unlock_irqrestore(&sched_lock, f);
    if (!t)
        return -ESRCH;
    return copy_to_user(umask, &mask, sizeof(mask)) ? -EFAULT : (long)sizeof(mask);
}

/* sched_rr_get_interval(2): a SCHED_RR thread's turn (RR_TICKS), none (0)
 * for SCHED_FIFO, the fair scheduler's slice for the others. */
long sys_sched_rr_get_interval(int tid, void *uts)
{
    if (tid < 0)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = sched_target(tid);
    int policy = t ? t->policy : -1;
    spin_unlock_irqrestore(&sched_lock, f);
    if (!t)
        return -ESRCH;
    uint64_t ns = policy == SCHED_FIFO ? 0 : (policy == SCHED_RR ? RR_TICKS : SLICE_TICKS) * TICK_NS;
    struct timespec ts = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000) };
    return copy_to_user(uts, &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_setpgid(int pid, int pgid) { return proc_setpgid(pid, pgid); }
long sys_getpgrp(void) { return proc_getpgid(0); }
long sys_getpgid(int pid) { return proc_getpgid(pid); }
long sys_setsid(void) { return proc_setsid(); }
long sys_getsid(int pid) { return proc_getsid(pid); }
