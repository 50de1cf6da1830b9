/* fs/tmpfs.c - a file system in memory: /tmp, /dev/shm, /run, and (with
 * device nodes in it) /dev.
 *
 * Why: programs expect somewhere writable that is not the disk (Debian's
 * tools write /tmp and /run, POSIX shared memory lives in /dev/shm), and a
 * file there should cost a page of memory, not a journal transaction. The
 * data is the inodes themselves: nothing is ever written anywhere.
 *
 * Shape. Each inode is a struct tnode; a directory holds a list of entries
 * (struct tdirent: a name and the node it names), so a file with hard links
 * has one node and several entries. Entries keep the order they were made
 * in and carry a cookie (the getdents offset after them) that never
 * changes, so a program that removes entries while it reads the directory
 * (rm -r) sees every other entry exactly once.
 *
 * File data lives in frames from the frame allocator, found through a
 * two-level table of frames (a top frame of 512 leaf frames of 512 data
 * frames: 1 GiB per file at most); a page never written is a hole and
 * reads as zeros.
 *
 * Lifetime. The tree holds one reference to every linked node (the root:
 * the super block's). The last unlink drops it; the node and its frames go
 * when the last open file or working directory lets go too (release). At
 * umount, which only an unused tmpfs allows (tmpfs_busy), everything goes.
 *
 * Beyond Linux's basics, as its tmpfs: extended attributes (a list per
 * node, fs/xattr.c), O_TMPFILE nodes (no entry until linkat gives one:
 * counted as orphans meanwhile), RENAME_EXCHANGE, real holes for
 * SEEK_DATA/SEEK_HOLE, and file handles (a node found by number and
 * generation).
 *
 * Limits. A tmpfs has a size limit (mount option size=, default a quarter
 * of memory): data frames, table frames, nodes, entries and extended
 * attributes all count, so no
 * program can use /tmp to take the kernel's memory; past it, ENOSPC.
 *
 * Locking: the syscalls that reach here run under the kernel lock
 * ([klock] below); tmpfs has no lock of its own. */
#include "vfs.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../mm/mm.h"
#include "../debug/debug.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"

#define TABLE_ENTRIES 512ul
#define MAX_FILE_PAGES (TABLE_ENTRIES * TABLE_ENTRIES)

struct tsuper {
    struct super sb;
    uint64_t limit;             /* [klock] units (frames + nodes + entries) allowed */
    uint64_t used;              /* [klock] units in use */
    uint64_t next_ino;          /* [klock] */
    uint64_t orphans;           /* [klock] unlinked nodes still referenced */
    bool dead;                  /* [klock] unmounted: release frees, nothing counts */
};

struct tdirent {
    struct tdirent *next;
    struct tnode *node;
    uint64_t cookie;            /* getdents offset just after this entry */
    size_t len;
    char name[];
};

struct tnode {
    struct inode inode;
    struct tnode *parent;       /* directories: the one holding its entry (root: itself) */
    struct tdirent *entries;    /* [klock] directories: in creation order */
    uint64_t next_cookie;       /* [klock] directories */
    uint64_t table;             /* [klock] regular files: the top table frame, or 0 */
    uint64_t pages;             /* [klock] data frames */
    char *target;               /* symlinks */
    struct xattr *xattrs;       /* [klock] extended attributes (xattr.c) */
    bool linkable;              /* [klock] an O_TMPFILE file linkat may still name */
};

static const struct inode_ops tmpfs_ops;
static uint64_t next_dev = 0x100;      /* tmpfs device numbers (Linux: anonymous 0:N) */
static uint32_t next_gen;              /* [klock] generations: a file handle's check (open_by_handle_at) */

static inline struct tsuper *TS(struct inode *in) { return (struct tsuper *)in->sb; }
static inline struct tnode *TN(struct inode *in) { return in->priv; }
static int64_t now(void) { return (int64_t)(time_realtime_ns() / 1000000000ul); }

/* One unit of the size limit: ENOSPC past it. */
static int charge(struct tsuper *ts, uint64_t n)
{
    if (ts->used + n > ts->limit)
        return -ENOSPC;
    ts->used += n;
    return 0;
}

static void uncharge(struct tsuper *ts, uint64_t n) { ts->used -= n; }

static uint64_t frame_new(struct tsuper *ts, int *err)
{
    if ((*err = charge(ts, 1)))
        return 0;
    uint64_t pa = pmm_alloc_zeroed();
    if (!pa) {
        uncharge(ts, 1);
        *err = -ENOSPC;
    }
    return pa;
}

static void frame_drop(struct tsuper *ts, uint64_t pa)
{
    pmm_free(pa);
    uncharge(ts, 1);
}

/* The slot holding page idx's frame; NULL if its table is absent and
 * create is false (or on ENOSPC, *err saying so). */
static uint64_t *page_slot(struct tnode *n, uint64_t idx, bool create, int *err)
{
    struct tsuper *ts = TS(&n->inode);
    *err = 0;
    if (!n->table && (!create || !(n->table = frame_new(ts, err))))
        return NULL;
    uint64_t *top = P2V(n->table);
    uint64_t li = idx / TABLE_ENTRIES;
    if (!top[li] && (!create || !(top[li] = frame_new(ts, err))))
        return NULL;
    return (uint64_t *)P2V(top[li]) + idx % TABLE_ENTRIES;
}

/* Free every data frame from page first on, and the tables left empty. */
static void free_pages_from(struct tnode *n, uint64_t first)
{
    struct tsuper *ts = TS(&n->inode);
    if (!n->table)
        return;
    uint64_t *top = P2V(n->table);
    for (uint64_t li = first / TABLE_ENTRIES; li < TABLE_ENTRIES; li++) {
        if (!top[li])
            continue;
        uint64_t *leaf = P2V(top[li]);
        uint64_t from = li == first / TABLE_ENTRIES ? first % TABLE_ENTRIES : 0;
        for (uint64_t i = from; i < TABLE_ENTRIES; i++)
            if (leaf[i]) {
                frame_drop(ts, leaf[i]);
                leaf[i] = 0;
                n->pages--;
            }
        if (from == 0) {
            frame_drop(ts, top[li]);
            top[li] = 0;
        }
    }
    if (first == 0) {
        frame_drop(ts, n->table);
        n->table = 0;
    }
    n->inode.blocks = n->pages * (PAGE_SIZE / 512);
}

static struct tnode *node_new(struct tsuper *ts, uint32_t mode, int *err)
{
    if ((*err = charge(ts, 1)))
        return NULL;
    struct tnode *n = kzalloc(sizeof(*n));
    if (!n) {
        uncharge(ts, 1);
        *err = -ENOMEM;
        return NULL;
    }
    struct proc *p = current();
    int64_t t = now();
    n->inode = (struct inode){ .sb = &ts->sb, .ino = ts->next_ino++, .mode = mode,
                               .uid = p ? p->fsuid : 0, .gid = p ? p->fsgid : 0,
                               .nlink = S_ISDIR(mode) ? 2 : 1, .atime = t, .mtime = t, .ctime = t,
                               .refs = 1, .ops = &tmpfs_ops, .priv = n, .gen = ++next_gen };
    n->next_cookie = 3;                         /* 0 ".", 1 "..", 2 the first entry */
    return n;
}

static void node_free(struct tnode *n)
{
    struct tsuper *ts = TS(&n->inode);
    filemap_evict(&n->inode);                   /* pages a mapping cached (umount frees without iput) */
    free_pages_from(n, 0);
    kfree(n->target);
    uncharge(ts, xattr_free_all(&n->xattrs));
    uncharge(ts, 1);
    kfree(n);
}

static bool is_dot(const char *name, size_t len)
{
    return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

static struct tdirent **find(struct tnode *dir, const char *name, size_t len)
{
    for (struct tdirent **e = &dir->entries; *e; e = &(*e)->next)
        if ((*e)->len == len && !memcmp((*e)->name, name, len))
            return e;
    return NULL;
}

static struct tdirent *dirent_new(struct tsuper *ts, const char *name, size_t len,
                                  struct tnode *node, bool charged, int *err)
{
    if (!charged && (*err = charge(ts, 1)))
        return NULL;
    struct tdirent *d = kmalloc(sizeof(*d) + len + 1);
    if (!d) {
        if (!charged)
            uncharge(ts, 1);
        *err = -ENOMEM;
        return NULL;
    }
    d->next = NULL;
    d->node = node;
    d->len = len;
    memcpy(d->name, name, len);
    d->name[len] = 0;
    return d;
}

/* Append d to dir (a new cookie: readers mid-directory see it once, or not). */
static void dir_append(struct tnode *dir, struct tdirent *d)
{
    struct tdirent **e = &dir->entries;
    while (*e)
        e = &(*e)->next;
    d->cookie = dir->next_cookie++;
    *e = d;
    dir->inode.mtime = dir->inode.ctime = now();
}

/* The tree's reference to n goes when its last name does. */
static void drop_link(struct tnode *n)
{
    if (S_ISDIR(n->inode.mode)) {
        n->inode.nlink = 0;
        /* Its ".." still leads where it was (the VFS walks it; put with
         * the directory's last reference); its own is itself now. */
        n->inode.gone_parent = iget(&n->parent->inode);
        n->parent = n;
    } else
        n->inode.nlink--;
    n->inode.ctime = now();
    if (n->inode.nlink == 0) {
        TS(&n->inode)->orphans++;
        iput(&n->inode);
    }
}

/* Take entry *e out of dir and drop its link (the node may go). */
static void dir_remove(struct tnode *dir, struct tdirent **e)
{
    struct tdirent *d = *e;
    *e = d->next;
    if (S_ISDIR(d->node->inode.mode))
        dir->inode.nlink--;
    dir->inode.mtime = dir->inode.ctime = now();
    struct tnode *n = d->node;
    kfree(d);
    uncharge(TS(&dir->inode), 1);
    drop_link(n);
}

/* ---- inode operations ---- */

static int tmpfs_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    ASSERT_KLOCK();
    struct tnode *d = TN(dir);
    if (dir->nlink == 0)
        return -ENOENT;                         /* a removed directory is empty for good */
    if (len == 1 && name[0] == '.') {
        *out = iget(dir);
        return 0;
    }
    if (len == 2 && name[0] == '.' && name[1] == '.') {
        *out = iget(&d->parent->inode);
        return 0;
    }
    struct tdirent **e = find(d, name, len);
    if (!e)
        return -ENOENT;
    *out = iget(&(*e)->node->inode);
    return 0;
}

static long tmpfs_read(struct inode *ino, uint64_t off, void *buf, size_t n)
{
    ASSERT_KLOCK();
    struct tnode *t = TN(ino);
    if (off >= ino->size)
        return 0;
    n = MIN(n, ino->size - off);
    for (size_t done = 0; done < n;) {
        uint64_t pos = off + done, in = pos % PAGE_SIZE;
        size_t k = MIN(n - done, PAGE_SIZE - in);
        int err;
        uint64_t *slot = page_slot(t, pos / PAGE_SIZE, false, &err);
        if (slot && *slot)
            memcpy((uint8_t *)buf + done, (uint8_t *)P2V(*slot) + in, k);
        else
            memset((uint8_t *)buf + done, 0, k);      /* a hole */
        done += k;
    }
    ino->atime = now();
    return (long)n;
}

static long tmpfs_write(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
    ASSERT_KLOCK();
    struct tnode *t = TN(ino);
    uint64_t max = ino->sb->maxbytes;
    if (!S_ISREG(ino->mode))
        return -EINVAL;
    if (n && off >= max)
        return -EFBIG;
    n = MIN(n, max - off);
    size_t done = 0;
    int err = 0;
    while (done < n) {
        uint64_t pos = off + done, in = pos % PAGE_SIZE;
        size_t k = MIN(n - done, PAGE_SIZE - in);
        uint64_t *slot = page_slot(t, pos / PAGE_SIZE, true, &err);
        if (!slot)
            break;
        if (!*slot) {
            if (!(*slot = frame_new(TS(ino), &err)))
                break;
            t->pages++;
        }
        memcpy((uint8_t *)P2V(*slot) + in, (const uint8_t *)buf + done, k);
        done += k;
    }
    if (done) {
        ino->size = MAX(ino->size, off + done);
        ino->blocks = t->pages * (PAGE_SIZE / 512);
        ino->mtime = ino->ctime = now();
    }
    return done ? (long)done : err;
}

/* INVARIANT(kernel memory safety): a file cut short keeps no frame past its
 * end, and the bytes after the end in its last page are zeros, so growing
 * it again reads zeros, never the old data. */
static int tmpfs_truncate(struct inode *ino, uint64_t size)
{
    ASSERT_KLOCK();
    struct tnode *t = TN(ino);
    if (size > ino->sb->maxbytes)
        return -EFBIG;
    if (size < ino->size) {
        free_pages_from(t, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE);
        int err;
        uint64_t *slot = size % PAGE_SIZE ? page_slot(t, size / PAGE_SIZE, false, &err) : NULL;
#ifndef BREAK_TMPFS_TRUNCATE                    /* the break switch: the old tail stays */
        if (slot && *slot)
            memset((uint8_t *)P2V(*slot) + size % PAGE_SIZE, 0, PAGE_SIZE - size % PAGE_SIZE);
#else
        (void)slot;
#endif
    }
    ino->size = size;
    ino->mtime = ino->ctime = now();
    return 0;
}

static int tmpfs_readdir(struct inode *dir, uint64_t *pos, filldir_t fill, void *ctx)
{
    ASSERT_KLOCK();
    struct tnode *d = TN(dir);
    if (dir->nlink == 0)
        return -ENOENT;                         /* removed: not even "." and "..", as Linux */
    if (*pos == 0) {
        if (!fill(ctx, ".", 1, dir->ino, 4, 1))
            return 1;
        *pos = 1;
    }
    if (*pos == 1) {
        if (!fill(ctx, "..", 2, d->parent->inode.ino, 4, 2))
            return 1;
        *pos = 2;
    }
    for (struct tdirent *e = d->entries; e; e = e->next) {
        if (e->cookie <= *pos)
            continue;
        uint32_t m = e->node->inode.mode;
        unsigned type = IFTODT(m);
        if (!fill(ctx, e->name, e->len, e->node->inode.ino, type, e->cookie))
            return 1;
        *pos = e->cookie;
    }
    return 0;
}

static long tmpfs_readlink(struct inode *ino, char *buf, size_t n)
{
    struct tnode *t = TN(ino);
    if (!t->target)
        return -EINVAL;
    size_t k = MIN(n, (size_t)ino->size);
    memcpy(buf, t->target, k);
    return (long)k;
}

static void tmpfs_release(struct inode *ino)
{
    ASSERT_KLOCK();
    struct tsuper *ts = TS(ino);
    if (!ts->dead)
        ts->orphans--;
    node_free(TN(ino));
}

/* A new node named name in dir; rdev for device nodes. */
static int make(struct inode *dir, const char *name, size_t len, uint32_t mode,
                const char *target, uint64_t rdev, struct inode **out)
{
    ASSERT_KLOCK();
    struct tnode *d = TN(dir);
    struct tsuper *ts = TS(dir);
    if (dir->nlink == 0)
        return -ENOENT;                         /* the directory was removed */
    if (is_dot(name, len) || find(d, name, len))
        return -EEXIST;
    size_t tlen = target ? strnlen(target, PATH_MAX) : 0;
    int err;
    struct tnode *n = node_new(ts, mode, &err);
    if (!n)
        return err;
    struct tdirent *e = dirent_new(ts, name, len, n, false, &err);
    if (e && target && !(n->target = kmalloc(tlen + 1)))
        err = -ENOMEM;
    if (!e || err) {
        kfree(e);
        if (e)
            uncharge(ts, 1);
        node_free(n);
        return err;
    }
    if (target) {
        memcpy(n->target, target, tlen + 1);
        n->inode.size = tlen;
    }
    n->inode.rdev = rdev;
    if (S_ISDIR(mode)) {
        n->parent = d;
        dir->nlink++;
    }
    /* setgid directories pass their group on (and setgid to subdirectories) */
    if (dir->mode & 02000) {
        n->inode.gid = dir->gid;
        if (S_ISDIR(mode))
            n->inode.mode |= 02000;
    }
    dir_append(d, e);
    if (out)
        *out = iget(&n->inode);
    return 0;
}

static int tmpfs_create(struct inode *dir, const char *name, size_t len, uint32_t mode,
                        const char *target, struct inode **out)
{
    return make(dir, name, len, mode, target, 0, out);
}

static int tmpfs_link(struct inode *dir, const char *name, size_t len, struct inode *ino)
{
    ASSERT_KLOCK();
    struct tnode *d = TN(dir);
    if (S_ISDIR(ino->mode))
        return -EPERM;
    bool tmpfile = ino->nlink == 0 && TN(ino)->linkable;
    if (dir->nlink == 0 || (ino->nlink == 0 && !tmpfile))
        return -ENOENT;
    if (is_dot(name, len) || find(d, name, len))
        return -EEXIST;
    int err;
    struct tdirent *e = dirent_new(TS(dir), name, len, TN(ino), false, &err);
    if (!e)
        return err;
    if (tmpfile) {                              /* an O_TMPFILE file gets its first name */
        TN(ino)->linkable = false;
        TS(ino)->orphans--;
        iget(ino);                              /* the tree's reference */
    }
    ino->nlink++;
    ino->ctime = now();
    dir_append(d, e);
    return 0;
}

static bool empty(struct tnode *d) { return d->entries == NULL; }

static int tmpfs_unlink(struct inode *dir, const char *name, size_t len, bool dir_ok)
{
    ASSERT_KLOCK();
    struct tnode *d = TN(dir);
    if (is_dot(name, len))
        return dir_ok ? -EINVAL : -EISDIR;
    struct tdirent **e = find(d, name, len);
    if (!e)
        return -ENOENT;
    struct tnode *n = (*e)->node;
    if (S_ISDIR(n->inode.mode)) {
        if (!dir_ok)
            return -EISDIR;
        if (!empty(n))
            return -ENOTEMPTY;
    } else if (dir_ok) {
        return -ENOTDIR;
    }
    dir_remove(d, e);
    return 0;
}

static int tmpfs_rename(struct inode *odir, const char *oname, size_t olen,
                        struct inode *ndir, const char *nname, size_t nlen)
{
    ASSERT_KLOCK();
    struct tnode *od = TN(odir), *nd = TN(ndir);
    if (is_dot(oname, olen) || is_dot(nname, nlen))
        return -EBUSY;
    struct tdirent **oe = find(od, oname, olen);
    if (!oe)
        return -ENOENT;
    struct tnode *n = (*oe)->node;
    if (ndir->nlink == 0)
        return -ENOENT;
    if (S_ISDIR(n->inode.mode)) {
        /* INVARIANT(kernel memory safety): a directory never moves into its
         * own subtree (it would be cut off from the root, a loop): EINVAL. */
        for (struct tnode *up = nd;; up = up->parent) {
            if (up == n)
                return -EINVAL;
            if (up->parent == up)
                break;
        }
    }
    struct tdirent **ne = find(nd, nname, nlen);
    if (ne) {
        struct tnode *old = (*ne)->node;
        if (old == n)
            return 0;                           /* two names of one file: nothing to do */
        if (S_ISDIR(old->inode.mode) != S_ISDIR(n->inode.mode))
            return S_ISDIR(old->inode.mode) ? -EISDIR : -ENOTDIR;
        if (S_ISDIR(old->inode.mode) && !empty(old))
            return -ENOTEMPTY;
    }
    int err;
    struct tdirent *e = dirent_new(TS(odir), nname, nlen, n, true, &err);   /* reuses oe's unit */
    if (!e)
        return err;
    if (ne)
        dir_remove(nd, ne);                     /* the replaced file's name (and unit) */
    oe = find(od, oname, olen);                 /* (dir_remove may have moved the list) */
    struct tdirent *gone = *oe;
    *oe = gone->next;
    kfree(gone);
    if (S_ISDIR(n->inode.mode) && od != nd) {
        n->parent = nd;
        odir->nlink--;
        ndir->nlink++;
    }
    odir->mtime = odir->ctime = now();
    n->inode.ctime = now();
    dir_append(nd, e);
    return 0;
}

static int tmpfs_setattr(struct inode *ino)
{
    ino->ctime = now();
    return 0;
}

static struct tdirent *entry_of(struct tnode *dir, struct tnode *child);

/* open(O_TMPFILE): a node with no entry, counted as an orphan (an
 * unlinked file still open) until linkat names it or its last close. */
static int tmpfs_tmpfile(struct inode *dir, uint32_t mode, bool linkable, struct inode **out)
{
    ASSERT_KLOCK();
    struct tsuper *ts = TS(dir);
    if (dir->nlink == 0)
        return -ENOENT;
    int err;
    struct tnode *n = node_new(ts, mode, &err);
    if (!n)
        return err;
    n->inode.nlink = 0;
    n->linkable = linkable;
    if (dir->mode & 02000)
        n->inode.gid = dir->gid;
    ts->orphans++;
    *out = &n->inode;                           /* node_new's reference: the opener's */
    return 0;
}

/* RENAME_EXCHANGE: the two entries trade nodes; a directory that changes
 * parent takes its ".." (and its link count) along. */
static int tmpfs_exchange(struct inode *odir, const char *oname, size_t olen,
                          struct inode *ndir, const char *nname, size_t nlen)
{
    ASSERT_KLOCK();
    struct tnode *od = TN(odir), *nd = TN(ndir);
    if (is_dot(oname, olen) || is_dot(nname, nlen))
        return -EBUSY;
    struct tdirent **oe = find(od, oname, olen), **ne = find(nd, nname, nlen);
    if (!oe || !ne)
        return -ENOENT;
    struct tnode *a = (*oe)->node, *b = (*ne)->node;
    if (a == b)
        return 0;
    /* INVARIANT(kernel memory safety): neither directory lands inside
     * itself (the loop rename refuses too): EINVAL. */
    for (int k = 0; k < 2; k++) {
        struct tnode *moved = k ? b : a, *into = k ? od : nd;
        if (!S_ISDIR(moved->inode.mode) || od == nd)
            continue;
        for (struct tnode *up = into;; up = up->parent) {
            if (up == moved)
                return -EINVAL;
            if (up->parent == up)
                break;
        }
    }
    (*oe)->node = b;
    (*ne)->node = a;
    if (od != nd) {
        if (S_ISDIR(a->inode.mode)) {
            a->parent = nd;
            odir->nlink--;
            ndir->nlink++;
        }
        if (S_ISDIR(b->inode.mode)) {
            b->parent = od;
            ndir->nlink--;
            odir->nlink++;
        }
    }
    int64_t t = now();
    odir->mtime = odir->ctime = ndir->mtime = ndir->ctime = t;
    a->inode.ctime = b->inode.ctime = t;
    return 0;
}

/* open_by_handle_at: the node numbered ino, if it is in the tree and of
 * generation gen (a walk without recursion, as tmpfs_busy's). */
static int tmpfs_fh_to_inode(struct super *sb, uint32_t ino, uint32_t gen, struct inode **out)
{
    ASSERT_KLOCK();
    struct tnode *root = TN(sb->root), *d = root;
    if (root->inode.ino == ino && root->inode.gen == gen) {
        *out = iget(&root->inode);
        return 0;
    }
    struct tdirent *e = d->entries;
    for (;;) {
        if (!e) {
            if (d == root)
                return -ESTALE;
            struct tnode *child = d;
            d = d->parent;
            e = entry_of(d, child)->next;
            continue;
        }
        struct tnode *n = e->node;
        if (n->inode.ino == ino && n->inode.gen == gen) {
            *out = iget(&n->inode);
            return 0;
        }
        if (S_ISDIR(n->inode.mode)) {
            d = n;
            e = n->entries;
        } else {
            e = e->next;
        }
    }
}

/* SEEK_DATA, SEEK_HOLE: a page with a frame is data, one without a hole
 * (a missing leaf table: 512 pages of hole at once). */
static int64_t tmpfs_seek_hole(struct inode *ino, int64_t off, bool hole)
{
    ASSERT_KLOCK();
    struct tnode *t = TN(ino);
    uint64_t end = ALIGN_UP(ino->size, PAGE_SIZE) / PAGE_SIZE;
    uint64_t *top = t->table ? P2V(t->table) : NULL;
    for (uint64_t pg = (uint64_t)off / PAGE_SIZE; pg < end;) {
        uint64_t *leaf = top && top[pg / TABLE_ENTRIES] ? P2V(top[pg / TABLE_ENTRIES]) : NULL;
        if (!leaf && !hole) {
            pg = ALIGN_UP(pg + 1, TABLE_ENTRIES);
            continue;
        }
        if ((leaf && leaf[pg % TABLE_ENTRIES]) != hole) {
            int64_t at = (int64_t)(pg * PAGE_SIZE);
            return MIN(MAX(at, off), (int64_t)ino->size);
        }
        pg++;
    }
    return hole ? (int64_t)ino->size : -ENXIO;
}

/* Extended attributes: the node's list, its memory counted against the
 * size limit like data. */
static long tmpfs_getxattr(struct inode *ino, const char *name, void *buf, size_t size)
{
    return xattr_get(&TN(ino)->xattrs, name, buf, size);
}

static long tmpfs_listxattr(struct inode *ino, char *buf, size_t size)
{
    return xattr_list(&TN(ino)->xattrs, buf, size);
}

static int tmpfs_setxattr(struct inode *ino, const char *name, const void *value, size_t size, int flags)
{
    ASSERT_KLOCK();
    struct tsuper *ts = TS(ino);
    long delta;
    if (!value) {
        long r = xattr_remove(&TN(ino)->xattrs, name, &delta);
        uncharge(ts, (uint64_t)-delta);
        if (!r)
            ino->ctime = now();
        return (int)r;
    }
    uint64_t need = xattr_cost(name, size);
    if (charge(ts, need))
        return -ENOSPC;
    long r = xattr_set(&TN(ino)->xattrs, name, value, size, flags, &delta);
    uncharge(ts, r ? need : need - (uint64_t)delta);    /* keep delta: the new less the old */
    if (!r)
        ino->ctime = now();
    return (int)r;
}

static const struct inode_ops tmpfs_ops = {
    .lookup = tmpfs_lookup, .read = tmpfs_read, .readdir = tmpfs_readdir,
    .readlink = tmpfs_readlink, .release = tmpfs_release,
    .write = tmpfs_write, .truncate = tmpfs_truncate, .create = tmpfs_create, .link = tmpfs_link,
    .unlink = tmpfs_unlink, .rename = tmpfs_rename, .setattr = tmpfs_setattr,
    .tmpfile = tmpfs_tmpfile, .exchange = tmpfs_exchange, .getxattr = tmpfs_getxattr,
    .listxattr = tmpfs_listxattr, .setxattr = tmpfs_setxattr, .seek_hole = tmpfs_seek_hole,
};

/* ---- mount and umount ---- */

/* "size=N[kKmMgG%]" from the mount data (NULL: the default, a quarter of
 * memory). -EINVAL for anything else. */
static int parse_size(const char *opts, uint64_t *units)
{
    uint64_t total = pmm_total_frames();
    *units = total / 4;
    if (!opts || !*opts)
        return 0;
    for (const char *p = opts; *p;) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        if (!strncmp(p, "size=", 5)) {
            const char *q = p + 5;
            uint64_t v = 0;
            if (q == end || *q < '0' || *q > '9')
                return -EINVAL;
            while (q < end && *q >= '0' && *q <= '9') {
                if (v > (1ull << 50))
                    return -EINVAL;
                v = v * 10 + (uint64_t)(*q++ - '0');
            }
            uint64_t bytes = v;
            if (q < end) {
                char u = *q++;
                if (q != end)
                    return -EINVAL;
                if (u == 'k' || u == 'K')
                    bytes = v << 10;
                else if (u == 'm' || u == 'M')
                    bytes = v << 20;
                else if (u == 'g' || u == 'G')
                    bytes = v << 30;
                else if (u == '%')
                    bytes = total * PAGE_SIZE / 100 * MIN(v, 100ul);
                else
                    return -EINVAL;
            }
            *units = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
        } else if (strncmp(p, "mode=", 5) && strncmp(p, "nr_inodes=", 10) &&
                   strncmp(p, "uid=", 4) && strncmp(p, "gid=", 4)) {
            return -EINVAL;
        }
        p = *end ? end + 1 : end;
    }
    /* Never more than half of memory, whatever was asked for. */
    *units = MIN(*units, total / 2);
    return 0;
}

static uint32_t parse_mode(const char *opts, uint32_t dflt)
{
    const char *m = opts ? strstr(opts, "mode=") : NULL;
    if (!m)
        return dflt;
    uint32_t v = 0;
    for (m += 5; *m >= '0' && *m <= '7'; m++)
        v = v * 8 + (uint32_t)(*m - '0');
    return v & 07777;
}

/* statfs(2): the size limit in pages (every unit is a page's worth or
 * less), and as many possible files as units left. */
static void tmpfs_statfs(struct super *sb, struct kstatfs *st)
{
    struct tsuper *ts = (struct tsuper *)sb;
    st->bsize = st->frsize = PAGE_SIZE;
    st->blocks = ts->limit;
    st->bfree = st->bavail = ts->limit - ts->used;
    st->files = ts->limit;
    st->ffree = ts->limit - ts->used;
}

struct super *tmpfs_new(const char *opts, int *err)
{
    uint64_t units;
    if ((*err = parse_size(opts, &units)))
        return NULL;
    struct tsuper *ts = kzalloc(sizeof(*ts));
    if (!ts) {
        *err = -ENOMEM;
        return NULL;
    }
    ts->sb = (struct super){ .type = "tmpfs", .dev = next_dev++,
                             .maxbytes = MIN(units, MAX_FILE_PAGES) * PAGE_SIZE,
                             .statfs = tmpfs_statfs, .fh_to_inode = tmpfs_fh_to_inode };
    ts->limit = units;
    ts->next_ino = 1;
    struct tnode *root = node_new(ts, S_IFDIR | parse_mode(opts, 01777), err);
    if (!root) {
        kfree(ts);
        return NULL;
    }
    root->parent = root;
    ts->sb.root = &root->inode;
    return &ts->sb;
}

/* The entry in dir that names child (a directory: it has exactly one). */
static struct tdirent *entry_of(struct tnode *dir, struct tnode *child)
{
    struct tdirent *e = dir->entries;
    while (e->node != child)
        e = e->next;
    return e;
}

/* INVARIANT(kernel memory safety): no umount while a node of the tmpfs is
 * in use (an open file, a working directory, a mount on one of its
 * directories, an unlinked file still open): the tree's own reference is
 * the only one on every node. Walked without recursion (a deep tree must
 * not overflow the kernel stack). */
bool tmpfs_busy(struct super *sb)
{
    ASSERT_KLOCK();
    struct tsuper *ts = (struct tsuper *)sb;
    struct tnode *root = TN(sb->root), *d = root;
    if (ts->orphans > 0 || root->inode.refs > 1)
        return true;
    struct tdirent *e = d->entries;
    for (;;) {
        if (!e) {
            if (d == root)
                return false;
            struct tnode *child = d;
            d = d->parent;
            e = entry_of(d, child)->next;
            continue;
        }
        struct tnode *n = e->node;
        if (n->inode.refs > 1)
            return true;
        if (S_ISDIR(n->inode.mode)) {
            d = n;
            e = n->entries;
        } else {
            e = e->next;
        }
    }
}

/* Free every entry and node under root, and root (no recursion). */
static void free_tree(struct tsuper *ts, struct tnode *root)
{
    struct tnode *d = root;
    for (;;) {
        struct tdirent *e = d->entries;
        if (!e) {
            if (d == root)
                break;
            struct tnode *up = d->parent;
            node_free(d);
            d = up;
            continue;
        }
        d->entries = e->next;
        struct tnode *n = e->node;
        kfree(e);
        uncharge(ts, 1);
        if (S_ISDIR(n->inode.mode))
            d = n;
        else if (--n->inode.nlink == 0)
            node_free(n);                       /* its last name */
    }
    node_free(root);
}

/* After umount (tmpfs_busy said no): every frame and node back. */
void tmpfs_kill(struct super *sb)
{
    ASSERT_KLOCK();
    struct tsuper *ts = (struct tsuper *)sb;
    ts->dead = true;
    free_tree(ts, TN(sb->root));
    if (ts->used)
        kprintf("tmpfs: %lu units still counted at umount\n", ts->used);
    kfree(ts);
}

int tmpfs_mknod(struct inode *dir, const char *name, uint32_t mode, uint64_t rdev)
{
    return make(dir, name, strlen(name), mode, NULL, rdev, NULL);
}
