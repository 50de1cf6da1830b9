/* proc/sched_internal.h - the pure parts of sched.c, out where a test can
 * reach them (sched_test.c) and nobody else needs them: the pick order of
 * the run queue and the credit a waking thread gets. They read only the
 * threads and numbers they are given, not the scheduler's own state. */
#pragma once
#include "proc.h"

/* The scheduler's clock: 100 ticks a second; a fair thread's turn, a
 * round-robin thread's turn. */
#define TICK_NS      (1000000000ul / 100)
#define SLICE_TICKS  2
#define RR_TICKS     10

/* The thread CPU cpu should run among the n in procs (empty slots NULL):
 * runnable ones, and prev if it still runs, allowed on cpu; real time
 * above fair, the higher real-time priority first, FIFO (rt_seq) among
 * equal ones, the smallest vruntime among fair ones. NULL if none. */
struct proc *sched_pick(struct proc *const *procs, int n, struct proc *prev, int cpu);
/* The vruntime a thread waking from a sleep comes back with, given the
 * queue's min_vruntime: at most one slice ahead of it. */
uint64_t sched_wake_vruntime(uint64_t vruntime, uint64_t min_vruntime);
