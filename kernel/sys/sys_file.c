/* sys/sys_file.c - the file syscalls: descriptors (read, write, dup,
 * fcntl...), paths (the *at calls, relative to a directory descriptor or
 * the working directory), metadata (stat, chmod, chown), sync and mount.
 * They check and copy the user's arguments and go through the VFS
 * (fs/vfs.h) to whatever holds the file: ext2 on the disk, the initrd's
 * tree, the console, a pipe, or a generated /proc file. */
#include "sys.h"
#include "syscall.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../fs/journal.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

/* INVARIANT(kernel memory safety): a syscall's file is referenced for the
 * whole syscall, so a sibling's close or dup2 cannot free it (or the pipe or
 * inode behind it) under a sleeping read or write. */
struct file *fd_get_raw(int fd)
{
    struct proc *p = current();
    struct file *f = fdt_file(p->fdt, fd);
    if (!f)
        return NULL;
    for (int i = 0; i < p->nfd_held; i++)
        if (p->fd_held[i] == f)
            return f;                           /* held already (readv, dup2 fd fd) */
#ifndef BREAK_FD_REF
    ASSERT(p->nfd_held < (int)ARRAY_SIZE(p->fd_held));
    p->fd_held[p->nfd_held++] = file_dup(f);
#endif
    return f;
}

struct file *fd_get(int fd)
{
    struct file *f = fd_get_raw(fd);
    /* INVARIANT(privilege separation): an O_PATH descriptor was opened
     * without read or write permission: it names the file, and no call
     * that reads, writes or changes the file through it is let in. */
#ifndef BREAK_OPATH
    if (f && (f->flags & O_PATH))
        return NULL;
#endif
    return f;
}

void fd_put_held(void)
{
    struct proc *p = current();
    while (p->nfd_held > 0) {
        struct file *f = p->fd_held[--p->nfd_held];
        p->fd_held[p->nfd_held] = NULL;
        file_close(f);
    }
}

int fd_install(struct file *f, int min_fd, bool cloexec)
{
    struct fdtable *t = current()->fdt;
    int fd = fdtable_alloc_fd(t, min_fd, fd_limit());
    if (fd < 0)
        return fd;                              /* -EMFILE, or -ENOMEM growing the table */
    t->fd[fd] = f;
    fd_set_cloexec(t, fd, cloexec);
    return fd;
}

long sys_read(int fd, void *buf, size_t n)
{
    struct file *f = fd_get(fd);
    if (!f || !f->ops->read || (f->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (!user_range_ok((uintptr_t)buf, n))
        return -EFAULT;
    long r = f->ops->read(f, buf, n);
    if (r > 0)
        fsnotify_file(f, IN_ACCESS);
    return r;
}

long sys_write(int fd, const void *buf, size_t n)
{
    struct file *f = fd_get(fd);
    if (!f || !f->ops->write)
        return -EBADF;
    if (!user_range_ok((uintptr_t)buf, n))
        return -EFAULT;
    if (f->inode && S_ISREG(f->inode->mode)) {     /* RLIMIT_FSIZE, memfd seals */
        uint64_t pos = (f->flags & O_APPEND) ? f->inode->size : f->off;
        long r = fsize_check(pos, &n);
        if (!r)
            r = seal_check(f->inode, pos, n, false);
        if (r)
            return r;
    }
    long r = n ? f->ops->write(f, buf, n) : 0;
    if (r > 0)
        fsnotify_file(f, IN_MODIFY);
    return r;
}

/* pread/pwrite: the I/O at a given offset, leaving the file's own alone. */
static long at_offset(int fd, void *buf, size_t n, int64_t off, bool write)
{
    struct file *f = fd_get(fd);
    if (!f || !(write ? (void *)f->ops->write : (void *)f->ops->read))
        return -EBADF;
    if (!f->ops->seekable)
        return -ESPIPE;
    if (off < 0)
        return -EINVAL;
    if (!write && (f->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (!user_range_ok((uintptr_t)buf, n))
        return -EFAULT;
    /* INVARIANT(kernel memory safety): the I/O goes through a copy of the
     * file with its own offset: f->off belongs to every descriptor sharing
     * the file, and a read that sleeps must not lend it to them (nor take
     * theirs back). (pwrite with O_APPEND appends, as on Linux.) */
    struct file at = *f;
    at.off = (uint64_t)off;
    if (write && f->inode && S_ISREG(f->inode->mode)) {
        uint64_t pos = (f->flags & O_APPEND) ? f->inode->size : at.off;
        long r = fsize_check(pos, &n);
        if (!r)
            r = seal_check(f->inode, pos, n, false);
        if (r)
            return r;
    }
    long r = write ? (n ? f->ops->write(&at, buf, n) : 0) : f->ops->read(&at, buf, n);
    if (r > 0)
        fsnotify_file(f, write ? IN_MODIFY : IN_ACCESS);
    return r;
}

long sys_pread64(int fd, void *buf, size_t n, int64_t off) { return at_offset(fd, buf, n, off, false); }

long sys_pwrite64(int fd, const void *buf, size_t n, int64_t off)
{
    return at_offset(fd, (void *)buf, n, off, true);
}

struct iovec {
    void *base;
    size_t len;
};

/* The vector as Linux takes it in before any transfer: readable (EFAULT),
 * and no length negative as an ssize_t (EINVAL). */
static long iov_check(const void *uiov, long cnt)
{
    if (cnt < 0 || cnt > 1024)
        return -EINVAL;
    for (long i = 0; i < cnt; i++) {
        struct iovec v;
        if (copy_from_user(&v, (const struct iovec *)uiov + i, sizeof(v)))
            return -EFAULT;
        if ((int64_t)v.len < 0)
            return -EINVAL;
    }
    return 0;
}

static long do_iov(int fd, const void *uiov, int cnt, bool write)
{
    long bad = iov_check(uiov, cnt);
    if (bad)
        return bad;
    long total = 0;
    for (int i = 0; i < cnt; i++) {
        struct iovec v;
        if (copy_from_user(&v, (const struct iovec *)uiov + i, sizeof(v)))
            return -EFAULT;
        if (!v.len)
            continue;
        long r = write ? sys_write(fd, v.base, v.len) : sys_read(fd, v.base, v.len);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((size_t)r < v.len)
            break;
    }
    return total;
}

long sys_readv(int fd, const void *iov, int cnt) { return do_iov(fd, iov, cnt, false); }
long sys_writev(int fd, const void *iov, int cnt) { return do_iov(fd, iov, cnt, true); }

/* preadv/pwritev: readv/writev at an offset, the file's own left alone
 * (on x86-64 the offset is pos_l whole; pos_h is for 32-bit callers).
 * Linux's order of complaints: a negative offset, the descriptor, an
 * unseekable file, the vector, then each transfer's own. */
static long do_p_iov(int fd, const void *uiov, long cnt, int64_t off, bool write, int flags)
{
    if (off < 0)
        return -EINVAL;
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->seekable)
        return -ESPIPE;
    long bad = iov_check(uiov, cnt);
    if (bad)
        return bad;
    if (write && (flags & RWF_APPEND) && f->inode && S_ISREG(f->inode->mode))
        off = (int64_t)f->inode->size;
    long total = 0;
    for (long i = 0; i < cnt; i++) {
        struct iovec v;
        if (copy_from_user(&v, (const struct iovec *)uiov + i, sizeof(v)))
            return total ? total : -EFAULT;
        if (!v.len)
            continue;
        long r = at_offset(fd, v.base, v.len, off + total, write);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((size_t)r < v.len)
            break;
    }
    if (write && total > 0 && (flags & (RWF_DSYNC | RWF_SYNC)))
        (flags & RWF_SYNC) ? sys_fsync(fd) : sys_fdatasync(fd);
    return total;
}

long sys_preadv(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h)
{
    (void)pos_h;
    return do_p_iov(fd, iov, cnt, pos_l, false, 0);
}

long sys_pwritev(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h)
{
    (void)pos_h;
    return do_p_iov(fd, iov, cnt, pos_l, true, 0);
}

/* preadv2/pwritev2: offset -1 is the file's own (readv/writev); the flags
 * Linux knows are taken (the sync ones sync after the write, RWF_APPEND
 * appends), others are EOPNOTSUPP. */
static long do_p_iov2(int fd, const void *iov, long cnt, int64_t pos, bool write, int flags)
{
    if (flags & ~RWF_SUPPORTED)
        return -EOPNOTSUPP;
    if (pos == -1 && !(write && (flags & RWF_APPEND))) {
        long r = iov_check(iov, cnt) ?: do_iov(fd, iov, (int)cnt, write);
        if (write && r > 0 && (flags & (RWF_DSYNC | RWF_SYNC)))
            (flags & RWF_SYNC) ? sys_fsync(fd) : sys_fdatasync(fd);
        return r;
    }
    return do_p_iov(fd, iov, cnt, pos == -1 ? 0 : pos, write, flags);
}

long sys_preadv2(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h, int flags)
{
    (void)pos_h;
    return do_p_iov2(fd, iov, cnt, pos_l, false, flags);
}

long sys_pwritev2(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h, int flags)
{
    (void)pos_h;
    return do_p_iov2(fd, iov, cnt, pos_l, true, flags);
}

/* A path buffer from the heap, freed when its variable goes out of scope.
 * INVARIANT(kernel memory safety): no PATH_MAX (4 KiB) buffer on a 16 KiB
 * kernel stack (one under a deep file-system call overflowed it, issue 14);
 * the build's -Wframe-larger-than keeps it so. NULL if memory ran out:
 * get_path says ENOMEM. */
void path_buf_free(char **p) { kfree(*p); }

long get_path(const char *upath, char *path, size_t size)
{
    if (!path)
        return -ENOMEM;
    long n = strncpy_from_user(path, upath, size);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    return 0;
}

/* The directory relative paths start from: the cwd, or dirfd's directory. */
static int base_dir(int dirfd, const char *path, int lflags, struct inode **out)
{
    /* A scoped lookup (openat2's BENEATH, IN_ROOT) starts at dirfd even
     * for an absolute path: the walk decides what "/" means there. */
    bool scoped = lflags & (LOOKUP_BENEATH | LOOKUP_IN_ROOT);
    if ((path[0] == '/' && !scoped) || dirfd == AT_FDCWD) {
        *out = iget(current()->fs->cwd);
        return 0;
    }
    struct file *f = fd_get_raw(dirfd);
    if (!f)
        return -EBADF;
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    *out = iget(f->inode);
    return 0;
}

int lookup_at(int dirfd, const char *path, int flags, struct inode **out)
{
    struct inode *base;
    int r = base_dir(dirfd, path, flags, &base);
    if (r)
        return r;
    r = vfs_lookup(base, path, flags, out);
    iput(base);
    return r;
}

#define lookup_at_flags lookup_at              /* (lookup_at takes openat2's flags too) */

/* Resolve the directory of path's last component (relative to dirfd). */
static int parent_at(int dirfd, const char *path, int lflags, struct inode **dir, const char **name,
                     size_t *len);

/* ... and check the caller may change its entries (write and search);
 * lflags: the lookup's openat2 flags. */
static int parent_change_at(int dirfd, const char *path, int lflags, struct inode **dir,
                            const char **name, size_t *len)
{
    int r = parent_at(dirfd, path, lflags, dir, name, len);
    if (!r && (r = vfs_permission(*dir, MAY_WRITE | MAY_EXEC))) {
        iput(*dir);
        *dir = NULL;            /* callers iput what they got, failed or not */
    }
    return r;
}

int parent_for_change(int dirfd, const char *path, struct inode **dir, const char **name,
                      size_t *len)
{
    return parent_change_at(dirfd, path, 0, dir, name, len);
}

/* May the caller remove (or replace) dir's entry name? Write and search
 * permission on dir are checked already; in a sticky directory (S_ISVTX,
 * /tmp) the caller must also own the entry or the directory, or be root.
 * A missing entry is the operation's to report. */
static int may_delete(struct inode *dir, const char *name, size_t len)
{
    struct proc *p = current();
    struct inode *victim;
    if (!(dir->mode & S_ISVTX) || p->euid == 0 || p->euid == dir->uid || !dir->ops->lookup ||
        dir->ops->lookup(dir, name, len, &victim))
        return 0;
    /* INVARIANT(privilege separation): in a sticky directory nobody removes
     * or renames away another user's file. */
    int r = victim->uid == p->euid ? 0 : -EPERM;
    iput(victim);
    return r;
}

/* rename(2): a directory moved to another parent gets a new "..", which
 * takes write permission on the directory itself. */
static int may_move_dir(struct inode *od, const char *name, size_t len, struct inode *nd)
{
    struct inode *src;
    if ((od->sb == nd->sb && od->ino == nd->ino) || !od->ops->lookup ||
        od->ops->lookup(od, name, len, &src))
        return 0;
    int r = S_ISDIR(src->mode) ? vfs_permission(src, MAY_WRITE) : 0;
    iput(src);
    return r;
}

static int parent_at(int dirfd, const char *path, int lflags, struct inode **dir, const char **name,
                     size_t *len)
{
    struct inode *base;
    int r = base_dir(dirfd, path, lflags, &base);
    if (r)
        return r;
    *dir = NULL;
    r = vfs_lookup_parent(base, path, lflags, dir, name, len);
    iput(base);
    if (r)
        return r;
    if (!S_ISDIR((*dir)->mode))
        r = -ENOTDIR;                           /* "file/name" */
    else if (*len > NAME_MAX)
        r = -ENAMETOOLONG;
    if (r) {
        /* INVARIANT(kernel memory safety): a failed lookup leaves the
         * caller nothing to put (they put what they got, failed or not:
         * a pointer left here was put twice, and the file freed while its
         * directory still named it; trinity's seed 392). */
        iput(*dir);
#ifndef BREAK_PARENT_PUT
        *dir = NULL;
#endif
    }
    return r;
}

/* inotify: an event on the inode path names, and on its entry in its
 * directory (whose watches hear it with the name). */
void notify_path(int dirfd, const char *path, struct inode *ino, uint32_t mask)
{
    if (!inotify_active())
        return;
    struct inode *dir = NULL;
    const char *name = NULL;
    size_t len = 0;
    if (parent_at(dirfd, path, 0, &dir, &name, &len))
        dir = NULL;
    fsnotify_child(dir, name, len, ino, mask, 0);
    iput(dir);
}


/* Open inode ino (the caller's reference, kept by the file or dropped on
 * failure) as flags ask: the checks of open(2) on what was found (created:
 * by this open, whose creator may open it whatever its mode), then the
 * open file of its kind. */
long open_inode(struct inode *ino, int flags, bool created, struct file **out)
{
    struct file *f = NULL;
    long r = 0;
    struct proc *p = current();
    bool writes = (flags & O_ACCMODE) || (flags & O_TRUNC);
    if (S_ISLNK(ino->mode))
        r = -ELOOP;                             /* O_NOFOLLOW on a symlink */
    else if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
        r = -ENOTDIR;
    else if (S_ISDIR(ino->mode) && ((flags & O_ACCMODE) || (flags & O_CREAT)))
        r = -EISDIR;
    else if (writes && (!ino->ops->write || sb_ro(ino)) && !S_ISFIFO(ino->mode))
        r = -EROFS;
    else if (!created &&
             (r = vfs_permission(ino, ((flags & O_ACCMODE) != O_WRONLY ? MAY_READ : 0) |
                                      (writes ? MAY_WRITE : 0))))
        ;                                       /* r says why not */
    else if ((flags & O_NOATIME) && p->euid != 0 && p->euid != ino->uid)
        r = -EPERM;                             /* only the owner keeps the access time */
    else if (S_ISREG(ino->mode) && writes && (r = vfs_get_write_access(ino)))
        ;                                       /* ETXTBSY: it runs */
    else if ((flags & O_TRUNC) && (flags & O_ACCMODE) && S_ISREG(ino->mode) &&
             ((r = (int)seal_check(ino, 0, 0, true)) ||     /* a memfd sealed against shrinking */
              (r = vfs_truncate(ino, 0))))
        vfs_put_write_access(ino);
    bool counted = !r && S_ISREG(ino->mode) && writes;
    if (!r && (ino->mode & S_IFMT) == S_IFSOCK)
        r = -ENXIO;                             /* a socket node: no sockets to reach */
    if (!r && (S_ISCHR(ino->mode) || S_ISFIFO(ino->mode) || ino->ops->open)) {
        if (counted)
            vfs_put_write_access(ino);          /* a file of another kind (/proc): nothing runs it */
        int err;
        if (!(f = S_ISCHR(ino->mode) ? dev_open(ino, flags, &err) :
                  ino->ops->open ? ino->ops->open(ino, flags, &err) : fifo_open(ino, flags, &err))) {
            iput(ino);
            return err;
        }
    } else if (r || !(f = vfs_open(ino, flags))) {
        if (counted && !r)
            vfs_put_write_access(ino);
        iput(ino);
        return r ? r : -ENOMEM;
    } else {
        f->write_access = counted;              /* vf_release gives it back */
    }
    *out = f;
    return 0;
}

/* path made absolute from the directory it is looked up in (lexically;
 * see vfs_abspath): an open file's name for /proc/PID/fd and maps. */
static char *name_of(int dirfd, const char *path)
{
    struct file *d = path[0] != '/' && dirfd != AT_FDCWD ? fd_get_raw(dirfd) : NULL;
    return vfs_abspath(d && d->path ? d->path : current()->fs->cwd_path, path);
}

/* open(O_TMPFILE): a nameless regular file in the directory path names. */
static long open_tmpfile(int dirfd, const char *path, int flags, uint32_t mode, int lf, struct inode **out)
{
    struct inode *dir;
    long r = lookup_at_flags(dirfd, path, lf | LOOKUP_FOLLOW, &dir);
    if (r)
        return r;
    if (!S_ISDIR(dir->mode))
        r = -ENOTDIR;
    else if ((r = vfs_permission(dir, MAY_WRITE | MAY_EXEC)))
        ;
    else if (sb_ro(dir))
        r = -EROFS;
    else if (!dir->ops->tmpfile)
        r = -EOPNOTSUPP;
    else
        r = dir->ops->tmpfile(dir, S_IFREG | (mode & 07777 & ~current()->fs->umask),
                              !(flags & O_EXCL), out);
    iput(dir);
    return r;
}

/* The open(2) family's common part: path (a kernel copy) from dirfd, with
 * lookup flags lf (openat2's RESOLVE_*). */
static long do_open(int dirfd, const char *path, int flags, uint32_t mode, int lf)
{
    struct file *f = NULL;
    struct inode *ino;
    long r;
    if (flags & O_PATH) {
        /* O_PATH: the file named, with no permission asked of it and no
         * open of its own kind (no device, FIFO or /proc open): only the
         * descriptor calls and the *at calls take it (fd_get_raw). */
        flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
        if ((r = lookup_at_flags(dirfd, path, lf | ((flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW), &ino)))
            return r;
        if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
            r = -ENOTDIR;
        else if (!(f = vfs_open(ino, flags)))
            r = -ENOMEM;
        if (r) {
            iput(ino);
            return r;
        }
        goto named;
    }
    if (flags & __O_TMPFILE) {
        if ((flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE || (flags & O_ACCMODE) == O_RDONLY)
            return -EINVAL;
        if ((r = open_tmpfile(dirfd, path, flags, mode, lf, &ino)))
            return r;
        flags &= ~O_DIRECTORY;
        if ((r = vfs_get_write_access(ino)) || !(f = vfs_open(ino, flags))) {
            iput(ino);
            return r ? r : -ENOMEM;
        }
        f->write_access = true;
        char *dir = name_of(dirfd, path);       /* named as Linux names it: DIR/#INO */
        size_t n = dir ? strlen(dir) + 24 : 0;
        if (dir && (f->path = kmalloc(n)))
            snprintf(f->path, n, "%s/#%lu", strcmp(dir, "/") ? dir : "", ino->ino);
        kfree(dir);
        goto named;
    }
    bool created = false;                       /* the creator may open it whatever its mode */
    r = lookup_at_flags(dirfd, path, lf | ((flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW), &ino);
    if (r == -ENOENT && (flags & O_CREAT)) {
        created = true;
        struct inode *dir;
        const char *name;
        size_t len;
        if ((r = parent_change_at(dirfd, path, lf, &dir, &name, &len)))
            return r;
        if (len == 0 || path[strlen(path) - 1] == '/')
            r = -EISDIR;
        else if ((!dir->ops->create || sb_ro(dir)))
            r = -EROFS;
        else
            r = dir->ops->create(dir, name, len, S_IFREG | (mode & 07777 & ~current()->fs->umask),
                                 NULL, &ino);
        if (!r)
            fsnotify_child(dir, name, len, ino, IN_CREATE, 0);
        iput(dir);
        if (r)
            return r;
    } else if (r) {
        return r;
    } else if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        iput(ino);
        return -EEXIST;
    }
    if ((r = open_inode(ino, flags, created, &f)))
        return r;
named:
    f->flags = flags;
    /* Its name, for /proc/PID/fd and maps: the path made absolute from
     * the directory it was looked up in (lexically; see vfs_abspath). */
    if (!f->path)
        f->path = name_of(dirfd, path);
    if (f->inode && S_ISREG(f->inode->mode) && (r = lease_break(f->inode, flags))) {
        file_close(f);                          /* a lease's holder did not let go in time */
        return r;
    }
    fsnotify_file(f, IN_OPEN);
    int fd = fd_install(f, 0, flags & O_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

long sys_openat(int dirfd, const char *upath, int flags, int mode)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    return r ? r : do_open(dirfd, path, flags, (uint32_t)mode, 0);
}

#define VALID_OPEN_FLAGS (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | \
                          __O_SYNC | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | \
                          O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE)
#define VALID_RESOLVE (RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | \
                       RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED)

/* openat2(2): openat with struct open_how, which is checked as openat's
 * flags are not: an unknown flag or resolve bit, a mode without O_CREAT or
 * O_TMPFILE, O_PATH with flags it ignores, BENEATH with IN_ROOT are EINVAL;
 * a larger struct than Linux's is fine if its tail is zeros (else E2BIG). */
long sys_openat2(int dirfd, const char *upath, const void *uhow, size_t size)
{
    struct { uint64_t flags, mode, resolve; } how;
    if (size < sizeof(how))
        return -EINVAL;
    if (size > PAGE_SIZE)
        return -E2BIG;
    if (copy_from_user(&how, uhow, sizeof(how)))
        return -EFAULT;
    for (size_t at = sizeof(how); at < size; at++) {
        uint8_t b;
        if (copy_from_user(&b, (const uint8_t *)uhow + at, 1))
            return -EFAULT;
        if (b)
            return -E2BIG;
    }
    if ((how.flags & ~(uint64_t)VALID_OPEN_FLAGS) || (how.resolve & ~(uint64_t)VALID_RESOLVE))
        return -EINVAL;
    if ((how.flags & (O_CREAT | __O_TMPFILE)) ? (how.mode & ~07777ull) != 0 : how.mode != 0)
        return -EINVAL;
    if ((how.flags & O_PATH) && (how.flags & ~(uint64_t)(O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW)))
        return -EINVAL;
    if ((how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) == (RESOLVE_BENEATH | RESOLVE_IN_ROOT))
        return -EINVAL;
    if ((how.resolve & RESOLVE_CACHED) && (how.flags & (O_TRUNC | O_CREAT | __O_TMPFILE)))
        return -EAGAIN;
    int lf = ((how.resolve & RESOLVE_NO_XDEV) ? LOOKUP_NO_XDEV : 0) |
             ((how.resolve & RESOLVE_NO_MAGICLINKS) ? LOOKUP_NO_MAGICLINKS : 0) |
             ((how.resolve & RESOLVE_NO_SYMLINKS) ? LOOKUP_NO_SYMLINKS | LOOKUP_NO_MAGICLINKS : 0) |
             ((how.resolve & RESOLVE_BENEATH) ? LOOKUP_BENEATH : 0) |
             ((how.resolve & RESOLVE_IN_ROOT) ? LOOKUP_IN_ROOT : 0);
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    return do_open(dirfd, path, (int)how.flags, (uint32_t)how.mode, lf);
}

long sys_mkdirat(int dirfd, const char *upath, int mode)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *dir;
    const char *name;
    size_t len;
    if ((r = parent_for_change(dirfd, path, &dir, &name, &len)))
        return r;
    if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        r = -EEXIST;
    else
        r = (dir->ops->create && !sb_ro(dir)) ? dir->ops->create(dir, name, len,
                                                S_IFDIR | ((uint32_t)mode & 07777 & ~current()->fs->umask),
                                                NULL, NULL)
                             : -EROFS;
    if (!r)
        fsnotify_child(dir, name, len, NULL, IN_CREATE | IN_ISDIR, 0);
    iput(dir);
    return r;
}

long sys_mkdir(const char *path, int mode) { return sys_mkdirat(AT_FDCWD, path, mode); }

/* Is dir's entry name a directory something is mounted on? (EBUSY: a
 * mount point is neither removed nor renamed.) */
static bool entry_is_mountpoint(struct inode *dir, const char *name, size_t len)
{
    struct inode *x;
    if (!dir->ops->lookup || dir->ops->lookup(dir, name, len, &x))
        return false;
    bool busy = vfs_is_mountpoint(x);
    iput(x);
    return busy;
}

long sys_unlinkat(int dirfd, const char *upath, int flags)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    struct inode *dir;
    const char *name;
    size_t len;
    if ((r = parent_for_change(dirfd, path, &dir, &name, &len)))
        return r;
    bool rmdir = flags & AT_REMOVEDIR;
    if (rmdir && len == 1 && name[0] == '.')
        r = -EINVAL;
    else if (rmdir && len == 2 && name[0] == '.' && name[1] == '.')
        r = -ENOTEMPTY;
    else if (!rmdir && path[strlen(path) - 1] == '/')
        r = -EISDIR;                            /* "file/" names a directory */
    else if ((r = may_delete(dir, name, len)))
        ;
    else if (rmdir && entry_is_mountpoint(dir, name, len))
        r = -EBUSY;                             /* something is mounted on it */
    else {
        /* (inotify: the victim, held so that its last reference, and
         * IN_DELETE_SELF, comes after IN_DELETE and IN_ATTRIB) */
        struct inode *victim = NULL;
        if (inotify_active() && dir->ops->lookup && dir->ops->lookup(dir, name, len, &victim))
            victim = NULL;
        r = (dir->ops->unlink && !sb_ro(dir)) ? dir->ops->unlink(dir, name, len, rmdir) : -EROFS;
        /* Linux's order: the inode's own events (its link count; its end,
         * if this was its last reference), then the directory's IN_DELETE. */
        uint32_t isdir = victim && S_ISDIR(victim->mode) ? IN_ISDIR : 0;
        if (!r && victim && !rmdir)
            fsnotify_child(NULL, NULL, 0, victim, IN_ATTRIB, 0);
        iput(victim);
        if (!r && victim)
            fsnotify_child(dir, name, len, NULL, IN_DELETE | isdir, 0);
    }
    iput(dir);
    return r;
}

long sys_unlink(const char *path) { return sys_unlinkat(AT_FDCWD, path, 0); }
long sys_rmdir(const char *path) { return sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR); }

/* renameat2(2): RENAME_NOREPLACE (EEXIST if the new name is taken),
 * RENAME_EXCHANGE (the two names swap files: both must be there) and
 * RENAME_WHITEOUT (root: the old name becomes a whiteout, a character
 * device 0:0) where the file system can, as Linux's tmpfs; ext2 knows
 * only NOREPLACE (EINVAL for the others, as Linux's ext2). */
static __attribute__((unused)) bool is_dot_name(const char *name, size_t len)
{
    return len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

long sys_renameat2(int odirfd, const char *uold, int ndirfd, const char *unew, unsigned flags)
{
    char *oldp = kmalloc(PATH_MAX), *newp = kmalloc(PATH_MAX);
    long r = (!oldp || !newp) ? -ENOMEM : 0;
    if (!r)
        r = get_path(uold, oldp, PATH_MAX);
    if (!r)
        r = get_path(unew, newp, PATH_MAX);
    bool exchange = flags & RENAME_EXCHANGE, whiteout = flags & RENAME_WHITEOUT;
    if (!r && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)))
        r = -EINVAL;
    if (!r && exchange && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
        r = -EINVAL;
    if (!r && whiteout && current()->euid != 0)
        r = -EPERM;                             /* Linux: CAP_MKNOD */
    struct inode *od = NULL, *nd = NULL, *x;
    const char *on, *nn;
    size_t ol, nl;
    if (!r)
        r = parent_for_change(odirfd, oldp, &od, &on, &ol);
    if (!r && (r = parent_for_change(ndirfd, newp, &nd, &nn, &nl)))
        nd = NULL;
    /* "." or ".." (or nothing) as either last name: EBUSY, as Linux
     * (ext2 would have moved the directory ".." named and taken the ".."
     * entry out of the other). */
#ifndef BREAK_RENAME_DOTS
    if (!r && (is_dot_name(on, ol) || is_dot_name(nn, nl)))
        r = -EBUSY;
#endif
    if (!r && (flags & RENAME_NOREPLACE) && nd->ops->lookup(nd, nn, nl, &x) == 0) {
        iput(x);
        r = -EEXIST;
    }
    if (!r && exchange && (r = nd->ops->lookup(nd, nn, nl, &x)) == 0)
        iput(x);                                /* (the new name must be there: ENOENT) */
    if (!r && od->sb != nd->sb)
        r = -EXDEV;
    if (!r && (entry_is_mountpoint(od, on, ol) || entry_is_mountpoint(nd, nn, nl)))
        r = -EBUSY;
    if (!r)
        r = may_delete(od, on, ol);
    if (!r)
        r = may_delete(nd, nn, nl);
    if (!r)
        r = may_move_dir(od, on, ol, nd);
    if (!r && exchange)
        r = may_move_dir(nd, nn, nl, od);
    if (!r && (!od->ops->rename || sb_ro(od)))
        r = -EROFS;
    if (!r && (exchange ? !od->ops->exchange : whiteout && strcmp(od->sb->type, "tmpfs")))
        r = -EINVAL;                            /* not on this file system */
    struct inode *moved = NULL, *replaced = NULL;
    if (!r && inotify_active()) {
        if (od->ops->lookup(od, on, ol, &moved))
            moved = NULL;
        if (nd->ops->lookup(nd, nn, nl, &replaced))
            replaced = NULL;
    }
    if (!r && exchange)
        r = od->ops->exchange(od, on, ol, nd, nn, nl);
    else if (!r)
        r = od->ops->rename(od, on, ol, nd, nn, nl);
    if (!r && moved && moved != replaced)
        fsnotify_rename(od, on, ol, nd, nn, nl, moved);
    iput(moved);
    iput(replaced);
    if (!r && whiteout)
        r = od->ops->create(od, on, ol, S_IFCHR, NULL, NULL);
    iput(od);
    iput(nd);
    kfree(oldp);
    kfree(newp);
    return r;
}

long sys_renameat(int od, const char *o, int nd, const char *n) { return sys_renameat2(od, o, nd, n, 0); }
long sys_rename(const char *o, const char *n) { return sys_renameat2(AT_FDCWD, o, AT_FDCWD, n, 0); }

long sys_linkat(int odirfd, const char *uold, int ndirfd, const char *unew, int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    PATH_BUF(path);
    long r = path ? strncpy_from_user(path, uold, PATH_MAX) : -ENOMEM;
    if (r < 0)
        return r;
    struct inode *target;
    if (r == 0) {
        /* AT_EMPTY_PATH links odirfd's own file (an O_TMPFILE one, say):
         * root's (Linux: CAP_DAC_READ_SEARCH), else ENOENT. */
        if (!(flags & AT_EMPTY_PATH) || current()->euid != 0)
            return -ENOENT;
        struct file *f = odirfd == AT_FDCWD ? NULL : fd_get_raw(odirfd);
        if (!f)
            return odirfd == AT_FDCWD ? -ENOENT : -EBADF;
        if (!f->inode)
            return -ENOENT;
        target = iget(f->inode);
    } else if ((r = lookup_at(odirfd, path, (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0, &target))) {
        return r;
    }
    struct inode *dir = NULL;
    const char *name;
    size_t len;
    r = get_path(unew, path, PATH_MAX);
    if (!r)
        r = parent_for_change(ndirfd, path, &dir, &name, &len);
    if (!r && dir->sb != target->sb)
        r = -EXDEV;
    if (!r)
        r = (dir->ops->link && !sb_ro(dir)) ? dir->ops->link(dir, name, len, target) : -EROFS;
    if (!r) {
        fsnotify_child(NULL, NULL, 0, target, IN_ATTRIB, 0);
        fsnotify_child(dir, name, len, target, IN_CREATE, 0);
    }
    iput(dir);
    iput(target);
    return r;
}

long sys_link(const char *o, const char *n) { return sys_linkat(AT_FDCWD, o, AT_FDCWD, n, 0); }

long sys_symlinkat(const char *utarget, int dirfd, const char *upath)
{
    char *target = kmalloc(PATH_MAX);
    PATH_BUF(path);
    long r = target ? get_path(utarget, target, PATH_MAX) : -ENOMEM;
    if (!r)
        r = get_path(upath, path, PATH_MAX);
    struct inode *dir = NULL;
    const char *name;
    size_t len;
    if (!r)
        r = parent_for_change(dirfd, path, &dir, &name, &len);
    if (!r)
        r = (dir->ops->create && !sb_ro(dir)) ? dir->ops->create(dir, name, len, S_IFLNK | 0777, target, NULL)
                             : -EROFS;
    if (!r)
        fsnotify_child(dir, name, len, NULL, IN_CREATE, 0);
    iput(dir);
    kfree(target);
    return r;
}

long sys_symlink(const char *t, const char *p) { return sys_symlinkat(t, AT_FDCWD, p); }

static long do_truncate(struct inode *ino, int64_t len)
{
    if (len < 0)
        return -EINVAL;
    if (S_ISDIR(ino->mode))
        return -EISDIR;
    if (!S_ISREG(ino->mode))
        return -EINVAL;
    size_t one = 1;
    long r = len > 0 ? fsize_check((uint64_t)len - 1, &one) : 0;     /* RLIMIT_FSIZE */
    if (!r)
        r = seal_check(ino, (uint64_t)len, 0, true);
    if (!r)
        r = lease_break(ino, O_WRONLY);
    if (r)
        return r;
    return vfs_truncate(ino, (uint64_t)len);
}

long sys_ftruncate(int fd, int64_t len)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->inode || !(f->flags & O_ACCMODE))
        return -EINVAL;
    long r = do_truncate(f->inode, len);
    if (!r)
        fsnotify_file(f, IN_MODIFY);
    return r;
}

long sys_truncate(const char *upath, int64_t len)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *ino;
    if ((r = vfs_lookup(current()->fs->cwd, path, LOOKUP_FOLLOW, &ino)))
        return r;
    r = vfs_permission(ino, MAY_WRITE);
    if (!r && S_ISREG(ino->mode) && !(r = vfs_get_write_access(ino))) {
        r = do_truncate(ino, len);              /* (ETXTBSY for a program running) */
        vfs_put_write_access(ino);
    } else if (!r) {
        r = do_truncate(ino, len);
    }
    if (!r)
        notify_path(AT_FDCWD, path, ino, IN_MODIFY);
    iput(ino);
    return r;
}

/* INVARIANT(durability and crash consistency): fsync returns only after the data and metadata
 * are written and the device has flushed its cache (bcache_sync). */
long sys_fsync(int fd)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->inode)
        return -EINVAL;                         /* pipes, the console */
    uint32_t type = f->inode->mode & S_IFMT;
    if (type == S_IFCHR || type == S_IFIFO || type == S_IFSOCK)
        return -EINVAL;                         /* /dev/null, a FIFO: nothing to make durable (Linux) */
    struct super *sb = f->inode->sb;
    /* Pages written through MAP_SHARED mappings first, into the file system. */
    long r = filemap_writeback(f->inode, 0, UINT64_MAX);
    long s = f->inode->ops->sync ? f->inode->ops->sync(sb) : 0;
    return r ? r : s;
}

/* fdatasync(2): an fsync (the commit makes data and metadata durable alike). */
long sys_fdatasync(int fd)
{
#ifdef BREAK_FDATASYNC_FLUSH
    /* The break switch: this commit skips its device FLUSH. */
    journal_break_fdatasync = true;
    long r = sys_fsync(fd);
    journal_break_fdatasync = false;
    return r;
#else
    return sys_fsync(fd);
#endif
}

/* sync(2): every mounted file system to stable storage. The root syncs
 * through its own operation; the ext2 disk (one disk, one journal, mounted
 * once: as the root, or on a directory such as /mnt) through its journal,
 * whose commit is what ext2's sync operation does. */
long sys_sync(void)
{
    if (crash_hung_armed)
        crash_hung();                           /* crash=hung: a test of the watchdog */
    filemap_writeback_all();                    /* pages written through mappings */
    struct inode *root = vfs_root();
    bool disk_done = false;
    if (root && root->ops->sync) {
        root->ops->sync(root->sb);
        disk_done = !strcmp(root->sb->type, "ext2");
    }
    iput(root);
    if (!disk_done)
        journal_commit();                       /* nothing mounted: at most a flush */
    return 0;
}

static long do_chmod(struct inode *ino, int mode)
{
    if ((!ino->ops->setattr || sb_ro(ino)))
        return -EROFS;
    uint32_t euid = current()->euid;
    if (euid != 0 && euid != ino->uid)
        return -EPERM;                          /* only the owner (or root) */
    if (euid != 0 && !proc_in_group(current(), ino->gid))
        mode &= ~02000;                         /* no set-gid for a group one is not in */
    ino->mode = (ino->mode & S_IFMT) | ((uint32_t)mode & 07777);
    return ino->ops->setattr(ino);
}

long sys_fchmod(int fd, int mode)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    long r = f->inode ? do_chmod(f->inode, mode) : -EINVAL;
    if (!r)
        fsnotify_file(f, IN_ATTRIB);
    return r;
}

long sys_fchmodat(int dirfd, const char *upath, int mode)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *ino;
    if ((r = lookup_at(dirfd, path, LOOKUP_FOLLOW, &ino)))
        return r;
    r = do_chmod(ino, mode);
    if (!r)
        notify_path(dirfd, path, ino, IN_ATTRIB);
    iput(ino);
    return r;
}

long sys_chmod(const char *path, int mode) { return sys_fchmodat(AT_FDCWD, path, mode); }

static long do_chown(struct inode *ino, int uid, int gid)
{
    if ((!ino->ops->setattr || sb_ro(ino)))
        return -EROFS;
    struct proc *p = current();
    /* INVARIANT(privilege separation): only root gives a file away; its
     * owner may change the group to one of its own groups, nothing else
     * (chown(2); -1 leaves an ID be and needs no right). */
    bool owner = p->euid == ino->uid;
    if (p->euid != 0 &&
        ((uid != -1 && (!owner || (uint32_t)uid != ino->uid)) ||
         (gid != -1 && (!owner || ((uint32_t)gid != ino->gid && !proc_in_group(p, (uint32_t)gid))))))
        return -EPERM;
    if (uid == -1 && gid == -1)
        return 0;
    if (uid != -1)
        ino->uid = (uint32_t)uid;
    if (gid != -1)
        ino->gid = (uint32_t)gid;
    /* chown drops set-user-ID, and set-group-ID where it means that (with
     * group execute: without, it marks mandatory locking and stays), as
     * Linux does. */
    if (S_ISREG(ino->mode))
        ino->mode &= (ino->mode & 010) ? ~06000u : ~04000u;
    return ino->ops->setattr(ino);
}

long sys_fchownat(int dirfd, const char *upath, int uid, int gid, int flags)
{
    PATH_BUF(path);
    long n = path ? strncpy_from_user(path, upath, PATH_MAX) : -ENOMEM;
    if (n < 0)
        return n;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    if (n == 0 && (flags & AT_EMPTY_PATH)) {
        struct file *f = fd_get_raw(dirfd);
        if (!f)
            return -EBADF;
        long r = f->inode ? do_chown(f->inode, uid, gid) : -EINVAL;
        if (!r)
            fsnotify_file(f, IN_ATTRIB);
        return r;
    }
    if (n == 0)
        return -ENOENT;
    struct inode *ino;
    long r = lookup_at(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino);
    if (r)
        return r;
    r = do_chown(ino, uid, gid);
    if (!r)
        notify_path(dirfd, path, ino, IN_ATTRIB);
    iput(ino);
    return r;
}

long sys_chown(const char *p, int u, int g) { return sys_fchownat(AT_FDCWD, p, u, g, 0); }
long sys_lchown(const char *p, int u, int g) { return sys_fchownat(AT_FDCWD, p, u, g, AT_SYMLINK_NOFOLLOW); }
long sys_fchown(int fd, int u, int g)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    long r = f->inode ? do_chown(f->inode, u, g) : -EINVAL;
    if (!r)
        fsnotify_file(f, IN_ATTRIB);
    return r;
}

long sys_open(const char *path, int flags, int mode) { return sys_openat(AT_FDCWD, path, flags, mode); }
/* creat(2) is open(path, O_CREAT | O_WRONLY | O_TRUNC, mode). */
long sys_creat(const char *path, int mode)
{
    return sys_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

long sys_close(int fd)
{
    struct file *f = fd_get_raw(fd);
    if (!f)
        return -EBADF;
    current()->fdt->fd[fd] = NULL;
    posix_locks_close(f);
    file_close(f);
    return 0;
}

/* close_range(2): close every open descriptor in [first, last], or with
 * CLOSE_RANGE_CLOEXEC mark it close-on-exec; CLOSE_RANGE_UNSHARE gives the
 * caller a table of its own first (as exec does). What a program calls
 * before exec to leave nothing open by accident (Python's subprocess). */
long sys_close_range(unsigned first, unsigned last, unsigned flags)
{
    if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) || first > last)
        return -EINVAL;
    struct proc *p = current();
    /* Linux: closing everything from `first` up, the new table gets only
     * the descriptors below it (with CLOEXEC, all of them). */
    int below = !(flags & CLOSE_RANGE_CLOEXEC) && last >= (unsigned)p->fdt->max - 1 &&
                first <= INT32_MAX ? (int)first : INT32_MAX;
    long r = flags & CLOSE_RANGE_UNSHARE ? fdtable_unshare(p, below) : 0;
    if (r)
        return r;                               /* -ENOMEM, or -EMFILE past fs.nr_open */
    /* The table is looked at again after each close: it may sleep, and a
     * sibling may grow the table (a new block) meanwhile. */
    for (unsigned fd = first; fd <= last && fd < (unsigned)p->fdt->max; fd++) {
        struct file *f = p->fdt->fd[fd];
        if (!f)
            continue;
        if (flags & CLOSE_RANGE_CLOEXEC) {
            fd_set_cloexec(p->fdt, (int)fd, true);
        } else {
            p->fdt->fd[fd] = NULL;
            fd_set_cloexec(p->fdt, (int)fd, false);
            posix_locks_close(f);
            file_close(f);
        }
    }
    return 0;
}

long sys_lseek(int fd, int64_t off, int whence)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->seekable)
        return -ESPIPE;
    /* INVARIANT(kernel memory safety): Linux's generic_file_llseek: the
     * new position is checked for overflow, must not be negative and must
     * not pass the file system's largest file size (s_maxbytes): EINVAL,
     * so no later read or write starts from an offset no file can have. */
    int64_t size = (int64_t)(f->inode ? f->inode->size : f->size);
    int64_t max = f->inode && f->inode->sb && f->inode->sb->maxbytes ?
                  (int64_t)MIN(f->inode->sb->maxbytes, (uint64_t)INT64_MAX) : INT64_MAX;
    int64_t pos;
    switch (whence) {
    case SEEK_SET: pos = off; break;
    case SEEK_CUR:
        if (__builtin_add_overflow((int64_t)f->off, off, &pos))
            return -EINVAL;
        break;
    case SEEK_END:
        if (__builtin_add_overflow(size, off, &pos))
            return -EINVAL;
        break;
    case SEEK_DATA:
    case SEEK_HOLE:
        /* Holes where the file system keeps them (tmpfs); elsewhere all
         * data up to the end, where the one hole is (Linux's
         * generic_file_llseek, as for ext2). Pages written through a
         * shared mapping are data: written back first. */
        if (off < 0 || off >= size)
            return -ENXIO;
        if (f->inode && S_ISREG(f->inode->mode) && f->inode->ops->seek_hole) {
            filemap_writeback(f->inode, 0, UINT64_MAX);
            pos = f->inode->ops->seek_hole(f->inode, off, whence == SEEK_HOLE);
            if (pos < 0)
                return pos;
        } else {
            pos = whence == SEEK_DATA ? off : size;
        }
        break;
    default:
        return -EINVAL;
    }
    if (pos < 0 || pos > max)
        return -EINVAL;
    f->off = (uint64_t)pos;
    return (long)f->off;
}

long sys_fstat(int fd, void *ust)
{
    struct file *f = fd_get_raw(fd);
    if (!f)
        return -EBADF;
    struct kstat st;
    if (!f->ops->stat)
        return -EINVAL;
    f->ops->stat(f, &st);
    return copy_to_user(ust, &st, sizeof(st)) ? -EFAULT : 0;
}

long sys_newfstatat(int dirfd, const char *upath, void *ust, int flags)
{
    PATH_BUF(path);
    long n = path ? strncpy_from_user(path, upath, PATH_MAX) : -ENOMEM;
    if (n < 0)
        return n;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    if (n == 0 && (flags & AT_EMPTY_PATH))
        return dirfd == AT_FDCWD ? sys_newfstatat(dirfd, ".", ust, 0) : sys_fstat(dirfd, ust);
    if (n == 0)
        return -ENOENT;
    struct kstat st;
    struct inode *ino;
    int r = lookup_at(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino);
    if (r)
        return r;
    vfs_stat(ino, &st);
    iput(ino);
    return copy_to_user(ust, &st, sizeof(st)) ? -EFAULT : 0;
}

long sys_stat(const char *path, void *st) { return sys_newfstatat(AT_FDCWD, path, st, 0); }
long sys_lstat(const char *path, void *st) { return sys_newfstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }

long sys_faccessat2(int dirfd, const char *upath, int mode, int flags)
{
    /* Linux's order: the mode, the flags, then the path. */
    if (mode & ~7)
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    PATH_BUF(path);
    long n = path ? strncpy_from_user(path, upath, PATH_MAX) : -ENOMEM;
    if (n < 0)
        return n;
    if (n == 0 && !(flags & AT_EMPTY_PATH))
        return -ENOENT;
    struct inode *ino;
    long r = 0;
    if (n == 0 && dirfd != AT_FDCWD) {
        struct file *f = fd_get_raw(dirfd);
        if (!f)
            return -EBADF;
        if (!f->inode)
            return 0;                           /* a pipe: nothing to refuse */
        ino = iget(f->inode);
    } else if ((r = lookup_at(dirfd, n ? path : ".", (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino))) {
        return r;
    }
    /* access() asks for the real IDs (AT_EACCESS: the effective ones). */
    if ((mode & 2) && ino->sb->read_only)
        r = -EROFS;
    else if (mode)
        r = (flags & 0x200) ? vfs_permission(ino, mode) : vfs_permission_real(ino, mode);
    iput(ino);
    return r;
}

long sys_faccessat(int dirfd, const char *path, int mode) { return sys_faccessat2(dirfd, path, mode, 0); }
long sys_access(const char *path, int mode) { return sys_faccessat2(AT_FDCWD, path, mode, 0); }

long sys_getdents64(int fd, void *ubuf, size_t n)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (!f->ops->getdents)
        return -ENOTDIR;
    if (!user_range_ok((uintptr_t)ubuf, n))
        return -EFAULT;
    return f->ops->getdents(f, ubuf, n);
}

/* getdents(2), the old one: struct linux_dirent { d_ino; d_off; d_reclen;
 * d_name[]; then a pad and d_type in the record's last byte }. Its records
 * are exactly as long as getdents64's (18 + name + NUL + d_type against
 * 19 + name + NUL, both rounded to 8), so the new call fills the buffer
 * and each record is rewritten in place: the name moves down one byte and
 * the type goes to the end. */
long sys_getdents(int fd, void *ubuf, size_t n)
{
    long r = sys_getdents64(fd, ubuf, n);
    uint8_t rec[8 + 8 + 2 + 1 + NAME_MAX + 1 + 8];
    for (long pos = 0; r > 0 && pos < r;) {
        uint16_t reclen;
        if (copy_from_user(&reclen, (uint8_t *)ubuf + pos + 16, 2))
            return -EFAULT;
        if (reclen < 20 || reclen > sizeof(rec) || pos + reclen > r)
            return -EIO;                        /* not a record getdents64 writes */
        if (copy_from_user(rec, (uint8_t *)ubuf + pos, reclen))
            return -EFAULT;
        uint8_t type = rec[18];
        size_t len = strnlen((char *)rec + 19, reclen - 19u);
        memmove(rec + 18, rec + 19, len);
        memset(rec + 18 + len, 0, (size_t)reclen - 18 - len);
        rec[reclen - 1] = type;
        if (copy_to_user((uint8_t *)ubuf + pos, rec, reclen))
            return -EFAULT;
        pos += reclen;
    }
    return r;
}

long sys_readlinkat(int dirfd, const char *upath, char *ubuf, long size)
{
    PATH_BUF(path);
    long r = path ? strncpy_from_user(path, upath, PATH_MAX) : -ENOMEM;
    if (r < 0)
        return r;
    if (size <= 0)
        return -EINVAL;
    struct inode *ino;
    if (r == 0) {
        /* An empty path: dirfd's own file, a symlink opened with O_PATH |
         * O_NOFOLLOW (anything else: ENOENT, as Linux says for an empty
         * path that names no symlink). */
        struct file *f = dirfd == AT_FDCWD ? NULL : fd_get_raw(dirfd);
        if (dirfd != AT_FDCWD && !f)
            return -EBADF;
        if (!f || !f->inode || !S_ISLNK(f->inode->mode))
            return -ENOENT;
        ino = iget(f->inode);
    } else if ((r = lookup_at(dirfd, path, 0, &ino))) {
        return r;
    }
    if (!S_ISLNK(ino->mode)) {
        iput(ino);
        return -EINVAL;
    }
    char *buf = kmalloc(PATH_MAX);
    r = buf ? ino->ops->readlink(ino, buf, MIN((size_t)size, (size_t)PATH_MAX)) : -ENOMEM;
    iput(ino);
    if (r > 0 && copy_to_user(ubuf, buf, (size_t)r))
        r = -EFAULT;
    kfree(buf);
    return r;
}

long sys_readlink(const char *path, char *buf, long size) { return sys_readlinkat(AT_FDCWD, path, buf, size); }

/* ---- working directory ---- */

/* Apply a path to the textual cwd: "/a/b" + "../c" = "/a/c". */
static void join_path(char *cwd, size_t size, const char *path)
{
    char out[256];
    size_t n = 0;
    if (path[0] != '/')
        n = strlcpy(out, cwd, sizeof(out));
    else
        out[n++] = '/', out[n] = 0;
    const char *c;
    size_t len;
    for (const char *p = path_next(path, &c, &len); len; p = path_next(p, &c, &len)) {
        if (len == 1 && *c == '.')
            continue;
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            while (n > 1 && out[n - 1] != '/')
                n--;
            if (n > 1)
                n--;
            out[n] = 0;
        } else if (n + len + 2 < sizeof(out)) {
            if (out[n - 1] != '/')
                out[n++] = '/';
            memcpy(out + n, c, len);
            n += len;
            out[n] = 0;
        }
    }
    strlcpy(cwd, out, size);
}

static long change_dir(struct inode *ino, const char *path)
{
    struct proc *p = current();
    if (!S_ISDIR(ino->mode)) {
        iput(ino);
        return -ENOTDIR;
    }
    long r = vfs_permission(ino, MAY_EXEC);     /* search permission, as Linux */
    if (r) {
        iput(ino);
        return r;
    }
    iset(&p->fs->cwd, ino);
    /* getcwd's name: the real path, every symlink on the way resolved
     * (chdir("link") leaves us in the directory, not in the link), and
     * ".." taken where the walk took it: after the symlink before it
     * ("link/.." is the parent of where link leads, as the walk went,
     * not link's own directory), so the path is joined, not collapsed,
     * before vfs_realpath resolves it. */
    char *abs = NULL;
    if (path && (abs = kmalloc(PATH_MAX)) &&
        snprintf(abs, PATH_MAX, "%s/%s", path[0] == '/' ? "" : p->fs->cwd_path, path) >= PATH_MAX) {
        kfree(abs);
        abs = vfs_abspath(p->fs->cwd_path, path);
    }
    if (abs)
        vfs_realpath(abs, p->fs->cwd_path, sizeof(p->fs->cwd_path));
    else if (path)
        join_path(p->fs->cwd_path, sizeof(p->fs->cwd_path), path);
    kfree(abs);
    return 0;
}

long sys_chdir(const char *upath)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *ino;
    r = vfs_lookup(current()->fs->cwd, path, LOOKUP_FOLLOW, &ino);
    return r ? r : change_dir(ino, path);
}

long sys_fchdir(int fd)
{
    struct file *f = fd_get_raw(fd);
    if (!f)
        return -EBADF;
    if (!f->inode)
        return -ENOTDIR;
    return change_dir(iget(f->inode), f->path);
}

/* chroot(2): "/" leads to path for this process and those that share or
 * inherit its fsinfo. Root only (CAP_SYS_CHROOT); the working directory
 * is left where it is, as on Linux. */
long sys_chroot(const char *upath)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *ino;
    if ((r = vfs_lookup(current()->fs->cwd, path, LOOKUP_FOLLOW, &ino)))
        return r;
    if (!S_ISDIR(ino->mode))
        r = -ENOTDIR;
    else if (!(r = vfs_permission(ino, MAY_EXEC)) && current()->euid != 0)
        r = -EPERM;
    if (r) {
        iput(ino);
        return r;
    }
    iset(&current()->fs->root, ino);
    return 0;
}

/* getcwd(2): the working directory's name; one outside the process's root
 * (it chrooted and stayed) is "(unreachable)" and its path, as Linux says,
 * so the C library's getcwd and realpath answer ENOENT. A removed one has
 * no name: ENOENT. */
long sys_getcwd(char *buf, size_t size)
{
    struct fsinfo *fs = current()->fs;
    if (fs->cwd->nlink == 0)
        return -ENOENT;
    const char *cwd = fs->cwd_path;
    bool lost = fs->root && !vfs_is_below(fs->cwd, fs->root);
    const char *pre = lost ? "(unreachable)" : "";
    size_t n = strlen(pre) + strlen(cwd) + 1;
    if (size < n)
        return -ERANGE;
    if (lost && copy_to_user(buf, pre, strlen(pre)))
        return -EFAULT;
    return copy_to_user(buf + strlen(pre), cwd, strlen(cwd) + 1) ? -EFAULT : (long)n;
}

long sys_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    /* Linux's cmd is an unsigned int: libc passes an int, so 0x80045430
     * (TIOCGPTN) may arrive sign-extended. */
    return f->ops->ioctl ? f->ops->ioctl(f, (uint32_t)cmd, arg) : -ENOTTY;
}

long sys_dup(int fd)
{
    struct file *f = fd_get_raw(fd);
    if (!f)
        return -EBADF;
    int nfd = fd_install(file_dup(f), 0, false);
    if (nfd < 0)
        file_close(f);
    return nfd;
}

long sys_dup3(int fd, int to, int flags)
{
    /* Linux's order: the flags, then the same descriptor twice (EINVAL
     * even when it is not open), then the target's range, then the source. */
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (fd == to)
        return -EINVAL;
    int limit = fd_limit();
    if (to < 0 || to >= limit)
        return -EBADF;
    /* Then, as Linux: the table grown to hold it (past fs.nr_open: EBADF;
     * out of memory: ENOMEM) once the source is known to be open. */
    struct file *f = fd_get_raw(fd);
    if (!f)
        return -EBADF;
    struct proc *p = current();
    int r = fdtable_expand(p->fdt, to, limit);
    if (r)
        return r == -EMFILE ? -EBADF : r;
    /* The new file goes in before the old one is closed (which may sleep):
     * the slot is never seen empty, nor filled by another thread meanwhile. */
    struct file *old = p->fdt->fd[to];
    p->fdt->fd[to] = file_dup(f);
    fd_set_cloexec(p->fdt, to, flags & O_CLOEXEC);
    if (old) {
        posix_locks_close(old);
        file_close(old);
    }
    return to;
}

long sys_dup2(int fd, int to)
{
    if (fd == to)
        return fd_get_raw(fd) ? fd : -EBADF;
    return sys_dup3(fd, to, 0);
}

long sys_fcntl(int fd, int cmd, long arg)
{
    struct file *f = fd_get_raw(fd);
    struct proc *p = current();
    if (!f)
        return -EBADF;
    if ((f->flags & O_PATH) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_GETFD &&
        cmd != F_SETFD && cmd != F_GETFL)
        return -EBADF;                          /* only the descriptor's own commands */
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        if (arg < 0 || arg >= fd_limit())
            return -EINVAL;
        int nfd = fd_install(file_dup(f), (int)arg, cmd == F_DUPFD_CLOEXEC);
        if (nfd < 0)
            file_close(f);
        return nfd;
    }
    case F_GETFD:
        return fd_cloexec(p->fdt, fd);
    case F_SETFD:
        fd_set_cloexec(p->fdt, fd, arg & 1);
        return 0;
    case F_GETFL:
        return f->flags;
    case F_SETFL:
        if ((arg ^ (unsigned long)f->flags) & O_ASYNC)
            file_set_async(f, fd, arg & O_ASYNC);
        f->flags = (f->flags & O_ACCMODE) | (int)(arg & ~O_ACCMODE);
        return 0;
    case F_GETOWN:
    case F_SETOWN:
    case F_GETOWN_EX:
    case F_SETOWN_EX:
    case F_GETSIG:
    case F_SETSIG:
        return file_fown_fcntl(f, cmd, (unsigned long)arg);
    case F_NOTIFY:
        return dnotify_fcntl(f, fd, (unsigned long)arg);
    case F_SETLEASE:
    case F_GETLEASE:
        return lease_fcntl(f, fd, cmd, (unsigned long)arg);
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return posix_lock_fcntl(f, cmd, (void *)arg);
    case F_ADD_SEALS:
    case F_GET_SEALS:
        return memfd_seals(f, cmd, (unsigned)arg);
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        return pipe_fcntl(f, cmd, (unsigned long)arg);
    default:
        return -EINVAL;
    }
}

long sys_umask(int mask)
{
    uint32_t old = current()->fs->umask;
    current()->fs->umask = (uint32_t)mask & 0777;
    return old;
}

/* ---- mount ---- */

/* mount(2): the one disk, /dev/vda, holding ext2/ext3, on a directory. */
/* mount -t tmpfs: data is the options ("size=1m"), or NULL. */
static long mount_tmpfs(const char *target, const void *udata)
{
    char opts[64] = "";
    if (udata && strncpy_from_user(opts, udata, sizeof(opts)) < 0)
        return -EFAULT;
    opts[sizeof(opts) - 1] = 0;
    struct inode *dir;
    long r = vfs_lookup(current()->fs->cwd, target, LOOKUP_FOLLOW, &dir);
    if (r)
        return r;
    int err = -ENOTDIR;
    struct super *sb = S_ISDIR(dir->mode) ? tmpfs_new(opts, &err) : NULL;
    r = sb ? vfs_mount(sb, dir, target) : err;
    if (sb && r)
        tmpfs_kill(sb);
    iput(dir);
    return r;
}

/* mount(MS_REMOUNT): a mount's root is given; a tmpfs may become read-only
 * and writable again (LTP's read-only test file systems are made so);
 * other file systems keep what they are (EBUSY for a change). */
static long remount(const char *target, unsigned long flags)
{
    struct inode *root;
    long r = vfs_lookup(current()->fs->cwd, target, LOOKUP_FOLLOW, &root);
    if (r)
        return r;
    struct super *sb = root->sb;
    bool ro = (flags & MS_RDONLY) != 0;
    if (!sb || sb->root != root)
        r = -EINVAL;                            /* not a mount point */
    else if (!strcmp(sb->type, "tmpfs"))
        sb->read_only = ro;
    else if (sb->read_only != ro)
        r = -EBUSY;
    iput(root);
    return r;
}

/* mount -t proc / -t sysfs / -t mqueue: the one instance of each, once. */
static long mount_pseudo(const char *target, struct super *sb)
{
    if (vfs_is_mounted(sb))
        return -EBUSY;
    struct inode *dir;
    long r = vfs_lookup(current()->fs->cwd, target, LOOKUP_FOLLOW, &dir);
    if (r)
        return r;
    r = vfs_mount(sb, dir, target);
    iput(dir);
    return r;
}

long sys_mount(const char *usource, const char *utarget, const char *utype, unsigned long flags,
               const void *data)
{
    char source[64], type[16];
    PATH_BUF(target);
    if (current()->euid != 0)
        return -EPERM;
    long r = usource ? get_path(usource, source, sizeof(source)) : 0;  /* tmpfs needs none */
    if (!usource)
        memcpy(source, "none", 5);
    if (!r)
        r = get_path(utarget, target, PATH_MAX);
    if (!r && strncpy_from_user(type, utype, sizeof(type)) < 0)
        r = -EFAULT;
    if (r)
        return r;
    char *abs = vfs_abspath(current()->fs->cwd_path, target);   /* its name in /proc/mounts */
    if (!abs)
        return -ENOMEM;
    strlcpy(target, abs, PATH_MAX);
    kfree(abs);
    if (flags & MS_REMOUNT)
        return remount(target, flags);
    if (!strcmp(type, "tmpfs"))
        return mount_tmpfs(target, data);
    if (!strcmp(type, "proc") || !strcmp(type, "sysfs"))
        return mount_pseudo(target, !strcmp(type, "proc") ? procfs_super() : sysfs_super());
    if (!strcmp(type, "mqueue"))
        return mount_pseudo(target, mqueue_super());
    if (strcmp(type, "ext2") && strcmp(type, "ext3"))
        return -ENODEV;
    int part = vda_partition(source);
    if (part < 0)
        return -ENOENT;                         /* the only block device there is */
    struct inode *dir;
    if ((r = vfs_lookup(current()->fs->cwd, target, LOOKUP_FOLLOW, &dir)))
        return r;
    if (!S_ISDIR(dir->mode)) {
        iput(dir);
        return -ENOTDIR;
    }
    int err;
    struct super *sb = ext2_mount(part, flags & MS_RDONLY, &err);
    r = sb ? vfs_mount(sb, dir, target) : err;  /* err: why there is no usable file system */
    iput(dir);
    return r;
}

long sys_umount2(const char *utarget, int flags)
{
    PATH_BUF(target);
    if (current()->euid != 0)
        return -EPERM;
    if (flags & ~0xf)
        return -EINVAL;
    long r = get_path(utarget, target, PATH_MAX);
    if (r)
        return r;
    struct inode *root;
    if ((r = vfs_lookup(current()->fs->cwd, target, LOOKUP_FOLLOW, &root)))
        return r;
    iput(root);                                 /* (the mount holds it) */
    /* Linux's EBUSY: an open file, or a working directory, inside. */
    if (!strcmp(root->sb->type, "ext2") && ext2_busy())
        return -EBUSY;
    struct super *sb = root->sb;
    bool tmp = !strcmp(sb->type, "tmpfs");
    if (tmp && sb->root == root && tmpfs_busy(sb))
        return -EBUSY;
    r = vfs_umount(root);
    if (!r && tmp)
        tmpfs_kill(sb);
    return r;
}
