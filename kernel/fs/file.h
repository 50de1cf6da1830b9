/* fs/file.h - open files: what a file descriptor points at. Each kind of
 * file (console, initrd file, later pipes and disk files) supplies its ops;
 * descriptors share a struct file (and its offset) after fork and dup.
 *
 * Lifetime. A struct file lives while anything holds a reference (refs): each
 * descriptor-table slot holds one, and so does every syscall that uses the
 * file, from fd_get until the syscall returns (fd_get takes it, the syscall
 * layer drops it: Linux's fdget/fdput). So a thread sleeping in read or
 * write on a file keeps it, and what it points at (a pipe, an inode), alive
 * while a sibling closes or dup2s over its descriptor: the last close then
 * happens when the sleeper's syscall ends. A file's ops may therefore use f
 * and f->priv across a sleep without re-checking them; file_check() asserts
 * it where that is cheap (after a pipe sleep). */
#pragma once
#include "../lib/types.h"

struct file;
struct poll_table;
struct epitem;

struct kstat {                  /* Linux x86-64 struct stat */
    uint64_t dev, ino, nlink;
    uint32_t mode, uid, gid, pad0;
    uint64_t rdev;
    int64_t size, blksize, blocks;
    uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
    int64_t reserved[3];
};

struct file_ops {
    /* buf is a user pointer; return bytes done or -errno. */
    long (*read)(struct file *f, void *ubuf, size_t n);
    long (*write)(struct file *f, const void *ubuf, size_t n);
    long (*ioctl)(struct file *f, unsigned long cmd, unsigned long arg);
    int  (*stat)(struct file *f, struct kstat *st);
    long (*getdents)(struct file *f, void *ubuf, size_t n);   /* directories */
    /* The name /proc/PID/fd shows for a file opened by no path (pipe:[N],
     * anon_inode:[eventfd]...): its length, written into buf (NUL-ended). */
    int  (*dname)(struct file *f, char *buf, size_t n);
    /* ... and the inode opening /proc/PID/fd/N reaches for it (a pipe's
     * own): a new reference, or NULL (none; files with f->inode need none). */
    struct inode *(*inode_of)(struct file *f);
    void (*release)(struct file *f);
    /* poll: the file's readiness now, as Linux's poll bits (fs/poll.h:
     * POLLIN|POLLRDNORM readable without blocking, POLLOUT|POLLWRNORM
     * writable, POLLHUP the other side is gone, POLLERR, POLLRDHUP, POLLPRI),
     * and, when pt is not NULL, the caller registered for a wake-up.
     * The contract (fs/poll.h tells why it loses no wake-up on SMP):
     *  - call poll_wait(pt, &obj->wq) (or poll_wait_locked under sched_lock)
     *    for each wait queue (at most POLL_MAX_WAITQS) BEFORE reading the
     *    state the answer depends on, or in the same sched_lock section;
     *  - wherever that state changes (data in, data out, an end closed, a
     *    size change), call waitq_notify(&obj->wq, bits that may have become
     *    true) AFTER the change (waitq_notify_locked under sched_lock; it is
     *    safe in an interrupt handler);
     *  - it is called with the kernel lock held and must not sleep; report
     *    every bit that holds (poll, select and epoll mask them);
     *  - the waitq lives in the object (pipe, tty, pty pair...) and must
     *    have no entries when the object is freed: poll holds a reference to
     *    each file while registered, and epoll drops its items when their
     *    file's last reference goes, so freeing the object in release (after
     *    the last file) is enough.
     * NULL: always ready (DEFAULT_POLLMASK) for poll and select, and epoll_ctl
     * says EPERM, as Linux does for regular files, directories and
     * /dev/null, /dev/zero, /dev/full. */
    uint32_t (*poll)(struct file *f, struct poll_table *pt);
    bool seekable;
};

struct inode;

#define FILE_MAGIC 0x46494c45u        /* "FILE"; freed files are poisoned */

struct file {
    uint32_t magic;             /* FILE_MAGIC while it lives */
    const struct file_ops *ops;
    struct inode *inode;        /* for files of a file system; NULL otherwise */
    int refs;                   /* [file_lock] slots + syscalls using it */
    int flags;                  /* O_* flags it was opened with */
    uint64_t off;
    uint64_t size;
    void *priv;
    struct epitem *epitems;     /* [klock] epoll items watching this file (fs/epoll.c) */
    /* [const] the absolute path it was opened by (vfs_abspath; kmalloc'd,
     * freed with the file), NULL for files opened by no path. What
     * /proc/PID/fd/N and maps show. */
    char *path;
    bool flocked;               /* [klock] holds a flock lock (lock.c): the last close drops it */
    bool write_access;          /* [const] holds its inode's write access (vfs_get_write_access) */
    /* [klock] fcntl F_SETOWN(_EX), F_SETSIG: whom O_ASYNC I/O and dnotify
     * events signal (owner 0: nobody), as a thread, a process or a process
     * group (owner_type: F_OWNER_*), with which signal (0: SIGIO), and the
     * descriptor O_ASYNC was set through (the signal's si_fd). */
    int owner, owner_type, sig, async_fd;
};

struct file *file_alloc(const struct file_ops *ops, void *priv);
struct file *file_dup(struct file *f);
void         file_close(struct file *f);     /* drop one reference */
/* Panics if f was freed (a reference was dropped too early): a use-after-free
 * caught at the first use instead of a wild write later. */
void         file_check(struct file *f, const char *where);
/* stat of a file with no inode of its own (epoll, eventfd, signalfd,
 * timerfd): mode 0600 and no type bits, as Linux's anonymous inode; the
 * inode number names the object. For file_ops.stat. */
int          file_anon_stat(struct file *f, struct kstat *st);

/* fcntl's F_GETOWN/F_SETOWN(_EX)/F_GETSIG/F_SETSIG (file.c); and the
 * signal to f's owner (code POLL_IN, POLL_OUT, POLL_MSG; fd: its si_fd). */
long         file_fown_fcntl(struct file *f, int cmd, unsigned long arg);
void         file_sigio(struct file *f, int fd, int code);
/* O_ASYNC turned on or off through descriptor fd (fcntl F_SETFL), and
 * the open file's last close (file.c keeps the list of async files). */
void         file_set_async(struct file *f, int fd, bool on);
/* Each async file whose priv is obj, and which reads (or writes), hears
 * code (fs/pipe.c: data came in, room appeared). */
void         file_async_notify(const void *obj, bool readers, int code);

/* Advisory locks (lock.c): flock's go with the open file's last close,
 * POSIX ones with any close of the file by the process, or its exit. */
void         flock_release(struct file *f);
void         posix_locks_close(struct file *f);
void         posix_locks_exit(int tgid);
void         ofd_locks_release(struct file *f);      /* the open file's last close */
/* Leases (lock.c): fcntl F_SETLEASE/F_GETLEASE through descriptor fd; the
 * break an open (its flags) or a truncate (O_WRONLY) of ino must wait for
 * (0, -EWOULDBLOCK, -EINTR); the open file's last close. */
long         lease_fcntl(struct file *f, int fd, int cmd, unsigned long arg);
long         lease_break(struct inode *ino, int flags);
void         lease_release(struct file *f);
long         posix_lock_fcntl(struct file *f, int cmd, void *uflock);

/* inotify (inotify.c): the VFS's events. Each is a no-op while nothing is
 * watched. fsnotify_child: an event on ino (may be NULL) and, when dir is
 * given, on dir's entry name; fsnotify_file: on an open file (and the entry
 * it was opened by); fsnotify_inode_gone: the last reference to an unlinked
 * inode went (IN_DELETE_SELF). */
bool         inotify_active(void);
void         fsnotify_child(struct inode *dir, const char *name, size_t len, struct inode *ino,
                            uint32_t mask, uint32_t cookie);
void         fsnotify_file(struct file *f, uint32_t mask);
void         fsnotify_inode_gone(struct inode *ino);
uint32_t     fsnotify_cookie(void);
struct super;
void         fsnotify_sb_gone(const struct super *sb);      /* umount: IN_UNMOUNT */
void         fsnotify_rename(struct inode *od, const char *on, size_t ol, struct inode *nd, const char *nn,
                             size_t nl, struct inode *moved);
/* fcntl F_NOTIFY (dnotify): watch directory f's entries (DN_* in arg, 0:
 * stop), signalling its owner with si_fd fd; the file's last close ends it. */
long         dnotify_fcntl(struct file *f, int fd, unsigned long arg);
void         dnotify_file_gone(struct file *f);

/* Terminals (tty.c): one line discipline for the serial console (console.c
 * feeds it the UART's bytes) and the pseudo-terminals. */
struct tty;
struct proc;
struct inode;
extern struct tty *const console_tty;
struct file *console_open(void);                 /* the first process's fds 0-2 */
void         console_init(void);
void         tty_init(void);
/* A byte arrived from the device (typed); with sched_lock held. */
void         tty_input_locked(struct tty *t, int c);
/* The terminal device ino (major:minor) opened with flags: /dev/tty,
 * /dev/console, /dev/ttyS0, /dev/ptmx, /dev/pts/N; NULL and *err if not. */
struct file *tty_dev_open(struct inode *ino, unsigned major, unsigned minor, int flags, int *err);
void         tty_set_pts_dir(struct inode *dir);  /* devpts' root, where /dev/pts/N appear */
/* /proc/PID/stat's tty_nr (its device number) and tpgid (the foreground
 * group, -1 if none) of controlling terminal t; with sched_lock held. */
void         tty_proc_info_locked(struct tty *t, uint64_t *dev, int *fg);
/* Session leader l exits: its terminal's foreground group gets SIGHUP and
 * the session loses the terminal; with sched_lock held. */
void         tty_session_leader_exit_locked(struct proc *l);
/* vhangup(2): hang up terminal t; with sched_lock held. */
void         tty_vhangup_locked(struct tty *t);

