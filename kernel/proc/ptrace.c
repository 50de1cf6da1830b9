/* proc/ptrace.c - one process watching and steering another (ptrace(2)).
 *
 * strace and gdb are built on this call, so it follows Linux's contract as
 * man 2 ptrace states it: a tracer attaches to a thread (TRACEME from the
 * child, ATTACH or SEIZE from outside, with Linux's access rule), and the
 * thread then stops for it at the points Linux stops: on syscall entry and
 * exit when resumed with PTRACE_SYSCALL, before each signal's delivery, at
 * events the options ask for (fork, vfork, clone, exec, exit), and at a
 * SEIZEd tracee's INTERRUPT. A stop is a wait status the tracer's wait4
 * reports once, and the thread sleeps until the tracer resumes it (CONT,
 * SYSCALL, DETACH, optionally with a signal) or it is killed.
 *
 * The stop state is per thread and [sched_lock] (proc.h). The syscall path
 * pays one test of current()->tracer when nobody traces it; the rest lives
 * here. While a tracee sleeps in a stop its registers are the trapframe at
 * the top of its kernel stack, which the tracer reads and writes; the
 * syscall number it will run is its syscall_nr (orig_rax), so a tracer may
 * change the number (-1 skips the call), the arguments and the result.
 *
 * A debugger needs more (gdb: tests/test_gdb.py): SINGLESTEP sets the trap
 * flag, and the #DB after one instruction is a SIGTRAP (TRAP_TRACE) whose
 * delivery stop the tracer sees; a step over `syscall` reports at the
 * call's exit (TRAP_BRKPT), as Linux does. int3 is a SIGTRAP (SI_KERNEL).
 * The hardware debug registers are written through POKEUSER at
 * u_debugreg (Intel SDM vol. 3, ch. 17): DR0-3 must be user addresses
 * aligned to their length, DR7's types and lengths those the CPU has
 * (EINVAL otherwise, as Linux); schedule loads them when it switches to
 * the thread, and a hit is a SIGTRAP (TRAP_HWBKPT) with DR6 readable.
 * The FPU state is fxsave's 512 bytes (NT_PRFPREG); without XSAVE there is
 * no NT_X86_XSTATE (ENODEV, as Linux), and gdb falls back to GETFPREGS.
 *
 * Not here yet: group stops of a SEIZEd tracee beyond the stop signal's
 * own report; a step into a signal handler stops only at the handler's
 * next trap. */
#include "proc.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"
#include "../lib/errno.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

#define BIT(sig) (1ul << ((sig) - 1))
#define STOP_SIGS_PT (BIT(SIGSTOP) | BIT(SIGTSTP) | BIT(SIGTTIN) | BIT(SIGTTOU))

/* struct user_regs_struct (sys/user.h), in its order. */
struct user_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax;
    uint64_t rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
#define USER_DEBUGREG_OFF 848   /* offsetof(struct user, u_debugreg) */
/* Linux's TASK_SIZE_MAX: the highest user page is never a breakpoint's. */
#define DR_USER_TOP (USER_TOP - PAGE_SIZE)

static void regs_get(struct proc *t, struct user_regs *r)
{
    struct trapframe *tf = t->tf;
    *r = (struct user_regs){
        .r15 = tf->r15, .r14 = tf->r14, .r13 = tf->r13, .r12 = tf->r12, .rbp = tf->rbp,
        .rbx = tf->rbx, .r11 = tf->r11, .r10 = tf->r10, .r9 = tf->r9, .r8 = tf->r8,
        .rax = tf->rax, .rcx = tf->rcx, .rdx = tf->rdx, .rsi = tf->rsi, .rdi = tf->rdi,
        .orig_rax = tf->vector == SYSCALL_VECTOR ? (uint64_t)t->syscall_nr : (uint64_t)-1,
        .rip = tf->rip, .cs = tf->cs, .rsp = tf->rsp, .ss = tf->ss,
        /* the trap flag SINGLESTEP set is the tracer's, not the program's */
        .eflags = tf->rflags & ~(t->pt_tf_forced ? RFLAGS_TRAP : 0),
        .fs_base = t->fs_base,
    };
}

/* The same for a core dump's NT_PRSTATUS (proc/coredump.c). */
void ptrace_user_regs(struct proc *t, uint64_t out[27])
{
    struct user_regs r;
    regs_get(t, &r);
    memcpy(out, &r, sizeof(r));
}

/* The tracer's registers go back as Linux lets them: segments and the
 * privileged flags stay. */
static long regs_set(struct proc *t, const struct user_regs *r)
{
    if (r->rip >= USER_TOP || r->fs_base >= USER_TOP)
        return -EIO;
    struct trapframe *tf = t->tf;
    tf->r15 = r->r15, tf->r14 = r->r14, tf->r13 = r->r13, tf->r12 = r->r12, tf->rbp = r->rbp;
    tf->rbx = r->rbx, tf->r11 = r->r11, tf->r10 = r->r10, tf->r9 = r->r9, tf->r8 = r->r8;
    tf->rax = r->rax, tf->rcx = r->rcx, tf->rdx = r->rdx, tf->rsi = r->rsi, tf->rdi = r->rdi;
    tf->rip = r->rip, tf->rsp = r->rsp;
    /* user-changeable flags: CF PF AF ZF SF TF DF OF */
    const uint64_t uflags = 0xdd5;
    uint64_t fl = r->eflags;
    if (t->pt_tf_forced) {          /* a TF it writes is its own; else ours stays */
        if (fl & RFLAGS_TRAP)
            t->pt_tf_forced = false;
        else
            fl |= RFLAGS_TRAP;
    }
    tf->rflags = (tf->rflags & ~uflags) | (fl & uflags);
    if (tf->vector == SYSCALL_VECTOR)
        t->syscall_nr = (long)r->orig_rax;
    t->fs_base = r->fs_base;
    return 0;
}

/* ---- stops ---- */

static int stop_locked_in(struct proc *p, int sig, bool exiting, int code);
static int stop_code(int sig);

/* p stops for its tracer with wait status (sig << 8) | 0x7f and sleeps
 * until resumed, detached or killed; the signal it was resumed with. */
static int stop_locked(struct proc *p, int sig)
{
    return stop_locked_in(p, sig, false, stop_code(sig));
}

/* The tracer hears of a stop of thread p: SIGCHLD with si_pid the thread's
 * id and si_code CLD_STOPPED for a group stop or a PTRACE_EVENT_STOP,
 * CLD_TRAPPED for the others (unless its SIGCHLD action says SA_NOCLDSTOP
 * or ignores it, as on Linux); its wait4 wakes either way. */
static void notify_tracer_locked(struct proc *p, int code, int sig)
{
    struct proc *t = p->tracer;
    struct sigaction_k *a = &t->sh->actions[SIGCHLD - 1];
    /* si_status: the stop's signal; for CLD_STOPPED the group stop's (0
     * when there is none: an INTERRUPT's stop), as Linux. */
    int status = code == CLD_STOPPED ? (p->leader->stopped ? p->leader->stop_sig : 0) : sig & 0x7f;
    if (a->handler != SIG_IGN && !(a->flags & SA_NOCLDSTOP))
        signal_child_locked(t, code, p->pid, status);
    wakeup_locked(t);                           /* its wait4 sleeps on its leader */
}

static int stop_code(int sig)
{
    return (sig >> 8) == PTRACE_EVENT_STOP ? CLD_STOPPED : CLD_TRAPPED;
}

static int stop_locked_in(struct proc *p, int sig, bool exiting, int code)
{
    p->pt_stopped = true;
    p->pt_report = true;
    p->pt_status = (sig << 8) | 0x7f;
    p->pt_resume_sig = 0;
    notify_tracer_locked(p, code, sig);
    /* (The exit event stop is made by a process already exiting.) */
    while (p->pt_stopped && p->tracer && !(p->sig_pending & BIT(SIGKILL)) &&
           (exiting || !p->leader->group_exiting))
        sleep_locked(&p->pt_stopped);
    p->pt_stopped = false;
    p->pt_report = false;
    int r = p->tracer ? p->pt_resume_sig : 0;
    p->pt_resume_sig = 0;
    return r;
}

static void siginfo_trap(struct proc *p, int code)
{
    p->pt_si_signo = SIGTRAP;
    p->pt_si_code = code;
    p->pt_si_pid = 0;
}

/* A SIGTRAP for p from the debugging machinery (a step, a hit), forced as
 * a fault's is: its tracer sees it first. */
static void trap_pending_locked(struct proc *p, int code, uint64_t addr)
{
    ASSERT_HELD(&sched_lock);
    struct sigaction_k *a = &p->sh->actions[SIGTRAP - 1];
    if ((p->sig_blocked & BIT(SIGTRAP)) || a->handler == SIG_IGN)
        a->handler = SIG_DFL;
    p->sig_blocked &= ~BIT(SIGTRAP);
    p->sig_pending |= BIT(SIGTRAP);
    p->sig_sender[SIGTRAP - 1] = 0;
    p->sig_code[SIGTRAP - 1] = code;
    p->sig_value[SIGTRAP - 1] = addr;
}

/* Resumed by SINGLESTEP (step) or anything else: the trap flag is set for
 * the tracer, or taken back if it was the tracer's. */
static void step_set_locked(struct proc *t, bool step)
{
    t->pt_step = step;
    if (step && !(t->tf->rflags & RFLAGS_TRAP)) {
        t->tf->rflags |= RFLAGS_TRAP;
        t->pt_tf_forced = true;
    } else if (!step && t->pt_tf_forced) {
        t->tf->rflags &= ~RFLAGS_TRAP;
        t->pt_tf_forced = false;
    }
}

static int syscall_trap(struct proc *p)
{
    return SIGTRAP | ((p->pt_opts & PTRACE_O_TRACESYSGOOD) ? 0x80 : 0);
}

long ptrace_syscall_enter(struct trapframe *tf)
{
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (p->tracer && p->pt_syscall) {
        tf->rax = (uint64_t)-ENOSYS;
        p->pt_where = PTRACE_SYSCALL_INFO_ENTRY;
        siginfo_trap(p, syscall_trap(p));
        stop_locked(p, syscall_trap(p));
        p->pt_where = PTRACE_SYSCALL_INFO_NONE;
    }
    bool killed = (p->sig_pending & BIT(SIGKILL)) || p->leader->group_exiting;
    spin_unlock_irqrestore(&sched_lock, f);
    return killed ? -1 : p->syscall_nr;         /* killed in the stop: the call never runs */
}

static void event_stop_locked(struct proc *p, int event, uint64_t msg)
{
    p->pt_msg = msg;
    siginfo_trap(p, SIGTRAP | event << 8);
    stop_locked(p, SIGTRAP | event << 8);
}

void ptrace_syscall_exit(struct trapframe *tf)
{
    struct proc *p = current();
    long nr = p->syscall_nr;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (p->tracer && p->pt_event) {             /* fork, vfork, clone: the child's pid */
        int ev = p->pt_event;
        p->pt_event = 0;
        event_stop_locked(p, ev, p->pt_msg);
    }
    if (p->tracer && (nr == SYS_execve || nr == SYS_execveat) && tf->rax == 0) {
        if (p->pt_opts & PTRACE_O_TRACEEXEC)
            event_stop_locked(p, PTRACE_EVENT_EXEC, (uint64_t)p->pid);
        else if (!p->pt_seized)
            signal_send_locked(p, SIGTRAP, 0);  /* exec's SIGTRAP (not for SEIZE) */
    }
    if (p->tracer && p->pt_step)
        trap_pending_locked(p, TRAP_BRKPT, tf->rip);    /* stepped over the syscall */
    if (p->tracer && p->pt_syscall) {
        p->pt_where = PTRACE_SYSCALL_INFO_EXIT;
        siginfo_trap(p, syscall_trap(p));
        stop_locked(p, syscall_trap(p));
        p->pt_where = PTRACE_SYSCALL_INFO_NONE;
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

int ptrace_signal_stop_locked(struct proc *p, int sig)
{
    p->pt_si_signo = sig;
    p->pt_si_code = p->sig_code[sig - 1];
    p->pt_si_pid = p->sig_sender[sig - 1];
    /* a fault's (si_code > 0: SI_KERNEL, TRAP_*) si_addr instead of a sender */
    p->pt_si_addr = p->pt_si_code > 0 ? p->sig_value[sig - 1] : 0;
    int r = stop_locked(p, sig);
    if (r && (STOP_SIGS_PT & BIT(r)) && p->tracer) {
        /* The tracer let a stop signal through: the group stop it starts
         * is reported as such (an event stop under SEIZE). */
        p->pt_si_signo = 0;
        stop_locked_in(p, p->pt_seized ? (r | PTRACE_EVENT_STOP << 8) : r, false, CLD_STOPPED);
        return 0;
    }
    return r;
}

static void group_stop_report_locked(struct proc *p)
{
    int sig = p->leader->stop_sig;
    p->pt_si_signo = 0;                         /* GETSIGINFO: EINVAL in a group stop */
    p->pt_listening = false;
    p->pt_stopped = true;
    p->pt_report = true;
    p->pt_status = ((p->pt_seized ? (sig | PTRACE_EVENT_STOP << 8) : sig) << 8) | 0x7f;
    p->pt_resume_sig = 0;
    notify_tracer_locked(p, CLD_STOPPED, sig);
}

bool ptrace_group_stop_locked(struct proc *p)
{
    p->pt_trap = false;
    if (!p->pt_stopped)                         /* (attach may have reported it already) */
        group_stop_report_locked(p);
    while (p->pt_stopped && p->tracer && !(p->sig_pending & BIT(SIGKILL)) &&
           !p->leader->group_exiting) {
        if (p->pt_listening && !p->leader->stopped) {
            /* SIGCONT ended the stop while the tracer listened: it hears
             * of it by a PTRACE_EVENT_STOP, and resumes the thread. */
            p->pt_listening = false;
            p->pt_report = true;
            p->pt_status = ((SIGTRAP | PTRACE_EVENT_STOP << 8) << 8) | 0x7f;
            notify_tracer_locked(p, CLD_STOPPED, SIGTRAP);
        }
        sleep_locked(&p->pt_stopped);
    }
    bool resumed = !p->pt_stopped && p->tracer;
    p->pt_stopped = false;
    p->pt_report = false;
    p->pt_listening = false;
    p->pt_resume_sig = 0;
    return resumed || !p->tracer;
}

void ptrace_trap_stop_locked(struct proc *p)
{
    p->pt_trap = false;
    if (!p->tracer)
        return;
    p->pt_si_signo = 0;
    stop_locked(p, SIGTRAP | PTRACE_EVENT_STOP << 8);
}

/* ---- the debug exception (#DB) ---- */

/* A #DB: a single step (DR6.BS) or a hardware breakpoint hit (DR6.Bn of an
 * armed one). From user mode it is the thread's SIGTRAP (TRAP_TRACE,
 * TRAP_HWBKPT; TRAP_BRKPT for an int1), with DR6 kept for PEEKUSER as
 * Linux keeps it: BS and the hits of the armed breakpoints. From kernel
 * mode it is a watchpoint on user memory the kernel touched for the thread
 * (copy_to_user): noted in DR6, no signal (as Linux), and the kernel goes
 * on; a trap flag there is not the kernel's, and goes. */
static bool debug_trap(struct trapframe *tf)
{
    uint64_t dr6 = debugreg_take_dr6();
    struct proc *p = current();
    uint64_t armed = 0;
    for (int i = 0; i < 4; i++)
        if ((p->pt_dr7_hw >> (2 * i)) & 3)
            armed |= 1ul << i;
    uint64_t hits = dr6 & DR6_HITS & armed;
    if (!(tf->cs & 3)) {
        p->pt_dr6 |= hits;
        tf->rflags &= ~RFLAGS_TRAP;
        return true;
    }
    p->pt_dr6 = (dr6 & DR6_BS) | hits;
    for (int i = 0; i < 4; i++)                 /* an instruction breakpoint is a fault: */
        if ((hits >> i & 1) && !((p->pt_dr7_hw >> (16 + 4 * i)) & 3))
            tf->rflags |= RFLAGS_RESUME;        /* RF lets the instruction run once */
    int code = (dr6 & DR6_BS) ? TRAP_TRACE : hits ? TRAP_HWBKPT : TRAP_BRKPT;
    signal_fault_info(tf, SIGTRAP, code, tf->rip);
    return true;
}

void ptrace_init(void)
{
    trap_register(T_DEBUG, debug_trap);
}

void ptrace_exec_reset(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    bool armed = p->pt_dr7_hw;
    memset(p->pt_dr, 0, sizeof(p->pt_dr));
    p->pt_dr7 = p->pt_dr7_hw = p->pt_dr6 = 0;
    if (armed && p == current())
        debugreg_load(p->pt_dr, 0);
    spin_unlock_irqrestore(&sched_lock, f);
}

/* ---- lifetimes ---- */

void ptrace_clone_locked(struct proc *parent, struct proc *child, uint64_t flags)
{
    ASSERT_HELD(&sched_lock);
    if (parent->pt_tf_forced)                   /* a step over fork is the parent's */
        child->tf->rflags &= ~RFLAGS_TRAP;
    struct proc *t = parent->tracer;
    if (!t)
        return;
    int ev = (flags & CLONE_VFORK) ? PTRACE_EVENT_VFORK
           : ((flags & 0xff) == SIGCHLD && !(flags & CLONE_THREAD)) ? PTRACE_EVENT_FORK
           : PTRACE_EVENT_CLONE;
    if (!(parent->pt_opts & (1u << ev)))
        return;
    child->tracer = t;
    child->pt_link_root = parent->pt_link_root;
    child->pt_opts = parent->pt_opts;
    child->pt_seized = parent->pt_seized;
    if (child->pt_seized)
        child->pt_trap = true;                  /* starts in a PTRACE_EVENT_STOP */
    else
        child->sig_pending |= BIT(SIGSTOP);     /* ... or a SIGSTOP's delivery stop */
    parent->pt_event = ev;
    parent->pt_msg = (uint64_t)child->pid;
}

/* Whether the exit of p is reported to its tracer by a note (it is not the
 * tracer's child process, which wait4 finds as a zombie anyway). */
static void note_exit_locked(struct proc *t, int pid, int status)
{
    if (t->pt_nnotes < 16) {
        t->pt_note_pid[t->pt_nnotes] = pid;
        t->pt_note_status[t->pt_nnotes] = status;
        t->pt_nnotes++;
    }
    wakeup_locked(t);
}

void ptrace_exit_locked(struct proc *p, int status, bool last)
{
    ASSERT_HELD(&sched_lock);
    struct proc *t = p->tracer;
    if (t) {
        if (p != p->leader || p->parent != t) {
            note_exit_locked(t, p->pid, status);
            signal_child_exit_locked(t, p->pid, status, SIGCHLD);
        }
        p->tracer = NULL;
        p->pt_stopped = false;
    }
    if (!last)
        return;
    /* INVARIANT(kernel memory safety): a tracer that goes lets its tracees
     * go (or kills them: EXITKILL); none keeps a pointer to it, none is
     * left stopped for nobody. */
    struct proc *l = p->leader;
    l->pt_nnotes = 0;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *c = sched_proc_at(i);
        if (!c || c->tracer != l)
            continue;
        c->tracer = NULL;
        c->pt_syscall = false;
        step_set_locked(c, false);
        if (c->pt_stopped) {
            c->pt_stopped = false;
            wakeup_locked(&c->pt_stopped);
        }
        if (c->pt_opts & PTRACE_O_EXITKILL)
            signal_send_locked(c, SIGKILL, 0);
    }
}

void ptrace_exit_event(int status)
{
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (p->tracer && (p->pt_opts & PTRACE_O_TRACEEXIT)) {
        p->pt_msg = (uint64_t)(uint32_t)status;
        siginfo_trap(p, SIGTRAP | PTRACE_EVENT_EXIT << 8);
        stop_locked_in(p, SIGTRAP | PTRACE_EVENT_EXIT << 8, true, CLD_TRAPPED);
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

int ptrace_wait_locked(struct proc *w, int pid, int *rpid, int *rstatus, bool *have)
{
    ASSERT_HELD(&sched_lock);
    w = w->leader;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *c = sched_proc_at(i);
        if (!c || c->tracer != w || (pid > 0 && c->pid != pid))
            continue;
        *have = true;
        if (c->pt_stopped && c->pt_report) {
            c->pt_report = false;
            *rpid = c->pid;
            *rstatus = c->pt_status;
            return 1;
        }
    }
    for (int k = 0; k < w->pt_nnotes; k++) {
        if (pid > 0 && w->pt_note_pid[k] != pid)
            continue;
        *rpid = w->pt_note_pid[k];
        *rstatus = w->pt_note_status[k];
        w->pt_nnotes--;
        for (int j = k; j < w->pt_nnotes; j++) {
            w->pt_note_pid[j] = w->pt_note_pid[j + 1];
            w->pt_note_status[j] = w->pt_note_status[j + 1];
        }
        *have = true;
        return 1;
    }
    return 0;
}

/* Whether p is untraced or traced through a link root made: exec's set-ID
 * rule. As Linux's ptracer_cred: ATTACH and SEIZE link with the tracer's
 * credentials, TRACEME with the tracee's own, a traced fork's child with
 * its parent's link. */
bool ptrace_tracer_privileged(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    bool ok = !p->tracer || p->pt_link_root;
    spin_unlock_irqrestore(&sched_lock, f);
    return ok;
}

int ptrace_tracer_pid(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    int r = p->tracer ? p->tracer->pid : 0;
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

/* ---- the requests ---- */

/* May the caller attach to t? Linux's PTRACE_MODE_ATTACH_REALCREDS rule
 * (man 2 ptrace, "Ptrace access mode checking"). */
__attribute__((noinline)) static bool may_attach(struct proc *me, struct proc *t)
{
#ifdef BREAK_PTRACE_PERM
    return true;                                /* the break switch: anyone may trace anyone */
#endif
    /* INVARIANT(privilege separation): a process traces only what it owns:
     * root, or the target's real, effective and saved uids and gids are
     * all the caller's real ones, and the target is dumpable. */
    if (me->euid == 0)
        return true;
    if (t->uid != me->uid || t->euid != me->uid || t->suid != me->uid ||
        t->gid != me->gid || t->egid != me->gid || t->sgid != me->gid)
        return false;
    return t->leader->dumpable;
}

bool ptrace_may_access(struct proc *me, struct proc *t) { return may_attach(me, t); }

static long attach(long req, int pid, uint64_t opts)
{
    struct proc *me = current();
    if (req == PTRACE_SEIZE && (opts & ~(uint64_t)PTRACE_O_MASK))
        return -EIO;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = pid > 0 ? proc_find_thread(pid) : NULL;
    long r = 0;
    if (!t || t->state == P_DEAD)
        r = -ESRCH;
    else if (t->tgid == me->tgid || t->state == P_ZOMBIE || !t->mm || t->tracer ||
             !may_attach(me, t))
        r = -EPERM;                             /* a zombie too, as Linux */
    else if (t->leader->group_exiting)
        r = -ESRCH;
    if (r) {
        spin_unlock_irqrestore(&sched_lock, f);
        return r;
    }
    t->tracer = me->leader;
    t->pt_link_root = me->euid == 0;
    t->pt_seized = req == PTRACE_SEIZE;
    t->pt_opts = req == PTRACE_SEIZE ? (uint32_t)opts : 0;
    t->pt_syscall = false;
    if (req == PTRACE_ATTACH)
        signal_send_locked(t, SIGSTOP, me->tgid);
    if (t->leader->stopped) {
        /* It sits in its group stop for us now: a stopped process is
         * traced and stopped when attach returns (Linux), so the tracer
         * may PEEK and POKE at once, before its wait. */
        group_stop_report_locked(t);
        make_runnable_locked(t);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

/* The tracee pid of the caller, stopped (unless any), or NULL; sched_lock held. */
static struct proc *tracee_locked(int pid, bool any)
{
    struct proc *t = pid > 0 ? proc_find_thread(pid) : NULL;
    if (!t || t->tracer != current()->leader || (!any && !t->pt_stopped))
        return NULL;
    return t;
}

static long peek_user(struct proc *t, uint64_t off, uint64_t *v)
{
    if (off & 7)
        return -EIO;
    if (off < sizeof(struct user_regs)) {
        struct user_regs r;
        regs_get(t, &r);
        *v = ((uint64_t *)&r)[off / 8];
        return 0;
    }
    if (off >= USER_DEBUGREG_OFF && off < USER_DEBUGREG_OFF + 8 * 8) {
        int n = (int)(off - USER_DEBUGREG_OFF) / 8;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        *v = n < 4 ? t->pt_dr[n] : n == 6 ? t->pt_dr6 ^ DR6_FIXED : n == 7 ? t->pt_dr7 : 0;
        spin_unlock_irqrestore(&sched_lock, f);
        return 0;
    }
    return -EIO;
}

/* A breakpoint's length from DR7's LEN field (Intel SDM vol. 3, 17.2.4:
 * 00 one byte, 01 two, 11 four, 10 eight). */
static uint64_t dr_len(uint64_t dr7, int n)
{
    static const uint64_t len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

/* May breakpoint n watch addr with DR7's fields? Linux's rules: a user
 * address, aligned to its length; an instruction breakpoint is one byte;
 * no I/O breakpoints. */
__attribute__((noinline)) static bool dr_ok(uint64_t dr7, int n, uint64_t addr)
{
    uint64_t len = dr_len(dr7, n), rw = (dr7 >> (16 + 4 * n)) & 3;
    if (rw == 2 || (rw == 0 && len != 1) || (addr & (len - 1)))
        return false;
#ifdef BREAK_DEBUGREG_USER
    return true;                                /* the break switch: any address */
#endif
    /* INVARIANT(privilege separation): a debug register a process arms
     * watches only user memory: no kernel address ever traps for it. */
    return addr < DR_USER_TOP && addr + len - 1 < DR_USER_TOP;
}

static long poke_debugreg(struct proc *t, int n, uint64_t v)
{
    long r = 0;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (n < 4) {
        /* checked with the length DR7 gives it (one byte if none) */
        if (dr_ok(t->pt_dr7 & (0xful << (16 + 4 * n)), n, v))
            t->pt_dr[n] = v;
        else
            r = -EINVAL;
    } else if (n == 6) {
        t->pt_dr6 = v ^ DR6_FIXED;
    } else if (n == 7) {
        uint64_t hw = 0;
        for (int i = 0; i < 4 && !r; i++) {
            if (!((v >> (2 * i)) & 3))
                continue;                       /* not enabled: not checked */
            if (!dr_ok(v, i, t->pt_dr[i]))
                r = -EINVAL;
            hw |= (1ul << (2 * i)) | (0xful << (16 + 4 * i) & v);
        }
        if (!r) {
            t->pt_dr7 = v;
            t->pt_dr7_hw = hw ? hw | 0x100 : 0; /* LE: exact data breakpoints */
        }
    } else {
        r = -EIO;                               /* DR4, DR5 do not exist */
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

static long poke_user(struct proc *t, uint64_t off, uint64_t v)
{
    if (!(off & 7) && off >= USER_DEBUGREG_OFF && off < USER_DEBUGREG_OFF + 8 * 8)
        return poke_debugreg(t, (int)(off - USER_DEBUGREG_OFF) / 8, v);
    if ((off & 7) || off >= sizeof(struct user_regs))
        return -EIO;
    struct user_regs r;
    regs_get(t, &r);
    ((uint64_t *)&r)[off / 8] = v;
    return regs_set(t, &r);
}

struct syscall_info {           /* struct ptrace_syscall_info */
    uint8_t op, pad[3];
    uint32_t arch;
    uint64_t ip, sp;
    union {
        struct { uint64_t nr, args[6]; } entry;
        struct { int64_t rval; uint8_t is_error; } exit;
    };
};

static long syscall_info(struct proc *t, uint64_t size, void *u)
{
    struct syscall_info si;
    memset(&si, 0, sizeof(si));
    struct trapframe *tf = t->tf;
    si.op = t->pt_where;
    si.arch = AUDIT_ARCH_X86_64;
    si.ip = tf->rip;
    si.sp = tf->rsp;
    size_t n = 24;
    if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
        si.entry.nr = (uint64_t)t->syscall_nr;
        uint64_t a[6] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };
        memcpy(si.entry.args, a, sizeof(a));
        n = 24 + 56;
    } else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
        si.exit.rval = (int64_t)tf->rax;
        si.exit.is_error = (int64_t)tf->rax < 0 && (int64_t)tf->rax >= -4095;
        n = 24 + 9;
    }
    if (copy_to_user(u, &si, MIN(size, n)))
        return -EFAULT;
    return (long)n;
}

struct iovec_k { uint64_t base, len; };

/* The tracer's x87/SSE registers, the first n bytes of an fxsave area
 * (the rest stays): an MXCSR with bits the CPU lacks is refused, as Linux
 * refuses it (fxrstor would fault). */
static long fpregs_set(struct proc *t, const struct fpu_state *fp, size_t n)
{
    struct fpu_state st = t->fpu;
    memcpy(st.bytes, fp->bytes, MIN(n, sizeof(st.bytes)));
    uint32_t mxcsr;
    memcpy(&mxcsr, st.bytes + 24, 4);
    if (mxcsr & ~fpu_mxcsr_mask())
        return -EINVAL;
    memcpy(st.bytes + 28, t->fpu.bytes + 28, 4);        /* MXCSR_MASK is the CPU's */
    t->fpu = st;
    return 0;
}

/* GETREGSET/SETREGSET (man 2 ptrace, elf.h's NT_*): the general registers
 * and the fxsave area. A length that is not a whole number of 8-byte
 * words is EINVAL, a longer one is cut to the set's size (and reported). */
static long regset(struct proc *t, bool set, uint64_t type, void *uiov)
{
    struct iovec_k iov;
    if (copy_from_user(&iov, uiov, sizeof(iov)))
        return -EFAULT;
    struct user_regs r;
    struct fpu_state fp;
    void *buf;
    size_t size;
    if (type == NT_PRSTATUS) {
        regs_get(t, &r);
        buf = &r, size = sizeof(r);
    } else if (type == NT_PRFPREG) {
        fp = t->fpu;
        buf = &fp, size = sizeof(fp);
    } else if (type == NT_X86_XSTATE) {
        return iov.len % 8 ? -EINVAL : -ENODEV;    /* no XSAVE: only fxsave's area */
    } else {
        return -EINVAL;
    }
    if (iov.len % 8)
        return -EINVAL;
    size_t n = MIN(size, iov.len);
    if (set && type == NT_PRFPREG && n != size)
        return -EINVAL;                         /* the FP area goes whole, as on Linux */
    if (!set) {
        if (copy_to_user((void *)iov.base, buf, n))
            return -EFAULT;
    } else {
        if (copy_from_user(buf, (void *)iov.base, n))
            return -EFAULT;
        long e = type == NT_PRSTATUS ? regs_set(t, &r) : fpregs_set(t, &fp, n);
        if (e)
            return e;
    }
    iov.len = n;
    return copy_to_user((uint8_t *)uiov + 8, &iov.len, 8) ? -EFAULT : 0;
}

long sys_ptrace(long req, long pid, uint64_t addr, uint64_t data)
{
    struct proc *me = current();
    if (req == PTRACE_TRACEME) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        long r = 0;
        struct proc *par = me->leader->parent;
        if (me->tracer || !par)
            r = -EPERM;
        else
            me->tracer = par, me->pt_seized = false, me->pt_opts = 0,
            me->pt_link_root = me->euid == 0;
        spin_unlock_irqrestore(&sched_lock, f);
        return r;
    }
    if (req == PTRACE_ATTACH || req == PTRACE_SEIZE) {
        if (req == PTRACE_SEIZE && addr)
            return -EIO;
        return attach(req, (int)pid, data);
    }
    uint64_t f = spin_lock_irqsave(&sched_lock);
    bool any = req == PTRACE_KILL || req == PTRACE_INTERRUPT;
    struct proc *t = tracee_locked((int)pid, any);
    if (!t) {
        spin_unlock_irqrestore(&sched_lock, f);
        return -ESRCH;
    }
    long r = 0;
    switch (req) {
    case PTRACE_CONT: case PTRACE_SYSCALL: case PTRACE_DETACH: case PTRACE_SINGLESTEP:
        if (data > NSIG) {
            r = -EIO;
            break;
        }
        step_set_locked(t, req == PTRACE_SINGLESTEP);
        t->pt_syscall = req == PTRACE_SYSCALL;
        t->pt_resume_sig = (int)data;
        if (req == PTRACE_DETACH)
            t->tracer = NULL, t->pt_syscall = false;
        t->pt_stopped = false;
        wakeup_locked(&t->pt_stopped);
        break;
    case PTRACE_KILL:
        signal_send_locked(t, SIGKILL, me->tgid);
        break;
    case PTRACE_INTERRUPT:
        if (!t->pt_seized) {
            r = -EIO;
            break;
        }
        if (!t->pt_stopped && !t->leader->stopped) {
            t->pt_trap = true;
            make_runnable_locked(t);
            sched_kick_locked(t);
        } else if (t->pt_stopped && t->pt_listening) {
            /* A listening tracee traps again: its event stop is reported
             * anew (Linux re-traps it), so the tracer's wait returns. */
            int sig = t->leader->stopped ? t->leader->stop_sig : SIGTRAP;
            t->pt_listening = false;
            t->pt_report = true;
            t->pt_status = ((sig | PTRACE_EVENT_STOP << 8) << 8) | 0x7f;
            notify_tracer_locked(t, CLD_STOPPED, sig);
        }
        break;
    case PTRACE_LISTEN:
        /* Only a group stop may be listened in: the thread stays stopped
         * until SIGCONT, then reports a PTRACE_EVENT_STOP. */
        if (!t->pt_seized || t->pt_si_signo) {
            r = -EIO;
            break;
        }
        t->pt_listening = true;
        t->pt_report = false;
        wakeup_locked(&t->pt_stopped);
        break;
    case PTRACE_SETOPTIONS:
        if (data & ~(uint64_t)PTRACE_O_MASK)
            r = -EINVAL;
        else
            t->pt_opts = (uint32_t)data;
        break;
    default:
        r = 1;                                  /* below, without sched_lock */
    }
    spin_unlock_irqrestore(&sched_lock, f);
    if (r != 1)
        return r;

    /* The tracee sleeps in its stop (only its tracer resumes it, and only
     * SIGKILL ends it early: its registers and memory stay while we hold
     * the kernel lock). */
    switch (req) {
    case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA: {
        uint64_t v;
        if (!user_range_ok(addr, 8) || mm_read(t->mm, addr, &v, 8))
            return -EIO;
        return copy_to_user((void *)data, &v, 8) ? -EFAULT : 0;
    }
    case PTRACE_POKETEXT: case PTRACE_POKEDATA:
        /* A read-only page (text) is written through a private copy. */
        if (!user_range_ok(addr, 8) || !mm_prot_at(t->mm, addr) || !mm_prot_at(t->mm, addr + 7))
            return -EIO;
        return mm_write(t->mm, addr, &data, 8) ? -EIO : 0;
    case PTRACE_PEEKUSER: {
        uint64_t v;
        long e = peek_user(t, addr, &v);
        if (e)
            return e;
        return copy_to_user((void *)data, &v, 8) ? -EFAULT : 0;
    }
    case PTRACE_POKEUSER:
        return poke_user(t, addr, data);
    case PTRACE_GETREGS: {
        struct user_regs r;
        regs_get(t, &r);
        return copy_to_user((void *)data, &r, sizeof(r)) ? -EFAULT : 0;
    }
    case PTRACE_SETREGS: {
        struct user_regs r;
        if (copy_from_user(&r, (void *)data, sizeof(r)))
            return -EFAULT;
        return regs_set(t, &r);
    }
    case PTRACE_GETFPREGS:
        return copy_to_user((void *)data, &t->fpu, sizeof(t->fpu)) ? -EFAULT : 0;
    case PTRACE_SETFPREGS: {
        struct fpu_state fp;
        if (copy_from_user(&fp, (void *)data, sizeof(fp)))
            return -EFAULT;
        return fpregs_set(t, &fp, sizeof(fp));
    }
    case PTRACE_GETREGSET: case PTRACE_SETREGSET:
        return regset(t, req == PTRACE_SETREGSET, addr, (void *)data);
    case PTRACE_GETEVENTMSG:
        return copy_to_user((void *)data, &t->pt_msg, 8) ? -EFAULT : 0;
    case PTRACE_GETSIGINFO: {
        if (!t->pt_si_signo)
            return -EINVAL;                     /* a group stop has none */
        int32_t si[32];
        memset(si, 0, sizeof(si));
        si[0] = t->pt_si_signo;
        si[2] = t->pt_si_code;
        si[4] = t->pt_si_pid;
        if (t->pt_si_addr)                      /* a fault's si_addr, where si_pid is */
            memcpy(&si[4], &t->pt_si_addr, 8);
        return copy_to_user((void *)data, si, sizeof(si)) ? -EFAULT : 0;
    }
    case PTRACE_SETSIGINFO: {
        /* What the tracee will see of the signal it is resumed with (the
         * fields Vigil keeps: signo, code, and pid or a fault's address). */
        int32_t si[32];
        if (copy_from_user(si, (void *)data, sizeof(si)))
            return -EFAULT;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        long r2 = -EINVAL;
        if (t->pt_si_signo && si[0] > 0 && si[0] <= NSIG) {
            t->pt_si_signo = si[0];
            t->pt_si_code = si[2];
            t->pt_si_pid = si[2] > 0 ? 0 : si[4];
            t->pt_si_addr = 0;
            if (si[2] > 0)
                memcpy(&t->pt_si_addr, &si[4], 8);
            t->sig_code[si[0] - 1] = t->pt_si_code;
            t->sig_sender[si[0] - 1] = t->pt_si_pid;
            t->sig_value[si[0] - 1] = t->pt_si_addr;
            r2 = 0;
        }
        spin_unlock_irqrestore(&sched_lock, f);
        return r2;
    }
    case PTRACE_GET_SYSCALL_INFO:
        return syscall_info(t, addr, (void *)data);
    default:
        return -EIO;
    }
}

/* process_vm_readv/writev: the same access rule as attaching; the checks
 * in Linux's order (process_vm_rw): flags, the local vector (copied: EFAULT;
 * a length that is negative as ssize_t: EINVAL; a local base the caller
 * could not address: EFAULT), nothing to move (0), the remote vector, then
 * the process (ESRCH, EPERM). A remote page its owner may not read (or
 * write) is EFAULT, as gup without FOLL_FORCE; after some bytes, the count. */
#define VM_RW_MAXIOV 1024
static long vm_rw(int pid, const void *uliov, unsigned long lcnt, const void *uriov,
                  unsigned long rcnt, unsigned long flags, bool write)
{
    if (flags)
        return -EINVAL;
    if (lcnt > VM_RW_MAXIOV || rcnt > VM_RW_MAXIOV)
        return -EINVAL;
    struct iovec_k *lv = kmalloc((lcnt + rcnt + 1) * sizeof(*lv)), *rv = lv + lcnt;
    if (!lv)
        return -ENOMEM;
    long r = 0;
    uint64_t total = 0;
    if (lcnt && copy_from_user(lv, uliov, lcnt * sizeof(*lv)))
        r = -EFAULT;
    for (unsigned long i = 0; !r && i < lcnt; i++)
        if ((int64_t)lv[i].len < 0)
            r = -EINVAL;
    for (unsigned long i = 0; !r && i < lcnt; i++) {
        if (lv[i].len && !user_range_ok(lv[i].base, lv[i].len))
            r = -EFAULT;
        total += lv[i].len;
    }
    if (!r && !total)
        goto out;
    if (!r && rcnt && copy_from_user(rv, uriov, rcnt * sizeof(*rv)))
        r = -EFAULT;
    for (unsigned long i = 0; !r && i < rcnt; i++)
        if ((int64_t)rv[i].len < 0)
            r = -EINVAL;
    if (r)
        goto out;
    struct proc *me = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = pid > 0 ? proc_find_thread(pid) : NULL;
    bool ok = t && t->mm && t->state != P_ZOMBIE && t->state != P_DEAD;
    bool perm = ok && (t->tgid == me->tgid || may_attach(me, t));
    spin_unlock_irqrestore(&sched_lock, f);
    if (!ok || !perm) {
        r = !ok ? -ESRCH : -EPERM;
        goto out;
    }
    struct mm *mm = t->mm;
    uint8_t *buf = proc_scratch_page();
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    long done = 0;
    unsigned long li = 0, ri = 0;
    uint64_t loff = 0, roff = 0;
    struct iovec_k l = { 0, 0 }, rr = { 0, 0 };
    for (;;) {
        while (li < lcnt && loff == l.len)
            l = lv[li++], loff = 0;
        while (ri < rcnt && roff == rr.len)
            rr = rv[ri++], roff = 0;
        if (loff == l.len || roff == rr.len)
            break;
        uint64_t ra = rr.base + roff;
        size_t n = MIN(MIN(l.len - loff, rr.len - roff), PAGE_SIZE - (ra & (PAGE_SIZE - 1)));
        uint32_t need = write ? VM_WRITE : VM_READ;
        long e = 0;
        if (!user_range_ok(ra, n) || !(mm_prot_at(mm, ra) & need))
            e = -EFAULT;
        else if (write)
            e = copy_from_user(buf, (void *)(l.base + loff), n) || mm_write(mm, ra, buf, n) ? -EFAULT : 0;
        else
            e = mm_read(mm, ra, buf, n) || copy_to_user((void *)(l.base + loff), buf, n) ? -EFAULT : 0;
        if (e) {
            r = done ? done : e;
            goto out;
        }
        done += (long)n, loff += n, roff += n;
    }
    r = done;
out:
    kfree(lv);
    return r;
}

long sys_process_vm_readv(int pid, const void *liov, unsigned long liovcnt, const void *riov,
                          unsigned long riovcnt, unsigned long flags)
{
    return vm_rw(pid, liov, liovcnt, riov, riovcnt, flags, false);
}

long sys_process_vm_writev(int pid, const void *liov, unsigned long liovcnt, const void *riov,
                           unsigned long riovcnt, unsigned long flags)
{
    return vm_rw(pid, liov, liovcnt, riov, riovcnt, flags, true);
}
