/* fs/pipe.c - pipes: a ring buffer with a reading end and a writing end.
 *
 * Readers sleep while it is empty and there are writers; writers sleep
 * while it is full and there are readers. With no writers left a read
 * returns 0 (end of file); with no readers left a write raises SIGPIPE and
 * fails with EPIPE. Writes of up to PIPE_BUF bytes are atomic: they wait
 * for room for all of it, so they never interleave with another writer's.
 *
 * Capacity (pipe(7), fcntl(2) F_GETPIPE_SZ/F_SETPIPE_SZ). The ring is an
 * array of pages, a power of two of them (16 by default, 64 KiB), each
 * frame allocated at the first write so that an idle pipe costs no data
 * page. F_SETPIPE_SZ rounds the size up to a power-of-two number of pages
 * and refuses to shrink below the bytes stored (EBUSY). Linux's rules for
 * users who are not root: the size may not exceed /proc/sys/fs/pipe-max-size
 * (EPERM), which also caps a new pipe's size; each user's pipes are counted
 * in pages, and past /proc/sys/fs/pipe-user-pages-soft a new pipe gets two
 * pages and no pipe may grow, past pipe-user-pages-hard (0: no limit) no
 * new pipe is made (ENFILE). Root is never limited.
 *
 * Packets (pipe2(2) O_DIRECT). A write through an end opened O_DIRECT puts
 * its bytes in packets of at most PIPE_BUF, each remembered as a mark (at
 * most one per page of capacity, as Linux spends a page per packet); a
 * read returns at most one packet and drops what of it did not fit.
 *
 * splice(2), tee(2), vmsplice(2) live here too (below): they move bytes
 * between a pipe and a file, two pipes, or a pipe and user memory, by copy.
 *
 * poll (fs/poll.h): the read end is readable iff there are bytes or no
 * writer is left (POLLHUP then), the write end writable iff a PIPE_BUF
 * write would not wait (POLLERR once no reader is left). Every change of
 * rpos, wpos, readers or writers notifies the pipe's waitq after it,
 * under sched_lock, which is also what the poll op reads under. The page
 * array and marks change under the kernel lock, and the bytes move under
 * sched_lock too (a page copy never sleeps). */
#include "file.h"
#include "poll.h"
#include "vfs.h"
#include "pseudofs.h"
#include "../proc/proc.h"
#include "../mm/mm.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

#define PIPE_BUF  4096
#define CHUNK     4096
#define PIPE_DEF_PAGES      16      /* a new pipe: 64 KiB */
#define PIPE_MIN_DEF_PAGES  2       /* a new pipe of a user past the soft limit */

/* /proc/sys/fs: pipe-max-size (bytes), pipe-user-pages-hard and -soft. [klock] */
static unsigned pipe_max_size = 1048576;
static unsigned long pipe_user_pages_hard = 0, pipe_user_pages_soft = 16384;

/* Pages of pipe capacity each user holds now (only users with pipes). */
struct pipe_user {
    struct pipe_user *next;
    uint32_t uid;
    unsigned long pages;
};
static struct pipe_user *pipe_users;    /* [klock] */

struct pkt_mark {
    uint64_t start, end;            /* a packet's bytes: start .. end-1 */
};

struct pipe {
    uint8_t **pages;                /* [klock] npages frames, or NULL until the first write */
    unsigned npages;                /* [klock] the capacity in pages, a power of two */
    uint64_t rpos, wpos;            /* bytes ever read / written: count = wpos - rpos */
    struct pkt_mark *marks;         /* [klock] npages packets at most, a ring */
    uint64_t mhead, mtail;          /* [sched_lock] marks ever made / ever read */
    uint32_t uid;                   /* [const] the user whose pages these are */
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

static inline size_t pipe_cap(const struct pipe *p) { return (size_t)p->npages * PAGE_SIZE; }
static inline size_t pipe_used(const struct pipe *p) { return (size_t)(p->wpos - p->rpos); }

/* ---- capacity, accounting ---- */

static struct pipe_user *pipe_user_of(uint32_t uid, bool make)
{
    for (struct pipe_user *u = pipe_users; u; u = u->next)
        if (u->uid == uid)
            return u;
    struct pipe_user *u = make ? kzalloc(sizeof(*u)) : NULL;
    if (u) {
        u->uid = uid;
        u->next = pipe_users;
        pipe_users = u;
    }
    return u;
}

/* The user's count changes by delta pages (a user at zero is forgotten). */
static void pipe_account(uint32_t uid, long delta)
{
    struct pipe_user *u = pipe_user_of(uid, true);
    if (!u)
        return;                                 /* (out of memory: counted as nothing) */
    u->pages = (unsigned long)((long)u->pages + delta);
    if (u->pages == 0) {
        for (struct pipe_user **pp = &pipe_users; *pp; pp = &(*pp)->next)
            if (*pp == u) {
                *pp = u->next;
                break;
            }
        kfree(u);
    }
}

static unsigned long pipe_user_pages(uint32_t uid)
{
    struct pipe_user *u = pipe_user_of(uid, false);
    return u ? u->pages : 0;
}

/* Linux's tests: a user's count (the new pages included) above a limit. */
static bool too_many_soft(unsigned long pages) { return pipe_user_pages_soft && pages > pipe_user_pages_soft; }
static bool too_many_hard(unsigned long pages) { return pipe_user_pages_hard && pages > pipe_user_pages_hard; }
/* Root stands for CAP_SYS_RESOURCE (Vigil has no capabilities). */
static bool pipe_privileged(void) { return current()->euid == 0; }

/* Linux's rounding of a pipe size: up to a page, then a power of two;
 * 0 for a size past 2^31 (no such pipe). */
static unsigned round_pipe_size(uint64_t size)
{
    if (size > (1ul << 31))
        return 0;
    if (size < PAGE_SIZE)
        return PAGE_SIZE;
    uint64_t r = PAGE_SIZE;
    while (r < size)
        r <<= 1;
    return (unsigned)r;
}

/* A new pipe's page count for user uid, counted; 0: the hard limit says no. */
static unsigned pipe_new_pages(uint32_t uid)
{
    unsigned n = PIPE_DEF_PAGES;
    bool priv = pipe_privileged();
    if (!priv && pipe_max_size < n * PAGE_SIZE)
        n = MAX(pipe_max_size / PAGE_SIZE, 1u);
    unsigned long have = pipe_user_pages(uid);
    if (!priv && too_many_soft(have + n))
        n = PIPE_MIN_DEF_PAGES;
    if (!priv && too_many_hard(have + n))
        return 0;
    pipe_account(uid, n);
    return n;
}

static void free_frames(uint8_t **pages, unsigned n)
{
    if (!pages)
        return;
    for (unsigned i = 0; i < n; i++)
        if (pages[i])
            pmm_free(V2P(pages[i]));
    kfree(pages);
}

/* n frames for a ring (all or none: -ENOMEM). */
static uint8_t **alloc_frames(unsigned n)
{
    uint8_t **pages = kzalloc(n * sizeof(*pages));
    if (!pages)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        uint64_t pa = pmm_alloc();
        if (!pa) {
            free_frames(pages, n);
            return NULL;
        }
        pages[i] = P2V(pa);
    }
    return pages;
}

/* The data frames, allocated before the first byte goes in ([klock]). */
static long pipe_fill(struct pipe *p)
{
    if (p->pages)
        return 0;
    p->pages = alloc_frames(p->npages);
    return p->pages ? 0 : -ENOMEM;
}

static struct pipe *pipe_alloc(void)
{
    struct pipe *p = kzalloc(sizeof(*p));
    if (!p)
        return NULL;
    p->uid = current()->uid;                    /* Linux charges the real user */
    p->npages = pipe_new_pages(p->uid);
    if (p->npages && !(p->marks = kzalloc(p->npages * sizeof(*p->marks)))) {
        pipe_account(p->uid, -(long)p->npages);
        p->npages = 0;
    }
    if (!p->npages) {
        kfree(p);
        return NULL;
    }
    return p;
}

static void pipe_free(struct pipe *p)
{
    pipe_account(p->uid, -(long)p->npages);
    free_frames(p->pages, p->npages);
    kfree(p->marks);
    kfree(p);
}

/* ---- the ring ---- */

/* Copy k bytes at ring position pos out of / into the pages (pieces never
 * cross a page). Frames exist: the caller saw bytes, or filled the pipe. */
static void ring_copy_out_at(struct pipe *p, uint64_t pos, uint8_t *dst, size_t k)
{
    size_t cap = pipe_cap(p);
    while (k) {
        size_t at = pos % cap, piece = MIN(k, PAGE_SIZE - at % PAGE_SIZE);
        memcpy(dst, p->pages[at / PAGE_SIZE] + at % PAGE_SIZE, piece);
        dst += piece, pos += piece, k -= piece;
    }
}

static void ring_copy_in(struct pipe *p, const uint8_t *src, size_t k)
{
    size_t cap = pipe_cap(p);
    uint64_t pos = p->wpos;
    while (k) {
        size_t at = pos % cap, piece = MIN(k, PAGE_SIZE - at % PAGE_SIZE);
        memcpy(p->pages[at / PAGE_SIZE] + at % PAGE_SIZE, src, piece);
        src += piece, pos += piece, k -= piece;
    }
}

/* The bytes the next read may take without crossing a packet's edge, and
 * whether they are a packet (then a read takes at most one, the rest of it
 * dropped). With sched_lock held. */
static size_t readable_run_locked(struct pipe *p, bool *packet)
{
    *packet = false;
    size_t run = pipe_used(p);
    if (p->mtail != p->mhead) {
        struct pkt_mark *m = &p->marks[p->mtail % p->npages];
        if (m->start == p->rpos) {
            *packet = true;
            return (size_t)(m->end - m->start);
        }
        run = MIN(run, (size_t)(m->start - p->rpos));
    }
    return run;
}

/* Take up to n bytes (at most one packet, at most CHUNK) into dst: how many
 * landed in dst. With sched_lock held; the bytes exist. */
static size_t ring_take_locked(struct pipe *p, uint8_t *dst, size_t n, bool *packet)
{
    size_t run = readable_run_locked(p, packet);
    size_t k = MIN(MIN(n, run), (size_t)CHUNK);
    ring_copy_out_at(p, p->rpos, dst, k);
    if (*packet) {
        p->rpos += run;                         /* the rest of the packet goes too */
        p->mtail++;
    } else {
        p->rpos += k;
    }
    return k;
}

/* Put k bytes in (room checked), as one packet if packet. sched_lock held. */
static void ring_put_locked(struct pipe *p, const uint8_t *src, size_t k, bool packet)
{
    ring_copy_in(p, src, k);
    if (packet) {
        p->marks[p->mhead % p->npages] = (struct pkt_mark){ p->wpos, p->wpos + k };
        p->mhead++;
    }
    p->wpos += k;
    wakeup_locked(&p->rpos);
    waitq_notify_locked(&p->wq, POLLIN | POLLRDNORM);
}

static void after_take_locked(struct pipe *p)
{
    wakeup_locked(&p->wpos);
    waitq_notify_locked(&p->wq, POLLOUT | POLLWRNORM);
}

static bool marks_full(const struct pipe *p) { return p->mhead - p->mtail >= p->npages; }

/* Wait (sched_lock held, may sleep) until the pipe has bytes: 0, or 1 at
 * end of file (no writer), -EAGAIN (nonblock), -EINTR. */
static long wait_readable_locked(struct pipe *p, struct file *f, bool nonblock)
{
    while (p->wpos == p->rpos) {
        if (p->writers == 0)
            return 1;
        if (nonblock)
            return -EAGAIN;
        if (proc_signal_pending())
            return -EINTR;
        sleep_locked(&p->rpos);
        file_check(f, "pipe wait");             /* held by fd_get across the sleep */
    }
    return 0;
}

/* Wait (sched_lock held, may sleep) until need bytes (and a mark, for a
 * packet) fit: 0, -EPIPE (no reader), -EAGAIN, -EINTR. */
static long wait_room_locked(struct pipe *p, struct file *f, size_t need, bool packet, bool nonblock)
{
    for (;;) {
        if (p->readers == 0)
            return -EPIPE;
        if (pipe_cap(p) - pipe_used(p) >= need && !(packet && marks_full(p)))
            return 0;
        if (nonblock)
            return -EAGAIN;
        if (proc_signal_pending())
            return -EINTR;
        sleep_locked(&p->wpos);
        file_check(f, "pipe wait");
    }
}

static long pipe_read(struct file *f, void *ubuf, size_t n)
{
    struct pipe *p = f->priv;
    uint8_t *tmp = proc_scratch_page();   /* CHUNK bytes, this thread's own */
    if (!tmp)
        return -ENOMEM;
    long total = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    long r = wait_readable_locked(p, f, f->flags & O_NONBLOCK);
    if (r) {
        spin_unlock_irqrestore(&sched_lock, fl);
        return r == 1 ? 0 : r;
    }
    while ((size_t)total < n && p->wpos != p->rpos) {
        bool packet;
        size_t k = ring_take_locked(p, tmp, n - (size_t)total, &packet);
        spin_unlock_irqrestore(&sched_lock, fl);
        if (copy_to_user((uint8_t *)ubuf + total, tmp, k)) {
            total = total ? total : -EFAULT;
            fl = spin_lock_irqsave(&sched_lock);
            break;
        }
        total += (long)k;
        fl = spin_lock_irqsave(&sched_lock);
        if (packet)
            break;                              /* one packet a read */
    }
    after_take_locked(p);
    spin_unlock_irqrestore(&sched_lock, fl);
    if (total > 0)
        file_async_notify(p, false, POLL_OUT);
    return total;
}

static long pipe_write(struct file *f, const void *ubuf, size_t n)
{
    struct pipe *p = f->priv;
    uint8_t *tmp = proc_scratch_page();   /* CHUNK bytes, this thread's own */
    if (!tmp)
        return -ENOMEM;
    long err = pipe_fill(p);
    if (err)
        return err;
    bool packets = f->flags & O_DIRECT;
    long total = 0;
    while ((size_t)total < n && !err) {
        size_t chunk = MIN(n - (size_t)total, (size_t)CHUNK);
        if (copy_from_user(tmp, (const uint8_t *)ubuf + total, chunk)) {
            err = -EFAULT;
            break;
        }
        size_t done = 0;
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        while (done < chunk) {
            /* atomic small writes; a packet goes whole */
            size_t need = packets || n <= PIPE_BUF ? chunk - done : 1;
            if ((err = wait_room_locked(p, f, need, packets, f->flags & O_NONBLOCK)))
                break;
            size_t k = MIN(pipe_cap(p) - pipe_used(p), chunk - done);
            ring_put_locked(p, tmp + done, k, packets);
            done += k;
        }
        spin_unlock_irqrestore(&sched_lock, fl);
        total += (long)done;
    }
    if (err == -EPIPE)
        proc_kill(current()->pid, SIGPIPE);
    if (total)
        file_async_notify(p, true, POLL_IN);
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
        pipe_free(p);
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
        if (pipe_cap(p) - pipe_used(p) >= PIPE_BUF && !marks_full(p))
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
    if (p->fifo)
        return iget(p->fifo);
    /* The pipe's own inode is held by nobody until someone opens it this
     * way: its first reference, not one taken from a released inode
     * (the open ends keep the pipe; pipe_release frees it only with no
     * reference left). */
    if (p->inode.refs == 0) {
        p->inode.refs = 1;
        return &p->inode;
    }
    return iget(&p->inode);
}

static long pipe_ioctl(struct file *f, unsigned long cmd, unsigned long arg);

static const struct file_ops read_end = {
    .ioctl = pipe_ioctl, .read = pipe_read, .stat = pipe_stat, .release = release_reader, .poll = poll_reader,
    .dname = pipe_dname, .inode_of = pipe_inode_of,
};
static const struct file_ops write_end = {
    .ioctl = pipe_ioctl, .write = pipe_write, .stat = pipe_stat, .release = release_writer, .poll = poll_writer,
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
    if (p->readers == 0 && p->writers == 0)
        pipe_free(p);
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
    .ioctl = pipe_ioctl, .read = pipe_read, .write = pipe_write, .stat = pipe_stat, .release = release_both,
    .poll = poll_both, .dname = pipe_dname, .inode_of = pipe_inode_of,
};

long sys_pipe2(int *ufds, int flags)
{
    if (flags & ~(O_NONBLOCK | O_CLOEXEC | O_DIRECT))
        return -EINVAL;
    struct pipe *p = pipe_alloc();
    if (!p)
        return pipe_user_pages(current()->uid) ? -ENFILE : -ENOMEM;
    struct file *r = NULL, *w = NULL;
    if (!(r = file_alloc(&read_end, p)) || !(w = file_alloc(&write_end, p))) {
        pipe_free(p), kfree(r), kfree(w);
        return -ENOMEM;
    }
    p->readers = p->writers = 1;
    p->inode = (struct inode){ .sb = &pipefs, .ino = (uint64_t)(uintptr_t)p, .mode = S_IFIFO | 0600,
                               .uid = current()->euid, .gid = current()->egid, .nlink = 1,
                               .ops = &pipe_inode_ops, .priv = p };
    r->flags = flags & (O_NONBLOCK | O_DIRECT);
    w->flags = (flags & (O_NONBLOCK | O_DIRECT)) | O_WRONLY;
    int fds[2] = { fd_install(r, 0, flags & O_CLOEXEC), -1 };
    if (fds[0] >= 0)
        fds[1] = fd_install(w, 0, flags & O_CLOEXEC);
    if (fds[1] < 0) {
        int err = fds[0] < 0 ? fds[0] : fds[1];     /* -EMFILE, or -ENOMEM growing the table */
        if (fds[0] >= 0)
            current()->fdt->fd[fds[0]] = NULL;
        file_close(r);
        file_close(w);
        return err;
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
    if (fresh && !(p = pipe_alloc())) {
        *err = pipe_user_pages(current()->uid) ? -ENFILE : -ENOMEM;
        return NULL;
    }
    const struct file_ops *ops = acc == O_RDONLY ? &read_end : acc == O_WRONLY ? &write_end : &both_ends;
    struct file *f = file_alloc(ops, p);
    if (!f) {
        if (fresh)
            pipe_free(p);
        *err = -ENOMEM;
        return NULL;
    }
    if (fresh) {
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

/* ---- F_GETPIPE_SZ, F_SETPIPE_SZ, FIONREAD ---- */

/* The pipe behind an end (a pipe's or a FIFO's), or NULL. */
static struct pipe *pipe_of(struct file *f)
{
    if (f->ops == &read_end || f->ops == &write_end || f->ops == &both_ends)
        return f->priv;
    return NULL;
}

/* The ring becomes n pages, the bytes and packet marks kept at their
 * positions; -EBUSY if they would not fit. [klock] */
static long pipe_resize(struct pipe *p, unsigned n)
{
    if (n == p->npages)
        return 0;
    if (pipe_used(p) > (size_t)n * PAGE_SIZE || p->mhead - p->mtail > n)
        return -EBUSY;
    uint8_t **pages = NULL;
    if (p->pages && !(pages = alloc_frames(n)))
        return -ENOMEM;
    struct pkt_mark *marks = kzalloc(n * sizeof(*marks));
    if (!marks) {
        free_frames(pages, n);
        return -ENOMEM;
    }
    uint8_t **old_pages = p->pages;
    struct pkt_mark *old_marks = p->marks;
    unsigned old_n = p->npages;
    size_t oldcap = pipe_cap(p), newcap = (size_t)n * PAGE_SIZE;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    for (uint64_t pos = p->rpos; pos < p->wpos;) {
        size_t oa = pos % oldcap, na = pos % newcap;
        size_t piece = MIN(MIN(PAGE_SIZE - oa % PAGE_SIZE, PAGE_SIZE - na % PAGE_SIZE), (size_t)(p->wpos - pos));
        memcpy(pages[na / PAGE_SIZE] + na % PAGE_SIZE, old_pages[oa / PAGE_SIZE] + oa % PAGE_SIZE, piece);
        pos += piece;
    }
    for (uint64_t i = p->mtail; i < p->mhead; i++)
        marks[i % n] = old_marks[i % old_n];
    p->pages = pages;
    p->marks = marks;
    p->npages = n;
    wakeup_locked(&p->wpos);
    waitq_notify_locked(&p->wq, POLLOUT | POLLWRNORM);
    spin_unlock_irqrestore(&sched_lock, fl);
    pipe_account(p->uid, (long)n - (long)old_n);
    free_frames(old_pages, old_n);
    kfree(old_marks);
    return 0;
}

long pipe_fcntl(struct file *f, int cmd, unsigned long arg)
{
    struct pipe *p = pipe_of(f);
    if (!p)
        return -EBADF;
    if (cmd == F_GETPIPE_SZ)
        return (long)pipe_cap(p);
    unsigned size = round_pipe_size((uint32_t)arg);    /* Linux takes an unsigned int */
    if (!size)
        return -EINVAL;
    unsigned n = size / PAGE_SIZE;
    if (n > pmm_total_frames() / 4)
        return -ENOMEM;                         /* (root's too: a pipe is not most of memory) */
    if (n > p->npages && !pipe_privileged()) {
        if (size > pipe_max_size)
            return -EPERM;
        unsigned long after = pipe_user_pages(p->uid) - p->npages + n;
        if (too_many_hard(after) || too_many_soft(after))
            return -EPERM;
    }
    long r = pipe_resize(p, n);
    return r ? r : (long)pipe_cap(p);
}

static long pipe_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    struct pipe *p = f->priv;
    if (cmd != FIONREAD)
        return -ENOTTY;
    int v = (int)pipe_used(p);
    return copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
}

/* ---- /proc/sys/fs/pipe-max-size, pipe-user-pages-hard, -soft ---- */

long sysctl_parse_ulong(const char *buf, size_t n, unsigned long *out)
{
    unsigned long v = 0;
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t first = i;
    for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (v > (~0ul - 9) / 10)
            return -EINVAL;
        v = v * 10 + (unsigned long)(buf[i] - '0');
    }
    if (i == first)
        return -EINVAL;
    while (i < n && (buf[i] == '\n' || buf[i] == ' ' || buf[i] == '\t' || buf[i] == 0))
        i++;
    if (i != n)
        return -EINVAL;
    *out = v;
    return 0;
}

int pipe_gen_max_size(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%u\n", pipe_max_size);
    return 0;
}

long pipe_write_max_size(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    unsigned long v;
    if (sysctl_parse_ulong(buf, n, &v) || v > 0xffffffffu)
        return -EINVAL;
    unsigned r = round_pipe_size(v);
    if (!r)
        return -EINVAL;
    pipe_max_size = r;
    return (long)n;
}

int pipe_gen_pages_hard(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%lu\n", pipe_user_pages_hard); return 0; }
int pipe_gen_pages_soft(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%lu\n", pipe_user_pages_soft); return 0; }

static long write_ulong(unsigned long *to, const char *buf, size_t n)
{
    unsigned long v;
    if (sysctl_parse_ulong(buf, n, &v))
        return -EINVAL;
    *to = v;
    return (long)n;
}

long pipe_write_pages_hard(const struct pctx *c, const char *buf, size_t n) { (void)c; return write_ulong(&pipe_user_pages_hard, buf, n); }
long pipe_write_pages_soft(const struct pctx *c, const char *buf, size_t n) { (void)c; return write_ulong(&pipe_user_pages_soft, buf, n); }

/* ---- splice(2), tee(2), vmsplice(2) ----
 * Linux moves page references; Vigil copies, through a kernel page that the
 * file's own read or write op is lent as its "user" buffer (kio_*: struct
 * proc's kio window), so every kind of file (a disk file, /proc, a
 * terminal) takes part as it does in read and write. Each call waits once,
 * as Linux does: for bytes in the pipe it reads from (0 at end of file, with
 * no writer left) and room in the pipe it writes to, then moves what there
 * is, up to len. SPLICE_F_NONBLOCK, or O_NONBLOCK on the pipe, makes a wait
 * EAGAIN. Linux's order of complaints: flags, the descriptors, offsets given
 * for a pipe (ESPIPE), the access modes (EBADF), then EINVAL for two ends
 * neither of which is a pipe, one pipe on both ends, an O_APPEND target or
 * an offset on a file that has none. */

#define MAX_RW_COUNT 0x7ffff000ul

static long kio_rw(struct file *f, void *kbuf, size_t n, bool write)
{
    struct proc *me = current();
    me->kio_base = (uintptr_t)kbuf;
    me->kio_len = n;
    long r = write ? f->ops->write(f, kbuf, n) : f->ops->read(f, kbuf, n);
    me->kio_base = 0;
    me->kio_len = 0;
    return r;
}

static bool can_read(struct file *f) { return f->ops->read && (f->flags & O_ACCMODE) != O_WRONLY; }

/* The files Linux 6.1 splices to and from a pipe (those with splice_read
 * and splice_write): regular files, /proc and /sys files, and the memory
 * devices (/dev/null, zero, full, random, urandom). Terminals, eventfd,
 * timerfd, inotify and the like have neither: EINVAL. */
static bool splices(struct file *f)
{
    struct inode *ino = f->inode;
    if (!ino)
        return false;
    if (S_ISREG(ino->mode))
        return true;
    if (S_ISCHR(ino->mode))
        return (ino->rdev >> 8) == 1;
    return !S_ISDIR(ino->mode) && ino->sb && (!strcmp(ino->sb->type, "proc") || !strcmp(ino->sb->type, "sysfs"));
}
static bool can_write(struct file *f) { return f->ops->write && (f->flags & O_ACCMODE) != O_RDONLY; }

static void *page_get(void)
{
    uint64_t pa = pmm_alloc();
    return pa ? P2V(pa) : NULL;
}

static void page_put(void *kbuf) { pmm_free(V2P(kbuf)); }

/* A file's bytes into pipe op (its end out): from *pos if pos, else the
 * file's own offset. */
static long file_to_pipe(struct file *in, int64_t *pos, struct pipe *op, struct file *out, size_t len, bool nb)
{
    long r = pipe_fill(op);
    uint8_t *kbuf = r ? NULL : page_get();
    if (!kbuf)
        return r ? r : -ENOMEM;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    r = wait_room_locked(op, out, 1, false, nb);
    size_t room = pipe_cap(op) - pipe_used(op);
    spin_unlock_irqrestore(&sched_lock, fl);
    long total = 0;
    while (!r && (size_t)total < len && room) {
        size_t k = MIN(MIN(len - (size_t)total, room), (size_t)PAGE_SIZE);
        /* A seekable file is read through a copy at the position (its
         * offset is every sharer's: moved only by what went in). */
        struct file at = *in;
        at.off = pos ? (uint64_t)*pos : in->off;
        long got = kio_rw(in->ops->seekable ? &at : in, kbuf, k, false);
        if (got <= 0) {
            r = got;
            break;
        }
        fl = spin_lock_irqsave(&sched_lock);
        size_t put = MIN((size_t)got, pipe_cap(op) - pipe_used(op));
        if (op->readers == 0)
            r = -EPIPE;
        else
            ring_put_locked(op, kbuf, put, false);
        room = pipe_cap(op) - pipe_used(op);
        spin_unlock_irqrestore(&sched_lock, fl);
        if (r)
            break;
        if (pos)
            *pos += (int64_t)put;
        else if (in->ops->seekable)
            in->off += put;
        total += (long)put;
        if (put < k)
            break;
    }
    page_put(kbuf);
    if (r == -EPIPE && !total)
        proc_kill(current()->pid, SIGPIPE);
    return total ? total : r;
}

/* Pipe ip's bytes (its end in) into a file: at *pos if pos, else at the
 * file's own offset. */
static long pipe_to_file(struct pipe *ip, struct file *in, struct file *out, int64_t *pos, size_t len, bool nb)
{
    uint8_t *kbuf = page_get();
    if (!kbuf)
        return -ENOMEM;
    long total = 0, r = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    r = wait_readable_locked(ip, in, nb);
    while (!r && (size_t)total < len && ip->wpos != ip->rpos) {
        bool packet;
        size_t k = ring_take_locked(ip, kbuf, MIN(len - (size_t)total, (size_t)PAGE_SIZE), &packet);
        after_take_locked(ip);
        spin_unlock_irqrestore(&sched_lock, fl);
        struct file at = *out;
        at.off = pos ? (uint64_t)*pos : out->off;
        struct file *w = pos ? &at : out;
        if (out->inode && S_ISREG(out->inode->mode)) {
            uint64_t wpos = w->off;
            r = fsize_check(wpos, &k);
            if (!r)
                r = seal_check(out->inode, wpos, k, false);
        }
        long put = r ? r : kio_rw(w, kbuf, k, true);
        fl = spin_lock_irqsave(&sched_lock);
        if (put <= 0) {
            r = put;
            break;
        }
        if (pos)
            *pos += put;
        total += put;
        if ((size_t)put < k)
            break;
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    page_put(kbuf);
    if (r == 1)
        r = 0;                                  /* end of file */
    return total ? total : r;
}

/* Wait for bytes in ip and room in op at once (sched_lock held): 0, 1 at
 * ip's end of file, -errno. */
static long wait_both_locked(struct pipe *ip, struct file *in, struct pipe *op, struct file *out, bool nb)
{
    for (;;) {
        long r = wait_readable_locked(ip, in, nb);
        if (r)
            return r;
        if ((r = wait_room_locked(op, out, 1, false, nb)))
            return r;
        if (ip->wpos != ip->rpos)
            return 0;                           /* both hold, in one section */
    }
}

/* Pipe to pipe: moved (splice) or copied (tee: ip keeps its bytes). */
static long pipe_to_pipe(struct pipe *ip, struct file *in, struct pipe *op, struct file *out, size_t len,
                         bool nb, bool keep)
{
    long r = pipe_fill(op);
    uint8_t *kbuf = r ? NULL : page_get();
    if (!kbuf)
        return r ? r : -ENOMEM;
    long total = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    r = wait_both_locked(ip, in, op, out, nb);
    while (!r && (size_t)total < len) {
        size_t room = pipe_cap(op) - pipe_used(op);
        size_t avail = pipe_used(ip) - (keep ? (size_t)total : 0);
        size_t k = MIN(MIN(len - (size_t)total, room), MIN(avail, (size_t)PAGE_SIZE));
        if (!k)
            break;
        if (keep) {
            ring_copy_out_at(ip, ip->rpos + (uint64_t)total, kbuf, k);
        } else {
            bool packet;
            k = ring_take_locked(ip, kbuf, k, &packet);
        }
        ring_put_locked(op, kbuf, k, false);
        total += (long)k;
        /* A page at a time with interrupts on between: a big pipe is not
         * copied in one spinlock hold. (The kernel lock, held throughout,
         * keeps other pipe calls out; the ring moved only by us.) */
        spin_unlock_irqrestore(&sched_lock, fl);
        fl = spin_lock_irqsave(&sched_lock);
    }
    if (!keep && total)
        after_take_locked(ip);
    spin_unlock_irqrestore(&sched_lock, fl);
    page_put(kbuf);
    if (r == -EPIPE && !total)
        proc_kill(current()->pid, SIGPIPE);
    if (r == 1)
        r = 0;
    return total ? total : r;
}

long sys_splice(int fd_in, int64_t *uoff_in, int fd_out, int64_t *uoff_out, size_t len, unsigned flags)
{
    if (!len)
        return 0;
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *in = fd_get(fd_in), *out = in ? fd_get(fd_out) : NULL;
    if (!in || !out)
        return -EBADF;
    struct pipe *ip = pipe_of(in), *op = pipe_of(out);
    if ((ip && uoff_in) || (op && uoff_out))
        return -ESPIPE;
    int64_t off_in = 0, off_out = 0;
    if (uoff_in && copy_from_user(&off_in, uoff_in, sizeof(off_in)))
        return -EFAULT;
    if (uoff_out && copy_from_user(&off_out, uoff_out, sizeof(off_out)))
        return -EFAULT;
    if (!can_read(in) || !can_write(out))
        return -EBADF;
    len = MIN(len, MAX_RW_COUNT);
    bool nb = flags & SPLICE_F_NONBLOCK;
    if (ip && op) {
        if (ip == op)
            return -EINVAL;
        return pipe_to_pipe(ip, in, op, out, len, nb || ((in->flags | out->flags) & O_NONBLOCK), false);
    }
    if (ip) {
        if (!splices(out))
            return -EINVAL;
        if (uoff_out && !out->ops->seekable)
            return -EINVAL;
        if (out->flags & O_APPEND)
            return -EINVAL;
        if (uoff_out && off_out < 0)
            return -EINVAL;
        long r = pipe_to_file(ip, in, out, uoff_out ? &off_out : NULL, len, nb || (in->flags & O_NONBLOCK));
        if (r > 0 && uoff_out && copy_to_user(uoff_out, &off_out, sizeof(off_out)))
            return -EFAULT;
        return r;
    }
    if (op) {
        if (uoff_in && !in->ops->seekable)
            return -EINVAL;
        if (uoff_in && off_in < 0)
            return -EINVAL;
        if (!splices(in))
            return -EINVAL;
        long r = file_to_pipe(in, uoff_in ? &off_in : NULL, op, out, len, nb || (out->flags & O_NONBLOCK));
        if (r > 0 && uoff_in && copy_to_user(uoff_in, &off_in, sizeof(off_in)))
            return -EFAULT;
        return r;
    }
    return -EINVAL;
}

long sys_tee(int fd_in, int fd_out, size_t len, unsigned flags)
{
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    if (!len)
        return 0;
    struct file *in = fd_get(fd_in), *out = in ? fd_get(fd_out) : NULL;
    if (!in || !out)
        return -EBADF;
    if (!can_read(in) || !can_write(out))
        return -EBADF;
    struct pipe *ip = pipe_of(in), *op = pipe_of(out);
    if (!ip || !op || ip == op)
        return -EINVAL;
    bool nb = (flags & SPLICE_F_NONBLOCK) || ((in->flags | out->flags) & O_NONBLOCK);
    return pipe_to_pipe(ip, in, op, out, MIN(len, MAX_RW_COUNT), nb, true);
}

struct iovec_k {
    void *base;
    size_t len;
};

#define UIO_MAXIOV 1024

long sys_vmsplice(int fd, const void *uiov, unsigned long nr, unsigned flags)
{
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int acc = f->flags & O_ACCMODE;
    bool to_pipe = acc != O_RDONLY;             /* opened for writing: user -> pipe */
    if (!to_pipe && acc == O_WRONLY)
        return -EBADF;
    if (nr > UIO_MAXIOV)
        return -EINVAL;
    size_t total_len = 0;
    for (unsigned long i = 0; i < nr; i++) {
        struct iovec_k v;
        if (copy_from_user(&v, (const struct iovec_k *)uiov + i, sizeof(v)))
            return -EFAULT;
        if ((int64_t)v.len < 0 || total_len + v.len > MAX_RW_COUNT)
            return -EINVAL;
        if (v.len && !user_range_ok((uintptr_t)v.base, v.len))
            return -EFAULT;
        total_len += v.len;
    }
    if (!total_len)
        return 0;
    struct pipe *p = pipe_of(f);
    if (!p)
        return -EBADF;
    bool nb = (flags & SPLICE_F_NONBLOCK) || (f->flags & O_NONBLOCK);
    uint8_t *kbuf = page_get();
    if (!kbuf)
        return -ENOMEM;
    long r = to_pipe ? pipe_fill(p) : 0, total = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    if (!r)
        r = to_pipe ? wait_room_locked(p, f, 1, false, nb) : wait_readable_locked(p, f, nb);
    spin_unlock_irqrestore(&sched_lock, fl);
    for (unsigned long i = 0; !r && i < nr; i++) {
        struct iovec_k v;
        if (copy_from_user(&v, (const struct iovec_k *)uiov + i, sizeof(v))) {
            r = -EFAULT;
            break;
        }
        size_t done = 0;
        while (!r && done < v.len) {
            size_t k = MIN(v.len - done, (size_t)PAGE_SIZE);
            fl = spin_lock_irqsave(&sched_lock);
            if (to_pipe) {
                k = MIN(k, pipe_cap(p) - pipe_used(p));
                spin_unlock_irqrestore(&sched_lock, fl);
                if (!k)
                    goto out;
                if (copy_from_user(kbuf, (uint8_t *)v.base + done, k)) {
                    r = -EFAULT;
                    break;
                }
                fl = spin_lock_irqsave(&sched_lock);
                k = MIN(k, pipe_cap(p) - pipe_used(p));
                if (p->readers == 0)
                    r = -EPIPE;
                else
                    ring_put_locked(p, kbuf, k, false);
                spin_unlock_irqrestore(&sched_lock, fl);
            } else {
                bool packet = false;
                k = p->wpos != p->rpos ? ring_take_locked(p, kbuf, k, &packet) : 0;
                if (k)
                    after_take_locked(p);
                spin_unlock_irqrestore(&sched_lock, fl);
                if (!k)
                    goto out;
                if (copy_to_user((uint8_t *)v.base + done, kbuf, k)) {
                    r = -EFAULT;
                    break;
                }
            }
            if (r)
                break;
            done += k;
            total += (long)k;
        }
    }
out:
    page_put(kbuf);
    if (r == -EPIPE && !total)
        proc_kill(current()->pid, SIGPIPE);
    if (r == 1)
        r = 0;
    return total ? total : r;
}
