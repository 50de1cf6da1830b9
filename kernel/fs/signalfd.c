/* fs/signalfd.c - signalfd(2): pending signals read as data.
 *
 * A program blocks some signals and reads them from a signalfd instead of
 * taking them in a handler, so they arrive in its event loop like any other
 * input. A read takes the lowest-numbered pending signal in the file's mask
 * off the calling thread's pending set (as Linux, it is the reader's
 * signals that count, whoever created the file) and returns it as a
 * struct signalfd_siginfo; readable iff such a signal is pending. Every
 * signal made pending notifies one wait queue shared by all signalfds
 * (signal_send_locked calls signalfd_notify_locked), and each looks again. */
#include "poll.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../debug/debug.h"
#include "../sys/syscall.h"
#include "../sys/sys.h"

#define SIGBIT(sig) (1ul << ((sig) - 1))

struct signalfd {
    uint64_t mask;                      /* [klock] to write, read under sched_lock too */
};

static struct waitq sigfd_wq;           /* every signalfd's pollers and readers */

void signalfd_notify_locked(void)
{
    ASSERT_HELD(&sched_lock);
    waitq_notify_locked(&sigfd_wq, POLLIN | POLLRDNORM);
}

struct signalfd_siginfo_k {             /* Linux's struct signalfd_siginfo: 128 bytes */
    uint32_t signo;
    int32_t errnum, code;
    uint32_t pid, uid;
    int32_t fd;
    uint32_t tid, band, overrun, trapno;
    int32_t status, int_;
    uint64_t ptr, utime, stime, addr;
    uint16_t addr_lsb, pad2;
    int32_t syscall;
    uint64_t call_addr;
    uint32_t arch;
    uint8_t pad[28];
};

static long sfd_read(struct file *f, void *ubuf, size_t n)
{
    struct signalfd *s = f->priv;
    struct proc *p = current();
    struct signalfd_siginfo_k info;
    _Static_assert(sizeof(info) == 128, "signalfd_siginfo is 128 bytes");
    if (n < sizeof(info))
        return -EINVAL;
    long got = 0;
    while ((size_t)got + sizeof(info) <= n) {
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        uint64_t pend;
        while (!(pend = p->sig_pending & s->mask)) {
            long r = got ? 1 : (f->flags & O_NONBLOCK) ? -EAGAIN : proc_signal_pending() ? -EINTR : 0;
            if (r) {
                spin_unlock_irqrestore(&sched_lock, fl);
                return got ? got : r;
            }
            waitq_sleep_locked(&sigfd_wq);
            file_check(f, "signalfd_read");
        }
        int sig = __builtin_ctzl(pend) + 1;
        signal_dequeue_locked(p, sig);
        int sender = p->sig_sender[sig - 1];
        spin_unlock_irqrestore(&sched_lock, fl);
        memset(&info, 0, sizeof(info));
        info.signo = (uint32_t)sig;
        info.code = sender ? SI_USER : 0x80;        /* SI_KERNEL */
        info.pid = (uint32_t)sender;
        if (copy_to_user((uint8_t *)ubuf + got, &info, sizeof(info)))
            return got ? got : -EFAULT;
        got += (long)sizeof(info);
    }
    return got;
}

static uint32_t sfd_poll(struct file *f, struct poll_table *pt)
{
    struct signalfd *s = f->priv;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &sigfd_wq);
    uint32_t mask = (current()->sig_pending & s->mask) ? POLLIN | POLLRDNORM : 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static void sfd_release(struct file *f) { kfree(f->priv); }

static const struct file_ops signalfd_ops = {
    .read = sfd_read, .poll = sfd_poll, .stat = file_anon_stat, .release = sfd_release,
};

long sys_signalfd4(int fd, const void *umask, size_t size, int flags)
{
    uint64_t mask;
    if (size != 8)
        return -EINVAL;
    if (copy_from_user(&mask, umask, 8))
        return -EFAULT;
    if (flags & ~(SFD_NONBLOCK | SFD_CLOEXEC))
        return -EINVAL;
    mask &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    if (fd != -1) {
        struct file *f = fd_get(fd);
        if (!f)
            return -EBADF;
        if (f->ops != &signalfd_ops)
            return -EINVAL;
        struct signalfd *s = f->priv;
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        s->mask = mask;
        waitq_notify_locked(&sigfd_wq, POLLIN | POLLRDNORM);    /* a new mask: look again */
        spin_unlock_irqrestore(&sched_lock, fl);
        return fd;
    }
    struct signalfd *s = kzalloc(sizeof(*s));
    struct file *f = s ? file_alloc(&signalfd_ops, s) : NULL;
    if (!f) {
        kfree(s);
        return -ENOMEM;
    }
    s->mask = mask;
    f->flags = O_RDONLY | (flags & O_NONBLOCK);
    int nfd = fd_install(f, 0, flags & SFD_CLOEXEC);
    if (nfd < 0)
        file_close(f);
    return nfd;
}

long sys_signalfd(int fd, const void *umask, size_t size) { return sys_signalfd4(fd, umask, size, 0); }
