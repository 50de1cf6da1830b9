/* lib/lockdep.h - the lock-order checker, in the spirit of Linux's lockdep.
 *
 * Locks are grouped into classes by name. Whenever a lock of class B is
 * taken while one of class A is held, the edge A -> B is recorded, with the
 * places both were taken. If B -> ... -> A was already on record, some two
 * paths take the locks in opposite orders: they can deadlock, even if they
 * have not yet. That is reported once per pair, with both paths.
 *
 * Spinlocks are held by a CPU (a context switch hands sched_lock from one
 * thread to the next); sleeping locks (the kernel lock, mutexes) are held by
 * a thread across sleeps. Both kinds take part in the same order graph. */
#pragma once
#include "types.h"

#define LOCKDEP_DEPTH 16

struct lockdep_held {
    int cls;
    uintptr_t site;
};
struct lockdep_stack {
    int n;
    struct lockdep_held e[LOCKDEP_DEPTH];
};

void lockdep_init(void);                 /* once GS (this_cpu) works */
void lockdep_acquire(int *cls, const char *name, uintptr_t site, bool thread_lock);
void lockdep_release(int cls, bool thread_lock);
int  lockdep_reports(void);              /* inversions reported so far */
int  lockdep_cpu_depth(void);            /* spinlocks this CPU holds */
/* Provided by the proc layer: the running thread's held-lock stack (NULL
 * when there is no thread, e.g. early boot). */
struct lockdep_stack *lockdep_thread_stack(void);
