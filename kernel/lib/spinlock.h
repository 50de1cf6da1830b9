/* lib/spinlock.h - spinlocks that also keep interrupts off while held, so an
 * interrupt handler on the same CPU can never spin on a lock its own CPU holds.
 * (Single CPU for now; the SMP issue adds owner tracking and lock ordering.) */
#pragma once
#include "types.h"
#include "../arch/x86_64/cpu.h"

struct spinlock {
    volatile uint32_t locked;
    const char *name;
};

#define SPINLOCK_INIT(n) { 0, (n) }

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t flags = irq_save();
    /* INVARIANT(mutual exclusion): only one holder between lock and unlock. */
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    irq_restore(flags);
}
