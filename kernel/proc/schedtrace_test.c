/* proc/schedtrace_test.c - in-kernel tests of the scheduling trace ring
 * (suite schedtrace): a full ring keeps the newest records, oldest first,
 * and says how many were written; off records nothing; a clear snapshots
 * the live threads. The records are written through the real hooks for a
 * made-up thread that never runs (schedtrace_prio asks nothing of it but
 * its fields). */
#include "proc.h"
#include "../ktest/ktest.h"
#include "../lib/string.h"
#include "../mm/mm.h"

static struct proc *fake(void)
{
    struct proc *p = kzalloc(sizeof(*p));
    if (p) {
        p->pid = 4242;
        p->state = P_SLEEPING;
        p->policy = SCHED_FIFO;
        p->rt_priority = 7;
    }
    return p;
}

/* Write n PRIO records for p, numbered from 0 in their new priority. */
static void write_prios(struct proc *p, int n)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < n; i++) {
        p->prio = -1;
        schedtrace_prio(p, i);
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

KTEST(schedtrace, a_full_ring_keeps_the_newest_records_in_order)
{
    struct proc *p = fake();
    size_t cap = schedtrace_max_bytes();
    struct st_header *h = kmalloc(cap);
    KT_ASSERT(t, p && h);
    struct st_rec *r = (struct st_rec *)(h + 1);
    KT_EXPECT_EQ(t, schedtrace_control("clear", 5), 5);
    size_t size = schedtrace_snapshot(h, cap);
    int ring = (int)h->capacity, snap = (int)h->count;    /* the clear's snapshot of threads */
    KT_EXPECT_EQ(t, size, sizeof(*h) + (size_t)snap * sizeof(*r));
    write_prios(p, ring + 100);
    size = schedtrace_snapshot(h, cap);
    KT_EXPECT(t, !memcmp(h->magic, "VIGILST1", 8));
    KT_EXPECT_EQ(t, h->rec_size, sizeof(*r));
    KT_EXPECT_EQ(t, h->written, (uint64_t)(snap + ring + 100));
    KT_EXPECT_EQ(t, h->count, (uint64_t)ring);
    KT_EXPECT_EQ(t, size, sizeof(*h) + (size_t)ring * sizeof(*r));
    bool in_order = true;
    for (int i = 0; i < ring; i++)
        in_order &= r[i].type == ST_PRIO && r[i].tid == 4242 && r[i].b == 100 + i &&
                    r[i].c == 7 && (i == 0 || r[i].tsc >= r[i - 1].tsc);
    KT_EXPECT(t, in_order);
    /* A buffer with room for three records gets the newest three. */
    size = schedtrace_snapshot(h, sizeof(*h) + 3 * sizeof(*r) + 5);
    KT_EXPECT_EQ(t, h->count, 3u);
    KT_EXPECT_EQ(t, r[2].b, ring + 99);
    KT_EXPECT_EQ(t, schedtrace_snapshot(h, sizeof(*h) - 1), 0u);
    /* Off: nothing is recorded, a clear leaves nothing. Then on again. */
    KT_EXPECT_EQ(t, schedtrace_control("0\n", 2), 2);
    KT_EXPECT_EQ(t, schedtrace_control("clear", 5), 5);
    write_prios(p, 10);
    schedtrace_snapshot(h, cap);
    KT_EXPECT_EQ(t, h->count, 0u);
    KT_EXPECT_EQ(t, h->enabled, 0u);
    KT_EXPECT_EQ(t, schedtrace_control("1", 1), 1);
    KT_EXPECT_EQ(t, schedtrace_control("on", 2), -EINVAL);
    KT_EXPECT_EQ(t, schedtrace_control("", 0), -EINVAL);
    KT_EXPECT_EQ(t, schedtrace_control("clear", 5), 5);
    kfree(h);
    kfree(p);
}
