/* user/tests/ptytest.c - a terminal driven through a pseudo-terminal pair,
 * printing what it saw, line for line the same on Vigil and on the host's
 * Linux (tests/test_tty.py compares them).
 *
 *   ptytest basics   posix_openpt/grantpt/unlockpt/ptsname, the lock, the
 *                    default termios, canonical editing (erase, kill,
 *                    word-erase, VLNEXT, EOF), echo, raw mode with
 *                    VMIN/VTIME, ICRNL/INLCR/IGNCR/ISTRIP, ONLCR, bad input
 *   ptytest jobs     a session on the slave: ISIG to the foreground group
 *                    only, SIGWINCH, Ctrl-Z stops (WUNTRACED/WCONTINUED),
 *                    SIGTTIN/SIGTTOU for the background, tcsetpgrp's rules,
 *                    the session leader's exit (SIGHUP to the foreground,
 *                    SIGHUP+SIGCONT to a stopped orphaned group)
 *   ptytest hangup   the master closes: the session leader gets SIGHUP, the
 *                    slave reads end of file and writes EIO; the slave
 *                    closes: the master reads what was left, then EIO
 *
 * Waits never depend on time: every step waits for the byte or status it
 * causes. An alarm turns a hang into a "TIMEOUT" line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif

static const char *phase = "start";

static void on_alarm(int sig)
{
    (void)sig;
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "TIMEOUT in %s (pid %d)\n", phase, getpid());
    write(1, msg, (size_t)n);
    _exit(3);
}

static const char *ename(int e)
{
    static char buf[16];
    switch (e) {
    case 0: return "0";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case ENOTTY: return "ENOTTY";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENXIO: return "ENXIO";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case ENOENT: return "ENOENT";
    default: snprintf(buf, sizeof(buf), "E%d", e); return buf;
    }
}

/* "r" for a result: the value, or the errno's name. */
static const char *res(long r)
{
    static char buf[32];
    if (r < 0)
        return ename(errno);
    snprintf(buf, sizeof(buf), "%ld", r);
    return buf;
}

static void show(const char *label, const char *b, long n)
{
    printf("%s: ", label);
    if (n < 0) {
        printf("%s\n", ename(errno));
        return;
    }
    printf("%ld '", n);
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '\n') printf("\\n");
        else if (c == '\r') printf("\\r");
        else if (c == '\b') printf("\\b");
        else if (c < 32 || c >= 127) printf("\\x%02x", c);
        else putchar(c);
    }
    printf("'\n");
    fflush(stdout);
}

static void wr(int fd, const char *s) { (void)!write(fd, s, strlen(s)); }

/* Read until the last byte read is `end` (or n bytes). */
static long read_until(int fd, char *buf, size_t cap, char end)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return got ? (long)got : (long)r;
        got += (size_t)r;
        if (buf[got - 1] == end)
            break;
    }
    return (long)got;
}

static long read_n(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return got ? (long)got : (long)r;
        got += (size_t)r;
    }
    return (long)got;
}

/* poll(2) on one fd: the revents, by name ("-" for none). */
static const char *pollstr(int fd, short events, int timeout_ms)
{
    static char buf[64];
    struct pollfd p = { fd, events, 0 };
    int r = poll(&p, 1, timeout_ms);
    if (r < 0)
        return ename(errno);
    snprintf(buf, sizeof(buf), "%d%s%s%s%s", r, p.revents & POLLIN ? " IN" : "",
             p.revents & POLLOUT ? " OUT" : "", p.revents & POLLHUP ? " HUP" : "",
             p.revents & POLLERR ? " ERR" : "");
    return buf;
}

static int open_pair(int *sfd, char *name, size_t size)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, size)) {
        printf("open pair: %s\n", ename(errno));
        exit(1);
    }
    if (sfd && (*sfd = open(name, O_RDWR | O_NOCTTY)) < 0) {
        printf("open slave: %s\n", ename(errno));
        exit(1);
    }
    return m;
}

static void set_lflag(int fd, tcflag_t on, tcflag_t off)
{
    struct termios t;
    tcgetattr(fd, &t);
    t.c_lflag = (t.c_lflag | on) & ~off;
    tcsetattr(fd, TCSANOW, &t);
}

/* A canonical line typed on the master: what the slave reads, what the
 * master sees echoed (up to its last newline). */
static void typed(int m, int s, const char *label, const char *keys, bool echo)
{
    char buf[256], lab[64];
    wr(m, keys);
    long n = read(s, buf, sizeof(buf));
    snprintf(lab, sizeof(lab), "%s: slave reads", label);
    show(lab, buf, n);
    if (echo) {
        n = read_until(m, buf, sizeof(buf), '\n');
        snprintf(lab, sizeof(lab), "%s: echo", label);
        show(lab, buf, n);
    }
}

static void raw_read(int m, int s, const char *label, const char *keys, int vmin, int vtime)
{
    struct termios t;
    tcgetattr(s, &t);
    t.c_cc[VMIN] = (cc_t)vmin;
    t.c_cc[VTIME] = (cc_t)vtime;
    tcsetattr(s, TCSANOW, &t);
    if (*keys)
        wr(m, keys);
    char buf[64];
    long n = read(s, buf, sizeof(buf));
    char lab[80];
    snprintf(lab, sizeof(lab), "%s (VMIN=%d VTIME=%d)", label, vmin, vtime);
    show(lab, buf, n);
}

static void basics(void)
{
    char name[64], buf[256];
    phase = "basics/open";
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    printf("posix_openpt: %s\n", m >= 0 ? "ok" : ename(errno));
    printf("grantpt: %s\n", res(grantpt(m)));
    ptsname_r(m, name, sizeof(name));
    unsigned ptn = 99999;
    ioctl(m, TIOCGPTN, &ptn);
    char expect[64];
    snprintf(expect, sizeof(expect), "/dev/pts/%u", ptn);
    printf("ptsname is /dev/pts/<TIOCGPTN>: %s\n", strcmp(name, expect) ? name : "yes");
    int locked = -1;
    ioctl(m, TIOCGPTLCK, &locked);
    printf("locked before unlockpt: %d\n", locked);
    printf("open locked slave: %s\n", res(open(name, O_RDWR | O_NOCTTY)));
    printf("unlockpt: %s\n", res(unlockpt(m)));
    int s = open(name, O_RDWR | O_NOCTTY);
    printf("open slave: %s\n", s >= 0 ? "ok" : ename(errno));
    printf("isatty master %d slave %d\n", isatty(m), isatty(s));
    struct stat st;
    fstat(s, &st);
    printf("slave: char device %d, unix98 major %d, minor is the number %d\n", S_ISCHR(st.st_mode),
           major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143, minor(st.st_rdev) == ptn);
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    printf("TIOCGPTPEER: %s, a tty %d\n", peer >= 0 ? "ok" : ename(errno), peer >= 0 && isatty(peer));
    if (peer >= 0)
        close(peer);
    printf("TIOCGPTN on a regular file: %s\n", res(ioctl(open("/", O_RDONLY), TIOCGPTN, &ptn)));

    phase = "basics/termios";
    struct termios t;
    tcgetattr(s, &t);
    printf("slave lflag ICANON %d ECHO %d ISIG %d ECHOE %d ECHOK %d ECHOCTL %d IEXTEN %d TOSTOP %d\n",
           !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO), !!(t.c_lflag & ISIG), !!(t.c_lflag & ECHOE),
           !!(t.c_lflag & ECHOK), !!(t.c_lflag & ECHOCTL), !!(t.c_lflag & IEXTEN), !!(t.c_lflag & TOSTOP));
    printf("slave iflag ICRNL %d IXON %d INLCR %d; oflag OPOST %d ONLCR %d\n", !!(t.c_iflag & ICRNL),
           !!(t.c_iflag & IXON), !!(t.c_iflag & INLCR), !!(t.c_oflag & OPOST), !!(t.c_oflag & ONLCR));
    printf("cc INTR %d QUIT %d ERASE %d KILL %d EOF %d SUSP %d WERASE %d LNEXT %d MIN %d TIME %d\n",
           t.c_cc[VINTR], t.c_cc[VQUIT], t.c_cc[VERASE], t.c_cc[VKILL], t.c_cc[VEOF], t.c_cc[VSUSP],
           t.c_cc[VWERASE], t.c_cc[VLNEXT], t.c_cc[VMIN], t.c_cc[VTIME]);
    struct winsize ws = { 1, 1, 1, 1 };
    ioctl(s, TIOCGWINSZ, &ws);
    printf("winsize %dx%d\n", ws.ws_row, ws.ws_col);
    struct termios mt;
    tcgetattr(m, &mt);
    printf("master TCGETS is the slave's: %d\n", !memcmp(&mt, &t, sizeof(t)));

    phase = "basics/canonical";
    typed(m, s, "plain", "hello\n", true);
    typed(m, s, "erase", "abx\177c\n", true);
    typed(m, s, "kill", "junk\025ok\n", true);
    typed(m, s, "werase", "one two!\027three\n", true);
    typed(m, s, "lnext", "\026\003x\n", true);
    wr(m, "abcdef\n");
    show("short read 1", buf, read(s, buf, 3));
    show("short read 2", buf, read(s, buf, sizeof(buf)));
    read_n(m, buf, 8);                          /* the echo */
    wr(m, "l1\nl2\n");
    show("line 1", buf, read(s, buf, sizeof(buf)));
    int inq = -1;
    ioctl(s, FIONREAD, &inq);
    printf("FIONREAD with one line left: %d\n", inq);
    show("line 2", buf, read(s, buf, sizeof(buf)));
    read_n(m, buf, 8);                          /* the echo of l1 l2 */
    set_lflag(s, 0, ECHO);
    typed(m, s, "eof after text", "part\004", false);
    typed(m, s, "eof alone", "\004", false);
    set_lflag(s, ECHONL, 0);
    typed(m, s, "echonl", "quiet\n", true);
    set_lflag(s, ECHO, ECHONL);

    phase = "basics/raw";
    tcgetattr(s, &t);
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    tcsetattr(s, TCSANOW, &t);
    raw_read(m, s, "four bytes", "abcd", 3, 0);
    raw_read(m, s, "nothing there", "", 0, 0);
    raw_read(m, s, "nothing within 0.2 s", "", 0, 2);
    raw_read(m, s, "one byte", "z", 0, 2);
    raw_read(m, s, "one of two, then the interbyte timer", "y", 2, 1);
    raw_read(m, s, "ICRNL", "\r", 1, 0);
    raw_read(m, s, "ISIG off: ^C is data", "\003", 1, 0);
    tcgetattr(s, &t);
    t.c_iflag = (t.c_iflag & ~(tcflag_t)ICRNL) | INLCR | ISTRIP;
    tcsetattr(s, TCSANOW, &t);
    raw_read(m, s, "INLCR", "\n", 1, 0);
    raw_read(m, s, "ISTRIP", "\301", 1, 0);
    t.c_iflag |= IGNCR;
    tcsetattr(s, TCSANOW, &t);
    raw_read(m, s, "IGNCR", "a\rb", 2, 0);
    raw_read(m, s, "INLCR in raw mode", "a\nb\n", 4, 0);
    raw_read(m, s, "VMIN back to 1", "", 0, 0);

    phase = "basics/output";
    wr(s, "a\nb");
    show("ONLCR: master reads", buf, read_n(m, buf, 4));
    tcgetattr(s, &t);
    t.c_oflag &= ~(tcflag_t)OPOST;
    tcsetattr(s, TCSANOW, &t);
    wr(s, "a\nb");
    show("OPOST off: master reads", buf, read_n(m, buf, 3));
    int outq = -1;
    const char *r = res(ioctl(s, TIOCOUTQ, &outq));
    printf("TIOCOUTQ: %s %d\n", r, outq);

    phase = "basics/poll";
    tcgetattr(s, &t);
    t.c_lflag |= ICANON | ECHO;
    t.c_iflag = ICRNL | IXON;
    t.c_oflag = OPOST | ONLCR;
    tcsetattr(s, TCSAFLUSH, &t);
    tcflush(m, TCIFLUSH);
    printf("poll slave, nothing typed: %s\n", pollstr(s, POLLIN | POLLOUT, 0));
    wr(m, "abc");
    printf("poll slave, half a line typed: %s\n", pollstr(s, POLLIN, 100));
    wr(m, "\n");
    printf("poll slave, a line typed: %s\n", pollstr(s, POLLIN, -1));
    read(s, buf, sizeof(buf));
    read_n(m, buf, 5);                          /* the echo */
    printf("poll master, nothing written: %s\n", pollstr(m, POLLIN | POLLOUT, 0));
    wr(s, "x");
    printf("poll master, the slave wrote: %s\n", pollstr(m, POLLIN, -1));
    read_n(m, buf, 1);

    phase = "basics/bad input";
    printf("unknown ioctl: %s\n", res(ioctl(s, 0x54ff, 0)));
    printf("TCGETS to a bad pointer: %s\n", res(ioctl(s, TCGETS, (void *)8)));
    printf("TCSETS from a bad pointer: %s\n", res(ioctl(s, TCSETS, (void *)8)));
    printf("TIOCSWINSZ from a bad pointer: %s\n", res(ioctl(s, TIOCSWINSZ, (void *)8)));
    printf("TIOCGPTN to a bad pointer: %s\n", res(ioctl(m, TIOCGPTN, (void *)8)));
    printf("TCFLSH 7: %s\n", res(ioctl(s, TCFLSH, 7)));
    printf("TCXONC 9: %s\n", res(ioctl(s, TCXONC, 9)));
    printf("TCFLSH input: %s\n", res(ioctl(s, TCFLSH, TCIFLUSH)));
    printf("TIOCGPGRP, not our terminal: %s\n", res(ioctl(s, TIOCGPGRP, &inq)));
    printf("TIOCGSID, not our terminal: %s\n", res(ioctl(s, TIOCGSID, &inq)));
    printf("TIOCSPGRP, not our terminal: %s\n", res(tcsetpgrp(s, getpgrp())));
    printf("TIOCNOTTY, not our terminal: %s\n", res(ioctl(s, TIOCNOTTY, 0)));
    printf("TCGETS on a regular file: %s\n", res(tcgetattr(open("/", O_RDONLY), &t)));
    printf("read into a bad pointer: %s\n", res((wr(m, "q\n"), read(s, (void *)8, 4))));
    printf("master write from a bad pointer: %s\n", res(write(m, (void *)8, 4)));
    close(s);
    close(m);
}

/* ---- jobs: a session on the slave ---- */

static int lp[2], rp[2];                        /* bytes to L; report lines to the parent */
static volatile sig_atomic_t cnt[65];

static void count(int sig)
{
    cnt[sig]++;
    (void)!write(lp[1], "s", 1);
}

static void count_quiet(int sig) { cnt[sig]++; }

static const char *me = "?";
static void hup_report(int sig)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%s: SIGHUP (then exits)\n", me);
    (void)!write(rp[1], line, (size_t)n);
    _exit(0);
}

static void on(int sig, void (*h)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;                          /* no SA_RESTART: EINTR shows */
    sigaction(sig, &sa, NULL);
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (void)!write(rp[1], line, (size_t)n);
}

/* L's byte from lp; 'c' (a child changed state: SIGCHLD) only when asked. */
static ssize_t lp_byte(char *c, bool want_chld)
{
    ssize_t r;
    do {
        while ((r = read(lp[0], c, 1)) < 0 && errno == EINTR)
            ;
    } while (r == 1 && *c == 'c' && !want_chld);
    return r;
}

static void wait_byte(char want)
{
    char c;
    ssize_t r = lp_byte(&c, false);
    if (r != 1 || c != want)
        report("L: waited for '%c', got %s '%c'\n", want, r == 1 ? "byte" : "nothing", r == 1 ? c : ' ');
}

/* A or B: a process group of its own, counting signals, doing commands
 * from its pipe; 'k' to L after each. */
static void member(const char *who, int cmd, int sfd, int m)
{
    setpgid(0, 0);
    me = who;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);      /* L blocks SIGTTOU; its jobs do not */
    int sigs[] = { SIGINT, SIGQUIT, SIGTSTP, SIGWINCH, SIGHUP, SIGTTOU };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        on(sigs[i], count);
    close(m);
    (void)!write(lp[1], "r", 1);
    char c, buf[64];
    for (;;) {
        ssize_t r = read(cmd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            _exit(0);
        long n;
        switch (c) {
        case 'S':
            report("%s: INT %d QUIT %d TSTP %d WINCH %d HUP %d\n", who, cnt[SIGINT], cnt[SIGQUIT],
                   cnt[SIGTSTP], cnt[SIGWINCH], cnt[SIGHUP]);
            break;
        case 'D':
            on(SIGTSTP, SIG_DFL);
            break;
        case 'R':                               /* read the terminal (from the background) */
            n = read(sfd, buf, sizeof(buf));
            report("%s: read returned %s\n", who, n < 0 ? ename(errno) : n ? "data" : "0");
            if (n > 0)
                report("%s: read '%.*s'\n", who, (int)n - 1, buf);
            break;
        case 'I':
            on(SIGTTIN, SIG_IGN);
            report("%s: read with SIGTTIN ignored: %s\n", who, res(read(sfd, buf, sizeof(buf))));
            on(SIGTTIN, SIG_DFL);
            break;
        case 'W':
            on(SIGTTOU, SIG_DFL);
            report("%s: write: %s\n", who, res(write(sfd, "bg\n", 3)));
            on(SIGTTOU, count);
            break;
        case 'P':
            on(SIGTTOU, count_quiet);
            n = tcsetpgrp(sfd, getpgrp());
            report("%s: tcsetpgrp from the background: %s, SIGTTOU %d\n", who, res(n), cnt[SIGTTOU]);
            break;
        case 'H':                               /* report SIGHUP and exit */
            on(SIGHUP, hup_report);
            break;
        }
        (void)!write(lp[1], "k", 1);
    }
}

static const char *status_str(int st)
{
    static char buf[64];
    if (WIFSTOPPED(st))
        snprintf(buf, sizeof(buf), "stopped by %s", WSTOPSIG(st) == SIGTSTP ? "SIGTSTP" :
                 WSTOPSIG(st) == SIGTTIN ? "SIGTTIN" : WSTOPSIG(st) == SIGTTOU ? "SIGTTOU" :
                 WSTOPSIG(st) == SIGSTOP ? "SIGSTOP" : "?");
    else if (WIFCONTINUED(st))
        snprintf(buf, sizeof(buf), "continued");
    else if (WIFSIGNALED(st))
        snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(st));
    return buf;
}

static pid_t job_a, job_b;

/* Wait for the child's stop or continue (wait4 with options), woken by
 * SIGCHLD's byte; any other byte first means it will not come (a job that
 * was not stopped went on): say so and end the session at once, rather
 * than wait for ever. */
static void wait_for(const char *who, pid_t pid, int options)
{
    int st;
    pid_t r;
    char c = 'c';
    while ((r = waitpid(pid, &st, options | WNOHANG)) == 0 || (r < 0 && errno == EINTR)) {
        if (lp_byte(&c, true) != 1 || c != 'c')
            break;
    }
    if (r == pid) {
        report("L: %s %s\n", who, status_str(st));
        return;
    }
    report("L: %s did not stop or continue (%s '%c' came first)\n", who, r ? ename(errno) : "byte", c);
    kill(job_a, SIGKILL);
    kill(job_b, SIGKILL);
    _exit(1);
}

static void on_chld(int sig) { (void)!write(lp[1], "c", 1); }

static void cmd(int fd, char c)
{
    (void)!write(fd, &c, 1);
    wait_byte('k');
}

static void leader(int m, const char *name)
{
    phase = "jobs/leader";
    alarm(50);
    /* Counted like A's and B's, with a byte to lp: a signal that strays to
     * L's group keeps the steps going and shows in the counts. */
    on(SIGINT, count);
    on(SIGQUIT, count);
    on(SIGWINCH, count);
    on(SIGTSTP, count);
    on(SIGHUP, count_quiet);
    on(SIGCHLD, on_chld);
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, NULL);        /* as a shell does */
    setsid();
    int sfd = open(name, O_RDWR);               /* no O_NOCTTY: it becomes ours */
    report("L: controlling terminal acquired: sid %d pgrp %d\n", tcgetsid(sfd) == getpid(),
           tcgetpgrp(sfd) == getpid());
    int fd = open("/dev/tty", O_RDWR);
    report("L: /dev/tty opens: %s\n", fd >= 0 ? "yes" : ename(errno));
    close(fd);
    int ca[2], cb[2];
    pipe(ca);
    pipe(cb);
    pid_t a = fork();
    if (a == 0) {
        close(ca[1]);
        member("A", ca[0], sfd, m);
    }
    setpgid(a, a);
    job_a = a;
    pid_t b = fork();
    if (b == 0) {
        close(cb[1]);
        member("B", cb[0], sfd, m);
    }
    setpgid(b, b);
    job_b = b;
    wait_byte('r');
    wait_byte('r');
    report("L: tcsetpgrp(A): %s\n", res(tcsetpgrp(sfd, a)));
    report("L: foreground is A: %d\n", tcgetpgrp(sfd) == a);

    phase = "jobs/isig";
    wr(m, "\003");
    wait_byte('s');
    wr(m, "\034");
    wait_byte('s');
    struct winsize ws = { 30, 100, 0, 0 };
    ioctl(m, TIOCSWINSZ, &ws);
    wait_byte('s');
    ioctl(m, TIOCSWINSZ, &ws);                  /* the same size: no SIGWINCH */
    memset(&ws, 0, sizeof(ws));
    ioctl(sfd, TIOCGWINSZ, &ws);
    report("L: winsize now %dx%d\n", ws.ws_row, ws.ws_col);
    wr(m, "\032");                              /* A handles SIGTSTP */
    wait_byte('s');
    cmd(ca[1], 'S');
    cmd(cb[1], 'S');
    report("L: INT %d QUIT %d TSTP %d WINCH %d\n", cnt[SIGINT], cnt[SIGQUIT], cnt[SIGTSTP],
           cnt[SIGWINCH]);

    phase = "jobs/ctrl-z";
    cmd(ca[1], 'D');
    wr(m, "\032");
    wait_for("A", a, WUNTRACED);
    kill(-a, SIGCONT);
    wait_for("A", a, WCONTINUED);

    phase = "jobs/background read";
    wr(m, "typed for B\n");                    /* waiting for whoever reads first */
    (void)!write(cb[1], "R", 1);                /* B reads from the background: stopped */
    wait_for("B", b, WUNTRACED);
    report("L: tcsetpgrp(B) with SIGTTOU blocked: %s\n", res(tcsetpgrp(sfd, b)));
    kill(-b, SIGCONT);
    wait_byte('k');
    wait_for("B", b, WCONTINUED);
    char buf[64];
    read_until(m, buf, sizeof(buf), '\n');      /* the echo */
    report("L: tcsetpgrp(A) from the background, SIGTTOU blocked: %s\n", res(tcsetpgrp(sfd, a)));
    cmd(cb[1], 'I');

    phase = "jobs/tostop";
    struct termios t;
    tcgetattr(sfd, &t);
    t.c_lflag |= TOSTOP;
    tcsetattr(sfd, TCSANOW, &t);
    (void)!write(cb[1], "W", 1);
    wait_for("B", b, WUNTRACED);
    t.c_lflag &= ~(tcflag_t)TOSTOP;
    tcsetattr(sfd, TCSANOW, &t);
    kill(-b, SIGCONT);
    wait_byte('k');
    wait_for("B", b, WCONTINUED);
    long n = read_until(m, buf, sizeof(buf), '\n');
    report("L: master got %ld bytes from B\n", n);
    cmd(cb[1], 'P');

    phase = "jobs/bad input";
    report("L: tcsetpgrp(-1): %s\n", res(tcsetpgrp(sfd, -1)));
    report("L: tcsetpgrp(no such group): %s\n", res(tcsetpgrp(sfd, 0x3ffffff0)));
    report("L: tcsetpgrp(the parent's group, another session): %s\n", res(tcsetpgrp(sfd, getpgid(getppid()))));
    report("L: TIOCSPGRP from a bad pointer: %s\n", res(ioctl(sfd, TIOCSPGRP, (void *)8)));
    report("L: TIOCSCTTY again: %s\n", res(ioctl(sfd, TIOCSCTTY, 0)));
    report("L: TIOCGSID: %d\n", tcgetsid(sfd) == getpid());

    phase = "jobs/leader exit";
    cmd(ca[1], 'H');
    cmd(cb[1], 'H');
    kill(b, SIGSTOP);
    wait_for("B", b, WUNTRACED);
    report("L: exits\n");
    _exit(0);
}

static int cmp_lines(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void jobs(void)
{
    char name[64];
    phase = "jobs";
    int m = open_pair(NULL, name, sizeof(name));
    pipe(lp);
    pipe(rp);
    pid_t l = fork();
    if (l == 0)
        leader(m, name);
    close(rp[1]);
    close(lp[1]);
    /* Every line as it comes; after the leader's exit (who heard the
     * hangup) in any order, so sorted. */
    FILE *in = fdopen(rp[0], "r");
    static char text[32][128];
    char *lines[32];
    int nl = 0;
    bool ended = false;
    while (nl < 32 && fgets(text[nl], sizeof(text[nl]), in)) {
        if (!ended) {
            fputs(text[nl], stdout);
            ended = !strcmp(text[nl], "L: exits\n");
        } else {
            lines[nl] = text[nl];
            nl++;
        }
    }
    qsort(lines, (size_t)nl, sizeof(char *), cmp_lines);
    for (int i = 0; i < nl; i++)
        fputs(lines[i], stdout);
    waitpid(l, NULL, 0);
    close(m);
}

static void hangup(void)
{
    char name[64], buf[64];
    phase = "hangup/master closes";
    int m = open_pair(NULL, name, sizeof(name));
    int go[2], back[2];
    pipe(go);
    pipe(back);
    pid_t h = fork();
    if (h == 0) {
        close(m);
        on(SIGHUP, count_quiet);
        setsid();
        int sfd = open(name, O_RDWR);
        (void)!write(back[1], "r", 1);
        char c;
        (void)!read(go[0], &c, 1);
        while (!cnt[SIGHUP])
            pause();
        long n = read(sfd, buf, sizeof(buf));
        char line[128];
        int k = snprintf(line, sizeof(line), "H: SIGHUP %d; slave read %s", cnt[SIGHUP], res(n));
        k += snprintf(line + k, sizeof(line) - (size_t)k, ", write %s; ", res(write(sfd, "x", 1)));
        snprintf(line + k, sizeof(line) - (size_t)k, "tcgetpgrp %s\n", res(tcgetpgrp(sfd)));
        (void)!write(back[1], line, strlen(line));
        _exit(0);
    }
    char c;
    (void)!read(back[0], &c, 1);
    close(m);
    (void)!write(go[1], "g", 1);
    long n = read(back[0], buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("%s", buf);
    waitpid(h, NULL, 0);

    phase = "hangup/slave closes";
    int s;
    m = open_pair(&s, name, sizeof(name));
    wr(s, "left\n");
    close(s);
    printf("poll master, the slave closed: %s\n", pollstr(m, POLLIN, -1));
    show("master reads what was left", buf, read_until(m, buf, sizeof(buf), '\n'));
    printf("poll master, all read: %s\n", pollstr(m, POLLIN, -1));
    show("then", buf, read(m, buf, sizeof(buf)));
    close(m);
    printf("/dev/pts/N after the master closed: %s\n", res(open(name, O_RDWR | O_NOCTTY)));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    alarm(60);
    const char *what = argc > 1 ? argv[1] : "basics";
    if (!strcmp(what, "basics"))
        basics();
    else if (!strcmp(what, "jobs"))
        jobs();
    else if (!strcmp(what, "hangup"))
        hangup();
    else
        return 2;
    printf("done\n");
    return 0;
}
