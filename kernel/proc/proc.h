/* proc/proc.h - processes and the scheduler.
 *
 * A process is an address space (struct mm), open files, and one kernel
 * thread of control with its own kernel stack. Its user registers live in
 * the trapframe at the top of that stack while it is in the kernel. */
#pragma once
#include "../lib/types.h"
#include "../lib/spinlock.h"
#include "../mm/mm.h"
#include "../arch/x86_64/arch.h"

#define NPROC   256
#define NSIG    64
#define NOFILE  64

enum pstate { P_UNUSED, P_EMBRYO, P_RUNNABLE, P_RUNNING, P_SLEEPING, P_ZOMBIE };

struct file;

struct proc {
    int pid;
    char name[16];
    enum pstate state;
    struct proc *parent;
    struct kstack kstack;
    uint64_t ctx;               /* saved kernel stack pointer (swtch.asm) */
    struct trapframe *tf;       /* user registers, at the top of kstack */
    struct mm *mm;
    struct file *files[NOFILE];
    struct inode *cwd;          /* working directory */
    char cwd_path[256];         /* ... and its name, for getcwd */
    uint32_t umask;
    uint32_t uid, euid, suid, gid, egid, sgid;   /* credentials (no supplementary groups) */
    uint64_t cloexec;           /* bit n: close fd n on exec (fds < 64) */

    void *chan;                 /* what it sleeps on */
    uint64_t wake_tick;         /* timed sleep: wake at this tick (0: none) */
    uint64_t sig_pending;       /* bit n-1: signal n pending */
    uint64_t sig_blocked;       /* bit n-1: signal n blocked (sigprocmask) */
    struct sigaction_k {
        uint64_t handler;       /* SIG_DFL (0), SIG_IGN (1) or a function */
        uint64_t flags;         /* SA_* */
        uint64_t restorer;      /* where the handler returns: rt_sigreturn */
        uint64_t mask;          /* blocked while the handler runs */
    } actions[NSIG];
    int sig_sender[NSIG];       /* who sent each pending signal (siginfo si_pid) */
    long syscall_nr;            /* the syscall in progress (for SA_RESTART) */
    int xstatus;                /* wait status once a zombie */
    uint64_t fs_base;           /* TLS base (arch_prctl) */
    struct fpu_state fpu;       /* SSE/x87 registers while switched out */
    uintptr_t clear_child_tid;

    /* Scheduling: a virtual-runtime policy (see sched.c). */
    uint64_t vruntime;          /* weighted ns of CPU used */
    int nice;
    uint64_t slice_start;       /* tick when it last got the CPU */

    /* CPU accounting, in ticks. */
    uint64_t utime, stime, cutime, cstime;
    uint64_t start_tick;
};

/* ---- proc.c ---- */
struct proc *current(void);
void  proc_init(void);
int   proc_spawn_init(const char *path, char *const argv[]);
long  proc_fork(void);
__noreturn void proc_exit(int wstatus);
long  proc_wait4(int pid, int *ustatus, int options, void *urusage);
long  proc_kill(int pid, int sig);

/* ---- signal.c ---- */
/* Make sig pending on p (with sched_lock held); sender is a pid or 0. */
void  signal_send_locked(struct proc *p, int sig, int sender);
/* A signal is waiting that may be delivered: sleeps end with -EINTR. */
bool  proc_signal_pending(void);
/* On the way back to user mode: run a handler, or take the default action. */
void  signal_deliver(struct trapframe *tf);
/* A fault's signal (SIGSEGV...): to the handler if there is one, else death. */
void  signal_fault(struct trapframe *tf, int sig);
__noreturn void fault_kill(struct trapframe *tf, int sig);   /* report and exit */
int   proc_count(void);
void  fill_rusage(void *linux_rusage, uint64_t utime_ticks, uint64_t stime_ticks);

/* ---- sched.c ---- */
extern struct spinlock sched_lock;
void  sched_init(void);
void  schedule(void);                   /* with sched_lock held */
void  yield(void);
/* Sleep on chan with sched_lock held (it is held again on return). */
void  sleep_locked(void *chan);
/* Like sleep_locked, but also usable before processes exist (halts instead). */
void  wait_locked(void *chan, uint64_t *flags);
void  wakeup(void *chan);
void  wakeup_locked(void *chan);
void  make_runnable_locked(struct proc *p);
/* Sleep for ticks timer ticks; -EINTR if a signal cut it short. */
long  sleep_ticks(uint64_t ticks);
__noreturn void idle_loop(void);
bool  sched_should_yield(void);
void  sched_add(struct proc *p);
void  sched_remove(struct proc *p);
struct proc *sched_proc_at(int slot);

/* ---- exec.c ---- */
long  exec(const char *path, char *const uargv[], char *const uenvp[], bool from_user);

/* Wait-status encoding, as Linux and musl's W* macros read it. */
#define W_EXITED(code)   (((code) & 0xff) << 8)
#define W_SIGNALED(sig)  ((sig) & 0x7f)

#define SIGHUP   1
#define SIGINT   2
#define SIGQUIT  3
#define SIGILL   4
#define SIGTRAP  5
#define SIGABRT  6
#define SIGBUS   7
#define SIGFPE   8
#define SIGKILL  9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGURG  23
#define SIGWINCH 28
