/* sys/sys_proc.c - process syscalls. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../lib/errno.h"
#include "../lib/string.h"
#include "../arch/x86_64/cpu.h"

long sys_fork(void) { return proc_fork(); }

long sys_execve(const char *path, char *const argv[], char *const envp[])
{
    return exec(path, argv, envp, true);
}

long sys_exit(int code) { proc_exit(W_EXITED(code)); }

long sys_wait4(int pid, int *status, int options, void *rusage)
{
    return proc_wait4(pid, status, options, rusage);
}

long sys_kill(int pid, int sig) { return proc_kill(pid, sig); }
long sys_getpid(void) { return current()->pid; }
long sys_gettid(void) { return current()->pid; }
long sys_getppid(void) { struct proc *p = current(); return p->parent ? p->parent->pid : 0; }

long sys_set_tid_address(int *tidptr)
{
    current()->clear_child_tid = (uintptr_t)tidptr;
    return current()->pid;
}

long sys_sched_yield(void)
{
    yield();
    return 0;
}

struct timespec {
    int64_t sec, nsec;
};

static long sleep_ns(uint64_t ns, void *urem)
{
    uint64_t start = time_monotonic_ns();
    uint64_t tick_ns = 1000000000ul / timer_hz();
    long r = sleep_ticks((ns + tick_ns - 1) / tick_ns);
    if (r && urem) {
        uint64_t done = time_monotonic_ns() - start;
        uint64_t left = done < ns ? ns - done : 0;
        struct timespec rem = { (int64_t)(left / 1000000000), (int64_t)(left % 1000000000) };
        if (copy_to_user(urem, &rem, sizeof(rem)))
            return -EFAULT;
    }
    return r;
}

long sys_nanosleep(const void *ureq, void *urem)
{
    struct timespec req;
    if (copy_from_user(&req, ureq, sizeof(req)))
        return -EFAULT;
    if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1000000000)
        return -EINVAL;
    return sleep_ns((uint64_t)req.sec * 1000000000 + (uint64_t)req.nsec, urem);
}

long sys_clock_nanosleep(int clk, int flags, const void *ureq, void *urem)
{
    struct timespec req;
    if (clk != 0 && clk != 1 && clk != 7)
        return -EINVAL;
    if (copy_from_user(&req, ureq, sizeof(req)))
        return -EFAULT;
    if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1000000000)
        return -EINVAL;
    uint64_t ns = (uint64_t)req.sec * 1000000000 + (uint64_t)req.nsec;
    if (flags & 1) {                                    /* TIMER_ABSTIME */
        uint64_t now = clk == 0 ? time_realtime_ns() : time_monotonic_ns();
        ns = ns > now ? ns - now : 0;
        urem = NULL;
    }
    long r = sleep_ns(ns, urem);
    return r;
}

long sys_getrusage(int who, void *uru)
{
    struct proc *p = current();
    uint8_t ru[144];
    if (who == 0)                                       /* RUSAGE_SELF */
        fill_rusage(ru, p->utime, p->stime);
    else if (who == -1)                                 /* RUSAGE_CHILDREN */
        fill_rusage(ru, p->cutime, p->cstime);
    else
        return -EINVAL;
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

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

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
    default:
        return -EINVAL;
    }
}

long sys_set_robust_list(void *head, size_t len)
{
    (void)head;
    return len == 24 ? 0 : -EINVAL;
}

long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig)
{
    (void)rseq, (void)len, (void)flags, (void)sig;
    return -ENOSYS;                     /* glibc and musl fall back quietly */
}

long sys_getpriority(int which, int who)
{
    if (which != 0 || (who != 0 && who != current()->pid))
        return -ESRCH;
    return 20 - current()->nice;        /* the raw syscall returns 20 - nice */
}

long sys_setpriority(int which, int who, int prio)
{
    if (which != 0 || (who != 0 && who != current()->pid))
        return -ESRCH;
    current()->nice = prio < -20 ? -20 : prio > 19 ? 19 : prio;
    return 0;
}

long sys_setpgid(int pid, int pgid) { (void)pid, (void)pgid; return 0; }
long sys_getpgrp(void) { return current()->pid; }
long sys_getpgid(int pid) { return pid ? pid : current()->pid; }
long sys_setsid(void) { return current()->pid; }
long sys_getsid(int pid) { return pid ? pid : current()->pid; }

#define RLIM_INFINITY (~0ul)

static void rlimit_of(int res, uint64_t r[2])
{
    r[0] = r[1] = RLIM_INFINITY;
    if (res == 3)                       /* RLIMIT_STACK */
        r[0] = r[1] = USER_STACK_SIZE;
    if (res == 7)                       /* RLIMIT_NOFILE */
        r[0] = r[1] = NOFILE;
    if (res == 4)                       /* RLIMIT_CORE: no core dumps */
        r[0] = r[1] = 0;
}

long sys_getrlimit(int res, void *urlim)
{
    if (res < 0 || res > 15)
        return -EINVAL;
    uint64_t r[2];
    rlimit_of(res, r);
    return copy_to_user(urlim, r, sizeof(r)) ? -EFAULT : 0;
}

long sys_prlimit64(int pid, int res, const void *new_rlim, void *old_rlim)
{
    if (pid && pid != current()->pid)
        return -ESRCH;
    if (res < 0 || res > 15)
        return -EINVAL;
    if (new_rlim)
        return -EPERM;                  /* fixed limits */
    return old_rlim ? sys_getrlimit(res, old_rlim) : 0;
}
