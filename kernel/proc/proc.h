/* proc/proc.h - processes, threads and the scheduler.
 *
 * A struct proc is one thread: a kernel stack (its user registers live in
 * the trapframe at the top of it while it is in the kernel), a signal mask
 * and scheduling state. What clone() can share between threads lives in
 * reference-counted objects: the address space (struct mm), the open files
 * (struct fdtable), the working directory and umask (struct fsinfo) and the
 * signal handlers (struct sighand). A process is a thread group: threads
 * with the same tgid, led by the first one (its leader), whose pid is the
 * process id. */
#pragma once
#include "../lib/types.h"
#include "../lib/spinlock.h"
#include "../lib/lockdep.h"
#include "../lib/abi.h"
#include "../mm/mm.h"
#include "../arch/x86_64/arch.h"

/* The process table's slots: threads alive or not yet reaped. The limit a
 * fork meets is threads-max (proc_threads_max: Linux's rule, an eighth of
 * memory in kernel stacks), at most this; the kernel-stack area holds 4096
 * stacks and the CPUs' own take a few. */
#define NPROC   4000
/* pid_max: pids count up to here, then come round again from 300 (Linux's
 * default ceiling on 64-bit, and its RESERVED_PIDS), skipping those in use. */
#define PID_MAX_VIGIL   4194304
#define PID_WRAP_FIRST  300
#define NSIG    64
/* P_DEAD: a thread (not a group leader) that has exited; its memory is
 * reclaimed by proc_reap once it is certainly off its stack. */
enum pstate { P_UNUSED, P_EMBRYO, P_RUNNABLE, P_RUNNING, P_SLEEPING, P_ZOMBIE, P_DEAD };

struct file;

/* ---- guards ----
 * Every shared field below says what protects it (docs/architecture.md,
 * "Locking rules"):
 *   [sched_lock]    read and written with sched_lock held (sched.c);
 *   [klock]         read and written with the kernel lock held (sync.c);
 *   [self]          written only by the thread itself (others may read it
 *                   under the guard named after it, or not at all);
 *   [const]         set before the thread is published (sched_add) or the
 *                   object shared, never changed after;
 *   [atomic]        __atomic operations only.
 * Functions whose contract is "caller holds X" say ASSERT_HELD(&X) or
 * ASSERT_KLOCK() on their first line (debug.h); *_locked means exactly that. */

/* A descriptor table (proc/fdtable.c): max slots, grown on demand up to the
 * RLIMIT_NOFILE of whoever grows it and fs.nr_open; the first FDT_INLINE
 * live inside the structure, so most processes allocate nothing more. */
#define FDT_INLINE 64

struct fdtable {                /* shared by CLONE_FILES; all [klock] */
    int refs;
    int max;                    /* slots in fd (a multiple of 64) */
    struct file **fd;           /* [max]: fd_inline or a block of its own */
    uint64_t *cloexec;          /* [max / 64]; bit n: close fd n on exec */
    struct file *fd_inline[FDT_INLINE];
    uint64_t cloexec_inline[FDT_INLINE / 64];
};

/* The file at descriptor fd, or NULL (not open, or past the table). */
static inline struct file *fdt_file(const struct fdtable *t, int fd)
{
    return t && fd >= 0 && fd < t->max ? t->fd[fd] : NULL;
}

static inline bool fd_cloexec(const struct fdtable *t, int fd)
{
    return fd >= 0 && fd < t->max && (t->cloexec[fd / 64] >> (fd % 64) & 1);
}

/* fd must be a slot of t (below t->max). */
static inline void fd_set_cloexec(struct fdtable *t, int fd, bool on)
{
    if (on)
        t->cloexec[fd / 64] |= 1ul << (fd % 64);
    else
        t->cloexec[fd / 64] &= ~(1ul << (fd % 64));
}

struct fsinfo {                 /* shared by CLONE_FS; all [klock] */
    int refs;
    struct inode *cwd;          /* working directory */
    struct inode *root;         /* chroot: where "/" leads (NULL: the system's root) */
    char cwd_path[256];         /* ... and its name, for getcwd */
    uint32_t umask;
};

struct sigaction_k {
    uint64_t handler;           /* SIG_DFL (0), SIG_IGN (1) or a function */
    uint64_t flags;             /* SA_* */
    uint64_t restorer;          /* where the handler returns: rt_sigreturn */
    uint64_t mask;              /* blocked while the handler runs */
};

struct sighand {                /* shared by CLONE_SIGHAND */
    int refs;                   /* [klock] */
    /* [klock] to write (sigaction also holds sched_lock; exec and
     * SA_RESETHAND do not); read by senders under sched_lock, which the
     * SIGCHLD of proc_exit does without the kernel lock (see the note in
     * signal_send_locked). */
    struct sigaction_k actions[NSIG];
};

/* A sleep a signal cut short (-ERESTART_RESTARTBLOCK), kept for
 * restart_syscall(2) to finish when no handler runs (Linux's
 * restart_block): a relative nanosleep or clock_nanosleep (uptr: its rem),
 * a poll with a timeout (uptr, n: its descriptors), a futex wait with a
 * timeout (uptr: the word, n: the value, arg: the bitset, and bit 32 for
 * a private futex); end in CLOCK_MONOTONIC ns (a futex's: its deadline). */
enum { RESTART_NONE, RESTART_NANOSLEEP, RESTART_POLL, RESTART_FUTEX };
struct restart_block {
    int kind;
    uint64_t end;
    void *uptr;
    uint64_t n, arg;
};

struct proc {
    /* [const]: set by proc_alloc/clone before the thread is published. */
    int pid;                    /* thread id */
    int tgid;                   /* process id: the leader's pid */
    struct proc *leader;        /* thread-group leader (itself for the first thread) */
    struct kstack kstack;
    struct sighand *sh;         /* the pointer; its contents: see struct sighand */
    uint64_t start_tick;
    /* Which process this is, for good: a number no other thread ever had,
     * even one that got the same pid later (pidfds and /proc/PID handles
     * compare it: proc/pidfd.c). */
    uint64_t serial;
    int exit_signal;            /* the signal the parent gets at its exit (clone's low byte; 0: none) */

    /* [sched_lock]: the scheduler's and the sleepers' state. */
    enum pstate state;
    uint64_t ctx;               /* saved kernel stack pointer (swtch.asm) */
    void *chan;                 /* what it sleeps on */
    uint64_t wake_tick;         /* timed sleep: wake at this tick (0: none) */
    struct proc *parent;        /* the process (leader) that created this one; init adopts */
    int xstatus;                /* wait status once a zombie */
    uint64_t utime, stime;      /* CPU time in ticks (charged by the timer tick) */
    uint64_t cutime, cstime;    /* ... of reaped children (wait4) */
    int cpu;                    /* where it runs or last ran */
    int policy;                 /* SCHED_OTHER, SCHED_FIFO, SCHED_RR... */
    int rt_priority;            /* 1-99 for SCHED_FIFO/RR, else 0 */
    int prio;                   /* effective: rt_priority raised by priority inheritance */
    /* SCHED_DEADLINE's reservation (sched_setattr), kept and reported;
     * Vigil has no EDF class and runs such a thread as a fair one. */
    uint64_t dl_runtime, dl_deadline, dl_period;
    uint64_t rt_seq;            /* FIFO order among equal priorities */
    uint64_t affinity;          /* CPUs it may run on */
    uint64_t vruntime;          /* weighted ns of CPU used */
    int nice;
    uint64_t slice_start;       /* tick when it last got the CPU */
    uint64_t nvcsw, nivcsw;     /* switches away: it slept / it was preempted (/proc) */
    bool uninterruptible;       /* asleep in a wait only its event ends (Linux's D state:
                                 * a lock, a buffer, the disk): the hung-task watchdog's */
    uint64_t hung_switches;     /* nvcsw + nivcsw when the watchdog last looked */
    uint64_t hung_since;        /* ... the tick it first saw that count in D state */
    bool hung_reported;         /* this wait was reported (once a wait) */

    /* [sched_lock]: signals. The thread itself may peek at sig_pending
     * without it (proc_signal_pending); a decision is rechecked under it. */
    uint64_t sig_pending;       /* bit n-1: signal n pending */
    int sig_sender[NSIG];       /* who sent each pending signal (siginfo si_pid) */
    int sig_code[NSIG];         /* ... its si_code (SI_USER, or SI_QUEUE: rt_sigqueueinfo) */
    uint64_t sig_value[NSIG];   /* ... and si_value (sigqueue's), reset once delivered */
    int sig_overrun;            /* si_overrun of the SI_TIMER signal being delivered */
    struct sigq_ent *sigq;      /* queued real-time signals, oldest first (signal.c) */
    int sigq_len;               /* ... how many */
    /* [self]: written by the thread (sigprocmask, handler entry and
     * sigreturn) without sched_lock; senders read it under sched_lock, so a
     * sender may see the mask of just before a change (as a signal sent
     * just before it would). */
    uint64_t sig_blocked;       /* bit n-1: signal n blocked (sigprocmask) */
    uint64_t sig_real_blocked;  /* [sched_lock] the mask rt_sigtimedwait lifted while it waits */
    /* [self]: rt_sigsuspend's mask to put back once its signal is handled
     * (into the handler's frame, so sigreturn restores it) or not. */
    uint64_t sig_saved_mask;
    bool sig_mask_saved;

    /* [sched_lock]: futex waits (futex.c); the word check before queueing
     * is under the kernel lock (futex_wait asserts it). */
    bool futex_waiting;         /* queued on futex_key until a wake dequeues it */
    uint64_t futex_key[2];
    uint32_t futex_bitset;
    /* futex_waitv: the words waited on at once (a kmalloc'd array, or NULL
     * for a plain wait), and which one the waker found. */
    uint64_t (*futex_vkeys)[2];
    int futex_nv, futex_vwoken;
    uint64_t futex_seq;         /* FIFO order among waiters */
    /* Lifetime: pi_owner is valid while set: a thread that exits clears
     * every waiter's pointer to it (futex_owner_exit_locked), wakes them
     * with pi_owner_died set, and each looks the owner up by tid again. */
    struct proc *pi_owner;      /* [sched_lock] blocked on a PI futex held by this thread */
    bool pi_owner_died;         /* [sched_lock] ... which exited meanwhile */

    /* Thread-group state, kept in the leader. */
    int nthreads;               /* [sched_lock] threads of this group not yet exited */
    int pgid, sid;              /* [sched_lock] process group and session (setpgid, setsid) */
    /* [sched_lock] interval timers (setitimer, alarm), in ns: REAL fires
     * when the monotonic clock reaches itimer_real_at (0: off); VIRTUAL and
     * PROF count down the process's user, and user+system, time (a tick's
     * worth at each tick it ran); interval reloads each (0: once). */
    uint64_t itimer_real_at;
    uint64_t itimer_left[3], itimer_interval[3];
    bool group_exiting;         /* [sched_lock] exit_group or a fatal signal: all threads go */
    int group_status;           /* [sched_lock] ... with this wait status */
    struct proc *vfork_parent;  /* [sched_lock] CLONE_VFORK: woken at exec or exit */
    bool exit_thread_only;      /* [sched_lock] killed by exec in another thread: leave quietly */
    /* [sched_lock] job control (signal.c): every thread is stopped by a
     * stop signal until SIGCONT; the parent's wait4 reports the stop
     * (WUNTRACED) and the continue (WCONTINUED) once each. */
    bool stopped;
    int stop_sig;
    bool report_stop, report_cont;
    /* [sched_lock] ptrace (ptrace.c), per thread: the tracer (a process
     * leader; NULL: not traced; the syscall path's one test), its options,
     * and the stop the thread sits in for it (pt_status: the wait status
     * its tracer's wait4 reports once). */
    struct proc *tracer;
    uint32_t pt_opts;
    bool pt_seized, pt_stopped, pt_report, pt_syscall, pt_trap, pt_listening;
    uint8_t pt_where;           /* PTRACE_SYSCALL_INFO_*: the stop's kind */
    bool pt_link_root;          /* the link was made by root (Linux's ptracer_cred): exec's set-ID rule */
    int pt_status, pt_resume_sig, pt_event;
    uint64_t pt_msg;            /* PTRACE_GETEVENTMSG */
    int pt_si_signo, pt_si_code, pt_si_pid;      /* GETSIGINFO */
    uint64_t pt_si_addr;        /* ... si_addr of a fault's signal (SIGTRAP's), else 0 */
    /* The debugger's share: pt_step, resumed by SINGLESTEP (TF set;
     * pt_tf_forced: by ptrace, not by the program, so GETREGS hides it and
     * CONT clears it). The hardware breakpoints a tracer armed through
     * POKEUSER: addresses, DR7 as written and as loaded (only the enable,
     * type and length fields), changed only while the thread sits in a stop
     * and loaded by schedule when it switches to the thread. pt_dr6 [self]:
     * what the last #DB saw (B0-B3, BS), written by the thread's own #DB
     * or by its tracer while it is stopped. */
    bool pt_step, pt_tf_forced;
    uint64_t pt_dr[4], pt_dr7, pt_dr7_hw, pt_dr6;
    /* ... in the tracer's leader: tracees that exited and are not its
     * children (threads, auto-attached grandchildren), reported by wait4. */
    int pt_note_pid[16], pt_note_status[16], pt_nnotes;
    struct tty *ctty;           /* [sched_lock] controlling terminal (fork keeps it, setsid drops it) */
    int oom_score_adj;          /* [klock] /proc/PID/oom_score_adj (-1000..1000): the OOM killer's (mm/reclaim.c) */

    /* [klock]: credentials, written by the thread itself (setuid...), read
     * by others' permission checks (kill, sched_setscheduler). */
    uint32_t uid, euid, suid, gid, egid, sgid;
    /* ... and the ids file access is checked with (setfsuid, setfsgid):
     * they follow the effective ids at every change of those. */
    uint32_t fsuid, fsgid;
    uint32_t groups[NGROUPS_VIGIL];             /* supplementary groups (setgroups) */
    int ngroups;

    /* [klock], kept in the leader: the process's resource limits
     * (getrlimit, setrlimit, prlimit64; sys_limits.c). fork copies them,
     * exec keeps them. */
    struct rlimit_k { uint64_t cur, max; } rlim[RLIM_NLIMITS];
    /* prctl(2) state (sys_limits.c). pdeath_sig and no_new_privs are the
     * thread's [self] (the parent's exit reads pdeath_sig: a change racing
     * with it lands before or after, as on Linux); dumpable [klock] and
     * subreaper [sched_lock] (read by exits' reparenting) are the leader's. */
    int pdeath_sig;             /* the signal this thread gets when its parent dies */
    bool no_new_privs;
    bool dumpable;
    bool subreaper;             /* orphaned descendants are reparented here, not to init */
    /* [sched_lock], kept in the leader: POSIX timers (ptimer.c; NULL until
     * the first timer_create), and when RLIMIT_CPU's next SIGXCPU is due
     * (in seconds of CPU time). */
    struct ptimer *ptimers;
    uint64_t xcpu_next;
    int ioprio;                 /* [sched_lock] ioprio_set's value (0: none set) */
    bool execed;                /* [sched_lock] the process has run exec (setpgid's EACCES) */
    /* [klock] PR_SET_TIMERSLACK, /proc/PID/timerslack_ns (ns; nothing
     * sleeps differently for it), per thread; the default is what
     * PR_SET_TIMERSLACK(0) goes back to. */
    uint64_t timer_slack, timer_slack_default;
    bool tsc_sigsegv;           /* [self] PR_SET_TSC: rdtsc faults (CR4.TSD while it runs) */
    unsigned personality;       /* [klock] the leader's: personality(2), kept over fork and exec */
    /* [self]: the ports ioperm and iopl gave this thread (sys_proc.c; NULL:
     * none), loaded into the TSS by schedule when it switches to the thread.
     * fork and clone copy them, exec keeps them. */
    struct io_perm *io;
    /* [self]: the alternate signal stack (sigaltstack; signal.c). */
    uint64_t sas_sp, sas_size;
    uint32_t sas_flags;         /* SS_AUTODISARM; SS_DISABLE when there is none */

    /* [self]: the thread's own (switched with it, or only it looks). The
     * shared objects they point to are [klock] (struct mm: see mm.h). */
    char name[16];              /* (others print it in reports only) */
    int realpath_depth;         /* vfs_realpath's nesting (a magic link's name resolves names) */
    struct trapframe *tf;       /* user registers, at the top of kstack */
    struct mm *mm;
    struct fdtable *fdt;
    struct fsinfo *fs;
    long syscall_nr;            /* the syscall in progress (for SA_RESTART) */
    struct restart_block restart;   /* what restart_syscall(2) finishes */
    int journal_depth;          /* journal_begin nesting (fs/journal.c) */
    uint64_t fs_base;           /* TLS base (arch_prctl) */
    struct fpu_state fpu;       /* SSE/x87 registers while switched out */
    uint32_t pkru;              /* protection-key rights (PKRU) while switched out (cpu_pku) */
    uint32_t fault_pkey;        /* the key of the last SEGV_PKUERR fault: its si_pkey */
    uintptr_t clear_child_tid;
    uint64_t robust_head;       /* set_robust_list's (others read it racily: a pointer value) */
    struct lockdep_stack locks; /* sleeping locks held (lockdep) */
    /* Files the syscall in progress took with fd_get (a reference each),
     * dropped by fd_put_held when it returns (fs/file.h, "Lifetime"). */
    struct file *fd_held[4];
    int nfd_held;
    void *scratch;              /* a page for bounce copies (proc_scratch_page) */
    /* [self] A kernel buffer lent to a file's read or write op as if it were
     * the user's (splice, fs/pipe.c): usercopy into or out of exactly this
     * range is a plain copy (arch/x86_64/uaccess.c); kio_len 0: none. */
    uintptr_t kio_base;
    size_t kio_len;
};

/* ---- proc.c ---- */
struct proc *current(void);
void  proc_init(void);
int   proc_spawn_init(const char *path, char *const argv[]);
long  proc_fork(void);
/* upidfd: where CLONE_PIDFD writes the child's pidfd. */
long  proc_clone(uint64_t flags, uintptr_t newsp, int *ptid, int *ctid, uint64_t tls, int *upidfd);
__noreturn void proc_exit(int wstatus);          /* this thread */
__noreturn void proc_exit_group(int wstatus);    /* every thread of the process */
void  proc_kill_other_threads(void);             /* exec: the others leave */
void  proc_vfork_release(struct proc *p);        /* exec/exit of a vfork child */
struct proc *proc_find_thread(int tid);          /* with sched_lock held */
/* Is gid one of p's supplementary groups (setgroups)? */
static inline bool proc_in_supplementary(const struct proc *p, uint32_t gid)
{
    for (int i = 0; i < p->ngroups; i++)
        if (p->groups[i] == gid)
            return true;
    return false;
}

/* ... or its effective group: the groups whose files it may chown to. */
static inline bool proc_in_group(const struct proc *p, uint32_t gid)
{
    return p->egid == gid || proc_in_supplementary(p, gid);
}
/* A page-sized buffer the running thread may use between its own calls
 * (kept until it exits, so hot paths like pipes allocate nothing); NULL only
 * if memory ran out. */
void *proc_scratch_page(void);
long  proc_tgkill(int tgid, int tid, int sig);
/* rt_tgsigqueueinfo: tgkill whose siginfo carries code and value. */
long  proc_tgsignal(int tgid, int tid, int sig, int code, uint64_t value);
/* rt_sigqueueinfo: kill(pid, sig) whose siginfo carries code and value. */
long  proc_sigqueue(int pid, int sig, int code, uint64_t value);
/* ---- proc/fdtable.c: descriptor tables, all with the kernel lock held ---- */
struct fdtable *fdtable_new(void);               /* empty; NULL: out of memory */
/* A copy of t's descriptors below `below` (fork: all, INT32_MAX): NULL
 * with *err -ENOMEM, or -EMFILE when one copied is at or past fs.nr_open
 * (rounded up to 64, as Linux). */
struct fdtable *fdtable_dup(struct fdtable *t, int below, int *err);
void  fdtable_put(struct fdtable *t);
/* A table of its own (exec, unshare, close_range), with t's descriptors
 * below `below`: 0, -ENOMEM, -EMFILE. */
int   fdtable_unshare(struct proc *p, int below);
/* Make fd a slot of t, fd below limit (the caller's RLIMIT_NOFILE): 0,
 * -EMFILE at or past fs.nr_open, -ENOMEM. */
int   fdtable_expand(struct fdtable *t, int fd, int limit);
/* The lowest free descriptor >= min_fd and below limit, its slot made:
 * -EMFILE (none, or past fs.nr_open) or -ENOMEM. */
int   fdtable_alloc_fd(struct fdtable *t, int min_fd, int limit);
int   fdtable_highest(const struct fdtable *t);  /* the highest open descriptor, or -1 */
unsigned nr_open(void);                          /* fs.nr_open */
long  proc_unshare(unsigned long flags);         /* unshare(2) */
void  fsinfo_put(struct fsinfo *f);
long  proc_wait4(int pid, int *ustatus, int options, void *urusage);
long  proc_waitid(int idtype, int id, void *uinfo, int options, void *urusage);
/* kill(2)'s pid: > 0 that process; 0 the caller's process group; -1 every
 * process but init and the caller; < -1 the group -pid; INT_MIN: ESRCH. */
long  proc_kill(int pid, int sig);
long  proc_setpgid(int pid, int pgid);
/* A process-directed signal from the kernel (timers); with sched_lock held. */
void  signal_process_locked(struct proc *l, int sig);
/* The timer tick's share of the interval timers; with sched_lock held. */
void  itimer_tick_locked(struct proc *running, bool user, uint64_t now, bool cpu0);
long  proc_getpgid(int pid);
/* Process groups, with sched_lock held: sig to every member (from the
 * kernel: a terminal's ISIG, hangup); is the group orphaned (no member has
 * a parent in another group of the same session; POSIX); the session of
 * group pgrp, else of process pgrp (-1: neither exists; tcsetpgrp). */
void  signal_pgrp_locked(int pgrp, int sig);
bool  pgrp_orphaned_locked(int pgrp);
int   pgrp_session_locked(int pgrp);
long  proc_setsid(void);
long  proc_getsid(int pid);

/* ---- the public view of a process, for /proc (proc.c) ----
 * What /proc/PID/{stat,status,...} print, copied out under the locks that
 * guard each field, so the generators in fs/procfs.c read no struct proc. */
struct proc_view {
    int pid, tgid, ppid, pgid, sid;
    int tracer_pid;             /* /proc/PID/status TracerPid (0: not traced) */
    char state;                 /* R running or runnable, S sleeping, T stopped, Z zombie */
    uint64_t tty_nr;            /* the controlling terminal's device number (0: none) */
    int tpgid;                  /* its foreground process group (-1: none) */
    char name[16];
    uint32_t uid, euid, suid, gid, egid, sgid, fsuid, fsgid;
    uint64_t serial;                            /* struct proc's: which process, for good */
    uint32_t groups[NGROUPS_VIGIL];
    int ngroups, nthreads, nice, prio, policy, rt_priority, cpu, oom_score_adj;
    int fdsize;                 /* its descriptor table's slots (status FDSize; 0: exiting) */
    uint64_t utime, stime, cutime, cstime;     /* ticks */
    uint64_t start_tick, affinity;
    uint64_t sig_pending, sig_blocked, sig_ignored, sig_caught;
    int sigq_user;                              /* SigQ: signals pending for its user ... */
    uint64_t sigq_limit;                        /* ... and its RLIMIT_SIGPENDING */
    uint64_t nvcsw, nivcsw;
    uint32_t umask;
};
/* The view of thread tid: as a process (whole: its group's times, the
 * process's state) or as one thread (task/TID). 0, or -ESRCH if there is
 * no such thread (or it has exited). With the kernel lock held. */
int   proc_view(int tid, bool whole, struct proc_view *v);
/* What thread tid is doing, for /proc/PID/syscall: running (or ready to),
 * or asleep or stopped in syscall nr with its six arguments (nr -1: not in
 * a syscall), at user stack pointer sp and instruction pc. 0, or -ESRCH.
 * With the kernel lock held. */
struct syscall_view {
    bool running;
    long nr;
    uint64_t args[6], sp, pc;
};
int   proc_syscall_view(int tid, struct syscall_view *v);
/* With the kernel lock held: live thread tid of process tgid (tid == tgid:
 * the process), or NULL. The pointer, and its mm, fdt and fs, stay valid
 * until the caller sleeps or drops the kernel lock; they are NULL if the
 * thread is exiting. (Threads are freed only under the kernel lock.) For a
 * process whose leader has exited before its threads, a thread that still
 * has an address space stands in. */
struct proc *proc_get_klocked(int tgid, int tid);
/* Every process id (leaders), ascending, into ids (at most n); the count. */
int   proc_list_tgids(int *ids, int n);
/* ... and the thread ids of process tgid. */
int   proc_list_tids(int tgid, int *ids, int n);
int   proc_last_pid(void);                      /* the most recent pid handed out */
/* ... and set it (root: -EPERM else; -EINVAL out of range): the next new
 * process gets the first pid after it that nothing uses. */
long  proc_set_last_pid(long pid);

/* ---- signal.c ---- */
/* Make sig pending on p (with sched_lock held); sender is a pid or 0. */
void  signal_send_locked(struct proc *p, int sig, int sender);
/* ... with a siginfo's si_code and si_value: a real-time signal is queued,
 * 0 or -EAGAIN (RLIMIT_SIGPENDING reached); a standard one keeps its first. */
long  signal_send_info_locked(struct proc *p, int sig, int sender, int code, uint64_t value);
/* Take one pending sig off p; its siginfo is left in sig_code/sig_sender/sig_value. */
void  signal_dequeue_locked(struct proc *p, int sig);
/* Is POSIX timer id's signal sig still waiting on p? */
bool  signal_timer_pending_locked(struct proc *p, int sig, int id);
/* p's pending signals and its queue go (its exit). */
void  signal_flush_locked(struct proc *p);
/* Signals pending for user uid (queued instances and standard signals): SigQ. */
int   signal_user_queued_locked(uint32_t uid);
void  signal_child_locked(struct proc *p, int code, int pid, int status);  /* SIGCHLD, CLD_x */
void  signal_child_exit_locked(struct proc *p, int pid, int xstatus, int sig);
/* May the calling thread send sig (0: only the check) to t? kill(2)'s rule;
 * kill, tgkill and tkill say EPERM when not. */
bool  signal_permitted(const struct proc *t, int sig);
/* A signal is waiting that may be delivered: sleeps end with -EINTR. */
bool  proc_signal_pending(void);
bool  proc_fatal_signal_pending(void);    /* one whose delivery ends the process */
bool  signal_deliverable(void);           /* a pending signal the caller does not block */
bool  signal_stops_default(int sig);      /* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU */
bool  signal_blocked_or_ignored(int sig); /* by the calling thread */
/* -ERESTARTSYS left in a syscall's result with no handler run: restart it. */
void  signal_restart_pending(struct trapframe *tf);
/* On the way back to user mode: run a handler, or take the default action. */
void  signal_deliver(struct trapframe *tf);
size_t signal_frame_bytes(void);          /* AT_MINSIGSTKSZ */
/* A fault's signal (SIGSEGV...): to the handler if there is one, else death. */
void  signal_fault(struct trapframe *tf, int sig);
/* ... with its si_code and si_addr (SIGTRAP's TRAP_TRACE, TRAP_HWBKPT...). */
void  signal_fault_info(struct trapframe *tf, int sig, int code, uint64_t addr);
__noreturn void fault_kill(struct trapframe *tf, int sig);   /* report and exit */
/* Death by signal sig (its siginfo code and address for a core's
 * NT_SIGINFO): a core file first if sig's action is "core" (coredump.c). */
__noreturn void proc_die_signaled(int sig, int code, uint64_t addr);
/* /proc/sys/kernel/core_pattern and core_uses_pid (coredump.c). */
const char *coredump_pattern(void);
int   coredump_set_pattern(const char *s, size_t n);     /* 0 or -EINVAL (too long) */
int   coredump_uses_pid(void);
void  coredump_set_uses_pid(int v);
int   proc_count(void);
void  fill_rusage(void *linux_rusage, uint64_t utime_ticks, uint64_t stime_ticks);

/* ---- sync.c: the kernel lock, sleeping mutexes ----
 * The kernel lock (a "big kernel lock", as Linux had until 2.6.39): a thread
 * holds it whenever it runs kernel code on behalf of a process (a syscall or
 * an exception from user mode) and gives it up while it sleeps and when it
 * returns to user mode. User code runs in parallel on every CPU; kernel code
 * of processes runs on one CPU at a time, and may switch only where it
 * sleeps, exactly as on one CPU. Interrupt handlers, the scheduler and the
 * idle loop do not take it; they use spinlocks. */
void  kernel_lock(void);
void  kernel_unlock(void);
void  kernel_unlock_sched_held(void);            /* the same, from under sched_lock */
bool  kernel_lock_held(void);                    /* by the running thread */
uint64_t kernel_lock_generation(void);          /* changes at every acquisition */

struct mutex {
    volatile uint32_t locked;
    struct proc *owner;
    const char *name;
    int cls;
};
#define MUTEX_INIT(n) { 0, NULL, (n), 0 }
void  mutex_lock(struct mutex *m);               /* sleeps while another thread holds it */
void  mutex_unlock(struct mutex *m);
bool  mutex_held(struct mutex *m);               /* by the running thread */

/* ---- sys_proc.c: port I/O (ioperm, iopl) ---- */
struct io_perm {
    uint64_t version;                   /* new at every change (tss_set_io_bitmap) */
    int iopl;                           /* iopl(2)'s level: 3 opens every port */
    uint8_t bits[IO_BITMAP_BYTES];      /* ioperm's: a set bit refuses its port */
};
/* schedule: p's ports on this CPU (none if it has none); sched_lock held. */
void  io_perm_load(struct proc *p);
/* p's PR_SET_TSC mode on this CPU (CR4.TSD set or clear). */
void  tsc_mode_load(struct proc *p);

/* ---- acct.c ---- */
/* The process l ends (its last thread, the caller, exits with wstatus):
 * its record in the accounting file, if acct(2) named one. Kernel lock held. */
void  acct_process_exit(struct proc *l, int wstatus);

/* ---- pidfd.c ---- */
/* A new pidfd (close-on-exec; flags: O_NONBLOCK) for process pid of that
 * serial: the descriptor or -errno. */
int   pidfd_new(int pid, uint64_t serial, int flags);
/* waitid(P_PIDFD): the pidfd's pid, *nonblock; -EBADF, -ECHILD. */
int   pidfd_waitid_pid(int fd, bool *nonblock);
/* A process exited: pidfd pollers look again; with sched_lock held. */
void  pidfd_exit_notify_locked(void);
/* May me look into t as a debugger may (ptrace.c's attach rule)? */
bool  ptrace_may_access(struct proc *me, struct proc *t);

/* ---- futex.c ---- */
long  futex_op(uint32_t *uaddr, int op, uint32_t val, const void *utimeout,
               uint32_t *uaddr2, uint32_t val3);
/* restart_syscall's futex: a timed wait a signal cut short, once more to
 * the same deadline (the word checked again). */
long  futex_restart(const struct restart_block *b);
long  futex_wake_addr(uint32_t *uaddr, int n);   /* CLONE_CHILD_CLEARTID at exit */
/* Recompute o's effective priority from its own and its PI waiters', and
 * pass it down the chain; with sched_lock held. */
void  pi_update(struct proc *o);
/* o is exiting: its PI waiters forget it and wake to take the lock over;
 * with sched_lock held. */
void  futex_owner_exit_locked(struct proc *o);

/* ---- sched.c ---- */
extern struct spinlock sched_lock;
void  sched_init(void);
__noreturn void sched_ap_start(int cpu);         /* an application processor's idle thread */
bool  proc_is_idle(struct proc *p);
/* Change p's effective priority (priority inheritance) or policy, with
 * sched_lock held; reschedules whatever CPU should now run something else. */
void  sched_set_prio_locked(struct proc *p, int prio);
int   sched_base_prio(struct proc *p);
void  sched_kick_locked(struct proc *p);         /* make p's CPU look at it soon (signals) */
void  schedule(void);                   /* with sched_lock held */
void  yield(void);
/* Sleep on chan with sched_lock held (it is held again on return). */
void  sleep_locked(void *chan);
void  sleep_uninterruptible_locked(void *chan);   /* D state: a lock, a buffer, the disk */
/* Like sleep_locked, but also usable before processes exist (halts instead). */
void  wait_locked(void *chan, uint64_t *flags);
void  wakeup(void *chan);
void  wakeup_locked(void *chan);
void  make_runnable_locked(struct proc *p);
/* Sleep for ticks timer ticks; -EINTR if a signal cut it short. */
long  sleep_ticks(uint64_t ticks);
__noreturn void idle_loop(void);
bool  sched_should_yield(void);
/* The fair class's clock (the dump of kernel/debug/watchdog.c prints it). */
uint64_t sched_min_vruntime_locked(void);
/* /proc/sys/kernel/threads-max: how many threads fork may make (EAGAIN past it). */
int   proc_threads_max(void);
void  sched_add(struct proc *p);
void  sched_remove(struct proc *p);
struct proc *sched_proc_at(int slot);
/* [sched_lock] to write: the process table's slots in use counted from 0;
 * every slot at or past it is empty (sched_add takes the lowest free one),
 * so a scan of the table stops there rather than at NPROC. */
extern int sched_nslots;
static inline int sched_slots(void) { return __atomic_load_n(&sched_nslots, __ATOMIC_RELAXED); }
/* What /proc/stat and /proc/loadavg print. */
struct sched_stats {
    uint64_t ctxt;              /* context switches since boot */
    int ncpu, running, blocked; /* threads runnable now; blocked: uninterruptible (none) */
    uint64_t user[MAX_CPUS], system[MAX_CPUS], idle[MAX_CPUS];   /* ticks per CPU */
    /* The load average: runnable threads, exponentially decayed over 1, 5
     * and 15 minutes, sampled every 5 s (Linux's definition; fixed point,
     * LOAD_FIXED_1 = 1.0). */
    uint64_t avenrun[3];
};
#define LOAD_FSHIFT 11
#define LOAD_FIXED_1 (1ul << LOAD_FSHIFT)
void  sched_get_stats(struct sched_stats *s);

/* ---- schedtrace.c: the scheduler's event ring (/proc/vigil/schedtrace) ----
 * The file is a header and then the records, oldest first, little-endian;
 * harness/trace.py reads them. */
enum { ST_SWITCH = 1,   /* cpu: tid (prev, 0 idle) -> a (next); arg0 prev's state; b, c prios */
       ST_WAKEUP,       /* tid made runnable by a (0: an idle CPU); b prio; c, d where */
       ST_BLOCK,        /* tid goes to sleep: arg0 why; a the PI lock's owner; b prio; c, d where */
       ST_PRIO,         /* tid's effective priority a -> b (c: its own; b > c: a PI loan) */
       ST_NEW,          /* tid published: a tgid, b by whom, c prio, d own prio; arg0 state */
       ST_NAME,         /* tid's name: 16 bytes from a (at NEW, THREAD and exec) */
       ST_THREAD };     /* as NEW, written by a clear for each live thread; cpu where it is */
enum { ST_WHY_OTHER, ST_WHY_SLEEP, ST_WHY_FUTEX, ST_WHY_PI_LOCK };
struct st_rec {
    uint64_t tsc;
    uint8_t type, cpu;
    uint16_t arg0;
    int32_t tid, a, b, c, d;
};
struct st_header {
    char magic[8];              /* "VIGILST1" */
    uint32_t rec_size, ncpu;
    uint64_t tsc_hz, written;   /* records written since the clear (more than count: lost) */
    uint32_t capacity, enabled;
    uint64_t tsc_now, count;    /* when read; records that follow */
};
/* Hooks, with sched_lock held (schedtrace_name takes it). */
void  schedtrace_switch(struct proc *prev, struct proc *next, int cpu);
void  schedtrace_wakeup(struct proc *p);
void  schedtrace_block(struct proc *p, void *chan);
void  schedtrace_prio(struct proc *p, int prio);
void  schedtrace_new(struct proc *p);
void  schedtrace_name(struct proc *p);
/* "1", "0", "clear" (a snapshot of the live threads follows), a newline
 * allowed: len, or -EINVAL. */
long  schedtrace_control(const char *cmd, size_t n);
/* The header and up to cap's worth of the newest records into dst: bytes. */
size_t schedtrace_snapshot(void *dst, size_t cap);
size_t schedtrace_max_bytes(void);

/* ---- sys/sys_limits.c: resource limits (the caller's process's) ---- */
void  rlimit_init(struct proc *p);               /* init's: Linux's defaults */
int   fd_limit(void);                            /* descriptors below this may be used */
size_t exec_stack_size(void);                    /* RLIMIT_STACK, for exec's stack region */
/* May mm grow by `more` bytes, after [start, start+len) is replaced (MAP_FIXED)? */
bool  rlimit_as_allows(struct mm *mm, uintptr_t start, size_t len, size_t more);
/* RLIMIT_FSIZE for n bytes written at pos: 0 (n cut down to the limit), or
 * -EFBIG with SIGXFSZ sent when pos is at or past it. */
long  fsize_check(uint64_t pos, size_t *n);
bool  nproc_allows(void);                        /* RLIMIT_NPROC: may this user start a thread? */

/* ---- ptimer.c: POSIX timers ---- */
#define NTIMERS 32                               /* per process */
struct ptimer;
void  ptimer_tick_locked(struct proc *leader, uint64_t now);   /* the boot CPU's tick */
void  ptimer_release(struct proc *leader);      /* exec, and the leader's last reference */
/* Timer id's signal is being taken: its overruns so far become what
 * timer_getoverrun and si_overrun say; with sched_lock held. */
int   ptimer_delivered_locked(struct proc *leader, int id);
/* The thread of process l that should take sig (one not blocking it,
 * rather); with sched_lock held. */
struct proc *signal_target_locked(struct proc *l, int sig);

/* ---- ptrace.c ---- */
/* The syscall path of a traced thread: the entry stop (returns the number
 * to run; -1: skip) and the exit stop (event stops first). */
long  ptrace_syscall_enter(struct trapframe *tf);
void  ptrace_syscall_exit(struct trapframe *tf);
/* With sched_lock held: a signal-delivery stop for sig (returns the signal
 * to deliver: 0 none); an INTERRUPT's or a new child's trap stop. */
int   ptrace_signal_stop_locked(struct proc *p, int sig);
void  ptrace_trap_stop_locked(struct proc *p);
/* With sched_lock held: p's process is in a group stop: report it to the
 * tracer and wait; true if the tracer let p run on, false to wait again. */
bool  ptrace_group_stop_locked(struct proc *p);
/* With sched_lock held: clone's child inherits the tracing; a thread's exit
 * (tracees report to their tracer; a tracer's tracees are let go). */
void  ptrace_clone_locked(struct proc *parent, struct proc *child, uint64_t flags);
void  ptrace_exit_locked(struct proc *p, int status, bool last);
/* wait4's share, with sched_lock held: a stop or exit of one of w's tracees
 * matching pid (-1: any); 1 with *rpid, *rstatus set, 0 none, and *have
 * set when w traces something it may wait for. */
int   ptrace_wait_locked(struct proc *w, int pid, int *rpid, int *rstatus, bool *have);
int   ptrace_tracer_pid(struct proc *p);        /* /proc/PID/status TracerPid */
bool  ptrace_tracer_privileged(struct proc *p); /* exec: untraced, or a root tracer */
void  ptrace_exit_event(int status);             /* PTRACE_O_TRACEEXIT, before exit lets go */
void  ptrace_init(void);                         /* #DB: single steps and hardware breakpoints */
void  ptrace_exec_reset(struct proc *p);         /* exec drops the debug registers, as Linux */

/* ---- exec.c ---- */
long  exec(const char *path, char *const uargv[], char *const uenvp[], bool from_user);
/* execveat(2): path from dirfd; flags AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW. */
long  exec_at(int dirfd, const char *path, char *const uargv[], char *const uenvp[], int flags,
              bool from_user);
