/* fs/console.c - the serial console as a terminal: output straight to the
 * UART, input collected by the receive interrupt into lines (canonical
 * mode: echo, backspace, ^D for end of file), handed to read() a line at a
 * time, as a Linux tty does by default.
 *
 * poll: readable when a committed line (or a ^D) waits, always writable
 * (output goes straight out); the receive interrupt notifies con_wq after
 * it commits a line. */
#include "file.h"
#include "poll.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../proc/proc.h"

#define INBUF 1024

static char inbuf[INBUF];
static size_t in_r, in_w, in_edit;     /* read, committed-line end, editing end */
static int eof_pending;
static struct waitq con_wq;             /* pollers of the console */

static bool console_irq(struct trapframe *tf)
{
    (void)tf;
    int c;
    bool woke = false;
    while ((c = serial_getc_nonblock()) >= 0) {
        if (c == '\r')
            c = '\n';
        if (c == 0x7f || c == 0x08) {                   /* erase */
            if (in_edit > in_w) {
                in_edit--;
                console_write("\b \b", 3);
            }
            continue;
        }
        if (c == 0x04) {                                /* ^D: end of file / push line */
            if (in_edit == in_w)
                eof_pending++;
            in_w = in_edit;
            woke = true;
            continue;
        }
        if (in_edit - in_r >= INBUF - 1)
            continue;                                   /* full: drop */
        inbuf[in_edit++ % INBUF] = (char)c;
        char ch = (char)c;
        console_write(&ch, 1);
        if (c == '\n') {
            in_w = in_edit;
            woke = true;
        }
    }
    if (woke) {
        wakeup(&in_w);
        waitq_notify(&con_wq, POLLIN | POLLRDNORM);
    }
    return true;
}

static long con_read(struct file *f, void *ubuf, size_t n)
{
    (void)f;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while (in_r == in_w && !eof_pending) {
        if (proc_signal_pending()) {
            spin_unlock_irqrestore(&sched_lock, fl);
            return -EINTR;
        }
        sleep_locked(&in_w);
    }
    if (in_r == in_w) {
        eof_pending--;
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    }
    char tmp[256];
    size_t k = 0;
    while (k < n && k < sizeof(tmp) && in_r < in_w) {
        tmp[k] = inbuf[in_r++ % INBUF];
        if (tmp[k++] == '\n')
            break;                                      /* one line per read */
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    return copy_to_user(ubuf, tmp, k) ? -EFAULT : (long)k;
}

static long con_write(struct file *f, const void *ubuf, size_t n)
{
    (void)f;
    char tmp[256];
    size_t done = 0;
    while (done < n) {
        size_t k = MIN(n - done, sizeof(tmp));
        if (copy_from_user(tmp, (const char *)ubuf + done, k))
            return done ? (long)done : -EFAULT;
        console_write(tmp, k);
        done += k;
    }
    return (long)done;
}

static long con_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    (void)f;
    if (cmd == TIOCGWINSZ) {
        uint16_t ws[4] = { 24, 80, 0, 0 };
        return copy_to_user((void *)arg, ws, sizeof(ws)) ? -EFAULT : 0;
    }
    if (cmd == TCGETS) {
        /* struct termios: iflag oflag cflag lflag line cc[19]: canonical, echo. */
        uint8_t t[36] = { 0 };
        uint32_t iflag = 0x500 /* ICRNL|IXON */, oflag = 0x5 /* OPOST|ONLCR */;
        uint32_t cflag = 0xbf /* B38400|CS8|CREAD */, lflag = 0x8a3b /* ISIG|ICANON|ECHO... */;
        memcpy(t, &iflag, 4);
        memcpy(t + 4, &oflag, 4);
        memcpy(t + 8, &cflag, 4);
        memcpy(t + 12, &lflag, 4);
        return copy_to_user((void *)arg, t, sizeof(t)) ? -EFAULT : 0;
    }
    return -ENOTTY;
}

static int con_stat(struct file *f, struct kstat *st)
{
    (void)f;
    memset(st, 0, sizeof(*st));
    st->mode = 0020620;                                 /* character device, rw--w---- */
    st->rdev = (5 << 8) | 1;                            /* like /dev/console */
    st->blksize = 1024;
    st->nlink = 1;
    return 0;
}

static uint32_t con_poll(struct file *f, struct poll_table *pt)
{
    (void)f;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &con_wq);
    uint32_t mask = POLLOUT | POLLWRNORM;
    if (in_r != in_w || eof_pending)
        mask |= POLLIN | POLLRDNORM;
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static const struct file_ops console_ops = {
    .read = con_read, .write = con_write, .ioctl = con_ioctl, .stat = con_stat, .poll = con_poll,
};

struct file *console_open(void)
{
    return file_alloc(&console_ops, NULL);
}

void console_init(void)
{
    trap_register(VEC_IOAPIC + 4, console_irq);
    ioapic_route(4, VEC_IOAPIC + 4);
    serial_enable_rx_irq();
}
