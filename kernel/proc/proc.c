/* proc/proc.c - process life cycle: creation (the first process, fork),
 * death (exit, fatal signals and faults), and the parent's side (wait4). */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../ipc/ipc.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

static int next_pid = 1;
static bool next_pid_reused;            /* [sched_lock] ns_last_pid was written: pids may be in use */
static uint64_t next_serial = 1;
/* waitid's own mark (no Linux flag): a non-blocking pidfd's wait found nothing: EAGAIN. */
#define PIDFD_WAIT_EAGAIN 0x10000000        /* [sched_lock] struct proc's serial */
static void orphan_check_locked(struct proc *l, const int *groups, int n);
static struct proc *initproc;
extern void fork_trampoline(void);

int proc_count(void)
{
    int n = 0;
    for (int i = 0; i < sched_slots(); i++)
        n += sched_proc_at(i) != NULL;
    return n;
}

struct proc *proc_find_thread(int tid)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (p && p->pid == tid && p->state != P_UNUSED && p->state != P_DEAD)
            return p;
    }
    return NULL;
}

/* Threads that have exited are freed here, by whoever next creates or reaps:
 * taking sched_lock proves the dead thread has switched off its stack (it
 * held the lock across that switch). */
static void proc_free(struct proc *p);
static void proc_reap_dead(void)
{
    for (;;) {
        struct proc *dead = NULL;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        for (int i = 0; i < sched_slots() && !dead; i++) {
            struct proc *p = sched_proc_at(i);
            if (p && p->state == P_DEAD)
                dead = p;
        }
        if (dead)
            sched_remove(dead);
        spin_unlock_irqrestore(&sched_lock, f);
        if (!dead)
            return;
        proc_free(dead);
    }
}

/* Threads made by proc_alloc and not yet freed by proc_free, published or
 * not: every slot of the table is one of them, so while this stays within
 * NPROC, sched_add always finds a slot, however many forks sleep between
 * proc_alloc and publishing their child. */
static int nthreads_alloc;                  /* [sched_lock] */

int proc_threads_max(void)
{
    /* Linux's set_max_threads: RAM / (8 x a kernel stack), at least 20. */
    uint64_t n = pmm_total_frames() / (8 * KSTACK_PAGES);
    return n < 20 ? 20 : n > NPROC ? NPROC : (int)n;
}

/* A thread with a kernel stack whose top holds a trapframe, and whose saved
 * context resumes in fork_trampoline, which returns to user mode through
 * that trapframe. */
static struct proc *proc_alloc(void)
{
    proc_reap_dead();
    int limit = proc_threads_max();
#ifdef BREAK_THREADS_MAX
    limit = NPROC;                              /* the break switch: threads-max is only reported */
#endif
    /* INVARIANT(memory under pressure): no more threads than threads-max,
     * so kernel stacks take at most an eighth of memory, and the limit
     * /proc/sys/kernel/threads-max reports is the one fork meets (EAGAIN). */
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    bool room = nthreads_alloc < limit;
    nthreads_alloc += room;
    spin_unlock_irqrestore(&sched_lock, fl);
    if (!room)
        return NULL;
    struct proc *p = kzalloc(sizeof(*p));
    if (p && !kstack_alloc(&p->kstack)) {
        kfree(p);
        p = NULL;
    }
    if (!p) {
        fl = spin_lock_irqsave(&sched_lock);
        nthreads_alloc--;
        spin_unlock_irqrestore(&sched_lock, fl);
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
    p->affinity = ~0ul;
    p->leader = p;
    p->nthreads = 1;
    p->exit_signal = SIGCHLD;
    p->timer_slack = p->timer_slack_default = 50000;   /* ns: Linux's default */
    uint64_t f = spin_lock_irqsave(&sched_lock);
    p->serial = next_serial++;
    spin_unlock_irqrestore(&sched_lock, f);
    return p;
}

static void sighand_put(struct sighand *s);

/* The handlers stay until the thread is freed: a zombie may still be sent
 * signals (SIGCHLD from a child exiting at the same moment). */
static void proc_free(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {       /* the rule in proc.h: no PI waiter points here */
        struct proc *w = sched_proc_at(i);
        ASSERT(!w || w->pi_owner != p);
    }
    nthreads_alloc--;
    signal_flush_locked(p);                 /* what a zombie was sent after its exit */
    spin_unlock_irqrestore(&sched_lock, f);
    sighand_put(p->sh);
    if (p->ptimers)
        ptimer_release(p);
    if (p->scratch)
        pmm_free(V2P(p->scratch));
    kfree(p->io);
    kstack_note(&p->kstack);                /* how deep it went, for the report */
    kstack_free(&p->kstack);
    kfree(p);
}

void *proc_scratch_page(void)
{
    struct proc *p = current();
    if (!p->scratch) {
        uint64_t pa = pmm_alloc();
        p->scratch = pa ? P2V(pa) : NULL;
    }
    return p->scratch;
}

/* Is pid some thread's, process's, group's or session's? (After a write to
 * ns_last_pid the numbers come round again.) With sched_lock held. */
static bool pid_used_locked(int pid)
{
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (p && p->state != P_UNUSED && p->state != P_DEAD &&
            (p->pid == pid || p->tgid == pid || p->pgid == pid || p->sid == pid))
            return true;
    }
    return false;
}

static int next_pid_locked(void)
{
    ASSERT_HELD(&sched_lock);
    for (;;) {
        if (next_pid >= PID_MAX_VIGIL) {
            next_pid = PID_WRAP_FIRST;          /* round again: pids may be in use now */
            next_pid_reused = true;
        }
        if (!next_pid_reused || !pid_used_locked(next_pid))
            return next_pid++;
        next_pid++;
    }
}

long proc_set_last_pid(long pid)
{
    if (current()->euid != 0)
        return -EPERM;                          /* Linux: CAP_SYS_ADMIN (CAP_CHECKPOINT_RESTORE) */
    if (pid < 0 || pid >= PID_MAX_VIGIL)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    next_pid = (int)pid + 1;
    next_pid_reused = true;
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

static int alloc_pid(void)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    int pid = next_pid_locked();
    spin_unlock_irqrestore(&sched_lock, f);
    return pid;
}

static void publish(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (!p->pid)
        p->pid = next_pid_locked();
    if (p->leader == p)
        p->tgid = p->pid;
    if (p->leader == p && !p->pgid)
        p->pgid = p->sid = p->pid;          /* the first process leads its own */
    sched_add(p);
    p->state = P_SLEEPING;
    make_runnable_locked(p);
    spin_unlock_irqrestore(&sched_lock, f);
}

/* ---- the shared parts ---- */
static struct fsinfo *fsinfo_dup(struct fsinfo *o)
{
    struct fsinfo *n = kzalloc(sizeof(*n));
    if (!n)
        return NULL;
    *n = *o;
    n->refs = 1;
    n->cwd = o->cwd ? iget(o->cwd) : NULL;
    n->root = o->root ? iget(o->root) : NULL;
    return n;
}

void fsinfo_put(struct fsinfo *f)
{
    if (!f || --f->refs)
        return;
    iset(&f->cwd, NULL);
    iset(&f->root, NULL);
    kfree(f);
}

/* unshare(2): the parts of a process clone() may share, made the caller's
 * own again. The descriptor table and the working directory and umask
 * (CLONE_FILES, CLONE_FS); CLONE_SYSVSEM has nothing per process to part
 * with here. CLONE_THREAD, CLONE_SIGHAND and CLONE_VM are allowed only when
 * there is nothing to unshare (one thread), as Linux. Namespaces are not
 * Vigil's: EPERM without root (Linux's answer then), EINVAL with it. */
long proc_unshare(unsigned long flags)
{
    struct proc *p = current();
    unsigned long known = CLONE_FILES | CLONE_FS | CLONE_SYSVSEM | CLONE_THREAD | CLONE_SIGHAND |
                          CLONE_VM | CLONE_NEWNS_ALL;
    if (flags & ~known)
        return -EINVAL;
    if (flags & CLONE_NEWNS_ALL)
        return p->euid != 0 ? -EPERM : -EINVAL;
    if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) &&
        (p->leader->nthreads > 1 || ((flags & CLONE_VM) && __atomic_load_n(&p->mm->users, __ATOMIC_RELAXED) > 1)))
        return -EINVAL;
    if ((flags & CLONE_FS) && p->fs->refs > 1) {
        struct fsinfo *n = fsinfo_dup(p->fs);
        if (!n)
            return -ENOMEM;
        fsinfo_put(p->fs);
        p->fs = n;
    }
    if (flags & CLONE_FILES)
        return fdtable_unshare(p, INT32_MAX);
    return 0;
}

static struct sighand *sighand_dup(struct sighand *o)
{
    struct sighand *n = kzalloc(sizeof(*n));
    if (!n)
        return NULL;
    if (o)
        *n = *o;
    n->refs = 1;
    return n;
}

static void sighand_put(struct sighand *s)
{
    if (s && !--s->refs)
        kfree(s);
}

void proc_init(void)
{
    sched_init();
    ptrace_init();                  /* #DB: steps and hardware breakpoints */
}

int proc_spawn_init(const char *path, char *const argv[])
{
    struct proc *p = proc_alloc();
    if (!p)
        return -ENOMEM;
    p->mm = mm_create();
    p->fdt = fdtable_new();
    p->sh = sighand_dup(NULL);
    p->fs = kzalloc(sizeof(*p->fs));
    if (!p->mm || !p->fdt || !p->sh || !p->fs)
        return -ENOMEM;
    /* fds 0, 1, 2: the console. */
    for (int fd = 0; fd < 3; fd++)
        p->fdt->fd[fd] = console_open();         /* (a new table has 64 slots) */
    p->fs->refs = 1;
    p->fs->cwd = vfs_root();
    strlcpy(p->fs->cwd_path, "/", sizeof(p->fs->cwd_path));
    p->fs->umask = 022;
    rlimit_init(p);
    initproc = p;
    /* exec runs in the context of the thread it replaces: borrow it. */
    struct proc *self = current();
    this_cpu()->current = p;
    mm_activate(p->mm);
    kernel_lock();                  /* exec's contract, as for any process (uncontended) */
    long r = exec(path, argv, NULL, false);
    kernel_unlock();
    this_cpu()->current = self;
    mm_activate(NULL);
    if (r < 0)
        return (int)r;
    publish(p);
    return p->pid;
}

#define CLONE_SUPPORTED (0xff | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | \
                         CLONE_PARENT | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | \
                         CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | \
                         CLONE_CHILD_SETTID | CLONE_PIDFD | CLONE_IO)

/* A clone that failed before the child was published: drop what it holds. */
static long clone_undo(struct proc *child, long err)
{
    if (child->mm)
        mm_put(child->mm);
    fdtable_put(child->fdt);
    fsinfo_put(child->fs);
    proc_free(child);
    return err;
}

static bool child_alive_vfork(int pid, struct proc *parent)
{
    struct proc *c = proc_find_thread(pid);
    return c && c->vfork_parent == parent && c->state != P_ZOMBIE;
}

long proc_clone(uint64_t flags, uintptr_t newsp, int *ptid, int *ctid, uint64_t tls, int *upidfd)
{
    struct proc *parent = current();
    /* Linux's rules: a thread shares the handlers, which needs a shared
     * address space; namespaces and the rest are not supported. */
    if (flags & ~(uint64_t)CLONE_SUPPORTED)
        return -EINVAL;
    if (((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND)) ||
        ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM)))
        return -EINVAL;
    if ((flags & 0xff) > NSIG)
        return -EINVAL;
    if ((flags & CLONE_PIDFD) && (flags & (CLONE_THREAD | CLONE_DETACHED)))
        return -EINVAL;                     /* a pidfd names a process, not a thread */
    if ((flags & CLONE_SETTLS) && tls >= USER_TOP)
        return -EPERM;
    if (!nproc_allows())
        return -EAGAIN;                     /* RLIMIT_NPROC */
    if (parent->policy == SCHED_DEADLINE)
        return -EAGAIN;                     /* Linux: a deadline reservation is not forked */
    struct proc *child = proc_alloc();
    if (!child)
        return -EAGAIN;
    if (flags & CLONE_VM) {
        mm_get(parent->mm);
        child->mm = parent->mm;
    } else {
        child->mm = mm_fork(parent->mm);
    }
    int fdt_err = -ENOMEM;
    if (flags & CLONE_FILES)
        (child->fdt = parent->fdt)->refs++;
    else
        child->fdt = fdtable_dup(parent->fdt, INT32_MAX, &fdt_err);
    if (flags & CLONE_FS)
        (child->fs = parent->fs)->refs++;
    else
        child->fs = fsinfo_dup(parent->fs);
    if (flags & CLONE_SIGHAND)
        (child->sh = parent->sh)->refs++;
    else
        child->sh = sighand_dup(parent->sh);
    if (parent->io && (child->io = kmalloc(sizeof(*child->io))))
        *child->io = *parent->io;           /* the ports go with it (same version: same bits) */
    if (!child->fdt)
        return clone_undo(child, fdt_err);      /* -ENOMEM, or -EMFILE past fs.nr_open */
    if (!child->mm || !child->fs || !child->sh || (parent->io && !child->io))
        return clone_undo(child, -ENOMEM);
    *child->tf = *parent->tf;
    child->tf->rax = 0;                     /* clone returns 0 in the child */
    if (newsp)
        child->tf->rsp = newsp;
    child->uid = parent->uid, child->euid = parent->euid, child->suid = parent->suid;
    child->gid = parent->gid, child->egid = parent->egid, child->sgid = parent->sgid;
    child->fsuid = parent->fsuid, child->fsgid = parent->fsgid;
    memcpy(child->groups, parent->groups, sizeof(child->groups));
    child->ngroups = parent->ngroups;
    memcpy(child->rlim, parent->leader->rlim, sizeof(child->rlim));
    child->dumpable = parent->leader->dumpable;
    child->no_new_privs = parent->no_new_privs;
    child->ioprio = parent->ioprio;
    /* Timer slack: the child's current and default are the parent's current. */
    child->timer_slack = child->timer_slack_default = parent->timer_slack;
    child->tsc_sigsegv = parent->tsc_sigsegv;
    child->personality = parent->leader->personality;
    /* A thread on its own stack starts without the alternate one (Linux:
     * CLONE_VM without CLONE_VFORK); fork keeps it. */
    bool own_stack = (flags & CLONE_VM) && !(flags & CLONE_VFORK);
    child->sas_sp = own_stack ? 0 : parent->sas_sp;
    child->sas_size = own_stack ? 0 : parent->sas_size;
    child->sas_flags = own_stack ? SS_DISABLE : parent->sas_flags;
    memcpy(child->name, parent->name, sizeof(child->name));
    child->fs_base = (flags & CLONE_SETTLS) ? tls : rdmsr(MSR_FS_BASE);
    fpu_save(&child->fpu);                  /* the parent's live registers */
    child->pkru = cpu_pku ? rdpkru() : 0;   /* ... PKRU among them */
    child->vruntime = parent->vruntime;
    child->nice = parent->nice;
    child->policy = parent->policy;
    child->rt_priority = parent->rt_priority;
    child->prio = sched_base_prio(child);
    child->affinity = parent->affinity;
    child->sig_blocked = parent->sig_blocked;
    child->pid = alloc_pid();
    if (flags & CLONE_THREAD) {
        child->leader = parent->leader;
        child->tgid = parent->tgid;
        child->parent = parent->leader->parent;
        child->nthreads = 0;
        uint64_t f = spin_lock_irqsave(&sched_lock);    /* nthreads is [sched_lock] */
        parent->leader->nthreads++;
        spin_unlock_irqrestore(&sched_lock, f);
    } else {
        child->tgid = child->pid;
        child->exit_signal = (int)(flags & 0xff);   /* 0: the parent hears nothing */
        child->parent = (flags & CLONE_PARENT) ? parent->leader->parent : parent->leader;
        child->pgid = parent->leader->pgid;     /* fork keeps the group and session */
        child->sid = parent->leader->sid;
    }
    if (flags & CLONE_CHILD_CLEARTID)
        child->clear_child_tid = (uintptr_t)ctid;
    /* The ids are written before the child can run, as on Linux. */
    if ((flags & CLONE_PARENT_SETTID) && copy_to_user(ptid, &child->pid, sizeof(int)))
        goto fault;
    if (flags & CLONE_CHILD_SETTID) {
        if (!user_range_ok((uintptr_t)ctid, sizeof(int)) ||
            mm_write(child->mm, (uintptr_t)ctid, &child->pid, sizeof(int)))
            goto fault;
    }
    if (flags & CLONE_PIDFD) {
        /* Written before the child can run, so a bad pointer undoes the clone. */
        int pfd = pidfd_new(child->pid, child->serial, 0);
        if (pfd < 0)
            return clone_undo(child, pfd);  /* (never a thread: refused above) */
        if (copy_to_user(upidfd, &pfd, sizeof(pfd))) {
            sys_close(pfd);
            goto fault;
        }
    }
    if (flags & CLONE_VFORK)
        child->vfork_parent = parent;
    {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        ptrace_clone_locked(parent, child, flags);  /* TRACEFORK/VFORK/CLONE */
        spin_unlock_irqrestore(&sched_lock, f);
    }
    if (!(flags & CLONE_THREAD))
        child->ctty = parent->leader->ctty;     /* (no sleep until published) */
    int pid = child->pid;
    publish(child);
    if (flags & CLONE_VFORK) {
        /* The parent waits until the child has let go of the shared memory
         * (exec or exit). */
        uint64_t f = spin_lock_irqsave(&sched_lock);
        while (child_alive_vfork(pid, parent))
            sleep_locked(&parent->vfork_parent);
        spin_unlock_irqrestore(&sched_lock, f);
    }
    return pid;
fault:
    if (flags & CLONE_THREAD) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        parent->leader->nthreads--;
        spin_unlock_irqrestore(&sched_lock, f);
    }
    return clone_undo(child, -EFAULT);
}

long proc_fork(void)
{
    return proc_clone(SIGCHLD, 0, NULL, NULL, 0, NULL);
}

void proc_vfork_release(struct proc *p)
{
    if (!p->vfork_parent)
        return;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *parent = p->vfork_parent;
    p->vfork_parent = NULL;
    wakeup_locked(&parent->vfork_parent);
    spin_unlock_irqrestore(&sched_lock, f);
}

/* Tell every other thread of the process to go (SIGKILL, which cannot be
 * caught), waking it and kicking its CPU; with sched_lock held. */
static void kill_siblings_locked(struct proc *self, bool quietly)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *t = sched_proc_at(i);
        if (!t || t == self || t->tgid != self->tgid || t->state == P_ZOMBIE || t->state == P_DEAD)
            continue;
        if (quietly)
            t->exit_thread_only = true;
        t->sig_pending |= 1ul << (SIGKILL - 1);
        make_runnable_locked(t);
        sched_kick_locked(t);
    }
}

void proc_kill_other_threads(void)
{
    struct proc *p = current();
    if (p->leader->nthreads <= 1)
        return;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    kill_siblings_locked(p, true);
    spin_unlock_irqrestore(&sched_lock, f);
}

void proc_exit_group(int wstatus)
{
    struct proc *p = current(), *l = p->leader;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (!l->group_exiting && !p->exit_thread_only) {
        l->group_exiting = true;
        l->group_status = wstatus;
        kill_siblings_locked(p, false);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    proc_exit(wstatus);
}

bool coredump_write(int sig, int code, uint64_t addr);

/* Death by a signal: the group's other threads are killed first, then, if
 * the signal's default action is "core", a core file is written
 * (coredump.c) and the status says so (WCOREDUMP, 0x80). */
__noreturn void proc_die_signaled(int sig, int code, uint64_t addr)
{
    struct proc *p = current(), *l = p->leader;
    const uint64_t core_sigs = (1ul << (SIGQUIT - 1)) | (1ul << (SIGILL - 1)) |
        (1ul << (SIGTRAP - 1)) | (1ul << (SIGABRT - 1)) | (1ul << (SIGBUS - 1)) |
        (1ul << (SIGFPE - 1)) | (1ul << (SIGSEGV - 1)) | (1ul << (SIGXCPU - 1)) |
        (1ul << (SIGXFSZ - 1)) | (1ul << (SIGSYS - 1));
    bool first = false;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (!l->group_exiting && !p->exit_thread_only) {
        l->group_exiting = true;
        l->group_status = W_SIGNALED(sig);
        kill_siblings_locked(p, false);
        first = true;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    if (first && (core_sigs >> (sig - 1) & 1)) {
        if (!kernel_lock_held())
            kernel_lock();
        if (coredump_write(sig, code, addr)) {
            f = spin_lock_irqsave(&sched_lock);
            l->group_status |= 0x80;
            spin_unlock_irqrestore(&sched_lock, f);
        }
    }
    proc_exit(W_SIGNALED(sig));
}

static void power_off_with(int wstatus)
{
    if (wstatus & 0x7f)
        kprintf("vigil: init killed by signal %d; powering off\n", wstatus & 0x7f);
    else
        kprintf("vigil: init exited with status %d; powering off\n", (wstatus >> 8) & 0xff);
    vfs_shutdown();
    qemu_exit(EXIT_OK);
}

void proc_exit(int wstatus)
{
    struct proc *p = current(), *l = p->leader;
    if (!kernel_lock_held())
        kernel_lock();
    /* CLONE_CHILD_CLEARTID: zero the tid word and wake one waiter (how
     * pthread_join learns a thread is gone). */
    if (p->clear_child_tid) {
        int zero = 0;
        if (!copy_to_user((void *)p->clear_child_tid, &zero, sizeof(zero)))
            futex_wake_addr((uint32_t *)p->clear_child_tid, 1);
    }
    fd_put_held();                          /* exiting from inside a syscall */
    ptrace_exit_event(l->group_exiting ? l->group_status : wstatus);   /* PTRACE_O_TRACEEXIT */
    proc_vfork_release(p);
    if (p->fdt->refs == 1)
        posix_locks_exit(p->tgid);          /* its last descriptors go: its record locks too */
    ipc_exit(p);                            /* the last thread: SEM_UNDO, mq_notify */
    int status = l->group_exiting ? l->group_status : wstatus;
    if (l == initproc && l->nthreads == 1)
        power_off_with(status);
    if (l->nthreads == 1)
        acct_process_exit(l, status);       /* the process ends: its accounting record */
    fdtable_put(p->fdt);
    p->fdt = NULL;
    /* Out of reach first (/proc/PID/cwd, /exe and the rest look them up
     * through p), then put: the last puts may sleep (iset's rule). */
    struct fsinfo *fs = p->fs;
    struct mm *mm = p->mm;
    p->fs = NULL;
    p->mm = NULL;
    fsinfo_put(fs);
    mm_put(mm);
    kernel_unlock();

    uint64_t f = spin_lock_irqsave(&sched_lock);
    (void)f;
    bool last = --l->nthreads == 0;
    if (p != l) {
        p->state = P_DEAD;                  /* freed by proc_reap_dead */
        l->utime += p->utime;               /* the process's CPU time includes its threads' */
        l->stime += p->stime;
    }
    else
        p->state = P_ZOMBIE;                /* reported once the last thread is gone */
    signal_flush_locked(p);                 /* its queued signals go with it */
    futex_owner_exit_locked(p);             /* no PI waiter keeps a pointer to it */
    ptrace_exit_locked(p, status, last);    /* its tracer hears; its tracees go free */
    if (last) {
        /* The process is gone. Orphans go to the nearest ancestor that
         * asked for them (PR_SET_CHILD_SUBREAPER), else to init, which
         * reaps them; a child that asked (PR_SET_PDEATHSIG) gets its signal. */
        struct proc *reaper = initproc;
        struct proc *a = l->parent;
        for (int depth = 0; a && a != initproc && depth < NPROC; a = a->parent, depth++)
            if (a->subreaper && a->state != P_ZOMBIE && !a->group_exiting) {
                reaper = a;
                break;
            }
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *c = sched_proc_at(i);
            if (c && c->pdeath_sig && c->state != P_ZOMBIE && c->state != P_DEAD &&
                c->leader != l && c->leader->parent == l)
                signal_send_locked(c, c->pdeath_sig, 0);
        }
        bool zombie_children = false;
        int groups[8], ngroups = 0;             /* groups this exit may orphan */
        if (l->parent && l->parent->pgid != l->pgid && l->parent->sid == l->sid)
            groups[ngroups++] = l->pgid;
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *c = sched_proc_at(i);
            if (c && c->parent == l && c != l) {
                c->parent = reaper;
                c->exit_signal = SIGCHLD;       /* its new parent hears of it as of any child */
                zombie_children |= c->state == P_ZOMBIE && c->leader == c;
                if (c->leader == c && c->pgid != l->pgid && c->sid == l->sid && ngroups < 8)
                    groups[ngroups++] = c->pgid;
            }
        }
        if (zombie_children && reaper != initproc)
            signal_send_locked(reaper, SIGCHLD, 0);
        if (zombie_children)
            wakeup_locked(reaper);
        if (l->sid == l->pid && l->ctty)
            tty_session_leader_exit_locked(l);
        orphan_check_locked(l, groups, ngroups);
        l->xstatus = status;
        if (l->parent) {
            if (l->exit_signal)
                signal_child_exit_locked(l->parent, l->pid, status, l->exit_signal);
            wakeup_locked(l->parent);
        }
        pidfd_exit_notify_locked();             /* its pidfds poll readable now */
    }
    schedule();
    panic("exited thread %d ran again", p->pid);
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

static long wait_report(int cpid, int status, uint64_t ut, uint64_t st, int *ustatus, void *urusage)
{
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

long proc_wait4(int pid, int *ustatus, int options, void *urusage)
{
    struct proc *p = current();
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WALL))
        return -EINVAL;
    /* INVARIANT(kernel memory safety): pid as Linux reads it: > 0 that
     * child, -1 any, 0 our group, < -1 group -pid; INT_MIN has no negation
     * (Linux: ESRCH), not "any child". */
    if (pid == INT32_MIN)
        return -ESRCH;
    int pgid = pid == 0 ? p->leader->pgid : pid < -1 ? -pid : 0;
    proc_reap_dead();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (;;) {
        bool have = false;
        int tpid, tstatus;                      /* a tracee's stop or exit first */
        if (ptrace_wait_locked(p, pid, &tpid, &tstatus, &have)) {
            spin_unlock_irqrestore(&sched_lock, f);
            return wait_report(tpid, tstatus, 0, 0, ustatus, urusage);
        }
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *c = sched_proc_at(i);
            if (!c || c->leader != c || c->parent != p->leader || (pid > 0 && c->pid != pid) ||
                (pgid && c->pgid != pgid))
                continue;
            have = true;
            int report = 0;                     /* a stop or continue to report */
            if ((options & WUNTRACED) && c->stopped && c->report_stop) {
                c->report_stop = false;
                report = (c->stop_sig << 8) | 0x7f;
            } else if ((options & WCONTINUED) && c->report_cont) {
                c->report_cont = false;
                report = 0xffff;
            }
            if (report && c->nthreads) {
                int cpid = c->pid;
                uint64_t ut = c->utime, st = c->stime;
                spin_unlock_irqrestore(&sched_lock, f);
                return wait_report(cpid, report, ut, st, ustatus, urusage);
            }
            if (c->state != P_ZOMBIE || c->nthreads)
                continue;
            int cpid = c->pid, status = c->xstatus;
            uint64_t ut = c->utime + c->cutime, st = c->stime + c->cstime;
            p->cutime += ut;
            p->cstime += st;
            sched_remove(c);
            spin_unlock_irqrestore(&sched_lock, f);
            proc_free(c);
            return wait_report(cpid, status, ut, st, ustatus, urusage);
        }
        if (!have) {
            spin_unlock_irqrestore(&sched_lock, f);
            return -ECHILD;
        }
        if ((options & WNOHANG) || proc_signal_pending()) {
            spin_unlock_irqrestore(&sched_lock, f);
            return (options & WNOHANG) ? 0 : -EINTR;
        }
        sleep_locked(p->leader);
    }
}

/* waitid(2): wait4's twin with a siginfo for the answer. idtype names the
 * children (P_ALL, P_PID id, P_PGID id or the caller's group for 0);
 * WEXITED asks for exited ones, WSTOPPED for stops and WCONTINUED for
 * continues (job control's, reported once as wait4 does), WNOWAIT leaves
 * what it found to be reported again. Returns 0 (and, with WNOHANG and
 * nothing ready, a siginfo of zeros, as Linux writes). */
struct waitid_info {            /* the head of Linux's siginfo_t for SIGCHLD */
    int32_t signo, errnum, code, pad;
    int32_t pid;
    uint32_t uid;
    int32_t status;
};

/* The wait itself: 1 with *info filled (and the CPU times in ticks),
 * 0 (WNOHANG, nothing ready), or -errno. */
static long waitid_find(int idtype, int id, int options, struct waitid_info *info, uint64_t t[2])
{
    struct proc *p = current();
    if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE |
                    __WALL))
        return -EINVAL;
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return -EINVAL;
    int pid = 0, pgid = 0;
    switch (idtype) {
    case P_ALL:
        break;
    case P_PID:
        if (id <= 0)
            return -EINVAL;
        pid = id;
        break;
    case P_PGID:
        if (id < 0)
            return -EINVAL;
        pgid = id ? id : p->leader->pgid;
        break;
    case P_PIDFD: {
        if (id < 0)
            return -EINVAL;
        bool nonblock = false;
        int r = pidfd_waitid_pid(id, &nonblock);
        if (r < 0)
            return r;
        pid = r;
        if (nonblock && !(options & WNOHANG))
            options |= WNOHANG | PIDFD_WAIT_EAGAIN;     /* nothing yet: EAGAIN, not 0 */
        break;
    }
    default:
        return -EINVAL;
    }
    proc_reap_dead();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (;;) {
        bool have = false;
        struct proc *found = NULL;
        for (int i = 0; i < sched_slots() && !found; i++) {
            struct proc *c = sched_proc_at(i);
            if (!c || c->leader != c || c->parent != p->leader || (pid && c->pid != pid) ||
                (pgid && c->pgid != pgid))
                continue;
            have = true;
            if ((options & WEXITED) && c->state == P_ZOMBIE && !c->nthreads) {
                found = c;
                break;
            }
            /* A stop or a continue, reported once (or left, with WNOWAIT). */
            int code = 0;
            if ((options & WSTOPPED) && c->nthreads && c->stopped && c->report_stop) {
                code = CLD_STOPPED;
                info->status = c->stop_sig;
                c->report_stop = (options & WNOWAIT) != 0;
            } else if ((options & WCONTINUED) && c->nthreads && c->report_cont) {
                code = CLD_CONTINUED;
                info->status = SIGCONT;
                c->report_cont = (options & WNOWAIT) != 0;
            }
            if (code) {
                info->code = code;
                info->pid = c->pid;
                info->uid = c->uid;
                t[0] = c->utime;
                t[1] = c->stime;
                spin_unlock_irqrestore(&sched_lock, f);
                return 1;
            }
        }
        if (found) {
            int status = found->xstatus;
            info->pid = found->pid;
            info->uid = found->uid;
            if (status & 0x7f) {
                info->code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
                info->status = status & 0x7f;
            } else {
                info->code = CLD_EXITED;
                info->status = (status >> 8) & 0xff;
            }
            t[0] = found->utime + found->cutime;
            t[1] = found->stime + found->cstime;
            if (!(options & WNOWAIT)) {
                p->cutime += t[0];
                p->cstime += t[1];
                sched_remove(found);
                spin_unlock_irqrestore(&sched_lock, f);
                proc_free(found);
            } else {
                spin_unlock_irqrestore(&sched_lock, f);
            }
            return 1;
        }
        if (!have) {
            spin_unlock_irqrestore(&sched_lock, f);
            return -ECHILD;
        }
        if (options & WNOHANG) {
            spin_unlock_irqrestore(&sched_lock, f);
            return (options & PIDFD_WAIT_EAGAIN) ? -EAGAIN : 0;
        }
        if (proc_signal_pending()) {
            spin_unlock_irqrestore(&sched_lock, f);
            return -EINTR;
        }
        sleep_locked(p->leader);
    }
}

/* Linux's order: the rusage of a child found, then the siginfo, which is
 * written whatever happened (zeros but for a child found; so a bad siginfo
 * pointer is EFAULT even where the wait failed). */
long proc_waitid(int idtype, int id, void *uinfo, int options, void *urusage)
{
    struct waitid_info info;
    memset(&info, 0, sizeof(info));
    uint64_t t[2] = { 0, 0 };
    long r = waitid_find(idtype, id, options, &info, t);
    if (r > 0) {
        r = 0;
        info.signo = SIGCHLD;
        if (urusage) {
            struct rusage_linux ru;
            fill_rusage(&ru, t[0], t[1]);
            if (copy_to_user(urusage, &ru, sizeof(ru)))
                return -EFAULT;
        }
    }
    if (uinfo && copy_to_user(uinfo, &info, sizeof(info)))
        return -EFAULT;
    return r;
}

/* A process-directed signal goes to a thread that does not block it (the
 * leader if it can take it), as POSIX asks. */
static struct proc *signal_target(struct proc *l, int sig)
{
    struct proc *fallback = l->state == P_ZOMBIE ? NULL : l;
    if (fallback && !(l->sig_blocked >> (sig - 1) & 1))
        return l;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *t = sched_proc_at(i);
        if (!t || t->tgid != l->tgid || t->state == P_ZOMBIE || t->state == P_DEAD)
            continue;
        if (!(t->sig_blocked >> (sig - 1) & 1))
            return t;
        if (!fallback)
            fallback = t;
    }
    return fallback;
}

/* Send sig (0: none, only the check) to process l if the caller may
 * (0, or -EPERM); with sched_lock held. */
void signal_process_locked(struct proc *l, int sig)
{
    if (!l->nthreads)
        return;                                 /* a zombie: nobody to tell */
    struct proc *t = signal_target(l, sig);
    if (t)
        signal_send_locked(t, sig, 0);
}

/* Interval timers: the running thread's process is charged the tick
 * (VIRTUAL in user mode, PROF always); on the boot CPU, every process's
 * REAL timer is checked against the clock. */
void itimer_tick_locked(struct proc *running, bool user, uint64_t now, bool cpu0)
{
    if (running) {
        struct proc *l = running->leader;
        static const int sigs[3] = { SIGALRM, SIGVTALRM, SIGPROF };
        for (int w = ITIMER_VIRTUAL; w <= ITIMER_PROF; w++) {
            if (!l->itimer_left[w] || (w == ITIMER_VIRTUAL && !user))
                continue;
            uint64_t tick_ns = 1000000000ul / timer_hz();
            if (l->itimer_left[w] > tick_ns) {
                l->itimer_left[w] -= tick_ns;       /* ns of the process's CPU time left */
            } else {
                l->itimer_left[w] = l->itimer_interval[w];
                signal_process_locked(l, sigs[w]);
            }
        }
        /* RLIMIT_CPU: SIGXCPU at the soft limit and each CPU second after,
         * SIGKILL at the hard one (the rlim words are [klock]; an aligned
         * read racing with setrlimit sees the old or the new limit). */
        uint64_t soft = l->rlim[RLIMIT_CPU].cur;
        if (soft != RLIM_INFINITY) {
            uint64_t t = 0;
            for (int i = 0; i < sched_slots(); i++) {
                struct proc *q = sched_proc_at(i);
                if (q && q->tgid == l->tgid)
                    t += q->utime + q->stime;
            }
            uint64_t secs = t / timer_hz();
            if (secs >= l->rlim[RLIMIT_CPU].max)
                signal_process_locked(l, SIGKILL);
            else if (secs >= soft && secs >= l->xcpu_next) {
                l->xcpu_next = secs + 1;
                signal_process_locked(l, SIGXCPU);
            }
        }
    }
    if (!cpu0)
        return;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *l = sched_proc_at(i);
        if (l && l->leader == l && l->ptimers && l->state != P_ZOMBIE)
            ptimer_tick_locked(l, now);
        if (!l || l->leader != l || !l->itimer_real_at)
            continue;
        uint64_t mono = time_monotonic_ns();        /* ITIMER_REAL counts in monotonic ns */
        if (l->itimer_real_at > mono)
            continue;
        uint64_t iv = l->itimer_interval[ITIMER_REAL], next = l->itimer_real_at + iv;
        l->itimer_real_at = !iv ? 0 : next > mono ? next : mono + iv;
        signal_process_locked(l, SIGALRM);
    }
}

struct proc *signal_target_locked(struct proc *l, int sig)
{
    ASSERT_HELD(&sched_lock);
    return l->nthreads ? signal_target(l, sig) : NULL;
}

static long kill_one_locked(struct proc *l, int sig)
{
    ASSERT_HELD(&sched_lock);
    long r = signal_permitted(l, sig) ? 0 : -EPERM;
    if (!r && l->nthreads && sig) {
        struct proc *t = signal_target(l, sig);
        if (t)
            signal_send_locked(t, sig, current()->tgid);
    }
    return r;
}

long proc_kill(int pid, int sig)
{
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    if (pid == INT32_MIN)
        return -ESRCH;          /* -pid does not exist (Linux says ESRCH) */
    struct proc *self = current()->leader;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (pid > 0) {
        struct proc *l = proc_find_thread(pid);
        long r = l ? kill_one_locked(l->leader, sig) : -ESRCH;
        spin_unlock_irqrestore(&sched_lock, f);
        return r;
    }
    /* A group (0: ours, < -1: -pid) or, for -1, everything but init and
     * ourselves; ESRCH if that named nobody. As on Linux, a group signal
     * succeeds if it reached anyone (else the last error, EPERM), and -1
     * skips whom the caller may not signal. */
    int pgid = pid == 0 ? self->pgid : -pid, count = 0;
    long last = -ESRCH;
    bool reached = false;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *l = sched_proc_at(i);
        if (!l || l->leader != l || l->state == P_UNUSED || l->state == P_EMBRYO)
            continue;
        if (pid == -1 ? (l->pid == 1 || l == self) : l->pgid != pgid)
            continue;
        last = kill_one_locked(l, sig);
        reached |= last == 0;
        count++;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return !count ? -ESRCH : (reached || pid == -1) ? 0 : last;
}

/* ---- process groups and sessions (kept in the leader) ---- */

static bool process_alive(const struct proc *l)
{
    return l && l->leader == l && l->nthreads > 0 && l->state != P_UNUSED && l->state != P_EMBRYO;
}

void signal_pgrp_locked(int pgrp, int sig)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < sched_slots() && pgrp > 0; i++) {
        struct proc *l = sched_proc_at(i);
        if (process_alive(l) && l->pgid == pgrp)
            signal_process_locked(l, sig);
    }
}

/* Orphaned (POSIX): no live member has its parent in another group of the
 * same session, so no shell in the session can continue it. `gone` is a
 * process to leave out (the one exiting). */
static bool pgrp_orphaned_except(int pgrp, const struct proc *gone)
{
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *l = sched_proc_at(i);
        if (!process_alive(l) || l == gone || l->pgid != pgrp)
            continue;
        struct proc *par = l->parent;
        if (par && par != gone && process_alive(par) && par->pgid != pgrp && par->sid == l->sid)
            return false;
    }
    return true;
}

bool pgrp_orphaned_locked(int pgrp)
{
    ASSERT_HELD(&sched_lock);
    return pgrp_orphaned_except(pgrp, NULL);
}

int pgrp_session_locked(int pgrp)
{
    ASSERT_HELD(&sched_lock);
    struct proc *byp = NULL;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *l = sched_proc_at(i);
        if (!process_alive(l))
            continue;
        if (l->pgid == pgrp)
            return l->sid;
        if (l->pid == pgrp)
            byp = l;
    }
    return byp ? byp->sid : -1;
}

static bool pgrp_has_stopped(int pgrp)
{
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *l = sched_proc_at(i);
        if (process_alive(l) && l->pgid == pgrp && l->stopped)
            return true;
    }
    return false;
}

/* POSIX's rule for exit: a process group that this exit orphans, and that
 * has a stopped member, gets SIGHUP then SIGCONT (else it would stay
 * stopped for ever). l was the link for its own group (its parent in
 * another group of the session) or for a child's group (l itself in
 * another group of the child's session). */
static void orphan_check_locked(struct proc *l, const int *groups, int n)
{
    for (int k = 0; k < n; k++)
        if (pgrp_orphaned_except(groups[k], l) && pgrp_has_stopped(groups[k])) {
            signal_pgrp_locked(groups[k], SIGHUP);
            signal_pgrp_locked(groups[k], SIGCONT);
        }
}

static struct proc *process_of(int pid)
{
    struct proc *p = pid ? proc_find_thread(pid) : current();
    return p ? p->leader : NULL;
}

long proc_getpgid(int pid)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *l = pid < 0 ? NULL : process_of(pid);
    long r = l ? l->pgid : -ESRCH;
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long proc_getsid(int pid)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *l = pid < 0 ? NULL : process_of(pid);
    long r = l ? l->sid : -ESRCH;
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

/* setpgid(2): the caller or one of its children, into a group of its own
 * session (or a new one named after it). */
long proc_setpgid(int pid, int pgid)
{
    struct proc *self = current()->leader;
    if (pid < 0 || pgid < 0)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *l = process_of(pid);
    long r = 0;
    if (!l || (l != self && l->parent != self))
        r = -ESRCH;
    else if (l->sid != self->sid || l->sid == l->pid)
        r = -EPERM;                             /* another session, or a session leader */
    else if (l != self && l->execed)
        r = -EACCES;                            /* a child that has run exec is its own */
    else {
        if (!pgid)
            pgid = l->pid;
        bool exists = pgid == l->pid;
        for (int i = 0; i < sched_slots() && !exists; i++) {
            struct proc *q = sched_proc_at(i);
            exists = q && q->leader == q && q->pgid == pgid && q->sid == self->sid &&
                     q->state != P_UNUSED;
        }
        if (exists)
            l->pgid = pgid;
        else
            r = -EPERM;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long proc_setsid(void)
{
    struct proc *self = current()->leader;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    bool leads = false;                         /* a group leader cannot start a session */
    for (int i = 0; i < sched_slots() && !leads; i++) {
        struct proc *q = sched_proc_at(i);
        leads = q && q->leader == q && q->pgid == self->pid && q->state != P_UNUSED;
    }
    long r = -EPERM;
    if (!leads) {
        self->pgid = self->sid = self->pid;
        self->ctty = NULL;                      /* a new session has no terminal yet */
        r = self->pid;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long proc_sigqueue(int pid, int sig, int code, uint64_t value)
{
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    if (pid <= 0)
        return -ESRCH;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *l = proc_find_thread(pid);
    l = l ? l->leader : NULL;
    long r = !l ? -ESRCH : !signal_permitted(l, sig) ? -EPERM : 0;
    struct proc *t = !r && sig && l->nthreads ? signal_target(l, sig) : NULL;
    if (t)
        r = signal_send_info_locked(t, sig, current()->tgid, code, value);     /* -EAGAIN: queue full */
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long proc_tgsignal(int tgid, int tid, int sig, int code, uint64_t value)
{
    if (sig < 0 || sig > NSIG || tid <= 0)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = proc_find_thread(tid);
    if (t && (t->state == P_ZOMBIE || (tgid > 0 && t->tgid != tgid)))
        t = NULL;
    long r = !t ? -ESRCH : !signal_permitted(t, sig) ? -EPERM : 0;
    if (!r && sig)
        r = signal_send_info_locked(t, sig, current()->tgid, code, value);     /* -EAGAIN: queue full */
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

long proc_tgkill(int tgid, int tid, int sig) { return proc_tgsignal(tgid, tid, sig, SI_TKILL, 0); }

void return_to_user_work(struct trapframe *tf)
{
    for (;;) {
        if (proc_signal_pending() || current()->leader->stopped || current()->pt_trap) {
            if (!kernel_lock_held())
                kernel_lock();
            signal_deliver(tf);
            /* Every signal that can be delivered now is, before user code
             * runs again, as on Linux: a second one stacks its handler's
             * frame on the first's, and the SIGSEGV that replaces a frame
             * that could not be written (signal.c) is taken on the stack
             * the interrupted code was on, not later on the handler's
             * (LTP signal06: by then its alternate stack was read-only). */
            if (signal_deliverable())
                continue;
        }
        if (!sched_should_yield())
            break;
#ifdef BREAK_PREEMPT
        /* Cooperative: switch only when the process itself enters the
         * kernel, never because an interrupt arrived. */
        if (tf->vector != SYSCALL_VECTOR)
            break;
#endif
        yield();
    }
    signal_restart_pending(tf);
    if (kernel_lock_held())
        kernel_unlock();
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
    proc_die_signaled(sig, SI_KERNEL, tf->vector == T_PAGE_FAULT ? read_cr2() : tf->rip);
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

/* ---- the public view, for /proc ---- */

int proc_last_pid(void) { return next_pid - 1; }

static char state_letter(const struct proc *p)
{
    if (p->pt_stopped && p->state != P_ZOMBIE && p->state != P_DEAD)
        return 't';                             /* stopped for its tracer */
    if (p->leader->stopped && p->state != P_ZOMBIE && p->state != P_DEAD)
        return 'T';                             /* job control: stopped until SIGCONT */
    switch (p->state) {
    case P_RUNNABLE: case P_RUNNING: case P_EMBRYO: return 'R';
    case P_ZOMBIE: return 'Z';
    case P_DEAD: return 'X';
    default: return 'S';
    }
}

int proc_syscall_view(int tid, struct syscall_view *v)
{
    ASSERT_KLOCK();
    memset(v, 0, sizeof(*v));
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = proc_find_thread(tid);
    if (!t || t->state == P_EMBRYO || t->state == P_ZOMBIE || t->state == P_DEAD || !t->tf) {
        spin_unlock_irqrestore(&sched_lock, f);
        return -ESRCH;
    }
    const struct trapframe *tf = t->tf;
    v->running = state_letter(t) == 'R';
    v->nr = tf->vector == SYSCALL_VECTOR ? t->syscall_nr : -1;
    uint64_t args[6] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };
    memcpy(v->args, args, sizeof(args));
    v->sp = tf->rsp;
    v->pc = tf->rip;
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

struct proc *proc_get_klocked(int tgid, int tid)
{
    ASSERT_KLOCK();
    struct proc *found = NULL, *stand_in = NULL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (!p || p->tgid != tgid || p->state == P_UNUSED || p->state == P_EMBRYO ||
            p->state == P_DEAD)
            continue;
        if (p->pid == tid)
            found = p;
        else if (p->mm && p->state != P_ZOMBIE && !stand_in)
            stand_in = p;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    if (found && tid == tgid && !found->mm && stand_in)
        return stand_in;                        /* the leader went first */
    return found;
}

int proc_view(int tid, bool whole, struct proc_view *v)
{
    ASSERT_KLOCK();
    memset(v, 0, sizeof(*v));
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = proc_find_thread(tid);
    if (!t || t->state == P_EMBRYO) {
        spin_unlock_irqrestore(&sched_lock, f);
        return -ESRCH;
    }
    struct proc *l = t->leader, *p = whole ? l : t;
    v->pid = p->pid;
    v->tgid = p->tgid;
    v->ppid = l->parent ? l->parent->pid : 0;
    v->tracer_pid = t->tracer ? t->tracer->pid : 0;
    v->pgid = l->pgid;
    v->sid = l->sid;
    v->state = state_letter(p);
    memcpy(v->name, p->name, sizeof(v->name));
    v->tpgid = -1;
    if (l->ctty)
        tty_proc_info_locked(l->ctty, &v->tty_nr, &v->tpgid);
    v->uid = p->uid, v->euid = p->euid, v->suid = p->suid;
    v->gid = p->gid, v->egid = p->egid, v->sgid = p->sgid;
    v->fsuid = p->fsuid, v->fsgid = p->fsgid;
    v->serial = p->serial;
    v->ngroups = p->ngroups;
    struct fdtable *ft = p->fdt ? p->fdt : t->fdt;     /* (a leader may have gone first) */
    v->fdsize = ft ? ft->max : 0;
    memcpy(v->groups, p->groups, sizeof(v->groups));
    v->nthreads = l->nthreads;
    v->nice = p->nice;
    v->prio = p->prio;
    v->policy = p->policy;
    v->rt_priority = p->rt_priority;
    v->cpu = p->cpu;
    v->affinity = p->affinity;
    v->start_tick = p->start_tick;
    v->oom_score_adj = l->oom_score_adj;
    v->utime = p->utime;
    v->stime = p->stime;
    v->nvcsw = p->nvcsw;
    v->nivcsw = p->nivcsw;
    v->sig_pending = p->sig_pending;
    v->sig_blocked = p->sig_blocked;
    v->sigq_user = signal_user_queued_locked(p->uid);
    v->sigq_limit = l->rlim[RLIMIT_SIGPENDING].cur;
    if (whole) {
        /* A process: its exited threads' time is in the leader already;
         * add the live ones'. Its state is its leader thread's, as Linux
         * shows /proc/PID/stat (a thread spinning beside a sleeping leader
         * leaves it 'S'); a live thread's if the leader exited first. */
        v->cutime = l->cutime;
        v->cstime = l->cstime;
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *q = sched_proc_at(i);
            if (!q || q == l || q->tgid != l->tgid || q->state == P_DEAD || q->state == P_UNUSED)
                continue;
            v->utime += q->utime;
            v->stime += q->stime;
            v->nvcsw += q->nvcsw;
            v->nivcsw += q->nivcsw;
            if (v->state == 'Z')
                v->state = state_letter(q);
        }
        if (l->state == P_ZOMBIE && l->nthreads == 0)
            v->state = 'Z';
    }
    for (int sig = 1; sig <= NSIG; sig++) {
        uint64_t h = p->sh ? p->sh->actions[sig - 1].handler : 0;
        if (h == 1)
            v->sig_ignored |= 1ul << (sig - 1);
        else if (h > 1)
            v->sig_caught |= 1ul << (sig - 1);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    struct proc *live = proc_get_klocked(v->tgid, v->pid);
    v->umask = live && live->fs ? live->fs->umask : 022;
    return 0;
}

static int list_ids(int tgid, int *ids, int n)
{
    int count = 0;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (!p || p->state == P_UNUSED || p->state == P_EMBRYO || p->state == P_DEAD ||
            (tgid ? p->tgid != tgid : p->leader != p))
            continue;
        /* Insertion in order: a handful of processes. */
        int at = count < n ? count : n - 1;
        if (count >= n && p->pid > ids[n - 1])
            continue;
        while (at > 0 && ids[at - 1] > p->pid) {
            ids[at] = ids[at - 1];
            at--;
        }
        ids[at] = p->pid;
        count += count < n;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return count;
}

int proc_list_tgids(int *ids, int n) { return list_ids(0, ids, n); }
int proc_list_tids(int tgid, int *ids, int n) { return list_ids(tgid, ids, n); }
