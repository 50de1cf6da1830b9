/* proc/pidfd.c - process file descriptors (pidfd_open, pidfd_send_signal,
 * pidfd_getfd, clone's CLONE_PIDFD, waitid's P_PIDFD) and kcmp.
 *
 * Why a descriptor for a process: a pid is a number that comes back. A
 * program that kills "pid 1234" after reading it somewhere may kill a
 * stranger that got the number once the first 1234 was reaped. A pidfd
 * names one process for good: it holds the pid and the process's serial
 * (struct proc's, never given twice), and every use looks the pair up
 * again, so once that process is gone the pidfd says ESRCH, whatever now
 * has its number. A /proc/PID directory held open serves as the same
 * handle for pidfd_send_signal, as on Linux (pseudofs_proc_dir).
 *
 * A pidfd polls readable (POLLIN) once the process has exited (all its
 * threads: a zombie or reaped); exits notify one wait queue that every
 * pidfd poller watches (pidfd_exit_notify_locked), and each looks at its
 * own process again.
 *
 * kcmp(2) lives here too: it answers "do these two processes share this
 * resource" by comparing the kernel objects' addresses, scrambled with a
 * boot-time secret, so the order it reports (less, greater) tells user space
 * nothing about where the kernel keeps its objects.
 *
 * Locking: process lookups under sched_lock; a process's fdt, mm and fs
 * are [klock], and every call here is KLOCK. */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/poll.h"
#include "../fs/vfs.h"
#include "../fs/pseudofs.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/random.h"
#include "../debug/debug.h"

struct pidfd {
    int pid;                    /* [const] the process (its leader's tid) */
    uint64_t serial;            /* [const] ... and which one of that number */
};

static struct waitq exit_wq;    /* every pidfd poller; notified at each process exit */

void pidfd_exit_notify_locked(void)
{
    ASSERT_HELD(&sched_lock);
    waitq_notify_locked(&exit_wq, POLLIN | POLLRDNORM);
}

/* The process (its leader, perhaps a zombie) that pid and serial name, or
 * NULL once it is reaped; with sched_lock held. */
static struct proc *lookup_locked(int pid, uint64_t serial)
{
    ASSERT_HELD(&sched_lock);
    struct proc *p = proc_find_thread(pid);
    return p && p->leader == p && p->serial == serial && p->state != P_EMBRYO ? p : NULL;
}

static bool exited_locked(const struct proc *l)
{
    return !l || (l->state == P_ZOMBIE && l->nthreads == 0);
}

static uint32_t pidfd_poll(struct file *f, struct poll_table *pt)
{
    struct pidfd *d = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &exit_wq);
    struct proc *l = lookup_locked(d->pid, d->serial);
    uint32_t mask = exited_locked(l) ? POLLIN | POLLRDNORM : 0;
    if (!l)
        mask |= POLLHUP;                        /* reaped: Linux says so too */
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static int pidfd_dname(struct file *f, char *buf, size_t n)
{
    (void)f;
    return (int)strlcpy(buf, "anon_inode:[pidfd]", n);
}

static void pidfd_release(struct file *f) { kfree(f->priv); }

static const struct file_ops pidfd_ops = {
    .poll = pidfd_poll, .stat = file_anon_stat, .dname = pidfd_dname, .release = pidfd_release,
};

int pidfd_new(int pid, uint64_t serial, int flags)
{
    struct pidfd *d = kzalloc(sizeof(*d));
    struct file *f = d ? file_alloc(&pidfd_ops, d) : NULL;
    if (!f) {
        kfree(d);
        return -ENOMEM;
    }
    d->pid = pid;
    d->serial = serial;
    f->flags = O_RDWR | (flags & O_NONBLOCK);
    int fd = fd_install(f, 0, true);            /* always close-on-exec, as Linux */
    if (fd < 0)
        file_close(f);
    return fd;
}

/* The process a pidfd (or an open /proc/PID) names: 0 and *pid, *serial,
 * *nonblock; -EBADF if fd is neither. */
static int pidfd_target(int fd, int *pid, uint64_t *serial, bool *nonblock)
{
    struct file *f = fd_get(fd);
    if (!f)
        return -EBADF;
    if (nonblock)
        *nonblock = f->flags & O_NONBLOCK;
    if (f->ops == &pidfd_ops) {
        struct pidfd *d = f->priv;
        *pid = d->pid;
        *serial = d->serial;
        return 0;
    }
    int p = f->inode ? pseudofs_proc_dir(f->inode, serial) : 0;
    if (p <= 0)
        return -EBADF;
    *pid = p;
    return 0;
}

long sys_pidfd_open(int pid, unsigned flags)
{
    if (flags & ~(unsigned)PIDFD_NONBLOCK)
        return -EINVAL;
    if (pid <= 0)
        return -EINVAL;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *t = proc_find_thread(pid);
    long r = !t || t->state == P_EMBRYO ? -ESRCH : t->leader != t ? -EINVAL : 0;
    uint64_t serial = t ? t->serial : 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    return r ? r : pidfd_new(pid, serial, (int)flags);
}

/* Linux's siginfo_t head, as rt_sigqueueinfo reads it. */
struct siginfo_head {
    int32_t signo, errnum, code, pad;
    int32_t pid;
    uint32_t uid;
    uint64_t value;
};

long sys_pidfd_send_signal(int fd, int sig, const void *uinfo, unsigned flags)
{
    if (flags)
        return -EINVAL;
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    int pid;
    uint64_t serial;
    long r = pidfd_target(fd, &pid, &serial, NULL);
    if (r)
        return r;
    struct siginfo_head si = { sig, 0, SI_USER, 0, current()->tgid, current()->uid, 0 };
    if (uinfo) {
        uint8_t raw[128];
        if (copy_from_user(raw, uinfo, sizeof(raw)))
            return -EFAULT;
        memcpy(&si, raw, sizeof(si));
        if (si.signo != sig)
            return -EINVAL;
    }
    struct proc *me = current();
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *l = lookup_locked(pid, serial);
    if (!l)
        r = -ESRCH;
    /* Only the kernel's codes are refused, as sigqueueinfo does: a process
     * may not pretend a signal came from kill() or the kernel, except to itself. */
    else if (uinfo && (si.code >= 0 || si.code == SI_TKILL) && l->tgid != me->tgid)
        r = -EPERM;
    else if (!signal_permitted(l, sig))
        r = -EPERM;
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r || !sig)
        return r;
    return proc_sigqueue(pid, sig, uinfo ? si.code : SI_USER, uinfo ? si.value : 0);
}

long sys_pidfd_getfd(int pidfd, int targetfd, unsigned flags)
{
    if (flags)
        return -EINVAL;
    int pid;
    uint64_t serial;
    long r = pidfd_target(pidfd, &pid, &serial, NULL);
    if (r)
        return r;
    struct proc *me = current();
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *l = lookup_locked(pid, serial);
    r = exited_locked(l) ? -ESRCH : !ptrace_may_access(me, l) ? -EPERM : 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r)
        return r;
    /* Any thread of it with its descriptor table (the leader may be gone first). */
    struct proc *t = proc_get_klocked(pid, pid);
    if (!t || !t->fdt)
        return -ESRCH;
    if (!fdt_file(t->fdt, targetfd))
        return -EBADF;
    struct file *f = file_dup(fdt_file(t->fdt, targetfd));
    int fd = fd_install(f, 0, true);
    if (fd < 0)
        file_close(f);
    return fd;
}

/* waitid(P_PIDFD, fd): the pid it stands for (> 0), and whether the pidfd
 * is non-blocking (waitid then does not wait: EAGAIN); -EBADF, or -ECHILD
 * for a process that is gone. */
int pidfd_waitid_pid(int fd, bool *nonblock)
{
    struct file *f = fd_get(fd);
    if (!f || f->ops != &pidfd_ops)
        return -EBADF;
    struct pidfd *d = f->priv;
    *nonblock = f->flags & O_NONBLOCK;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    bool there = lookup_locked(d->pid, d->serial) != NULL;
    spin_unlock_irqrestore(&sched_lock, fl);
    return there ? d->pid : -ECHILD;
}

/* ---- kcmp ---- */

static uint64_t kcmp_secret[2];

static uint64_t scramble(const void *obj)
{
    if (!kcmp_secret[0]) {
        random_bytes(kcmp_secret, sizeof(kcmp_secret));
        kcmp_secret[0] |= 1;                    /* odd: a bijection */
    }
    return ((uint64_t)(uintptr_t)obj ^ kcmp_secret[1]) * kcmp_secret[0];
}

/* 0 the same object, 1 and 2 the order of the scrambled addresses. */
static long order(const void *a, const void *b)
{
    uint64_t x = scramble(a), y = scramble(b);
    return x == y ? 0 : x < y ? 1 : 2;
}

static struct file *file_at(struct proc *t, unsigned long fd)
{
    return fd <= INT32_MAX ? fdt_file(t->fdt, (int)fd) : NULL;
}

long sys_kcmp(int pid1, int pid2, int type, unsigned long idx1, unsigned long idx2)
{
    struct proc *me = current();
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *a = pid1 > 0 ? proc_find_thread(pid1) : NULL;
    struct proc *b = pid2 > 0 ? proc_find_thread(pid2) : NULL;
    long r = !a || !b ? -ESRCH : 0;
    /* Linux's PTRACE_MODE_READ_REALCREDS on both. */
    if (!r && ((a->tgid != me->tgid && !ptrace_may_access(me, a)) ||
               (b->tgid != me->tgid && !ptrace_may_access(me, b))))
        r = -EPERM;
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r)
        return r;
    switch (type) {
    case KCMP_FILE: {
        struct file *fa = file_at(a, idx1), *fb = file_at(b, idx2);
        return !fa || !fb ? -EBADF : order(fa, fb);
    }
    case KCMP_VM:
        return order(a->mm, b->mm);
    case KCMP_FILES:
        return order(a->fdt, b->fdt);
    case KCMP_FS:
        return order(a->fs, b->fs);
    case KCMP_SIGHAND:
        return order(a->sh, b->sh);
    case KCMP_IO:                               /* no I/O contexts: none on either side */
    case KCMP_SYSVSEM:                          /* no semaphore undo lists kept per process */
        return 0;
    case KCMP_EPOLL_TFD:
        return -EOPNOTSUPP;                     /* Linux without CONFIG_EPOLL's answer */
    default:
        return -EINVAL;
    }
}
