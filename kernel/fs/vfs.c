/* fs/vfs.c - inodes, path lookup, and open files backed by inodes. */
#include "vfs.h"
#include "file.h"
#include "poll.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/spinlock.h"
#include "../mm/mm.h"
#include "../arch/x86_64/arch.h"
#include "../proc/proc.h"
#include "../debug/debug.h"
#include "../lib/kprintf.h"

static struct super *root_sb;

/* Mounted file systems other than the root: the directory each one covers. */
#define MAX_MOUNTS 16
static struct mount {
    struct inode *covered;          /* the directory in the parent file system */
    struct super *sb;
    char *path;                     /* its absolute path (kmalloc'd), for /proc/mounts */
} mounts[MAX_MOUNTS];

static struct super *mounted_on(struct inode *dir)
{
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (mounts[i].sb && mounts[i].covered == dir)
            return mounts[i].sb;
    return NULL;
}

/* The directory a mounted root covers, or NULL if ino is no mounted root. */
static struct inode *covered_by(struct inode *ino)
{
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (mounts[i].sb && mounts[i].sb->root == ino)
            return mounts[i].covered;
    return NULL;
}

/* The mount table's changes, for pollers of /proc/mounts (proc(5): a
 * change makes the file POLLPRI|POLLERR). [klock] */
static uint64_t mount_events;
static struct waitq mount_wq;

uint64_t vfs_mount_events(void) { return mount_events; }
struct waitq *vfs_mount_waitq(void) { return &mount_wq; }

static void mounts_changed(void)
{
    mount_events++;
    waitq_notify(&mount_wq, POLLPRI | POLLERR);
}

int vfs_mount(struct super *sb, struct inode *dir, const char *path)
{
    if (!S_ISDIR(dir->mode))
        return -ENOTDIR;
    if (mounted_on(dir) || covered_by(dir))
        return -EBUSY;
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (!mounts[i].sb) {
            char *name = vfs_abspath("/", path);
            if (!name)
                return -ENOMEM;
            mounts[i] = (struct mount){ iget(dir), sb, name };
            mounts_changed();
            return 0;
        }
    return -ENOMEM;
}

int vfs_umount(struct inode *root)
{
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (mounts[i].sb && mounts[i].sb->root == root) {
            struct super *sb = mounts[i].sb;
            if (sb->shutdown)
                sb->shutdown(sb);
            struct mount gone = mounts[i];
            mounts[i] = (struct mount){ NULL, NULL, NULL };
            iput(gone.covered);                 /* (unreachable first: iset's rule) */
            kfree(gone.path);
            mounts_changed();
            fsnotify_sb_gone(sb);
            return 0;
        }
    return -EINVAL;                             /* not a mount point */
}

int vda_partition(const char *dev)
{
    if (strncmp(dev, "/dev/vda", 8))
        return -1;
    int n = 0;
    for (const char *p = dev + 8; *p; p++) {
        if (*p < '0' || *p > '9' || n > 128 || (p == dev + 8 && *p == '0'))
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n <= 128 ? n : -1;
}

bool vfs_is_mounted(struct super *sb)
{
    if (sb == root_sb)
        return true;
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (mounts[i].sb == sb)
            return true;
    return false;
}
bool vfs_mount_at(int i, struct super **sb, const char **path)
{
    if (i < 0 || i > MAX_MOUNTS)
        return false;
    if (i == 0) {
        *sb = root_sb;
        *path = "/";
    } else {
        *sb = mounts[i - 1].sb;
        *path = mounts[i - 1].path;
    }
    return true;
}

int vfs_mnt_id(struct super *sb)
{
    if (!sb)
        return 0;
    if (sb == root_sb)
        return 1;
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (mounts[i].sb == sb)
            return i + 2;
    return 0;
}

bool vfs_is_mountpoint(struct inode *dir) { return mounted_on(dir) != NULL; }

/* dir's ".." (a new reference in *up): its file system's, or, for a
 * removed directory, the directory it was removed from. */
static int parent_of(struct inode *dir, struct inode **up)
{
    if (dir->gone_parent) {
        *up = iget(dir->gone_parent);
        return 0;
    }
    return dir->ops->lookup ? dir->ops->lookup(dir, "..", 2, up) : -ENOENT;
}

bool vfs_is_below(struct inode *ino, struct inode *root)
{
    struct inode *cur = iget(ino);
    bool below = false;
    for (int depth = 0; depth < 4096; depth++) {
        struct inode *cov = covered_by(cur);
        if (cur == root || cov == root) {
            below = true;
            break;
        }
        if (cov) {
            iput(cur);
            cur = iget(cov);
        }
        struct inode *up;
        if (cur == root_sb->root || !S_ISDIR(cur->mode) || parent_of(cur, &up))
            break;
        if (up == cur) {                        /* a removed directory, or a file system's top */
            iput(up);
            break;
        }
        iput(cur);
        cur = up;
    }
    iput(cur);
    return below;
}

static struct spinlock ref_lock = SPINLOCK_INIT("inode refs");

void vfs_mount_root(struct super *sb) { root_sb = sb; }
struct inode *vfs_root(void) { return root_sb ? iget(root_sb->root) : NULL; }

void vfs_shutdown(void)
{
    filemap_writeback_all();                    /* what mappings wrote, into the file systems */
    for (int i = 0; i < MAX_MOUNTS; i++)
        if (mounts[i].sb && mounts[i].sb->shutdown)
            mounts[i].sb->shutdown(mounts[i].sb);
    if (root_sb && root_sb->shutdown)
        root_sb->shutdown(root_sb);
}

/* Where the last references went, newest last [ref_lock]: a use after
 * the last put is reported with who put it (a put too many leaves the
 * inode free while a table or a holder still points at it; the heap's
 * "freed by" names only the release's own callers). */
#define LAST_PUTS 4096
#define PUT_SITES 8
static struct last_put {
    struct inode *ino;
    uintptr_t site[PUT_SITES];
} last_puts[LAST_PUTS];
static unsigned last_put_next;

static inline __attribute__((always_inline)) void note_last_put_locked(struct inode *ino)
{
    struct last_put *lp = &last_puts[last_put_next++ % LAST_PUTS];
    lp->ino = ino;
    stack_callers(lp->site, PUT_SITES);
}

static void say_last_put(struct inode *ino)
{
    uint64_t f = spin_lock_irqsave(&ref_lock);
    struct last_put found = { 0 };
    for (unsigned i = 1; i <= LAST_PUTS && i <= last_put_next; i++)
        if (last_puts[(last_put_next - i) % LAST_PUTS].ino == ino) {
            found = last_puts[(last_put_next - i) % LAST_PUTS];
            break;
        }
    spin_unlock_irqrestore(&ref_lock, f);
    if (!found.ino) {
        kprintf("vfs: its last put is not among the last %d\n", LAST_PUTS);
        return;
    }
    kprintf("vfs: its last reference went at");
    for (int j = 0; j < PUT_SITES && found.site[j]; j++) {
        uintptr_t off;
        const char *name = ksym_lookup(found.site[j], &off);
        kprintf("%s %s+0x%lx", j ? " <-" : "", name ? name : "?", name ? off : found.site[j]);
    }
    kprintf("\n");
}

/* A reference count no live inode has: none left (being released), or
 * the heap's poison (0x6b6b6b6b: the inode's memory was freed). */
static bool refs_dead(int refs) { return refs <= 0 || refs == 0x6b6b6b6b; }

/* Said once, with the stack and whose heap block the inode is (with the
 * tracer on: who allocated it and who freed it). */
static void dead_inode(struct inode *ino, int refs, const char *what)
{
    static bool said;
    if (said)
        return;
    said = true;
    kprintf("vfs: BUG: %s inode %p with a reference count no live inode has (%d)\n", what, (void *)ino,
            refs);
    kheap_whois("inode", (uintptr_t)ino);
    say_last_put(ino);
    backtrace_from((uintptr_t)__builtin_return_address(0), (uintptr_t)__builtin_frame_address(0));
}

/* INVARIANT(kernel memory safety): a reference is only ever taken from
 * one that is held (the caller's own, a table's, a process's working
 * directory): an inode with none left is being released and will be
 * freed, and whoever takes one then holds freed memory (issue 17's
 * finding 5). So whoever holds the last reference makes the inode
 * unreachable first and drops it after. A reference taken to a released
 * or freed inode, or one put back there, is reported once ("BUG:", which
 * the fuzzer and the suite count as a kernel fault). */
struct inode *iget(struct inode *ino)
{
    uint64_t f = spin_lock_irqsave(&ref_lock);
    int was = ino->refs++;
    spin_unlock_irqrestore(&ref_lock, f);
    if (refs_dead(was))
        dead_inode(ino, was, "a reference taken to");
    return ino;
}

void iset(struct inode **slot, struct inode *ino)
{
#ifdef BREAK_ISET_ORDER
    iput(*slot);                        /* the break switch: the old order, put first */
    *slot = ino;
    return;
#endif
    struct inode *old = *slot;
    *slot = ino;
    iput(old);
}

/* One reference put; the inode to put next (a removed directory's
 * parent, when this was the directory's last reference) or NULL. */
static struct inode *iput_one(struct inode *ino)
{
    uint64_t f = spin_lock_irqsave(&ref_lock);
    int was = ino->refs;
    bool last = --ino->refs == 0;
    if (last)
        note_last_put_locked(ino);
    spin_unlock_irqrestore(&ref_lock, f);
    if (refs_dead(was)) {
        dead_inode(ino, was, "a reference put back to");
        return NULL;                            /* nothing of it is ours to release */
    }
    if (!last)
        return NULL;
    struct inode *up = ino->gone_parent;
    ino->gone_parent = NULL;
    if (ino->nlink == 0)
        fsnotify_inode_gone(ino);               /* inotify's IN_DELETE_SELF */
    filemap_evict(ino);                         /* its cached pages (no mapping is left) */
    if (ino->ops->release)
        ino->ops->release(ino);
    return up;
}

/* A loop, not a recursion: a chain of removed directories, each holding
 * the one it was removed from, may be as long as a path is deep. */
void iput(struct inode *ino)
{
    while (ino)
        ino = iput_one(ino);
}

/* INVARIANT(privilege separation): files are reached only as their mode
 * bits allow the caller's IDs: owner, else group (its own or a
 * supplementary one), else others. Root may
 * read and write anything, and execute what anyone may. */
static int permission_as(struct inode *ino, int mask, uint32_t uid, uint32_t gid)
{
#ifdef BREAK_FILE_PERM
    return 0;                           /* the break switch: mode bits decide nothing */
#endif
    if (uid == 0) {
        if ((mask & MAY_EXEC) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
            return -EACCES;
        return 0;
    }
    /* The group class: the given (effective or real) gid, or any of the
     * supplementary groups, which both kinds of check use. */
    struct proc *p = current();
    bool group = gid == ino->gid || (p && proc_in_supplementary(p, ino->gid));
    uint32_t bits = uid == ino->uid ? ino->mode >> 6 : group ? ino->mode >> 3 : ino->mode;
    return (bits & (uint32_t)mask & 7) == ((uint32_t)mask & 7) ? 0 : -EACCES;
}

int vfs_permission(struct inode *ino, int mask)
{
    struct proc *p = current();
    return permission_as(ino, mask, p ? p->fsuid : 0, p ? p->fsgid : 0);    /* the fs ids: setfsuid */
}

int vfs_permission_real(struct inode *ino, int mask)
{
    struct proc *p = current();
    return permission_as(ino, mask, p ? p->uid : 0, p ? p->gid : 0);
}

/* Where "/" leads for the calling process: its chroot, else the system's
 * root. */
static struct inode *process_root(void)
{
    struct proc *p = current();
    return p && p->fs && p->fs->root ? p->fs->root : root_sb->root;
}

/* One path lookup: the symlinks it followed so far (nested or one after
 * another: Linux's total, ELOOP past 40), its LOOKUP_* flags, and for
 * openat2's scoped lookups the directory it started in (RESOLVE_BENEATH:
 * never above it; RESOLVE_IN_ROOT: "/" and ".." stop there) and the file
 * system it started on (RESOLVE_NO_XDEV). */
struct walkctx {
    int links;
    int flags;
    struct inode *scope;
};

static bool is_dotdot(const char *name, size_t len) { return len == 2 && name[0] == '.' && name[1] == '.'; }

/* Walk path from start (follow: through a final symlink). */
static int walk(struct walkctx *w, struct inode *start, const char *path, bool follow, struct inode **out)
{
    if (!*path)
        return -ENOENT;
    struct inode *top = (w->flags & LOOKUP_IN_ROOT) ? w->scope : process_root();
    if (path[0] == '/') {
        /* INVARIANT(privilege separation): a scoped lookup (openat2's
         * RESOLVE_BENEATH) never leaves the directory it was given, not
         * even through an absolute path or symlink; RESOLVE_NO_XDEV
         * never crosses into another mount. */
        if (w->flags & LOOKUP_BENEATH)
            return -EXDEV;
        if ((w->flags & LOOKUP_NO_XDEV) && top->sb != start->sb)
            return -EXDEV;
    }
    struct inode *cur = iget(path[0] == '/' ? top : start);
    const char *name;
    size_t len;
    int r = 0;
    for (const char *p = path_next(path, &name, &len); len; p = path_next(p, &name, &len)) {
        const char *rest;
        size_t rest_len;
        path_next(p, &rest, &rest_len);
        bool last = rest_len == 0;
        if (len > NAME_MAX) {
            r = -ENAMETOOLONG;
            break;
        }
        if (!S_ISDIR(cur->mode)) {
            r = -ENOTDIR;
            break;
        }
        if ((r = vfs_permission(cur, MAY_EXEC)))    /* search permission */
            break;
        if (len == 1 && name[0] == '.')
            continue;
        if (is_dotdot(name, len) && (w->flags & LOOKUP_BENEATH) && cur == w->scope) {
            r = -EXDEV;                             /* above the directory it was given */
            break;
        }
        /* INVARIANT(privilege separation): ".." at a process's root stays
         * there: a path that starts inside a chroot stays inside. */
#ifndef BREAK_CHROOT
        if (is_dotdot(name, len) && cur == top)
            continue;
#endif
        /* ".." from a mounted root leaves through the directory it covers. */
        struct inode *cov;
        if (is_dotdot(name, len) && (cov = covered_by(cur))) {
            if (w->flags & LOOKUP_NO_XDEV) {
                r = -EXDEV;
                break;
            }
            iput(cur);
            cur = iget(cov);
        }
        struct inode *next;
        if ((r = is_dotdot(name, len) ? parent_of(cur, &next) : cur->ops->lookup(cur, name, len, &next)))
            break;
        /* A symlink is followed unless it is the last component, asked not
         * to be, and not followed by a slash ("link/" means the target). */
        bool through = S_ISLNK(next->mode) && (!last || follow || *p == '/');
        if (through && (w->flags & LOOKUP_NO_SYMLINKS)) {
            iput(next);
            r = -ELOOP;
            break;
        }
        int jerr = 0;
        struct inode *jump = through && next->ops->follow ? next->ops->follow(next, &jerr) : NULL;
        if ((jump || jerr) && !jerr && (w->flags & (LOOKUP_NO_MAGICLINKS | LOOKUP_BENEATH | LOOKUP_IN_ROOT))) {
            iput(jump);
            jerr = (w->flags & LOOKUP_NO_MAGICLINKS) ? -ELOOP : -EXDEV;
            jump = NULL;
        }
        if (jump && (w->flags & LOOKUP_NO_XDEV) && jump->sb != cur->sb) {
            iput(jump);
            jerr = -EXDEV;
            jump = NULL;
        }
        if (jump || jerr) {
            iput(next);
            if ((r = jerr))
                break;
            next = jump;                        /* a magic link: straight to its inode */
        } else if (through) {
            char *target = kmalloc(PATH_MAX);
            long n = target ? next->ops->readlink(next, target, PATH_MAX - 1) : -ENOMEM;
            iput(next);
            if (n < 0 || w->links++ >= SYMLOOP_MAX) {
                kfree(target);
                r = n < 0 ? (int)n : -ELOOP;
                break;
            }
            target[n] = 0;
            r = walk(w, cur, target, true, &next);
            kfree(target);
            if (r)
                break;
        }
        /* A directory with a file system mounted on it leads into its root. */
        struct super *m = mounted_on(next);
        if (m && (w->flags & LOOKUP_NO_XDEV)) {
            iput(next);
            r = -EXDEV;
            break;
        }
        if (m) {
            iput(next);
            next = iget(m->root);
        }
        iput(cur);
        cur = next;
    }
    if (r) {
        iput(cur);
        return r;
    }
    *out = cur;
    return 0;
}

int vfs_lookup(struct inode *cwd, const char *path, int flags, struct inode **out)
{
    if (!root_sb)
        return -ENOENT;
    if (strnlen(path, PATH_MAX) >= PATH_MAX)
        return -ENAMETOOLONG;
    struct walkctx w = { 0, flags, cwd ? cwd : root_sb->root };
    return walk(&w, w.scope, path, flags & LOOKUP_FOLLOW, out);
}

int vfs_lookup_parent(struct inode *cwd, const char *path, int flags, struct inode **dir,
                      const char **last, size_t *len)
{
    /* Split off the last component ("a/b/c/" -> "a/b", "c"). */
    size_t n = strnlen(path, PATH_MAX);
    if (n == 0)
        return -ENOENT;
    if (n >= PATH_MAX)
        return -ENAMETOOLONG;
    size_t e = n;
    while (e > 1 && path[e - 1] == '/')
        e--;
    size_t b = e;
    while (b > 0 && path[b - 1] != '/')
        b--;
    *last = path + b;
    *len = e - b;
    char *head = kmalloc(b + 2);
    if (!head)
        return -ENOMEM;
    memcpy(head, path, b);
    if (b == 0)
        head[b++] = '.';
    head[b] = 0;
    int r = vfs_lookup(cwd, head, flags | LOOKUP_FOLLOW, dir);
    kfree(head);
    return r;
}

void vfs_stat(struct inode *ino, struct kstat *st)
{
    memset(st, 0, sizeof(*st));
    st->dev = ino->sb ? ino->sb->dev : 0;
    st->ino = ino->ino;
    st->nlink = ino->nlink;
    st->mode = ino->mode;
    st->uid = ino->uid;
    st->gid = ino->gid;
    st->rdev = ino->rdev;
    st->size = (int64_t)ino->size;
    st->blksize = 4096;
    st->blocks = (int64_t)ino->blocks;
    st->atime = (uint64_t)ino->atime;
    st->mtime = (uint64_t)ino->mtime;
    st->ctime = (uint64_t)ino->ctime;
}

int vfs_truncate(struct inode *ino, uint64_t size)
{
    if ((!ino->ops->truncate || sb_ro(ino)))
        return -EROFS;
    uint64_t old_size = ino->size;
    int r = ino->ops->truncate(ino, size);
    if (!r)
        filemap_truncate(ino, old_size, size);
    return r;
}

/* ---- names ---- */

/* Append component c (len bytes) to the absolute path out (n bytes room),
 * as a lexical walk: "." stays, ".." goes up (never above "/"). */
static void path_push(char *out, size_t n, const char *c, size_t len)
{
    size_t at = strlen(out);
    if (len == 1 && c[0] == '.')
        return;
    if (len == 2 && c[0] == '.' && c[1] == '.') {
        while (at > 1 && out[at - 1] != '/')
            at--;
        if (at > 1)
            at--;
        out[at] = 0;
        return;
    }
    if (at + len + 2 > n)
        return;                                 /* too long: cut (PATH_MAX) */
    if (out[at - 1] != '/')
        out[at++] = '/';
    memcpy(out + at, c, len);
    out[at + len] = 0;
}

char *vfs_abspath(const char *base, const char *path)
{
    char *out = kmalloc(PATH_MAX);
    if (!out)
        return NULL;
    out[0] = '/', out[1] = 0;
    const char *c;
    size_t len;
    if (path[0] != '/' && base)
        for (const char *p = path_next(base, &c, &len); len; p = path_next(p, &c, &len))
            path_push(out, PATH_MAX, c, len);
    for (const char *p = path_next(path, &c, &len); len; p = path_next(p, &c, &len))
        path_push(out, PATH_MAX, c, len);
    char *fit = kmalloc(strlen(out) + 1);      /* kept with open files: no 4 KiB each */
    if (fit)
        strlcpy(fit, out, strlen(out) + 1);
    kfree(out);
    return fit;
}

/* How deep vfs_realpath may nest: reading a /proc magic link (fd/N, cwd,
 * exe) resolves the name it shows, and that name may pass through a magic
 * link again (a descriptor opened through /proc/self/fd/N). Past the
 * third level the name is shown as it was written. */
#define REALPATH_NEST 3

void vfs_realpath(const char *abs, char *out, size_t n)
{
    /* rest: what is left to walk; each symlink met is spliced in front of
     * the rest (an absolute one restarts from "/"), at most SYMLOOP_MAX.
     * out is written only at the end: it may be a name a magic link met
     * on the way shows (chdir("/proc/self/cwd") resolves into the working
     * directory's own name), which must stay the old one meanwhile. */
    /* INVARIANT(kernel memory safety): the nesting is bounded, and with
     * it the kernel stack and the work: past REALPATH_NEST the name stays
     * as written (an unbounded chain of readlink -> realpath -> readlink
     * overflowed the stack: a double fault, found by pathfuzz). */
    struct proc *me = current();
#ifdef BREAK_REALPATH_EARLY
    strlcpy(out, abs, n);               /* the break switch: out written first, as before */
#endif
    if (me && me->realpath_depth >= REALPATH_NEST) {
        strlcpy(out, abs, n);
        return;
    }
    if (me)
        me->realpath_depth++;
    char *rest = kmalloc(PATH_MAX), *link = kmalloc(PATH_MAX), *walked = kmalloc(PATH_MAX);
    if (!rest || !link || !walked) {
        strlcpy(out, abs, n);
        goto done;
    }
    strlcpy(rest, abs, PATH_MAX);
    walked[0] = '/', walked[1] = 0;
    int links = 0;
    const char *c;
    size_t len;
    for (const char *p = path_next(rest, &c, &len); len; p = path_next(p, &c, &len)) {
        size_t at = strlen(walked);
        path_push(walked, PATH_MAX, c, len);
        struct inode *ino;
        if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            continue;
        if (vfs_lookup(NULL, walked, 0, &ino)) {
            /* Gone (or never there): the rest as written. */
            for (const char *q = path_next(p, &c, &len); len; q = path_next(q, &c, &len))
                path_push(walked, PATH_MAX, c, len);
            break;
        }
        long k = S_ISLNK(ino->mode) && links < SYMLOOP_MAX ?
                 ino->ops->readlink(ino, link, PATH_MAX - 1) : -1;
        iput(ino);
        if (k <= 0)
            continue;
        links++;
        link[k] = 0;
        walked[at > 1 ? at : 1] = 0;            /* back to the symlink's directory */
        if (link[0] == '/')
            walked[1] = 0;
        /* The new rest: the target, then what followed the symlink. */
        size_t tl = (size_t)k;
        size_t pl = strlen(p);
        if (tl + 1 + pl + 1 > PATH_MAX)
            break;
        memmove(rest + tl + 1, p, pl + 1);
        memcpy(rest, link, tl);
        rest[tl] = '/';
        p = rest;
    }
    strlcpy(out, walked, n);
done:
    kfree(rest);
    kfree(link);
    kfree(walked);
    if (me)
        me->realpath_depth--;
}

long vfs_read_all(struct inode *ino, uint8_t **buf, size_t max)
{
    if (ino->size > max)
        return -EFBIG;
    uint8_t *b = kmalloc(ino->size ? ino->size : 1);
    if (!b)
        return -ENOMEM;
    size_t done = 0;
    while (done < ino->size) {
        long r = filemap_read(ino, done, b + done, ino->size - done);
        if (r <= 0) {
            kfree(b);
            return r < 0 ? r : -EIO;
        }
        done += (size_t)r;
    }
    *buf = b;
    return (long)done;
}

/* ---- open files on inodes ---- */

static long vf_read(struct file *f, void *ubuf, size_t n)
{
    struct inode *ino = f->inode;
    if (S_ISDIR(ino->mode))
        return -EISDIR;
    if (!ino->ops->read)
        return -EINVAL;
    uint8_t *tmp = kmalloc(PAGE_SIZE);
    if (!tmp)
        return -ENOMEM;
    long total = 0;
    while ((size_t)total < n) {
        size_t want = MIN(n - (size_t)total, PAGE_SIZE);
        long r = S_ISREG(ino->mode) ? filemap_read(ino, f->off, tmp, want)
                                    : ino->ops->read(ino, f->off, tmp, want);
        file_check(f, "vf_read");               /* it may have slept: still ours (fd_get) */
        if (r < 0) {
            total = total ? total : r;
            break;
        }
        if (r == 0)
            break;
        if (copy_to_user((uint8_t *)ubuf + total, tmp, (size_t)r)) {
            total = total ? total : -EFAULT;
            break;
        }
        f->off += (uint64_t)r;
        total += r;
        if ((size_t)r < want)
            break;
    }
    kfree(tmp);
    return total;
}

static long vf_write(struct file *f, const void *ubuf, size_t n)
{
    struct inode *ino = f->inode;
    if ((!ino->ops->write || sb_ro(ino)))
        return -EROFS;
    if ((f->flags & 3) == 0)
        return -EBADF;                          /* opened read-only */
    uint8_t *tmp = kmalloc(PAGE_SIZE);
    if (!tmp)
        return -ENOMEM;
    if (f->flags & O_APPEND)
        f->off = ino->size;
    long total = 0;
    while ((size_t)total < n) {
        size_t k = MIN(n - (size_t)total, PAGE_SIZE);
        if (copy_from_user(tmp, (const uint8_t *)ubuf + total, k)) {
            total = total ? total : -EFAULT;
            break;
        }
        long r = S_ISREG(ino->mode) ? filemap_write(ino, f->off, tmp, k)
                                    : ino->ops->write(ino, f->off, tmp, k);
        file_check(f, "vf_write");              /* it may have slept: still ours (fd_get) */
        if (r <= 0) {
            total = total ? total : r;
            break;
        }
        f->off += (uint64_t)r;
        total += r;
    }
    f->size = ino->size;
    kfree(tmp);
    return total;
}

static int vf_stat(struct file *f, struct kstat *st)
{
    vfs_stat(f->inode, st);
    return 0;
}

struct dirent_ctx {
    uint8_t *kbuf;
    size_t cap, used;
};

static bool fill_dirent64(void *arg, const char *name, size_t len, uint64_t ino,
                          unsigned dtype, uint64_t next_pos)
{
    struct dirent_ctx *c = arg;
    size_t reclen = ALIGN_UP(8 + 8 + 2 + 1 + len + 1, 8);
    if (c->used + reclen > c->cap)
        return false;
    uint8_t *d = c->kbuf + c->used;
    memset(d, 0, reclen);
    memcpy(d, &ino, 8);
    memcpy(d + 8, &next_pos, 8);
    uint16_t rl = (uint16_t)reclen;
    memcpy(d + 16, &rl, 2);
    d[18] = (uint8_t)dtype;
    memcpy(d + 19, name, len);
    c->used += reclen;
    return true;
}

static long vf_getdents(struct file *f, void *ubuf, size_t n)
{
    struct inode *ino = f->inode;
    if (!S_ISDIR(ino->mode))
        return -ENOTDIR;
    struct dirent_ctx c = { kmalloc(MIN(n, 32768ul)), MIN(n, 32768ul), 0 };
    if (!c.kbuf)
        return -ENOMEM;
    int r = ino->ops->readdir(ino, &f->off, fill_dirent64, &c);
    long ret = r < 0 ? r : (long)c.used;
    if (r >= 0 && c.used == 0 && r == 1)
        ret = -EINVAL;                          /* buffer too small for one entry */
    if (ret > 0 && copy_to_user(ubuf, c.kbuf, c.used))
        ret = -EFAULT;
    kfree(c.kbuf);
    return ret;
}

static void vf_release(struct file *f)
{
    if (f->write_access)
        vfs_put_write_access(f->inode);
    iput(f->inode);
}

/* INVARIANT(process isolation): a program's file is never written while
 * it runs (its pages are mapped from the file: a write would change the
 * code under it), nor run while open for writing: ETXTBSY both ways. */
int vfs_get_write_access(struct inode *ino)
{
#ifndef BREAK_TXTBSY
    if (ino->writecount < 0)
        return -ETXTBSY;
#endif
    ino->writecount++;
    return 0;
}

void vfs_put_write_access(struct inode *ino) { ino->writecount--; }

int vfs_deny_write_access(struct inode *ino)
{
    if (ino->writecount > 0)
        return -ETXTBSY;
    ino->writecount--;
    return 0;
}

void vfs_allow_write_access(struct inode *ino) { ino->writecount++; }

static const struct file_ops vfs_file_ops = {
    .read = vf_read, .write = vf_write, .stat = vf_stat, .getdents = vf_getdents, .release = vf_release,
    .seekable = true,
};

struct file *vfs_open(struct inode *ino, int flags)
{
    struct file *f = file_alloc(&vfs_file_ops, NULL);
    if (!f)
        return NULL;
    f->inode = ino;
    f->flags = flags;
    f->size = ino->size;
    return f;
}
