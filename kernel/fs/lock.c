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
 * Waiting. flock without LOCK_NB and F_SETLKW sleep on one channel until
 * nothing conflicts; every release wakes them all and each looks again
 * (locks are few, contention rare). A signal ends the wait with EINTR.
 * Deadlock detection (F_SETLKW's EDEADLK) is not done: two processes that
 * wait on each other wait until a signal comes, as with flock on Linux.
 *
 * Locking: everything here runs under the kernel lock ([klock]): the lists
 * are read and changed only by syscalls and by the last close of a file. */
#include "vfs.h"
#include "file.h"
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
 * any file), held by process tgid. */
struct plock {
    struct plock *next;
    struct lock_key key;
    int tgid;
    int type;                       /* F_RDLCK or F_WRLCK */
    uint64_t start, end;
};

static struct flock_k *flocks;      /* [klock] */
static struct plock *plocks;        /* [klock] */
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

/* The conflicting lock that starts first (what F_GETLK reports), or NULL. */
static struct plock *plock_conflict(struct lock_key k, int tgid, int type, uint64_t s, uint64_t e)
{
    struct plock *first = NULL;
    for (struct plock *l = plocks; l; l = l->next)
        if (l->tgid != tgid && same_key(l->key, k) && overlaps(l, s, e) &&
            (type == F_WRLCK || l->type == F_WRLCK) && (!first || l->start < first->start))
            first = l;
    return first;
}

static struct plock *plock_new(struct lock_key k, int tgid, int type, uint64_t s, uint64_t e)
{
    struct plock *n = kzalloc(sizeof(*n));
    if (n)
        *n = (struct plock){ NULL, k, tgid, type, s, e };
    return n;
}

/* Take bytes s..e out of tgid's locks on k: a lock that covers them in the
 * middle splits in two (which needs the spare, allocated beforehand so a
 * half-done change never has to be undone). */
static void plock_cut(struct lock_key k, int tgid, uint64_t s, uint64_t e, struct plock **spare)
{
    for (struct plock **pp = &plocks; *pp;) {
        struct plock *l = *pp;
        if (l->tgid != tgid || !same_key(l->key, k) || !overlaps(l, s, e)) {
            pp = &l->next;
            continue;
        }
        if (l->start < s && l->end > e) {           /* split: l keeps the front */
            struct plock *back = *spare;
            *spare = NULL;
            *back = (struct plock){ l->next, k, tgid, l->type, e + 1, l->end };
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
        if (l->tgid == n->tgid && same_key(l->key, n->key) && l->type == n->type && touches) {
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
    if (u.type != F_RDLCK && u.type != F_WRLCK && u.type != F_UNLCK)
        return -EINVAL;
    uint64_t s, e;
    long r = flock_range(f, &u, &s, &e);
    if (r)
        return r;
    struct lock_key k = key_of(f);
    int tgid = current()->tgid;
    if (cmd == F_GETLK) {
        if (u.type == F_UNLCK)
            return -EINVAL;
        struct plock *c = plock_conflict(k, tgid, u.type, s, e);
        if (c) {
            u.type = (int16_t)c->type;
            u.whence = SEEK_SET;
            u.start = (int64_t)c->start;
            u.len = c->end == UINT64_MAX ? 0 : (int64_t)(c->end - c->start + 1);
            u.pid = c->tgid;
        } else {
            u.type = F_UNLCK;
        }
        return copy_to_user(uarg, &u, sizeof(u)) ? -EFAULT : 0;
    }
    int acc = f->flags & O_ACCMODE;
    if ((u.type == F_RDLCK && acc == O_WRONLY) || (u.type == F_WRLCK && acc == O_RDONLY))
        return -EBADF;
    while (u.type != F_UNLCK && plock_conflict(k, tgid, u.type, s, e)) {
        if (cmd == F_SETLK)
            return -EAGAIN;
        if ((r = lock_wait()))
            return r;
        file_check(f, "fcntl(F_SETLKW)");
    }
    struct plock *spare = plock_new(k, tgid, 0, 0, 0);
    struct plock *n = u.type == F_UNLCK ? NULL : plock_new(k, tgid, u.type, s, e);
    if (!spare || (u.type != F_UNLCK && !n)) {
        kfree(spare);
        kfree(n);
        return -ENOLCK;
    }
    plock_cut(k, tgid, s, e, &spare);
    kfree(spare);
    if (n)
        plock_insert(n);
    wake_waiters();
    return 0;
}

static void plock_drop_where(int tgid, const struct lock_key *k)
{
    bool any = false;
    for (struct plock **pp = &plocks; *pp;) {
        struct plock *l = *pp;
        if (l->tgid == tgid && (!k || same_key(l->key, *k))) {
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
        plock_drop_where(current()->tgid, &k);
    }
}

/* The process is gone: all its locks go. */
void posix_locks_exit(int tgid)
{
    if (plocks)
        plock_drop_where(tgid, NULL);
}
