/* proc/fdtable.c - descriptor tables that grow as they are used.
 *
 * Why not a fixed array. A table of 1024 slots costs every process 8 KiB
 * whether it holds three descriptors or a thousand, and stops the ones that
 * need more (a server with thousands of connections, LTP's pipe15 with two
 * thousand pipe ends) at a number RLIMIT_NOFILE does not name. Linux's
 * tables start small and grow; so do Vigil's:
 *
 *   - A table starts with FDT_INLINE (64) slots inside struct fdtable, and
 *     grows when a descriptor at or past its end is wanted (open, dup2,
 *     F_DUPFD...) to the next power of two times 128 slots, as Linux sizes
 *     them, but never past the RLIMIT_NOFILE of the process that grows it
 *     nor past fs.nr_open (both rounded up to 64): dup2(0, 2000000000)
 *     says EBADF long before anything is allocated, and a table is never
 *     bigger than its owner's limit permits.
 *   - fs.nr_open (/proc/sys/fs/nr_open, root writes it, 64 to 2147483584
 *     as Linux, EINVAL outside) is the ceiling: setrlimit refuses a hard
 *     RLIMIT_NOFILE above it (EPERM, sys_limits.c), a table does not grow
 *     to a descriptor at or past it (EMFILE), and fork or unshare(CLONE_FILES)
 *     of a table that holds one says EMFILE (Linux's dup_fd: it was lowered
 *     after the descriptor was opened).
 *   - A table that cannot get its memory says ENOMEM (or EMFILE where Linux
 *     does): never a panic. The memory goes back when the table does.
 *
 * The slots and the close-on-exec bits are one block; callers reach them
 * through t->fd and t->cloexec, read again after anything that may sleep
 * (a close may), since a sibling thread sharing the table may have grown it
 * and freed the old block meanwhile. Everything here is [klock]: the kernel
 * lock is held, and nothing here sleeps (kmalloc does not). */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/pseudofs.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../debug/debug.h"

static unsigned sysctl_nr_open = NR_OPEN_VIGIL;  /* [atomic] fs.nr_open */

unsigned nr_open(void) { return __atomic_load_n(&sysctl_nr_open, __ATOMIC_RELAXED); }

/* fs.nr_open as the tables obey it, */
static uint64_t nr_open_ceiling(void)
{
#ifdef BREAK_NR_OPEN
    return NR_OPEN_MAX;                         /* the break switch: fs.nr_open is only reported */
#endif
    return nr_open();
}

/* ... and the most slots a table may have: it rounded up to 64. */
static uint64_t nr_open_slots(void) { return ALIGN_UP(nr_open_ceiling(), 64); }

struct fdtable *fdtable_new(void)
{
    struct fdtable *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->refs = 1;
    t->max = FDT_INLINE;
    t->fd = t->fd_inline;
    t->cloexec = t->cloexec_inline;
    return t;
}

/* Linux's sizes: the next power of two times 128 slots that holds fd. */
static uint64_t slots_for(int fd)
{
    uint64_t n = 128;
    while (n <= (uint64_t)fd)
        n *= 2;
    return n;
}

/* t gets n slots (n > t->max, a multiple of 64): 0 or -ENOMEM. */
static int fdt_resize(struct fdtable *t, uint64_t n)
{
    ASSERT(n > (uint64_t)t->max && n % 64 == 0 && n <= (uint64_t)INT32_MAX + 1);
    struct file **fd = kzalloc(n * sizeof(*fd) + n / 8);
    if (!fd)
        return -ENOMEM;
    uint64_t *cloexec = (uint64_t *)(fd + n);
    memcpy(fd, t->fd, (size_t)t->max * sizeof(*fd));
    memcpy(cloexec, t->cloexec, (size_t)t->max / 8);
    if (t->fd != t->fd_inline)
        kfree(t->fd);
    t->fd = fd;
    t->cloexec = cloexec;
    t->max = (int)n;
    return 0;
}

int fdtable_expand(struct fdtable *t, int fd, int limit)
{
    ASSERT_KLOCK();
    if (fd < t->max)
        return 0;
    /* INVARIANT(privilege separation): a table grows only as far as its
     * grower's RLIMIT_NOFILE and fs.nr_open (root's ceiling for everyone)
     * allow, so no descriptor number makes the kernel allocate more than
     * the limits permit. */
    if ((uint64_t)fd >= nr_open_ceiling())
        return -EMFILE;                         /* Linux's expand_files */
    uint64_t n = slots_for(fd), cap = MIN(ALIGN_UP((uint64_t)limit, 64), nr_open_slots());
    if (n > cap)
        n = cap;
    if (n <= (uint64_t)fd)
        return -EMFILE;                         /* (callers check fd < limit first) */
    return fdt_resize(t, n);
}

int fdtable_alloc_fd(struct fdtable *t, int min_fd, int limit)
{
    ASSERT_KLOCK();
    int fd = min_fd < 0 ? 0 : min_fd;
    for (; fd < t->max && fd < limit; fd++)
        if (!t->fd[fd])
            return fd;
    if (fd >= limit)
        return -EMFILE;
    int r = fdtable_expand(t, fd, limit);
    return r ? r : fd;
}

int fdtable_highest(const struct fdtable *t)
{
    int fd = t->max - 1;
    while (fd >= 0 && !t->fd[fd])
        fd--;
    return fd;
}

struct fdtable *fdtable_dup(struct fdtable *t, int below, int *err)
{
    ASSERT_KLOCK();
    struct fdtable *n = fdtable_new();
    *err = -ENOMEM;
    if (!n)
        return NULL;
    int top = fdtable_highest(t);
    while (top >= below || (top >= 0 && !t->fd[top]))
        top--;                                  /* the highest open one below `below` */
    if (top >= FDT_INLINE) {
        /* Linux's dup_fd: sized for the highest open descriptor, no larger
         * than the table copied, and EMFILE when fs.nr_open was lowered
         * below it. */
        if ((uint64_t)top >= nr_open_slots()) {
            *err = -EMFILE;
            fdtable_put(n);
            return NULL;
        }
        uint64_t size = MIN(MIN(slots_for(top), (uint64_t)t->max), nr_open_slots());
        if (fdt_resize(n, size)) {
            fdtable_put(n);
            return NULL;
        }
    }
    for (int fd = 0; fd <= top; fd++)
        if (t->fd[fd])
            n->fd[fd] = file_dup(t->fd[fd]);
    for (int fd = 0; fd <= top; fd++)
        if (n->fd[fd])
            fd_set_cloexec(n, fd, fd_cloexec(t, fd));
    *err = 0;
    return n;
}

/* INVARIANT(kernel memory safety): exec closes close-on-exec descriptors in
 * a table of its own, never in one another process still uses. */
int fdtable_unshare(struct proc *p, int below)
{
    if (p->fdt->refs <= 1)
        return 0;
    int err;
    struct fdtable *n = fdtable_dup(p->fdt, below, &err);
    if (!n)
        return err;
    fdtable_put(p->fdt);
    p->fdt = n;
    return 0;
}

void fdtable_put(struct fdtable *t)
{
    if (!t || --t->refs)
        return;
    /* No one else sees t now: its closes may sleep. */
    for (int fd = 0; fd < t->max; fd++)
        if (t->fd[fd]) {
            struct file *f = t->fd[fd];
            t->fd[fd] = NULL;
            file_close(f);
        }
    if (t->fd != t->fd_inline)
        kfree(t->fd);
    kfree(t);
}

/* ---- /proc/sys/fs/nr_open ---- */

int fdtable_gen_nr_open(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%u\n", nr_open());
    return 0;
}

long fdtable_write_nr_open(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    unsigned long v;
    /* Linux's bounds (proc_dointvec_minmax): a word's bits to INT_MAX
     * rounded down to a word's bits; outside them EINVAL. */
    if (sysctl_parse_ulong(buf, n, &v) || v < NR_OPEN_MIN || v > NR_OPEN_MAX)
        return -EINVAL;
    __atomic_store_n(&sysctl_nr_open, (unsigned)v, __ATOMIC_RELAXED);
    return (long)n;
}
