/* fs/epoll.c - epoll(7): an interest list kept in the kernel.
 *
 * poll and select hand the kernel the whole list of files at every call and
 * register on each of them again; an epoll instance keeps its list, and
 * each item stays registered on its file's wait queue (fs/poll.h) for as
 * long as it is in the list. When the file's state changes, the item's
 * callback puts it on the instance's ready list and wakes the threads in
 * epoll_wait; epoll_wait then asks each ready item's file again (the
 * callback only says "look", the file says what is true now) and reports
 * those with an event the item wants.
 *
 * Level- and edge-triggered: a level-triggered item that reported something
 * goes back on the ready list, so the next epoll_wait asks its file again
 * and reports it as long as it holds; an edge-triggered one (EPOLLET) comes
 * back only when its file notifies again. EPOLLONESHOT disables an item
 * after one report, until EPOLL_CTL_MOD arms it again.
 *
 * Lifetimes, as Linux: an item holds no reference to its file; it lives
 * while the open file lives (closing one descriptor of a dup'ed file keeps
 * it) and goes when the file's last reference goes (epoll_file_gone, from
 * file_close). The instance's items go when the instance's file goes. An
 * epoll file may itself be watched (it is readable while it has a ready
 * item), so instances nest, up to EP_MAX_NESTS deep and never in a loop
 * (ELOOP).
 *
 * Locks: the interest list and each file's list of items are [klock]
 * (epoll_ctl and file_close run under it). The ready list, each item's
 * ready state and events are [sched_lock]: the callbacks run under it,
 * possibly in an interrupt handler. epoll_wait holds the kernel lock while
 * it looks at items, and never sleeps while one is off the ready list. */
#include "poll.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

#define EP_MAX_NESTS    4
/* Bits that are the item's own settings, not events to report. */
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_EVENTS   (0x7fffffff / 12)

enum rdstate {
    RD_IDLE,                            /* not on any list */
    RD_READY,                           /* on ep->rdlist */
    RD_TRANSIT,                         /* taken off by epoll_wait, being looked at */
    RD_TRANSIT_FIRED,                   /* ... and its file notified meanwhile */
};

struct epitem {
    struct eventpoll *ep;               /* [const] */
    struct file *file;                  /* [const] lives while the item does */
    int fd;                             /* [const] */
    uint32_t events;                    /* [sched_lock] wanted, and EP_PRIVATE_BITS */
    uint64_t data;                      /* [sched_lock] */
    struct wait_entry we[POLL_MAX_WAITQS];  /* [sched_lock] on the file's wait queues */
    int nwe;                            /* [klock] */
    enum rdstate rd;                    /* [sched_lock] */
    struct epitem *rdnext, **rdpprev;   /* [sched_lock] on rdlist or a wait's local list */
    struct epitem *next;                /* [klock] ep->items */
    struct epitem *fnext;               /* [klock] file->epitems */
};

struct eventpoll {
    struct epitem *items;               /* [klock] the interest list */
    int nitems;                         /* [klock] */
    struct epitem *rdfirst, **rdlast;   /* [sched_lock] the ready list, FIFO */
    int sleepers;                       /* [sched_lock] threads in epoll_wait */
    struct waitq wq;                    /* who watches this epoll (poll, an outer epoll) */
    struct file *file;                  /* [const] its own file */
};

static const struct file_ops epoll_ops;

bool file_is_epoll(const struct file *f) { return f->ops == &epoll_ops; }

/* ---- the ready list (sched_lock) ---- */

static void rd_append_locked(struct epitem **first, struct epitem ***last, struct epitem *it)
{
    it->rdnext = NULL;
    it->rdpprev = *last;
    **last = it;
    *last = &it->rdnext;
}

static void rd_unlink_locked(struct epitem **first, struct epitem ***last, struct epitem *it)
{
    (void)first;
    *it->rdpprev = it->rdnext;
    if (it->rdnext)
        it->rdnext->rdpprev = it->rdpprev;
    else
        *last = it->rdpprev;
    it->rdnext = NULL;
    it->rdpprev = NULL;
}

/* The item's file has news: put it on the ready list and wake the waiters.
 * sched_lock held; maybe in an interrupt. For an EPOLLEXCLUSIVE item, says
 * whether a thread asleep in epoll_wait on this instance will see it (for
 * an event it asked for), which is what ends an exclusive wake-up
 * (waitq_notify_locked); any other item answers true. */
static bool ep_item_fired_locked(struct epitem *it, uint32_t events)
{
    struct eventpoll *ep = it->ep;
    bool excl = it->events & EPOLLEXCLUSIVE;
    if (!(it->events & ~EP_PRIVATE_BITS))
        return !excl;                   /* disabled (a fired EPOLLONESHOT) */
    if (events && !(events & it->events))
        return !excl;                   /* nothing it waits for */
    bool reached = ep->sleepers > 0;
    uint32_t inout = events & (POLLIN | POLLOUT);
    if (inout == POLLIN || inout == POLLOUT)
        reached = reached && (it->events & inout);
    if (it->rd == RD_TRANSIT) {
        it->rd = RD_TRANSIT_FIRED;      /* epoll_wait will requeue it */
        return excl ? reached : true;
    }
    if (it->rd != RD_IDLE) {
        if (ep->sleepers)
            wakeup_locked(ep);          /* already queued: the sleepers look again */
        return excl ? reached : true;
    }
    it->rd = RD_READY;
    rd_append_locked(&ep->rdfirst, &ep->rdlast, it);
    if (ep->sleepers)
        wakeup_locked(ep);
    waitq_notify_locked(&ep->wq, POLLIN | POLLRDNORM);
    return excl ? reached : true;
}

static bool ep_callback(struct wait_entry *e, uint32_t events)
{
    return ep_item_fired_locked(e->owner, events);
}

static void ep_queue(struct poll_table *pt, struct waitq *wq);

struct ep_pt {
    struct poll_table pt;
    struct epitem *it;
};

static void ep_queue(struct poll_table *pt, struct waitq *wq)
{
    struct epitem *it = ((struct ep_pt *)pt)->it;
    if (it->nwe == POLL_MAX_WAITQS) {
        kprintf("vigil: epoll: a file registered on more than %d wait queues\n", POLL_MAX_WAITQS);
        return;
    }
    struct wait_entry *e = &it->we[it->nwe++];
    e->func = ep_callback;
    e->owner = it;
    e->exclusive = it->events & EPOLLEXCLUSIVE;
    waitq_add_locked(wq, e);
}

/* ---- items ---- */

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
    for (struct epitem *it = ep->items; it; it = it->next)
        if (it->file == f && it->fd == fd)
            return it;
    return NULL;
}

static void ep_remove(struct eventpoll *ep, struct epitem *it)
{
    ASSERT_KLOCK();
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < it->nwe; i++)
        waitq_del_locked(&it->we[i]);
    if (it->rd == RD_READY)
        rd_unlink_locked(&ep->rdfirst, &ep->rdlast, it);
    it->rd = RD_IDLE;
    spin_unlock_irqrestore(&sched_lock, fl);
    for (struct epitem **pp = &ep->items; *pp; pp = &(*pp)->next)
        if (*pp == it) {
            *pp = it->next;
            break;
        }
    for (struct epitem **pp = &it->file->epitems; *pp; pp = &(*pp)->fnext)
        if (*pp == it) {
            *pp = it->fnext;
            break;
        }
    ep->nitems--;
    kfree(it);
}

void epoll_file_gone(struct file *f)
{
    ASSERT_KLOCK();
    while (f->epitems)
        ep_remove(f->epitems->ep, f->epitems);
}

/* The file's events the item wants, now (the kernel lock keeps the file). */
static uint32_t ep_item_poll(struct epitem *it, struct poll_table *pt)
{
    uint32_t want;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    want = it->events;
    spin_unlock_irqrestore(&sched_lock, fl);
    return file_poll(it->file, pt) & want;
}

/* ---- the epoll file itself: pollable, so it can be nested ---- */

static int ep_depth;                    /* [klock] nesting of ep_poll's recursion */

static uint32_t ep_poll(struct file *f, struct poll_table *pt)
{
    struct eventpoll *ep = f->priv;
    poll_wait(pt, &ep->wq);
    if (ep_depth > EP_MAX_NESTS)
        return 0;
    uint32_t mask = 0;
    ep_depth++;
    for (struct epitem *it = ep->items; it && !mask; it = it->next) {
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        bool ready = it->rd != RD_IDLE;
        spin_unlock_irqrestore(&sched_lock, fl);
        if (ready && ep_item_poll(it, NULL))
            mask = POLLIN | POLLRDNORM;
    }
    ep_depth--;
    return mask;
}

static void ep_release(struct file *f)
{
    struct eventpoll *ep = f->priv;
    while (ep->items)
        ep_remove(ep, ep->items);
    kfree(ep);
}

static const struct file_ops epoll_ops = { .poll = ep_poll, .release = ep_release, .stat = file_anon_stat };

long sys_epoll_create1(int flags)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    struct eventpoll *ep = kzalloc(sizeof(*ep));
    struct file *f = ep ? file_alloc(&epoll_ops, ep) : NULL;
    if (!f) {
        kfree(ep);
        return -ENOMEM;
    }
    ep->rdlast = &ep->rdfirst;
    ep->file = f;
    f->flags = O_RDWR;
    int fd = fd_install(f, 0, flags & EPOLL_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

long sys_epoll_create(int size)
{
    return size <= 0 ? -EINVAL : sys_epoll_create1(0);
}

/* ---- loops and depth (epoll_ctl ADD of an epoll file) ---- */

/* Is `target` reachable from ep by following its epoll items? Also the
 * deepest chain of epolls below ep. */
static bool ep_reaches(struct eventpoll *ep, struct eventpoll *target, int depth, int *deepest)
{
    if (depth > *deepest)
        *deepest = depth;
    if (depth > EP_MAX_NESTS + 1)
        return false;
    for (struct epitem *it = ep->items; it; it = it->next) {
        if (!file_is_epoll(it->file))
            continue;
        struct eventpoll *sub = it->file->priv;
        if (sub == target || ep_reaches(sub, target, depth + 1, deepest))
            return true;
    }
    return false;
}

/* The longest chain of epolls above ep (watching it, directly or not). */
static int ep_height(struct file *f, int depth)
{
    int h = depth;
    if (depth > EP_MAX_NESTS + 1)
        return h;
    for (struct epitem *it = f->epitems; it; it = it->fnext) {
        int x = ep_height(it->ep->file, depth + 1);
        if (x > h)
            h = x;
    }
    return h;
}

/* ---- epoll_ctl ---- */

struct epoll_event_k {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));

static long ep_insert(struct eventpoll *ep, struct file *tf, int fd, struct epoll_event_k *ev)
{
    struct epitem *it = kzalloc(sizeof(*it));
    if (!it)
        return -ENOMEM;
    it->ep = ep;
    it->file = tf;
    it->fd = fd;
    it->events = ev->events | POLLERR | POLLHUP;
    it->data = ev->data;
    it->rd = RD_IDLE;
    it->next = ep->items;
    ep->items = it;
    it->fnext = tf->epitems;
    tf->epitems = it;
    ep->nitems++;
    /* Register first, then look (poll.h's rule); ready already: queue it. */
    struct ep_pt ept = { { ep_queue }, it };
    uint32_t now = ep_item_poll(it, &ept.pt);
    if (now) {
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        ep_item_fired_locked(it, now);
        spin_unlock_irqrestore(&sched_lock, fl);
    }
    return 0;
}

static void ep_modify(struct epitem *it, struct epoll_event_k *ev)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    it->events = ev->events | POLLERR | POLLHUP;
    it->data = ev->data;
    spin_unlock_irqrestore(&sched_lock, fl);
    uint32_t now = ep_item_poll(it, NULL);
    if (now) {
        fl = spin_lock_irqsave(&sched_lock);
        ep_item_fired_locked(it, now);
        spin_unlock_irqrestore(&sched_lock, fl);
    }
}

long sys_epoll_ctl(int epfd, int op, int fd, const void *uevent)
{
    struct epoll_event_k ev = { 0, 0 };
    /* Linux's order of checks (do_epoll_ctl): the event, both descriptors,
     * pollability, the kinds, then the operation. */
    if (op != EPOLL_CTL_DEL && copy_from_user(&ev, uevent, sizeof(ev)))
        return -EFAULT;
    struct file *f = fd_get(epfd);
    if (!f)
        return -EBADF;
    struct file *tf = fd_get(fd);
    if (!tf)
        return -EBADF;
    if (!file_can_poll(tf))
        return -EPERM;
    if (f == tf || !file_is_epoll(f))
        return -EINVAL;
    if (ev.events & EPOLLEXCLUSIVE) {
        if (op == EPOLL_CTL_MOD)
            return -EINVAL;
        if (op == EPOLL_CTL_ADD && (file_is_epoll(tf) ||
            (ev.events & ~(EPOLLEXCLUSIVE | POLLIN | POLLOUT | POLLERR | POLLHUP |
                           EPOLLWAKEUP | EPOLLET))))
            return -EINVAL;
    }
    struct eventpoll *ep = f->priv;
    struct epitem *it = ep_find(ep, tf, fd);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (it)
            return -EEXIST;
        if (file_is_epoll(tf)) {
            /* INVARIANT(kernel memory safety): no epoll watches itself
             * through others (the callbacks and ep_poll would recurse
             * without end), and no chain is deeper than EP_MAX_NESTS. */
            int below = 0;
            if (ep_reaches(tf->priv, ep, 1, &below) || below + ep_height(f, 0) > EP_MAX_NESTS)
                return -ELOOP;
        }
        return ep_insert(ep, tf, fd, &ev);
    case EPOLL_CTL_DEL:
        if (!it)
            return -ENOENT;
        ep_remove(ep, it);
        return 0;
    case EPOLL_CTL_MOD:
        if (!it)
            return -ENOENT;
        if (it->events & EPOLLEXCLUSIVE)
            return -EINVAL;
        ep_modify(it, &ev);
        return 0;
    default:
        return -EINVAL;
    }
}

/* ---- epoll_wait ---- */

/* Take the ready items, ask each file, and fill kernel buffer out (at most
 * max). Level-triggered items that reported, and items whose file notified
 * while we looked, go back on the ready list at the end (never twice in one
 * call). No sleep in here: every item stays valid under the kernel lock. */
static int ep_collect(struct eventpoll *ep, struct epoll_event_k *out, int max)
{
    struct epitem *tx = NULL, **txlast = &tx, *again = NULL, **againlast = &again;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (ep->rdfirst) {
        struct epitem *it = ep->rdfirst;
        rd_unlink_locked(&ep->rdfirst, &ep->rdlast, it);
        it->rd = RD_TRANSIT;
        rd_append_locked(&tx, &txlast, it);
    }
    spin_unlock_irqrestore(&sched_lock, fl);

    int n = 0;
    while (n < max) {
        fl = spin_lock_irqsave(&sched_lock);
        struct epitem *it = tx;
        if (it)
            rd_unlink_locked(&tx, &txlast, it);
        spin_unlock_irqrestore(&sched_lock, fl);
        if (!it)
            break;
        uint32_t revents = ep_item_poll(it, NULL);
        fl = spin_lock_irqsave(&sched_lock);
        bool requeue = it->rd == RD_TRANSIT_FIRED;
        if (revents) {
            out[n].events = revents;
            out[n].data = it->data;
            n++;
            if (it->events & EPOLLONESHOT)
                it->events &= EP_PRIVATE_BITS;      /* off until EPOLL_CTL_MOD */
            else if (!(it->events & EPOLLET))
                requeue = true;                     /* level: ask again next time */
        }
        if (requeue) {
            it->rd = RD_TRANSIT;
            rd_append_locked(&again, &againlast, it);
        } else {
            it->rd = RD_IDLE;
        }
        spin_unlock_irqrestore(&sched_lock, fl);
    }

    /* The ones not looked at (out was full) first, in order, then the
     * requeued ones, ahead of anything that became ready meanwhile. */
    fl = spin_lock_irqsave(&sched_lock);
    if (again) {
        *againlast = ep->rdfirst;
        if (ep->rdfirst)
            ep->rdfirst->rdpprev = againlast;
        else
            ep->rdlast = againlast;
        ep->rdfirst = again;
        again->rdpprev = &ep->rdfirst;
    }
    if (tx) {
        *txlast = ep->rdfirst;
        if (ep->rdfirst)
            ep->rdfirst->rdpprev = txlast;
        else
            ep->rdlast = txlast;
        ep->rdfirst = tx;
        tx->rdpprev = &ep->rdfirst;
    }
    for (struct epitem *it = ep->rdfirst; it; it = it->rdnext)
        if (it->rd == RD_TRANSIT || it->rd == RD_TRANSIT_FIRED)
            it->rd = RD_READY;
    spin_unlock_irqrestore(&sched_lock, fl);
    return n;
}

static long do_epoll_wait(int epfd, void *uevents, int maxevents, uint64_t end_ns)
{
    if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
        return -EINVAL;
    if (!user_range_ok((uintptr_t)uevents, (size_t)maxevents * sizeof(struct epoll_event_k)))
        return -EFAULT;
    struct file *f = fd_get(epfd);
    if (!f)
        return -EBADF;
    if (!file_is_epoll(f))
        return -EINVAL;
    struct eventpoll *ep = f->priv;
    /* Events are gathered in a kernel buffer and copied out at the end (no
     * fault, hence no sleep, while items are off the ready list): on the
     * stack for a few, else from the heap, never more than the items. */
    struct epoll_event_k small[8], *buf = small;
    int cap = (int)ARRAY_SIZE(small), max;
    long r;
    for (;;) {
        max = maxevents < ep->nitems ? maxevents : ep->nitems;
        if (max > cap) {
            if (buf != small)
                kfree(buf);
            buf = kmalloc((size_t)max * sizeof(*buf));
            if (!buf)
                return -ENOMEM;
            cap = max;
        }
        r = max ? ep_collect(ep, buf, max) : 0;
        if (r || end_ns == 0)
            break;
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        long w = 0;
        ep->sleepers++;
        while (!ep->rdfirst && !(w = poll_sleep_locked(ep, end_ns)))
            ;
        ep->sleepers--;
        spin_unlock_irqrestore(&sched_lock, fl);
        if (w == -EINTR) {
            r = -EINTR;
            break;
        }
        if (w == -ETIMEDOUT) {
            r = max ? ep_collect(ep, buf, max) : 0;
            break;
        }
    }
    if (r > 0 && copy_to_user(uevents, buf, (size_t)r * sizeof(*buf)))
        r = -EFAULT;
    if (buf != small)
        kfree(buf);
    return r;
}

long sys_epoll_wait(int epfd, void *uevents, int maxevents, int timeout_ms)
{
    uint64_t end = timeout_ms < 0 ? UINT64_MAX : poll_deadline((uint64_t)timeout_ms * 1000000ul);
    return do_epoll_wait(epfd, uevents, maxevents, end);
}

long sys_epoll_pwait(int epfd, void *uevents, int maxevents, int timeout_ms,
                     const void *umask, size_t size)
{
    bool set;
    uint64_t saved;
    long r = poll_set_sigmask(umask, size, &set, &saved);
    if (r)
        return r;
    r = sys_epoll_wait(epfd, uevents, maxevents, timeout_ms);
    poll_restore_sigmask(set, saved, r);
    return r;
}

long sys_epoll_pwait2(int epfd, void *uevents, int maxevents, const void *uts,
                      const void *umask, size_t size)
{
    uint64_t end = UINT64_MAX;
    if (uts) {
        int64_t ts[2];
        if (copy_from_user(ts, uts, sizeof(ts)))
            return -EFAULT;
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
            return -EINVAL;
        end = poll_deadline(ts_to_ns_sat(ts[0], ts[1]));
    }
    bool set;
    uint64_t saved;
    long r = poll_set_sigmask(umask, size, &set, &saved);
    if (r)
        return r;
    r = do_epoll_wait(epfd, uevents, maxevents, end);
    poll_restore_sigmask(set, saved, r);
    return r;
}
