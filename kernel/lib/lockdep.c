/* lib/lockdep.c - the lock-order checker (see lockdep.h).
 *
 * INVARIANT(mutual exclusion): no deadlock: every pair of lock classes is
 * always taken in one order. The graph of "held A while taking B" edges must
 * stay acyclic; the first edge that closes a cycle is reported with the
 * places each lock was taken on both paths. */
#include "lockdep.h"
#include "spinlock.h"
#include "string.h"
#include "kprintf.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"

#define NCLASS 64

struct edge_site {
    uintptr_t held_at, taken_at;
};

static const char *class_name[NCLASS];
static int nclasses = 1;                         /* class 0 = not yet assigned */
static uint64_t edges[NCLASS];                   /* bit b of edges[a]: a held while b taken */
static struct edge_site sites[NCLASS][NCLASS];
static uint64_t reported[NCLASS];
static volatile uint32_t graph_lock;             /* raw: lockdep must not check itself */
static struct lockdep_stack cpu_stack[MAX_CPUS];
static int nreports;
static bool ready;
static volatile uint8_t busy[MAX_CPUS];          /* reporting: don't recurse via kprintf */

static void graph_lock_take(void)
{
    while (__atomic_exchange_n(&graph_lock, 1, __ATOMIC_ACQUIRE))
        cpu_relax();
}
static void graph_lock_drop(void) { __atomic_store_n(&graph_lock, 0, __ATOMIC_RELEASE); }

static int intern(const char *name)
{
    for (int i = 1; i < nclasses; i++)
        if (class_name[i] == name || !strcmp(class_name[i], name))
            return i;
    if (nclasses == NCLASS)
        return 0;                                /* out of classes: unchecked */
    class_name[nclasses] = name;
    return nclasses++;
}

static void where(char *buf, size_t n, uintptr_t addr)
{
    uintptr_t off;
    const char *fn = ksym_lookup(addr, &off);
    if (fn)
        snprintf(buf, n, "%s+0x%lx", fn, off);
    else
        snprintf(buf, n, "0x%lx", addr);
}

/* Is there a path from a to b in the order graph? (depth-first) */
static bool reaches(int a, int b, uint64_t *seen)
{
    if (a == b)
        return true;
    *seen |= 1ul << a;
    for (int c = 1; c < nclasses; c++)
        if ((edges[a] >> c & 1) && !(*seen >> c & 1) && reaches(c, b, seen))
            return true;
    return false;
}

/* The first step of a path from b back to a, or 0 if there is none. */
static int path_back(int b, int a)
{
    uint64_t seen = 1ul << b;
    for (int c = 1; c < nclasses; c++)
        if ((edges[b] >> c & 1) && reaches(c, a, &seen))
            return c;
    return 0;
}

static void report(int held, uintptr_t held_at, int taking, uintptr_t taking_at, int via)
{
    char h[96], t[96], oh[96], ot[96];
    where(h, sizeof(h), held_at);
    where(t, sizeof(t), taking_at);
    struct edge_site *old = &sites[taking][via];
    where(oh, sizeof(oh), old->held_at);
    where(ot, sizeof(ot), old->taken_at);
    nreports++;
    kprintf("lockdep: possible deadlock: lock order inversion between \"%s\" and \"%s\"\n",
            class_name[held], class_name[taking]);
    kprintf("lockdep:   this path takes \"%s\" at %s while holding \"%s\" (taken at %s)\n",
            class_name[taking], t, class_name[held], h);
    kprintf("lockdep:   an earlier path took \"%s\" at %s while holding \"%s\" (taken at %s)%s\n",
            class_name[via], ot, class_name[taking], oh,
            via == held ? "" : " (and so on, to the first lock)");
}

static void add_edge(int a, uintptr_t a_at, int b, uintptr_t b_at)
{
    graph_lock_take();
    if (!(edges[a] >> b & 1)) {
        /* Would a -> b close a cycle b -> ... -> a? */
        int via = path_back(b, a);
#ifdef BREAK_LOCKDEP
        via = 0;                        /* the break switch: a cycle closes silently */
#endif
        edges[a] |= 1ul << b;
        sites[a][b] = (struct edge_site){ a_at, b_at };
        if (via && !(reported[a] >> b & 1)) {
            reported[a] |= 1ul << b;
            reported[b] |= 1ul << a;
            graph_lock_drop();
            report(a, a_at, b, b_at, via);
            return;
        }
    }
    graph_lock_drop();
}

static void check_against(struct lockdep_stack *s, int cls, uintptr_t site)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        if (s->e[i].cls && s->e[i].cls != cls && !(edges[s->e[i].cls] >> cls & 1))
            add_edge(s->e[i].cls, s->e[i].site, cls, site);
}

static void push(struct lockdep_stack *s, int cls, uintptr_t site)
{
    if (s && s->n < LOCKDEP_DEPTH)
        s->e[s->n++] = (struct lockdep_held){ cls, site };
    else if (s)
        s->n++;                                  /* too deep: count, don't record */
}

void lockdep_acquire(int *cls, const char *name, uintptr_t site, bool thread_lock)
{
    if (!ready)
        return;
    int me = this_cpu()->id;
    if (busy[me])
        return;
    busy[me] = 1;
    if (!*cls) {
        graph_lock_take();
        if (!*cls)
            *cls = intern(name);
        graph_lock_drop();
    }
    struct lockdep_stack *ts = lockdep_thread_stack();
    if (*cls) {
        check_against(&cpu_stack[me], *cls, site);
        check_against(ts, *cls, site);
    }
    push(thread_lock ? ts : &cpu_stack[me], *cls, site);
    busy[me] = 0;
}

void lockdep_release(int cls, bool thread_lock)
{
    if (!ready)
        return;
    int me = this_cpu()->id;
    struct lockdep_stack *s = thread_lock ? lockdep_thread_stack() : &cpu_stack[me];
    if (!s || s->n == 0)
        return;
    if (s->n > LOCKDEP_DEPTH) {
        s->n--;
        return;
    }
    /* Usually the last one taken; not always (hand-over-hand). */
    for (int i = s->n - 1; i >= 0; i--)
        if (s->e[i].cls == cls) {
            for (int j = i; j < s->n - 1; j++)
                s->e[j] = s->e[j + 1];
            s->n--;
            return;
        }
}

int lockdep_reports(void) { return nreports; }
int lockdep_cpu_depth(void) { return ready ? cpu_stack[this_cpu()->id].n : 0; }

void lockdep_init(void)
{
    percpu_ready = true;
    ready = true;
}
