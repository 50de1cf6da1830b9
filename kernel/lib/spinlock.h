/* lib/spinlock.h - spinlocks. A holder keeps interrupts off on its CPU, so an
 * interrupt handler there can never spin on a lock its own CPU holds; other
 * CPUs spin. Every acquisition is shown to the lock-order checker
 * (lockdep.c), which reports an inversion the first time it is seen. */
#pragma once
#include "types.h"
#include "../arch/x86_64/cpu.h"

struct spinlock {
    volatile uint32_t locked;
    int holder;                 /* CPU id + 1 while held (recursion check) */
    const char *name;
    int cls;                    /* lockdep class, assigned at first use */
};

#define SPINLOCK_INIT(n) { 0, 0, (n), 0 }

uint64_t spin_lock_irqsave(struct spinlock *l);
void     spin_unlock_irqrestore(struct spinlock *l, uint64_t flags);
/* The same with interrupts already off (trap handlers, the scheduler's
 * hand-over of sched_lock across a context switch). */
void     spin_lock_noirq(struct spinlock *l);
void     spin_unlock_noirq(struct spinlock *l);
bool     spin_trylock(struct spinlock *l);      /* interrupts already off */
bool     spin_held(struct spinlock *l);         /* by this CPU */
extern bool percpu_ready;
/* Boot word `locktorture` (lib/locktorture.c): every CPU counts under one
 * spinlock; prints whether the total is exact, then powers off. */
__noreturn void locktorture_run(void);
