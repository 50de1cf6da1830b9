/* proc/sync.c - the kernel lock and sleeping mutexes (see proc.h).
 *
 * Both are held by a thread, not a CPU, and both show up in the lock-order
 * checker next to the spinlocks. */
#include "proc.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

static struct {
    volatile uint32_t locked;
    struct proc *owner;
    volatile int waiters;       /* threads asleep in kernel_lock */
    volatile uint64_t generation;   /* acquisitions so far (the watchdog's clock) */
} klock;

#define KLOCK_SPINS 2000

/* INVARIANT(mutual exclusion): kernel code runs for one process at a time,
 * so every kernel structure not guarded by a spinlock of its own (the file
 * systems, address spaces, the process tree) sees one CPU, as it was written
 * for. A thread that finds it taken spins a little, then sleeps until the
 * holder lets go: with more virtual CPUs than host CPUs the holder may not
 * be running, and a sleeping waiter's CPU halts instead of burning the time
 * the holder needs. */
void kernel_lock(void)
{
    struct proc *p = current();
    if (klock.owner == p && klock.locked)
        panic("kernel_lock: taken twice by pid %d", p->pid);
    /* It is given up at every sleep, so it needs no place in the lock order
     * among sleeping locks; but waiting for it while holding a spinlock could
     * deadlock against its holder, who may want that spinlock. */
    if (lockdep_cpu_depth())
        panic("kernel_lock: taken while holding a spinlock");
#ifdef BREAK_KLOCK
    klock.locked = 1;           /* the break switch: excludes nobody */
    klock.owner = p;
    return;
#endif
    for (int i = 0; __atomic_exchange_n(&klock.locked, 1, __ATOMIC_ACQUIRE); i++) {
        if (i < KLOCK_SPINS) {
            cpu_relax();
            continue;
        }
        uint64_t f = spin_lock_irqsave(&sched_lock);
        __atomic_add_fetch(&klock.waiters, 1, __ATOMIC_SEQ_CST);
        while (__atomic_exchange_n(&klock.locked, 1, __ATOMIC_ACQUIRE))
            sleep_uninterruptible_locked(&klock);
        __atomic_sub_fetch(&klock.waiters, 1, __ATOMIC_SEQ_CST);
        spin_unlock_irqrestore(&sched_lock, f);
        break;
    }
    klock.owner = p;
    klock.generation++;
}

/* sched_held: the caller holds sched_lock (sleep_locked does). */
static void klock_release(bool sched_held)
{
    ASSERT_KLOCK();
    if (sched_held)
        ASSERT_HELD(&sched_lock);
    klock.owner = NULL;
    __atomic_store_n(&klock.locked, 0, __ATOMIC_SEQ_CST);
    /* A waiter counts itself and retries under sched_lock before it
     * sleeps, so either it sees the lock free or we see it counted. */
    if (__atomic_load_n(&klock.waiters, __ATOMIC_SEQ_CST)) {
        if (sched_held) {
            wakeup_locked(&klock);
        } else {
            uint64_t f = spin_lock_irqsave(&sched_lock);
            wakeup_locked(&klock);
            spin_unlock_irqrestore(&sched_lock, f);
        }
    }
}

void kernel_unlock(void) { klock_release(false); }
void kernel_unlock_sched_held(void) { klock_release(true); }

uint64_t kernel_lock_generation(void) { return klock.generation; }

bool kernel_lock_held(void)
{
    return klock.locked && klock.owner == current();
}

bool mutex_held(struct mutex *m)
{
    return m->locked && m->owner == current();
}

/* The proc layer's side of the arch entry points. */
void user_trap_enter(void)
{
    kernel_lock();
}

/* User memory is [klock] (mm.h): a NOLOCK syscall that faults in uaccess
 * (a page not yet present, or copy-on-write) takes the lock for the fault. */
bool uaccess_fault_enter(void)
{
    struct proc *p = current();
    if (!p || proc_is_idle(p) || kernel_lock_held())
        return false;
    kernel_lock();
    return true;
}

void uaccess_fault_leave(void)
{
    kernel_unlock();
}

/* A mutex sleeps (on the mutex itself) rather than spins, so it may be held
 * across I/O. The check and the sleep are one step under sched_lock, so an
 * unlock in between cannot be missed. */
void mutex_lock(struct mutex *m)
{
    struct proc *p = current();
    if (m->owner == p)
        panic("mutex \"%s\": taken twice by pid %d", m->name, p->pid);
    lockdep_acquire(&m->cls, m->name, (uintptr_t)__builtin_return_address(0), true);
    uint64_t f = spin_lock_irqsave(&sched_lock);
    while (m->locked)
        sleep_uninterruptible_locked(m);
    m->locked = 1;
    m->owner = p;
    spin_unlock_irqrestore(&sched_lock, f);
}

void mutex_unlock(struct mutex *m)
{
    ASSERT_HELD(m);
    uint64_t f = spin_lock_irqsave(&sched_lock);
    m->locked = 0;
    m->owner = NULL;
    lockdep_release(m->cls, true);
    wakeup_locked(m);
    spin_unlock_irqrestore(&sched_lock, f);
}
