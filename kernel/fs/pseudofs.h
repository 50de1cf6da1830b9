/* fs/pseudofs.h - the machinery procfs.c and sysfs.c share: file systems
 * whose files are generated when read, described by tables.
 *
 * A directory is a table of entries (struct pent), each a file with a
 * generator (and perhaps a writer), a symlink with a reader, or a directory
 * with its own table or a kind whose entries are computed (the processes in
 * /proc, a process's open files). An inode is made at each lookup and holds
 * only the entry and the numbers naming it (pid, tid, fd), never a pointer
 * to a process: every read looks the process up again, so a process that
 * has exited reads as ESRCH (or ENOENT), never as freed memory.
 *
 * A file's text is generated into a buffer of the open file (struct file,
 * not the inode) at the first read and again at every read from offset 0,
 * as Linux's seq_file does: a reader gets one consistent snapshot however
 * small its reads, and top-style programs that lseek to 0 and read again
 * see fresh numbers. /proc/meminfo alone is made at open (PE_AT_OPEN): the
 * leak tests measure the kernel as it was when they opened it, before the
 * C library allocated and touched its FILE buffer. */
#pragma once
#include "../lib/types.h"

struct super;

/* A growing text buffer (kmalloc'd); oom set if it could not grow. */
struct sbuf {
    char *buf;
    size_t len, cap;
    bool oom;
};
void sb_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_write(struct sbuf *s, const void *data, size_t n);
void sb_octal(struct sbuf *s, uint64_t v, int width);      /* zero-padded */

/* What an entry is about: the process and thread (0 for global files), the
 * descriptor (fd/ and fdinfo/), whether it is seen as a thread (task/TID). */
struct pctx {
    int tgid, tid, fd;
    bool thread;
};

/* Directory kinds: a table of entries, or computed entries. */
enum pdir { PD_TABLE, PD_PROCS, PD_TASKS, PD_FDS, PD_FDINFOS };

#define PE_PTRACE   1       /* only the process's own user or root (environ...) */
#define PE_PROCESS  2       /* in /proc/PID only, not in task/TID */
#define PE_CPU      4       /* there only while CPU number arg runs (/sys/.../cpuN) */
#define PE_AT_OPEN  8       /* the text is made at open, not at the first read */
#define PE_MOUNTS   16      /* the mount table: POLLPRI|POLLERR once it changed (proc(5)) */

struct pent {
    const char *name;
    uint32_t mode;                              /* S_IFREG | 0444 ... */
    /* Files: the text (0 or -errno); writes (bytes taken or -errno). */
    int  (*gen)(struct sbuf *s, const struct pctx *c);
    long (*write)(const struct pctx *c, const char *buf, size_t n);
    /* ... or, for a file that is not text (/proc/PID/mem), the bytes at
     * off read into or written from the user's buffer: done or -errno. */
    long (*rw)(const struct pctx *c, uint64_t off, void *ubuf, size_t n, bool write);
    /* Symlinks: the target into buf (length, or -errno); and, for a magic
     * link, the inode it leads to (a reference; NULL: follow the text). */
    long (*link)(const struct pctx *c, char *buf, size_t n);
    struct inode *(*follow)(const struct pctx *c);
    /* Directories. */
    enum pdir kind;
    const struct pent *sub;                     /* PD_TABLE: entries, up to a NULL name */
    const struct pent *child;                   /* computed kinds: what each entry is */
    int flags;
    int arg;
};

/* A sysctl's number as written (decimal, blanks and a newline around it):
 * 0, or -EINVAL (fs/pipe.c). */
long sysctl_parse_ulong(const char *buf, size_t n, unsigned long *out);
/* /proc/sys/fs/nr_open (proc/fdtable.c). */
int  fdtable_gen_nr_open(struct sbuf *s, const struct pctx *c);
long fdtable_write_nr_open(const struct pctx *c, const char *buf, size_t n);
/* /proc/sys/fs/pipe-* (fs/pipe.c). */
int  pipe_gen_max_size(struct sbuf *s, const struct pctx *c);
long pipe_write_max_size(const struct pctx *c, const char *buf, size_t n);
int  pipe_gen_pages_hard(struct sbuf *s, const struct pctx *c);
long pipe_write_pages_hard(const struct pctx *c, const char *buf, size_t n);
int  pipe_gen_pages_soft(struct sbuf *s, const struct pctx *c);
long pipe_write_pages_soft(const struct pctx *c, const char *buf, size_t n);

/* /proc/sys/fs/inotify/max_* (fs/inotify.c). */
int  inotify_gen_queued(struct sbuf *s, const struct pctx *c);
long inotify_write_queued(const struct pctx *c, const char *buf, size_t n);
int  inotify_gen_instances(struct sbuf *s, const struct pctx *c);
long inotify_write_instances(const struct pctx *c, const char *buf, size_t n);
int  inotify_gen_watches(struct sbuf *s, const struct pctx *c);
long inotify_write_watches(const struct pctx *c, const char *buf, size_t n);
/* The lines /proc/PID/fdinfo/N adds for an inotify instance (else none). */
struct file;
void inotify_fdinfo(struct file *f, struct sbuf *s);

/* pidfd_send_signal's other handle: is ino an open /proc/PID (a process's
 * own directory)? Its pid and *serial (struct proc's), else 0. */
struct inode;
int pseudofs_proc_dir(struct inode *ino, uint64_t *serial);

/* /proc/sys/fs/lease-break-time (fs/lock.c). */
int  lease_gen_break_time(struct sbuf *s, const struct pctx *c);
long lease_write_break_time(const struct pctx *c, const char *buf, size_t n);

/* A new pseudo file system whose root directory is root (PD_PROCS: its
 * table and a directory per process, as /proc). */
struct super *pseudofs_new(const char *type, uint64_t dev, const struct pent *root);
