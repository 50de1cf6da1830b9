/* fs/tty.c - terminals: one line discipline for the serial console and the
 * pseudo-terminals, and the terminal's side of job control.
 *
 * Why one line discipline. A program sees a terminal through termios: the
 * bytes it reads are what the line discipline made of what was typed
 * (canonical lines with erase and kill, or raw bytes under VMIN/VTIME),
 * the bytes it writes go out through output processing (ONLCR), and
 * certain typed bytes are signals to the foreground process group (ISIG).
 * The serial console and a pseudo-terminal's slave differ only in where
 * the bytes come from and go to: the UART's receive interrupt and the
 * UART, or the master's writes and the master's reads. So there is one
 * struct tty with one input path (tty_input_locked, a byte at a time, as
 * Linux's n_tty receives them) and one output path (emit_locked), and the
 * device is a detail at the two ends (t->pty NULL: the console).
 *
 * Job control (POSIX, "General Terminal Interface"). A session has at most
 * one controlling terminal, which a session leader acquires by opening a
 * terminal that no session has (without O_NOCTTY) or by TIOCSCTTY; the
 * terminal remembers the session and its foreground process group
 * (tcsetpgrp). A process of another group that reads it gets SIGTTIN
 * (writes, with TOSTOP, and settings changes get SIGTTOU); its read
 * restarts once it is continued in the foreground (-ERESTARTSYS). An
 * orphaned group, or one that blocks or ignores the signal, gets EIO on
 * read instead of stopping for ever. When the session leader exits, the
 * foreground group gets SIGHUP and the session loses its terminal.
 *
 * Pseudo-terminals (pty(7)): opening /dev/ptmx makes a pair; the master is
 * the file ptmx gives, the slave is /dev/pts/N on the devpts instance the
 * kernel mounts at boot (a tmpfs whose nodes this file makes and removes).
 * The slave is locked until unlockpt (TIOCSPTLCK). Master writes are the
 * slave's typed input; the slave's output (and echo) is the master's
 * input. When the master closes, the slave is hung up: its open files read
 * end of file and writes fail with EIO, and the session leader gets SIGHUP.
 * When every slave file has closed, master reads say EIO once the data is
 * read, as on Linux.
 *
 * Locking: every field of a tty and a pty is [sched_lock]: the console's
 * input arrives in an interrupt, and signals are sent under sched_lock
 * anyway. Bytes are copied to and from user memory outside it (through
 * the thread's scratch page), never while holding it. */
#include "file.h"
#include "vfs.h"
#include "poll.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"

#define TTY_BUF   4096          /* typed input not yet read: Linux's N_TTY_BUF_SIZE (a power of 2) */
#define PTY_OUT   4096          /* the slave's output not yet read by the master */
#define NPTY      64
#define EOF_MARK  0x100         /* in the input: VEOF ended a line here (not returned) */
#define PTS_MAJOR 136

struct pty;

struct tty {                    /* all [sched_lock] */
    struct termios_k tio;
    struct winsize_k ws;
    /* Typed input: [in_r, in_canon) may be read in canonical mode (whole
     * lines), [in_canon, in_w) is the line being edited; in raw mode
     * in_canon == in_w. Free-running counters, indexed mod TTY_BUF. */
    uint16_t in[TTY_BUF];
    uint32_t in_r, in_canon, in_w;
    bool lnext;                 /* the next byte is taken literally (VLNEXT) */
    bool out_stopped;           /* output suspended (VSTOP, TCOOFF) */
    int sid, pgrp;              /* the session it controls and its foreground group (0: none) */
    uint32_t hup_gen;           /* a file opened before the last hangup is hung up */
    struct pty *pty;            /* NULL: the console */
    struct waitq pollq;         /* poll/epoll on the console or the slave */
};

struct pty {
    struct tty tty;             /* the slave's side */
    char out[PTY_OUT];          /* slave output and echo, for the master to read */
    uint32_t out_r, out_w;
    int index;
    bool locked;                /* TIOCSPTLCK: the slave may not be opened yet */
    bool master_open;
    int slave_files;            /* open files on the slave */
    bool slave_closed;          /* they all closed (after one was open): master reads EIO */
    struct waitq mpollq;        /* poll/epoll on the master */
};

static struct tty console_tty_s;
static struct pty *ptys[NPTY];          /* [klock] to add or remove; [sched_lock] to read */
static struct inode *pts_dir;           /* [const] after boot: the devpts root */

static const struct file_ops tty_ops, ptm_ops;

/* ---- termios defaults (Linux's tty_std_termios) ---- */

static void tty_reset(struct tty *t, uint16_t rows, uint16_t cols)
{
    static const uint8_t cc[NCCS] = { 003, 034, 0177, 025, 004, 0, 1, 0, 021, 023, 032, 0,
                                      022, 017, 027, 026, 0 };
    memset(&t->tio, 0, sizeof(t->tio));
    t->tio.c_iflag = ICRNL | IXON;
    t->tio.c_oflag = OPOST | ONLCR;
    t->tio.c_cflag = B38400 | CS8 | CREAD | HUPCL;
    t->tio.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    memcpy(t->tio.c_cc, cc, sizeof(cc));
    t->tio.c_ispeed = t->tio.c_ospeed = 38400;
    t->ws.ws_row = rows;
    t->ws.ws_col = cols;
}

/* Is c the (enabled) special character cc[idx]? 0 disables one. */
static bool is_cc(const struct tty *t, int idx, int c)
{
    return t->tio.c_cc[idx] && t->tio.c_cc[idx] == c;
}

/* Wake the sleepers on chan, and every poller of t's pair: any change of
 * a terminal's state may change what poll answers on either side. */
static void wake_locked(struct tty *t, void *chan)
{
    wakeup_locked(chan);
    waitq_notify_locked(&t->pollq, 0);
    if (t->pty)
        waitq_notify_locked(&t->pty->mpollq, 0);
}

/* ---- output: to the UART or the master's queue ---- */

static uint32_t pty_out_room(const struct pty *p) { return PTY_OUT - (p->out_w - p->out_r); }

/* Raw bytes to the device; never sleeps (echo comes from an interrupt):
 * what does not fit in the master's queue is dropped, as a full line
 * drops input. */
static void put_raw_locked(struct tty *t, const char *s, size_t n)
{
    struct pty *p = t->pty;
    if (!p) {
        console_write_raw(s, n);
        return;
    }
    for (size_t i = 0; i < n && pty_out_room(p); i++)
        p->out[p->out_w++ % PTY_OUT] = s[i];
    wake_locked(t, &p->out_w);
}

/* Output processing (OPOST): c as the device gets it, in out (1-2 bytes). */
static size_t opost(uint32_t oflag, char c, char *out)
{
    if (oflag & OPOST) {
        if (c == '\n' && (oflag & ONLCR)) {
            out[0] = '\r';
            out[1] = '\n';
            return 2;
        }
        if (c == '\r' && (oflag & OCRNL))
            c = '\n';
    }
    out[0] = c;
    return 1;
}

static void emit_locked(struct tty *t, char c)
{
    char out[2];
    put_raw_locked(t, out, opost(t->tio.c_oflag, c, out));
}

static bool ctl_echoed(const struct tty *t, int c)
{
    return (t->tio.c_lflag & ECHOCTL) && ((c < 32 && c != '\t' && c != '\n') || c == 0x7f);
}

/* Echo a typed byte: a control character as ^X under ECHOCTL. */
static void echo_locked(struct tty *t, int c)
{
    if (ctl_echoed(t, c)) {
        char two[2] = { '^', (char)(c == 0x7f ? '?' : c ^ 0x40) };
        put_raw_locked(t, two, 2);
    } else {
        emit_locked(t, (char)c);
    }
}

/* ---- input: one typed byte at a time ---- */

static uint32_t in_count(const struct tty *t) { return t->in_w - t->in_r; }

static void store_locked(struct tty *t, uint16_t c)
{
    t->in[t->in_w++ % TTY_BUF] = c;
}

static void flush_input_locked(struct tty *t)
{
    t->in_r = t->in_canon = t->in_w;
    t->lnext = false;
    wake_locked(t, &t->in_w);                    /* writers waiting for room */
}

static void flush_output_locked(struct tty *t)
{
    if (t->pty)
        t->pty->out_r = t->pty->out_w;
}

enum { ERASE_CHAR, ERASE_WORD, ERASE_LINE };

/* Erase from the line being edited (VERASE, VWERASE, VKILL), showing it
 * as Linux does: "\b \b" per column under ECHOE. */
static void erase_locked(struct tty *t, int kind, int typed)
{
    uint32_t l = t->tio.c_lflag;
    if (t->in_w == t->in_canon)
        return;
    if (kind == ERASE_LINE && (!(l & ECHO) || !(l & ECHOE) || !(l & ECHOK) || !(l & ECHOKE))) {
        t->in_w = t->in_canon;
        if (l & ECHO) {
            echo_locked(t, typed);
            if (l & ECHOK)
                emit_locked(t, '\n');
        }
        return;
    }
    int seen = 0;
    while (t->in_w != t->in_canon) {
        uint16_t c = t->in[(t->in_w - 1) % TTY_BUF];
        if (kind == ERASE_WORD) {
            bool word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '_';
            if (word)
                seen++;
            else if (seen)
                break;
        }
        t->in_w--;
        if ((l & ECHO) && (l & ECHOE)) {
            for (int col = ctl_echoed(t, c) ? 2 : 1; col > 0; col--)
                put_raw_locked(t, "\b \b", 3);
        } else if (l & ECHO) {
            echo_locked(t, typed);
        }
        if (kind == ERASE_CHAR)
            break;
    }
}

/* A signal character (ISIG): to the foreground group, input flushed
 * unless NOFLSH. */
static void isig_locked(struct tty *t, int sig, int c)
{
    if (!(t->tio.c_lflag & NOFLSH)) {
        flush_input_locked(t);
        flush_output_locked(t);
    }
    t->out_stopped = false;
    if (t->tio.c_lflag & ECHO)
        echo_locked(t, c);
#ifndef BREAK_TTY_ISIG
    /* INVARIANT(process isolation): a terminal's signal characters reach
     * its foreground process group, and only it: the keys of one job never
     * kill the shell or a job in the background. */
    signal_pgrp_locked(t->pgrp, sig);
#else
    signal_pgrp_locked(t->sid, sig);            /* the break: the session leader's group instead */
#endif
}

void tty_input_locked(struct tty *t, int c)
{
    ASSERT_HELD(&sched_lock);
    uint32_t iflag = t->tio.c_iflag, l = t->tio.c_lflag;
    c &= 0xff;
    if (iflag & ISTRIP)
        c &= 0x7f;
    if (t->lnext) {                             /* after VLNEXT: literally */
        t->lnext = false;
        if (in_count(t) < TTY_BUF - 1) {
            store_locked(t, (uint16_t)c);
            if (!(l & ICANON))
                t->in_canon = t->in_w;
            if (l & ECHO) {
                put_raw_locked(t, "\b", 1);
                echo_locked(t, c);
            }
            wake_locked(t, &t->in_r);
        }
        return;
    }
    if (iflag & IXON) {
        if (is_cc(t, VSTOP, c)) {
            t->out_stopped = true;
            return;
        }
        if (is_cc(t, VSTART, c)) {
            t->out_stopped = false;
            wake_locked(t, &t->out_stopped);
            return;
        }
    }
    if (c == '\r') {
        if (iflag & IGNCR)
            return;
        if (iflag & ICRNL)
            c = '\n';
    } else if (c == '\n' && (iflag & INLCR)) {
        c = '\r';
    }
    if (l & ISIG) {
        int sig = is_cc(t, VINTR, c) ? SIGINT : is_cc(t, VQUIT, c) ? SIGQUIT :
                  is_cc(t, VSUSP, c) ? SIGTSTP : 0;
        if (sig) {
            isig_locked(t, sig, c);
            return;
        }
    }
    if (!(l & ICANON)) {
        if (in_count(t) < TTY_BUF) {
            store_locked(t, (uint16_t)c);
            t->in_canon = t->in_w;
            if (l & ECHO)
                echo_locked(t, c);
            wake_locked(t, &t->in_r);
        }
        return;
    }
    if (is_cc(t, VERASE, c) || is_cc(t, VKILL, c) || ((l & IEXTEN) && is_cc(t, VWERASE, c))) {
        erase_locked(t, is_cc(t, VERASE, c) ? ERASE_CHAR : is_cc(t, VKILL, c) ? ERASE_LINE : ERASE_WORD, c);
        return;
    }
    if ((l & IEXTEN) && is_cc(t, VLNEXT, c)) {
        t->lnext = true;
        if ((l & ECHO) && (l & ECHOCTL))
            put_raw_locked(t, "^", 1);
        return;
    }
    bool eof = is_cc(t, VEOF, c);
    bool eol = c == '\n' || is_cc(t, VEOL, c) || is_cc(t, VEOL2, c);
    if (eof || eol) {                           /* the line is complete: readable */
        if (in_count(t) >= TTY_BUF)
            return;
        store_locked(t, eof ? EOF_MARK : (uint16_t)c);
        t->in_canon = t->in_w;
        if (eol && ((l & ECHO) || (c == '\n' && (l & ECHONL))))
            echo_locked(t, c);
        wake_locked(t, &t->in_r);
        return;
    }
    if (in_count(t) >= TTY_BUF - 1)
        return;                                 /* full: room is kept for the newline */
    store_locked(t, (uint16_t)c);
    if (l & ECHO)
        echo_locked(t, c);
}

/* ---- readiness (poll) ---- */

/* Bytes a read would return now (canonical: complete lines; EOF marks
 * count, as they end a read). */
static uint32_t readable_locked(const struct tty *t)
{
    return (t->tio.c_lflag & ICANON) ? t->in_canon - t->in_r : t->in_w - t->in_r;
}

/* The bytes FIONREAD reports: readable ones, EOF marks left out. */
static uint32_t inq_locked(const struct tty *t)
{
    uint32_t n = 0, end = (t->tio.c_lflag & ICANON) ? t->in_canon : t->in_w;
    for (uint32_t i = t->in_r; i != end; i++)
        n += t->in[i % TTY_BUF] != EOF_MARK;
    return n;
}

static bool file_hung_up(const struct file *f, const struct tty *t)
{
    return (uint32_t)f->off != t->hup_gen;      /* f->off: the generation it was opened in */
}

/* ---- job control checks ---- */

/* May the calling process use t as it asks (read: SIGTTIN; write with
 * TOSTOP, or change settings: SIGTTOU)? 0: yes; -EIO: never (orphaned, or
 * SIGTTIN blocked or ignored); -ERESTARTSYS: its group was sent sig and
 * the call starts again once continued. Only a process whose controlling
 * terminal t is, outside the foreground group, is asked. */
static long job_check_locked(struct tty *t, int sig)
{
    struct proc *l = current()->leader;
    if (l->ctty != t || !t->pgrp || l->pgid == t->pgrp)
        return 0;
#ifndef BREAK_TTY_BACKGROUND
    /* INVARIANT(process isolation): a background job never reads what is
     * typed for the foreground one: its group is stopped by SIGTTIN first
     * (or it gets EIO when nobody could continue it). */
    if (signal_blocked_or_ignored(sig))
        return sig == SIGTTIN ? -EIO : 0;
    if (pgrp_orphaned_locked(l->pgid))
        return -EIO;
    signal_pgrp_locked(l->pgid, sig);
    return -ERESTARTSYS;
#else
    return 0;
#endif
}

static long job_check(struct tty *t, int sig)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    long r = job_check_locked(t, sig);
    spin_unlock_irqrestore(&sched_lock, fl);
    return r;
}

/* ---- read and write on the console or a slave ---- */

static struct tty *file_tty(struct file *f) { return f->priv; }

static bool nonblocking(const struct file *f) { return (f->flags & O_NONBLOCK) != 0; }

static uint64_t deciseconds_to_ticks(unsigned ds)
{
    uint64_t t = (uint64_t)ds * timer_hz() / 10;
    return t ? t : 1;
}

/* Canonical: up to one line (its newline included, an EOF mark consumed
 * and not returned). */
static size_t canon_copy_locked(struct tty *t, char *kb, size_t n)
{
    size_t k = 0;
    while (k < n && t->in_r != t->in_canon) {
        uint16_t c = t->in[t->in_r++ % TTY_BUF];
        if (c == EOF_MARK)
            break;
        kb[k++] = (char)c;
        if (c == '\n' || is_cc(t, VEOL, c) || is_cc(t, VEOL2, c))
            break;
    }
    return k;
}

static size_t raw_copy_locked(struct tty *t, char *kb, size_t n)
{
    size_t k = 0;
    while (k < n && t->in_r != t->in_w) {
        uint16_t c = t->in[t->in_r++ % TTY_BUF];
        if (c != EOF_MARK)
            kb[k++] = (char)c;
    }
    t->in_canon = t->in_w;
    return k;
}

/* read(2) on a terminal, termios(3)'s rules: canonical mode returns a
 * line; raw mode waits for VMIN bytes (0: none), VTIME tenths of a second
 * between bytes (or in all, with VMIN 0). */
static long read_locked(struct tty *t, struct file *f, char *kb, size_t n)
{
    struct proc *p = current();
    bool canon = t->tio.c_lflag & ICANON;
    unsigned vmin = t->tio.c_cc[VMIN], vtime = t->tio.c_cc[VTIME];
    size_t minimum = 1, got = 0;
    uint64_t deadline = 0, interbyte = 0;
    bool poll_only = false;
    if (!canon) {
        if (vmin) {
            minimum = MIN((size_t)vmin, n);
            interbyte = vtime ? deciseconds_to_ticks(vtime) : 0;
        } else if (vtime) {
            deadline = timer_ticks() + deciseconds_to_ticks(vtime);
        } else {
            poll_only = true;
        }
    }
    for (;;) {
        if (file_hung_up(f, t))
            return (long)got;
        if (canon) {
            if (t->in_canon != t->in_r) {
                got = canon_copy_locked(t, kb, n);
                break;
            }
        } else if (t->in_w != t->in_r) {
            got += raw_copy_locked(t, kb + got, n - got);
            if (got >= minimum)
                break;
            if (interbyte)
                deadline = timer_ticks() + interbyte;
        }
        if (poll_only || (deadline && timer_ticks() >= deadline))
            break;
        if (nonblocking(f))
            return got ? (long)got : -EAGAIN;
        if (proc_signal_pending())
            return got ? (long)got : -ERESTARTSYS;
        p->wake_tick = deadline;
        sleep_locked(&t->in_r);
        p->wake_tick = 0;
    }
    wake_locked(t, &t->in_w);                    /* room for a master's writes */
    return (long)got;
}

static long tty_read(struct file *f, void *ubuf, size_t n)
{
    struct tty *t = file_tty(f);
    char *kb = proc_scratch_page();
    if (!kb)
        return -ENOMEM;
    if (n == 0)
        return 0;
    n = MIN(n, (size_t)PAGE_SIZE);
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    long r = job_check_locked(t, SIGTTIN);
    if (!r)
        r = read_locked(t, f, kb, n);
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r > 0 && copy_to_user(ubuf, kb, (size_t)r))
        return -EFAULT;
    return r;
}

/* Wait (with sched_lock held) until output may go on: not stopped, and for
 * a slave room in the master's queue for `need` bytes. 0, or why not. */
static long out_wait_locked(struct tty *t, struct file *f, uint32_t need)
{
    for (;;) {
        if (file_hung_up(f, t))
            return -EIO;
        if (!t->out_stopped && (!t->pty || pty_out_room(t->pty) >= need))
            return 0;
        if (nonblocking(f))
            return -EAGAIN;
        if (proc_signal_pending())
            return -ERESTARTSYS;
        sleep_locked(t->out_stopped ? (void *)&t->out_stopped : (void *)&t->pty->out_r);
    }
}

static long tty_write(struct file *f, const void *ubuf, size_t n)
{
    struct tty *t = file_tty(f);
    char in[128], out[256];
    size_t done = 0;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    long r = (t->tio.c_lflag & TOSTOP) ? job_check_locked(t, SIGTTOU) : 0;
    if (!r && file_hung_up(f, t))
        r = -EIO;
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r)
        return r;
    while (done < n) {
        size_t k = MIN(n - done, sizeof(in));
        if (copy_from_user(in, (const char *)ubuf + done, k))
            return done ? (long)done : -EFAULT;
        fl = spin_lock_irqsave(&sched_lock);
        if (!t->pty) {
            /* The console: the UART is written outside sched_lock. */
            r = out_wait_locked(t, f, 0);
            uint32_t oflag = t->tio.c_oflag;
            spin_unlock_irqrestore(&sched_lock, fl);
            if (r)
                return done ? (long)done : r;
            size_t m = 0;
            for (size_t i = 0; i < k; i++)
                m += opost(oflag, in[i], out + m);
            console_write_raw(out, m);
            done += k;
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            if ((r = out_wait_locked(t, f, 2))) {
                spin_unlock_irqrestore(&sched_lock, fl);
                return done ? (long)done : r;
            }
            emit_locked(t, in[i]);
            done++;
        }
        spin_unlock_irqrestore(&sched_lock, fl);
    }
    return (long)done;
}

/* ---- the controlling terminal ---- */

static void session_clear_ctty_locked(int sid, struct tty *t)
{
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        if (q && q->leader == q && (q->sid == sid || !sid) && q->ctty == t)
            q->ctty = NULL;
    }
}

/* l (a session leader without a terminal) takes t, which no session has. */
static void acquire_locked(struct tty *t, struct proc *l)
{
    l->ctty = t;
    t->sid = l->sid;
    t->pgrp = l->pgid;
}

/* The session leaves t: its foreground group gets SIGHUP (and SIGCONT
 * unless the leader is exiting), every member loses the terminal. */
static void disassociate_locked(struct tty *t, bool on_exit)
{
    if (t->pgrp) {
        signal_pgrp_locked(t->pgrp, SIGHUP);
        if (!on_exit)
            signal_pgrp_locked(t->pgrp, SIGCONT);
    }
    session_clear_ctty_locked(t->sid, t);
    t->sid = t->pgrp = 0;
}

void tty_session_leader_exit_locked(struct proc *l)
{
    ASSERT_HELD(&sched_lock);
    struct tty *t = l->ctty;
    if (t->sid == l->sid)
        disassociate_locked(t, true);
    l->ctty = NULL;
}

static void hangup_locked(struct tty *t);

/* vhangup(2): the caller's controlling terminal hangs up as if the line
 * dropped; with sched_lock held. */
void tty_vhangup_locked(struct tty *t)
{
    ASSERT_HELD(&sched_lock);
    hangup_locked(t);
}

/* A hangup (the master closed): files open on t read end of file and
 * fail writes with EIO; the session leader gets SIGHUP and SIGCONT; the
 * session loses t. */
static void hangup_locked(struct tty *t)
{
    t->hup_gen++;
    for (int i = 0; t->sid && i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        if (q && q->leader == q && q->nthreads && q->sid == t->sid && q->pid == t->sid) {
            signal_process_locked(q, SIGHUP);
            signal_process_locked(q, SIGCONT);
        }
    }
    session_clear_ctty_locked(t->sid, t);
    t->sid = t->pgrp = 0;
    wake_locked(t, &t->in_r);
    wake_locked(t, &t->in_w);
    wake_locked(t, &t->out_stopped);
    if (t->pty)
        wake_locked(t, &t->pty->out_r);
}

/* tcsetpgrp(3), Linux's rules: only on the caller's controlling terminal
 * of its own session (ENOTTY), to a group of that session (EPERM; ESRCH
 * if none); from the background only with SIGTTOU blocked or ignored. */
static long set_pgrp(struct tty *t, const int *upgrp)
{
    long r = job_check(t, SIGTTOU);
    if (r)
        return r == -EIO ? -ENOTTY : r;
    int pgrp;
    if (copy_from_user(&pgrp, upgrp, sizeof(pgrp)))
        return -EFAULT;
    if (pgrp < 0)
        return -EINVAL;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *l = current()->leader;
    int sid = pgrp_session_locked(pgrp);
    if (l->ctty != t || t->sid != l->sid)
        r = -ENOTTY;
    else if (sid < 0)
        r = -ESRCH;
    else if (sid != l->sid)
        r = -EPERM;
    else
        t->pgrp = pgrp;
    spin_unlock_irqrestore(&sched_lock, fl);
    return r;
}

static long set_ctty(struct tty *t, struct file *f, unsigned long arg)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *l = current()->leader;
    long r = 0;
    if (l->sid == l->pid && t->sid == l->sid)
        ;                                       /* already ours */
    else if (l->sid != l->pid || l->ctty)
        r = -EPERM;
    else if (t->sid && !(arg == 1 && l->euid == 0))
        r = -EPERM;                             /* another session's (root may steal it) */
    else if ((f->flags & O_ACCMODE) == O_WRONLY && l->euid != 0)
        r = -EPERM;
    else {
        if (t->sid)
            session_clear_ctty_locked(t->sid, t);
        acquire_locked(t, l);
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    return r;
}

static long drop_ctty(struct tty *t)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    struct proc *l = current()->leader;
    long r = 0;
    if (l->ctty != t)
        r = -ENOTTY;
    else if (l->sid == l->pid)
        disassociate_locked(t, false);
    else
        l->ctty = NULL;
    spin_unlock_irqrestore(&sched_lock, fl);
    return r;
}

/* ---- ioctl ---- */

static void set_termios_locked(struct tty *t, const struct termios_k *k, bool flush)
{
    uint32_t old = t->tio.c_lflag;
    t->tio = *k;
    if ((old ^ k->c_lflag) & ICANON) {
        t->in_canon = t->in_w;                  /* what was typed is readable as it is */
        t->lnext = false;
    }
    if (flush)
        flush_input_locked(t);
    if (!(k->c_iflag & IXON) && t->out_stopped) {
        t->out_stopped = false;
        wake_locked(t, &t->out_stopped);
    }
    wake_locked(t, &t->in_r);
}

static long put_int(unsigned long arg, int v)
{
    return copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
}

/* The ioctls of a terminal: t is the slave (or console) even when f is
 * a master, as on Linux; `master` lifts the controlling-terminal rule of
 * the reads (TIOCGPGRP, TIOCGSID). */
static long tty_ioctl_on(struct tty *t, struct file *f, bool master, unsigned long cmd, unsigned long arg)
{
    uint64_t fl;
    long r;
    struct proc *l = current()->leader;
    switch (cmd) {
    case TCGETS:
    case TCGETS2: {
        struct termios_k k;
        fl = spin_lock_irqsave(&sched_lock);
        k = t->tio;
        spin_unlock_irqrestore(&sched_lock, fl);
        return copy_to_user((void *)arg, &k, cmd == TCGETS ? TERMIOS_SIZE : TERMIOS2_SIZE) ? -EFAULT : 0;
    }
    case TCGETA: {                              /* the old struct termio: the low halves */
        struct termio_k o;
        fl = spin_lock_irqsave(&sched_lock);
        o = (struct termio_k){ (uint16_t)t->tio.c_iflag, (uint16_t)t->tio.c_oflag,
                               (uint16_t)t->tio.c_cflag, (uint16_t)t->tio.c_lflag, t->tio.c_line, { 0 } };
        memcpy(o.c_cc, t->tio.c_cc, sizeof(o.c_cc));
        spin_unlock_irqrestore(&sched_lock, fl);
        return copy_to_user((void *)arg, &o, sizeof(o)) ? -EFAULT : 0;
    }
    case TCSETA: case TCSETAW: case TCSETAF: {
        if ((r = job_check(t, SIGTTOU)))
            return r;
        struct termio_k o;
        if (copy_from_user(&o, (void *)arg, sizeof(o)))
            return -EFAULT;
        struct termios_k k;
        fl = spin_lock_irqsave(&sched_lock);
        k = t->tio;                             /* the high halves stay */
        k.c_iflag = (k.c_iflag & 0xffff0000u) | o.c_iflag;
        k.c_oflag = (k.c_oflag & 0xffff0000u) | o.c_oflag;
        k.c_cflag = (k.c_cflag & 0xffff0000u) | o.c_cflag;
        k.c_lflag = (k.c_lflag & 0xffff0000u) | o.c_lflag;
        k.c_line = o.c_line;
        memcpy(k.c_cc, o.c_cc, sizeof(o.c_cc));
        set_termios_locked(t, &k, cmd == TCSETAF);
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    }
    case TCSETS: case TCSETSW: case TCSETSF:
    case TCSETS2: case TCSETSW2: case TCSETSF2: {
        if ((r = job_check(t, SIGTTOU)))
            return r;
        bool two = cmd == TCSETS2 || cmd == TCSETSW2 || cmd == TCSETSF2;
        struct termios_k k;
        fl = spin_lock_irqsave(&sched_lock);
        k = t->tio;                             /* TCSETS keeps the speeds */
        spin_unlock_irqrestore(&sched_lock, fl);
        if (copy_from_user(&k, (void *)arg, two ? TERMIOS2_SIZE : TERMIOS_SIZE))
            return -EFAULT;
        fl = spin_lock_irqsave(&sched_lock);
        set_termios_locked(t, &k, cmd == TCSETSF || cmd == TCSETSF2);
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;                               /* TCSETSW: output is never queued here */
    }
    case TIOCGWINSZ: {
        struct winsize_k ws;
        fl = spin_lock_irqsave(&sched_lock);
        ws = t->ws;
        spin_unlock_irqrestore(&sched_lock, fl);
        return copy_to_user((void *)arg, &ws, sizeof(ws)) ? -EFAULT : 0;
    }
    case TIOCSWINSZ: {
        struct winsize_k ws;
        if (copy_from_user(&ws, (void *)arg, sizeof(ws)))
            return -EFAULT;
        fl = spin_lock_irqsave(&sched_lock);
        if (memcmp(&ws, &t->ws, sizeof(ws))) {
            t->ws = ws;
            signal_pgrp_locked(t->pgrp, SIGWINCH);
        }
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    }
    case TIOCGPGRP:
    case TIOCGSID: {
        fl = spin_lock_irqsave(&sched_lock);
        int v = cmd == TIOCGPGRP ? t->pgrp : t->sid;
        r = (!master && l->ctty != t) || (cmd == TIOCGSID && !v) ? -ENOTTY : 0;
        spin_unlock_irqrestore(&sched_lock, fl);
        return r ? r : put_int(arg, v);
    }
    case TIOCSPGRP:
        return set_pgrp(t, (const int *)arg);
    case TIOCSCTTY:
        return set_ctty(t, f, arg);
    case TIOCNOTTY:
        return master ? -ENOTTY : drop_ctty(t);
    case FIONREAD: {
        fl = spin_lock_irqsave(&sched_lock);
        int v = master ? (int)(t->pty->out_w - t->pty->out_r) : (int)inq_locked(t);
        spin_unlock_irqrestore(&sched_lock, fl);
        return put_int(arg, v);
    }
    case TIOCOUTQ:
        return put_int(arg, 0);                 /* output never waits in a driver queue here */
    case TCFLSH:
        if ((r = job_check(t, SIGTTOU)))
            return r;
        if (arg > TCIOFLUSH)
            return -EINVAL;
        fl = spin_lock_irqsave(&sched_lock);
        /* A master's input is the slave's output, and the other way round. */
        if (arg == TCIFLUSH || arg == TCIOFLUSH)
            master ? flush_output_locked(t) : flush_input_locked(t);
        if (arg == TCOFLUSH || arg == TCIOFLUSH)
            master ? flush_input_locked(t) : flush_output_locked(t);
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    case TCXONC:
        if ((r = job_check(t, SIGTTOU)))
            return r;
        if (arg > TCION)
            return -EINVAL;
        fl = spin_lock_irqsave(&sched_lock);
        if (arg == TCOOFF)
            t->out_stopped = true;
        else if (arg == TCOON) {
            t->out_stopped = false;
            wake_locked(t, &t->out_stopped);
        }
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    case TCSBRK:
    case TCSBRKP:
        return job_check(t, SIGTTOU);           /* tcdrain: nothing is ever queued */
    default:
        return -ENOTTY;
    }
}

static long tty_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    struct tty *t = file_tty(f);
    if (file_hung_up(f, t))
        return cmd == TIOCSPGRP ? -ENOTTY : -EIO;
    return tty_ioctl_on(t, f, false, cmd, arg);
}

static int tty_stat(struct file *f, struct kstat *st)
{
    struct tty *t = file_tty(f);
    if (f->inode) {
        vfs_stat(f->inode, st);
        return 0;
    }
    memset(st, 0, sizeof(*st));
    st->mode = S_IFCHR | 0620;
    st->rdev = t->pty ? MKDEV(PTS_MAJOR, t->pty->index) : MKDEV(5, 1);
    st->blksize = 1024;
    st->nlink = 1;
    return 0;
}

/* ---- pseudo-terminals ---- */

static void pty_name(int index, char *buf, size_t size)
{
    snprintf(buf, size, "%d", index);
}

/* Both sides closed: the pair goes (nobody keeps it as a terminal). */
static void pty_free_if_unused(struct pty *p)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    bool unused = !p->master_open && p->slave_files == 0;
    if (unused) {
        session_clear_ctty_locked(0, &p->tty);
        ptys[p->index] = NULL;
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    if (unused)
        kfree(p);
}

static void tty_release(struct file *f)
{
    struct tty *t = file_tty(f);
    if (f->inode)
        iput(f->inode);
    if (!t->pty)
        return;
    struct pty *p = t->pty;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    if (--p->slave_files == 0) {
        p->slave_closed = true;
        wake_locked(&p->tty, &p->out_w);               /* a master reader: EIO now */
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    pty_free_if_unused(p);
}

/* Readable: what read() would return without waiting (a line; raw: VMIN
 * bytes when VTIME is 0, else one); writable: output not stopped and, for
 * a slave, room in the master's queue; a hung-up file is everything. */
static uint32_t tty_poll(struct file *f, struct poll_table *pt)
{
    struct tty *t = file_tty(f);
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &t->pollq);
    uint32_t mask = 0, want = 1;
    if (!(t->tio.c_lflag & ICANON) && t->tio.c_cc[VMIN] && !t->tio.c_cc[VTIME])
        want = t->tio.c_cc[VMIN];
    if (file_hung_up(f, t))
        mask = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP;
    else {
        if (readable_locked(t) >= want)
            mask |= POLLIN | POLLRDNORM;
        if (!t->out_stopped && (!t->pty || pty_out_room(t->pty) >= 2))
            mask |= POLLOUT | POLLWRNORM;
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

/* /proc/PID/fd's name for a terminal opened by no path (init's console). */
static int tty_dname(struct file *f, char *buf, size_t n)
{
    struct tty *t = file_tty(f);
    return t->pty ? snprintf(buf, n, "/dev/pts/%d", t->pty->index) : (int)strlcpy(buf, "/dev/console", n);
}

void tty_proc_info_locked(struct tty *t, uint64_t *dev, int *fg)
{
    ASSERT_HELD(&sched_lock);
    /* The console is the serial line, ttyS0 (4:64), as on a Linux with
     * console=ttyS0; a pseudo-terminal's slave is pts/N. */
    *dev = t->pty ? MKDEV(PTS_MAJOR, t->pty->index) : MKDEV(4, 64);
    *fg = t->pgrp ? t->pgrp : -1;
}

static const struct file_ops tty_ops = {
    .read = tty_read, .write = tty_write, .ioctl = tty_ioctl, .stat = tty_stat,
    .release = tty_release, .poll = tty_poll, .dname = tty_dname,
};

/* A file on terminal t (the caller's inode reference, if any, goes with
 * it); a session leader without a terminal acquires it unless noctty. */
static struct file *tty_file(struct tty *t, struct inode *ino, int flags, bool noctty)
{
    struct file *f = file_alloc(&tty_ops, t);
    if (!f)
        return NULL;
    f->inode = ino;
    f->flags = flags;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    f->off = t->hup_gen;
    if (t->pty) {
        t->pty->slave_files++;
        t->pty->slave_closed = false;
    }
    struct proc *l = noctty || (flags & O_NOCTTY) ? NULL : current()->leader;
    if (l && l->sid == l->pid && !l->ctty && !t->sid && (flags & O_ACCMODE) != O_WRONLY)
        acquire_locked(t, l);
    spin_unlock_irqrestore(&sched_lock, fl);
    return f;
}

static long slave_open(struct pty *p, struct inode *ino, int flags, bool noctty, struct file **out)
{
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    long r = !p->master_open ? -EIO : p->locked ? -EIO : 0;
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r)
        return r;
    *out = tty_file(&p->tty, ino, flags, noctty);
    return *out ? 0 : -ENOMEM;
}

static struct pty *file_pty(struct file *f) { return f->priv; }

static long ptm_read(struct file *f, void *ubuf, size_t n)
{
    struct pty *p = file_pty(f);
    char *kb = proc_scratch_page();
    if (!kb)
        return -ENOMEM;
    if (n == 0)
        return 0;
    n = MIN(n, (size_t)PAGE_SIZE);
    long r;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    for (;;) {
        if (p->out_w != p->out_r) {
            size_t k = 0;
            while (k < n && p->out_r != p->out_w)
                kb[k++] = p->out[p->out_r++ % PTY_OUT];
            wake_locked(&p->tty, &p->out_r);           /* slave writers waiting for room */
            r = (long)k;
            break;
        }
        if (p->slave_closed) {
            r = -EIO;
            break;
        }
        if (nonblocking(f)) {
            r = -EAGAIN;
            break;
        }
        if (proc_signal_pending()) {
            r = -ERESTARTSYS;
            break;
        }
        sleep_locked(&p->out_w);
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    if (r > 0 && copy_to_user(ubuf, kb, (size_t)r))
        return -EFAULT;
    return r;
}

/* The master's writes are typed on the slave. A full input waits for a
 * reader, unless nothing there is readable (a canonical line longer than
 * the buffer): then the line discipline drops bytes, as it does for the
 * console. */
static long ptm_write(struct file *f, const void *ubuf, size_t n)
{
    struct pty *p = file_pty(f);
    struct tty *t = &p->tty;
    char in[256];
    size_t done = 0;
    while (done < n) {
        size_t k = MIN(n - done, sizeof(in));
        if (copy_from_user(in, (const char *)ubuf + done, k))
            return done ? (long)done : -EFAULT;
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        for (size_t i = 0; i < k; i++) {
            while (in_count(t) >= TTY_BUF - 1 && readable_locked(t)) {
                long r = nonblocking(f) ? -EAGAIN : proc_signal_pending() ? -ERESTARTSYS : 0;
                if (r) {
                    spin_unlock_irqrestore(&sched_lock, fl);
                    return done ? (long)done : r;
                }
                sleep_locked(&t->in_w);
            }
            tty_input_locked(t, (uint8_t)in[i]);
            done++;
        }
        spin_unlock_irqrestore(&sched_lock, fl);
    }
    return (long)done;
}

static long ptm_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    struct pty *p = file_pty(f);
    switch (cmd) {
    case TIOCGPTN: {
        unsigned v = (unsigned)p->index;
        return copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
    }
    case TIOCSPTLCK: {
        int v;
        if (copy_from_user(&v, (void *)arg, sizeof(v)))
            return -EFAULT;
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        p->locked = v != 0;
        spin_unlock_irqrestore(&sched_lock, fl);
        return 0;
    }
    case TIOCGPTLCK:
        return put_int(arg, p->locked);
    case TIOCGPTPEER: {
        if (arg & ~(unsigned long)(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC))
            return -EINVAL;
        struct file *sf;
        long r = slave_open(p, NULL, (int)arg, false, &sf);
        if (r)
            return r;
        int fd = fd_install(sf, 0, arg & O_CLOEXEC);
        if (fd < 0)
            file_close(sf);
        return fd;
    }
    default:
        return tty_ioctl_on(&p->tty, f, true, cmd, arg);
    }
}

static int ptm_stat(struct file *f, struct kstat *st)
{
    if (f->inode) {
        vfs_stat(f->inode, st);
        return 0;
    }
    memset(st, 0, sizeof(*st));
    st->mode = S_IFCHR | 0666;
    st->rdev = MKDEV(5, 2);
    st->nlink = 1;
    return 0;
}

static void ptm_release(struct file *f)
{
    struct pty *p = file_pty(f);
    if (f->inode)
        iput(f->inode);
    char name[12];
    pty_name(p->index, name, sizeof(name));
    if (pts_dir)
        pts_dir->ops->unlink(pts_dir, name, strlen(name), false);
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    p->master_open = false;
    hangup_locked(&p->tty);
    spin_unlock_irqrestore(&sched_lock, fl);
    pty_free_if_unused(p);
}

/* The master: readable when the slave wrote (or echoed), hung up once
 * every slave file closed, writable while the slave's input has room. */
static uint32_t ptm_poll(struct file *f, struct poll_table *pt)
{
    struct pty *p = file_pty(f);
    struct tty *t = &p->tty;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    poll_wait_locked(pt, &p->mpollq);
    uint32_t mask = 0;
    if (p->out_w != p->out_r)
        mask |= POLLIN | POLLRDNORM;
    if (p->slave_closed)
        mask |= POLLHUP;                        /* (read says EIO once it is empty) */
    if (in_count(t) < TTY_BUF - 1 || !readable_locked(t))
        mask |= POLLOUT | POLLWRNORM;
    spin_unlock_irqrestore(&sched_lock, fl);
    return mask;
}

static const struct file_ops ptm_ops = {
    .read = ptm_read, .write = ptm_write, .ioctl = ptm_ioctl, .stat = ptm_stat,
    .release = ptm_release, .poll = ptm_poll,
};

/* posix_openpt: a new pair, locked, with its /dev/pts/N node. */
static struct file *ptmx_open(struct inode *ino, int flags, int *err)
{
    ASSERT_KLOCK();
    int index = -1;
    for (int i = 0; i < NPTY && index < 0; i++)
        if (!ptys[i])
            index = i;
    *err = -ENOSPC;                             /* Linux: no more ptys */
    if (index < 0 || !pts_dir)
        return NULL;
    *err = -ENOMEM;
    struct pty *p = kzalloc(sizeof(*p));
    struct file *f = p ? file_alloc(&ptm_ops, p) : NULL;
    if (!f) {
        kfree(p);
        return NULL;
    }
    tty_reset(&p->tty, 0, 0);
    p->tty.pty = p;
    p->index = index;
    p->locked = true;
    p->master_open = true;
    char name[12];
    pty_name(index, name, sizeof(name));
    int r = tmpfs_mknod(pts_dir, name, S_IFCHR | 0620, MKDEV(PTS_MAJOR, index));
    if (r) {
        *err = r;
        file_close(f);                          /* no release yet: ops say ptm */
        return NULL;
    }
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    ptys[index] = p;
    spin_unlock_irqrestore(&sched_lock, fl);
    f->inode = ino;
    f->flags = flags;
    return f;
}

/* ---- opening terminals by device number (dev.c) ---- */

struct file *tty_dev_open(struct inode *ino, unsigned major, unsigned minor, int flags, int *err)
{
    struct file *f = NULL;
    *err = -ENOMEM;
    if (major == 5 && minor == 0) {             /* /dev/tty: the caller's terminal */
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        struct tty *t = current()->leader->ctty;
        spin_unlock_irqrestore(&sched_lock, fl);
        if (!t) {
            *err = -ENXIO;
            return NULL;
        }
        if (t->pty) {
            long r = slave_open(t->pty, ino, flags, true, &f);
            *err = (int)r;
            return f;
        }
        return tty_file(t, ino, flags, true);
    }
    if (major == 5 && minor == 1)               /* /dev/console: never a controlling terminal */
        return tty_file(&console_tty_s, ino, flags, true);
    if (major == 4 && minor == 64)              /* /dev/ttyS0: the same UART */
        return tty_file(&console_tty_s, ino, flags, false);
    if (major == 5 && minor == 2)
        return ptmx_open(ino, flags, err);
    if (major == PTS_MAJOR && minor < NPTY) {
        struct pty *p = ptys[minor];
        if (!p) {
            *err = -EIO;
            return NULL;
        }
        long r = slave_open(p, ino, flags, false, &f);
        *err = (int)r;
        return f;
    }
    *err = -ENXIO;
    return NULL;
}

void tty_set_pts_dir(struct inode *dir)
{
    pts_dir = dir;
}

/* ---- the console ---- */

struct tty *const console_tty = &console_tty_s;

struct file *console_open(void)
{
    return tty_file(&console_tty_s, NULL, O_RDWR, true);
}

void tty_init(void)
{
    tty_reset(&console_tty_s, 24, 80);
}
