/* sys/sys_fsinfo.c - the file calls Debian's programs make beside open,
 * read and write: what a file system holds (statfs, fstatfs), the full
 * stat (statx), times (utimensat, utimes, utime, futimesat), extended
 * attributes, space (fallocate), syncfs, file handles (name_to_handle_at,
 * open_by_handle_at), the System V ustat and sysfs, and copies inside the
 * kernel (sendfile, copy_file_range).
 *
 * Why here and not in sys_file.c: these calls add nothing to the open-file
 * machinery; each takes a path or a descriptor, finds the inode through
 * the helpers sys_file.c exports (get_path, lookup_at, fd_get), and asks
 * the inode's file system. Their errors follow Linux's order of checks
 * (flags, then the path, then permission, then the file system), since
 * programs tell cases apart by errno.
 *
 * Choices where Linux's answer depends on the file system:
 * - extended attributes: tmpfs (a list per node, fs/xattr.c) and ext2
 *   (its attribute block) keep security., trusted. and user. ones, as
 *   Linux's do (tmpfs: since 6.6); elsewhere (/proc, the initrd) reading
 *   one is ENODATA, listing gives an empty list and setting is EOPNOTSUPP
 *   (cp -a and tar take that as "this file system keeps none" and go on
 *   quietly). Another namespace is EOPNOTSUPP everywhere;
 *   system.posix_acl_* is never stored (no ACLs).
 * - times are kept in whole seconds (ext2's 128-byte inode has no
 *   nanoseconds): utimensat's nanoseconds are accepted and dropped.
 * - fallocate: mode 0 and FALLOC_FL_KEEP_SIZE allocate by writing zeros
 *   into the holes of the range (a block that reads all zero is written
 *   back as zeros, which allocates a hole and leaves data alone), so it
 *   works on every writable file system and fails with ENOSPC as a write
 *   would; with KEEP_SIZE only up to the current end. Every other mode is
 *   EOPNOTSUPP, as Linux's ext2/ext3 (block-mapped files) answer.
 * - sendfile and copy_file_range copy between files that have an inode
 *   (regular files); an output without one (a pipe, the console) is
 *   EINVAL, which glibc, coreutils and Python all answer by falling back
 *   to read and write. splice, tee and vmsplice stay ENOSYS. */
#include "sys.h"
#include "syscall.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"
#include "../debug/debug.h"

/* ---- statfs, fstatfs ---- */

static int64_t fs_magic(const char *type)
{
    static const struct { const char *name; int64_t magic; } m[] = {
        { "ext2", EXT2_SUPER_MAGIC }, { "tmpfs", TMPFS_MAGIC }, { "initrd", RAMFS_MAGIC },
        { "proc", PROC_SUPER_MAGIC }, { "procfs", PROC_SUPER_MAGIC }, { "sysfs", SYSFS_MAGIC },
        { "devpts", DEVPTS_SUPER_MAGIC }, { "mqueue", MQUEUE_MAGIC },
    };
    for (size_t i = 0; i < ARRAY_SIZE(m); i++)
        if (type && !strcmp(type, m[i].name))
            return m[i].magic;
    return RAMFS_MAGIC;
}

static void statfs_of(struct super *sb, struct kstatfs *st)
{
    memset(st, 0, sizeof(*st));
    st->type = fs_magic(sb ? sb->type : NULL);
    st->bsize = st->frsize = PAGE_SIZE;
    st->namelen = NAME_MAX;
    if (sb && sb->statfs)
        sb->statfs(sb, st);
    uint64_t dev = sb ? sb->dev : 0;
    st->fsid[0] = (int32_t)(uint32_t)dev;
    st->fsid[1] = (int32_t)(uint32_t)(dev >> 32);
    st->flags = ST_VALID | (sb && sb->read_only ? ST_RDONLY : 0);
}

long sys_statfs(const char *upath, void *ubuf)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    struct inode *ino;
    if ((r = lookup_at(AT_FDCWD, path, LOOKUP_FOLLOW, &ino)))
        return r;
    struct kstatfs st;
    statfs_of(ino->sb, &st);
    iput(ino);
    return copy_to_user(ubuf, &st, sizeof(st)) ? -EFAULT : 0;
}

long sys_fstatfs(int fd, void *ubuf)
{
    struct file *f = fd_get_raw(fd);
    if (!f)
        return -EBADF;
    struct kstatfs st;
    if (f->inode) {
        statfs_of(f->inode->sb, &st);
    } else {
        /* A pipe is on Linux's pipefs; the console on devtmpfs. */
        struct kstat ks;
        memset(&ks, 0, sizeof(ks));
        if (f->ops->stat)
            f->ops->stat(f, &ks);
        statfs_of(NULL, &st);
        st.type = (ks.mode & S_IFMT) == S_IFIFO ? PIPEFS_MAGIC : TMPFS_MAGIC;
    }
    return copy_to_user(ubuf, &st, sizeof(st)) ? -EFAULT : 0;
}

/* ---- ustat, sysfs: the old System V questions ---- */

/* ustat(2): free blocks and inodes of the mounted file system whose device
 * number (as stat's st_dev gives it, truncated to 32 bits) is dev; EINVAL
 * if no mounted file system has it. */
long sys_ustat(unsigned dev, void *ubuf)
{
    struct super *sb;
    const char *path;
    for (int i = 0; vfs_mount_at(i, &sb, &path); i++) {
        if (!sb || (uint32_t)sb->dev != dev)
            continue;
        struct kstatfs st;
        statfs_of(sb, &st);
        struct { int32_t tfree, pad; uint64_t tinode; char fname[6], fpack[6]; uint32_t pad2; } u;
        memset(&u, 0, sizeof(u));
        u.tfree = (int32_t)st.bfree;
        u.tinode = st.ffree;
        return copy_to_user(ubuf, &u, sizeof(u)) ? -EFAULT : 0;
    }
    return -EINVAL;
}

static const struct { const char *name; bool nodev; } fs_types[] = {
    { "sysfs", true }, { "tmpfs", true }, { "proc", true }, { "mqueue", true },
    { "ext3", false }, { "ext2", false },
};

const char *fs_type_at(int i, bool *nodev)
{
    if (i < 0 || i >= (int)ARRAY_SIZE(fs_types))
        return NULL;
    *nodev = fs_types[i].nodev;
    return fs_types[i].name;
}

/* sysfs(2): option 1 turns a type's name into its index, 2 an index into
 * its name (into buf), 3 counts the types; anything else is EINVAL. */
long sys_sysfs(int option, unsigned long arg1, unsigned long arg2)
{
    switch (option) {
    case 1: {
        char name[32];
        long n = strncpy_from_user(name, (const char *)arg1, sizeof(name));
        if (n == -ENAMETOOLONG)
            return -EINVAL;
        if (n < 0)
            return n;
        for (int i = 0; i < (int)ARRAY_SIZE(fs_types); i++)
            if (!strcmp(name, fs_types[i].name))
                return i;
        return -EINVAL;
    }
    case 2: {
        unsigned idx = (unsigned)arg1;
        if (idx >= ARRAY_SIZE(fs_types))
            return -EINVAL;
        const char *name = fs_types[idx].name;
        return copy_to_user((void *)arg2, name, strlen(name) + 1) ? -EFAULT : 0;
    }
    case 3:
        return (long)ARRAY_SIZE(fs_types);
    default:
        return -EINVAL;
    }
}

/* ---- statx ---- */

struct statx_ts {
    int64_t sec;
    uint32_t nsec;
    int32_t pad;
};

struct statx_k {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, pad0;
    uint64_t ino, size, blocks, attributes_mask;
    struct statx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint32_t dio_mem_align, dio_offset_align;
    uint64_t spare[12];
};

static uint32_t dev_major(uint64_t d) { return (uint32_t)(((d >> 8) & 0xfff) | ((d >> 32) & ~0xffful)); }
static uint32_t dev_minor(uint64_t d) { return (uint32_t)((d & 0xff) | ((d >> 12) & ~0xfful)); }

/* The stat of what a path (or, with AT_EMPTY_PATH and an empty or NULL
 * path, dirfd itself) names, and its mount's id (statx's stx_mnt_id). */
static long stat_at(int dirfd, const char *upath, int flags, struct kstat *st, int *mnt_id)
{
    PATH_BUF(path);
    if (!path)
        return -ENOMEM;
    long n = 0;
    if (upath || !(flags & AT_EMPTY_PATH))
        n = strncpy_from_user(path, upath, PATH_MAX);
    if (n < 0)
        return n;
    if (n == 0 && !(flags & AT_EMPTY_PATH))
        return -ENOENT;
    struct inode *ino;
    if (n == 0 && dirfd != AT_FDCWD) {
        struct file *f = fd_get_raw(dirfd);
        if (!f)
            return -EBADF;
        if (!f->ops->stat)
            return -EINVAL;
        f->ops->stat(f, st);
        *mnt_id = f->inode ? vfs_mnt_id(f->inode->sb) : 0;
        return 0;
    }
    if (n == 0)
        ino = iget(current()->fs->cwd);
    else if ((n = lookup_at(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino)))
        return n;
    vfs_stat(ino, st);
    *mnt_id = vfs_mnt_id(ino->sb);
    iput(ino);
    return 0;
}

/* The inode a path (or, with AT_EMPTY_PATH and an empty path, dirfd's
 * file) names: a new reference; a descriptor with no inode (a pipe) is
 * EOPNOTSUPP. */
static long inode_at(int dirfd, const char *upath, int flags, struct inode **out)
{
    PATH_BUF(path);
    if (!path)
        return -ENOMEM;
    long n = strncpy_from_user(path, upath, PATH_MAX);
    if (n < 0)
        return n;
    if (n == 0 && !(flags & AT_EMPTY_PATH))
        return -ENOENT;
    if (n == 0 && dirfd != AT_FDCWD) {
        struct file *f = fd_get_raw(dirfd);
        if (!f)
            return -EBADF;
        if (!f->inode)
            return -EOPNOTSUPP;
        *out = iget(f->inode);
        return 0;
    }
    if (n == 0) {
        *out = iget(current()->fs->cwd);
        return 0;
    }
    return lookup_at(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, out);
}

long sys_statx(int dirfd, const char *upath, int flags, unsigned mask, void *ubuf)
{
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (mask & STATX__RESERVED)
        return -EINVAL;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    struct kstat st;
    int mnt_id = 0;
    long r = stat_at(dirfd, upath, flags, &st, &mnt_id);
    if (r)
        return r;
    /* Everything basic is always known (the mask is what the caller would
     * like; Linux may give more); no birth time is kept. */
    struct statx_k x;
    memset(&x, 0, sizeof(x));
    x.mask = STATX_BASIC_STATS | STATX_MNT_ID;
    x.blksize = (uint32_t)st.blksize;
    x.nlink = (uint32_t)st.nlink;
    x.uid = st.uid;
    x.gid = st.gid;
    x.mode = (uint16_t)st.mode;
    x.ino = st.ino;
    x.size = (uint64_t)st.size;
    x.blocks = (uint64_t)st.blocks;
    x.atime = (struct statx_ts){ (int64_t)st.atime, (uint32_t)st.atime_ns, 0 };
    x.mtime = (struct statx_ts){ (int64_t)st.mtime, (uint32_t)st.mtime_ns, 0 };
    x.ctime = (struct statx_ts){ (int64_t)st.ctime, (uint32_t)st.ctime_ns, 0 };
    x.rdev_major = dev_major(st.rdev);
    x.rdev_minor = dev_minor(st.rdev);
    x.dev_major = dev_major(st.dev);
    x.dev_minor = dev_minor(st.dev);
    x.mnt_id = (uint64_t)mnt_id;
    return copy_to_user(ubuf, &x, sizeof(x)) ? -EFAULT : 0;
}

/* ---- utimensat, futimesat, utimes, utime ---- */

struct ts_k {
    int64_t sec, nsec;
};

static bool nsec_ok(int64_t ns) { return ns == UTIME_NOW || ns == UTIME_OMIT || (ns >= 0 && ns <= 999999999); }

/* Linux's vfs_utimes: t NULL (or both UTIME_NOW) touches the file, which
 * its owner, root, or anyone who may write it may do (else EACCES); any
 * other time is set only by the owner or root (else EPERM). ctime is now. */
static long set_times(struct inode *ino, const struct ts_k *t)
{
    if (t && (!nsec_ok(t[0].nsec) || !nsec_ok(t[1].nsec)))
        return -EINVAL;
    if (t && t[0].nsec == UTIME_NOW && t[1].nsec == UTIME_NOW)
        t = NULL;
    if (!ino->ops->setattr || ino->sb->read_only)
        return -EROFS;
    struct proc *p = current();
    bool owner = p->euid == 0 || p->euid == ino->uid;
    if (t && !owner)
        return -EPERM;
    if (!t && !owner) {
        long r = vfs_permission(ino, MAY_WRITE);
        if (r)
            return r;
    }
    int64_t now = (int64_t)(time_realtime_ns() / 1000000000);
    if (!t || t[0].nsec != UTIME_OMIT)
        ino->atime = !t || t[0].nsec == UTIME_NOW ? now : t[0].sec;
    if (!t || t[1].nsec != UTIME_OMIT)
        ino->mtime = !t || t[1].nsec == UTIME_NOW ? now : t[1].sec;
    ino->ctime = now;
    return ino->ops->setattr(ino);
}

static long do_utimes(int dirfd, const char *upath, const struct ts_k *t, int flags)
{
    if (!upath && dirfd != AT_FDCWD) {
        if (flags)
            return -EINVAL;
        struct file *f = fd_get(dirfd);
        if (!f)
            return -EBADF;
        long r = f->inode ? set_times(f->inode, t) : 0;
        if (!r)
            fsnotify_file(f, IN_ATTRIB);
        return r;
    }
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    PATH_BUF(path);
    if (!path)
        return -ENOMEM;
    long n = strncpy_from_user(path, upath, PATH_MAX);
    if (n < 0)
        return n;
    struct inode *ino;
    if (n == 0) {
        if (!(flags & AT_EMPTY_PATH))
            return -ENOENT;
        if (dirfd == AT_FDCWD) {
            ino = iget(current()->fs->cwd);
        } else {
            struct file *f = fd_get_raw(dirfd);
            if (!f)
                return -EBADF;
            long r = f->inode ? set_times(f->inode, t) : 0;
            if (!r)
                fsnotify_file(f, IN_ATTRIB);
            return r;
        }
    } else if ((n = lookup_at(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW, &ino))) {
        return n;
    }
    long r = set_times(ino, t);
    if (!r && path[0])
        notify_path(dirfd, path, ino, IN_ATTRIB);
    else if (!r)
        fsnotify_child(NULL, NULL, 0, ino, IN_ATTRIB, 0);
    iput(ino);
    return r;
}

long sys_utimensat(int dirfd, const char *upath, const void *utimes, int flags)
{
    struct ts_k t[2];
    if (utimes) {
        if (copy_from_user(t, utimes, sizeof(t)))
            return -EFAULT;
        if (t[0].nsec == UTIME_OMIT && t[1].nsec == UTIME_OMIT)
            return 0;                           /* nothing to do: not even the path is looked at */
    }
    return do_utimes(dirfd, upath, utimes ? t : NULL, flags);
}

long sys_futimesat(int dirfd, const char *upath, const void *utv)
{
    struct ts_k t[2];
    if (utv) {
        if (copy_from_user(t, utv, sizeof(t)))
            return -EFAULT;
        for (int i = 0; i < 2; i++) {
            if (t[i].nsec < 0 || t[i].nsec >= 1000000)
                return -EINVAL;
            t[i].nsec *= 1000;                  /* microseconds */
        }
    }
    return do_utimes(dirfd, upath, utv ? t : NULL, 0);
}

long sys_utimes(const char *upath, const void *utv) { return sys_futimesat(AT_FDCWD, upath, utv); }

long sys_utime(const char *upath, const void *ubuf)
{
    struct ts_k t[2];
    if (ubuf) {
        int64_t b[2];                           /* struct utimbuf: actime, modtime */
        if (copy_from_user(b, ubuf, sizeof(b)))
            return -EFAULT;
        t[0] = (struct ts_k){ b[0], 0 };
        t[1] = (struct ts_k){ b[1], 0 };
    }
    return do_utimes(AT_FDCWD, upath, ubuf ? t : NULL, 0);
}

/* ---- extended attributes ---- */

/* The name: -EFAULT, or -ERANGE if empty or longer than XATTR_NAME_MAX. */
static long xattr_name(const char *uname, char name[XATTR_NAME_MAX + 1])
{
    long n = strncpy_from_user(name, uname, XATTR_NAME_MAX + 1);
    if (n == -ENAMETOOLONG)
        return -ERANGE;
    if (n < 0)
        return n;
    if (n == 0 || n > XATTR_NAME_MAX)
        return -ERANGE;
    return 0;
}

static bool prefixed(const char *name, const char *prefix) { return !strncmp(name, prefix, strlen(prefix)); }

/* May the caller read (mask MAY_READ) or write this attribute of ino? 0,
 * or why not, in Linux's order (xattr_permission, then the capability
 * module's rule for security.*): trusted.* is root's (others: EPERM to
 * write, ENODATA to read: for them it is not there); user.* only on
 * regular files and directories, by their mode bits, and in a sticky
 * directory written only by its owner; security.* read by anyone and
 * written by root; a namespace Linux does not know is EOPNOTSUPP. */
static long xattr_check_ns(struct inode *ino, const char *name, int mask);

static long xattr_check(struct inode *ino, const char *name, int mask)
{
    long r = xattr_check_ns(ino, name, mask);
    /* A namespace's prefix alone names no attribute (Linux's
     * xattr_resolve_name): EINVAL once the rules above let the caller by. */
    if (!r && (!strcmp(name, "user.") || !strcmp(name, "trusted.") || !strcmp(name, "security.")))
        r = -EINVAL;
    return r;
}

static long xattr_check_ns(struct inode *ino, const char *name, int mask)
{
    struct proc *p = current();
    bool user = prefixed(name, "user.");
    if (!user && !prefixed(name, "trusted.") && !prefixed(name, "security.") &&
        strcmp(name, "system.posix_acl_access") && strcmp(name, "system.posix_acl_default"))
        return -EOPNOTSUPP;
    if (prefixed(name, "security.") || prefixed(name, "system."))
        return mask == MAY_WRITE && p->euid != 0 && prefixed(name, "security.") ? -EPERM : 0;
    if (prefixed(name, "trusted.") && p->euid != 0)
        return mask == MAY_WRITE ? -EPERM : -ENODATA;
    if (user && !S_ISREG(ino->mode) && !S_ISDIR(ino->mode))
        return mask == MAY_WRITE ? -EPERM : -ENODATA;
    if (user && mask == MAY_WRITE && S_ISDIR(ino->mode) && (ino->mode & S_ISVTX) &&
        p->euid != 0 && p->euid != ino->uid)
        return -EPERM;
    return vfs_permission(ino, mask);
}

/* The inode a path (follow: not with the l* calls) or a descriptor names. */
static long xattr_inode(const char *upath, int fd, bool follow, struct inode **out)
{
    if (!upath) {
        struct file *f = fd_get(fd);
        if (!f)
            return -EBADF;
        if (!f->inode)
            return -EOPNOTSUPP;
        *out = iget(f->inode);
        return 0;
    }
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    return r ? r : lookup_at(AT_FDCWD, path, follow ? LOOKUP_FOLLOW : 0, out);
}

/* getxattr: what the file system holds (ENODATA if it keeps none: as
 * ext2 with none set), copied out; size 0 asks for the size. */
static long get_xattr(const char *upath, int fd, bool follow, const char *uname, void *uvalue, size_t size)
{
    char name[XATTR_NAME_MAX + 1];
    struct inode *ino;
    if (!upath && !fd_get(fd))
        return -EBADF;
    long r = xattr_name(uname, name);
    if (!r)
        r = xattr_inode(upath, fd, follow, &ino);
    if (r)
        return r;
    r = xattr_check(ino, name, MAY_READ);
    if (!r && !ino->ops->getxattr)
        r = -ENODATA;                           /* none kept: none there */
    if (r) {
        iput(ino);
        return r;
    }
    size = MIN(size, (size_t)XATTR_SIZE_MAX);
    char *buf = size ? kmalloc(size) : NULL;
    if (size && !buf)
        r = -ENOMEM;
    else
        r = ino->ops->getxattr(ino, name, buf, size);
    iput(ino);
    if (r > 0 && size && copy_to_user(uvalue, buf, (size_t)r))
        r = -EFAULT;
    kfree(buf);
    return r;
}

long sys_getxattr(const char *p, const char *n, void *v, size_t s) { return get_xattr(p, -1, true, n, v, s); }
long sys_lgetxattr(const char *p, const char *n, void *v, size_t s) { return get_xattr(p, -1, false, n, v, s); }
long sys_fgetxattr(int fd, const char *n, void *v, size_t s) { return get_xattr(NULL, fd, true, n, v, s); }

/* listxattr: the names, each NUL-ended, that the caller may see (an empty
 * list where none are kept); size 0 asks for the size. */
static long list_xattr(const char *upath, int fd, bool follow, char *ulist, size_t size)
{
    struct inode *ino;
    long r = xattr_inode(upath, fd, follow, &ino);
    if (r)
        return r;
    if (!ino->ops->listxattr) {
        iput(ino);
        return 0;                               /* none: an empty list */
    }
    size = MIN(size, (size_t)XATTR_LIST_MAX);
    char *buf = size ? kmalloc(size) : NULL;
    r = size && !buf ? -ENOMEM : ino->ops->listxattr(ino, buf, size);
    iput(ino);
    if (r > XATTR_LIST_MAX)
        r = -E2BIG;
    if (r > 0 && size && copy_to_user(ulist, buf, (size_t)r))
        r = -EFAULT;
    kfree(buf);
    return r;
}

long sys_listxattr(const char *p, char *l, size_t s) { return list_xattr(p, -1, true, l, s); }
long sys_llistxattr(const char *p, char *l, size_t s) { return list_xattr(p, -1, false, l, s); }
long sys_flistxattr(int fd, char *l, size_t s) { return list_xattr(NULL, fd, true, l, s); }

/* setxattr and removexattr (uvalue NULL with remove): the value is copied
 * in before the file is looked up, as Linux does. */
static long set_xattr(const char *upath, int fd, bool follow, const char *uname, const void *uvalue,
                      size_t size, int flags, bool remove)
{
    char name[XATTR_NAME_MAX + 1];
    struct inode *ino;
    if (!upath && !fd_get(fd))
        return -EBADF;
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    long r = xattr_name(uname, name);
    if (r)
        return r;
    if (size > XATTR_SIZE_MAX)
        return -E2BIG;
    char *value = remove ? NULL : kmalloc(size ? size : 1);
    if (!remove && !value)
        return -ENOMEM;
    if (value && size && copy_from_user(value, uvalue, size)) {
        kfree(value);
        return -EFAULT;
    }
    if ((r = xattr_inode(upath, fd, follow, &ino))) {
        kfree(value);
        return r;
    }
    if (!ino->ops->setattr || ino->sb->read_only)
        r = -EROFS;
    else if ((r = xattr_check(ino, name, MAY_WRITE)))
        ;
    else if (!ino->ops->setxattr || prefixed(name, "system."))
        r = remove && !ino->ops->setxattr ? -ENODATA : -EOPNOTSUPP;
    else
        r = ino->ops->setxattr(ino, name, value, size, flags);
    if (!r)
        fsnotify_child(NULL, NULL, 0, ino, IN_ATTRIB, 0);      /* (inotify: the inode's own watches) */
    iput(ino);
    kfree(value);
    return r;
}

long sys_setxattr(const char *p, const char *n, const void *v, size_t s, int fl)
{
    return set_xattr(p, -1, true, n, v, s, fl, false);
}

long sys_lsetxattr(const char *p, const char *n, const void *v, size_t s, int fl)
{
    return set_xattr(p, -1, false, n, v, s, fl, false);
}

long sys_fsetxattr(int fd, const char *n, const void *v, size_t s, int fl)
{
    return set_xattr(NULL, fd, true, n, v, s, fl, false);
}

long sys_removexattr(const char *p, const char *n) { return set_xattr(p, -1, true, n, NULL, 0, 0, true); }
long sys_lremovexattr(const char *p, const char *n) { return set_xattr(p, -1, false, n, NULL, 0, 0, true); }
long sys_fremovexattr(int fd, const char *n) { return set_xattr(NULL, fd, true, n, NULL, 0, 0, true); }

/* ---- mknod, mknodat ----
 * FIFOs (opened through pipe.c's fifo_open), socket nodes (no sockets:
 * opening one is ENXIO), empty regular files, and, for root, character and
 * block devices: those only on tmpfs, whose nodes keep a device number
 * (elsewhere EPERM, as Linux says for a file system without mknod). */
long sys_mknodat(int dirfd, const char *upath, unsigned mode, unsigned dev)
{
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r)
        return r;
    uint32_t type = mode & S_IFMT;
    switch (type) {
    case 0:
        type = S_IFREG;
        break;
    case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
        break;
    case S_IFDIR:
        return -EPERM;                          /* mkdir's job */
    default:
        return -EINVAL;
    }
    struct inode *dir;
    const char *name;
    size_t len;
    if ((r = parent_for_change(dirfd, path, &dir, &name, &len)))
        return r;
    uint32_t m = type | (mode & 07777 & ~current()->fs->umask);
    bool device = type == S_IFCHR || type == S_IFBLK;
    struct inode *old;
    if (len == 0 || (dir->ops->lookup && !dir->ops->lookup(dir, name, len, &old) && (iput(old), 1)))
        r = -EEXIST;
    else if (!dir->ops->create || dir->sb->read_only)
        r = -EROFS;
    else if (device && current()->euid != 0)
        r = -EPERM;                             /* Linux: CAP_MKNOD */
    else if (device && strcmp(dir->sb->type, "tmpfs"))
        r = -EPERM;
    else if (device) {
        char leaf[NAME_MAX + 1];
        memcpy(leaf, name, len);
        leaf[len] = 0;
        r = tmpfs_mknod(dir, leaf, m, dev);
    } else {
        r = dir->ops->create(dir, name, len, m, NULL, NULL);
    }
    if (!r)
        fsnotify_child(dir, name, len, NULL, IN_CREATE, 0);
    iput(dir);
    return r;
}

long sys_mknod(const char *path, unsigned mode, unsigned dev) { return sys_mknodat(AT_FDCWD, path, mode, dev); }

/* ---- fadvise64, readahead, sync_file_range: hints ----
 * Vigil has no readahead or writeback to steer (reads come through the
 * buffer cache, writes are made durable by fsync's commit), so these check
 * their arguments as Linux does and succeed. sync_file_range promises no
 * durability on Linux either. */

static uint32_t mode_of(struct file *f)
{
    if (f->inode)
        return f->inode->mode;
    struct kstat ks;
    memset(&ks, 0, sizeof(ks));
    if (f->ops->stat)
        f->ops->stat(f, &ks);
    return ks.mode;
}

long sys_fadvise64(int fd, int64_t off, int64_t len, int advice)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (S_ISFIFO(mode_of(f)))
        return -ESPIPE;
    if (advice < 0 || advice > 5)               /* POSIX_FADV_NORMAL ... NOREUSE */
        return -EINVAL;
    (void)off, (void)len;
    return 0;
}

long sys_readahead(int fd, int64_t off, size_t count)
{
    struct file *f = fd_get(fd);
    if (!f || (f->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    (void)off, (void)count;
    return f->inode && S_ISREG(f->inode->mode) ? 0 : -EINVAL;
}

long sys_sync_file_range(int fd, int64_t off, int64_t n, unsigned flags)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int64_t end;
    if ((flags & ~7u) || off < 0 || n < 0 || __builtin_add_overflow(off, n, &end))
        return -EINVAL;
    uint32_t m = mode_of(f);
    if (!S_ISREG(m) && !S_ISDIR(m) && !S_ISLNK(m) && (m & S_IFMT) != S_IFBLK)
        return -ESPIPE;
    return 0;
}

/* ---- syncfs, name_to_handle_at ---- */

long sys_syncfs(int fd)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (f->inode && f->inode->ops->sync)
        return f->inode->ops->sync(f->inode->sb);
    return 0;
}

/* Vigil has no sockets (a socket node made by mknod cannot be opened), so
 * no descriptor is one: programs ask this to learn whether stdin is a
 * socket (bash does) and take ENOTSOCK for no, as on Linux. */
long sys_getsockname(int fd, void *addr, int *addrlen)
{
    (void)addr, (void)addrlen;
    return fd_get(fd) ? -ENOTSOCK : -EBADF;
}

long sys_getpeername(int fd, void *addr, int *addrlen)
{
    (void)addr, (void)addrlen;
    return fd_get(fd) ? -ENOTSOCK : -EBADF;
}

/* File handles (name_to_handle_at, open_by_handle_at): a file named by
 * its inode number and generation on its file system, Linux's
 * FILEID_INO32_GEN, for file systems that can find an inode by number
 * (super.fh_to_inode: ext2, tmpfs). The header is struct file_handle:
 * handle_bytes, handle_type, then the bytes. */
struct fh_k {
    uint32_t bytes;
    int32_t type;
    uint32_t ino, gen;
};

long sys_name_to_handle_at(int dirfd, const char *upath, void *uhandle, int *umnt_id, int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct inode *ino;
    long r = inode_at(dirfd, upath, (flags & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW) | (flags & AT_EMPTY_PATH),
                      &ino);
    if (r)
        return r;
    struct fh_k h;
    int mnt_id = vfs_mnt_id(ino->sb);
    if (!ino->sb || !ino->sb->fh_to_inode)
        r = -EOPNOTSUPP;
    else if (copy_from_user(&h, uhandle, 8))
        r = -EFAULT;
    else if (h.bytes > MAX_HANDLE_SZ)
        r = -EINVAL;
    else if (h.bytes < 8) {
        h.type = 255;                           /* FILEID_INVALID, with the size it needs */
        r = -EOVERFLOW;
    } else {
        h.type = FILEID_INO32_GEN;
        h.ino = (uint32_t)ino->ino;
        h.gen = ino->gen;
    }
    iput(ino);
    if (r && r != -EOVERFLOW)
        return r;
    h.bytes = 8;
    if (copy_to_user(umnt_id, &mnt_id, sizeof(mnt_id)) || copy_to_user(uhandle, &h, r ? 8 : sizeof(h)))
        return -EFAULT;
    return r;
}

/* open_by_handle_at(2): root only (Linux: CAP_DAC_READ_SEARCH); the
 * handle is looked for on mount_fd's file system (AT_FDCWD: the working
 * directory's); then open(2)'s checks, as for a path. */
long sys_open_by_handle_at(int mount_fd, void *uhandle, int flags)
{
    if (current()->euid != 0)
        return -EPERM;
    /* The handle first: a copy may sleep (a fault), and meanwhile another
     * thread may leave the working directory or close mount_fd, letting
     * the inode go (iset's rule: nothing holds one across a sleep without
     * a reference). */
    struct fh_k h;
    if (copy_from_user(&h, uhandle, 8))
        return -EFAULT;
    if (h.bytes == 0 || h.bytes > MAX_HANDLE_SZ)
        return -EINVAL;
    if (copy_from_user(&h, uhandle, MIN(sizeof(h), 8 + (size_t)h.bytes)))
        return -EFAULT;
    struct inode *where;
    if (mount_fd == AT_FDCWD) {
        where = current()->fs->cwd;
    } else {
        struct file *f = fd_get_raw(mount_fd);
        if (!f)
            return -EBADF;
        where = f->inode;
    }
    struct super *sb = where ? where->sb : NULL;
    struct inode *ino;
    if (!sb || !sb->fh_to_inode || h.type != FILEID_INO32_GEN || h.bytes < 8)
        return -ESTALE;
    long r = sb->fh_to_inode(sb, h.ino, h.gen, &ino);
    if (r)
        return r;
    struct file *f;
    if (flags & O_PATH) {
        flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
        if (!(f = vfs_open(ino, flags))) {
            iput(ino);
            return -ENOMEM;
        }
    } else if ((r = open_inode(ino, flags & ~(O_CREAT | O_EXCL | __O_TMPFILE), false, &f))) {
        return r;
    }
    f->flags = flags & ~(O_CREAT | O_EXCL);
    int fd = fd_install(f, 0, flags & O_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

/* ---- fallocate ---- */

long sys_fallocate(int fd, int mode, int64_t off, int64_t len)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (off < 0 || len <= 0)
        return -EINVAL;
    /* The shapes of mode Linux knows (others: EOPNOTSUPP before anything
     * else); of those Vigil does only allocation (0, KEEP_SIZE). */
    int m = mode & ~FALLOC_FL_KEEP_SIZE;
    bool keep = mode & FALLOC_FL_KEEP_SIZE;
    if (!(m == 0 || m == FALLOC_FL_UNSHARE_RANGE || m == FALLOC_FL_ZERO_RANGE ||
          (m == FALLOC_FL_PUNCH_HOLE && keep) ||
          ((m == FALLOC_FL_COLLAPSE_RANGE || m == FALLOC_FL_INSERT_RANGE || m == FALLOC_FL_WRITE_ZEROES) && !keep)))
        return -EOPNOTSUPP;
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    struct inode *ino = f->inode;
    if (!ino) {                                 /* a pipe (ESPIPE), a device (ENODEV) */
        struct kstat ks;
        memset(&ks, 0, sizeof(ks));
        if (f->ops->stat)
            f->ops->stat(f, &ks);
        return (ks.mode & S_IFMT) == S_IFIFO ? -ESPIPE : -ENODEV;
    }
    if (S_ISDIR(ino->mode))
        return -EISDIR;
    if (!S_ISREG(ino->mode))
        return -ENODEV;
    int64_t end;
    if (__builtin_add_overflow(off, len, &end) || (ino->sb->maxbytes && (uint64_t)end > ino->sb->maxbytes))
        return -EFBIG;
    if (m == FALLOC_FL_PUNCH_HOLE && ino->sb->type && !strcmp(ino->sb->type, "tmpfs")) {
        /* tmpfs (and memfd): the range reads as zeros again, the size stays
         * (Linux frees the pages; Vigil writes zeros over them). */
        if ((ino->seals & SEALS_MEMFD) && (ino->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
            return -EPERM;                      /* a write-sealed memfd */
        if (sb_ro(ino) || !ino->ops->write)
            return -EROFS;
        return filemap_zero_range(ino, (uint64_t)off, (uint64_t)end);
    }
    if (m)
        return -EOPNOTSUPP;                     /* as ext2/ext3 (block-mapped files) say */
    if (sb_ro(ino) || !ino->ops->write || !ino->ops->read)
        return -EROFS;
    if ((ino->seals & SEALS_MEMFD) && (ino->seals & F_SEAL_GROW) && (uint64_t)end > ino->size)
        return -EPERM;                          /* a memfd sealed against growing */
    uint64_t want_end = (uint64_t)end;
    if (mode & FALLOC_FL_KEEP_SIZE)
        want_end = MIN(want_end, ino->size);    /* beyond the end: nothing to keep (see above) */
    else {
        size_t n = 1;
        long r = fsize_check((uint64_t)end - 1, &n);
        if (r)
            return r;
    }
    uint8_t *buf = kmalloc(PAGE_SIZE);
    if (!buf)
        return -ENOMEM;
    long r = 0;
    for (uint64_t pos = ALIGN_DOWN((uint64_t)off, PAGE_SIZE); pos < want_end && !r; pos += PAGE_SIZE) {
        uint64_t from = MAX(pos, (uint64_t)off), to = MIN(pos + PAGE_SIZE, want_end);
        /* KEEP_SIZE clips want_end to the size, which may lie below off in
         * off's own page: nothing to do (to - from would be negative and
         * the memset below run over the kernel: found by trinity). */
        if (from >= to)
            break;
        size_t n = (size_t)(to - from);
        long got = from < ino->size ? ino->ops->read(ino, from, buf, n) : 0;
        if (got < 0) {
            r = got;
            break;
        }
        bool zero = true;
        for (long i = 0; i < got && zero; i++)
            zero = buf[i] == 0;
        if (!zero)
            continue;                           /* data: allocated already */
        memset(buf, 0, n);
        long w = ino->ops->write(ino, from, buf, n);
        if (w < 0)
            r = w;
        else if ((size_t)w < n)
            r = -ENOSPC;
        if (proc_fatal_signal_pending())
            r = r ? r : -EINTR;
    }
    kfree(buf);
    if (!r && !(mode & FALLOC_FL_KEEP_SIZE) && (uint64_t)end > ino->size && ino->ops->truncate)
        r = ino->ops->truncate(ino, (uint64_t)end);
    return r;
}

/* ---- sendfile, copy_file_range ---- */

/* Copy up to n bytes from in at *ipos to out at *opos through a kernel
 * page; the positions advance. Bytes copied, or -errno if none were. */
static long copy_inodes(struct inode *in, uint64_t *ipos, struct inode *out, uint64_t *opos, size_t n)
{
    if (!in->ops->read)
        return -EINVAL;
    if (!out->ops->write)
        return -EROFS;
    long r = fsize_check(*opos, &n);
    if (r)
        return r;
    uint8_t *buf = kmalloc(PAGE_SIZE);
    if (!buf)
        return -ENOMEM;
    long total = 0;
    while ((size_t)total < n) {
        size_t k = MIN(n - (size_t)total, PAGE_SIZE);
        long got = in->ops->read(in, *ipos, buf, k);
        if (got <= 0) {
            r = got;
            break;
        }
        long put = out->ops->write(out, *opos, buf, (size_t)got);
        if (put <= 0) {
            r = put;
            break;
        }
        *ipos += (uint64_t)put;
        *opos += (uint64_t)put;
        total += put;
        if (put < got || proc_signal_pending())
            break;
    }
    kfree(buf);
    return total ? total : r;
}

long sys_sendfile(int out_fd, int in_fd, int64_t *uoff, size_t count)
{
    struct file *in = fd_get(in_fd);
    if (!in || (in->flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    int64_t pos = (int64_t)in->off;
    if (uoff && copy_from_user(&pos, uoff, sizeof(pos)))
        return -EFAULT;
    struct file *out = fd_get(out_fd);
    if (!out || (out->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (out->flags & O_APPEND)
        return -EINVAL;
    if (pos < 0)
        return -EINVAL;
    if (!in->inode || !S_ISREG(in->inode->mode) || !out->inode || !S_ISREG(out->inode->mode))
        return -EINVAL;                         /* (see the note at the top) */
    count = MIN(count, 0x7ffff000ul);           /* Linux's MAX_RW_COUNT */
    uint64_t ipos = (uint64_t)pos, opos = out->off;
    long r = copy_inodes(in->inode, &ipos, out->inode, &opos, count);
    if (r > 0) {
        out->off = opos;
        out->size = out->inode->size;
        if (!uoff)
            in->off = ipos;
    }
    if (uoff && r >= 0) {
        int64_t np = (int64_t)ipos;
        if (copy_to_user(uoff, &np, sizeof(np)))
            return -EFAULT;
    }
    return r;
}

long sys_copy_file_range(int fd_in, int64_t *uoff_in, int fd_out, int64_t *uoff_out, size_t len,
                         unsigned flags)
{
    if (flags)
        return -EINVAL;
    struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
    if (!in || !out)
        return -EBADF;
    int64_t ip = (int64_t)in->off, op = (int64_t)out->off;
    if (uoff_in && copy_from_user(&ip, uoff_in, sizeof(ip)))
        return -EFAULT;
    if (uoff_out && copy_from_user(&op, uoff_out, sizeof(op)))
        return -EFAULT;
    if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY ||
        (out->flags & O_APPEND))
        return -EBADF;
    struct inode *a = in->inode, *b = out->inode;
    if ((a && S_ISDIR(a->mode)) || (b && S_ISDIR(b->mode)))
        return -EISDIR;
    if (!a || !b || !S_ISREG(a->mode) || !S_ISREG(b->mode))
        return -EINVAL;
    if (ip < 0 || op < 0)
        return -EINVAL;
    if (a == b && (uint64_t)ip < (uint64_t)op + len && (uint64_t)op < (uint64_t)ip + len)
        return -EINVAL;                         /* overlapping ranges of one file */
    if (a->sb != b->sb && strcmp(a->sb->type, b->sb->type))
        return -EXDEV;
    if (!len)
        return 0;
    uint64_t ipos = (uint64_t)ip, opos = (uint64_t)op;
    long r = copy_inodes(a, &ipos, b, &opos, MIN(len, 0x7ffff000ul));
    if (r <= 0)
        return r;
    int64_t ni = (int64_t)ipos, no = (int64_t)opos;
    if (uoff_in ? copy_to_user(uoff_in, &ni, sizeof(ni)) : (in->off = ipos, 0))
        return -EFAULT;
    if (uoff_out ? copy_to_user(uoff_out, &no, sizeof(no)) : (out->off = opos, 0))
        return -EFAULT;
    out->size = b->size;
    return r;
}

/* ---- memfd_create, and its seals (fcntl F_ADD_SEALS, F_GET_SEALS) ----
 * A memfd is a file of an internal tmpfs (never mounted) whose name is
 * removed as soon as it is opened: memory with a descriptor. Its seals
 * forbid, for good, writing (F_SEAL_WRITE), growing (F_SEAL_GROW) or
 * shrinking it (F_SEAL_SHRINK), and more seals (F_SEAL_SEAL); sys_write,
 * truncate and fallocate ask seal_check. */

static struct super *memfd_sb;          /* [klock] made at the first memfd_create */
static uint64_t memfd_count;            /* [klock] for unique names */

long sys_memfd_create(const char *uname, unsigned flags)
{
    char name[250];
    if (flags & ~(unsigned)(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC))
        return -EINVAL;
    if ((flags & MFD_HUGETLB) || ((flags & MFD_NOEXEC_SEAL) && (flags & MFD_EXEC)))
        return -EINVAL;                         /* no huge pages here */
    long n = strncpy_from_user(name, uname, sizeof(name));
    if (n == -ENAMETOOLONG || n >= (long)sizeof(name))
        return -EINVAL;                         /* Linux: at most 249 bytes */
    if (n < 0)
        return n;
    int err = 0;
    if (!memfd_sb && !(memfd_sb = tmpfs_new(NULL, &err)))
        return err;
    struct inode *dir = memfd_sb->root, *ino;
    char tmp[32];
    size_t len = (size_t)snprintf(tmp, sizeof(tmp), "memfd-%lu", ++memfd_count);
    uint32_t mode = S_IFREG | ((flags & MFD_NOEXEC_SEAL) ? 0666 : 0777);
    if ((err = dir->ops->create(dir, tmp, len, mode, NULL, &ino)))
        return err;
    dir->ops->unlink(dir, tmp, len, false);     /* open, and nameless */
    ino->seals = SEALS_MEMFD | ((flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL)) ? 0 : F_SEAL_SEAL);
    struct file *f = vfs_open(ino, O_RDWR);
    if (!f) {
        iput(ino);
        return -ENOMEM;
    }
    f->flags = O_RDWR;
    /* What /proc/PID/fd/N and maps show for it, as on Linux. */
    size_t plen = (size_t)n + sizeof("/memfd: (deleted)");
    if ((f->path = kmalloc(plen)))
        snprintf(f->path, plen, "/memfd:%s (deleted)", name);
    int fd = fd_install(f, 0, flags & MFD_CLOEXEC);
    if (fd < 0)
        file_close(f);
    return fd;
}

long memfd_seals(struct file *f, int cmd, unsigned seals)
{
    struct inode *ino = f->inode;
    if (!ino || !(ino->seals & SEALS_MEMFD))
        return -EINVAL;
    if (cmd == F_GET_SEALS)
        return ino->seals & ~SEALS_MEMFD;
    if (seals & ~(unsigned)(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
        return -EINVAL;
    if ((f->flags & O_ACCMODE) == O_RDONLY || (ino->seals & F_SEAL_SEAL))
        return -EPERM;
    /* A write seal cannot be added while a shared mapping may write. */
    if ((seals & F_SEAL_WRITE) && !(ino->seals & F_SEAL_WRITE) && mm_file_mapped_writable(ino))
        return -EBUSY;
    ino->seals |= seals;
    return 0;
}

long seal_check(struct inode *ino, uint64_t pos, uint64_t n, bool truncate)
{
    uint32_t s = ino->seals;
    if (!(s & SEALS_MEMFD))
        return 0;
    if (!truncate && n && (s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
        return -EPERM;
    uint64_t end = truncate ? pos : pos + n;
    if ((s & F_SEAL_GROW) && end > ino->size)
        return -EPERM;
    if ((s & F_SEAL_SHRINK) && truncate && end < ino->size)
        return -EPERM;
    return 0;
}
