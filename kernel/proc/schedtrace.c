/* proc/schedtrace.c - the scheduler's flight recorder: which thread ran on
 * which CPU and when, who woke whom, who blocked on what, whose priority a
 * lock lent or took back.
 *
 * Why: the scheduling promises (docs/invariants.md, scheduling fairness)
 * are about orders of events -- high waits on low's lock, low runs at
 * high's priority, no hog runs in between -- and a test program can only
 * infer them from what its threads happened to see. This buffer is the
 * kernel's own account, read out at the end of a run (/proc/vigil/
 * schedtrace, procfs.c) and turned into a timeline by harness/trace.py and
 * `./vigil trace --plot`.
 *
 * Shape: one fixed ring of 32-byte records for the whole machine, not one
 * per CPU. Every event it records happens with sched_lock held already
 * (schedule, sleep_locked, make_runnable_locked, sched_set_prio_locked,
 * sched_add), so the ring needs no lock of its own and its order *is* the
 * order the scheduler made its decisions in, across CPUs: no merging of
 * per-CPU streams by timestamps that might disagree. A record costs a TSC
 * read and a few stores (some 80 instructions with a block's or a wakeup's
 * callers); it is always on (the bench's figures with and without it are in
 * docs/architecture.md). When the ring is full the oldest records go; the
 * header says how many were written since the last clear, so a reader
 * knows whether it holds the whole story.
 *
 * What a block or a wakeup was: the kernel knows a timed sleep, a futex
 * wait and a PI-lock wait (with the owner) by the channel; for the rest it
 * records where it happened -- the return addresses of the two callers
 * above the hook, as 32-bit offsets in the kernel's top 2 GiB -- and the
 * harness names them with kernel.elf's symbols (a kernel mutex, the disk,
 * a pipe...).
 *
 * Clearing (a write of "clear") also writes a snapshot: every live thread
 * with its state, CPU, priorities and name (a CPU no thread is running on
 * is idle), so a timeline that starts at the clear starts complete. */
#include "proc.h"
#include "../lib/string.h"
#include "../arch/x86_64/cpu.h"
#include "../debug/debug.h"

#define ST_RECORDS 8192                 /* 256 KiB */
/* The layout harness/trace.py reads. */
_Static_assert(sizeof(struct st_rec) == 32, "a record is 32 bytes");
_Static_assert(sizeof(struct st_header) == 56, "the header is 56 bytes");

/* [sched_lock] the ring, how many records were written since the last
 * clear (the newest is at (written - 1) % ST_RECORDS), and the switch. */
static struct st_rec ring[ST_RECORDS];
static uint64_t written;
static bool enabled = true;

static inline __attribute__((always_inline)) struct st_rec *next_rec(int type, int tid)
{
    struct st_rec *r = &ring[written++ % ST_RECORDS];
    r->tsc = rdtsc();
    r->type = (uint8_t)type;
    r->cpu = (uint8_t)this_cpu()->id;
    r->arg0 = 0;
    r->tid = tid;
    r->a = r->b = r->c = r->d = 0;
    return r;
}

/* The hooks below run with sched_lock held: the functions they sit in
 * (schedule, make_runnable_locked, sleep_locked, sched_set_prio_locked,
 * sched_add) assert it on their first line, so the hooks, on the hottest
 * paths, do not assert it again. */

static int tid_of(struct proc *p) { return !p || proc_is_idle(p) ? 0 : p->pid; }

/* From a hook's frame fp (the hook is called from sleep_locked or
 * make_runnable_locked, whose callers say what the block or the wakeup
 * was): the return addresses into the hooked function's caller and that
 * one's caller, as offsets in the kernel's top 2 GiB (0: unknown). The
 * frame pointers are followed only while they stay on thread p's kernel
 * stack. Inlined into the hook, so the hook's frame stays put meanwhile. */
static inline __attribute__((always_inline))
void callers(struct proc *p, uintptr_t fp, int32_t *site1, int32_t *site2)
{
    bool stack = p && !proc_is_idle(p);  /* boot code (no thread yet) and idle: none */
    uintptr_t lo = stack ? p->kstack.bottom : 0, hi = stack ? p->kstack.top : 0;
    int32_t out[3] = { 0, 0, 0 };
    for (int i = 0; i < 3 && fp >= lo && fp + 16 <= hi && !(fp & 7); i++) {
        out[i] = (int32_t)(uint32_t)((uint64_t *)fp)[1];
        uintptr_t up = ((uint64_t *)fp)[0];
        if (up <= fp)
            break;                      /* a frame chain only goes up the stack */
        fp = up;
    }
    *site1 = out[1];                    /* out[0]: inside the hooked function */
    *site2 = out[2];
}

static void name_rec(struct proc *p)
{
    struct st_rec *r = next_rec(ST_NAME, tid_of(p));
    memcpy(&r->a, p->name, 16);
    ((char *)&r->a)[15] = 0;
}

void schedtrace_switch(struct proc *prev, struct proc *next, int cpu)
{
    if (!enabled)
        return;
    struct st_rec *r = next_rec(ST_SWITCH, tid_of(prev));
    r->arg0 = (uint16_t)prev->state;
    r->a = tid_of(next);
    r->b = prev->prio;
    r->c = next->prio;
    r->cpu = (uint8_t)cpu;
}

void schedtrace_wakeup(struct proc *p)
{
    if (!enabled)
        return;
    struct proc *waker = current();
    struct st_rec *r = next_rec(ST_WAKEUP, tid_of(p));
    r->a = tid_of(waker);
    r->b = p->prio;
    callers(waker, (uintptr_t)__builtin_frame_address(0), &r->c, &r->d);
}

void schedtrace_block(struct proc *p, void *chan)
{
    if (!enabled)
        return;
    struct st_rec *r = next_rec(ST_BLOCK, tid_of(p));
    if (chan == &p->futex_waiting && p->pi_owner) {
        r->arg0 = ST_WHY_PI_LOCK;
        r->a = p->pi_owner->pid;
    } else if (chan == &p->futex_waiting) {
        r->arg0 = ST_WHY_FUTEX;
    } else if (chan == &p->wake_tick) {
        r->arg0 = ST_WHY_SLEEP;
    } else {
        r->arg0 = ST_WHY_OTHER;
    }
    r->b = p->prio;
    callers(p, (uintptr_t)__builtin_frame_address(0), &r->c, &r->d);
}

void schedtrace_prio(struct proc *p, int prio)
{
    if (!enabled)
        return;
    struct st_rec *r = next_rec(ST_PRIO, tid_of(p));
    r->a = p->prio;
    r->b = prio;
    r->c = sched_base_prio(p);
}

static void new_rec(struct proc *p, int type, int by)
{
    struct st_rec *r = next_rec(type, tid_of(p));
    if (type == ST_THREAD)
        r->cpu = (uint8_t)p->cpu;       /* where it runs (state P_RUNNING) or last ran */
    r->arg0 = (uint16_t)p->state;
    r->a = p->tgid;
    r->b = by;
    r->c = p->prio;
    r->d = sched_base_prio(p);
    name_rec(p);
}

void schedtrace_new(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    if (enabled)
        new_rec(p, ST_NEW, tid_of(current()));
}

void schedtrace_name(struct proc *p)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (enabled)
        name_rec(p);
    spin_unlock_irqrestore(&sched_lock, f);
}

long schedtrace_control(const char *cmd, size_t len)
{
    size_t n = len;                     /* without a trailing newline: echo's */
    while (n && (cmd[n - 1] == '\n' || cmd[n - 1] == ' '))
        n--;
    bool on = n == 1 && cmd[0] == '1', off = n == 1 && cmd[0] == '0';
    bool clear = n == 5 && !memcmp(cmd, "clear", 5);
    if (!on && !off && !clear)
        return -EINVAL;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    if (clear) {
        written = 0;
        if (enabled) {
            for (int i = 0; i < sched_slots(); i++) {
                struct proc *p = sched_proc_at(i);
                if (p && p->state != P_UNUSED && p->state != P_DEAD)
                    new_rec(p, ST_THREAD, 0);
            }
        }
    } else {
        enabled = on;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return (long)len;
}

size_t schedtrace_snapshot(void *dst, size_t cap)
{
    struct st_header *h = dst;
    if (cap < sizeof(*h))
        return 0;
    struct st_rec *out = (struct st_rec *)(h + 1);
    size_t room = (cap - sizeof(*h)) / sizeof(*out);
    uint64_t f = spin_lock_irqsave(&sched_lock);
    uint64_t have = MIN(written, (uint64_t)ST_RECORDS);
    uint64_t n = MIN(have, (uint64_t)room);
    /* The newest n, oldest first. */
    for (uint64_t i = 0; i < n; i++)
        out[i] = ring[(written - n + i) % ST_RECORDS];
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, "VIGILST1", 8);
    h->rec_size = sizeof(struct st_rec);
    h->ncpu = (uint32_t)cpu_count();
    h->tsc_hz = tsc_hz();
    h->written = written;
    h->capacity = ST_RECORDS;
    h->enabled = enabled;
    h->tsc_now = rdtsc();
    h->count = n;
    spin_unlock_irqrestore(&sched_lock, f);
    return sizeof(*h) + n * sizeof(*out);
}

size_t schedtrace_max_bytes(void) { return sizeof(struct st_header) + sizeof(ring); }
