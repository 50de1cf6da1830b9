/* fs/pseudofs.c - inodes, directories and open files for the generated
 * file systems (/proc, /sys): see pseudofs.h for the shape and the rules.
 *
 * Everything here runs under the kernel lock (the VFS's contract). A
 * process is looked up by number at each step; a generator may use the
 * struct proc it finds only until it sleeps (proc_get_klocked's rule), so
 * generators do not sleep: they copy what they need and format it. */
#include "pseudofs.h"
#include "vfs.h"
#include "file.h"
#include "poll.h"
#include "../proc/proc.h"
#include "../mm/mm.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../sys/syscall.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"

/* ---- text buffers ---- */

static bool sb_room(struct sbuf *s, size_t more)
{
    if (s->oom)
        return false;
    if (s->len + more + 1 <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < s->len + more + 1)
        cap *= 2;
    char *b = kmalloc(cap);
    if (!b) {
        s->oom = true;
        return false;
    }
    if (s->len)
        memcpy(b, s->buf, s->len);
    kfree(s->buf);
    s->buf = b;
    s->cap = cap;
    return true;
}

void sb_write(struct sbuf *s, const void *data, size_t n)
{
    if (!sb_room(s, n))
        return;
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = 0;
}

void sb_printf(struct sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[160];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < (int)sizeof(small)) {
        sb_write(s, small, (size_t)n);
        return;
    }
    if (!sb_room(s, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

void sb_octal(struct sbuf *s, uint64_t v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + (v & 7));
        v >>= 3;
    } while (v);
    while (n < width && n < (int)sizeof(d))
        d[n++] = '0';
    while (n)
        sb_write(s, &d[--n], 1);
}

/* ---- inodes ---- */

struct pnode {
    struct inode inode;
    const struct pent *e;
    struct pctx c;
    struct inode *parent;       /* a reference: what ".." leads to (NULL: the root) */
    uint64_t serial;            /* a process's: which process it was made for (proc/pidfd.c) */
};

struct pfs {                    /* one instance */
    struct super sb;
    struct pent rootent;
    struct pnode root;
};

static const struct inode_ops pdir_ops, pfile_ops, plink_ops;

static const struct pent *ent_of(struct inode *ino, struct pctx *c)
{
    struct pnode *n = ino->priv;
    *c = n->c;
    return n->e;
}

/* Is the process (thread) the context names still there? */
static bool alive(const struct pctx *c)
{
    return !c->tgid || proc_get_klocked(c->tgid, c->tid);
}

/* The file a descriptor entry names, or NULL. */
static struct file *fd_file(const struct pctx *c)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    return p ? fdt_file(p->fdt, c->fd) : NULL;
}

/* INVARIANT(privilege separation): what only a debugger of the process
 * may see (its environment, its open files, its executable and working
 * directory) needs Linux's ptrace read access: root, or the caller's
 * effective IDs equal to every one of the process's real, effective and
 * saved IDs. */
static bool may_access(const struct pctx *c)
{
#ifdef BREAK_PROC_PERM
    return true;                                /* the break switch: anyone may look */
#endif
    struct proc *me = current();
    struct proc_view v;
    if (!c->tgid || me->euid == 0 || me->tgid == c->tgid)
        return true;
    if (proc_view(c->tid, false, &v))
        return false;
    return me->euid == v.uid && me->euid == v.euid && me->euid == v.suid &&
           me->egid == v.gid && me->egid == v.egid && me->egid == v.sgid;
}

static uint64_t ino_number(const struct pent *e, const struct pctx *c)
{
    uint64_t h = (uint64_t)(uintptr_t)e * 0x9e3779b97f4a7c15ul;
    h ^= (uint64_t)(uint32_t)c->tgid * 0xc2b2ae3d27d4eb4ful;
    h ^= (uint64_t)(uint32_t)c->tid * 0x165667b19e3779f9ul + (c->thread ? 0x27d4eb2f165667c5ul : 0);
    h ^= (uint64_t)(uint32_t)(c->fd + 1) * 0x85ebca77c2b2ae63ul;
    h = (h ^ (h >> 29)) & 0xffffffffffful;
    return h > 1 ? h : h + 2;                   /* 1 is the root's */
}

static struct inode *make_inode(struct inode *dir, const struct pent *e, const struct pctx *c)
{
    struct pnode *n = kzalloc(sizeof(*n));
    if (!n)
        return NULL;
    n->e = e;
    n->c = *c;
    n->parent = iget(dir);
    struct inode *ino = &n->inode;
    ino->sb = dir->sb;
    ino->ino = ino_number(e, c);
    ino->mode = e->mode;
    ino->nlink = S_ISDIR(e->mode) ? 2 : 1;
    ino->refs = 1;
    ino->priv = n;
    ino->ops = S_ISDIR(e->mode) ? &pdir_ops : S_ISLNK(e->mode) ? &plink_ops : &pfile_ops;
    ino->atime = ino->mtime = ino->ctime = (int64_t)(time_realtime_ns() / 1000000000ul);
    struct proc_view v;
    if (c->tgid && !proc_view(c->tid, !c->thread, &v)) {
        n->serial = v.serial;
        /* A later process with the same number gets other inode numbers. */
        ino->ino ^= (v.serial * 0x9e3779b97f4a7c15ul) & 0xfffffffff000ul;
        ino->uid = v.euid;                      /* the process's files are its user's */
        ino->gid = v.egid;
        ino->atime = ino->mtime = ino->ctime =
            (int64_t)((time_realtime_ns() - time_monotonic_ns()) / 1000000000ul +
                      v.start_tick / timer_hz());
    }
    if (c->fd >= 0 && S_ISLNK(e->mode)) {       /* fd/N: lr-x, l-wx or lrwx as opened */
        struct file *f = fd_file(c);
        int acc = f ? f->flags & O_ACCMODE : 0;
        ino->mode = S_IFLNK | 0100 | (acc != O_WRONLY ? 0400 : 0) | (acc != O_RDONLY ? 0200 : 0);
    }
    return ino;
}

int pseudofs_proc_dir(struct inode *ino, uint64_t *serial)
{
    if (ino->ops != &pdir_ops)
        return 0;
    struct pnode *n = ino->priv;
    struct pnode *up = n->parent ? n->parent->priv : NULL;
    if (!n->c.tgid || n->c.thread || n->c.fd >= 0 || !up || up->e->kind != PD_PROCS || up->c.tgid)
        return 0;
    *serial = n->serial;
    return n->c.tgid;
}

static bool is_number(const char *name, size_t len, int *out)
{
    if (!len || len > 9 || (name[0] == '0' && len > 1))
        return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (name[i] - '0');
    }
    *out = v;
    return true;
}

/* Is table entry s there in a directory seen from c? */
static bool shown(const struct pent *s, const struct pctx *c)
{
    return !((s->flags & PE_PROCESS) && c->thread) && !((s->flags & PE_CPU) && s->arg >= cpu_count());
}

static bool name_is(const char *a, const char *name, size_t len)
{
    return strlen(a) == len && !strncmp(a, name, len);
}

static int pd_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct pctx c;
    const struct pent *e = ent_of(dir, &c);
    if (!alive(&c))
        return -ESRCH;                          /* Linux: inside a directory whose process went */
    if (name_is("..", name, len)) {
        struct inode *up = ((struct pnode *)dir->priv)->parent;
        *out = iget(up ? up : dir);
        return 0;
    }
    for (const struct pent *s = e->sub; s && s->name; s++) {
        if (!shown(s, &c))
            continue;
        if (name_is(s->name, name, len)) {
            *out = make_inode(dir, s, &c);
            return *out ? 0 : -ENOMEM;
        }
    }
    int id;
    if (e->kind == PD_TABLE || !is_number(name, len, &id))
        return -ENOENT;
    struct pctx n = c;
    switch (e->kind) {
    case PD_PROCS: {                            /* /proc/PID, or a thread's /proc/TID */
        struct proc_view v;
        if (id <= 0 || proc_view(id, false, &v))
            return -ENOENT;
        n = (struct pctx){ v.tgid, id, -1, id != v.tgid };
        break;
    }
    case PD_TASKS: {
        struct proc_view v;
        if (id <= 0 || proc_view(id, false, &v) || v.tgid != c.tgid)
            return -ENOENT;
        n.tid = id;
        n.thread = true;
        break;
    }
    default:                                    /* fd/, fdinfo/ */
        n.fd = id;
        if (!fd_file(&n))
            return -ENOENT;
        break;
    }
    *out = make_inode(dir, e->child, &n);
    return *out ? 0 : -ENOMEM;
}

static unsigned dtype_of(uint32_t mode)
{
    return IFTODT(mode);
}

/* A directory of processes or threads lists at most NPROC; descriptors,
 * of which a table may hold a million, are listed FD_CHUNK at a time (a
 * listing of a process with more than NPROC files open once wrote past an
 * array sized for processes, found by trinity). */
#define MAX_IDS NPROC
#define FD_CHUNK 256

/* Up to FD_CHUNK open descriptors of the context's process from `from`
 * up, ascending, into ids: the count. */
static int open_fds_from(const struct pctx *c, int from, int *ids)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    struct fdtable *t = p ? p->fdt : NULL;
    int n = 0;
    for (int fd = from; t && fd < t->max && n < FD_CHUNK; fd++)
        if (t->fd[fd])
            ids[n++] = fd;
    return n;
}

static int pd_readdir(struct inode *dir, uint64_t *pos, filldir_t fill, void *ctx)
{
    struct pctx c;
    const struct pent *e = ent_of(dir, &c);
    if (!alive(&c))
        return -ENOENT;
    if (*pos == 0) {
        if (!fill(ctx, ".", 1, dir->ino, 4, 1))
            return 1;
        *pos = 1;
    }
    if (*pos == 1) {
        if (!fill(ctx, "..", 2, 1, 4, 2))
            return 1;
        *pos = 2;
    }
    uint64_t base = 2;
    for (const struct pent *s = e->sub; s && s->name; s++, base++) {
        if (*pos > base || !shown(s, &c))
            continue;
        if (!fill(ctx, s->name, strlen(s->name), ino_number(s, &c), dtype_of(s->mode), base + 1))
            return 1;
        *pos = base + 1;
    }
    if (e->kind == PD_TABLE)
        return 0;
    /* Computed entries: each at base + its number, so the cookies stay put
     * while entries come and go. */
    bool fds = e->kind != PD_PROCS && e->kind != PD_TASKS;
    int *ids = kmalloc((fds ? FD_CHUNK : MAX_IDS) * sizeof(int)), n = 0;
    if (!ids)
        return -ENOMEM;
    if (e->kind == PD_PROCS)
        n = proc_list_tgids(ids, MAX_IDS);
    else if (e->kind == PD_TASKS)
        n = proc_list_tids(c.tgid, ids, MAX_IDS);
    else
        n = open_fds_from(&c, *pos > base ? (int)MIN(*pos - base, (uint64_t)INT32_MAX) : 0, ids);
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (*pos > base + (uint64_t)ids[i])
            goto next;
        char name[16];
        int len = snprintf(name, sizeof(name), "%d", ids[i]);
        struct pctx k = c;
        if (e->kind == PD_PROCS)
            k = (struct pctx){ ids[i], ids[i], -1, false };
        else if (e->kind == PD_TASKS)
            k.tid = ids[i], k.thread = true;
        else
            k.fd = ids[i];
        if (!fill(ctx, name, (size_t)len, ino_number(e->child, &k), dtype_of(e->child->mode),
                  base + (uint64_t)ids[i] + 1)) {
            r = 1;
            break;
        }
        *pos = base + (uint64_t)ids[i] + 1;
    next:
        if (fds && i == FD_CHUNK - 1) {         /* a full chunk: the next one (looked up anew) */
            n = open_fds_from(&c, ids[i] + 1, ids);
            i = -1;
        }
    }
    kfree(ids);
    return r;
}

static void pnode_release(struct inode *ino)
{
    struct pfs *fs = (struct pfs *)ino->sb;
    if (ino != &fs->root.inode) {
        struct pnode *n = ino->priv;
        iput(n->parent);
        kfree(n);                               /* the inode is inside */
    }
}

static long pl_readlink(struct inode *ino, char *buf, size_t n)
{
    struct pctx c;
    const struct pent *e = ent_of(ino, &c);
    if (!alive(&c))
        return -ENOENT;
    if ((e->flags & PE_PTRACE) && !may_access(&c))
        return -EACCES;
    return e->link(&c, buf, n);
}

static struct inode *pl_follow(struct inode *ino, int *err)
{
    struct pctx c;
    const struct pent *e = ent_of(ino, &c);
    if (!e->follow)
        return NULL;
    if (!alive(&c)) {
        *err = -ENOENT;
        return NULL;
    }
    if ((e->flags & PE_PTRACE) && !may_access(&c)) {
        *err = -EACCES;
        return NULL;
    }
    return e->follow(&c);
}

/* ---- open files ---- */

#define PF_BUF 2016             /* kheap's largest small block */

/* INVARIANT(kernel memory safety): a generator may sleep (maps resolves
 * paths) and copy_to_user may fault a file page in: the file's mutex keeps
 * two threads reading one open file from freeing the text under each
 * other (Linux's seq_file lock). */
struct pfile {
    struct mutex lock;
    struct sbuf s;
    bool have;                  /* s holds a generated text */
    bool fresh;                 /* ... made at open and not read yet */
    uint64_t mounts_seen;       /* PE_MOUNTS: the mount table change last reported */
};

/* Generate the file's text into pf: 0 or -errno. */
static int pf_generate(struct pfile *pf, const struct pent *e, const struct pctx *c)
{
    pf->have = false;
    if (!alive(c))
        return -ESRCH;
    pf->s.len = 0;
    pf->s.oom = false;
    int r = e->gen(&pf->s, c);
    if (r)
        return r;
    if (pf->s.oom)
        return -ENOMEM;
    pf->have = true;
    return 0;
}

static long pf_read_locked(struct file *f, void *ubuf, size_t n)
{
    struct pfile *pf = f->priv;
    struct pctx c;
    const struct pent *e = ent_of(f->inode, &c);
    if (pf->fresh && !alive(&c))
        return -ESRCH;                          /* opened before its process went */
    if (!pf->have || (f->off == 0 && !pf->fresh)) {
        int r = pf_generate(pf, e, &c);
        if (r)
            return r;
    }
    pf->fresh = false;
    if (f->off >= pf->s.len)
        return 0;
    size_t k = MIN(n, pf->s.len - f->off);
    if (copy_to_user(ubuf, pf->s.buf + f->off, k))
        return -EFAULT;
    f->off += k;
    return (long)k;
}

/* A file that is not text: its bytes at the offset, both ways. */
static long pf_rw(struct file *f, void *ubuf, size_t n, bool write)
{
    struct pctx c;
    const struct pent *e = ent_of(f->inode, &c);
    if (!alive(&c))
        return -ESRCH;
    long r = e->rw(&c, f->off, ubuf, n, write);
    if (r > 0)
        f->off += (uint64_t)r;
    return r;
}

static long pf_read(struct file *f, void *ubuf, size_t n)
{
    struct pfile *pf = f->priv;
    struct pctx c0;
    if (ent_of(f->inode, &c0)->rw)
        return pf_rw(f, ubuf, n, false);
    mutex_lock(&pf->lock);
    long r = pf_read_locked(f, ubuf, n);
    mutex_unlock(&pf->lock);
    return r;
}

static long pf_write(struct file *f, const void *ubuf, size_t n)
{
    struct pctx c;
    const struct pent *e = ent_of(f->inode, &c);
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (e->rw)
        return pf_rw(f, (void *)ubuf, n, true);
    if (!e->write)
        return c.tgid ? -EINVAL : -EIO;         /* Linux's answers for a file without a writer */
    if (!alive(&c))
        return -ESRCH;
    char *k = kmalloc(PAGE_SIZE);
    if (!k)
        return -ENOMEM;
    n = MIN(n, PAGE_SIZE - 1);
    long r = copy_from_user(k, ubuf, n) ? -EFAULT : 0;
    if (!r) {
        k[n] = 0;
        r = e->write(&c, k, n);
    }
    kfree(k);
    if (r > 0)
        f->off += (uint64_t)r;
    return r;
}

static int pf_stat(struct file *f, struct kstat *st)
{
    vfs_stat(f->inode, st);
    return 0;
}

static void pf_release(struct file *f)
{
    struct pfile *pf = f->priv;
    kfree(pf->s.buf);
    kfree(pf);
    iput(f->inode);
}

static const struct file_ops pf_ops = {
    .read = pf_read, .write = pf_write, .stat = pf_stat, .release = pf_release, .seekable = true,
};

/* /proc/mounts and mountinfo: always readable, and POLLPRI|POLLERR once
 * per change of the mount table since the last report (proc(5)), which is
 * how a program learns of mounts without reading the table in a loop. */
static uint32_t pf_mounts_poll(struct file *f, struct poll_table *pt)
{
    struct pfile *pf = f->priv;
    poll_wait(pt, vfs_mount_waitq());
    uint32_t mask = POLLIN | POLLRDNORM;
    uint64_t now = vfs_mount_events();
    if (pf->mounts_seen != now) {
        pf->mounts_seen = now;
        mask |= POLLPRI | POLLERR;
    }
    return mask;
}

static const struct file_ops pf_mounts_ops = {
    .read = pf_read, .write = pf_write, .stat = pf_stat, .release = pf_release, .seekable = true,
    .poll = pf_mounts_poll,
};

static struct file *pf_open(struct inode *ino, int flags, int *err)
{
    struct pctx c;
    const struct pent *e = ent_of(ino, &c);
    *err = -ENOENT;
    if (!alive(&c))
        return NULL;
    *err = -EACCES;
    if ((e->flags & PE_PTRACE) && !may_access(&c))
        return NULL;
    *err = -ENOMEM;
    /* The text buffer is taken first, at its usual size (the largest small
     * block): meminfo's counters, taken while it is generated, then see
     * the same heap whether this is the first read or the tenth. */
    struct pfile *pf = kzalloc(sizeof(*pf));
    char *buf = kmalloc(PF_BUF);
    struct file *f = pf && buf ? file_alloc((e->flags & PE_MOUNTS) ? &pf_mounts_ops : &pf_ops, pf) : NULL;
    if (!f) {
        kfree(buf);
        kfree(pf);
        return NULL;
    }
    pf->s = (struct sbuf){ buf, 0, PF_BUF, false };
    pf->lock = (struct mutex)MUTEX_INIT("procfs file");
    pf->mounts_seen = vfs_mount_events();
    if (e->flags & PE_AT_OPEN)
        pf->fresh = !pf_generate(pf, e, &c);   /* see pseudofs.h */
    f->inode = ino;                             /* the caller's reference */
    f->flags = flags;
    return f;
}

/* The VFS asks a writable file system for these at open (O_TRUNC, and
 * whether writing may be tried at all); the writing itself is pf_write. */
static long pi_write(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
    (void)ino, (void)off, (void)buf, (void)n;
    return -EIO;
}

static int pi_truncate(struct inode *ino, uint64_t size)
{
    (void)ino, (void)size;
    return 0;                                   /* "echo x > /proc/..." truncates first */
}

/* Nothing is made, removed or renamed here: Linux's errors. */
static int pd_create(struct inode *dir, const char *name, size_t len, uint32_t mode,
                     const char *target, struct inode **out)
{
    (void)dir, (void)name, (void)len, (void)mode, (void)target, (void)out;
    return -ENOENT;
}

static int pd_unlink(struct inode *dir, const char *name, size_t len, bool dir_ok)
{
    (void)dir, (void)name, (void)len, (void)dir_ok;
    return -EPERM;
}

static int pd_rename(struct inode *odir, const char *oname, size_t olen, struct inode *ndir,
                     const char *nname, size_t nlen)
{
    (void)odir, (void)oname, (void)olen, (void)ndir, (void)nname, (void)nlen;
    return -ENOENT;
}

static const struct inode_ops pdir_ops = {
    .lookup = pd_lookup, .readdir = pd_readdir, .release = pnode_release,
    .create = pd_create, .unlink = pd_unlink, .rename = pd_rename,
};
static const struct inode_ops pfile_ops = {
    .release = pnode_release, .open = pf_open, .write = pi_write, .truncate = pi_truncate,
};
static const struct inode_ops plink_ops = {
    .readlink = pl_readlink, .release = pnode_release, .follow = pl_follow,
};

struct super *pseudofs_new(const char *type, uint64_t dev, const struct pent *root)
{
    struct pfs *fs = kzalloc(sizeof(*fs));
    if (!fs)
        return NULL;
    fs->rootent = *root;
    fs->sb = (struct super){ .root = &fs->root.inode, .dev = dev, .type = type };
    fs->root.e = &fs->rootent;
    fs->root.c = (struct pctx){ 0, 0, -1, false };
    int64_t now = (int64_t)(time_realtime_ns() / 1000000000ul);
    fs->root.inode = (struct inode){ .sb = &fs->sb, .ino = 1, .mode = root->mode, .nlink = 2,
                                     .refs = 1, .ops = &pdir_ops, .priv = &fs->root,
                                     .atime = now, .mtime = now, .ctime = now };
    return &fs->sb;
}
