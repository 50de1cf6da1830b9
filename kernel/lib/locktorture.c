/* lib/locktorture.c - does a spinlock really exclude, across CPUs?
 *
 * The idea of Linux's locktorture, in the small. Booted with `locktorture`,
 * the kernel starts every CPU and each adds 1 to one plain counter ROUNDS
 * times, every addition a separate read, pause and write under one shared
 * spinlock. If the lock excludes, no two read-modify-writes interleave and
 * the total is exactly CPUs x ROUNDS; if it does not (BREAK_SPINLOCK), two
 * CPUs read the same value and one addition is lost. The count is an
 * observation, not a timing: it says "exact" or how many were lost. */
#include "spinlock.h"
#include "kprintf.h"
#include "../arch/x86_64/arch.h"

#define ROUNDS 20000

static struct spinlock torture_lock = SPINLOCK_INIT("locktorture");
static volatile uint64_t counter;       /* [torture_lock] */
static volatile int go, finished;       /* [atomic] */

static void hammer(void)
{
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        cpu_relax();
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t f = spin_lock_irqsave(&torture_lock);
        uint64_t v = counter;
        for (int j = 0; j < 8; j++)     /* widen the window a lost update needs */
            cpu_relax();
        counter = v + 1;
        spin_unlock_irqrestore(&torture_lock, f);
    }
    __atomic_add_fetch(&finished, 1, __ATOMIC_RELEASE);
}

static __noreturn void torture_ap(int id)
{
    (void)id;
    __asm__ volatile("sti");            /* smp_boot's TLB shootdown needs us to listen */
    hammer();
    for (;;)
        __asm__ volatile("cli; hlt");
}

__noreturn void locktorture_run(void)
{
    int n = smp_boot(torture_ap);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    hammer();
    while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < n)
        cpu_relax();
    uint64_t want = (uint64_t)n * ROUNDS;
    if (counter == want)
        kprintf("locktorture: %d CPUs x %d rounds: counted %lu, exact\n", n, ROUNDS, counter);
    else
        kprintf("locktorture: %d CPUs x %d rounds: counted %lu, %lu lost\n", n, ROUNDS,
                counter, want - counter);
    qemu_exit(EXIT_OK);
}
