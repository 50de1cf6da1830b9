/* fs/poll.h - waiting on many things: wait queues and poll tables.
 *
 * A thread in read() on a pipe waits for one thing and sleeps on one
 * channel (sleep_locked). poll, select and epoll wait for any of many, so
 * each pollable object keeps a wait queue (struct waitq) on which a waiter
 * hangs one entry per object it watches; when the object's state changes,
 * the object calls waitq_notify and every entry's callback runs. The
 * callback of a poll/select entry wakes its thread; an epoll item's puts the
 * item on its epoll's ready list (and wakes whoever waits on that epoll).
 *
 * The rule that makes it safe on several CPUs (docs/architecture.md,
 * "Locking rules": check, then sleep, under one lock) is:
 *
 *   1. the waiter registers its entry (poll_wait) BEFORE it reads the
 *      object's state, or in the same sched_lock section;
 *   2. the object changes its state and THEN notifies, the notify under
 *      sched_lock;
 *   3. the waiter sleeps only if no entry fired since it registered, tested
 *      under sched_lock.
 *
 * Then a change is either seen by the state check (it came before the
 * registration) or fires the entry (it came after), and a fired entry is
 * seen by the test before the sleep: no wake-up falls in between.
 * INVARIANT(mutual exclusion) names it, as the kernel lock and sleeping
 * mutexes: a waiter never sleeps past the event it waits for.
 *
 * All the lists here are [sched_lock]. Callbacks run with it held, possibly
 * in an interrupt handler (the console's), so they only move list entries
 * and wake threads: no sleeping, no allocation, no kernel lock.
 *
 * How a file takes part: see struct file_ops.poll in file.h. */
#pragma once
#include "../lib/types.h"
#include "../lib/abi.h"

struct file;
struct proc;
struct waitq;
struct wait_entry;

/* The poll bits (POLLIN...: Linux's, in lib/abi.h) are what file_ops.poll
 * answers with; poll, select and epoll mask them. A file without a poll
 * operation is always ready, as on Linux. */
#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/* A wake-up callback. Its answer matters only for an exclusive entry: true
 * when the wake-up reached a thread that will act on it (an epoll_wait
 * asleep on the instance), which ends the exclusive part of the wake-up. */
typedef bool (*wait_func_t)(struct wait_entry *e, uint32_t events);

struct wait_entry {
    struct wait_entry *next, **pprev;   /* [sched_lock] on wq's list */
    struct waitq *wq;                   /* [sched_lock] NULL: not queued */
    wait_func_t func;                   /* [const] runs under sched_lock */
    void *owner;                        /* [const] the callback's */
    bool exclusive;                     /* [const] EPOLLEXCLUSIVE: see waitq_notify_locked */
};

/* Zero-initialised is empty and ready to use (static, kzalloc). An object
 * must have no entries left when it is freed: poll holds a reference to each
 * file it watches, and epoll removes its items when the watched file goes
 * (epoll_file_gone), so an object dies only after its last file. */
struct waitq {
    struct wait_entry *first;           /* [sched_lock] */
    int sleepers;                       /* [sched_lock] threads in waitq_sleep_locked */
};

/* Tell every waiter of wq that the object changed; events are the bits that
 * may have become true (POLLIN when data came, POLLOUT when room appeared,
 * POLLHUP|POLLIN when the other end went), or 0 for "look again". Call it
 * after the change. It also wakes threads asleep in waitq_sleep_locked. */
void waitq_notify_locked(struct waitq *wq, uint32_t events);   /* sched_lock held */
void waitq_notify(struct waitq *wq, uint32_t events);          /* takes it */

/* A plain blocking read/write of a pollable object may sleep on its waitq
 * (woken by the same notify): with sched_lock held, like sleep_locked. */
void waitq_sleep_locked(struct waitq *wq);

/* Hang e (func/owner set) on wq, or take it off (a no-op if not queued). */
void waitq_add_locked(struct waitq *wq, struct wait_entry *e);
void waitq_del_locked(struct wait_entry *e);

/* ---- poll tables: how a file's poll operation registers its caller ----
 * A file's poll op calls poll_wait(pt, wq) for each wait queue whose
 * notify may change its answer (at most POLL_MAX_WAITQS), then reads its
 * state. pt NULL means "only asking" (epoll re-checking a ready item, a
 * second pass of poll); then poll_wait does nothing. */
#define POLL_MAX_WAITQS 2

struct poll_table {
    /* Called under sched_lock with each wq the file names. */
    void (*qproc)(struct poll_table *pt, struct waitq *wq);
};

void poll_wait(struct poll_table *pt, struct waitq *wq);          /* takes sched_lock */
void poll_wait_locked(struct poll_table *pt, struct waitq *wq);   /* sched_lock held */

/* The file's readiness: its poll op, or DEFAULT_POLLMASK without one. With
 * the kernel lock held; never sleeps. */
uint32_t file_poll(struct file *f, struct poll_table *pt);
static inline bool file_can_poll(const struct file *f);

/* ---- shared with epoll.c ---- */
/* One sleep on chan (sched_lock held): -EINTR if a signal is pending,
 * -ETIMEDOUT once the monotonic clock reaches end_ns (UINT64_MAX: never),
 * else 0 after a wake-up; the caller tests its condition again. */
long     poll_sleep_locked(void *chan, uint64_t end_ns);
/* A relative timeout in ns to a deadline: 0 stays 0, UINT64_MAX forever. */
uint64_t poll_deadline(uint64_t timeout_ns);
/* restart_syscall's poll: the rest of one with a timeout a signal cut
 * short (ufds, nfds, end_ns as it was given). */
struct pollfd_k;
long     poll_restart(struct pollfd_k *ufds, uint64_t nfds, uint64_t end_ns);
/* ppoll, pselect6 and epoll_pwait's temporary signal mask: set it (0,
 * -EINVAL for a size other than 8, -EFAULT), and put it back when the call
 * ends (after the handler if the call ended with -EINTR). */
long     poll_set_sigmask(const void *umask, size_t size, bool *set, uint64_t *saved);
void     poll_restore_sigmask(bool set, uint64_t saved, long ret);

/* ---- epoll.c's hooks ---- */
/* The last reference to f is going: remove it from every epoll interest
 * list (Linux: an item lives while its open file lives). Kernel lock held. */
void epoll_file_gone(struct file *f);
bool file_is_epoll(const struct file *f);

/* ---- the objects of eventfd.c, timerfd.c, signalfd.c ---- */
/* Every signal made pending: signalfds look again. sched_lock held. */
void signalfd_notify_locked(void);
/* The boot CPU's timer tick: expire timerfds. sched_lock held. */
void timerfd_tick_locked(void);

#include "file.h"
static inline bool file_can_poll(const struct file *f) { return f->ops->poll != NULL; }
