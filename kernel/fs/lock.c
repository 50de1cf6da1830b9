/* fs/lock.c - advisory file locks: flock(2) and fcntl(2)'s POSIX record locks.
 *
 * Why two kinds. Programs use both and Linux keeps them apart: a flock lock
 * belongs to an open file (the struct file that open made, shared by dup
 * and fork), covers the whole file and goes when the last descriptor of
 * that open file closes; a POSIX lock belongs to a process, covers a byte
 * range, and goes when the process closes *any* descriptor of the file, or
 * exits. The two never conflict with each other (Linux's rule for local
 * file systems). Both are advisory: read and write ignore them.
 *
 * What a lock names. The file is its inode (super block and number), so
 * two opens of one file contend; a file without an inode (a pipe) is keyed
 * by the open file itself.
 *
 * Open file description locks (F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK,
 * fcntl(2)): byte ranges as POSIX locks, but owned by the open file (the
 * struct file open made, shared by dup and fork) instead of the process:
 * two opens of one file by threads of one process contend, and the lock
 * goes with the open file's last close, not with any close. OFD and POSIX
 * locks conflict with each other even within one process, as on Linux;
 * F_GETLK reports an OFD lock's owner as pid -1.
 *
 * Waiting. flock without LOCK_NB and F_SETLKW sleep on one channel until
 * nothing conflicts; every release wakes them all and each looks again
 * (locks are few, contention rare). A signal ends the wait with EINTR.
 * Deadlock detection (F_SETLKW's EDEADLK, POSIX locks only, as Linux): a
 * process that waits records what it waits for (struct lwait, on its
 * stack, unlinked however the wait ends); before sleeping, a process
 * follows "the holder of a lock in my way waits for a lock held by..." and
 * refuses to sleep if the chain comes back to itself. flock and OFD waits
 * are not checked (Linux does not either): they wait until a signal comes.
 *
 * Locking: everything here runs under the kernel lock ([klock]): the lists
 * are read and changed only by syscalls and by the last close of a file. */
#include "vfs.h"
#include "file.h"
#include "pseudofs.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../mm/mm.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"
#include "../debug/debug.h"

struct lock_key {
    const void *sb;                 /* the super block, or NULL for a file without inode */
    uint64_t ino;                   /* the inode number, or the struct file's address */
};

/* A flock lock: one per open file that holds one. */
struct flock_k {
    struct flock_k *next;
    struct lock_key key;
    struct file *owner;
    int type;                       /* LOCK_SH or LOCK_EX */
};

/* A POSIX lock: bytes start..end (inclusive; end UINT64_MAX: to the end of
 * any file), held by process tgid; or an OFD lock, held by open file ofd
 * (tgid then names the process that took it, for nothing but show). */
struct plock {
    struct plock *next;
    struct lock_key key;
    int tgid;
    int type;                       /* F_RDLCK or F_WRLCK */
    uint64_t start, end;
    struct file *ofd;               /* the owning open file of an OFD lock, else NULL */
};

/* A lock's owner: a process (ofd NULL), or an open file. */
struct lowner {
    int tgid;
    struct file *ofd;
};

/* What a process sleeping in F_SETLKW waits for (deadlock detection). */
struct lwait {
    struct lwait *next;
    struct lock_key key;
    int tgid, type;
    uint64_t start, end;
};

static struct flock_k *flocks;      /* [klock] */
static struct plock *plocks;        /* [klock] */
static struct lwait *lwaits;        /* [klock] */
static int lock_waiters;            /* the channel the waiters sleep on */

static struct lock_key key_of(struct file *f)
{
    if (f->inode)
        return (struct lock_key){ f->inode->sb, f->inode->ino };
    return (struct lock_key){ NULL, (uint64_t)(uintptr_t)f };
}

static bool same_key(struct lock_key a, struct lock_key b) { return a.sb == b.sb && a.ino == b.ino; }

static void wake_waiters(void) { wakeup(&lock_waiters); }

/* Sleep until woken (a lock went) or a signal comes: -EINTR then. The
 * caller checked for a conflict under the kernel lock, which it holds
 * until sleep_locked has made it a sleeper, so no release falls between. */
static long lock_wait(void)
{
    if (proc_signal_pending())
        return -EINTR;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    sleep_locked(&lock_waiters);
    spin_unlock_irqrestore(&sched_lock, fl);
    return 0;
}

/* ---- flock(2) ---- */

static void flock_remove(struct file *f)
{
    for (struct flock_k **pp = &flocks; *pp;) {
        struct flock_k *l = *pp;
        if (l->owner == f) {
            *pp = l->next;
            kfree(l);
            wake_waiters();
        } else {
            pp = &l->next;
        }
    }
}

static bool flock_conflict(struct file *f, struct lock_key k, int type)
{
    for (struct flock_k *l = flocks; l; l = l->next)
        if (l->owner != f && same_key(l->key, k) && (type == LOCK_EX || l->type == LOCK_EX))
            return true;
    return false;
}

long sys_flock(int fd, int op)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int type = op & ~LOCK_NB;
    if (type != LOCK_SH && type != LOCK_EX && type != LOCK_UN)
        return -EINVAL;
    if (type == LOCK_UN) {
        flock_remove(f);
        return 0;
    }
    struct lock_key k = key_of(f);
    for (struct flock_k *l = flocks; l; l = l->next)
        if (l->owner == f && l->type == type)
            return 0;                           /* held already */
    /* A conversion gives the old lock up first, as on Linux (so two shared
     * holders both upgrading cannot deadlock: one of them waits). */
    flock_remove(f);
    while (flock_conflict(f, k, type)) {
        if (op & LOCK_NB)
            return -EWOULDBLOCK;
        long r = lock_wait();
        if (r)
            return r;
        file_check(f, "flock");
    }
    struct flock_k *l = kzalloc(sizeof(*l));
    if (!l)
        return -ENOLCK;
    *l = (struct flock_k){ flocks, k, f, type };
    flocks = l;
    f->flocked = true;
    return 0;
}

/* INVARIANT(mutual exclusion): a flock lock lives exactly as long as its
 * open file: the last close (of every descriptor dup and fork made) lets
 * it go and wakes whoever waits for it. */
void flock_release(struct file *f)
{
    flock_remove(f);
    f->flocked = false;
}

/* ---- POSIX record locks: fcntl F_GETLK, F_SETLK, F_SETLKW ---- */

struct flock_user {                 /* Linux's struct flock on x86-64 */
    int16_t type, whence;
    int32_t pad0;
    int64_t start, len;
    int32_t pid, pad1;
};

static bool overlaps(const struct plock *l, uint64_t s, uint64_t e) { return l->start <= e && s <= l->end; }

static bool owns(const struct plock *l, struct lowner o)
{
    return o.ofd ? l->ofd == o.ofd : (!l->ofd && l->tgid == o.tgid);
}

static bool conflicts(const struct plock *l, struct lock_key k, struct lowner o, int type, uint64_t s, uint64_t e)
{
#ifdef BREAK_LOCK_CONFLICT
    (void)l, (void)k, (void)o, (void)type, (void)s, (void)e;
    return false;                       /* the break switch: record locks exclude nobody */
#else
    /* INVARIANT(mutual exclusion): a write lock on a byte range excludes
     * every other owner's lock there, a read lock every other owner's write
     * lock (POSIX and OFD owners alike). */
    return !owns(l, o) && same_key(l->key, k) && overlaps(l, s, e) && (type == F_WRLCK || l->type == F_WRLCK);
#endif
}

/* The conflicting lock that starts first (what F_GETLK reports), or NULL. */
static struct plock *plock_conflict(struct lock_key k, struct lowner o, int type, uint64_t s, uint64_t e)
{
    struct plock *first = NULL;
    for (struct plock *l = plocks; l; l = l->next)
        if (conflicts(l, k, o, type, s, e) && (!first || l->start < first->start))
            first = l;
    return first;
}

static struct plock *plock_new(struct lock_key k, struct lowner o, int type, uint64_t s, uint64_t e)
{
    struct plock *n = kzalloc(sizeof(*n));
    if (n)
        *n = (struct plock){ NULL, k, o.tgid, type, s, e, o.ofd };
    return n;
}

/* Does process waiter, asleep in F_SETLKW, wait (directly, or through a
 * chain of other sleepers) for a POSIX lock of process target? The chain
 * is followed a bounded depth, and the whole search a bounded number of
 * steps (*budget): many processes and locks could otherwise make it
 * exponential. A chain past either bound is let sleep (a signal still
 * ends it). */
static bool waits_on(int waiter, int target, int depth, int *budget)
{
    if (depth > 8 || --*budget < 0)
        return false;
    struct lowner o = { waiter, NULL };
    for (struct lwait *w = lwaits; w; w = w->next) {
        if (w->tgid != waiter)
            continue;
        for (struct plock *l = plocks; l; l = l->next)
            if (!l->ofd && conflicts(l, w->key, o, w->type, w->start, w->end) &&
                (l->tgid == target || waits_on(l->tgid, target, depth + 1, budget)))
                return true;
    }
    return false;
}

/* Would process me, waiting for bytes s..e of k, close a cycle of waiters? */
static bool deadlock(int me, struct lock_key k, int type, uint64_t s, uint64_t e)
{
    struct lowner o = { me, NULL };
    int budget = 4096;
    for (struct plock *l = plocks; l; l = l->next)
        if (!l->ofd && conflicts(l, k, o, type, s, e) && waits_on(l->tgid, me, 0, &budget))
            return true;
    return false;
}

/* Take bytes s..e out of tgid's locks on k: a lock that covers them in the
 * middle splits in two (which needs the spare, allocated beforehand so a
 * half-done change never has to be undone). */
static void plock_cut(struct lock_key k, struct lowner o, uint64_t s, uint64_t e, struct plock **spare)
{
    for (struct plock **pp = &plocks; *pp;) {
        struct plock *l = *pp;
        if (!owns(l, o) || !same_key(l->key, k) || !overlaps(l, s, e)) {
            pp = &l->next;
            continue;
        }
        if (l->start < s && l->end > e) {           /* split: l keeps the front */
            struct plock *back = *spare;
            *spare = NULL;
            *back = (struct plock){ l->next, k, l->tgid, l->type, e + 1, l->end, l->ofd };
            l->end = s - 1;
            l->next = back;
            pp = &back->next;
        } else if (l->start < s) {
            l->end = s - 1;
            pp = &l->next;
        } else if (l->end > e) {
            l->start = e + 1;
            pp = &l->next;
        } else {
            *pp = l->next;
            kfree(l);
        }
    }
}

/* A new lock of tgid's joins its neighbours of the same type that touch it. */
static void plock_insert(struct plock *n)
{
    for (struct plock **pp = &plocks; *pp;) {
        struct plock *l = *pp;
        bool touches = l->start <= (n->end == UINT64_MAX ? n->end : n->end + 1) &&
                       n->start <= (l->end == UINT64_MAX ? l->end : l->end + 1);
        if (owns(l, (struct lowner){ n->tgid, n->ofd }) && same_key(l->key, n->key) && l->type == n->type &&
            touches) {
            n->start = MIN(n->start, l->start);
            n->end = MAX(n->end, l->end);
            *pp = l->next;
            kfree(l);
        } else {
            pp = &l->next;
        }
    }
    n->next = plocks;
    plocks = n;
}

/* The byte range a struct flock names, from whence: -EINVAL if it starts
 * before byte 0, -EOVERFLOW if it ends past what an off_t holds. */
static long flock_range(struct file *f, const struct flock_user *u, uint64_t *s, uint64_t *e)
{
    int64_t base;
    switch (u->whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->off; break;
    case SEEK_END: base = (int64_t)(f->inode ? f->inode->size : f->size); break;
    default: return -EINVAL;
    }
    int64_t start, end;
    if (__builtin_add_overflow(base, u->start, &start))
        return -EOVERFLOW;
    if (u->len > 0) {
        if (__builtin_add_overflow(start, u->len - 1, &end))
            return -EOVERFLOW;
    } else if (u->len < 0) {
        end = start - 1;
        start += u->len;
    } else {
        end = -1;                                   /* to the end, whatever it becomes */
    }
    if (start < 0)
        return -EINVAL;
    *s = (uint64_t)start;
    *e = end < 0 ? UINT64_MAX : (uint64_t)end;
    return 0;
}

long posix_lock_fcntl(struct file *f, int cmd, void *uarg)
{
    struct flock_user u;
    if (copy_from_user(&u, uarg, sizeof(u)))
        return -EFAULT;
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    if (ofd && u.pid != 0)
        return -EINVAL;                         /* l_pid must be 0 (fcntl(2)) */
    if (u.type != F_RDLCK && u.type != F_WRLCK && u.type != F_UNLCK)
        return -EINVAL;
    uint64_t s, e;
    long r = flock_range(f, &u, &s, &e);
    if (r)
        return r;
    struct lock_key k = key_of(f);
    int tgid = current()->tgid;
    struct lowner me = { tgid, ofd ? f : NULL };
    if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
        if (u.type == F_UNLCK)
            return -EINVAL;
        struct plock *c = plock_conflict(k, me, u.type, s, e);
        if (c) {
            u.type = (int16_t)c->type;
            u.whence = SEEK_SET;
            u.start = (int64_t)c->start;
            u.len = c->end == UINT64_MAX ? 0 : (int64_t)(c->end - c->start + 1);
            u.pid = c->ofd ? -1 : c->tgid;
        } else {
            u.type = F_UNLCK;
        }
        return copy_to_user(uarg, &u, sizeof(u)) ? -EFAULT : 0;
    }
    int acc = f->flags & O_ACCMODE;
    if ((u.type == F_RDLCK && acc == O_WRONLY) || (u.type == F_WRLCK && acc == O_RDONLY))
        return -EBADF;
    while (u.type != F_UNLCK && plock_conflict(k, me, u.type, s, e)) {
        if (cmd == F_SETLK || cmd == F_OFD_SETLK)
            return -EAGAIN;
        if (!ofd && deadlock(tgid, k, u.type, s, e))
            return -EDEADLK;
        /* Sleep with what it waits for on the list (deadlock's view of
         * the sleepers), off it again however the wait ends. */
        struct lwait w = { lwaits, k, tgid, u.type, s, e };
        if (!ofd)
            lwaits = &w;
        r = lock_wait();
        if (!ofd)
            for (struct lwait **pp = &lwaits; *pp; pp = &(*pp)->next)
                if (*pp == &w) {
                    *pp = w.next;
                    break;
                }
        if (r)
            return r;
        file_check(f, "fcntl(F_SETLKW)");
    }
    struct plock *spare = plock_new(k, me, 0, 0, 0);
    struct plock *n = u.type == F_UNLCK ? NULL : plock_new(k, me, u.type, s, e);
    if (!spare || (u.type != F_UNLCK && !n)) {
        kfree(spare);
        kfree(n);
        return -ENOLCK;
    }
    plock_cut(k, me, s, e, &spare);
    kfree(spare);
    if (n)
        plock_insert(n);
    wake_waiters();
    return 0;
}

static void plock_drop_where(struct lowner o, const struct lock_key *k)
{
    bool any = false;
    for (struct plock **pp = &plocks; *pp;) {
        struct plock *l = *pp;
        if (owns(l, o) && (!k || same_key(l->key, *k))) {
            *pp = l->next;
            kfree(l);
            any = true;
        } else {
            pp = &l->next;
        }
    }
    if (any)
        wake_waiters();
}

/* close(2) of any descriptor of the file drops the process's locks on it
 * (POSIX's rule, however many other descriptors stay open). */
void posix_locks_close(struct file *f)
{
    if (plocks) {
        struct lock_key k = key_of(f);
        plock_drop_where((struct lowner){ current()->tgid, NULL }, &k);
    }
}

/* The open file's last close: its OFD locks go. */
void ofd_locks_release(struct file *f)
{
    if (plocks)
        plock_drop_where((struct lowner){ 0, f }, NULL);
}

/* The process is gone: all its locks go. */
void posix_locks_exit(int tgid)
{
    if (plocks)
        plock_drop_where((struct lowner){ tgid, NULL }, NULL);
}

/* ---- leases: fcntl F_SETLEASE, F_GETLEASE (fcntl(2), "Leases") ----
 * A lease lets the holder of an open file learn, by a signal (SIGIO, or
 * F_SETSIG's), that another process is about to open the file (for
 * writing: a read lease; at all: a write lease) or truncate it, and gives
 * it /proc/sys/fs/lease-break-time seconds to write back and let go: the
 * opener waits that long at most (EWOULDBLOCK at once with O_NONBLOCK; a
 * signal ends its wait with EINTR). Meanwhile F_GETLEASE says what the
 * lease must become (F_RDLCK or F_UNLCK). Only a regular file's owner (or
 * root) may take one; a read lease needs a read-only descriptor and no
 * writer of the file, a write lease no other open of it at all (EAGAIN).
 * A lease goes with F_UNLCK or the open file's last close. */

struct lease {
    struct lease *next;
    struct lock_key key;
    struct file *f;                 /* the open file holding it */
    int fd;                         /* the descriptor it was taken through (si_fd) */
    int type;                       /* F_RDLCK or F_WRLCK */
    int breaking_to;                /* -1, or what a break asks it to become */
    uint64_t deadline;              /* ticks: when the break is forced */
};

static struct lease *leases;        /* [klock] */
static unsigned long lease_break_secs = 45;

static struct lease *lease_of(struct file *f)
{
    for (struct lease *l = leases; l; l = l->next)
        if (l->f == f)
            return l;
    return NULL;
}

static void lease_free(struct lease *victim)
{
    for (struct lease **pp = &leases; *pp; pp = &(*pp)->next)
        if (*pp == victim) {
            *pp = victim->next;
            kfree(victim);
            break;
        }
    wake_waiters();
}

/* Other open files of ino in any process: writers only, or all. */
static bool other_opens(struct inode *ino, struct file *self, bool writers_only)
{
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *p = sched_proc_at(i);
        if (!p || !p->fdt || p->state == P_UNUSED)
            continue;
        for (int fd = 0; fd < p->fdt->max; fd++) {
            struct file *o = p->fdt->fd[fd];
            if (o && o != self && o->inode == ino && (!writers_only || (o->flags & O_ACCMODE)))
                return true;
        }
    }
    return false;
}

long lease_fcntl(struct file *f, int fd, int cmd, unsigned long arg)
{
    struct inode *ino = f->inode;
    struct lease *l = lease_of(f);
    if (cmd == F_GETLEASE)
        return !l ? F_UNLCK : l->breaking_to >= 0 ? l->breaking_to : l->type;
    if (!ino || !S_ISREG(ino->mode))
        return -EINVAL;
    if (arg != F_RDLCK && arg != F_WRLCK && arg != F_UNLCK)
        return -EINVAL;
    struct proc *me = current();
    if (me->euid != 0 && me->euid != ino->uid)
        return -EACCES;
    if (arg == F_UNLCK) {
        if (!l)
            return -EAGAIN;
        lease_free(l);
        return 0;
    }
    int type = (int)arg;
    if (l && l->breaking_to >= 0 && type > l->breaking_to)
        return -EAGAIN;                         /* a break asks for less */
    if (type == F_RDLCK && ((f->flags & O_ACCMODE) != O_RDONLY || other_opens(ino, f, true)))
        return -EAGAIN;
    if (type == F_WRLCK && other_opens(ino, f, false))
        return -EAGAIN;
    struct lock_key k = key_of(f);
    for (struct lease *o = leases; o; o = o->next)
        if (o != l && same_key(o->key, k) && (type == F_WRLCK || o->type == F_WRLCK))
            return -EAGAIN;
    if (!l) {
        if (!(l = kzalloc(sizeof(*l))))
            return -ENOLCK;
        *l = (struct lease){ leases, k, f, fd, type, -1, 0 };
        leases = l;
    }
    l->type = type;
    l->fd = fd;
    if (l->breaking_to >= 0) {                  /* it did what the break asked */
        l->breaking_to = -1;
        wake_waiters();
    }
    f->owner = me->tgid;                        /* Linux: the caller is told of breaks */
    f->owner_type = F_OWNER_PID;
    return 0;
}

/* Does a lease on k stand in the way of an open (for writing, or not)? */
static struct lease *lease_in_way(struct lock_key k, bool write)
{
    for (struct lease *l = leases; l; l = l->next)
        if (same_key(l->key, k) && (write || l->type == F_WRLCK))
            return l;
    return NULL;
}

/* INVARIANT(mutual exclusion): an open or truncate that a lease stands in
 * the way of waits until its holder let it go (or the break time ran out):
 * the holder is told first. */
long lease_break(struct inode *ino, int flags)
{
    if (!leases || !ino)
        return 0;
    struct lock_key k = { ino->sb, ino->ino };
    bool write = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    for (;;) {
        struct lease *l = lease_in_way(k, write);
        if (!l)
            return 0;
        if (l->breaking_to < 0 || (write && l->breaking_to == F_RDLCK)) {
            l->breaking_to = write ? F_UNLCK : F_RDLCK;
            l->deadline = timer_ticks() + lease_break_secs * timer_hz();
            file_sigio(l->f, l->fd, POLL_MSG);
        }
        if (flags & O_NONBLOCK)
            return -EWOULDBLOCK;
        if (timer_ticks() >= l->deadline) {     /* the holder took too long */
            if (l->breaking_to == F_UNLCK)
                lease_free(l);
            else
                l->type = l->breaking_to, l->breaking_to = -1;
            continue;
        }
        if (proc_signal_pending())
            return -EINTR;
        struct proc *p = current();
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        p->wake_tick = l->deadline;
        sleep_locked(&lock_waiters);
        p->wake_tick = 0;
        spin_unlock_irqrestore(&sched_lock, fl);
    }
}

void lease_release(struct file *f)
{
    struct lease *l = leases ? lease_of(f) : NULL;
    if (l)
        lease_free(l);
}

int lease_gen_break_time(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%lu\n", lease_break_secs);
    return 0;
}

long lease_write_break_time(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    unsigned long v;
    if (sysctl_parse_ulong(buf, n, &v) || v > 0x7fffffff)
        return -EINVAL;
    lease_break_secs = v;
    return (long)n;
}
