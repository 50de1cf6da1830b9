/* fs/inotify.c - inotify(7): a file that reports what happens to watched
 * files and directories.
 *
 * Why. Editors, build tools and file managers wait for changes instead of
 * polling the tree; inotify is how they ask. An instance (inotify_init1) is
 * a file; inotify_add_watch names an inode and a mask of events, and
 * returns a watch descriptor (wd); every operation the VFS does on that
 * inode (and, for a directory, on the entries in it) queues a struct
 * inotify_event on the instance, which read(2) returns and poll reports.
 *
 * Where events come from. The syscalls that change or use a file call the
 * fsnotify_* hooks below after they succeed (sys_file.c, sys_fsinfo.c,
 * file.c's last close, vfs.c's iput for the last reference of an unlinked
 * inode). A watch names its inode by super block and number, not by a
 * reference: a watched file can still be deleted, and then its watch says
 * IN_DELETE_SELF and goes (IN_IGNORED) when the last reference to the
 * inode goes, as on Linux. An event about an entry of a directory reaches
 * the directory's watches with the entry's name; for an event on an open
 * file (read, write, close) the directory and name come from the path it
 * was opened by (struct file's path), looked up only while some directory
 * is watched.
 *
 * The queue follows inotify(7): an event equal to the last one queued and
 * not yet read is merged into it; past max_queued_events one IN_Q_OVERFLOW
 * event (wd -1) ends the queue until it is read; a read takes whole events
 * and says EINVAL when the buffer cannot hold the first one. Limits per
 * user: max_user_instances (EMFILE), max_user_watches (ENOSPC), all three
 * in /proc/sys/fs/inotify.
 *
 * dnotify (fcntl F_NOTIFY), inotify's ancestor, shares the watch list: a
 * watch with no instance belongs to an open directory, and an event sends
 * its owner a signal (F_SETSIG's, with si_fd) instead of queueing, once
 * unless DN_MULTISHOT. DN_RENAME is an entry renamed within the directory
 * (FSN_RENAME, a bit no inotify mask holds).
 *
 * Locking: the watch list and each queue change under the kernel lock
 * ([klock]); a reader checks its queue and sleeps holding it (the kernel
 * lock is given up only once it sleeps), and the queue's waitq (fs/poll.h)
 * wakes readers and pollers after each event. */
#include "file.h"
#include "poll.h"
#include "vfs.h"
#include "pseudofs.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

struct ievent {
    struct ievent *next;
    int32_t wd;
    uint32_t mask, cookie, len;         /* len: the name's bytes, NUL-padded to 16 */
    char name[];
};

struct inotify;

struct iwatch {
    struct iwatch *next;                /* [klock] every watch of every instance */
    struct inotify *in;                 /* NULL: a dnotify watch of dn_file */
    struct file *dn_file;
    int dn_fd;
    bool dn_multishot;
    const struct super *sb;
    uint64_t ino;
    bool dir;                           /* it watches a directory */
    int wd;
    uint32_t mask;                      /* events, IN_ONESHOT, IN_EXCL_UNLINK */
};

struct inotify {
    struct inotify *next;               /* [klock] every instance */
    struct ievent *head, *tail;         /* [klock] the queue */
    unsigned count;                     /* [klock] events queued */
    size_t bytes;                       /* [klock] what reading them all would return */
    int last_wd;                        /* [klock] wds are handed out upwards */
    uint32_t uid;                       /* [const] the user it counts against */
    struct waitq wq;
};

#define EVENT_HDR 16                    /* struct inotify_event without its name */
#define IN_KEEP_MASK (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)
#define IN_VALID_MASK (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | \
                       IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ISDIR | IN_ONESHOT)
/* Events a directory's watch hears about its entries (with their name). */
#define FSN_RENAME 0x00001000          /* an entry renamed within its directory (dnotify) */
#define IN_CHILD_EVENTS (IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN | \
                         IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | FSN_RENAME)

static struct iwatch *watches;          /* [klock] */
static unsigned dir_watches;            /* [klock] how many watch directories */
static struct inotify *instances;       /* [klock] */
static uint32_t next_cookie;            /* [klock] pairs IN_MOVED_FROM with IN_MOVED_TO */

/* /proc/sys/fs/inotify ([klock]); Linux's defaults. */
static unsigned long max_queued_events = 16384, max_user_instances = 128, max_user_watches = 8192;

bool inotify_active(void) { return watches != NULL; }

/* ---- the queue ---- */

static void queue_event(struct inotify *in, int wd, uint32_t mask, uint32_t cookie, const char *name, size_t nlen)
{
    ASSERT_KLOCK();
    uint32_t len = nlen ? (uint32_t)ALIGN_UP(nlen + 1, EVENT_HDR) : 0;
    struct ievent *t = in->tail;
    if (t && t->mask == IN_Q_OVERFLOW)
        return;                                 /* the queue stays full until read */
    if (t && t->wd == wd && t->mask == mask && t->cookie == cookie && t->len == len &&
        (!nlen || (strlen(t->name) == nlen && !memcmp(t->name, name, nlen))))
        return;                                 /* the same as the last one: merged */
    bool overflow = in->count >= max_queued_events;
    if (overflow)
        wd = -1, mask = IN_Q_OVERFLOW, cookie = 0, len = 0, nlen = 0;
    struct ievent *e = kzalloc(sizeof(*e) + len);
    if (!e)
        return;                                 /* (out of memory: the event is lost) */
    *e = (struct ievent){ NULL, wd, mask, cookie, len };
    memcpy(e->name, name, nlen);
    if (t)
        t->next = e;
    else
        in->head = e;
    in->tail = e;
    in->count++;
    in->bytes += EVENT_HDR + len;
    waitq_notify(&in->wq, POLLIN | POLLRDNORM);
}

static void watch_free(struct iwatch *w)
{
    for (struct iwatch **pp = &watches; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    if (w->dir)
        dir_watches--;
    kfree(w);
}

/* The watch goes: IN_IGNORED tells its reader so. */
static void watch_drop(struct iwatch *w)
{
    if (w->in)
        queue_event(w->in, w->wd, IN_IGNORED, 0, NULL, 0);
    watch_free(w);
}

/* One event to every watch on (sb, ino) whose mask wants it; name: the
 * entry of the watched directory it is about (NULL: the inode itself).
 * excl: the subject is unlinked (IN_EXCL_UNLINK watches ignore it). */
static void deliver(const struct super *sb, uint64_t ino, uint32_t mask, uint32_t isdir, uint32_t cookie,
                    const char *name, size_t nlen, bool excl)
{
    for (struct iwatch *w = watches, *next; w; w = next) {
        next = w->next;
        if (w->sb != sb || w->ino != ino || !(w->mask & mask))
            continue;
        if (excl && (w->mask & IN_EXCL_UNLINK))
            continue;
        if (!w->in) {                           /* dnotify: a signal */
            struct file *f = w->dn_file;
            int fd = w->dn_fd;
            if (!w->dn_multishot)
                watch_free(w);
            file_sigio(f, fd, POLL_MSG);
            continue;
        }
        /* A watched inode's event reaches every watch whose mask asks for
         * it, in the order the changes happened. */
        queue_event(w->in, w->wd, (mask & w->mask) | isdir, cookie, name, nlen);
        if (w->mask & IN_ONESHOT)
            watch_drop(w);
    }
}

/* ---- the hooks ---- */

/* An event on ino itself and, if dir is given, on dir's entry name (the
 * parent's watches first, as Linux orders them). IN_ISDIR in mask: the
 * subject is a directory (for a creation, whose inode the caller lacks).
 * excl: the subject is an unlinked file (IN_EXCL_UNLINK watches skip it). */
static void notify(struct inode *dir, const char *name, size_t len, struct inode *ino, uint32_t mask,
                   uint32_t cookie, bool excl)
{
    uint32_t isdir = (mask & IN_ISDIR) | (ino && S_ISDIR(ino->mode) ? IN_ISDIR : 0);
    mask &= ~IN_ISDIR;
    bool dot = !name || len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
    if (dir && !dot && (mask & IN_CHILD_EVENTS))
        deliver(dir->sb, dir->ino, mask, isdir, cookie, name, len, excl);
    if (ino && !(mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | FSN_RENAME)))
        deliver(ino->sb, ino->ino, mask, (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) ? 0 : isdir, 0, NULL, 0, false);
}

void fsnotify_child(struct inode *dir, const char *name, size_t len, struct inode *ino, uint32_t mask,
                    uint32_t cookie)
{
    if (watches)
        notify(dir, name, len, ino, mask, cookie, false);
}

/* An event on an open file: the inode, and the directory it was opened in. */
void fsnotify_file(struct file *f, uint32_t mask)
{
    if (!watches || !f->inode)
        return;
    struct inode *dir = NULL;
    const char *name = NULL;
    size_t len = 0;
    if (dir_watches && f->path) {
        const char *slash = NULL;
        for (const char *c = f->path; *c; c++)
            if (*c == '/')
                slash = c;
        if (slash && slash[1]) {
            name = slash + 1;
            len = strlen(name);
            size_t dl = (size_t)(slash - f->path);
            char *dpath = kmalloc(dl + 2);
            if (dpath) {
                memcpy(dpath, f->path, dl ? dl : 1);
                dpath[dl ? dl : 1] = 0;
                if (vfs_lookup(NULL, dpath, LOOKUP_FOLLOW, &dir))
                    dir = NULL;
                kfree(dpath);
            }
            /* The name must still be this file's (or it was unlinked). */
            struct inode *now;
            if (dir && f->inode->nlink && (!dir->ops->lookup || dir->ops->lookup(dir, name, len, &now) ||
                                           (iput(now), now != f->inode))) {
                iput(dir);
                dir = NULL;
            }
        }
    }
    notify(dir, name, len, f->inode, mask, 0, f->inode->nlink == 0);
    iput(dir);
}

/* The last reference to an unlinked inode went: its watches end. */
void fsnotify_inode_gone(struct inode *ino)
{
    if (!watches)
        return;
    for (struct iwatch *w = watches, *next; w; w = next) {
        next = w->next;
        if (w->sb == ino->sb && w->ino == ino->ino) {
            if (w->in && (w->mask & IN_DELETE_SELF))
                queue_event(w->in, w->wd, IN_DELETE_SELF, 0, NULL, 0);
            watch_drop(w);
        }
    }
}

uint32_t fsnotify_cookie(void) { return ++next_cookie; }

/* A file system was unmounted: every watch on it says IN_UNMOUNT, then
 * IN_IGNORED, and goes (its super block may be freed and reused). */
void fsnotify_sb_gone(const struct super *sb)
{
    for (struct iwatch *w = watches, *next; w; w = next) {
        next = w->next;
        if (w->sb != sb)
            continue;
        if (w->in)
            queue_event(w->in, w->wd, IN_UNMOUNT, 0, NULL, 0);
        watch_drop(w);
    }
}

/* A rename: the two directories' events, paired by a cookie, then the
 * moved inode's own (and dnotify's DN_RENAME when it stayed in its
 * directory). */
void fsnotify_rename(struct inode *od, const char *on, size_t ol, struct inode *nd, const char *nn, size_t nl,
                     struct inode *moved)
{
    if (!watches)
        return;
    uint32_t cookie = ++next_cookie;
    notify(od, on, ol, moved, IN_MOVED_FROM, cookie, false);
    notify(nd, nn, nl, moved, IN_MOVED_TO, cookie, false);
    if (od->sb == nd->sb && od->ino == nd->ino)
        notify(od, on, ol, moved, FSN_RENAME, 0, false);
    notify(NULL, NULL, 0, moved, IN_MOVE_SELF, 0, false);
}

/* ---- dnotify ---- */

long dnotify_fcntl(struct file *f, int fd, unsigned long arg)
{
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    struct iwatch *w = watches;
    while (w && !(w->in == NULL && w->dn_file == f))
        w = w->next;
    uint32_t dn = (uint32_t)arg;
    if (!(dn & ~DN_MULTISHOT)) {
        if (w)
            watch_free(w);
        return 0;
    }
    uint32_t mask = ((dn & DN_ACCESS) ? IN_ACCESS : 0) | ((dn & DN_MODIFY) ? IN_MODIFY : 0) |
                    ((dn & DN_CREATE) ? IN_CREATE | IN_MOVED_TO : 0) |
                    ((dn & DN_DELETE) ? IN_DELETE | IN_MOVED_FROM : 0) |
                    ((dn & DN_RENAME) ? FSN_RENAME : 0) | ((dn & DN_ATTRIB) ? IN_ATTRIB : 0);
    if (!w) {
        if (!(w = kzalloc(sizeof(*w))))
            return -ENOMEM;
        *w = (struct iwatch){ .next = watches, .dn_file = f, .sb = f->inode->sb, .ino = f->inode->ino,
                              .dir = true };
        watches = w;
        dir_watches++;
    }
    w->mask |= mask;
    w->dn_fd = fd;
    w->dn_multishot = dn & DN_MULTISHOT;
    f->owner = current()->tgid;                 /* Linux: the caller becomes the owner */
    f->owner_type = F_OWNER_PID;
    return 0;
}

void dnotify_file_gone(struct file *f)
{
    for (struct iwatch *w = watches, *next; w; w = next) {
        next = w->next;
        if (!w->in && w->dn_file == f)
            watch_free(w);
    }
}

/* ---- the file ---- */

static struct inotify *inotify_of(struct file *f);

static long inotify_read(struct file *f, void *ubuf, size_t n)
{
    struct inotify *in = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (!in->head) {
        long r = (f->flags & O_NONBLOCK) ? -EAGAIN : proc_signal_pending() ? -EINTR : 0;
        if (r) {
            spin_unlock_irqrestore(&sched_lock, fl);
            return r;
        }
        waitq_sleep_locked(&in->wq);
        file_check(f, "inotify_read");
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    size_t done = 0;
    while (in->head) {
        struct ievent *e = in->head;
        size_t sz = EVENT_HDR + e->len;
        if (sz > n - done) {
            if (!done)
                return -EINVAL;                 /* the first does not fit */
            break;
        }
        if (copy_to_user((uint8_t *)ubuf + done, &e->wd, EVENT_HDR) ||
            (e->len && copy_to_user((uint8_t *)ubuf + done + EVENT_HDR, e->name, e->len)))
            return done ? (long)done : -EFAULT;
        in->head = e->next;
        if (!in->head)
            in->tail = NULL;
        in->count--;
        in->bytes -= sz;
        kfree(e);
        done += sz;
    }
    return (long)done;
}

static uint32_t inotify_poll(struct file *f, struct poll_table *pt)
{
    struct inotify *in = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &in->wq);
    uint32_t mask = in->head ? POLLIN | POLLRDNORM : 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static long inotify_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    struct inotify *in = f->priv;
    if (cmd != FIONREAD)
        return -ENOTTY;
    int v = (int)in->bytes;
    return copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static void inotify_release(struct file *f)
{
    struct inotify *in = f->priv;
    for (struct iwatch *w = watches, *next; w; w = next) {
        next = w->next;
        if (w->in == in)
            watch_free(w);
    }
    while (in->head) {
        struct ievent *e = in->head;
        in->head = e->next;
        kfree(e);
    }
    for (struct inotify **pp = &instances; *pp; pp = &(*pp)->next)
        if (*pp == in) {
            *pp = in->next;
            break;
        }
    kfree(in);
}

static int inotify_dname(struct file *f, char *buf, size_t n)
{
    (void)f;
    return snprintf(buf, n, "anon_inode:inotify");
}

static const struct file_ops inotify_ops = {
    .read = inotify_read, .poll = inotify_poll, .ioctl = inotify_ioctl, .release = inotify_release,
    .stat = file_anon_stat, .dname = inotify_dname,
};

static struct inotify *inotify_of(struct file *f) { return f->ops == &inotify_ops ? f->priv : NULL; }

/* /proc/PID/fdinfo/N of an instance: a line per watch, as Linux prints. */
void inotify_fdinfo(struct file *f, struct sbuf *s)
{
    struct inotify *in = inotify_of(f);
    if (!in)
        return;
    for (struct iwatch *w = watches; w; w = w->next)
        if (w->in == in)
            sb_printf(s, "inotify wd:%d ino:%lx sdev:%lx mask:%x ignored_mask:0\n", w->wd, w->ino,
                      w->sb ? ((const struct super *)w->sb)->dev : 0ul, w->mask);
}

/* ---- the calls ---- */

long sys_inotify_init1(int flags)
{
    if (flags & ~(IN_CLOEXEC | IN_NONBLOCK))
        return -EINVAL;
    uint32_t uid = current()->uid;
    unsigned long mine = 0;
    for (struct inotify *i = instances; i; i = i->next)
        mine += i->uid == uid;
    if (mine >= max_user_instances)
        return -EMFILE;
    struct inotify *in = kzalloc(sizeof(*in));
    struct file *f = in ? file_alloc(&inotify_ops, in) : NULL;
    if (!f) {
        kfree(in);
        return -ENOMEM;
    }
    in->uid = uid;
    in->next = instances;
    instances = in;
    f->flags = O_RDONLY | (flags & O_NONBLOCK);
    int fd = fd_install(f, 0, flags & IN_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

long sys_inotify_init(void) { return sys_inotify_init1(0); }

long sys_inotify_add_watch(int fd, const char *upath, uint32_t mask)
{
    /* Linux's order: the mask, the descriptor, then the path. */
    if (!(mask & IN_VALID_MASK) || (mask & ~IN_VALID_MASK))
        return -EINVAL;
    if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
        return -EINVAL;
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    struct inotify *in = inotify_of(f);
    if (!in)
        return -EINVAL;
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *ino;
    if ((r = lookup_at(AT_FDCWD, path, (mask & IN_DONT_FOLLOW) ? 0 : LOOKUP_FOLLOW, &ino)))
        return r;
    if ((mask & IN_ONLYDIR) && !S_ISDIR(ino->mode))
        r = -ENOTDIR;
    else
        r = vfs_permission(ino, MAY_READ);
    struct iwatch *w = NULL;
    for (w = watches; !r && w; w = w->next)
        if (w->in == in && w->sb == ino->sb && w->ino == ino->ino)
            break;
    if (!r && w) {
        if (mask & IN_MASK_CREATE)
            r = -EEXIST;
        else
            w->mask = (mask & IN_KEEP_MASK) | ((mask & IN_MASK_ADD) ? w->mask : 0);
        r = r ? r : w->wd;
    } else if (!r) {
        unsigned long mine = 0;
        for (struct iwatch *x = watches; x; x = x->next)
            mine += x->in && x->in->uid == in->uid;
        if (mine >= max_user_watches)
            r = -ENOSPC;
        else if (!(w = kzalloc(sizeof(*w))))
            r = -ENOMEM;
        else {
            *w = (struct iwatch){ .next = watches, .in = in, .sb = ino->sb, .ino = ino->ino,
                                  .dir = S_ISDIR(ino->mode), .wd = ++in->last_wd, .mask = mask & IN_KEEP_MASK };
            watches = w;
            dir_watches += w->dir;
            r = w->wd;
        }
    }
    iput(ino);
    return r;
}

long sys_inotify_rm_watch(int fd, int wd)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    struct inotify *in = inotify_of(f);
    if (!in)
        return -EINVAL;
    for (struct iwatch *w = watches; w; w = w->next)
        if (w->in == in && w->wd == wd) {
            watch_drop(w);
            return 0;
        }
    return -EINVAL;
}

/* ---- /proc/sys/fs/inotify ---- */

static long set_limit(unsigned long *to, const char *buf, size_t n)
{
    unsigned long v;
    if (sysctl_parse_ulong(buf, n, &v) || v > 0x7fffffff)
        return -EINVAL;
    *to = v;
    return (long)n;
}

int inotify_gen_queued(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%lu\n", max_queued_events); return 0; }
int inotify_gen_instances(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%lu\n", max_user_instances); return 0; }
int inotify_gen_watches(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%lu\n", max_user_watches); return 0; }
long inotify_write_queued(const struct pctx *c, const char *b, size_t n) { (void)c; return set_limit(&max_queued_events, b, n); }
long inotify_write_instances(const struct pctx *c, const char *b, size_t n) { (void)c; return set_limit(&max_user_instances, b, n); }
long inotify_write_watches(const struct pctx *c, const char *b, size_t n) { (void)c; return set_limit(&max_user_watches, b, n); }
