/* fs/pipe.c - pipes: a ring buffer with a reading end and a writing end.
 *
 * Readers sleep while it is empty and there are writers; writers sleep
 * while it is full and there are readers. With no writers left a read
 * returns 0 (end of file); with no readers left a write raises SIGPIPE and
 * fails with EPIPE. Writes of up to PIPE_BUF bytes are atomic: they wait
 * for room for all of it, so they never interleave with another writer's.
 *
 * poll (fs/poll.h): the read end is readable iff there are bytes or no
 * writer is left (POLLHUP then), the write end writable iff a PIPE_BUF
 * write would not wait (POLLERR once no reader is left). Every change of
 * rpos, wpos, readers or writers notifies the pipe's waitq after it,
 * under sched_lock, which is also what the poll op reads under. */
#include "file.h"
#include "poll.h"
#include "vfs.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

#define PIPE_CAP  65536
#define PIPE_BUF  4096
#define CHUNK     4096

struct pipe {
    uint8_t *buf;
    uint64_t rpos, wpos;            /* bytes ever read / written: count = wpos - rpos */
    int readers, writers;
    struct waitq wq;                /* pollers of either end */
    /* What opening /proc/PID/fd/N (or /dev/stdin...) of an end reaches: a
     * new end of the same pipe. The pipe lives while it has ends or the
     * inode has references ([klock]: both change under it). */
    struct inode inode;
    /* A named pipe (FIFO): the inode it belongs to (a reference held while
     * the pipe lives), the next one of the list, and how many readers and
     * writers ever opened it (an open waiting for the other side wakes when
     * one came, even if it has gone again). [sched_lock] for the counts. */
    struct inode *fifo;
    struct pipe *fifo_next;
    uint64_t r_opens, w_opens;
};

static struct super pipefs = { .type = "pipefs", .dev = 0xc };

static void fifo_forget(struct pipe *p);

/* The ring buffer in at most two pieces (it may wrap). */
static void ring_copy_out(struct pipe *p, uint8_t *dst, size_t k)
{
    size_t at = p->rpos % PIPE_CAP, first = MIN(k, PIPE_CAP - at);
    memcpy(dst, p->buf + at, first);
    memcpy(dst + first, p->buf, k - first);
}

static void ring_copy_in(struct pipe *p, const uint8_t *src, size_t k)
{
    size_t at = p->wpos % PIPE_CAP, first = MIN(k, PIPE_CAP - at);
    memcpy(p->buf + at, src, first);
    memcpy(p->buf, src + first, k - first);
}

static long pipe_read(struct file *f, void *ubuf, size_t n)
{
    struct pipe *p = f->priv;
    uint8_t *tmp = proc_scratch_page();   /* CHUNK bytes, this thread's own */
    if (!tmp)
        return -ENOMEM;
    long total = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (p->wpos == p->rpos) {
        long r = 0;
        if (p->writers == 0)
            r = 0;                              /* end of file */
        else if (f->flags & O_NONBLOCK)
            r = -EAGAIN;
        else if (proc_signal_pending())
            r = -EINTR;
        else {
            sleep_locked(&p->rpos);
            file_check(f, "pipe_read");         /* held by fd_get across the sleep */
            continue;
        }
        spin_unlock_irqrestore(&sched_lock, fl);
        return r;
    }
    while ((size_t)total < n && p->wpos != p->rpos) {
        size_t k = MIN(MIN(n - (size_t)total, (size_t)(p->wpos - p->rpos)), (size_t)CHUNK);
        ring_copy_out(p, tmp, k);
        p->rpos += k;
        spin_unlock_irqrestore(&sched_lock, fl);
        if (copy_to_user((uint8_t *)ubuf + total, tmp, k)) {
            total = total ? total : -EFAULT;
            fl = spin_lock_irqsave(&sched_lock);
            break;
        }
        total += (long)k;
        fl = spin_lock_irqsave(&sched_lock);
    }
    wakeup_locked(&p->wpos);
    waitq_notify_locked(&p->wq, POLLOUT | POLLWRNORM);
    spin_unlock_irqrestore(&sched_lock, fl);
    return total;
}

static long pipe_write(struct file *f, const void *ubuf, size_t n)
{
    struct pipe *p = f->priv;
    uint8_t *tmp = proc_scratch_page();   /* CHUNK bytes, this thread's own */
    if (!tmp)
        return -ENOMEM;
    long total = 0, err = 0;
    while ((size_t)total < n && !err) {
        size_t chunk = MIN(n - (size_t)total, (size_t)CHUNK);
        if (copy_from_user(tmp, (const uint8_t *)ubuf + total, chunk)) {
            err = -EFAULT;
            break;
        }
        size_t done = 0;
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        while (done < chunk) {
            size_t room = PIPE_CAP - (size_t)(p->wpos - p->rpos);
            size_t need = n <= PIPE_BUF ? chunk - done : 1;     /* atomic small writes */
            if (p->readers == 0) {
                err = -EPIPE;
                break;
            }
            if (room < need) {
                if (f->flags & O_NONBLOCK) {
                    err = -EAGAIN;
                    break;
                }
                if (proc_signal_pending()) {
                    err = -EINTR;
                    break;
                }
                sleep_locked(&p->wpos);
                file_check(f, "pipe_write");    /* held by fd_get across the sleep */
                continue;
            }
            size_t k = MIN(room, chunk - done);
            ring_copy_in(p, tmp + done, k);
            p->wpos += k;
            done += k;
            wakeup_locked(&p->rpos);
            waitq_notify_locked(&p->wq, POLLIN | POLLRDNORM);
        }
        spin_unlock_irqrestore(&sched_lock, fl);
        total += (long)done;
    }
    if (err == -EPIPE)
        proc_kill(current()->pid, SIGPIPE);
    return total ? total : err;
}

static int pipe_stat(struct file *f, struct kstat *st)
{
    struct pipe *p = f->priv;
    if (p->fifo) {                              /* a named pipe: its node's stat */
        vfs_stat(p->fifo, st);
        return 0;
    }
    memset(st, 0, sizeof(*st));
    st->mode = S_IFIFO | 0600;
    st->nlink = 1;
    st->blksize = PIPE_BUF;
    st->ino = (uint64_t)(uintptr_t)f->priv;
    return 0;
}

static void pipe_release(struct file *f, bool reader)
{
    struct pipe *p = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    if (reader)
        p->readers--;
    else
        p->writers--;
    bool last = p->readers == 0 && p->writers == 0 && p->inode.refs == 0;
    wakeup_locked(&p->rpos);                    /* readers see EOF, writers EPIPE */
    wakeup_locked(&p->wpos);
    waitq_notify_locked(&p->wq, reader ? POLLERR | POLLOUT : POLLHUP | POLLIN);
    spin_unlock_irqrestore(&sched_lock, fl);
    if (last) {
        if (p->fifo)
            fifo_forget(p);
        kfree(p->buf);
        kfree(p);
    }
}

/* Readiness and registration in one sched_lock section (poll.h's rule). */
static uint32_t pipe_poll(struct file *f, struct poll_table *pt, bool reader)
{
    struct pipe *p = f->priv;
    uint32_t mask = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &p->wq);
    if (reader) {
        if (p->wpos != p->rpos)
            mask |= POLLIN | POLLRDNORM;
        if (p->writers == 0)
            mask |= POLLHUP;
    } else {
        if (PIPE_CAP - (p->wpos - p->rpos) >= PIPE_BUF)
            mask |= POLLOUT | POLLWRNORM;
        if (p->readers == 0)
            mask |= POLLERR;
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static uint32_t poll_reader(struct file *f, struct poll_table *pt) { return pipe_poll(f, pt, true); }
static uint32_t poll_writer(struct file *f, struct poll_table *pt) { return pipe_poll(f, pt, false); }

static void release_reader(struct file *f) { pipe_release(f, true); }
static void release_writer(struct file *f) { pipe_release(f, false); }
static void release_both(struct file *f)
{
    pipe_release(f, true);
    pipe_release(f, false);
}

static uint32_t poll_both(struct file *f, struct poll_table *pt)
{
    return pipe_poll(f, pt, true) | pipe_poll(f, pt, false);
}

/* /proc/PID/fd's name for it: pipe:[N] with N its st_ino, as Linux. */
static int pipe_dname(struct file *f, char *buf, size_t n)
{
    return snprintf(buf, n, "pipe:[%lu]", (uint64_t)(uintptr_t)f->priv);
}

/* What /proc/PID/fd/N opens: the pipe's own inode, or a FIFO's node. */
static struct inode *pipe_inode_of(struct file *f)
{
    struct pipe *p = f->priv;
    return iget(p->fifo ? p->fifo : &p->inode);
}

static const struct file_ops read_end = {
    .read = pipe_read, .stat = pipe_stat, .release = release_reader, .poll = poll_reader,
    .dname = pipe_dname, .inode_of = pipe_inode_of,
};
static const struct file_ops write_end = {
    .write = pipe_write, .stat = pipe_stat, .release = release_writer, .poll = poll_writer,
    .dname = pipe_dname, .inode_of = pipe_inode_of,
};
/* Opening the pipe's inode: a new reading end (O_RDONLY, O_RDWR) or
 * writing end (O_WRONLY); ENXIO once every end has gone. */
static struct file *pipe_inode_open(struct inode *ino, int flags, int *err)
{
    struct pipe *p = ino->priv;
    bool writer = (flags & O_ACCMODE) == O_WRONLY;
    *err = -ENXIO;
    if (p->readers == 0 && p->writers == 0)
        return NULL;
    *err = -ENOMEM;
    struct file *f = file_alloc(writer ? &write_end : &read_end, p);
    if (!f)
        return NULL;
    f->flags = flags;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    if (writer)
        p->writers++;
    else
        p->readers++;
    waitq_notify_locked(&p->wq, POLLIN | POLLOUT);   /* (pollers look again) */
    spin_unlock_irqrestore(&sched_lock, fl);
    iput(ino);                                  /* the file holds the pipe, not the inode */
    return f;
}

static void pipe_inode_release(struct inode *ino)
{
    struct pipe *p = ino->priv;
    if (p->readers == 0 && p->writers == 0) {
        kfree(p->buf);
        kfree(p);
    }
}

/* (The VFS asks for a write op before it opens for writing.) */
static long pipe_inode_write(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
    (void)ino, (void)off, (void)buf, (void)n;
    return -EINVAL;
}

static const struct inode_ops pipe_inode_ops = {
    .open = pipe_inode_open, .release = pipe_inode_release, .write = pipe_inode_write,
};
static const struct file_ops both_ends = {     /* a FIFO opened O_RDWR */
    .read = pipe_read, .write = pipe_write, .stat = pipe_stat, .release = release_both,
    .poll = poll_both, .dname = pipe_dname, .inode_of = pipe_inode_of,
};

long sys_pipe2(int *ufds, int flags)
{
    if (flags & ~(O_NONBLOCK | O_CLOEXEC))
        return -EINVAL;
    struct pipe *p = kzalloc(sizeof(*p));
    uint8_t *buf = kmalloc(PIPE_CAP);
    struct file *r = NULL, *w = NULL;
    if (!p || !buf || !(r = file_alloc(&read_end, p)) || !(w = file_alloc(&write_end, p))) {
        kfree(p), kfree(buf), kfree(r), kfree(w);
        return -ENOMEM;
    }
    p->buf = buf;
    p->readers = p->writers = 1;
    p->inode = (struct inode){ .sb = &pipefs, .ino = (uint64_t)(uintptr_t)p, .mode = S_IFIFO | 0600,
                               .uid = current()->euid, .gid = current()->egid, .nlink = 1,
                               .ops = &pipe_inode_ops, .priv = p };
    r->flags = flags & O_NONBLOCK;
    w->flags = (flags & O_NONBLOCK) | 1;        /* O_WRONLY */
    int fds[2] = { fd_install(r, 0, flags & O_CLOEXEC), -1 };
    if (fds[0] >= 0)
        fds[1] = fd_install(w, 0, flags & O_CLOEXEC);
    if (fds[1] < 0) {
        if (fds[0] >= 0)
            current()->fdt->fd[fds[0]] = NULL;
        file_close(r);
        file_close(w);
        return -EMFILE;
    }
    if (copy_to_user(ufds, fds, sizeof(fds))) {
        current()->fdt->fd[fds[0]] = current()->fdt->fd[fds[1]] = NULL;
        file_close(r);
        file_close(w);
        return -EFAULT;
    }
    return 0;
}

long sys_pipe(int *ufds) { return sys_pipe2(ufds, 0); }

/* ---- named pipes (FIFOs, made by mknod/mkfifo) ----
 * A FIFO node has one pipe while anyone has it open, found by its inode.
 * Opening for reading waits until a writer comes (and for writing until a
 * reader), as POSIX says, unless O_NONBLOCK: then a reader opens at once
 * and a writer with no reader gets ENXIO. O_RDWR is both ends, never
 * waiting. When the last end closes the pipe and its data go. */

static struct pipe *fifos;              /* [klock] the FIFOs open now */

static void fifo_forget(struct pipe *p)
{
    for (struct pipe **pp = &fifos; *pp; pp = &(*pp)->fifo_next)
        if (*pp == p) {
            *pp = p->fifo_next;
            break;
        }
    iput(p->fifo);
}

struct file *fifo_open(struct inode *ino, int flags, int *err)
{
    struct pipe *p = fifos;
    while (p && p->fifo != ino)
        p = p->fifo_next;
    int acc = flags & O_ACCMODE;
    if (acc == O_WRONLY && (flags & O_NONBLOCK) && (!p || !p->readers)) {
        *err = -ENXIO;                          /* nobody could read it */
        return NULL;
    }
    bool fresh = !p;
    uint8_t *buf = NULL;
    if (fresh && (!(p = kzalloc(sizeof(*p))) || !(buf = kmalloc(PIPE_CAP)))) {
        kfree(p);
        *err = -ENOMEM;
        return NULL;
    }
    const struct file_ops *ops = acc == O_RDONLY ? &read_end : acc == O_WRONLY ? &write_end : &both_ends;
    struct file *f = file_alloc(ops, p);
    if (!f) {
        if (fresh)
            kfree(buf), kfree(p);
        *err = -ENOMEM;
        return NULL;
    }
    if (fresh) {
        p->buf = buf;
        p->fifo = ino;                          /* the caller's reference, from now on */
        p->fifo_next = fifos;
        fifos = p;
    } else {
        iput(ino);                              /* the pipe holds one already */
    }
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    if (acc != O_WRONLY) {
        p->readers++;
        p->r_opens++;
    }
    if (acc != O_RDONLY) {
        p->writers++;
        p->w_opens++;
    }
    wakeup_locked(&p->r_opens);
    wakeup_locked(&p->w_opens);
    /* Wait for the other side, unless non-blocking or both ends. */
    long r = 0;
    if (acc == O_RDONLY && !(flags & O_NONBLOCK)) {
        uint64_t seen = p->w_opens;
        while (!p->writers && p->w_opens == seen && !(r = proc_signal_pending() ? -EINTR : 0))
            sleep_locked(&p->w_opens);
    } else if (acc == O_WRONLY) {
        uint64_t seen = p->r_opens;
        while (!p->readers && p->r_opens == seen && !(r = proc_signal_pending() ? -EINTR : 0))
            sleep_locked(&p->r_opens);
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r) {
        iget(ino);                              /* the caller's again (it puts it on failure) */
        file_close(f);                          /* the counts go back down */
        *err = (int)r;
        return NULL;
    }
    f->flags = flags;
    return f;
}
