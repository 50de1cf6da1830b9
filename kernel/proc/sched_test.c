/* proc/sched_test.c - in-kernel tests of the scheduler's rules (suites
 * sched and pi) on threads made up for the purpose: the run queue's pick
 * order and the credit of a waking thread (sched_internal.h), and the
 * recomputation of inherited priorities along a chain of PI futex owners
 * (pi_update, futex.c).
 *
 * The made-up threads never run: they are allowed on no CPU (affinity 0),
 * so a wakeup finds no CPU to kick for them and no CPU's pick can take
 * them. The pi cases put them in the real thread table for a moment (that
 * is where pi_update looks for waiters), all under sched_lock, and take
 * them out before letting it go; what they saw is checked afterwards. */
#include "proc.h"
#include "sched_internal.h"
#include "../ktest/ktest.h"
#include "../lib/kprintf.h"
#include "../lib/string.h"
#include "../mm/mm.h"

/* A thread that exists only for a test: asleep, allowed nowhere. */
static struct proc *fake(int policy, int rt_priority)
{
    struct proc *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    p->state = P_SLEEPING;
    p->policy = policy;
    p->rt_priority = rt_priority;
    p->prio = sched_base_prio(p);
    p->affinity = 0;
    snprintf(p->name, sizeof(p->name), "ktest-fake");
    return p;
}

static struct proc *fake_runnable(int policy, int rt_priority, uint64_t rt_seq, uint64_t vruntime)
{
    struct proc *p = fake(policy, rt_priority);
    if (p) {
        p->state = P_RUNNABLE;
        p->rt_seq = rt_seq;
        p->vruntime = vruntime;
        p->affinity = 1;                        /* for sched_pick's eyes only: never queued */
    }
    return p;
}

static void free_all(struct proc **p, int n)
{
    for (int i = 0; i < n; i++)
        kfree(p[i]);
}

/* ---- sched: the pick order ---- */

KTEST(sched, real_time_runs_before_fair_and_higher_priority_first)
{
    struct proc *q[5] = {
        fake_runnable(SCHED_OTHER, 0, 1, 0),    /* fair, with no CPU time at all */
        fake_runnable(SCHED_FIFO, 1, 5, 0),
        fake_runnable(SCHED_RR, 50, 9, 0),
        fake_runnable(SCHED_FIFO, 99, 12, 0),
        fake_runnable(SCHED_FIFO, 20, 2, 0),
    };
    for (int i = 0; i < 5; i++)
        KT_ASSERT(t, q[i] != NULL);
    /* Take the best away, one after the other: 99, 50, 20, 1, then fair. */
    static const int order[5] = { 3, 2, 4, 1, 0 };
    for (int k = 0; k < 5; k++) {
        struct proc *got = sched_pick(q, 5, NULL, 0);
        KT_EXPECT(t, got == q[order[k]]);
        if (got)
            got->state = P_SLEEPING;
    }
    KT_EXPECT(t, sched_pick(q, 5, NULL, 0) == NULL);
    free_all(q, 5);
}

KTEST(sched, equal_real_time_priorities_run_in_wake_order)
{
    /* Woken through the real wake path, in the order 2, 0, 1 (make_runnable
     * stamps rt_seq): FIFO picks them in that order, wherever they sit in
     * the table. */
    struct proc *q[3] = { fake(SCHED_FIFO, 10), fake(SCHED_FIFO, 10), fake(SCHED_RR, 10) };
    for (int i = 0; i < 3; i++)
        KT_ASSERT(t, q[i] != NULL);
    static const int woken[3] = { 2, 0, 1 };
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int k = 0; k < 3; k++)
        make_runnable_locked(q[woken[k]]);      /* allowed on no CPU: kicks none */
    spin_unlock_irqrestore(&sched_lock, f);
    for (int i = 0; i < 3; i++) {
        KT_EXPECT_EQ(t, q[i]->state, P_RUNNABLE);
        q[i]->affinity = 1;
    }
    for (int k = 0; k < 3; k++) {
        struct proc *got = sched_pick(q, 3, NULL, 0);
        KT_EXPECT(t, got == q[woken[k]]);
        if (got)
            got->state = P_SLEEPING;
    }
    free_all(q, 3);
}

KTEST(sched, the_fair_thread_with_least_vruntime_runs)
{
    struct proc *q[4] = {
        fake_runnable(SCHED_OTHER, 0, 1, 5000000),
        fake_runnable(SCHED_OTHER, 0, 2, 3000000),
        fake_runnable(SCHED_OTHER, 0, 3, 3000001),
        fake_runnable(SCHED_OTHER, 0, 4, 90000000),
    };
    for (int i = 0; i < 4; i++)
        KT_ASSERT(t, q[i] != NULL);
    static const int order[4] = { 1, 2, 0, 3 };
    for (int k = 0; k < 4; k++) {
        struct proc *got = sched_pick(q, 4, NULL, 0);
        KT_EXPECT(t, got == q[order[k]]);
        if (got)
            got->state = P_SLEEPING;
    }
    free_all(q, 4);
}

KTEST(sched, pick_sees_only_runnable_threads_allowed_on_the_cpu)
{
    struct proc *q[5] = {
        NULL,                                           /* an empty slot */
        fake_runnable(SCHED_FIFO, 90, 1, 0),            /* not allowed on CPU 0 */
        fake_runnable(SCHED_FIFO, 80, 2, 0),            /* asleep */
        fake_runnable(SCHED_FIFO, 70, 3, 0),            /* running elsewhere */
        fake_runnable(SCHED_OTHER, 0, 4, 0),
    };
    for (int i = 1; i < 5; i++)
        KT_ASSERT(t, q[i] != NULL);
    q[1]->affinity = 2;
    q[2]->state = P_SLEEPING;
    q[3]->state = P_RUNNING;
    KT_EXPECT(t, sched_pick(q, 5, NULL, 0) == q[4]);
    KT_EXPECT(t, sched_pick(q, 5, NULL, 1) == q[1]);
    /* The thread the CPU runs now competes (it was RUNNING, not queued). */
    KT_EXPECT(t, sched_pick(q, 5, q[3], 0) == q[3]);
    free_all(q + 1, 4);
}

/* ---- sched: the credit of a waking thread ---- */

KTEST(sched, a_waking_thread_is_at_most_one_slice_ahead)
{
    const uint64_t slice = SLICE_TICKS * TICK_NS;
    /* Slept long (vruntime far behind): comes back one slice behind the
     * queue's minimum, not with its whole sleep banked. */
    KT_EXPECT_EQ(t, sched_wake_vruntime(0, 100 * slice), 99 * slice);
    KT_EXPECT_EQ(t, sched_wake_vruntime(5 * slice, 100 * slice), 99 * slice);
    /* Within one slice of the minimum, or past it: unchanged. */
    KT_EXPECT_EQ(t, sched_wake_vruntime(99 * slice, 100 * slice), 99 * slice);
    KT_EXPECT_EQ(t, sched_wake_vruntime(99 * slice + 1, 100 * slice), 99 * slice + 1);
    KT_EXPECT_EQ(t, sched_wake_vruntime(100 * slice, 100 * slice), 100 * slice);
    KT_EXPECT_EQ(t, sched_wake_vruntime(300 * slice, 100 * slice), 300 * slice);
    /* A young queue (minimum less than a slice): nothing to clamp to. */
    KT_EXPECT_EQ(t, sched_wake_vruntime(0, slice), 0);
    KT_EXPECT_EQ(t, sched_wake_vruntime(0, slice - 1), 0);
    KT_EXPECT_EQ(t, sched_wake_vruntime(7, 0), 7);
    KT_EXPECT_EQ(t, sched_wake_vruntime(0, slice + 1), 1);
}

/* ---- pi: a chain of PI futex owners ----
 * H (FIFO 30) and M (FIFO 20) block on a lock A holds; A (fair) is blocked
 * on a lock B (FIFO 5) holds; B is blocked on a lock C (fair) holds. */

enum { H, M, A, B, C, NFAKE };

struct pi_world {
    struct proc *p[NFAKE];
};

static bool pi_world_make(struct pi_world *w)
{
    w->p[H] = fake(SCHED_FIFO, 30);
    w->p[M] = fake(SCHED_FIFO, 20);
    w->p[A] = fake(SCHED_OTHER, 0);
    w->p[B] = fake(SCHED_FIFO, 5);
    w->p[C] = fake(SCHED_OTHER, 0);
    for (int i = 0; i < NFAKE; i++)
        if (!w->p[i])
            return false;
    w->p[C]->state = P_RUNNABLE;                /* the end of the chain can run (nowhere) */
    return true;
}

/* x blocks on a PI futex owned by o (the fields lock_pi sets). */
static void block_on(struct proc *x, struct proc *o)
{
    x->futex_waiting = true;
    x->pi_owner = o;
}

static void leave(struct proc *x)
{
    x->futex_waiting = false;
    x->pi_owner = NULL;
}

#define STEPS 6

KTEST(pi, boost_runs_down_the_chain_and_is_recomputed_when_waiters_leave)
{
    struct pi_world w;
    bool made = pi_world_make(&w);
    int seen[STEPS][3];                         /* the prio of A, B, C after each step */
    if (made) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        for (int i = 0; i < NFAKE; i++)
            sched_add(w.p[i]);
        block_on(w.p[A], w.p[B]);
        pi_update(w.p[B]);
        block_on(w.p[B], w.p[C]);
        pi_update(w.p[C]);
        int s = 0;
#define SNAP() do { seen[s][0] = w.p[A]->prio, seen[s][1] = w.p[B]->prio, seen[s][2] = w.p[C]->prio; s++; } while (0)
        SNAP();                                 /* 0: B lends its 5 to C */
        block_on(w.p[H], w.p[A]);
        pi_update(w.p[A]);
        SNAP();                                 /* 1: H's 30 to A, B and C */
        block_on(w.p[M], w.p[A]);
        pi_update(w.p[A]);
        SNAP();                                 /* 2: M's 20 changes nothing */
        leave(w.p[H]);                          /* H times out */
        pi_update(w.p[A]);
        SNAP();                                 /* 3: down to M's 20, all along */
        leave(w.p[M]);
        pi_update(w.p[A]);
        SNAP();                                 /* 4: A its own 0; B its own 5, lent to C */
        leave(w.p[B]);                          /* B gets C's lock */
        pi_update(w.p[C]);
        SNAP();                                 /* 5: C its own 0 */
#undef SNAP
        for (int i = 0; i < NFAKE; i++)
            sched_remove(w.p[i]);
        spin_unlock_irqrestore(&sched_lock, f);
    }
    free_all(w.p, NFAKE);
    KT_ASSERT(t, made);
    static const int want[STEPS][3] = {
        { 0, 5, 5 }, { 30, 30, 30 }, { 30, 30, 30 }, { 20, 20, 20 }, { 0, 5, 5 }, { 0, 5, 0 },
    };
    for (int s = 0; s < STEPS; s++)
        if (memcmp(seen[s], want[s], sizeof(want[s])))
            ktest_fail(t, __FILE__, __LINE__, "step %d: A, B, C at %d %d %d, want %d %d %d", s,
                       seen[s][0], seen[s][1], seen[s][2], want[s][0], want[s][1], want[s][2]);
}

KTEST(pi, a_waiter_below_the_owner_lends_nothing)
{
    /* The owner's own priority stands when its waiters' are lower. */
    struct pi_world w;
    bool made = pi_world_make(&w);
    int a = -1, b = -1, c = -1;
    if (made) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        for (int i = 0; i < NFAKE; i++)
            sched_add(w.p[i]);
        block_on(w.p[A], w.p[H]);               /* fair A waits for FIFO 30 H */
        pi_update(w.p[H]);
        block_on(w.p[C], w.p[B]);               /* fair C waits for FIFO 5 B */
        pi_update(w.p[B]);
        a = w.p[H]->prio, b = w.p[B]->prio, c = w.p[A]->prio;
        for (int i = 0; i < NFAKE; i++)
            sched_remove(w.p[i]);
        spin_unlock_irqrestore(&sched_lock, f);
    }
    free_all(w.p, NFAKE);
    KT_ASSERT(t, made);
    KT_EXPECT_EQ(t, a, 30);
    KT_EXPECT_EQ(t, b, 5);
    KT_EXPECT_EQ(t, c, 0);
}
