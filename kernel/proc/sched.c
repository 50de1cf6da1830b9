/* proc/sched.c - the scheduler.
 *
 * Policy: virtual runtime (the idea of Linux's CFS, in its simplest form).
 * Each process accumulates vruntime = CPU time x (1024 / weight(nice)); the
 * runnable process with the smallest vruntime runs next, for a slice of
 * SLICE_TICKS before the timer asks it to give way. Equal-nice processes
 * therefore converge on equal CPU time, a higher nice gets proportionally
 * less, and a process that slept comes back with at most one slice of
 * advantage (its vruntime is raised to min_vruntime - slice), so sleeping
 * cannot be banked to starve others later.
 *
 * The kernel itself is not preempted: a process gives up the CPU when it
 * sleeps, or on its way back to user mode when its slice is over. */
#include "proc.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

#define SLICE_TICKS  2
#define TICK_NS      (1000000000ul / 100)

struct spinlock sched_lock = SPINLOCK_INIT("sched");
static struct proc *table[NPROC];       /* every live process, by slot */
static struct proc idle;                /* the boot thread, run when nothing else can */
static uint64_t min_vruntime;
static volatile bool need_resched;

void swtch(uint64_t *old_rsp, uint64_t new_rsp);

struct proc *current(void) { return this_cpu()->current; }

void sched_add(struct proc *p)
{
    for (int i = 0; i < NPROC; i++)
        if (!table[i]) {
            table[i] = p;
            return;
        }
    panic("sched_add: table full");
}

void sched_remove(struct proc *p)
{
    for (int i = 0; i < NPROC; i++)
        if (table[i] == p)
            table[i] = NULL;
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

static struct proc *pick_next(struct proc *prev)
{
    struct proc *best = NULL;
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = table[i];
        if (!p || !(p->state == P_RUNNABLE || (p == prev && p->state == P_RUNNING)))
            continue;
#ifdef BREAK_FAIR
        return p;                   /* first runnable, whatever it has had */
#endif
        if (!best || p->vruntime < best->vruntime)
            best = p;
    }
    return best;
}

void schedule(void)
{
    struct proc *prev = current(), *next = pick_next(prev);
    if (!next)
        next = &idle;
    if (prev->state == P_RUNNING && prev != next)
        prev->state = P_RUNNABLE;
    need_resched = false;
    if (next != &idle) {
        next->state = P_RUNNING;
        next->slice_start = timer_ticks();
        if (next->vruntime > min_vruntime)
            min_vruntime = next->vruntime;
    }
    if (next == prev)
        return;

    prev->fs_base = rdmsr(MSR_FS_BASE);
    if (prev != &idle)
        fpu_save(&prev->fpu);
    if (next != &idle) {
        mm_activate(next->mm);
        wrmsr(MSR_FS_BASE, next->fs_base);
        fpu_restore(&next->fpu);
        cpu_set_kernel_stack(next->kstack.top);
    }
    this_cpu()->current = next;
    swtch(&prev->ctx, next->ctx);
}

/* A new process's first moment: it was switched to with sched_lock held. */
void fork_finish(void)
{
    __atomic_store_n(&sched_lock.locked, 0, __ATOMIC_RELEASE);
}

void yield(void)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    schedule();
    spin_unlock_irqrestore(&sched_lock, f);
}

void make_runnable_locked(struct proc *p)
{
    if (p->state != P_SLEEPING)
        return;
    p->state = P_RUNNABLE;
    p->chan = NULL;
    p->wake_tick = 0;
    /* Coming back from a sleep: at most one slice ahead of everyone else. */
    uint64_t floor = min_vruntime > SLICE_TICKS * TICK_NS ? min_vruntime - SLICE_TICKS * TICK_NS : 0;
    if (p->vruntime < floor)
        p->vruntime = floor;
    struct proc *cur = current();
    if (cur == &idle || p->vruntime < cur->vruntime)
        need_resched = true;
}

void sleep_locked(void *chan)
{
    struct proc *p = current();
    p->chan = chan;
    p->state = P_SLEEPING;
    schedule();
    p->chan = NULL;
}

void wait_locked(void *chan, uint64_t *flags)
{
    struct proc *p = current();
    if (p && p->pid) {
        sleep_locked(chan);
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
    for (int i = 0; i < NPROC; i++) {
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
    uint64_t deadline = timer_ticks() + n;
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

/* Timer interrupt: charge the tick, wake timed sleepers, and ask the
 * running process to give way when its slice is over. */
static bool sched_tick(struct trapframe *tf)
{
    uint64_t now = timer_ticks();
    spin_lock_irqsave(&sched_lock);
    struct proc *p = current();
    if (p != &idle) {
        if (tf->cs & 3)
            p->utime++;
        else
            p->stime++;
        p->vruntime += TICK_NS * 1024 / weight(p->nice);
#ifndef BREAK_PREEMPT
        /* INVARIANT(scheduling fairness): no process keeps the CPU past its
         * slice while another is runnable. */
        if (now - p->slice_start >= SLICE_TICKS)
            need_resched = true;
#endif
    }
    for (int i = 0; i < NPROC; i++) {
        struct proc *q = table[i];
        if (q && q->state == P_SLEEPING && q->wake_tick && q->wake_tick <= now)
            make_runnable_locked(q);
    }
    __atomic_store_n(&sched_lock.locked, 0, __ATOMIC_RELEASE);  /* IF stays off: in a trap */
    return true;
}


bool sched_should_yield(void) { return need_resched; }

void sched_init(void)
{
    idle.pid = 0;
    idle.state = P_RUNNING;
    snprintf(idle.name, sizeof(idle.name), "idle");
    this_cpu()->current = &idle;
    timer_set_hook(sched_tick);
}

__noreturn void idle_loop(void)
{
    for (;;) {
        cli();
        spin_lock_irqsave(&sched_lock);
        schedule();
        __atomic_store_n(&sched_lock.locked, 0, __ATOMIC_RELEASE);
        /* Nothing to run: halt until an interrupt (sti;hlt cannot lose one). */
        if (!need_resched)
            sti_hlt();
    }
}
