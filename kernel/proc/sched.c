/* proc/sched.c - the scheduler, on every CPU.
 *
 * One run queue for all CPUs (the table of threads, under sched_lock): with
 * the handful of CPUs Vigil runs on, one lock is not a bottleneck, and one
 * queue makes fairness and strict priorities hold across CPUs by
 * construction, with no balancing to get wrong. Each CPU runs pick_next
 * whenever it switches.
 *
 * Two classes, as in Linux:
 *  - real time (SCHED_FIFO, SCHED_RR; priority 1-99): the runnable thread
 *    with the highest priority always runs; FIFO keeps the CPU until it
 *    blocks or yields, RR rotates among equals every RR_TICKS;
 *  - fair (SCHED_OTHER): virtual runtime, the idea of Linux's CFS. Each
 *    thread accumulates vruntime = CPU time x (1024 / weight(nice)); the one
 *    with the smallest runs next, for SLICE_TICKS before the timer asks it to
 *    give way. A thread that slept comes back with at most one slice of
 *    advantage, so sleeping cannot be banked to starve others later.
 * A thread's effective priority (prio) may be raised above its own by
 * priority inheritance (futex.c).
 *
 * The kernel itself is not preempted: a thread gives up its CPU when it
 * sleeps, or on its way back to user mode when asked to (need_resched),
 * which a wakeup on another CPU requests with an IPI. */
#include "proc.h"
#include "../fs/poll.h"
#include "sched_internal.h"
#include "../sys/syscall.h"
#include "../lib/kprintf.h"
#include "../lib/string.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

struct spinlock sched_lock = SPINLOCK_INIT("sched");
static struct proc *table[NPROC];       /* [sched_lock] every live thread, by slot */
int sched_nslots;                       /* [sched_lock] table[i] is NULL for every i >= it */
static struct proc idle_procs[MAX_CPUS];/* each CPU's boot/idle thread */
static struct proc *running[MAX_CPUS];  /* [sched_lock] what each CPU runs */
/* [sched_lock] to set (kick); its CPU reads and clears it (schedule, under
 * the lock; sched_should_yield and the idle loop peek without it). */
static volatile bool need_resched[MAX_CPUS];
static uint64_t min_vruntime;           /* [sched_lock] */
static uint64_t rt_seq;                 /* [sched_lock] */
/* [sched_lock] for /proc/stat and /proc/loadavg (sched_get_stats). */
static uint64_t nr_switches;
static uint64_t cpu_ticks[MAX_CPUS][3];  /* user, system, idle */
static uint64_t avenrun[3];

void swtch(uint64_t *old_rsp, uint64_t new_rsp);

struct proc *current(void) { return this_cpu()->current; }
bool proc_is_idle(struct proc *p) { return p >= idle_procs && p < idle_procs + MAX_CPUS; }
/* This CPU's index into running[] and need_resched[]. */
static int cpu_index(void) { return this_cpu()->id; }

struct lockdep_stack *lockdep_thread_stack(void)
{
    struct proc *p = current();
    return p && !proc_is_idle(p) ? &p->locks : NULL;
}

void sched_add(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < NPROC; i++)
        if (!table[i]) {
            table[i] = p;
            if (i >= sched_nslots)
                __atomic_store_n(&sched_nslots, i + 1, __ATOMIC_RELAXED);
            schedtrace_new(p);
            return;
        }
    panic("sched_add: table full");
}

void sched_remove(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < sched_slots(); i++)
        if (table[i] == p)
            table[i] = NULL;
    int n = sched_nslots;
    while (n > 0 && !table[n - 1])
        n--;
    __atomic_store_n(&sched_nslots, n, __ATOMIC_RELAXED);
}

struct proc *sched_proc_at(int slot) { return table[slot]; }

static uint64_t weight(int nice)
{
    /* ~1.25x per nice step, as in Linux's table: 1024 at nice 0. */
    uint64_t w = 1024;
    for (int i = 0; i < nice && w > 15; i++)
        w = w * 4 / 5;
    for (int i = 0; i > nice; i--)
        w = w * 5 / 4;
    return w;
}

int sched_base_prio(struct proc *p)
{
    return p->policy == SCHED_FIFO || p->policy == SCHED_RR ? p->rt_priority : 0;
}

/* Should a run before b? */
static bool better(struct proc *a, struct proc *b)
{
#ifndef BREAK_RT_PRIO
    /* INVARIANT(scheduling fairness): a real-time thread runs before every
     * lower priority (and before any fair one); FIFO order within one. */
    if (a->prio != b->prio)
        return a->prio > b->prio;
    if (a->prio > 0)
        return a->rt_seq < b->rt_seq;
#endif
    return a->vruntime < b->vruntime;
}

struct proc *sched_pick(struct proc *const *procs, int n, struct proc *prev, int cpu)
{
    struct proc *best = NULL;
    for (int i = 0; i < n; i++) {
        struct proc *p = procs[i];
        if (!p || !(p->state == P_RUNNABLE || (p == prev && p->state == P_RUNNING)))
            continue;
        if (!(p->affinity >> cpu & 1))
            continue;
#ifdef BREAK_FAIR
        return p;                   /* first runnable, whatever it has had */
#endif
        if (!best || better(p, best))
            best = p;
    }
    return best;
}

static struct proc *pick_next(struct proc *prev, int cpu) { return sched_pick(table, sched_nslots, prev, cpu); }

void schedule(void)
{
    ASSERT_HELD(&sched_lock);
    int cpu = cpu_index();
    struct proc *prev = current(), *next = pick_next(prev, cpu);
    if (!next)
        next = &idle_procs[cpu];
    if (prev->state == P_RUNNING && prev != next)
        prev->state = P_RUNNABLE;
    need_resched[cpu] = false;
    if (!proc_is_idle(next)) {
        next->state = P_RUNNING;
        next->cpu = cpu;
        if (next != prev)
            next->slice_start = timer_ticks();
        if (next->prio == 0 && next->vruntime > min_vruntime)
            min_vruntime = next->vruntime;
    }
    if (next == prev)
        return;
    schedtrace_switch(prev, next, cpu);
    nr_switches++;
    if (!proc_is_idle(prev)) {
        if (prev->state == P_RUNNABLE)
            prev->nivcsw++;                 /* preempted */
        else
            prev->nvcsw++;                  /* it slept or exited */
    }

    prev->fs_base = rdmsr(MSR_FS_BASE);
    if (!proc_is_idle(prev)) {
        fpu_save(&prev->fpu);
        if (cpu_pku)
            prev->pkru = rdpkru();          /* fxsave has no PKRU: kept beside it */
    }
    if (!proc_is_idle(next)) {
        mm_activate(next->mm);
        wrmsr(MSR_FS_BASE, next->fs_base);
        fpu_restore(&next->fpu);
        /* INVARIANT(process isolation): the protection-key rights are the
         * running thread's own, as its other registers. */
#ifndef BREAK_PKRU_SWITCH
        if (cpu_pku)
            wrpkru(next->pkru);
#endif
        cpu_set_kernel_stack(next->kstack.top);
    } else {
        mm_activate(NULL);          /* no stale user space under an idle CPU */
    }
    /* INVARIANT(privilege separation): the TSS's I/O bitmap is the running
     * thread's: ports ioperm gave one process are not another's. */
#ifndef BREAK_IOPORT_OWNER                  /* the break switch: whoever ran last keeps them open */
    if (next->io || prev->io)
        io_perm_load(next);                 /* its ports, or none (idle too: sys_proc.c) */
#endif
    if (next->tsc_sigsegv != prev->tsc_sigsegv)
        tsc_mode_load(next);                /* PR_SET_TSC */
    if (prev->pt_dr7_hw || next->pt_dr7_hw)
        debugreg_load(next->pt_dr, next->pt_dr7_hw);   /* a tracer's breakpoints (ptrace.c) */
    this_cpu()->current = next;
    running[cpu] = next;
    swtch(&prev->ctx, next->ctx);
    /* Back, perhaps on another CPU; sched_lock is held (by whoever switched
     * to us). */
}

/* A new thread's first moment: it was switched to with sched_lock held. */
void fork_finish(void)
{
    ASSERT_HELD(&sched_lock);
    spin_unlock_noirq(&sched_lock);
    /* A traced child stops for its tracer before its first instruction
     * (the new tracee's PTRACE_EVENT_STOP or SIGSTOP), as on Linux, so the
     * tracer sees its first system call too. */
    struct proc *p = current();
    if (__atomic_load_n(&p->tracer, __ATOMIC_RELAXED) && p->tf &&
        p->tf->vector == SYSCALL_VECTOR) {
        sti();
        return_to_user_work(p->tf);
        cli();
    }
}

/* The kernel lock is not held across a switch: drop it first, and take it
 * back afterwards without holding sched_lock (kernel lock before sched_lock
 * is the order everywhere). */
void yield(void)
{
    bool klock = kernel_lock_held();
    if (klock)
        kernel_unlock();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *p = current();
    if (p->prio > 0)
        p->rt_seq = ++rt_seq;       /* sched_yield: to the back of its priority */
    schedule();
    spin_unlock_irqrestore(&sched_lock, f);
    if (klock)
        kernel_lock();
}

/* Ask CPU c to reschedule soon. */
static void kick(int c)
{
    need_resched[c] = true;
    if (c != cpu_index())
        ipi_send(c, VEC_RESCHED);
}

/* p just became runnable (or got a higher priority): find a CPU that should
 * run it now rather than what it runs. */
static void preempt_for(struct proc *p)
{
    int victim = -1;
    for (int c = 0; c < cpu_count(); c++) {
        if (!(p->affinity >> c & 1))
            continue;
        struct proc *r = running[c];
        if (!r || proc_is_idle(r)) {
            victim = c;             /* an idle CPU: best of all */
            break;
        }
        if (better(p, r) && (victim < 0 || better(running[victim], r)))
            victim = c;
    }
    if (victim >= 0)
        kick(victim);
}

void sched_kick_locked(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    if (p->state == P_RUNNING && p->cpu != cpu_index())
        kick(p->cpu);
}

/* Coming back from a sleep: at most one slice ahead of everyone else. */
uint64_t sched_wake_vruntime(uint64_t vruntime, uint64_t min_vruntime)
{
    uint64_t floor = min_vruntime > SLICE_TICKS * TICK_NS ? min_vruntime - SLICE_TICKS * TICK_NS : 0;
    return vruntime < floor ? floor : vruntime;
}

void make_runnable_locked(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    if (p->state != P_SLEEPING)
        return;
    p->state = P_RUNNABLE;
    p->chan = NULL;
    p->wake_tick = 0;
    p->vruntime = sched_wake_vruntime(p->vruntime, min_vruntime);
    p->rt_seq = ++rt_seq;
    schedtrace_wakeup(p);
    preempt_for(p);
}

void sched_set_prio_locked(struct proc *p, int prio)
{
    ASSERT_HELD(&sched_lock);
    if (p->prio == prio)
        return;
    schedtrace_prio(p, prio);
    bool lower = prio < p->prio;
    p->prio = prio;
    if (p->state == P_RUNNABLE && !lower)
        preempt_for(p);
    else if (p->state == P_RUNNING && lower)
        kick(p->cpu);               /* something else may deserve its CPU now */
}

void sleep_locked(void *chan)
{
    ASSERT_HELD(&sched_lock);
    struct proc *p = current();
    schedtrace_block(p, chan);
    p->chan = chan;
    p->state = P_SLEEPING;
    /* Let the kernel lock go while asleep; state is already P_SLEEPING
     * under sched_lock, so a waker that takes the kernel lock next cannot
     * miss us. */
    bool klock = kernel_lock_held();
    if (klock)
        kernel_unlock_sched_held();
    schedule();
    p->chan = NULL;
    if (klock) {
        spin_unlock_noirq(&sched_lock);
        kernel_lock();
        spin_lock_noirq(&sched_lock);
    }
}

/* The same sleep, in Linux's D state: the wait is for the kernel's own
 * progress (a lock, a buffer, the disk), not for another program, so it
 * must end by itself; the hung-task watchdog (debug/watchdog.c) reports
 * one that does not. A signal still makes the sleeper run (it re-checks
 * and sleeps again), which the watchdog sees as a switch. */
void sleep_uninterruptible_locked(void *chan)
{
    ASSERT_HELD(&sched_lock);
    struct proc *p = current();
    p->uninterruptible = true;
    sleep_locked(chan);
    p->uninterruptible = false;
}

void wait_locked(void *chan, uint64_t *flags)
{
    ASSERT_HELD(&sched_lock);
    struct proc *p = current();
    if (p && !proc_is_idle(p)) {
        sleep_uninterruptible_locked(chan);     /* only bcache and the journal wait here */
        return;
    }
    /* Boot code or the idle thread: nothing to switch to; halt until an
     * interrupt (the one that ends what we wait for, or a tick). */
    spin_unlock_irqrestore(&sched_lock, *flags);
    sti_hlt();
    *flags = spin_lock_irqsave(&sched_lock);
}

void wakeup_locked(void *chan)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = table[i];
        if (p && p->state == P_SLEEPING && p->chan == chan)
            make_runnable_locked(p);
    }
}

void wakeup(void *chan)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    wakeup_locked(chan);
    spin_unlock_irqrestore(&sched_lock, f);
}

long sleep_ticks(uint64_t n)
{
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    uint64_t deadline = tick_deadline_sat(n);  /* UINT64_MAX: never */
    long r = 0;
    while (timer_ticks() < deadline) {
        if (proc_signal_pending()) {
            r = -4;                             /* -EINTR */
            break;
        }
        p->wake_tick = deadline;
        sleep_locked(&p->wake_tick);
    }
    p->wake_tick = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    return r;
}

static int nr_running_locked(void)
{
    int n = 0;
    for (int i = 0; i < sched_slots(); i++)
        n += table[i] && (table[i]->state == P_RUNNABLE || table[i]->state == P_RUNNING);
    return n;
}

/* Every 5 s: each average moves toward the number of runnable threads by
 * 1 - e^(-5 s / its period); the factors e^(-5/60), e^(-5/300), e^(-5/900)
 * in fixed point (x 2048). */
static void calc_load_locked(void)
{
    static const uint64_t decay[3] = { 1884, 2014, 2037 };
    uint64_t n = (uint64_t)nr_running_locked() * LOAD_FIXED_1;
    for (int i = 0; i < 3; i++)
        avenrun[i] = (avenrun[i] * decay[i] + n * (LOAD_FIXED_1 - decay[i])) >> LOAD_FSHIFT;
}

void sched_get_stats(struct sched_stats *s)
{
    memset(s, 0, sizeof(*s));
    uint64_t f = spin_lock_irqsave(&sched_lock);
    s->ctxt = nr_switches;
    s->ncpu = cpu_count();
    s->running = nr_running_locked();
    for (int c = 0; c < MAX_CPUS; c++) {
        s->user[c] = cpu_ticks[c][0];
        s->system[c] = cpu_ticks[c][1];
        s->idle[c] = cpu_ticks[c][2];
    }
    memcpy(s->avenrun, avenrun, sizeof(avenrun));
    spin_unlock_irqrestore(&sched_lock, f);
}

/* Timer interrupt, on every CPU: charge the tick to what runs here, ask it
 * to give way when its slice is over; the boot CPU also wakes timed
 * sleepers. */
static bool sched_tick(struct trapframe *tf)
{
    uint64_t now = timer_ticks();
    int cpu = cpu_index();
    spin_lock_noirq(&sched_lock);
    struct proc *p = current();
    cpu_ticks[cpu][proc_is_idle(p) ? 2 : (tf->cs & 3) ? 0 : 1]++;
    if (cpu == 0 && now % (5 * timer_hz()) == 0)
        calc_load_locked();
    if (!proc_is_idle(p)) {
        if (tf->cs & 3)
            p->utime++;
        else
            p->stime++;
        if (p->prio == 0)
            p->vruntime += TICK_NS * 1024 / weight(p->nice);
#ifndef BREAK_PREEMPT
        /* INVARIANT(scheduling fairness): no thread keeps the CPU past its
         * slice while another of its class is runnable; a real-time thread
         * runs until it blocks (FIFO) or its round-robin turn ends (RR). */
        if (p->prio == 0 && now - p->slice_start >= SLICE_TICKS)
            need_resched[cpu] = true;
        if (p->prio > 0 && p->policy == SCHED_RR && now - p->slice_start >= RR_TICKS) {
            p->rt_seq = ++rt_seq;
            need_resched[cpu] = true;
        }
#endif
    }
    if (cpu == 0) {
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *q = table[i];
            if (q && q->state == P_SLEEPING && q->wake_tick && q->wake_tick <= now)
                make_runnable_locked(q);
        }
        timerfd_tick_locked();                   /* fs/timerfd.c: expiries wake pollers */
    }
    itimer_tick_locked(proc_is_idle(p) ? NULL : p, tf->cs & 3, now, cpu == 0);
    spin_unlock_noirq(&sched_lock);              /* IF stays off: in a trap */
    return true;
}

bool sched_should_yield(void) { return need_resched[cpu_index()]; }

uint64_t sched_min_vruntime_locked(void)
{
    ASSERT_HELD(&sched_lock);
    return min_vruntime;
}

static void init_idle(int cpu)
{
    struct proc *idle = &idle_procs[cpu];
    idle->pid = 0;
    idle->state = P_RUNNING;
    idle->cpu = cpu;
    snprintf(idle->name, sizeof(idle->name), "idle%d", cpu);
    this_cpu()->current = idle;
    running[cpu] = idle;
}

void sched_init(void)
{
    init_idle(0);
    timer_set_hook(sched_tick);
}

__noreturn void idle_loop(void)
{
    for (;;) {
        cli();
        spin_lock_noirq(&sched_lock);
        schedule();
        spin_unlock_noirq(&sched_lock);
        /* Nothing to run: halt until an interrupt (sti;hlt cannot lose one;
         * a wakeup from another CPU sends one). */
        if (!need_resched[cpu_index()])
            sti_hlt();
    }
}

__noreturn void sched_ap_start(int cpu)
{
    init_idle(cpu);
    idle_loop();
}
