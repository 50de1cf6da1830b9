/* ipc/mqueue.c - POSIX message queues (mq_overview(7)).
 *
 * A queue is named ("/name": the C library strips the slash), holds up to
 * mq_maxmsg messages of up to mq_msgsize bytes, and hands them out highest
 * priority first, oldest first within a priority. mq_open gives a file
 * descriptor: poll, select and epoll see it readable when a message waits
 * and writable when there is room; read() returns Linux's status line
 * ("QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:..."). The names live in one
 * list; `mount -t mqueue none /dev/mqueue` shows it as a directory, as
 * Linux's mqueue file system does (at the end): ls lists the queues, cat
 * reads a queue's status line, rm is mq_unlink, open(O_CREAT) there makes
 * a queue with the default sizes. Without it a queue nobody unlinks could
 * never be found again by anyone who does not know its name.
 *
 * Lifetime: the name holds one reference and every open descriptor one;
 * mq_unlink drops the name's, so the queue lives on, nameless, until its
 * last descriptor is closed. A sender or receiver that waits holds its
 * file (fd_get) and so its queue; it sleeps on the queue's wait queue, the
 * one poll uses, and every change notifies it.
 *
 * mq_notify: one process may ask to be told (SIGEV_SIGNAL: a signal with
 * si_code SI_MESGQ and the sender's pid; SIGEV_NONE: only the
 * registration) when a message arrives in an empty queue and nobody is
 * waiting in mq_receive; the registration is used up by it, and dropped if
 * the process exits. SIGEV_THREAD needs a netlink socket (the C library
 * makes one), which Vigil does not have: EBADF/ENOSYS as without one. */
#include "ipc.h"
#include "../sys/sys.h"
#include "../proc/proc.h"
#include "../fs/file.h"
#include "../fs/poll.h"
#include "../fs/vfs.h"
#include "../sys/syscall.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"

struct mq_msg {
    struct mq_msg *next;
    unsigned prio;
    size_t len;
    char data[];
};

struct mqueue {                 /* [klock] but for wq */
    struct mqueue *next;        /* every queue alive (names: the linked ones) */
    uint64_t serial;            /* [const] its inode number in the file system */
    char name[NAME_MAX + 1];
    uint32_t uid, gid, mode;
    long maxmsg, msgsize, curmsgs;
    uint64_t qsize;             /* bytes of messages queued */
    struct mq_msg *head;        /* highest priority first, then oldest */
    int refs;                   /* the name's (while linked) + open files */
    bool linked;
    int receivers;              /* threads waiting in mq_timedreceive */
    uint32_t charged_uid;       /* whose RLIMIT_MSGQUEUE it counts against (the creator's real uid) */
    uint64_t charge;            /* ... with how many bytes (Linux's formula) */
    int notify_tgid;            /* mq_notify's process, or 0 */
    int notify_kind, notify_sig;
    uint64_t notify_value;
    struct waitq wq;
};

struct mq_attr_u {
    int64_t flags, maxmsg, msgsize, curmsgs;
    int64_t reserved[4];
};

struct sigevent_u {
    uint64_t value;
    int32_t signo, notify;
    int32_t tid;
    int32_t pad[11];
};

static struct mqueue *names;    /* [klock] every queue alive, named or not */
static long mq_count;           /* [klock] queues alive (queues_max) */
static uint64_t mq_serial = 1;  /* [klock] the last serial given (1: the file system's root) */
static struct super mqfs_sb;    /* the file system (the end of this file) */
static struct inode mqfs_root;  /* [klock] its size: Linux's 40 + 20 per name */

/* What stat says of a queue's size, as Linux's mqueue file system does. */
#define MQ_FILENT_SIZE 80
#define MQ_DIRENT_SIZE 20

static void mq_put(struct mqueue *q)
{
    if (--q->refs > 0)
        return;
    for (struct mq_msg *m = q->head, *n; m; m = n) {
        n = m->next;
        kfree(m);
    }
    for (struct mqueue **pp = &names; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    mq_count--;
    kfree(q);
}

static void unlink_name(struct mqueue *q)
{
    q->linked = false;
    mqfs_root.size -= MQ_DIRENT_SIZE;
    mq_put(q);
}

static struct mqueue *lookup(const char *name)
{
    for (struct mqueue *q = names; q; q = q->next)
        if (q->linked && !strcmp(q->name, name))
            return q;
    return NULL;
}

/* ---- the descriptor ---- */

static long mq_read(struct file *f, void *ubuf, size_t n)
{
    struct mqueue *q = f->priv;
    char line[96];
    int len = snprintf(line, sizeof(line), "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                       (unsigned long)q->qsize, q->notify_tgid ? q->notify_kind : 0,
                       q->notify_tgid && q->notify_kind == SIGEV_SIGNAL ? q->notify_sig : 0,
                       q->notify_tgid);
    if (f->off >= (uint64_t)len)
        return 0;
    size_t k = MIN(n, (size_t)len - f->off);
    if (copy_to_user(ubuf, line + f->off, k))
        return -EFAULT;
    f->off += k;
    return (long)k;
}

static uint32_t mq_poll(struct file *f, struct poll_table *pt)
{
    struct mqueue *q = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &q->wq);
    spin_unlock_irqrestore(&sched_lock, fl);
    uint32_t mask = 0;
    if (q->curmsgs)
        mask |= POLLIN | POLLRDNORM;
    if (q->curmsgs < q->maxmsg)
        mask |= POLLOUT | POLLWRNORM;
    return mask;
}

static int mq_stat(struct file *f, struct kstat *st)
{
    struct mqueue *q = f->priv;
    int r = file_anon_stat(f, st);
    st->mode = S_IFREG | q->mode;
    st->uid = q->uid;
    st->gid = q->gid;
    st->size = MQ_FILENT_SIZE;
    return r;
}

static void mq_release(struct file *f) { mq_put(f->priv); }

static const struct file_ops mq_ops = {
    .read = mq_read, .poll = mq_poll, .stat = mq_stat, .release = mq_release,
};

/* The queue behind descriptor fd (the syscall holds the file), or NULL. */
static struct file *mq_file(int fd)
{
    struct file *f = fd_get(fd);
    return f && f->ops == &mq_ops ? f : NULL;
}

/* ---- names and permissions ---- */

/* The name from user space: 0, or Linux's errno (EFAULT, ENAMETOOLONG,
 * ENOENT for "", EACCES for a name with a slash or a dot entry). */
static long get_name(const char *uname, char *buf)
{
    long n = strncpy_from_user(buf, uname, NAME_MAX + 1);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    if (strchr(buf, '/') || !strcmp(buf, ".") || !strcmp(buf, ".."))
        return -EACCES;
    return 0;
}

/* The mode bits decide, as for a file: ipc.c's check, with the queue's
 * owner as owner and creator. */
static int mq_access(struct mqueue *q, int want)
{
    struct kipc_perm p = { .uid = q->uid, .gid = q->gid, .cuid = q->uid, .cgid = q->gid,
                           .mode = q->mode };
    return ipc_perm_check(&p, want);
}

/* A new named queue (the name's reference only) of the caller's, sized by
 * a (NULL: the defaults): 0 and *out, or Linux's errno. */
static long mq_new(const char *name, unsigned mode, const struct mq_attr_u *ua, struct mqueue **out)
{
    struct proc *me = current();
    bool root = me->euid == 0;
    struct mq_attr_u a;
    if (ua) {
        a = *ua;
        if (a.maxmsg <= 0 || a.msgsize <= 0 ||
            a.maxmsg > (root ? MQ_HARD_MSGMAX : ipc_lim.mq_msg_max) ||
            a.msgsize > (root ? MQ_HARD_MSGSIZE : ipc_lim.mq_msgsize_max))
            return -EINVAL;
    } else {
        a.maxmsg = MIN(ipc_lim.mq_msg_default, ipc_lim.mq_msg_max);
        a.msgsize = MIN(ipc_lim.mq_msgsize_default, ipc_lim.mq_msgsize_max);
    }
    if (mq_count >= ipc_lim.mq_queues_max && !root)
        return -ENOSPC;
    /* RLIMIT_MSGQUEUE: the bytes a user's queues may hold, counted as
     * Linux counts them (each message slot's header and tree node too),
     * so no user fills the kernel's memory with queues. */
    uint64_t charge = (uint64_t)a.maxmsg * (uint64_t)(a.msgsize + 96), used = 0;
    for (struct mqueue *o = names; o; o = o->next)
        if (o->charged_uid == me->uid)
            used += o->charge;
    if (used + charge > me->leader->rlim[RLIMIT_MSGQUEUE].cur)
        return -EMFILE;
    struct mqueue *q = kzalloc(sizeof(*q));
    if (!q)
        return -ENOMEM;
    memcpy(q->name, name, strlen(name) + 1);
    q->serial = ++mq_serial;
    q->uid = me->euid;
    q->gid = me->egid;
    q->mode = mode & 0777 & ~me->fs->umask;
    q->maxmsg = a.maxmsg;
    q->msgsize = a.msgsize;
    q->charged_uid = me->uid;
    q->charge = charge;
    q->refs = 1;
    q->linked = true;
    q->next = names;
    names = q;
    mq_count++;
    mqfs_root.size += MQ_DIRENT_SIZE;
    *out = q;
    return 0;
}

long sys_mq_open(const char *uname, int oflag, unsigned mode, const void *uattr)
{
    char *name = kmalloc(NAME_MAX + 1);
    if (!name)
        return -ENOMEM;
    long r = get_name(uname, name);
    struct mq_attr_u a;
    struct mqueue *q = NULL;
    bool created = false;
    if (r)
        goto out;
    q = lookup(name);
    if (q && (oflag & O_CREAT) && (oflag & O_EXCL)) {
        r = -EEXIST;
        goto out;
    }
    if (!q && !(oflag & O_CREAT)) {
        r = -ENOENT;
        goto out;
    }
    if (!q) {
        if (uattr && copy_from_user(&a, uattr, sizeof(a))) {
            r = -EFAULT;
            goto out;
        }
        if ((r = mq_new(name, mode, uattr ? &a : NULL, &q)))
            goto out;
        created = true;
    } else {
        int acc = oflag & O_ACCMODE;
        if (acc == O_ACCMODE) {
            r = -EINVAL;
            goto out;
        }
        if ((r = mq_access(q, acc == O_RDONLY ? 4 : acc == O_WRONLY ? 2 : 6)))
            goto out;
    }
    struct file *f = file_alloc(&mq_ops, q);
    if (!f) {
        r = -ENOMEM;
        goto undo;
    }
    q->refs++;
    f->flags = oflag & (O_ACCMODE | O_NONBLOCK);
    int fd = fd_install(f, 0, oflag & O_CLOEXEC);
    if (fd < 0) {
        file_close(f);                  /* drops the file's reference */
        r = fd;
        goto undo;
    }
    r = fd;
    goto out;
undo:
    if (created)
        unlink_name(q);
out:
    kfree(name);
    return r;
}

long sys_mq_unlink(const char *uname)
{
    char *name = kmalloc(NAME_MAX + 1);
    if (!name)
        return -ENOMEM;
    long r = get_name(uname, name);
    if (!r) {
        struct mqueue *q = lookup(name);
        struct proc *me = current();
        if (!q)
            r = -ENOENT;
        else if (me->euid != 0 && me->euid != q->uid)
            r = -EACCES;
        else
            unlink_name(q);
    }
    kfree(name);
    return r;
}

/* An absolute CLOCK_REALTIME timeout: 0 and *end_ns (UINT64_MAX: none),
 * -EFAULT or -EINVAL. */
static long get_timeout(const void *uts, uint64_t *end_ns)
{
    *end_ns = UINT64_MAX;
    if (!uts)
        return 0;
    int64_t ts[2];
    if (copy_from_user(ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -EINVAL;
    *end_ns = ts_to_ns_sat(ts[0], ts[1]);
    return 0;
}

/* One sleep on q's wait queue until woken or end_ns (real time) passes:
 * 0, -ETIMEDOUT or -ERESTARTSYS. With the kernel lock held. */
static long mq_wait(struct mqueue *q, uint64_t end_ns)
{
    if (proc_signal_pending())
        return -ERESTARTSYS;            /* restarted with SA_RESTART or after a stop */
    uint64_t now = time_realtime_ns();
    if (end_ns != UINT64_MAX && now >= end_ns)
        return -ETIMEDOUT;
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    p->wake_tick = end_ns == UINT64_MAX ? 0 : tick_deadline_sat(ns_to_ticks_sat(end_ns - now));
    waitq_sleep_locked(&q->wq);
    p->wake_tick = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

static void notify(struct mqueue *q)
{
    if (!q->notify_tgid || q->receivers)
        return;
    int tgid = q->notify_tgid;
    q->notify_tgid = 0;                 /* used up */
    if (q->notify_kind != SIGEV_SIGNAL)
        return;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *l = proc_find_thread(tgid);
    l = l ? l->leader : NULL;
    struct proc *t = l && l->nthreads ? signal_target_locked(l, q->notify_sig) : NULL;
    if (t)
        signal_send_info_locked(t, q->notify_sig, current()->tgid, SI_MESGQ, q->notify_value);
    spin_unlock_irqrestore(&sched_lock, f);
}

long sys_mq_timedsend(int fd, const char *umsg, size_t len, unsigned prio, const void *uts)
{
    uint64_t end;
    long r = get_timeout(uts, &end);
    if (r)
        return r;
    if (prio >= MQ_PRIO_MAX)
        return -EINVAL;
    struct file *f = mq_file(fd);
    if (!f || (f->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    struct mqueue *q = f->priv;
    if (len > (size_t)q->msgsize)
        return -EMSGSIZE;
    struct mq_msg *m = kmalloc(sizeof(*m) + len);
    if (!m)
        return -ENOMEM;
    if (copy_from_user(m->data, umsg, len)) {
        kfree(m);
        return -EFAULT;
    }
    m->len = len;
    m->prio = prio;
    while (q->curmsgs >= q->maxmsg) {
        r = (f->flags & O_NONBLOCK) ? -EAGAIN : mq_wait(q, end);
        if (r) {
            kfree(m);
            return r;
        }
    }
    struct mq_msg **pp = &q->head;
    while (*pp && (*pp)->prio >= prio)
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
    bool was_empty = q->curmsgs == 0;
    q->curmsgs++;
    q->qsize += len;
    if (was_empty)
        notify(q);
    waitq_notify(&q->wq, POLLIN | POLLRDNORM);
    return 0;
}

long sys_mq_timedreceive(int fd, char *umsg, size_t len, unsigned *uprio, const void *uts)
{
    uint64_t end;
    long r = get_timeout(uts, &end);
    if (r)
        return r;
    struct file *f = mq_file(fd);
    if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    struct mqueue *q = f->priv;
    if (len < (size_t)q->msgsize)
        return -EMSGSIZE;
    while (!q->curmsgs) {
        if (f->flags & O_NONBLOCK)
            return -EAGAIN;
        q->receivers++;
        r = mq_wait(q, end);
        q->receivers--;
        if (r)
            return r;
    }
    struct mq_msg *m = q->head;
    q->head = m->next;
    q->curmsgs--;
    q->qsize -= m->len;
    waitq_notify(&q->wq, POLLOUT | POLLWRNORM);
    r = (long)m->len;
    if (copy_to_user(umsg, m->data, m->len) || (uprio && copy_to_user(uprio, &m->prio, 4)))
        r = -EFAULT;                    /* taken: lost, as on Linux */
    kfree(m);
    return r;
}

long sys_mq_notify(int fd, const void *usev)
{
    struct sigevent_u ev;
    if (usev) {
        if (copy_from_user(&ev, usev, sizeof(ev)))
            return -EFAULT;
        if (ev.notify != SIGEV_NONE && ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_THREAD)
            return -EINVAL;
        if (ev.notify == SIGEV_SIGNAL && (ev.signo <= 0 || ev.signo > NSIG))
            return -EINVAL;
        if (ev.notify == SIGEV_THREAD)
            return -EBADF;              /* its sigev_signo would name a netlink socket */
    }
    struct file *f = mq_file(fd);
    if (!f)
        return -EBADF;
    struct mqueue *q = f->priv;
    int me = current()->tgid;
    if (!usev) {
        if (q->notify_tgid == me)
            q->notify_tgid = 0;
        return 0;
    }
    if (q->notify_tgid)
        return -EBUSY;
    q->notify_tgid = me;
    q->notify_kind = ev.notify;
    q->notify_sig = ev.signo;
    q->notify_value = ev.value;
    return 0;
}

long sys_mq_getsetattr(int fd, const void *unew, void *uold)
{
    struct mq_attr_u na, oa;
    if (unew) {
        if (copy_from_user(&na, unew, sizeof(na)))
            return -EFAULT;
        if (na.flags & ~(int64_t)O_NONBLOCK)
            return -EINVAL;
    }
    struct file *f = mq_file(fd);
    if (!f)
        return -EBADF;
    struct mqueue *q = f->priv;
    memset(&oa, 0, sizeof(oa));
    oa.flags = f->flags & O_NONBLOCK;
    oa.maxmsg = q->maxmsg;
    oa.msgsize = q->msgsize;
    oa.curmsgs = q->curmsgs;
    if (unew)
        f->flags = (f->flags & ~O_NONBLOCK) | (int)(na.flags & O_NONBLOCK);
    if (uold && copy_to_user(uold, &oa, sizeof(oa)))
        return -EFAULT;
    return 0;
}

void mq_exit(int tgid)
{
    for (struct mqueue *q = names; q; q = q->next)
        if (q->notify_tgid == tgid)
            q->notify_tgid = 0;
}

/* ---- the file system (/dev/mqueue) ----
 *
 * One instance: a root directory (sticky and writable by all, as Linux's)
 * whose entries are the linked queues. An entry's inode is made at each
 * lookup and holds a reference on its queue, so a queue unlinked while
 * someone stats or opens it stays until they are done. Its size is the
 * bytes queued; opening it gives the same descriptor mq_open does, so
 * reading it gives the status line. [klock] */

static const struct inode_ops mqfs_dir_ops, mqfs_file_ops;

static struct inode *mqfs_inode(struct super *sb, struct mqueue *q)
{
    struct inode *ino = kzalloc(sizeof(*ino));
    if (!ino)
        return NULL;
    int64_t now = (int64_t)(time_realtime_ns() / 1000000000ul);
    *ino = (struct inode){ .sb = sb, .ino = q->serial, .mode = S_IFREG | q->mode, .uid = q->uid,
                           .gid = q->gid, .nlink = 1, .size = MQ_FILENT_SIZE, .refs = 1, .ops = &mqfs_file_ops,
                           .priv = q, .atime = now, .mtime = now, .ctime = now };
    q->refs++;
    return ino;
}

/* A directory entry's name as a C string in n: false if too long. */
static bool mqfs_name(const char *name, size_t len, char n[NAME_MAX + 1])
{
    if (len > NAME_MAX)
        return false;
    memcpy(n, name, len);
    n[len] = 0;
    return true;
}

/* The linked queue a directory entry names: 0 and *q, or -ENAMETOOLONG/-ENOENT. */
static int mqfs_find(const char *name, size_t len, struct mqueue **q)
{
    char n[NAME_MAX + 1];
    if (!mqfs_name(name, len, n))
        return -ENAMETOOLONG;
    return (*q = lookup(n)) ? 0 : -ENOENT;
}

static int mqfs_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct mqueue *q;
    int r = mqfs_find(name, len, &q);
    return r ? r : (*out = mqfs_inode(dir->sb, q)) ? 0 : -ENOMEM;
}

/* Entries in the order the queues were made: the cookie after an entry
 * is its serial + 1, so one removed meanwhile moves no other. */
static int mqfs_readdir(struct inode *dir, uint64_t *pos, filldir_t fill, void *ctx)
{
    if (*pos == 0) {
        if (!fill(ctx, ".", 1, dir->ino, 4, 1))
            return 1;
        *pos = 1;
    }
    if (*pos == 1) {
        if (!fill(ctx, "..", 2, dir->ino, 4, 2))
            return 1;
        *pos = 2;
    }
    for (;;) {
        struct mqueue *next = NULL;
        for (struct mqueue *q = names; q; q = q->next)
            if (q->linked && q->serial >= *pos && (!next || q->serial < next->serial))
                next = q;
        if (!next)
            return 0;
        if (!fill(ctx, next->name, strlen(next->name), next->serial, 8 /* DT_REG */, next->serial + 1))
            return 1;
        *pos = next->serial + 1;
    }
}

/* open(O_CREAT) in the directory: a queue with the default sizes. */
static int mqfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode, const char *target,
                       struct inode **out)
{
    if (target || !S_ISREG(mode))
        return -EPERM;                          /* only queues live here (mkdir, symlink: Linux's EPERM) */
    char n[NAME_MAX + 1];
    if (!mqfs_name(name, len, n))
        return -ENAMETOOLONG;
    struct mqueue *q;
    /* The VFS applied the umask to mode already; mq_new applies it again,
     * which changes nothing. */
    long r = mq_new(n, mode, NULL, &q);
    if (r)
        return (int)r;
    if (!(*out = mqfs_inode(dir->sb, q))) {
        unlink_name(q);
        return -ENOMEM;
    }
    return 0;
}

/* rm: mq_unlink. The VFS checked the directory's write permission and its
 * sticky bit (only the queue's owner or root). */
static int mqfs_unlink(struct inode *dir, const char *name, size_t len, bool dir_ok)
{
    (void)dir, (void)dir_ok;
    struct mqueue *q;
    int r = mqfs_find(name, len, &q);
    if (!r)
        unlink_name(q);
    return r;
}

static struct file *mqfs_open(struct inode *ino, int flags, int *err)
{
    struct mqueue *q = ino->priv;
    struct file *f = file_alloc(&mq_ops, q);
    if (!f) {
        *err = -ENOMEM;
        return NULL;
    }
    q->refs++;
    f->flags = flags & (O_ACCMODE | O_NONBLOCK);
    iput(ino);                                  /* the descriptor holds the queue, not the inode */
    return f;
}

static void mqfs_release(struct inode *ino)
{
    mq_put(ino->priv);
    kfree(ino);
}

static const struct inode_ops mqfs_dir_ops = {
    .lookup = mqfs_lookup, .readdir = mqfs_readdir, .create = mqfs_create, .unlink = mqfs_unlink,
};
/* Opening a queue for writing is allowed (its mode permitting), though a
 * write(2) to it is EINVAL, as on Linux: the VFS wants a write op to say
 * the file system is not read-only. */
static long mqfs_write(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
    (void)ino, (void)off, (void)buf, (void)n;
    return -EINVAL;
}

static const struct inode_ops mqfs_file_ops = { .open = mqfs_open, .release = mqfs_release, .write = mqfs_write };

struct super *mqueue_super(void)
{
    if (!mqfs_sb.root) {
        int64_t now = (int64_t)(time_realtime_ns() / 1000000000ul);
        uint64_t size = mqfs_root.size;         /* (the names made before the first mount) */
        mqfs_root = (struct inode){ .sb = &mqfs_sb, .ino = 1, .mode = S_IFDIR | S_ISVTX | 0777, .nlink = 2,
                                    .size = size + 2 * MQ_DIRENT_SIZE, .refs = 1, .ops = &mqfs_dir_ops,
                                    .atime = now, .mtime = now, .ctime = now };
        mqfs_sb = (struct super){ .root = &mqfs_root, .dev = 0x13, .type = "mqueue" };
    }
    return &mqfs_sb;
}
