/* lib/spinlock.c - see spinlock.h. */
#include "spinlock.h"
#include "lockdep.h"
#include "kprintf.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"

bool percpu_ready;              /* GS points at this CPU's struct cpu (lockdep_init) */

/* What l->holder records: this CPU's id + 1 (0 is "nobody"); before the
 * per-CPU data exists only the boot CPU runs, as 1. */
static int holder_token(void) { return percpu_ready ? this_cpu()->id + 1 : 1; }

static void spin_acquire(struct spinlock *l, uintptr_t site)
{
    int id = holder_token();
    if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED) && l->holder == id)
        panic("spinlock \"%s\": taken again by the CPU that holds it", l->name);
    lockdep_acquire(&l->cls, l->name, site, false);
#ifndef BREAK_SPINLOCK
    /* INVARIANT(mutual exclusion): one holder between lock and unlock. */
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
#else
    l->locked = 1;              /* the break switch: nobody waits for anybody */
#endif
    l->holder = id;
}

static void spin_release(struct spinlock *l)
{
    l->holder = 0;
    lockdep_release(l->cls, false);
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t f = irq_save();
    spin_acquire(l, (uintptr_t)__builtin_return_address(0));
    return f;
}

void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_release(l);
    irq_restore(flags);
}

void spin_lock_noirq(struct spinlock *l)
{
    spin_acquire(l, (uintptr_t)__builtin_return_address(0));
}
void spin_unlock_noirq(struct spinlock *l) { spin_release(l); }

bool spin_trylock(struct spinlock *l)
{
#ifndef BREAK_SPINLOCK
    if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        return false;
#endif
    l->locked = 1;
    l->holder = holder_token();
    lockdep_acquire(&l->cls, l->name, (uintptr_t)__builtin_return_address(0), false);
    return true;
}

bool spin_held(struct spinlock *l) { return l->locked && l->holder == holder_token(); }
