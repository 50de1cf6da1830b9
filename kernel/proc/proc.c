/* proc/proc.c - process life cycle: creation (the first process, fork),
 * death (exit, fatal signals and faults), and the parent's side (wait4). */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../sys/sys.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

static int next_pid = 1;
static struct proc *initproc;
extern void fork_trampoline(void);

int proc_count(void)
{
    int n = 0;
    for (int i = 0; i < NPROC; i++)
        n += sched_proc_at(i) != NULL;
    return n;
}

static struct proc *find_proc(int pid)
{
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = sched_proc_at(i);
        if (p && p->pid == pid && p->state != P_UNUSED)
            return p;
    }
    return NULL;
}

/* A process with a kernel stack whose top holds a trapframe, and whose saved
 * context resumes in fork_trampoline, which returns to user mode through
 * that trapframe. */
static struct proc *proc_alloc(void)
{
    if (proc_count() >= NPROC)
        return NULL;
    struct proc *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    if (!kstack_alloc(&p->kstack)) {
        kfree(p);
        return NULL;
    }
    p->state = P_EMBRYO;
    p->tf = (struct trapframe *)(p->kstack.top - sizeof(struct trapframe));
    uint64_t *sp = (uint64_t *)p->tf;
    *--sp = (uint64_t)fork_trampoline;      /* swtch's ret lands here */
    for (int i = 0; i < 6; i++)
        *--sp = 0;                          /* rbp rbx r12-r15 */
    p->ctx = (uint64_t)sp;
    p->start_tick = timer_ticks();
    return p;
}

static void proc_free(struct proc *p)
{
    kstack_free(&p->kstack);
    kfree(p);
}

static void publish(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    p->pid = next_pid++;
    sched_add(p);
    p->state = P_RUNNABLE;
    spin_unlock_irqrestore(&sched_lock, f);
}

void proc_init(void)
{
    sched_init();
}

int proc_spawn_init(const char *path, char *const argv[])
{
    struct proc *p = proc_alloc();
    if (!p)
        return -ENOMEM;
    p->mm = mm_create();
    if (!p->mm)
        return -ENOMEM;
    /* fds 0, 1, 2: the console. */
    for (int fd = 0; fd < 3; fd++)
        p->files[fd] = console_open();
    p->cwd = vfs_root();
    strlcpy(p->cwd_path, "/", sizeof(p->cwd_path));
    p->umask = 022;
    initproc = p;
    /* exec runs in the context of the process it replaces: borrow it. */
    struct proc *self = current();
    this_cpu()->current = p;
    mm_activate(p->mm);
    long r = exec(path, argv, NULL, false);
    this_cpu()->current = self;
    if (r < 0)
        return (int)r;
    publish(p);
    return p->pid;
}

long proc_fork(void)
{
    struct proc *parent = current(), *child = proc_alloc();
    if (!child)
        return -EAGAIN;
    child->mm = mm_fork(parent->mm);
    if (!child->mm) {
        proc_free(child);
        return -ENOMEM;
    }
    *child->tf = *parent->tf;
    child->tf->rax = 0;                     /* fork returns 0 in the child */
    for (int fd = 0; fd < NOFILE; fd++)
        if (parent->files[fd])
            child->files[fd] = file_dup(parent->files[fd]);
    child->cloexec = parent->cloexec;
    child->cwd = parent->cwd ? iget(parent->cwd) : NULL;
    child->umask = parent->umask;
    child->uid = parent->uid, child->euid = parent->euid, child->suid = parent->suid;
    child->gid = parent->gid, child->egid = parent->egid, child->sgid = parent->sgid;
    memcpy(child->cwd_path, parent->cwd_path, sizeof(child->cwd_path));
    memcpy(child->name, parent->name, sizeof(child->name));
    child->parent = parent;
    child->fs_base = rdmsr(MSR_FS_BASE);
    fpu_save(&child->fpu);                  /* the parent's live registers */
    child->vruntime = parent->vruntime;
    child->nice = parent->nice;
    memcpy(child->actions, parent->actions, sizeof(child->actions));
    child->sig_blocked = parent->sig_blocked;
    publish(child);
    return child->pid;
}

void proc_exit(int wstatus)
{
    struct proc *p = current();
    if (p == initproc) {
        if (wstatus & 0x7f)
            kprintf("vigil: init killed by signal %d; powering off\n", wstatus & 0x7f);
        else
            kprintf("vigil: init exited with status %d; powering off\n", (wstatus >> 8) & 0xff);
        vfs_shutdown();
        qemu_exit(EXIT_OK);
    }
    for (int fd = 0; fd < NOFILE; fd++)
        if (p->files[fd]) {
            file_close(p->files[fd]);
            p->files[fd] = NULL;
        }
    mm_destroy(p->mm);
    p->mm = NULL;
    iput(p->cwd);
    p->cwd = NULL;

    uint64_t f = spin_lock_irqsave(&sched_lock);
    (void)f;
    /* Orphans go to init, which reaps them. */
    bool zombie_children = false;
    for (int i = 0; i < NPROC; i++) {
        struct proc *c = sched_proc_at(i);
        if (c && c->parent == p) {
            c->parent = initproc;
            zombie_children |= c->state == P_ZOMBIE;
        }
    }
    if (zombie_children)
        wakeup_locked(initproc);
    p->xstatus = wstatus;
    p->state = P_ZOMBIE;
    signal_send_locked(p->parent, SIGCHLD, p->pid);
    wakeup_locked(p->parent);
    schedule();
    panic("zombie %d ran again", p->pid);
}

struct rusage_linux {
    int64_t utime_sec, utime_usec, stime_sec, stime_usec;
    int64_t rest[14];
};

static void ticks_to_tv(uint64_t ticks, int64_t *sec, int64_t *usec)
{
    uint64_t us = ticks * (1000000 / timer_hz());
    *sec = (int64_t)(us / 1000000);
    *usec = (int64_t)(us % 1000000);
}

void fill_rusage(void *ru, uint64_t utime, uint64_t stime)
{
    struct rusage_linux *r = ru;
    memset(r, 0, sizeof(*r));
    ticks_to_tv(utime, &r->utime_sec, &r->utime_usec);
    ticks_to_tv(stime, &r->stime_sec, &r->stime_usec);
}

#define WNOHANG 1

long proc_wait4(int pid, int *ustatus, int options, void *urusage)
{
    struct proc *p = current();
    if (options & ~(WNOHANG | 2 /* WUNTRACED */ | 8 /* WCONTINUED */ | 0x40000000 /* __WALL */))
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (;;) {
        bool have = false;
        for (int i = 0; i < NPROC; i++) {
            struct proc *c = sched_proc_at(i);
            if (!c || c->parent != p || (pid > 0 && c->pid != pid))
                continue;
            have = true;
            if (c->state != P_ZOMBIE)
                continue;
            int cpid = c->pid, status = c->xstatus;
            uint64_t ut = c->utime + c->cutime, st = c->stime + c->cstime;
            p->cutime += ut;
            p->cstime += st;
            sched_remove(c);
            spin_unlock_irqrestore(&sched_lock, f);
            proc_free(c);
            if (ustatus && copy_to_user(ustatus, &status, sizeof(status)))
                return -EFAULT;
            if (urusage) {
                struct rusage_linux ru;
                fill_rusage(&ru, ut, st);
                if (copy_to_user(urusage, &ru, sizeof(ru)))
                    return -EFAULT;
            }
            return cpid;
        }
        if (!have) {
            spin_unlock_irqrestore(&sched_lock, f);
            return -ECHILD;
        }
        if ((options & WNOHANG) || proc_signal_pending()) {
            spin_unlock_irqrestore(&sched_lock, f);
            return (options & WNOHANG) ? 0 : -EINTR;
        }
        sleep_locked(p);
    }
}

long proc_kill(int pid, int sig)
{
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    if (pid <= 0)
        return -ESRCH;          /* process groups are not implemented */
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *p = find_proc(pid);
    if (p && p->state != P_ZOMBIE && sig)
        signal_send_locked(p, sig, current()->pid);
    spin_unlock_irqrestore(&sched_lock, f);
    return p ? 0 : -ESRCH;
}

void return_to_user_work(struct trapframe *tf)
{
    for (;;) {
        signal_deliver(tf);
        if (!sched_should_yield())
            return;
#ifdef BREAK_PREEMPT
        /* Cooperative: switch only when the process itself enters the
         * kernel, never because an interrupt arrived. */
        if (tf->vector != SYSCALL_VECTOR)
            return;
#endif
        yield();
    }
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGBUS: return "SIGBUS";
    case SIGTRAP: return "SIGTRAP";
    default: return "signal";
    }
}

/* The one-line report of a fault nobody handles, then death. */
__noreturn void fault_kill(struct trapframe *tf, int sig)
{
    struct proc *p = current();
    if (tf->vector == T_PAGE_FAULT)
        kprintf("vigil: pid %d (%s) killed by %s: %s at 0x%lx (%s, %s) rip=0x%lx\n",
                p->pid, p->name, signame(sig), trap_name((int)tf->vector), read_cr2(),
                tf->error & PF_IFETCH ? "exec" : tf->error & PF_WRITE ? "write" : "read",
                tf->error & PF_PRESENT ? "protection" : "not mapped", tf->rip);
    else
        kprintf("vigil: pid %d (%s) killed by %s: %s rip=0x%lx\n", p->pid, p->name,
                signame(sig), trap_name((int)tf->vector), tf->rip);
    proc_exit(W_SIGNALED(sig));
}

void user_fault(struct trapframe *tf)
{
    int sig;
    switch (tf->vector) {
    case T_DIVIDE: case 16: case 19: sig = SIGFPE; break;
    case T_INVALID_OP: sig = SIGILL; break;
    case T_DEBUG: case T_BREAKPOINT: sig = SIGTRAP; break;
    case 17: sig = SIGBUS; break;                   /* alignment check */
    default: sig = SIGSEGV; break;                  /* #GP, #PF, #SS, #NP... */
    }
    signal_fault(tf, sig);
}
