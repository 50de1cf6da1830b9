/* sys/sys_limits.c - what a process may use and how it describes itself:
 * resource limits (getrlimit, setrlimit, prlimit64), prctl, sysinfo,
 * getcpu, and clone3 (clone with its arguments in a structure).
 *
 * Why limits are enforced, not just reported. Programs read their limits to
 * size themselves (bash's file descriptors, Python's subprocess closing
 * fds up to RLIMIT_NOFILE), and shells set them (`ulimit -n 16; prog`)
 * expecting the kernel to hold the program to them. Vigil enforces:
 *   NOFILE  open, dup, pipe... say EMFILE past it (fd_limit: fd_install,
 *           dup2/dup3 EBADF, F_DUPFD EINVAL); the descriptor table grows
 *           on demand up to it (proc/fdtable.c), and its hard limit stays
 *           at or below fs.nr_open (EPERM, even for root);
 *   STACK   the stack region exec maps is that big (exec_stack_size);
 *   AS      mmap and brk fail with ENOMEM past it (rlimit_as_allows);
 *   FSIZE   a write or truncate past it gets SIGXFSZ and EFBIG (fsize_check);
 *   NPROC   fork says EAGAIN when the real user has that many threads.
 *   CORE    a core dump stays within it (proc/coredump.c);
 * CPU and the rest are kept and reported (CPU time limits are not yet
 * signalled).
 *
 * The rules for changing them are Linux's: soft <= hard (EINVAL), and only
 * root raises a hard limit (EPERM: the limits are a privilege boundary, one
 * user's processes cannot lift what root set for them). The limits live in
 * the thread-group leader (per process, as on Linux), fork copies them,
 * exec keeps them. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

#define STACK_MIN (128ul << 10)          /* room for the arguments and a first frame */
#define STACK_MAX (1ul << 30)            /* RLIM_INFINITY: a gigabyte of address space */

void rlimit_init(struct proc *p)
{
    for (int i = 0; i < RLIM_NLIMITS; i++)
        p->rlim[i] = (struct rlimit_k){ RLIM_INFINITY, RLIM_INFINITY };
    /* Linux's defaults for init (include/asm-generic/resource.h), and
     * Vigil's own ceilings where its tables are smaller. */
    p->rlim[RLIMIT_STACK].cur = USER_STACK_SIZE;
    p->rlim[RLIMIT_CORE].cur = 0;
    p->rlim[RLIMIT_NOFILE] = (struct rlimit_k){ INR_OPEN_CUR, INR_OPEN_MAX };
    int nproc = proc_threads_max() / 2;            /* Linux's: half of threads-max */
    p->rlim[RLIMIT_NPROC] = (struct rlimit_k){ nproc, nproc };
    p->rlim[RLIMIT_MEMLOCK] = (struct rlimit_k){ 8ul << 20, 8ul << 20 };
    p->rlim[10] = (struct rlimit_k){ RLIM_INFINITY, RLIM_INFINITY };      /* LOCKS */
    p->rlim[11] = (struct rlimit_k){ 1024, 1024 };                      /* SIGPENDING (proc/signal.c's pool: 4096) */
    p->rlim[12] = (struct rlimit_k){ 819200, 819200 };                  /* MSGQUEUE */
    p->rlim[13] = (struct rlimit_k){ 0, 0 };                            /* NICE */
    p->rlim[14] = (struct rlimit_k){ 0, 0 };                            /* RTPRIO */
    p->dumpable = true;
    p->sas_flags = SS_DISABLE;
}

static struct rlimit_k *limits(void) { return current()->leader->rlim; }

int fd_limit(void)
{
    uint64_t n = limits()[RLIMIT_NOFILE].cur;
#ifdef BREAK_RLIMIT_NOFILE
    n = nr_open();                              /* the break switch: the limit is only reported */
#endif
    /* INVARIANT(privilege separation): a process holds no descriptor at or
     * past its RLIMIT_NOFILE, which only root may lift (and the table
     * grows no further: proc/fdtable.c). */
    return n < INT32_MAX ? (int)n : INT32_MAX;
}

size_t exec_stack_size(void)
{
    uint64_t n = ALIGN_DOWN(limits()[RLIMIT_STACK].cur, PAGE_SIZE);
    return n < STACK_MIN ? STACK_MIN : n > STACK_MAX ? STACK_MAX : n;
}

bool rlimit_as_allows(struct mm *mm, uintptr_t replace_start, size_t replace_len, size_t more)
{
    uint64_t lim = limits()[RLIMIT_AS].cur;
    if (lim == RLIM_INFINITY)
        return true;
    uint64_t total = 0, gone = 0, rend = replace_start + replace_len;
    for (struct vma *v = mm->vmas; v; v = v->next) {
        total += v->end - v->start;
        if (replace_len && v->start < rend && replace_start < v->end)
            gone += MIN(v->end, rend) - MAX(v->start, replace_start);
    }
    return total - gone + more <= lim;
}

long fsize_check(uint64_t pos, size_t *n)
{
    uint64_t lim = limits()[RLIMIT_FSIZE].cur;
    if (lim == RLIM_INFINITY || !*n || pos + *n <= lim)
        return 0;
    if (pos >= lim) {
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        signal_send_locked(current(), SIGXFSZ, 0);
        spin_unlock_irqrestore(&sched_lock, fl);
        return -EFBIG;
    }
    *n = lim - pos;                             /* a short write up to the limit */
    return 0;
}

bool nproc_allows(void)
{
    struct proc *me = current();
    uint64_t lim = limits()[RLIMIT_NPROC].cur;
    if (me->uid == 0 || me->euid == 0 || lim == RLIM_INFINITY)
        return true;
    uint64_t n = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        n += q && q->uid == me->uid && q->state != P_ZOMBIE && q->state != P_DEAD;
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    return n < lim;
}

/* /proc/PID/limits: process tgid's limit res (Linux's defaults if it is
 * gone); with the kernel lock held. */
void rlimit_of(int tgid, int res, uint64_t r[2])
{
    struct proc *p = proc_get_klocked(tgid, tgid);
    struct rlimit_k l = { RLIM_INFINITY, RLIM_INFINITY };
    if (p && res >= 0 && res < RLIM_NLIMITS)
        l = p->leader->rlim[res];
    r[0] = l.cur;
    r[1] = l.max;
}

/* ---- getrlimit, setrlimit, prlimit64 ---- */

static struct proc *rlimit_target(int pid)
{
    struct proc *me = current();
    if (pid == 0 || pid == me->tgid || pid == me->pid)
        return me->leader;
    if (pid < 0)
        return NULL;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *t = proc_find_thread(pid);
    t = t ? t->leader : NULL;
    spin_unlock_irqrestore(&sched_lock, fl);
    return t;
}

long sys_prlimit64(int pid, int res, const void *unew, void *uold)
{
    struct rlimit_k nv;
    /* Linux's order: the new value is read, the process found and the
     * caller's right to it checked before the resource is. */
    if (unew && copy_from_user(&nv, unew, sizeof(nv)))
        return -EFAULT;
    struct proc *me = current(), *t = rlimit_target(pid);
    if (!t)
        return -ESRCH;
    /* Another process's limits: only with its owner's ids (all of them, as
     * Linux's prlimit asks), or as root. */
    if (t != me->leader && me->euid != 0 &&
        (me->uid != t->uid || me->uid != t->euid || me->uid != t->suid ||
         me->gid != t->gid || me->gid != t->egid || me->gid != t->sgid))
        return -EPERM;
    if (res < 0 || res >= RLIM_NLIMITS)
        return -EINVAL;
    struct rlimit_k *r = &t->rlim[res];
    struct rlimit_k old = *r;
    if (unew) {
        if (nv.cur > nv.max)
            return -EINVAL;
        uint64_t ceiling = nr_open();
#ifdef BREAK_NR_OPEN
        ceiling = NR_OPEN_MAX;                  /* the break switch: fs.nr_open is only reported */
#endif
        /* INVARIANT(privilege separation): no hard RLIMIT_NOFILE above
         * fs.nr_open, root's included (Linux). */
        if (res == RLIMIT_NOFILE && nv.max > ceiling)
            return -EPERM;
        bool raise = nv.max > r->max;
#ifdef BREAK_RLIMIT_PERM
        raise = false;                          /* the break switch: anyone lifts any limit */
#endif
        /* INVARIANT(privilege separation): only root raises a hard limit;
         * others may lower theirs, and move a soft limit up to the hard one. */
        if (raise && me->euid != 0)
            return -EPERM;
        *r = nv;
    }
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;                         /* (the new limit stays set, as on Linux) */
    return 0;
}

long sys_getrlimit(int res, void *urlim) { return sys_prlimit64(0, res, NULL, urlim); }
long sys_setrlimit(int res, const void *urlim) { return sys_prlimit64(0, res, urlim, NULL); }

/* ---- prctl ---- */

long sys_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct proc *p = current();
    switch (option) {
    case PR_SET_PDEATHSIG:
        if (a2 > NSIG)
            return -EINVAL;
        p->pdeath_sig = (int)a2;
        return 0;
    case PR_GET_PDEATHSIG:
        return copy_to_user((void *)a2, &p->pdeath_sig, sizeof(int)) ? -EFAULT : 0;
    case PR_GET_DUMPABLE:
        return p->leader->dumpable;
    case PR_SET_DUMPABLE:
        if (a2 > 1)
            return -EINVAL;
        p->leader->dumpable = a2;
        return 0;
    case PR_GET_KEEPCAPS:
        return 0;
    case PR_SET_KEEPCAPS:
        return a2 > 1 ? -EINVAL : 0;
    case PR_SET_NAME: {
        char name[16];
        long n = strncpy_from_user(name, (const char *)a2, sizeof(name));
        if (n < 0 && n != -ENAMETOOLONG)
            return -EFAULT;                     /* (a longer name is cut to 15 bytes) */
        name[sizeof(name) - 1] = 0;
        memcpy(p->name, name, sizeof(name));
        return 0;
    }
    case PR_GET_NAME:
        return copy_to_user((void *)a2, p->name, sizeof(p->name)) ? -EFAULT : 0;
    case PR_GET_SECCOMP:
        return 0;                               /* no filters: mode 0 */
    case PR_CAPBSET_READ:
        return a2 > CAP_LAST_CAP ? -EINVAL : 1; /* the full bounding set */
    case PR_GET_TIMERSLACK:
        return (long)p->timer_slack;
    case PR_SET_TIMERSLACK:                     /* 0: back to the default (the parent's at fork) */
        p->timer_slack = a2 ? a2 : p->timer_slack_default;
        return 0;
    case PR_GET_TSC: {
        int v = p->tsc_sigsegv ? PR_TSC_SIGSEGV : PR_TSC_ENABLE;
        return copy_to_user((void *)a2, &v, sizeof(v)) ? -EFAULT : 0;
    }
    case PR_SET_TSC:
        /* PR_TSC_SIGSEGV: rdtsc faults in this thread (CR4.TSD while it runs). */
        if (a2 != PR_TSC_ENABLE && a2 != PR_TSC_SIGSEGV)
            return -EINVAL;
        p->tsc_sigsegv = a2 == PR_TSC_SIGSEGV;
        tsc_mode_load(p);
        return 0;
    case PR_SET_CHILD_SUBREAPER: {
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        p->leader->subreaper = a2 != 0;
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    }
    case PR_GET_CHILD_SUBREAPER: {
        int v = p->leader->subreaper;
        return copy_to_user((void *)a2, &v, sizeof(v)) ? -EFAULT : 0;
    }
    case PR_SET_NO_NEW_PRIVS:
        if (a2 != 1 || a3 || a4 || a5)
            return -EINVAL;
        p->no_new_privs = true;                 /* for good: it cannot be unset */
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        if (a2 || a3 || a4 || a5)
            return -EINVAL;
        return p->no_new_privs;
    default:
        return -EINVAL;
    }
}

/* ---- sysinfo, getcpu ---- */

struct sysinfo_linux {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint32_t pad2;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
    uint8_t pad3[4];
};

long sys_sysinfo(void *ubuf)
{
    struct sysinfo_linux s;
    memset(&s, 0, sizeof(s));
    uint64_t ns = time_monotonic_ns();
    s.uptime = (int64_t)(ns / 1000000000 + (ns % 1000000000 != 0));     /* rounded up, as Linux */
    struct sched_stats *st = kmalloc(sizeof(*st));
    if (!st)
        return -ENOMEM;
    sched_get_stats(st);
    for (int i = 0; i < 3; i++)
        s.loads[i] = st->avenrun[i] << (SI_LOAD_SHIFT - LOAD_FSHIFT);
    kfree(st);
    s.totalram = pmm_total_frames() * PAGE_SIZE;
    s.freeram = pmm_free_frames() * PAGE_SIZE;
    s.procs = (uint16_t)proc_count();
    s.mem_unit = 1;
    return copy_to_user(ubuf, &s, sizeof(s)) ? -EFAULT : 0;
}

long sys_getcpu(unsigned *ucpu, unsigned *unode, void *cache)
{
    (void)cache;
    unsigned cpu = (unsigned)this_cpu()->id, node = 0;
    if (ucpu && copy_to_user(ucpu, &cpu, sizeof(cpu)))
        return -EFAULT;
    if (unode && copy_to_user(unode, &node, sizeof(node)))
        return -EFAULT;
    return 0;
}

/* ---- clone3 ---- */

struct clone_args_k {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

long sys_clone3(const void *uargs, size_t size)
{
    struct clone_args_k a;
    memset(&a, 0, sizeof(a));
    if (size < CLONE_ARGS_SIZE_VER0)
        return -EINVAL;
    if (size > PAGE_SIZE)
        return -E2BIG;
    if (copy_from_user(&a, uargs, MIN(size, sizeof(a))))
        return -EFAULT;
    /* A newer caller's longer structure: what we do not know must be zero. */
    for (size_t off = sizeof(a); off < size; off++) {
        uint8_t c;
        if (copy_from_user(&c, (const uint8_t *)uargs + off, 1))
            return -EFAULT;
        if (c)
            return -E2BIG;
    }
    if ((a.flags & 0xff) || (a.exit_signal & ~0xfful) || a.exit_signal > NSIG)
        return -EINVAL;                         /* the signal has its own field */
    if (a.set_tid || a.set_tid_size || (a.flags & (CLONE_INTO_CGROUP | CLONE_NEWTIME)))
        return -EINVAL;                         /* not supported */
    if ((a.stack == 0) != (a.stack_size == 0))
        return -EINVAL;
    if (a.flags & CLONE_CLEAR_SIGHAND)
        return -EINVAL;                         /* not supported */
    if ((a.flags & CLONE_DETACHED) || a.flags >> 32)
        return -EINVAL;
    if ((a.flags & (CLONE_THREAD | CLONE_PARENT)) && a.exit_signal)
        return -EINVAL;
    uintptr_t sp = a.stack ? a.stack + a.stack_size : 0;
    return proc_clone(a.flags | a.exit_signal, sp, (int *)a.parent_tid, (int *)a.child_tid, a.tls,
                      (int *)a.pidfd);
}

/* ---- ioprio_set, ioprio_get ----
 * Vigil's disk has one queue served in order, so an I/O priority changes
 * nothing; it is kept per thread and checked as Linux checks it (ionice
 * sets it; the real-time class is root's). */

static long ioprio_check(int ioprio)
{
    int class = (ioprio >> IOPRIO_CLASS_SHIFT) & 7, level = ioprio & 7;
    switch (class) {
    case IOPRIO_CLASS_RT:
        if (current()->euid != 0)
            return -EPERM;                      /* Linux: CAP_SYS_NICE or CAP_SYS_ADMIN */
        /* fall through */
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE:
        return 0;
    case IOPRIO_CLASS_NONE:
        return level ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

/* The threads ioprio's (which, who) names, one at a time: the i-th, or
 * NULL; with sched_lock held. */
static struct proc *ioprio_target_locked(int which, int who, int *i)
{
    struct proc *me = current();
    if (which == IOPRIO_WHO_PROCESS) {
        if ((*i)++)
            return NULL;
        return who == 0 ? me : proc_find_thread(who);
    }
    for (; *i < sched_slots(); (*i)++) {
        struct proc *q = sched_proc_at(*i);
        if (!q || q->state == P_ZOMBIE || q->state == P_DEAD || q->state == P_UNUSED)
            continue;
        if (which == IOPRIO_WHO_PGRP ? q->leader->pgid == (who ? who : me->leader->pgid)
                                     : q->uid == (uint32_t)(who ? who : (int)me->uid)) {
            (*i)++;
            return q;
        }
    }
    return NULL;
}

long sys_ioprio_set(int which, int who, int ioprio)
{
    long r = ioprio_check(ioprio);
    if (r)
        return r;
    if (which < IOPRIO_WHO_PROCESS || which > IOPRIO_WHO_USER)
        return -EINVAL;
    struct proc *me = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    r = -ESRCH;
    int i = 0;
    for (struct proc *t; (t = ioprio_target_locked(which, who, &i));) {
        if (me->euid != 0 && t->uid != me->euid && t->uid != me->uid) {
            r = -EPERM;
            continue;
        }
        t->ioprio = ioprio;
        r = 0;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long sys_ioprio_get(int which, int who)
{
    if (which < IOPRIO_WHO_PROCESS || which > IOPRIO_WHO_USER)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    long best = -ESRCH;
    int i = 0;
    for (struct proc *t; (t = ioprio_target_locked(which, who, &i));) {
        long v = t->ioprio;
        if (which == IOPRIO_WHO_PROCESS) {
            best = v;
            break;
        }
        /* Over several: the most urgent, an unset one counting as
         * best-effort level 4 (Linux's ioprio_best). */
        if (!v)
            v = IOPRIO_DEFAULT;
        int vc = (int)(v >> IOPRIO_CLASS_SHIFT), bc = best < 0 ? 8 : (int)(best >> IOPRIO_CLASS_SHIFT);
        if (best < 0 || vc < bc || (vc == bc && (v & 7) < (best & 7)))
            best = v;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return best;
}

/* ---- mlock, mlock2, munlock, mlockall, munlockall ----
 * The checks Linux makes (the range is mapped: ENOMEM; RLIMIT_MEMLOCK
 * without root: EPERM at 0, ENOMEM past it, counting what is locked
 * already once); the locking itself is mm/uvm.c's (mm_mlock): locked
 * regions are faulted in and reclaim leaves them be. */

static bool may_lock(uint64_t *lim)
{
    *lim = limits()[RLIMIT_MEMLOCK].cur;
    return current()->euid == 0 || *lim != 0;      /* Linux: can_do_mlock */
}

static long lock_range(uintptr_t addr, size_t len, uint32_t lock)
{
    /* In Linux's order: the length rounded out to whole pages (which may
     * wrap: a range that ends below its start is EINVAL, one that wraps
     * to nothing locks nothing), the right to lock, the limit, then the
     * regions (none there: ENOMEM). */
    size_t off = addr & (PAGE_SIZE - 1);
    uintptr_t start = addr - off;
    size_t alen = ALIGN_UP(len + off, PAGE_SIZE);
    struct proc *me = current();
    uint64_t lim;
    if (lock && !may_lock(&lim))
        return -EPERM;
    uintptr_t end = start + alen;
    if (end < start)
        return -EINVAL;
    if (end == start)
        return 0;
    if (end > USER_TOP)
        return -ENOMEM;
    if (lock && me->euid != 0 && lim != RLIM_INFINITY) {
        uint64_t pages = mm_locked_pages(me->mm) + (end - start) / PAGE_SIZE -
                         mm_locked_in(me->mm, start, end);
        if (pages > lim / PAGE_SIZE)
            return -ENOMEM;
    }
    return mm_mlock(me->mm, start, end, lock);
}

long sys_mlock(uintptr_t addr, size_t len) { return lock_range(addr, len, VMA_LOCKED); }
long sys_munlock(uintptr_t addr, size_t len) { return lock_range(addr, len, 0); }

long sys_mlock2(uintptr_t addr, size_t len, int flags)
{
    if (flags & ~MLOCK_ONFAULT)
        return -EINVAL;
    return lock_range(addr, len, VMA_LOCKED | (flags & MLOCK_ONFAULT ? VMA_ONFAULT : 0));
}

long sys_mlockall(int flags)
{
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return -EINVAL;
    struct proc *me = current();
    uint64_t lim;
    if (!may_lock(&lim))
        return -EPERM;
    if ((flags & MCL_CURRENT) && me->euid != 0 && lim != RLIM_INFINITY &&
        mm_total_vm(me->mm) > lim / PAGE_SIZE)
        return -ENOMEM;
    uint32_t lock = VMA_LOCKED | (flags & MCL_ONFAULT ? VMA_ONFAULT : 0);
    me->mm->def_flags = flags & MCL_FUTURE ? lock : 0;
    if (!(flags & MCL_CURRENT))
        return 0;
    /* Every region (what cannot be faulted in is passed over, as Linux). */
    mm_set_vma_flag(me->mm, 0, USER_TOP, VMA_LOCKMASK, false);
    mm_set_vma_flag(me->mm, 0, USER_TOP, lock, true);
    if (!(lock & VMA_ONFAULT))
        mm_populate(me->mm, 0, USER_TOP, true);
    return 0;
}

long sys_munlockall(void)
{
    struct mm *mm = current()->mm;
    mm->def_flags = 0;
    return mm_set_vma_flag(mm, 0, USER_TOP, VMA_LOCKMASK, false);
}

/* ---- personality ----
 * Kept per process and reported (0xffffffff asks without changing);
 * Vigil runs only the Linux personality, and ADDR_NO_RANDOMIZE changes
 * nothing where addresses are not randomised. */
long sys_personality(unsigned persona)
{
    struct proc *l = current()->leader;
    unsigned old = l->personality;
    if (persona != 0xffffffffu)
        l->personality = persona;
    return old;
}
