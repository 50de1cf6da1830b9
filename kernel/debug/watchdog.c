/* debug/watchdog.c - nothing is silent: a CPU that holds the kernel lock,
 * or runs with interrupts off, for more than a few seconds is reported on
 * the console with the function it is in and a backtrace.
 *
 * Why: before this, a kernel bug that looped (issue 14's ftruncate to 0
 * after 1<<62, 2^50 iterations under the kernel lock) stopped the machine
 * without a word, and a test saw only its own timeout.
 *
 * How. Every CPU's timer tick (100 Hz) calls watchdog_tick:
 *  - Kernel lock: if the thread running here holds it, and has held it
 *    since the same acquisition (kernel_lock_generation) for
 *    watchdog_secs worth of this CPU's ticks, print where the tick
 *    interrupted it (the trap frame's RIP and RBP, symbolised). Counting
 *    ticks that arrived, rather than reading the clock, is what keeps it
 *    quiet under TCG on an overloaded host: a virtual CPU the host does not
 *    run gets no ticks either, so only time the CPU actually spent stuck
 *    counts (QEMU does not replay missed LAPIC ticks).
 *  - Interrupts off: a CPU with interrupts off gets no tick, so the others
 *    watch its tick count; one that has not moved while another CPU counted
 *    watchdog_secs of its own ticks is sent an NMI, which cannot be masked,
 *    and the NMI handler prints where it was. (With one CPU there is no one
 *    to watch: only kernel-lock stalls with interrupts on are seen.)
 *  - Hung tasks (Linux's khungtaskd): once a second CPU 0 looks at every
 *    thread asleep in D state (sleep_uninterruptible_locked: waiting for a
 *    lock, a buffer or the disk, the kernel's own progress, not another
 *    program's). One that has not been switched to since it was last seen
 *    there (nvcsw + nivcsw unchanged) for hungtask=N seconds (30 by
 *    default) is reported with its pid, name, syscall and the kernel
 *    backtrace of its sleep, read from the stack swtch saved: under
 *    sched_lock a sleeping thread is switched out whole. A lost wakeup in
 *    the kernel, or a lock never given back, is then a report rather than a
 *    process that stops without a word. Interruptible sleeps (a pipe, a
 *    futex, wait4, poll) may last for ever and are left alone.
 *  - On request (a break on the serial line: watchdog_request_dump), CPU
 *    0's next tick prints every thread: pid, name, state, the syscall it
 *    is in, what it sleeps on with the kernel backtrace of the sleep, and
 *    where its user code was. A machine whose programs have gone quiet
 *    without any kernel thread in D state (a wakeup lost on an
 *    interruptible wait, a user-space livelock) then says which.
 * Each stall is reported once (per acquisition, per wait). The threshold,
 * 10 s by default (watchdog=N on the command line), is far above any
 * legitimate hold: the kernel lock is dropped at every sleep, and the
 * longest thing Vigil does without sleeping is a few milliseconds of
 * copying. Both reports name the thread with the same words
 * (who_and_where), so a harness counts them by "watchdog: ". */
#include "debug.h"
#include "../arch/x86_64/arch.h"
#include "../lib/kprintf.h"
#include "../lib/cmdline.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"

#define DEFAULT_SECS 10
#define DEFAULT_HUNG_SECS 30

static uint32_t limit_ticks;
static uint32_t hung_ticks;     /* [const after init] a D-state sleep this long is reported */

static struct {
    volatile uint64_t beats;        /* this CPU's timer ticks */
    uint64_t lock_gen;              /* the acquisition being timed */
    uint32_t lock_ticks;
    bool lock_reported;
    uint64_t seen[MAX_CPUS];        /* other CPUs' beats at our last look */
    uint32_t still[MAX_CPUS];       /* our ticks since they last moved */
    volatile bool nmi_wanted;       /* a watcher asked this CPU where it is */
} wd[MAX_CPUS];

/* "pid 12 (trinity-c0), syscall 2 (open)": a thread as reports name it
 * (or "page fault" and the like when it entered the kernel by a trap). */
static void who(struct proc *p)
{
    kprintf("pid %d (%s), ", p->pid, p->name);
    if (!p->tf)
        kprintf("no user context");
    else if (p->tf->vector == SYSCALL_VECTOR)
        kprintf("syscall %ld (%s)", p->syscall_nr, syscall_name(p->syscall_nr));
    else
        kprintf("trap %lu", p->tf->vector);
}

static void where(const char *what, int cpu, struct trapframe *tf)
{
    uintptr_t off;
    const char *fn = ksym_lookup(tf->rip, &off);
    kprintf("watchdog: CPU %d %s for %u s, in %s+0x%lx\n", cpu, what,
            limit_ticks / timer_hz(), fn ? fn : "?", fn ? off : tf->rip);
    struct proc *p = current();
    if (p && !proc_is_idle(p) && p->pid > 0) {
        kprintf("watchdog: CPU %d was running ", cpu);
        who(p);
        kprintf("\n");
    }
    backtrace_from(tf->rip, tf->rbp);
}

static unsigned secs_arg(const char *name, unsigned dflt)
{
    char arg[16];
    if (!cmdline_get(name, arg, sizeof(arg)))
        return dflt;
    unsigned secs = 0;
    for (const char *p = arg; *p >= '0' && *p <= '9'; p++)
        secs = secs * 10 + (unsigned)(*p - '0');
    return secs ? secs : dflt;
}

/* Once a second, from CPU 0's tick: every thread in D state that has not
 * run since the watchdog last looked, for hung_ticks, is reported (once per
 * wait: a switch starts a new one). sched_lock keeps each sleeper switched
 * out while we read its saved stack. */
__attribute__((noinline)) static void hung_scan(uint64_t now)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (!p || proc_is_idle(p))
            continue;
        uint64_t sw = p->nvcsw + p->nivcsw;
        if (p->state != P_SLEEPING || !p->uninterruptible || sw != p->hung_switches ||
            !p->hung_since) {
            p->hung_switches = sw;
            p->hung_since = p->state == P_SLEEPING && p->uninterruptible ? now : 0;
            p->hung_reported = false;
            continue;
        }
#ifdef BREAK_HUNGTASK
        continue;                               /* the break switch: nobody looks */
#endif
        /* INVARIANT(kernel memory safety): no thread sleeps in the kernel,
         * waiting for the kernel's own progress, for ever without a word. */
        if (now - p->hung_since >= hung_ticks && !p->hung_reported) {
            p->hung_reported = true;
            uintptr_t off;
            const char *chan = ksym_lookup((uintptr_t)p->chan, &off);
            kprintf("watchdog: hung task: ");
            who(p);
            kprintf(", blocked in the kernel for %lu s (uninterruptible, on %s%s0x%lx)\n",
                    (now - p->hung_since) / timer_hz(), chan ? chan : "", chan ? "+" : "",
                    chan ? off : (uintptr_t)p->chan);
            /* swtch's frame: r15 r14 r13 r12 rbx rbp, then the return address. */
            const uint64_t *ctx = (const uint64_t *)p->ctx;
            backtrace_from(ctx[6], ctx[5]);
        }
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

static volatile bool dump_wanted;

void watchdog_request_dump(void) { dump_wanted = true; }

/* Every thread, as watchdog_request_dump promises. With sched_lock held a
 * sleeping or runnable thread stays switched out while its stack is read;
 * one running on another CPU shows only where it last entered. */
__attribute__((noinline)) static void dump_threads(void)
{
    static const char state[] = { [P_UNUSED] = '-', [P_EMBRYO] = 'E', [P_RUNNABLE] = 'R', [P_RUNNING] = 'C',
                                  [P_SLEEPING] = 'S', [P_ZOMBIE] = 'Z', [P_DEAD] = 'X' };
    uint64_t f = spin_lock_irqsave(&sched_lock);
    kprintf("threads: CPU 0, tick %lu: a dump (serial break); min_vruntime %lu\n", wd[0].beats,
            sched_min_vruntime_locked());
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (!p || proc_is_idle(p) || p->state == P_UNUSED)
            continue;
        char st = p->state == P_SLEEPING && p->uninterruptible ? 'D' : state[p->state];
        kprintf("threads: %c tid %d tgid %d cpu %d%s ", st, p->pid, p->tgid, p->cpu, p->stopped ? " stopped" : "");
        who(p);
        if (p->tf)
            kprintf(", user rip 0x%lx", p->tf->rip);
        kprintf(", policy %d prio %d nice %d vruntime %lu affinity 0x%lx", p->policy, p->prio, p->nice,
                p->vruntime, p->affinity);
        if (p->state == P_SLEEPING) {
            uintptr_t off;
            const char *chan = ksym_lookup((uintptr_t)p->chan, &off);
            kprintf(", on %s%s0x%lx\n", chan ? chan : "", chan ? "+" : "", chan ? off : (uintptr_t)p->chan);
        } else {
            kprintf("\n");
        }
        if (p->tf) {    /* the user registers of its last entry: what a user-space loop was doing */
            const struct trapframe *t = p->tf;
            kprintf("threads:   user rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx rbp %lx rsp %lx\n",
                    t->rax, t->rbx, t->rcx, t->rdx, t->rsi, t->rdi, t->rbp, t->rsp);
            kprintf("threads:   user r8 %lx r9 %lx r10 %lx r11 %lx r12 %lx r13 %lx r14 %lx r15 %lx\n",
                    t->r8, t->r9, t->r10, t->r11, t->r12, t->r13, t->r14, t->r15);
        }
        if (p->state == P_SLEEPING || p->state == P_RUNNABLE) {
            const uint64_t *ctx = (const uint64_t *)p->ctx;   /* as hung_scan reads it */
            backtrace_from(ctx[6], ctx[5]);
        }
    }
    kprintf("threads: end\n");
    spin_unlock_irqrestore(&sched_lock, f);
}

static bool watchdog_nmi(struct trapframe *tf)
{
    int cpu = this_cpu()->id;
    if (!wd[cpu].nmi_wanted)
        return true;                            /* not ours: ignore */
    wd[cpu].nmi_wanted = false;
    where("has had interrupts off", cpu, tf);
    return true;
}

void watchdog_init(void)
{
    limit_ticks = secs_arg("watchdog", DEFAULT_SECS) * timer_hz();
    hung_ticks = secs_arg("hungtask", DEFAULT_HUNG_SECS) * timer_hz();
    trap_register(T_NMI, watchdog_nmi);
}

uint32_t watchdog_limit_ticks(void)
{
    return limit_ticks;
}

void watchdog_tick(struct trapframe *tf)
{
#ifdef BREAK_WATCHDOG
    return;                                     /* the break switch: nobody watches */
#endif
    if (!limit_ticks)
        return;
    int me = this_cpu()->id;
    wd[me].beats++;
    if (me == 0 && wd[0].beats % timer_hz() == 0)
        hung_scan(wd[0].beats);
    if (me == 0 && dump_wanted) {
        dump_wanted = false;
        dump_threads();
    }
    /* INVARIANT(kernel memory safety): no stall under the kernel lock goes
     * unreported. */
    if (!(tf->cs & 3) && kernel_lock_held()) {
        uint64_t gen = kernel_lock_generation();
        if (gen != wd[me].lock_gen) {
            wd[me].lock_gen = gen;
            wd[me].lock_ticks = 0;
            wd[me].lock_reported = false;
        }
        if (++wd[me].lock_ticks >= limit_ticks && !wd[me].lock_reported) {
            wd[me].lock_reported = true;
            where("has held the kernel lock", me, tf);
        }
    } else {
        wd[me].lock_ticks = 0;
    }
    /* The other CPUs: still ticking? */
    int n = cpu_count();
    for (int c = 0; c < n; c++) {
        if (c == me)
            continue;
        uint64_t b = wd[c].beats;
        if (b != wd[me].seen[c]) {
            wd[me].seen[c] = b;
            wd[me].still[c] = 0;
        } else if (++wd[me].still[c] == limit_ticks) {
            wd[c].nmi_wanted = true;
            ipi_send_nmi(c);
        }
    }
}
