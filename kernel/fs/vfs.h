/* fs/vfs.h - the file-system switch: inodes, path lookup and the mounted
 * root, whatever file system holds them (the initrd's cpio tree, ext2 on
 * the disk). A file system supplies inode_ops; everything above (open files,
 * exec, the syscalls) goes through the functions here. */
#pragma once
#include "../lib/types.h"
#include "../lib/abi.h"

struct inode;
struct file;
struct kstat;
struct super;

#define SYMLOOP_MAX 40

/* Directory iteration callback: false stops (the buffer is full). */
typedef bool (*filldir_t)(void *ctx, const char *name, size_t len, uint64_t ino,
                          unsigned dtype, uint64_t next_pos);

struct inode_ops {
    /* Find name in dir: 0 and a new reference in *out, or -errno. */
    int  (*lookup)(struct inode *dir, const char *name, size_t len, struct inode **out);
    /* Read file bytes into a kernel buffer: bytes read, 0 at the end, -errno. */
    long (*read)(struct inode *ino, uint64_t off, void *buf, size_t n);
    /* Entries from *pos on; *pos advances past each one fill accepts.
     * 0: reached the end; 1: fill refused an entry (its buffer is full). */
    int  (*readdir)(struct inode *dir, uint64_t *pos, filldir_t fill, void *ctx);
    long (*readlink)(struct inode *ino, char *buf, size_t n);
    void (*release)(struct inode *ino);          /* the last reference went */

    /* Writing (NULL on a read-only file system: the VFS says EROFS). */
    long (*write)(struct inode *ino, uint64_t off, const void *buf, size_t n);
    int  (*truncate)(struct inode *ino, uint64_t size);
    /* A new file, directory or symlink (target != NULL) named name in dir. */
    int  (*create)(struct inode *dir, const char *name, size_t len, uint32_t mode,
                   const char *target, struct inode **out);
    int  (*link)(struct inode *dir, const char *name, size_t len, struct inode *ino);
    /* Remove name (a directory only if dir_ok, and only if empty). */
    int  (*unlink)(struct inode *dir, const char *name, size_t len, bool dir_ok);
    int  (*rename)(struct inode *odir, const char *oname, size_t olen,
                   struct inode *ndir, const char *nname, size_t nlen);
    /* renameat2(RENAME_EXCHANGE): the two names, both there, swap files
     * (NULL: the file system cannot, EINVAL, as Linux's ext2). */
    int  (*exchange)(struct inode *odir, const char *oname, size_t olen,
                     struct inode *ndir, const char *nname, size_t nlen);
    int  (*setattr)(struct inode *ino);          /* write mode/uid/gid/times back */
    int  (*sync)(struct super *sb);              /* everything to stable storage */
    /* The disk sector holding byte off of a regular file (a swap file's
     * pages are read and written there directly, mm/swap.c): or -EINVAL
     * for a hole. NULL: the file system cannot hold a swap file. */
    long (*bmap)(struct inode *ino, uint64_t off);
    /* lseek's SEEK_DATA (hole false) / SEEK_HOLE (hole true) from off (below
     * the size): the first byte at or after off in data / in a hole (the
     * end of the file is one). NULL: the whole file is data (Linux's
     * generic_file_llseek, as for ext2). */
    int64_t (*seek_hole)(struct inode *ino, int64_t off, bool hole);
    /* An open file of the file system's own kind (procfs: a per-open buffer
     * of generated text), or NULL for the VFS's plain open file. Takes the
     * caller's reference on success; else NULL and *err. */
    struct file *(*open)(struct inode *ino, int flags, int *err);
    /* open(O_TMPFILE): a new regular file in dir with no name (nlink 0) that
     * linkat may give one unless linkable is false (O_EXCL). NULL: the
     * file system cannot (EOPNOTSUPP). */
    int  (*tmpfile)(struct inode *dir, uint32_t mode, bool linkable, struct inode **out);
    /* Extended attributes (NULL: the file system keeps none, EOPNOTSUPP).
     * name is whole ("security.x"); the syscalls checked who may. get and
     * list: the size (a size of 0 asks for it), ERANGE if buf is smaller,
     * ENODATA; set with value NULL removes; XATTR_CREATE/REPLACE flags. */
    long (*getxattr)(struct inode *ino, const char *name, void *buf, size_t size);
    long (*listxattr)(struct inode *ino, char *buf, size_t size);
    int  (*setxattr)(struct inode *ino, const char *name, const void *value, size_t size, int flags);
    /* A symlink that leads to an inode directly rather than through its
     * text (Linux's "magic links": /proc/PID/fd/N, exe, cwd): a new
     * reference, NULL to follow the text as usual, or an ERR_PTR-style
     * -errno in *err with NULL. */
    struct inode *(*follow)(struct inode *link, int *err);
};

/* statfs(2)'s answer (Linux's struct statfs on x86-64, field for field). */
struct kstatfs {
    int64_t type, bsize;
    uint64_t blocks, bfree, bavail, files, ffree;
    int32_t fsid[2];
    int64_t namelen, frsize, flags, spare[4];
};

struct super {
    struct inode *root;
    uint64_t dev;
    const char *type;
    bool read_only;
    uint64_t maxbytes;                          /* the largest file size (Linux's s_maxbytes) */
    int (*shutdown)(struct super *sb);          /* power-off: make it clean */
    /* open_by_handle_at(2): the inode numbered ino whose generation is gen,
     * a new reference, or -ESTALE (no such file now). NULL: the file
     * system gives no handles (name_to_handle_at: EOPNOTSUPP). */
    int (*fh_to_inode)(struct super *sb, uint32_t ino, uint32_t gen, struct inode **out);
    /* Sizes and counts for statfs (NULL: a file system without blocks; the
     * caller fills type, name length and flags). */
    void (*statfs)(struct super *sb, struct kstatfs *st);
};

struct inode {
    struct super *sb;
    uint64_t ino;
    uint32_t mode, uid, gid, nlink;
    uint64_t size, blocks;                       /* blocks: 512-byte units */
    int64_t atime, mtime, ctime;
    uint64_t rdev;
    uint32_t seals;             /* [klock] F_SEAL_* of a memfd (with SEALS_MEMFD); 0 for others */
    /* [klock] open files that may write it (> 0), or address spaces
     * running it as their program (< 0): never both (ETXTBSY). */
    int writecount;
    uint32_t gen;               /* [const] i_generation: a file handle tells a reused number apart */
    int refs;
    const struct inode_ops *ops;
    void *priv;
    void *pcache;                                /* [klock] its cached pages (mm/filemap.c) or NULL */
    /* [klock] a removed directory's parent, held until the directory's
     * last reference goes (Linux: the dentry's d_parent): its ".." still
     * leads there. Its file system sets it where it removes the entry;
     * iput puts it. NULL for everything else. */
    struct inode *gone_parent;
};

/* A file system mounted or remounted read-only: ext2 and the initrd give
 * such inodes no writing ops at all; a tmpfs remounted read-only keeps its
 * ops, and the VFS and the syscalls refuse writes with this test (EROFS). */
static inline bool sb_ro(const struct inode *ino) { return ino->sb && ino->sb->read_only; }

void          vfs_mount_root(struct super *sb);
void          vfs_shutdown(void);              /* before power-off */
/* Mount sb on directory dir, whose absolute path is path (what /proc/mounts
 * shows; copied) / unmount the file system whose root is root. */
int           vfs_mount(struct super *sb, struct inode *dir, const char *path);
int           vfs_umount(struct inode *root);
bool          vfs_is_mounted(struct super *sb);
/* How many times the mount table changed, and the wait queue told of each
 * change (POLLPRI|POLLERR: /proc/mounts' poll). */
struct waitq;
uint64_t      vfs_mount_events(void);
struct waitq *vfs_mount_waitq(void);
/* The i-th mount (0 is the root) for /proc/mounts: false past the last;
 * *sb NULL for a free slot. */
bool          vfs_mount_at(int i, struct super **sb, const char **path);
/* The mount's id (/proc/PID/mountinfo's first field, statx's stx_mnt_id,
 * fdinfo's mnt_id): 1 for the root, 0 for a file system mounted nowhere. */
int           vfs_mnt_id(struct super *sb);
/* Is a file system mounted on directory dir? (rmdir, rename: EBUSY) */
bool          vfs_is_mountpoint(struct inode *dir);
/* Is ino root or below it (up through ".." and the mounts)? getcwd asks
 * it of a working directory left outside a chroot. */
bool          vfs_is_below(struct inode *ino, struct inode *root);
/* "/dev/vda" -> 0, "/dev/vdaN" -> N (1-128), anything else -> -1. */
int           vda_partition(const char *dev);
struct inode *vfs_root(void);
struct inode *iget(struct inode *ino);          /* one more reference */
/* Point *slot (a working directory, a process's root, a table's entry)
 * at ino, whose reference the slot takes over (NULL: empty), and only then
 * drop the reference the slot held. The last iput may sleep (ext2 frees
 * the inode on the disk), and nothing may reach the old inode through the
 * slot meanwhile: iget's rule, vfs.c. */
void          iset(struct inode **slot, struct inode *ino);
void          iput(struct inode *ino);          /* one fewer */

#define LOOKUP_FOLLOW        1                  /* follow a symlink in the last component */
/* openat2(2)'s RESOLVE_* (the lookup starts at cwd, its "scope"): */
#define LOOKUP_NO_XDEV       2                  /* EXDEV rather than cross a mount */
#define LOOKUP_NO_MAGICLINKS 4                  /* ELOOP at a /proc magic link */
#define LOOKUP_NO_SYMLINKS   8                  /* ELOOP at any symlink to be followed */
#define LOOKUP_BENEATH       16                 /* EXDEV rather than leave the scope */
#define LOOKUP_IN_ROOT       32                 /* the scope is "/" (a chroot for one lookup) */
/* Resolve a kernel-space path from cwd (or the root if absolute). */
int  vfs_lookup(struct inode *cwd, const char *path, int flags, struct inode **out);
/* The directory a path's last component lives in (looked up with flags),
 * and that component. */
int  vfs_lookup_parent(struct inode *cwd, const char *path, int flags, struct inode **dir,
                       const char **last, size_t *len);
void vfs_stat(struct inode *ino, struct kstat *st);
/* May the current process read (4), write (2) and/or search/execute (1)
 * ino? 0 or -EACCES. vfs_permission_real uses the real IDs (access(2)). */
#define MAY_READ  4
#define MAY_WRITE 2
#define MAY_EXEC  1
int  vfs_permission(struct inode *ino, int mask);
int  vfs_permission_real(struct inode *ino, int mask);
/* Paths as names (what /proc shows for files, cwd and exe; the VFS keeps
 * no names of its own). vfs_abspath: path made absolute from base (an
 * absolute directory path) and normalized lexically ("." and ".." and
 * doubled slashes go); a kmalloc'd string, NULL if out of memory.
 * vfs_realpath: abs with every symlink resolved (realpath(3)), into out;
 * a part that no longer exists is kept as written. */
char *vfs_abspath(const char *base, const char *path);
void  vfs_realpath(const char *abs, char *out, size_t n);
/* An open file on ino (takes the caller's reference). */
struct file *vfs_open(struct inode *ino, int flags);
/* Write access to a regular file (an open for writing, truncate) against
 * its execution (exec's program, for as long as an address space runs it):
 * each refuses while the other holds it, ETXTBSY. get/put pair up. */
int  vfs_get_write_access(struct inode *ino);
void vfs_put_write_access(struct inode *ino);
int  vfs_deny_write_access(struct inode *ino);
void vfs_allow_write_access(struct inode *ino);
/* Cut or grow a regular file to size (ftruncate, O_TRUNC): the file
 * system's truncate, then the page cache's cached tail. */
int  vfs_truncate(struct inode *ino, uint64_t size);
/* A whole file in a kmalloc'd buffer (for exec); -errno. */
long vfs_read_all(struct inode *ino, uint8_t **buf, size_t max);

/* File systems. */
struct super *initrd_mount(const void *data, size_t size);
/* The virtio disk; NULL if unusable, *err saying why (EINVAL, EUCLEAN, EIO, EBUSY...). */
/* part: 0 for the whole disk (/dev/vda), N for its GPT partition N (/dev/vdaN). */
struct super *ext2_mount(int part, bool read_only, int *err);
bool          ext2_busy(void);                 /* files on it still in use (no umount) */
/* A new tmpfs ("size=N[kmg%],mode=O" or NULL); NULL and *err on failure. */
struct super *tmpfs_new(const char *opts, int *err);
bool          tmpfs_busy(struct super *sb);    /* a node in use (no umount) */
void          tmpfs_kill(struct super *sb);    /* after umount: free it all */
int           tmpfs_mknod(struct inode *dir, const char *name, uint32_t mode, uint64_t rdev);
#define SEALS_MEMFD 0x80000000u   /* inode.seals: a memfd, whose seals apply */

/* An in-memory list of extended attributes (xattr.c), for tmpfs: the
 * inode_ops' semantics on a list; *cost_delta is the change in pages of
 * memory the list holds (xattr_cost: one attribute's). */
struct xattr;
size_t xattr_cost(const char *name, size_t size);
long   xattr_get(struct xattr **list, const char *name, void *buf, size_t size);
long   xattr_list(struct xattr **list, char *buf, size_t size);
long   xattr_set(struct xattr **list, const char *name, const void *value, size_t size, int flags,
                 long *cost_delta);
long   xattr_remove(struct xattr **list, const char *name, long *cost_delta);
size_t xattr_free_all(struct xattr **list);     /* the cost freed */

/* Character devices (dev.c): an open file on device inode ino (takes the
 * caller's reference on success), or NULL and *err (ENXIO: no such device). */
struct file  *dev_open(struct inode *ino, int flags, int *err);
/* A named pipe (pipe.c): an open end of FIFO inode ino's pipe, waiting for
 * the other side as POSIX says (takes the caller's reference on success),
 * or NULL and *err (ENXIO, EINTR, ENOMEM). */
struct file  *fifo_open(struct inode *ino, int flags, int *err);
void          dev_mount_boot(void);            /* tmpfs on /dev (with nodes), /dev/shm, /tmp, /run */
/* procfs (procfs.c) and the minimal sysfs (sysfs.c): one instance each,
 * mounted at boot on /proc and /sys (and by mount(2) with "proc", "sysfs"). */
struct super *procfs_super(void);
struct super *sysfs_super(void);
struct super *mqueue_super(void);              /* ipc/mqueue.c: /dev/mqueue */
void          procfs_mount_boot(void);         /* /proc and /sys, where the root has them */
