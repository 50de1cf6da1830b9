/* proc/signal.c - POSIX signals with Linux's x86-64 frame.
 *
 * A signal is made pending by kill(), a fault, or a child's exit; it is
 * acted on when its process next returns to user mode: ignored, default
 * action (terminate, or nothing for SIGCHLD & co.), or a handler. For a
 * handler the kernel saves the interrupted registers, signal mask and
 * SSE state in a struct rt_sigframe on the user stack, exactly where and
 * how Linux does, and enters the handler as if it had been called from
 * sa_restorer; that trampoline (musl's __restore_rt) calls rt_sigreturn,
 * which puts everything back from the frame. */
#include "proc.h"
#include "../fs/poll.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../arch/x86_64/cpu.h"

#define BIT(sig) (1ul << ((sig) - 1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))
/* Default action "ignore"; everything else here terminates. */
#define DEFAULT_IGNORE (BIT(SIGCHLD) | BIT(SIGCONT) | BIT(SIGURG) | BIT(SIGWINCH))
/* Default action "stop" (job control); SIGSTOP cannot be caught. */
#define STOP_SIGS (BIT(SIGSTOP) | BIT(SIGTSTP) | BIT(SIGTTIN) | BIT(SIGTTOU))

struct sigcontext_k {           /* Linux's struct sigcontext (x86-64) */
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate;
    uint64_t reserved[8];       /* [0]: the interrupted code's PKRU (Linux keeps it in the
                                 * XSAVE area; fxsave's has no room), which sigreturn restores */
};

struct ucontext_k {
    uint64_t flags, link;
    uint64_t ss_sp;
    int32_t ss_flags, pad;
    uint64_t ss_size;
    struct sigcontext_k mc;
    uint64_t sigmask;
};

struct siginfo_k {
    int32_t signo, errnum, code, pad;
    int32_t pid, uid;
    uint64_t addr;
    uint8_t rest[96];
};

struct rt_sigframe {
    uint64_t pretcode;          /* the handler's return address: sa_restorer */
    struct ucontext_k uc;
    struct siginfo_k info;
};

/* ---- job control: stopping and continuing a whole process ----
 *
 * A stop signal taken with its default action stops every thread of the
 * process (a group stop): the flag lives in the leader, each thread sleeps
 * in stop_wait_locked on its way back to user mode, and the parent hears of
 * it (SIGCHLD unless SA_NOCLDSTOP; wait4 with WUNTRACED reports it once).
 * SIGCONT acts when it is sent, whatever its handler (POSIX): it discards
 * pending stop signals, ends the stop and tells the parent (WCONTINUED).
 * Only SIGKILL (or the process's exit) ends a stop otherwise. */

/* The parent hears that l stopped (CLD_STOPPED) or continued (CLD_CONTINUED). */
static void notify_parent_locked(struct proc *l, int code, int sig)
{
    struct proc *parent = l->parent;
    if (!parent)
        return;
    if (!(parent->sh->actions[SIGCHLD - 1].flags & SA_NOCLDSTOP))
        signal_child_locked(parent, code, l->pid, sig);
    wakeup_locked(parent);                      /* a wait4 with WUNTRACED/WCONTINUED */
}

static void group_clear_pending_locked(struct proc *l, uint64_t mask)
{
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *t = sched_proc_at(i);
        if (t && t->tgid == l->tgid)
            t->sig_pending &= ~mask;
    }
}

static void continue_group_locked(struct proc *l)
{
    group_clear_pending_locked(l, STOP_SIGS);
    if (l->stopped) {
        l->stopped = false;
        l->report_stop = false;
        l->report_cont = true;
        wakeup_locked(&l->stopped);
        for (int i = 0; i < sched_slots(); i++) {       /* tracees listening in the stop */
            struct proc *t = sched_proc_at(i);
            if (t && t->tgid == l->tgid && t->pt_stopped)
                wakeup_locked(&t->pt_stopped);
        }
        notify_parent_locked(l, CLD_CONTINUED, SIGCONT);
    }
}

static bool stop_ends(struct proc *p)
{
    return !p->leader->stopped || (p->sig_pending & BIT(SIGKILL)) || p->leader->group_exiting;
}

/* The calling thread waits out its process's stop; with sched_lock held. */
static void stop_wait_locked(struct proc *p)
{
    for (;;) {
        /* A traced thread reports the group stop to its tracer, which may
         * let it run on (CONT, SYSCALL) or leave it stopped (LISTEN); one
         * its tracer attached to in the stop reports it even if SIGCONT
         * came first (Linux's attach waits for that report). */
        if (p->tracer && (p->pt_stopped || !stop_ends(p))) {
            if (ptrace_group_stop_locked(p))
                return;
            continue;
        }
        if (stop_ends(p))
            return;
        sleep_locked(&p->leader->stopped);
    }
}

static void stop_group_locked(struct proc *p, int sig)
{
    struct proc *l = p->leader;
    if (!l->stopped) {
        l->stopped = true;
        l->stop_sig = sig;
        l->report_stop = true;
        l->report_cont = false;
        for (int i = 0; i < sched_slots(); i++) {       /* the others stop on their way out */
            struct proc *t = sched_proc_at(i);
            if (t && t != p && t->tgid == p->tgid)
                sched_kick_locked(t);
        }
        notify_parent_locked(l, CLD_STOPPED, sig);
    }
    stop_wait_locked(p);
}

bool signal_stops_default(int sig)
{
    return (STOP_SIGS & BIT(sig)) != 0;
}

/* Is sig blocked or ignored by the calling thread (the terminal's
 * background checks: such a SIGTTIN means EIO, such a SIGTTOU lets the
 * write through)? */
bool signal_blocked_or_ignored(int sig)
{
    struct proc *p = current();
    return (p->sig_blocked & BIT(sig)) || p->sh->actions[sig - 1].handler == SIG_IGN;
}

/* ---- real-time signals are queued ----
 * A standard signal is a bit: sent again while pending, it is the same
 * one (its first siginfo stays, in sig_code/sig_sender/sig_value). Each
 * instance of a real-time signal (SIGRTMIN_K..NSIG) is kept with its own
 * siginfo in the receiving thread's queue, oldest first, and delivered in
 * that order, lower numbers first (signal(7)); its pending bit says "at
 * least one". An instance counts against the receiving user's
 * RLIMIT_SIGPENDING (with the standard signals pending for that user,
 * which /proc/PID/status shows as SigQ): past it, one with a siginfo of
 * its own (sigqueue, tgkill, F_SETSIG's, mq_notify's) is refused, EAGAIN,
 * and a plain kill() makes the signal pending without a siginfo of its own,
 * as Linux does. A timer's signal is never refused (Linux preallocates it):
 * while it is queued, its timer counts overruns instead.
 *
 * INVARIANT(kernel memory safety): the instances come from one fixed
 * pool, so no user, root with RLIMIT_SIGPENDING at infinity included, can
 * make the kernel hold more than SIGQ_POOL of them; an exhausted pool is a
 * full queue. A thread's queue is freed when it exits (and, for a zombie
 * leader, when it is freed); exec keeps the caller's, as POSIX wants. */

struct sigq_ent {
    struct sigq_ent *next;
    int sig, code, sender;
    uint64_t value;
};

#define SIGQ_POOL 4096
static struct sigq_ent sigq_pool[SIGQ_POOL];    /* [sched_lock] */
static struct sigq_ent *sigq_free;              /* [sched_lock] */
static bool sigq_ready;                         /* [sched_lock] */
static int sigq_used;                           /* [sched_lock] */

static bool is_rt(int sig)
{
#ifdef BREAK_RT_QUEUE
    return false;               /* the break switch: real-time signals coalesce like standard ones */
#endif
    return sig >= SIGRTMIN_K;
}

/* The signals pending for user uid, counted as RLIMIT_SIGPENDING counts
 * them: each queued instance, each standard signal pending. */
int signal_user_queued_locked(uint32_t uid)
{
    ASSERT_HELD(&sched_lock);
    int n = 0;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        if (!q || q->uid != uid || q->state == P_UNUSED)
            continue;
        n += q->sigq_len;
        for (uint64_t m = q->sig_pending & (BIT(SIGRTMIN_K) - 1); m; m &= m - 1)
            n++;                /* (no popcount: -mgeneral-regs-only, no libgcc) */
    }
    return n;
}

static struct sigq_ent *sigq_alloc_locked(struct proc *p, int code)
{
    if (!sigq_ready) {
        for (int i = SIGQ_POOL - 1; i >= 0; i--) {
            sigq_pool[i].next = sigq_free;
            sigq_free = &sigq_pool[i];
        }
        sigq_ready = true;
    }
    if (!sigq_free)
        return NULL;
    if (code != SI_TIMER &&
        (uint64_t)signal_user_queued_locked(p->uid) >= p->leader->rlim[RLIMIT_SIGPENDING].cur)
        return NULL;
    struct sigq_ent *e = sigq_free;
    sigq_free = e->next;
    sigq_used++;
    e->next = NULL;
    return e;
}

static void sigq_put_locked(struct sigq_ent *e)
{
    e->next = sigq_free;
    sigq_free = e;
    sigq_used--;
}

/* Drop p's queued instances of the signals in mask (all: its exit). */
static void sigq_drop_locked(struct proc *p, uint64_t mask)
{
    for (struct sigq_ent **pp = &p->sigq; *pp;) {
        struct sigq_ent *e = *pp;
        if (mask & BIT(e->sig)) {
            *pp = e->next;
            p->sigq_len--;
            sigq_put_locked(e);
        } else {
            pp = &e->next;
        }
    }
}

void signal_flush_locked(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    sigq_drop_locked(p, ~0ul);
    p->sig_pending &= BIT(SIGRTMIN_K) - 1;
}

/* Take one pending sig off p: its siginfo is left in sig_code,
 * sig_sender and sig_value for the delivery (or the tracer) to read. */
void signal_dequeue_locked(struct proc *p, int sig)
{
    ASSERT_HELD(&sched_lock);
    if (!is_rt(sig)) {
        p->sig_pending &= ~BIT(sig);
        return;
    }
    struct sigq_ent **pp = &p->sigq;
    while (*pp && (*pp)->sig != sig)
        pp = &(*pp)->next;
    struct sigq_ent *e = *pp;
    if (!e) {                   /* pending without a siginfo of its own: kill() past the limit */
        p->sig_pending &= ~BIT(sig);
        return;
    }
    *pp = e->next;
    p->sigq_len--;
    p->sig_code[sig - 1] = e->code;
    p->sig_sender[sig - 1] = e->sender;
    p->sig_value[sig - 1] = e->value;
    sigq_put_locked(e);
    struct sigq_ent *more = *pp;
    while (more && more->sig != sig)
        more = more->next;
    if (!more)
        p->sig_pending &= ~BIT(sig);
}

/* Is timer id's signal (SI_TIMER) still waiting on p? */
bool signal_timer_pending_locked(struct proc *p, int sig, int id)
{
    ASSERT_HELD(&sched_lock);
    if (!(p->sig_pending & BIT(sig)))
        return false;
    if (!is_rt(sig))
        return p->sig_code[sig - 1] == SI_TIMER && p->sig_sender[sig - 1] == id;
    for (struct sigq_ent *e = p->sigq; e; e = e->next)
        if (e->sig == sig && e->code == SI_TIMER && e->sender == id)
            return true;
    return false;
}

void signal_send_locked(struct proc *p, int sig, int sender)
{
    signal_send_info_locked(p, sig, sender, SI_USER, 0);
}

long signal_send_info_locked(struct proc *p, int sig, int sender, int code, uint64_t value)
{
    ASSERT_HELD(&sched_lock);
    if (sig == SIGCONT)
        continue_group_locked(p->leader);
    else if (STOP_SIGS & BIT(sig))
        group_clear_pending_locked(p->leader, BIT(SIGCONT));
    /* The handlers are [klock] (proc.h): sigaction changes them under
     * sched_lock as well, so senders (under sched_lock) see its changes
     * whole; exec and SA_RESETHAND only reset a handler word to SIG_DFL
     * under the kernel lock, and the one sender without it (proc_exit's
     * SIGCHLD) then sees the old or the new handler, as a signal sent just
     * before or after would. */
    struct sigaction_k *a = &p->sh->actions[sig - 1];
#ifndef BREAK_INIT_SIGNAL
    /* INVARIANT(privilege separation): init gets only the signals it has
     * a handler for; one with the default action, SIGKILL and SIGSTOP too,
     * is discarded, as Linux does for its init (SIGNAL_UNKILLABLE). Else
     * any process init adopted could end the machine by signalling its
     * parent (issue 17: LTP's kill10, once its timeout killed the parent). */
    if (p->tgid == 1 && !p->tracer && (sig == SIGKILL || sig == SIGSTOP || a->handler == SIG_DFL))
        return 0;
#endif
    /* A blocked signal is kept (its handler may change before it is
     * unblocked, sigtimedwait may take it), as on Linux. */
    bool blocked = (p->sig_blocked | p->sig_real_blocked) & BIT(sig);
    if (sig != SIGKILL && sig != SIGSTOP && !p->tracer && !blocked &&
        (a->handler == SIG_IGN || (a->handler == SIG_DFL && (DEFAULT_IGNORE & BIT(sig)))))
        return 0;                               /* discarded at once, as on Linux */
    if (is_rt(sig)) {
        struct sigq_ent *e = sigq_alloc_locked(p, code);
        if (e) {
            *e = (struct sigq_ent){ NULL, sig, code, sender, value };
            struct sigq_ent **pp = &p->sigq;
            while (*pp)
                pp = &(*pp)->next;
            *pp = e;
            p->sigq_len++;
        } else if (code != SI_USER) {
            return -EAGAIN;                     /* no room for its siginfo */
        } else if (!(p->sig_pending & BIT(sig))) {
            p->sig_sender[sig - 1] = sender;    /* kill() past the limit: pending, no siginfo */
            p->sig_code[sig - 1] = SI_USER;
            p->sig_value[sig - 1] = 0;
        }
    } else if (!(p->sig_pending & BIT(sig))) {
        p->sig_sender[sig - 1] = sender;        /* a standard signal keeps its first siginfo */
        p->sig_code[sig - 1] = code;
        p->sig_value[sig - 1] = value;
    }
    p->sig_pending |= BIT(sig);
    signalfd_notify_locked();                   /* fs/signalfd.c: readable now, maybe */
    if (!(p->sig_blocked & BIT(sig)) || sig == SIGKILL) {
        make_runnable_locked(p);                /* interrupt its sleep */
        sched_kick_locked(p);                   /* or its user code on another CPU */
    }
    return 0;
}

/* SIGCHLD to p about child (or tracee) pid, with the siginfo Linux gives
 * it: si_code CLD_EXITED/KILLED/DUMPED/TRAPPED/STOPPED/CONTINUED, si_pid,
 * si_status (exit code or signal). A SIGCHLD already pending keeps its own
 * (a standard signal is not queued twice). */
static void child_signal_locked(struct proc *p, int sig, int code, int pid, int status)
{
    signal_send_info_locked(p, sig, pid, code, (uint32_t)status);     /* si_status: where si_value sits */
}

void signal_child_locked(struct proc *p, int code, int pid, int status)
{
    child_signal_locked(p, SIGCHLD, code, pid, status);
}

/* The same for a child that ended with wait status xstatus: its exit
 * signal (clone's choice: SIGCHLD unless it asked for another). */
void signal_child_exit_locked(struct proc *p, int pid, int xstatus, int sig)
{
    int code = !(xstatus & 0x7f) ? CLD_EXITED : (xstatus & 0x80) ? CLD_DUMPED : CLD_KILLED;
    child_signal_locked(p, sig, code, pid, code == CLD_EXITED ? (xstatus >> 8) & 0xff : xstatus & 0x7f);
}

/* Job control's exception: SIGCONT may go to anyone in the session. */
static bool same_session(const struct proc *a, const struct proc *b)
{
    return a->leader->sid == b->leader->sid;
}

bool signal_permitted(const struct proc *t, int sig)
{
#ifdef BREAK_KILL_PERM
    return true;                                /* the break switch: anyone may signal anyone */
#endif
    const struct proc *me = current();
    /* INVARIANT(privilege separation): a process signals another only as
     * root, or when its real or effective uid is the target's real or saved
     * uid (kill(2)); SIGCONT also within the session. */
    if (me->euid == 0)
        return true;
    if (me->uid == t->uid || me->uid == t->suid || me->euid == t->uid || me->euid == t->suid)
        return true;
    return sig == SIGCONT && same_session(me, t);
}

static uint64_t deliverable(struct proc *p)
{
    return p->sig_pending & (~p->sig_blocked | UNBLOCKABLE);
}

bool signal_deliverable(void)
{
    return deliverable(current()) != 0;
}

/* A pending signal that will end the process when delivered: even an
 * uninterruptible wait gives way to it. */
bool proc_fatal_signal_pending(void)
{
    struct proc *p = current();
    uint64_t d = p->sig_pending & (~p->sig_blocked | UNBLOCKABLE);
    for (int sig = 1; d; sig++, d >>= 1)
        if ((d & 1) && (sig == SIGKILL || (p->sh->actions[sig - 1].handler == SIG_DFL &&
                                           !(DEFAULT_IGNORE & BIT(sig)))))
            return true;
    return false;
}

bool proc_signal_pending(void)
{
    struct proc *p = current();
    /* (A PTRACE_INTERRUPT cuts a sleep short too, as a signal would.) */
    return p && p->pid && (deliverable(p) || __atomic_load_n(&p->pt_trap, __ATOMIC_RELAXED));
}

/* The least stack a handler's frame takes (red zone, FPU area, frame and
 * their alignment): exec hands it to programs as AT_MINSIGSTKSZ. */
size_t signal_frame_bytes(void)
{
    return 128 + sizeof(struct fpu_state) + 64 + sizeof(struct rt_sigframe) + 16 + 8;
}

/* ---- the alternate signal stack (sigaltstack) ----
 * A handler installed with SA_ONSTACK runs on the stack the thread gave
 * with sigaltstack, if it is not on it already: how a program catches the
 * SIGSEGV of its own stack overflow. The frame records the alternate stack
 * as it was (uc_stack), and sigreturn puts that back (which is how an
 * SS_AUTODISARM stack, given up while its handler runs, comes back). */

/* Is sp strictly inside the alternate stack (the stack grows down)? */
static bool in_altstack(const struct proc *p, uint64_t sp)
{
    return sp > p->sas_sp && sp - p->sas_sp <= p->sas_size;
}

/* Linux's on_sig_stack: with SS_AUTODISARM the thread is never "on" it. */
static bool on_altstack(const struct proc *p, uint64_t sp)
{
    return !(p->sas_flags & SS_AUTODISARM) && in_altstack(p, sp);
}

/* SS_DISABLE (none), SS_ONSTACK (running on it) or 0 (there, not on it). */
static uint32_t altstack_state(const struct proc *p, uint64_t sp)
{
    if (!p->sas_size)
        return SS_DISABLE;
    return on_altstack(p, sp) ? SS_ONSTACK : 0;
}

struct stack_k {                /* Linux's stack_t */
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
};

/* Change the thread's alternate stack to ss as seen from user sp: -EPERM
 * while running on it, -EINVAL for a bad mode, -ENOMEM if too small. */
static long altstack_set(struct proc *p, const struct stack_k *ss, uint64_t sp)
{
    if (on_altstack(p, sp))
        return -EPERM;
    uint32_t flags = (uint32_t)ss->flags, mode = flags & ~SS_AUTODISARM;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
        return -EINVAL;
    uint64_t base = ss->sp, size = ss->size;
    if (mode == SS_DISABLE)
        base = size = 0;
    else if (size < MINSIGSTKSZ)
        return -ENOMEM;
    p->sas_sp = base;
    p->sas_size = size;
    p->sas_flags = flags;
    return 0;
}

long sys_sigaltstack(const void *uss, void *uoss)
{
    struct proc *p = current();
    uint64_t sp = p->tf->rsp;
    struct stack_k ss, old = { p->sas_sp, (int32_t)(altstack_state(p, sp) | (p->sas_flags & SS_AUTODISARM)),
                               0, p->sas_size };
    if (uss && copy_from_user(&ss, uss, sizeof(ss)))
        return -EFAULT;
    if (uss) {
        long r = altstack_set(p, &ss, sp);
        if (r)
            return r;
    }
    return uoss && copy_to_user(uoss, &old, sizeof(old)) ? -EFAULT : 0;
}

static bool build_frame(struct proc *p, struct trapframe *tf, int sig, uint64_t old_mask)
{
    struct sigaction_k *a = &p->sh->actions[sig - 1];
    if (!(a->flags & SA_RESTORER))
        return false;                           /* nowhere to return to */
    uint64_t sp = tf->rsp - 128;                /* skip the red zone */
    bool nested = on_altstack(p, tf->rsp), entering = false;
    if ((a->flags & SA_ONSTACK) && altstack_state(p, sp) == 0) {
        sp = p->sas_sp + p->sas_size;
        entering = true;
    }
    sp = ALIGN_DOWN(sp - sizeof(struct fpu_state), 64);
    uint64_t fp = sp;
    sp = ALIGN_DOWN(sp - sizeof(struct rt_sigframe), 16) - 8;   /* as if called */
    if ((nested || entering) && !in_altstack(p, sp))
        return false;                           /* it would overflow the alternate stack */

    fpu_save(&p->fpu);
    struct rt_sigframe f;
    memset(&f, 0, sizeof(f));
    f.pretcode = a->restorer;
    struct sigcontext_k *m = &f.uc.mc;
    m->r8 = tf->r8, m->r9 = tf->r9, m->r10 = tf->r10, m->r11 = tf->r11;
    m->r12 = tf->r12, m->r13 = tf->r13, m->r14 = tf->r14, m->r15 = tf->r15;
    m->rdi = tf->rdi, m->rsi = tf->rsi, m->rbp = tf->rbp, m->rbx = tf->rbx;
    m->rdx = tf->rdx, m->rax = tf->rax, m->rcx = tf->rcx, m->rsp = tf->rsp;
    m->rip = tf->rip, m->eflags = tf->rflags, m->cs = (uint16_t)tf->cs, m->ss = (uint16_t)tf->ss;
    m->trapno = tf->vector, m->err = tf->error, m->oldmask = old_mask;
    m->fpstate = fp;
    f.uc.sigmask = old_mask;
    f.uc.ss_sp = p->sas_sp;
    f.uc.ss_flags = (int32_t)p->sas_flags;
    f.uc.ss_size = p->sas_size;
    f.info.signo = sig;
    f.info.code = p->sig_code[sig - 1];
    f.info.pid = p->sig_sender[sig - 1];
    f.info.addr = p->sig_value[sig - 1];        /* si_value for SI_QUEUE, SI_TIMER */
    if (f.info.code == SI_TIMER)
        f.info.uid = p->sig_overrun;            /* si_overrun sits where si_uid does */
    if (sig == SIGSEGV && f.info.code == SEGV_PKUERR) {
        /* A protection-key fault: si_addr and si_pkey where Linux's
         * _sigfault has them (offsets 16 and 32). */
        uint64_t addr = f.info.addr;
        f.info.addr = 0;
        memcpy((char *)&f.info + 16, &addr, 8);
        memcpy((char *)&f.info + 32, &p->fault_pkey, 4);
    }
    /* The frame is written with every key enabled (the stack may carry
     * one, as Linux since 6.12); the handler runs with PKRU_INIT. */
    uint32_t pkru = cpu_pku ? rdpkru() : 0;
    if (cpu_pku) {
        m->reserved[0] = pkru;
        wrpkru(0);
    }
    bool copied = !copy_to_user((void *)fp, &p->fpu, sizeof(p->fpu)) &&
                  !copy_to_user((void *)sp, &f, sizeof(f));
    if (cpu_pku)
        wrpkru(copied ? PKRU_INIT : pkru);
    if (!copied)
        return false;

    if (p->sas_flags & SS_AUTODISARM) {        /* given up while the handler runs */
        p->sas_sp = p->sas_size = 0;
        p->sas_flags = SS_DISABLE;
    }
    tf->rip = a->handler;
    tf->rsp = sp;
    tf->rdi = (uint64_t)sig;
    tf->rsi = sp + __builtin_offsetof(struct rt_sigframe, info);
    tf->rdx = sp + __builtin_offsetof(struct rt_sigframe, uc);
    tf->rax = 0;
    tf->rflags &= ~(0x400ul | 0x100ul);         /* DF and TF clear, as the ABI wants */
    tf->cs = GDT_UCODE | 3;
    tf->ss = GDT_UDATA | 3;
    return true;
}

/* signal(7): "never restarted after being interrupted by a signal handler,
 * regardless of the use of SA_RESTART". */
static bool never_restarted(long nr)
{
    switch (nr) {
    case SYS_pause: case SYS_nanosleep: case SYS_clock_nanosleep:
    case SYS_rt_sigsuspend: case SYS_rt_sigtimedwait:
    case SYS_poll: case SYS_select: case SYS_pselect6: case SYS_ppoll:
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2:
    case SYS_msgsnd: case SYS_msgrcv: case SYS_semop: case SYS_semtimedop:   /* System V IPC */
        return true;
    default:
        return false;
    }
}

/* rt_sigsuspend's temporary mask ends when the thread goes back to user
 * mode: into the handler's frame when a handler runs (sigreturn restores
 * it), straight back otherwise. */
static void restore_saved_mask(struct proc *p)
{
    if (p->sig_mask_saved) {
        p->sig_mask_saved = false;
        p->sig_blocked = p->sig_saved_mask;
    }
}

static void deliver_one(struct trapframe *tf);

/* Back onto the syscall instruction, with its number in rax again. */
static uint64_t signal_restart(struct trapframe *tf)
{
    tf->rip -= 2;
    return (uint64_t)current()->syscall_nr;
}

/* Linux's calls that return EINTR themselves (not an -ERESTART code): cut
 * short, they say so even when no handler ran: after a stop and SIGCONT,
 * or a signal the tracer took (signal(7): "Interruption of system calls
 * and library functions by stop signals"). */
static bool eintr_regardless(long nr)
{
    switch (nr) {
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2:
    case SYS_rt_sigtimedwait: case SYS_semop: case SYS_semtimedop:
        return true;
    default:
        return false;
    }
}

/* A sleep a signal cut short (-EINTR, or -ERESTARTSYS) when no handler
 * runs for it -- the process was stopped and continued, the signal was
 * ignored, or the tracer took it at the signal-delivery stop -- starts
 * again, as Linux restarts it, unless the call is one of those that say
 * EINTR regardless. (Under strace -f a wait4 woken by a child's SIGCHLD
 * said EINTR where Linux's goes on waiting.) */
static void restart_nohandler(struct trapframe *tf)
{
    long r = (long)tf->rax;
    if (tf->vector != SYSCALL_VECTOR ||
        (r != -EINTR && r != -ERESTARTSYS && r != -ERESTART_RESTARTBLOCK) ||
        current()->syscall_nr == SYS_rt_sigreturn)
        return;
#ifdef BREAK_SIGNAL_RESTART
    tf->rax = (uint64_t)-EINTR;         /* the break switch: every sleep cut short says EINTR */
    return;
#endif
    if (r == -ERESTART_RESTARTBLOCK) {
        tf->rip -= 2;                   /* the rest of the sleep, as restart_syscall */
        tf->rax = SYS_restart_syscall;
        return;
    }
    tf->rax = eintr_regardless(current()->syscall_nr) ? (uint64_t)-EINTR : signal_restart(tf);
}

/* -ERESTARTSYS (or a sleep's -ERESTART_RESTARTBLOCK) that no handler
 * turned into EINTR (the signal stopped the process, or was ignored, or
 * SIGCONT took it back): the call restarts. */
void signal_restart_pending(struct trapframe *tf)
{
    long r = (long)tf->rax;
    if (r == -ERESTARTSYS || r == -ERESTART_RESTARTBLOCK)
        restart_nohandler(tf);
}

void signal_deliver(struct trapframe *tf)
{
    deliver_one(tf);
    restore_saved_mask(current());      /* no-op after a handler's frame took it */
}

/* A signal taken without a handler frame: the next one of its number is
 * a plain SI_USER again (si_code, si_value). */
static void forget_info_locked(struct proc *p, int sig)
{
    p->sig_code[sig - 1] = 0;
    p->sig_value[sig - 1] = 0;
}

static void deliver_one(struct trapframe *tf)
{
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    bool trapped = p->pt_trap;
    if (trapped)
        ptrace_trap_stop_locked(p);             /* PTRACE_INTERRUPT, a new tracee */
    if (p->leader->stopped)
        stop_wait_locked(p);                    /* a sibling stopped the process */
again:;
    uint64_t ready = deliverable(p);
    if (!ready) {
        /* A sleep the INTERRUPT cut short, with no signal to take: it
         * starts again, as Linux restarts it. */
        if (trapped)
            restart_nohandler(tf);
        spin_unlock_irqrestore(&sched_lock, f);
        return;
    }
    int sig = __builtin_ctzl(ready) + 1;
    signal_dequeue_locked(p, sig);
    if (p->tracer && sig != SIGKILL) {
        /* The signal-delivery stop: the tracer says which signal, if any,
         * is delivered instead. */
        int was = sig;
        sig = ptrace_signal_stop_locked(p, sig);
        if (sig != was)
            forget_info_locked(p, was);
        if (!sig || (p->sig_pending & BIT(SIGKILL))) {
            if (!sig)
                restart_nohandler(tf);          /* the tracer took it: no handler ran */
            spin_unlock_irqrestore(&sched_lock, f);
            return;
        }
    }
    if (p->sig_code[sig - 1] == SI_TIMER)
        p->sig_overrun = ptimer_delivered_locked(p->leader, p->sig_sender[sig - 1]);
    struct sigaction_k a = p->sh->actions[sig - 1];
    if (sig == SIGSTOP || (a.handler == SIG_DFL && (STOP_SIGS & BIT(sig)))) {
        /* Discarded: a terminal's stop signals to an orphaned process group
         * (POSIX: nobody would ever continue it), and any stop of init (as
         * on Linux: nobody could continue the machine). */
        if (p->tgid != 1 && (sig == SIGSTOP || !pgrp_orphaned_locked(p->leader->pgid))) {
            /* A sleep the stop cut short starts again once continued, as
             * Linux restarts it (no handler ran). */
            restart_nohandler(tf);
            stop_group_locked(p, sig);
            if (p->tracer)
                goto again;                     /* SIGCONT's delivery stop comes next, as on Linux */
        }
        spin_unlock_irqrestore(&sched_lock, f);
        return;
    }
    spin_unlock_irqrestore(&sched_lock, f);

    if (sig == SIGKILL || a.handler == SIG_DFL) {
        if (!(DEFAULT_IGNORE & BIT(sig)) || sig == SIGKILL)
            proc_die_signaled(sig, p->sig_code[sig - 1], 0);  /* the whole process dies */
        forget_info_locked(p, sig);
        restart_nohandler(tf);                  /* ignored (a tracer's SIGCHLD, say) */
        return;
    }
    if (a.handler == SIG_IGN) {
        forget_info_locked(p, sig);
        restart_nohandler(tf);
        return;
    }

    /* An interrupted syscall either restarts (SA_RESTART) or says EINTR;
     * the waits for a signal or for time never restart (signal(7)). */
    if (tf->vector == SYSCALL_VECTOR && (long)tf->rax == -EINTR && (a.flags & SA_RESTART) &&
        !never_restarted(p->syscall_nr)) {
        tf->rax = (uint64_t)p->syscall_nr;
        tf->rip -= 2;                           /* back onto the syscall instruction */
    }
    if (tf->vector == SYSCALL_VECTOR && (long)tf->rax == -ERESTARTSYS)
        tf->rax = (a.flags & SA_RESTART) && !never_restarted(p->syscall_nr) ?
                  signal_restart(tf) : (uint64_t)-EINTR;
    if (tf->vector == SYSCALL_VECTOR && (long)tf->rax == -ERESTART_RESTARTBLOCK)
        tf->rax = (uint64_t)-EINTR;             /* a sleep: never restarted after a handler */
    /* The mask sigreturn puts back: rt_sigsuspend's saved one, if any. */
    uint64_t old_mask = p->sig_mask_saved ? p->sig_saved_mask : p->sig_blocked;
    p->sig_mask_saved = false;
    bool built = build_frame(p, tf, sig, old_mask);
    p->sig_code[sig - 1] = 0;                   /* the next one is a plain SI_USER again */
    p->sig_value[sig - 1] = 0;
    if (!built && sig != SIGSEGV && (a.flags & SA_RESTORER)) {
        /* The frame could not be written (an alternate stack made read-only,
         * say): as Linux, the thread gets SIGSEGV instead, which its own
         * handler may take (on its own stack); only a SIGSEGV that cannot
         * be delivered either ends the process. */
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        if (p->sh->actions[SIGSEGV - 1].handler == SIG_IGN)
            p->sh->actions[SIGSEGV - 1].handler = SIG_DFL;
        p->sig_blocked &= ~BIT(SIGSEGV);
        p->sig_pending |= BIT(SIGSEGV);
        p->sig_sender[SIGSEGV - 1] = 0;
        p->sig_code[SIGSEGV - 1] = SI_KERNEL;
        p->sig_value[SIGSEGV - 1] = 0;
        spin_unlock_irqrestore(&sched_lock, fl);
        return;
    }
    if (!built) {
        kprintf("vigil: pid %d (%s) killed by signal %d: cannot deliver it (bad stack or no restorer)\n",
                p->pid, p->name, sig);
        proc_exit_group(W_SIGNALED(SIGSEGV));
    }
    p->sig_blocked |= a.mask | ((a.flags & SA_NODEFER) ? 0 : BIT(sig));
    p->sig_blocked &= ~UNBLOCKABLE;
    if (a.flags & SA_RESETHAND)
        p->sh->actions[sig - 1].handler = SIG_DFL;
}

void signal_fault(struct trapframe *tf, int sig)
{
    /* int3's SIGTRAP says SI_KERNEL, as Linux's does. */
    signal_fault_info(tf, sig, tf->vector == T_BREAKPOINT ? SI_KERNEL : SI_USER, 0);
}

void signal_fault_info(struct trapframe *tf, int sig, int code, uint64_t addr)
{
    struct proc *p = current();
    struct sigaction_k *a = &p->sh->actions[sig - 1];
    if (p->tracer) {
        /* A tracee's fault goes to its tracer first (the signal-delivery
         * stop: a debugger's breakpoint, step or watchpoint). As Linux
         * forces it, a blocked or ignored one is unblocked and defaulted. */
        uint64_t f = spin_lock_irqsave(&sched_lock);
        if ((p->sig_blocked & BIT(sig)) || a->handler == SIG_IGN)
            a->handler = SIG_DFL;
        p->sig_blocked &= ~BIT(sig);
        p->sig_pending |= BIT(sig);
        p->sig_sender[sig - 1] = 0;
        p->sig_code[sig - 1] = code;
        p->sig_value[sig - 1] = addr;
        spin_unlock_irqrestore(&sched_lock, f);
        return;
    }
    /* A handler that can run takes the fault; otherwise (none, ignored or
     * blocked: a fault cannot be postponed) the process dies, as on Linux. */
    if (a->handler > SIG_IGN && !(p->sig_blocked & BIT(sig))) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        p->sig_pending |= BIT(sig);
        p->sig_sender[sig - 1] = 0;
        p->sig_code[sig - 1] = code;
        p->sig_value[sig - 1] = addr;
        spin_unlock_irqrestore(&sched_lock, f);
        return;
    }
    fault_kill(tf, sig);
}

long sys_rt_sigaction(int sig, const void *uact, void *uoact, size_t size)
{
    struct proc *p = current();
    if (sig < 1 || sig > NSIG || size != 8)
        return -EINVAL;
    struct sigaction_k act;
    if (uact && copy_from_user(&act, uact, sizeof(act)))
        return -EFAULT;
    if (uact && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    if (uoact && copy_to_user(uoact, &p->sh->actions[sig - 1], sizeof(act)))
        return -EFAULT;
    if (uact) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        act.mask &= ~UNBLOCKABLE;
        p->sh->actions[sig - 1] = act;
        /* Setting SIG_IGN (or a default of "ignore") discards a pending one. */
        if (act.handler == SIG_IGN || (act.handler == SIG_DFL && (DEFAULT_IGNORE & BIT(sig)))) {
            p->sig_pending &= ~BIT(sig);
            sigq_drop_locked(p, BIT(sig));
        }
        spin_unlock_irqrestore(&sched_lock, f);
    }
    return 0;
}

long sys_rt_sigprocmask(int how, const void *uset, void *uoset, size_t size)
{
    struct proc *p = current();
    if (size != 8)
        return -EINVAL;
    uint64_t set = 0, old = p->sig_blocked;
    if (uset && copy_from_user(&set, uset, 8))
        return -EFAULT;
    if (uset) {
        if (how == SIG_BLOCK)
            p->sig_blocked |= set;
        else if (how == SIG_UNBLOCK)
            p->sig_blocked &= ~set;
        else if (how == SIG_SETMASK)
            p->sig_blocked = set;
        else
            return -EINVAL;
        p->sig_blocked &= ~UNBLOCKABLE;
    }
    if (uoset && copy_to_user(uoset, &old, 8))
        return -EFAULT;
    return 0;
}

long sys_rt_sigpending(void *uset, size_t size)
{
    if (size != 8)
        return -EINVAL;
    uint64_t pend = current()->sig_pending;
    return copy_to_user(uset, &pend, 8) ? -EFAULT : 0;
}

static __noreturn void bad_frame(uint64_t at)
{
    struct proc *p = current();
    kprintf("vigil: pid %d (%s) killed by SIGSEGV: bad signal frame at 0x%lx\n", p->pid, p->name, at);
    proc_exit_group(W_SIGNALED(SIGSEGV));
}

long sys_rt_sigreturn(void)
{
    struct proc *p = current();
    struct trapframe *tf = p->tf;
    struct rt_sigframe f;
    uint64_t entry_sp = tf->rsp;
    uint64_t frame = tf->rsp - 8;               /* the handler's ret popped pretcode */
    p->restart.kind = RESTART_NONE;             /* a handler ran: nothing to finish, as Linux */
    if (cpu_pku)
        wrpkru(0);                              /* read as it was written; the frame's PKRU follows */
    if (copy_from_user(&f, (void *)frame, sizeof(f)))
        bad_frame(frame);
    struct sigcontext_k *m = &f.uc.mc;
    /* Only what user mode may set: never a kernel address to return to,
     * never IOPL, never another code segment. */
    if (m->rip >= USER_TOP || m->rsp >= USER_TOP)
        bad_frame(frame);
    tf->r8 = m->r8, tf->r9 = m->r9, tf->r10 = m->r10, tf->r11 = m->r11;
    tf->r12 = m->r12, tf->r13 = m->r13, tf->r14 = m->r14, tf->r15 = m->r15;
    tf->rdi = m->rdi, tf->rsi = m->rsi, tf->rbp = m->rbp, tf->rbx = m->rbx;
    tf->rdx = m->rdx, tf->rax = m->rax, tf->rcx = m->rcx, tf->rsp = m->rsp, tf->rip = m->rip;
    const uint64_t user_flags = 0x40000 | 0x10000 | 0xcd5;      /* AC RF OF DF TF SF ZF AF PF CF */
    tf->rflags = (m->eflags & user_flags) | 0x202;
    tf->cs = GDT_UCODE | 3;
    tf->ss = GDT_UDATA | 3;
    if (m->fpstate) {
        if (copy_from_user(&p->fpu, (void *)m->fpstate, sizeof(p->fpu)))
            bad_frame(frame);
        uint32_t mxcsr;
        memcpy(&mxcsr, p->fpu.bytes + 24, 4);
        mxcsr &= 0xffbf;                        /* reserved bits would fault fxrstor */
        memcpy(p->fpu.bytes + 24, &mxcsr, 4);
        fpu_restore(&p->fpu);
    }
    if (cpu_pku)
        wrpkru((uint32_t)m->reserved[0]);
    p->sig_blocked = f.uc.sigmask & ~UNBLOCKABLE;
    /* The alternate stack as the frame says, seen from the handler's stack
     * (so, as on Linux, not while the handler still runs on an alternate
     * stack it set itself; errors are ignored). */
    struct stack_k ss = { f.uc.ss_sp, f.uc.ss_flags, 0, f.uc.ss_size };
    altstack_set(p, &ss, entry_sp);
    return (long)tf->rax;
}

/* rt_sigsuspend(2): wait with `mask` as the blocked set until a signal
 * comes; the old mask returns with the handler's sigreturn (or at once if
 * none runs). Always -EINTR. */
long sys_rt_sigsuspend(const void *umask, size_t size)
{
    struct proc *p = current();
    if (size != 8)
        return -EINVAL;
    uint64_t mask;
    if (copy_from_user(&mask, umask, 8))
        return -EFAULT;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    p->sig_saved_mask = p->sig_blocked;
    p->sig_mask_saved = true;
    p->sig_blocked = mask & ~UNBLOCKABLE;
    while (!proc_signal_pending())
        sleep_locked(p);
    spin_unlock_irqrestore(&sched_lock, f);
    return -EINTR;
}

long sys_pause(void)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    while (!proc_signal_pending())
        sleep_locked(current());
    spin_unlock_irqrestore(&sched_lock, f);
    return -EINTR;
}

/* rt_sigtimedwait(2): take a pending signal of `set` (blocked or not)
 * without running its handler; wait for one (the set unblocked meanwhile,
 * so its arrival wakes us) up to the timeout: EAGAIN when it passes, EINTR
 * if another signal comes first. Returns the signal number. */
long sys_rt_sigtimedwait(const void *uset, void *uinfo, const void *uts, size_t size)
{
    struct proc *p = current();
    uint64_t set;
    int64_t ts[2];
    if (size != 8)
        return -EINVAL;
    if (copy_from_user(&set, uset, 8))
        return -EFAULT;
    if (uts && copy_from_user(ts, uts, sizeof(ts)))
        return -EFAULT;
    if (uts && (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000))
        return -EINVAL;
    uint64_t want = set & ~UNBLOCKABLE;
    bool poll = uts && !ts[0] && !ts[1];
    uint64_t deadline = uts ? tick_deadline_sat(ns_to_ticks_sat(ts_to_ns_sat(ts[0], ts[1]))) : 0;
    struct siginfo_k info;
    memset(&info, 0, sizeof(info));
    uint64_t f = spin_lock_irqsave(&sched_lock);
    uint64_t saved = p->sig_blocked;
    p->sig_real_blocked = saved;                /* still blocked for signal_send_locked */
    p->sig_blocked &= ~want;
    long r;
    for (;;) {
        uint64_t got = p->sig_pending & want;
        if (got) {
            int sig = __builtin_ctzl(got) + 1;
            signal_dequeue_locked(p, sig);
            info.signo = sig;
            info.code = p->sig_code[sig - 1];
            info.pid = p->sig_sender[sig - 1];
            info.addr = p->sig_value[sig - 1];
            if (info.code == SI_TIMER)
                info.uid = ptimer_delivered_locked(p->leader, info.pid);
            p->sig_code[sig - 1] = 0;
            p->sig_value[sig - 1] = 0;
            r = sig;
            break;
        }
        if (poll || (deadline && timer_ticks() >= deadline)) {
            r = -EAGAIN;
            break;
        }
        if (deliverable(p)) {
            r = -EINTR;                         /* another signal: its handler runs */
            break;
        }
        p->wake_tick = deadline;
        sleep_locked(p);
    }
    p->wake_tick = 0;
    p->sig_blocked = saved;
    p->sig_real_blocked = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    if (r > 0 && uinfo && copy_to_user(uinfo, &info, sizeof(info)))
        return -EFAULT;
    return r;
}

/* rt_sigqueueinfo(2): a signal with the sender's siginfo code and value.
 * Only the kernel sends codes >= 0 (and tgkill SI_TKILL): a process may
 * claim them only towards itself (EPERM otherwise, as Linux). */
long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, const void *uinfo)
{
    struct siginfo_k info;
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    if (copy_from_user(&info, uinfo, sizeof(info)))
        return -EFAULT;
    /* Only the kernel's codes are refused: none may be faked to another process. */
    if ((info.code >= 0 || info.code == SI_TKILL) && tgid != current()->tgid)
        return -EPERM;
    return proc_tgsignal(tgid, tid, sig, info.code, info.addr);
}

long sys_rt_sigqueueinfo(int pid, int sig, const void *uinfo)
{
    struct siginfo_k info;
    if (copy_from_user(&info, uinfo, sizeof(info)))
        return -EFAULT;
    if ((info.code >= 0 || info.code == SI_TKILL) && pid != current()->tgid)
        return -EPERM;
    return proc_sigqueue(pid, sig, info.code, info.addr);
}
