/* lib/lockdep_test.c - the lock-order checker sees an inversion the first
 * time two paths take the same locks in opposite orders, though neither
 * path deadlocks on its own (they run one after the other here). */
#include "lockdep.h"
#include "spinlock.h"
#include "../ktest/ktest.h"

static struct spinlock lock_a = SPINLOCK_INIT("ktest-a");
static struct spinlock lock_b = SPINLOCK_INIT("ktest-b");
static struct spinlock lock_c = SPINLOCK_INIT("ktest-c");
static struct spinlock lock_d = SPINLOCK_INIT("ktest-d");
static struct spinlock lock_e = SPINLOCK_INIT("ktest-e");

static __attribute__((noinline)) void take_in_order(struct spinlock *first, struct spinlock *second)
{
    uint64_t f = spin_lock_irqsave(first);
    spin_lock_noirq(second);
    spin_unlock_noirq(second);
    spin_unlock_irqrestore(first, f);
}

/* Two code paths that would deadlock if two CPUs ran them at once. */
static __attribute__((noinline)) void path_one_takes_a_then_b(void)
{
    uint64_t f = spin_lock_irqsave(&lock_a);
    spin_lock_noirq(&lock_b);
    spin_unlock_noirq(&lock_b);
    spin_unlock_irqrestore(&lock_a, f);
}

static __attribute__((noinline)) void path_two_takes_b_then_a(void)
{
    uint64_t f = spin_lock_irqsave(&lock_b);
    spin_lock_noirq(&lock_a);
    spin_unlock_noirq(&lock_a);
    spin_unlock_irqrestore(&lock_b, f);
}

KTEST(lockdep, opposite_orders_are_reported_once)
{
    int before = lockdep_reports();
    path_one_takes_a_then_b();
    KT_EXPECT_EQ(t, lockdep_reports(), before);
    path_two_takes_b_then_a();              /* reported now, before any deadlock */
    KT_EXPECT_EQ(t, lockdep_reports(), before + 1);
    path_two_takes_b_then_a();              /* the same pair again: not reported twice */
    KT_EXPECT_EQ(t, lockdep_reports(), before + 1);
}

KTEST(lockdep, a_cycle_through_three_locks_is_reported)
{
    int before = lockdep_reports();
    take_in_order(&lock_c, &lock_d);
    take_in_order(&lock_d, &lock_e);
    KT_EXPECT_EQ(t, lockdep_reports(), before);
    take_in_order(&lock_e, &lock_c);        /* c -> d -> e -> c */
    KT_EXPECT_EQ(t, lockdep_reports(), before + 1);
}

KTEST(lockdep, consistent_order_is_silent)
{
    int before = lockdep_reports();
    for (int i = 0; i < 3; i++)
        take_in_order(&lock_a, &lock_c);
    KT_EXPECT_EQ(t, lockdep_reports(), before);
}
