/* proc/futex.c - fast user-space mutexes: the kernel half of musl's
 * pthread mutexes, condition variables, barriers and pthread_join.
 *
 * A futex is a 32-bit word in user memory. User space does the uncontended
 * work with atomic instructions; the kernel only queues threads that must
 * wait (FUTEX_WAIT: "sleep if the word still holds val") and wakes them
 * (FUTEX_WAKE). A waiter is a thread with futex_waiting set and a key naming
 * the word: (address space, address), with a bit telling a shared futex
 * from a private one; a shared futex in a MAP_SHARED mapping is keyed by
 * the object mapped and the offset in it instead (make_key), so processes
 * meet there. Linux keys a shared futex in private anonymous memory by
 * (mm, address) too; a key by physical frame would outlive an munmap (the
 * frame reused by another process: spurious wakeups across processes) and
 * join a forked child's waits to its parent's. Waiters sleep on futex_waiting itself;
 * FIFO order comes from futex_seq.
 *
 * PI futexes (FUTEX_LOCK_PI/UNLOCK_PI) hold the owner's thread id in the
 * word; a thread that blocks on one lends its priority to the owner, and on
 * down the chain if the owner is blocked too (priority inheritance). */
#include "proc.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../fs/file.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

static uint64_t futex_seq;

struct timespec_k {
    int64_t sec, nsec;
};

static int make_key(uint32_t *uaddr, bool private, uint64_t key[2])
{
    struct proc *p = current();
    if ((uintptr_t)uaddr & 3)
        return -EINVAL;
    uint32_t v;
    if (copy_from_user(&v, uaddr, 4))           /* also faults the page in */
        return -EFAULT;
    /* A shared futex in a MAP_SHARED mapping (a POSIX semaphore or a
     * process-shared mutex in shm, Python's multiprocessing locks) is keyed
     * by what is mapped: the file's inode, or the shared memory object, and
     * the offset in it, so every process that maps it meets the same
     * waiters wherever each maps it, as Linux keys it (tag 2). */
    if (!private)
        for (struct vma *v = p->mm->vmas; v && v->start <= (uintptr_t)uaddr; v = v->next)
            if ((uintptr_t)uaddr < v->end && (v->flags & VMA_SHARED) && v->file) {
                const void *obj = v->file->inode ? (const void *)v->file->inode : (const void *)v->file;
                key[0] = (uint64_t)(uintptr_t)obj | 2;
                key[1] = v->pgoff * PAGE_SIZE + ((uintptr_t)uaddr - v->start);
                return 0;
            }
    /* INVARIANT(kernel memory safety): a key names the address space and
     * the address, never a frame that munmap may hand to someone else. */
    key[0] = (uint64_t)p->mm | (private ? 0 : 1);
    key[1] = (uint64_t)uaddr;
    return 0;
}

static bool same_key(const uint64_t a[2], const uint64_t b[2]) { return a[0] == b[0] && a[1] == b[1]; }

/* Which of a futex_waitv waiter's words key is (-1: none). */
static int vkey_index(const struct proc *p, const uint64_t key[2])
{
    for (int i = 0; i < p->futex_nv; i++)
        if (same_key(p->futex_vkeys[i], key))
            return i;
    return -1;
}

/* The first (FIFO) waiter on key whose bitset matches; with sched_lock held. */
static struct proc *first_waiter(const uint64_t key[2], uint32_t bitset, bool by_prio)
{
    ASSERT_HELD(&sched_lock);
    struct proc *best = NULL;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (!p || !p->futex_waiting || !(p->futex_bitset & bitset))
            continue;
        if (!same_key(p->futex_key, key) && vkey_index(p, key) < 0)
            continue;
        if (!best || (by_prio && p->prio > best->prio) ||
            ((!by_prio || p->prio == best->prio) && p->futex_seq < best->futex_seq))
            best = p;
    }
    return best;
}

/* Queue p on key (sched_lock held); a waker dequeues it. */
static void enqueue(struct proc *p, const uint64_t key[2], uint32_t bitset)
{
    ASSERT_HELD(&sched_lock);
    p->futex_key[0] = key[0];
    p->futex_key[1] = key[1];
    p->futex_bitset = bitset;
    p->futex_seq = ++futex_seq;
    p->futex_waiting = true;
}

static void dequeue_and_wake(struct proc *p)
{
    ASSERT_HELD(&sched_lock);
    p->futex_waiting = false;
    p->pi_owner = NULL;
    make_runnable_locked(p);
}

static int wake_locked(const uint64_t key[2], int n, uint32_t bitset)
{
    ASSERT_HELD(&sched_lock);
    ASSERT_KLOCK();                 /* the futex rule: see futex_wait */
    int woken = 0;
    struct proc *w;
    while (woken < n && (w = first_waiter(key, bitset, false))) {
        if (w->futex_nv)
            w->futex_vwoken = vkey_index(w, key);   /* what futex_waitv returns */
        dequeue_and_wake(w);
        woken++;
    }
    return woken;
}

/* Timeouts become a deadline in ns on the clock they are measured on: the
 * monotonic clock (relative timeouts too), or real time with DL_REALTIME
 * set; 0: none, DL_NEVER: too far to matter. The wait looks at that clock
 * whenever it wakes, so it never ends before the clock reads the deadline
 * (ticks are not the clock: see sleep_ns in sys_proc.c). */
#define DL_REALTIME (1ull << 63)
#define DL_NEVER    (DL_REALTIME - 1)

static int deadline_of(const void *utimeout, bool absolute, bool realtime, uint64_t *deadline)
{
    *deadline = 0;
    if (!utimeout)
        return 0;
    struct timespec_k ts;
    if (copy_from_user(&ts, utimeout, sizeof(ts)))
        return -EFAULT;
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
        return -EINVAL;
    uint64_t ns = ts_to_ns_sat(ts.sec, ts.nsec);
    if (!absolute) {
        uint64_t now = time_monotonic_ns();
        ns = ns >= DL_NEVER - now ? DL_NEVER : now + ns;
        realtime = false;
    }
    ns = ns >= DL_NEVER ? DL_NEVER : ns ? ns : 1;       /* (0 is "none": the epoch is past anyway) */
    *deadline = ns | (realtime ? DL_REALTIME : 0);
    return 0;
}

/* Sleep until dequeued by a waker, the deadline passes, or (if
 * interruptible) a signal arrives; with sched_lock held. */
static long wait_queued(struct proc *p, uint64_t deadline, bool interruptible)
{
    ASSERT_HELD(&sched_lock);
    for (;;) {
        if (!p->futex_waiting)
            return 0;
        if (p->pi_owner_died)
            return -EOWNERDEAD;
        uint64_t ns = deadline & ~DL_REALTIME, wake = 0;
        if (deadline && ns != DL_NEVER) {
            uint64_t now = (deadline & DL_REALTIME) ? time_realtime_ns() : time_monotonic_ns();
            if (now >= ns)
                return -ETIMEDOUT;
            wake = tick_deadline_sat(ns_to_ticks_sat(ns - now));
        }
        if (interruptible ? proc_signal_pending() : proc_fatal_signal_pending())
            return -EINTR;
        p->wake_tick = wake;
        sleep_locked(&p->futex_waiting);
    }
}

static long futex_wait(uint32_t *uaddr, bool private, uint32_t val, uint64_t deadline, uint32_t bitset)
{
    struct proc *p = current();
    uint64_t key[2];
    long r = make_key(uaddr, private, key);
    if (r)
        return r;
    if (!bitset)
        return -EINVAL;
    uint32_t cur;
    if (copy_from_user(&cur, uaddr, 4))
        return -EFAULT;
    /* INVARIANT(mutual exclusion): the check of the word and the queueing
     * are one step: a FUTEX_WAKE needs the kernel lock (wake_locked asserts
     * it), which this thread holds until it is queued and asleep, so a
     * wake that follows the store that changed the word always finds it.
     * futex is a KLOCK call in syscalls.def; this is where that matters. */
    ASSERT_KLOCK();
    if (cur != val)
        return -EAGAIN;
#ifdef BREAK_FUTEX
    /* The break switch: let go between the check and the queueing, the
     * lost-wakeup race futexes exist to close. */
    kernel_unlock();
    for (volatile int i = 0; i < 20000; i++)
        ;
    kernel_lock();
#endif
    uint64_t f = spin_lock_irqsave(&sched_lock);
    enqueue(p, key, bitset);
    r = wait_queued(p, deadline, true);
    p->futex_waiting = false;
    p->wake_tick = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    if (r == -EINTR && deadline) {
        /* A timed wait goes on to the same deadline (restart_syscall) if no
         * handler runs, and says EINTR if one does, SA_RESTART or not. */
        p->restart = (struct restart_block){ .kind = RESTART_FUTEX, .end = deadline, .uptr = uaddr,
                                             .n = val, .arg = bitset | (private ? 1ull << 32 : 0) };
        r = -ERESTART_RESTARTBLOCK;
    }
    return r;
}

long futex_restart(const struct restart_block *b)
{
    return futex_wait(b->uptr, b->arg >> 32, (uint32_t)b->n, b->end, (uint32_t)b->arg);
}

long futex_wake_addr(uint32_t *uaddr, int n)
{
    uint64_t key[2];
    if (make_key(uaddr, true, key))
        return 0;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    /* pthread_join may wait on it as a shared or a private futex. */
    int woken = wake_locked(key, n, ~0u);
    uint64_t skey[2];
    if (woken < n && !make_key(uaddr, false, skey))
        woken += wake_locked(skey, n - woken, ~0u);
    spin_unlock_irqrestore(&sched_lock, f);
    return woken;
}

static long futex_requeue(uint32_t *uaddr, bool private, int nwake, int nmove, uint32_t *uaddr2,
                          bool cmp, uint32_t val3)
{
    uint64_t key[2], key2[2];
    long r = make_key(uaddr, private, key);
    if (r || (r = make_key(uaddr2, private, key2)))
        return r;
    if (nwake < 0 || nmove < 0)
        return -EINVAL;
    if (cmp) {
        uint32_t cur;
        if (copy_from_user(&cur, uaddr, 4))
            return -EFAULT;
        if (cur != val3)
            return -EAGAIN;
    }
    uint64_t f = spin_lock_irqsave(&sched_lock);
    long done = wake_locked(key, nwake, ~0u);
    struct proc *w;
    for (int moved = 0; moved < nmove && (w = first_waiter(key, ~0u, false)); moved++, done++) {
        w->futex_key[0] = key2[0];
        w->futex_key[1] = key2[1];
        w->futex_seq = ++futex_seq;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return done;
}

/* ---- priority inheritance ---- */

/* o's effective priority: its own, or the highest of the threads blocked on
 * PI futexes it owns; passed on if o is itself blocked. With sched_lock held. */
void pi_update(struct proc *o)
{
    ASSERT_HELD(&sched_lock);
    for (int depth = 0; o && depth < 16; depth++) {
        int prio = sched_base_prio(o);
#ifndef BREAK_PI
        /* INVARIANT(scheduling fairness): a thread holding a lock that a
         * higher-priority thread waits for runs at that priority, so
         * medium-priority work cannot hold up the high one indefinitely
         * (the Mars Pathfinder inversion). */
        for (int i = 0; i < sched_slots(); i++) {
            struct proc *w = sched_proc_at(i);
            if (w && w->futex_waiting && w->pi_owner == o && w->prio > prio)
                prio = w->prio;
        }
#endif
        if (prio == o->prio)
            return;
        sched_set_prio_locked(o, prio);
        o = o->futex_waiting ? o->pi_owner : NULL;
    }
}

/* INVARIANT(kernel memory safety): no PI waiter keeps a pointer to a
 * thread that has exited: the owner, on its way out, clears them and wakes
 * the waiters, which take the lock over (as Linux hands a dead owner's PI
 * futex to its top waiter). With sched_lock held. */
void futex_owner_exit_locked(struct proc *o)
{
    ASSERT_HELD(&sched_lock);
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *w = sched_proc_at(i);
        if (w && w->pi_owner == o) {
            w->pi_owner = NULL;
            w->pi_owner_died = true;
            wakeup_locked(&w->futex_waiting);
        }
    }
}

/* The thread named by a PI futex word's tid, if it is alive; with sched_lock held. */
static struct proc *live_owner_locked(int tid)
{
    ASSERT_HELD(&sched_lock);
    struct proc *o = proc_find_thread(tid);
    return o && o->state != P_ZOMBIE ? o : NULL;
}

static long lock_pi(uint32_t *uaddr, bool private, uint64_t deadline, bool try)
{
    struct proc *p = current();
    uint64_t key[2];
    long r = make_key(uaddr, private, key);
    if (r)
        return r;
    uint32_t tid = (uint32_t)p->pid;
    bool owner_died = false;                /* we waited, and the owner exited */
    for (;;) {
        uint32_t cur, seen;
        if (copy_from_user(&cur, uaddr, 4))
            return -EFAULT;
        if (!(cur & FUTEX_TID_MASK)) {
            /* Free (perhaps with waiters queued behind a handover): take it. */
            if (cmpxchg_user32(uaddr, cur, tid | (cur & FUTEX_WAITERS), &seen))
                return -EFAULT;
            if (seen == cur)
                return 0;
            continue;
        }
        if ((cur & FUTEX_TID_MASK) == tid)
            return -EDEADLK;
        if (try)
            return -EAGAIN;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        struct proc *owner = live_owner_locked((int)(cur & FUTEX_TID_MASK));
        spin_unlock_irqrestore(&sched_lock, f);
        if (!owner && owner_died) {
            /* The owner exited while we waited: the lock is ours. */
            if (cmpxchg_user32(uaddr, cur, tid | (cur & FUTEX_OWNER_DIED), &seen))
                return -EFAULT;
            if (seen == cur)
                return 0;
            continue;
        }
        if (!owner)
            return -ESRCH;
        /* Tell the owner's unlock to come to the kernel. */
        if (!(cur & FUTEX_WAITERS)) {
            if (cmpxchg_user32(uaddr, cur, cur | FUTEX_WAITERS, &seen))
                return -EFAULT;
            if (seen != cur)
                continue;
        }
        /* The same rule as futex_wait's: the word was checked under the
         * kernel lock, still held, so the owner's unlock cannot slip in. */
        ASSERT_KLOCK();
        f = spin_lock_irqsave(&sched_lock);
        /* The owner may have exited while the kernel lock was let go
         * (a fault in cmpxchg_user32): look again. */
        if (!(owner = live_owner_locked((int)(cur & FUTEX_TID_MASK)))) {
            spin_unlock_irqrestore(&sched_lock, f);
            continue;
        }
        enqueue(p, key, ~0u);
        p->pi_owner = owner;
        p->pi_owner_died = false;
        pi_update(owner);
        r = wait_queued(p, deadline, false);
        bool handed = !p->futex_waiting;
        owner = p->pi_owner;                /* valid while set; NULL if it exited */
        owner_died = p->pi_owner_died;
        p->futex_waiting = false;
        p->pi_owner = NULL;
        p->pi_owner_died = false;
        p->wake_tick = 0;
        if (!handed && owner)
            pi_update(owner);               /* gave up: take back the loan */
        spin_unlock_irqrestore(&sched_lock, f);
        if (handed)
            return 0;                       /* the unlocker wrote our tid */
        if (owner_died)
            continue;                       /* take it over (above) */
        if (r == -ETIMEDOUT || (r == -EINTR && proc_fatal_signal_pending()))
            return r;
    }
}

static long unlock_pi(uint32_t *uaddr, bool private)
{
    struct proc *p = current();
    uint64_t key[2];
    long r = make_key(uaddr, private, key);
    if (r)
        return r;
    uint32_t tid = (uint32_t)p->pid;
    for (;;) {
        uint32_t cur, seen;
        if (copy_from_user(&cur, uaddr, 4))
            return -EFAULT;
        if ((cur & FUTEX_TID_MASK) != tid)
            return -EPERM;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        struct proc *next = first_waiter(key, ~0u, true);
        uint32_t word = 0;
        if (next) {
            /* Hand the lock straight to the highest-priority waiter. */
            word = (uint32_t)next->pid;
            for (int i = 0; i < sched_slots(); i++) {
                struct proc *w = sched_proc_at(i);
                if (w && w != next && w->futex_waiting && same_key(w->futex_key, key))
                    word |= FUTEX_WAITERS;
            }
        }
        if (cmpxchg_user32(uaddr, cur, word, &seen)) {
            spin_unlock_irqrestore(&sched_lock, f);
            return -EFAULT;
        }
        if (seen != cur) {
            spin_unlock_irqrestore(&sched_lock, f);
            continue;
        }
        if (next) {
            for (int i = 0; i < sched_slots(); i++) {
                struct proc *w = sched_proc_at(i);
                if (w && w != next && w->futex_waiting && same_key(w->futex_key, key))
                    w->pi_owner = next;
            }
            dequeue_and_wake(next);
            pi_update(next);
        }
        pi_update(p);                       /* our loan, if any, ends */
        spin_unlock_irqrestore(&sched_lock, f);
        return 0;
    }
}

/* ---- futex_waitv(2): wait on up to 128 words at once ----
 * Each waiter is {val, uaddr, flags}; the thread sleeps if every word
 * still holds its val, and a FUTEX_WAKE of any of them wakes it: the call
 * returns that word's index. The timeout is absolute, on CLOCK_MONOTONIC
 * or CLOCK_REALTIME. */
struct futex_waitv_k {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
};

long sys_futex_waitv(const void *uwaiters, unsigned nr, unsigned flags, const void *utimeout, int clockid)
{
    struct proc *p = current();
    if (flags || !uwaiters || nr == 0 || nr > FUTEX_WAITV_MAX)
        return -EINVAL;
    uint64_t deadline = 0;
    long r;
    if (utimeout) {
        if (clockid != CLOCK_MONOTONIC && clockid != CLOCK_REALTIME)
            return -EINVAL;
        if ((r = deadline_of(utimeout, true, clockid == CLOCK_REALTIME, &deadline)))
            return r;
    }
    struct futex_waitv_k *w = kmalloc(nr * sizeof(*w));
    uint64_t (*keys)[2] = kmalloc(nr * sizeof(*keys));
    r = !w || !keys ? -ENOMEM : copy_from_user(w, uwaiters, nr * sizeof(*w)) ? -EFAULT : 0;
    for (unsigned i = 0; !r && i < nr; i++) {
        if ((w[i].flags & ~(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE)) ||
            (w[i].flags & FUTEX2_SIZE_MASK) != FUTEX2_SIZE_U32 || w[i].reserved || w[i].val >> 32)
            r = -EINVAL;
        else
            r = make_key((uint32_t *)(uintptr_t)w[i].uaddr, w[i].flags & FUTEX2_PRIVATE, keys[i]);
    }
    /* The words are checked and the thread queued under the kernel lock,
     * as futex_wait does: a waker that changed a word after the check
     * finds the thread queued. */
    ASSERT_KLOCK();
    for (unsigned i = 0; !r && i < nr; i++) {
        uint32_t cur;
        if (copy_from_user(&cur, (const void *)(uintptr_t)w[i].uaddr, 4))
            r = -EFAULT;
        else if (cur != (uint32_t)w[i].val)
            r = -EAGAIN;
    }
    kfree(w);
    if (r) {
        kfree(keys);
        return r;
    }
    uint64_t f = spin_lock_irqsave(&sched_lock);
    static const uint64_t none[2] = { 0, 0 };   /* no plain key: only the list */
    p->futex_vkeys = keys;
    p->futex_nv = (int)nr;
    p->futex_vwoken = -1;
    enqueue(p, none, ~0u);
    r = wait_queued(p, deadline, true);
    if (!r)
        r = p->futex_vwoken >= 0 ? p->futex_vwoken : 0;
    p->futex_waiting = false;
    p->wake_tick = 0;
    p->futex_vkeys = NULL;
    p->futex_nv = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    kfree(keys);
    return r;
}

long futex_op(uint32_t *uaddr, int op, uint32_t val, const void *utimeout,
              uint32_t *uaddr2, uint32_t val3)
{
    bool private = op & FUTEX_PRIVATE_FLAG;
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    uint64_t deadline;
    long r;
    if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI && cmd != FUTEX_WAIT)
        return -ENOSYS;
    switch (cmd) {
    case FUTEX_WAIT:
        if ((r = deadline_of(utimeout, false, false, &deadline)))
            return r;
        return futex_wait(uaddr, private, val, deadline, ~0u);
    case FUTEX_WAIT_BITSET:
        if ((r = deadline_of(utimeout, true, realtime, &deadline)))
            return r;
        return futex_wait(uaddr, private, val, deadline, val3);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint64_t key[2];
        uint32_t bitset = cmd == FUTEX_WAKE ? ~0u : val3;
        if (!bitset)
            return -EINVAL;
        if ((r = make_key(uaddr, private, key)))
            return r;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        r = wake_locked(key, (int)MIN(val, 0x7fffffffu), bitset);
        spin_unlock_irqrestore(&sched_lock, f);
        return r;
    }
    case FUTEX_REQUEUE:
        return futex_requeue(uaddr, private, (int)val, (int)(uintptr_t)utimeout, uaddr2, false, 0);
    case FUTEX_CMP_REQUEUE:
        return futex_requeue(uaddr, private, (int)val, (int)(uintptr_t)utimeout, uaddr2, true, val3);
    case FUTEX_LOCK_PI:
        if ((r = deadline_of(utimeout, true, true, &deadline)))
            return r;
        return lock_pi(uaddr, private, deadline, false);
    case FUTEX_TRYLOCK_PI:
        return lock_pi(uaddr, private, 0, true);
    case FUTEX_UNLOCK_PI:
        return unlock_pi(uaddr, private);
    default:
        return -ENOSYS;
    }
}
