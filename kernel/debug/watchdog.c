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
 * Each stall is reported once. The threshold, 10 s by default (watchdog=N
 * on the command line), is far above any legitimate hold: the kernel lock
 * is dropped at every sleep, and the longest thing Vigil does without
 * sleeping is a few milliseconds of copying. */
#include "debug.h"
#include "../arch/x86_64/arch.h"
#include "../lib/kprintf.h"
#include "../lib/cmdline.h"
#include "../proc/proc.h"

#define DEFAULT_SECS 10

static uint32_t limit_ticks;

static struct {
    volatile uint64_t beats;        /* this CPU's timer ticks */
    uint64_t lock_gen;              /* the acquisition being timed */
    uint32_t lock_ticks;
    bool lock_reported;
    uint64_t seen[MAX_CPUS];        /* other CPUs' beats at our last look */
    uint32_t still[MAX_CPUS];       /* our ticks since they last moved */
    volatile bool nmi_wanted;       /* a watcher asked this CPU where it is */
} wd[MAX_CPUS];

static void where(const char *what, int cpu, struct trapframe *tf)
{
    uintptr_t off;
    const char *fn = ksym_lookup(tf->rip, &off);
    kprintf("watchdog: CPU %d %s for %u s, in %s+0x%lx\n", cpu, what,
            limit_ticks / timer_hz(), fn ? fn : "?", fn ? off : tf->rip);
    backtrace_from(tf->rip, tf->rbp);
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
    char arg[16];
    unsigned secs = DEFAULT_SECS;
    if (cmdline_get("watchdog", arg, sizeof(arg))) {
        secs = 0;
        for (const char *p = arg; *p >= '0' && *p <= '9'; p++)
            secs = secs * 10 + (unsigned)(*p - '0');
        if (!secs)
            secs = DEFAULT_SECS;
    }
    limit_ticks = secs * timer_hz();
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
