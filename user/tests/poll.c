/* poll: waiting on many things, as tests/test_poll.py checks it.
 *
 *   poll basic      poll, ppoll, select, pselect6, epoll, eventfd, timerfd
 *                   and signalfd on pipes, files and each other: one line
 *                   per step with its result (a value, revents in hex, or
 *                   an errno name), bad inputs included. Deterministic:
 *                   the host's Linux and Vigil must print the same lines.
 *   poll dev        poll and epoll_ctl on /dev/null, zero, full, random and
 *                   urandom (run directly on the host, against its /dev).
 *   poll race N     two threads ping-pong N rounds through eventfds and
 *                   pipes, each waiting in epoll_wait, poll or select with
 *                   a bounded timeout (5 s); a wait that runs out while its
 *                   fd is readable is a lost wake-up, reported as
 *                   "missed wake-up" (an observation, not a hang).
 *   poll leak N     N rounds of making epolls, eventfds, timerfds,
 *                   signalfds and pipes, tying them together and closing
 *                   them in every order; the kernel's counters from
 *                   /proc/meminfo before and after (as storm prints).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "meminfo.h"

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case EPERM: return "EPERM";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ELOOP: return "ELOOP";
    case EAGAIN: return "EAGAIN";
    case EINTR: return "EINTR";
    case EPIPE: return "EPIPE";
    default: {
        static char b[32];
        snprintf(b, sizeof(b), "errno%d", e);
        return b;
    }
    }
}

/* A result: the value, or the errno's name. */
static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
}

static long raw(long r) { return r; }   /* syscall() already sets errno */

/* poll one fd for everything, without waiting: its revents. */
static int ready(int fd)
{
    struct pollfd p = { fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0 };
    int r = poll(&p, 1, 0);
    return r < 0 ? -errno : p.revents;
}

static void show_ready(const char *what, int fd)
{
    printf("%s: revents 0x%x\n", what, ready(fd));
}

static volatile int hits;
static void on_sig(int s) { (void)s; hits++; }

static void handle(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sig;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

static int blocked(int sig)
{
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    return sigismember(&s, sig);
}

/* An interval timer that fires once after ms (SIGALRM). */
static void alarm_ms(int ms)
{
    struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- pipes under poll ---- */

static void pipes(void)
{
    int p[2];
    char buf[4096];
    pipe2(p, O_NONBLOCK);
    show_ready("pipe empty: read end", p[0]);
    show_ready("pipe empty: write end", p[1]);
    write(p[1], "x", 1);
    show_ready("pipe 1 byte: read end", p[0]);
    memset(buf, 'a', sizeof(buf));
    long total = 1;
    while (write(p[1], buf, sizeof(buf)) > 0)
        total += 4096;
    printf("pipe filled: %ld bytes, write says %s\n", total >= 65536 ? 65536 : total, ename(errno));
    show_ready("pipe full: write end", p[1]);
    read(p[0], buf, 1);
    read(p[0], buf, 4096);
    show_ready("pipe full less 4097: write end", p[1]);
    while (read(p[0], buf, sizeof(buf)) > 0)
        ;
    write(p[1], "y", 1);
    close(p[1]);
    show_ready("writer gone, 1 byte left: read end", p[0]);
    read(p[0], buf, 1);
    show_ready("writer gone, empty: read end", p[0]);
    struct pollfd none = { p[0], 0, 0 };
    int got = poll(&none, 1, 0);
    printf("events 0 on a hung-up pipe: %d revents 0x%x\n", got, none.revents);
    close(p[0]);

    pipe(p);
    close(p[0]);
    show_ready("reader gone: write end", p[1]);
    close(p[1]);

    /* Several fds: ignored (-1), closed (POLLNVAL), a regular file and a
     * directory (always ready). */
    int file = open("/bin/poll", O_RDONLY), dir = open("/", O_RDONLY | O_DIRECTORY);
    pipe(p);
    struct pollfd fds[5] = {
        { -1, POLLIN, 0x7 }, { 99, POLLIN, 0 }, { file, POLLIN | POLLOUT, 0 },
        { dir, POLLIN, 0 }, { p[0], POLLIN, 0 },
    };
    int n = poll(fds, 5, 0);
    printf("poll 5 fds: %d:", n);
    for (int i = 0; i < 5; i++)
        printf(" 0x%x", fds[i].revents);
    printf("\n");
    /* A negative timeout is forever: a ready fd returns at once. */
    fds[4].fd = p[1], fds[4].events = POLLOUT;
    printf("poll timeout -1 with a ready fd: %d\n", poll(&fds[4], 1, -1));
    printf("poll nothing for 20 ms: %d\n", poll(NULL, 0, 20));
    close(file), close(dir), close(p[0]), close(p[1]);
}

/* ---- bad input to poll and ppoll ---- */

static void poll_errors(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct pollfd *big = calloc(rl.rlim_cur + 1, sizeof(*big));
    for (rlim_t i = 0; i <= rl.rlim_cur; i++)
        big[i].fd = -1;
    show("poll nfds = RLIMIT_NOFILE", poll(big, rl.rlim_cur, 0));
    show("poll nfds = RLIMIT_NOFILE + 1", poll(big, rl.rlim_cur + 1, 0));
    free(big);
    show("poll bad pointer", poll((struct pollfd *)8, 1, 0));
    show("poll kernel pointer", poll((struct pollfd *)0xffffffff81000000ul, 1, 0));
    int p[2];
    pipe(p);
    write(p[1], "x", 1);
    struct pollfd one = { p[0], POLLIN, 0 };
    struct timespec ts = { 0, 1000000000 };
    show("ppoll nsec 1e9", raw(syscall(SYS_ppoll, &one, 1, &ts, NULL, 8)));
    ts.tv_sec = -1, ts.tv_nsec = 0;
    show("ppoll sec -1", raw(syscall(SYS_ppoll, &one, 1, &ts, NULL, 8)));
    sigset_t m;
    sigemptyset(&m);
    ts.tv_sec = 0;
    show("ppoll sigsetsize 4", raw(syscall(SYS_ppoll, &one, 1, &ts, &m, 4)));
    show("ppoll sigsetsize 4 without a mask", raw(syscall(SYS_ppoll, &one, 1, &ts, NULL, 4)));
    show("poll nfds with high bits (an unsigned int)", raw(syscall(SYS_poll, &one, (1ul << 32) | 1, 0)));
    show("ppoll bad timespec pointer", raw(syscall(SYS_ppoll, &one, 1, (void *)8, NULL, 8)));
    show("ppoll bad mask pointer", raw(syscall(SYS_ppoll, &one, 1, &ts, (void *)8, 8)));
    /* The raw ppoll writes back the time left: 0 once it ran out. */
    one.fd = p[1], one.events = POLLIN;        /* a write end is never readable */
    ts.tv_sec = 0, ts.tv_nsec = 30000000;
    long r = syscall(SYS_ppoll, &one, 1, &ts, NULL, 8);
    printf("ppoll 30 ms timeout: %ld, left %lld.%09ld\n", r, (long long)ts.tv_sec, ts.tv_nsec);
    close(p[0]), close(p[1]);
}

/* ---- select and pselect6 ---- */

static void selects(void)
{
    int p[2];
    pipe(p);
    fd_set rd, wr;
    FD_ZERO(&rd); FD_ZERO(&wr);
    FD_SET(p[0], &rd); FD_SET(p[1], &wr);
    struct timeval tv = { 0, 0 };
    int n = select(p[1] + 1, &rd, &wr, NULL, &tv);
    printf("select empty pipe: %d read %d write %d\n", n, FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
    write(p[1], "x", 1);
    FD_ZERO(&rd); FD_SET(p[0], &rd);
    tv.tv_sec = 0, tv.tv_usec = 1500000;        /* normalised: 1.5 s */
    n = syscall(SYS_select, p[1] + 1, &rd, NULL, NULL, &tv);
    printf("select ready, usec 1500000: %d read %d, left > 1.4 s: %d\n", n, FD_ISSET(p[0], &rd),
           tv.tv_sec == 1 && tv.tv_usec > 400000);
    FD_ZERO(&rd); FD_SET(p[1], &rd);             /* never readable */
    tv.tv_sec = 0, tv.tv_usec = 30000;
    n = syscall(SYS_select, p[1] + 1, &rd, NULL, NULL, &tv);
    printf("select 30 ms timeout: %d, set %d, left %ld.%06ld\n", n, FD_ISSET(p[1], &rd),
           (long)tv.tv_sec, (long)tv.tv_usec);
    FD_ZERO(&rd); FD_SET(50, &rd);
    tv.tv_sec = 0, tv.tv_usec = 0;
    show("select a closed fd", select(51, &rd, NULL, NULL, &tv));
    show("select nfds -1", select(-1, NULL, NULL, NULL, &tv));
    /* Descriptors past 64: the sets are copied in as nfds bits (LTP's
     * pselect02 passes 128; a set held in one word on the kernel stack
     * overflowed). A ready pipe end at 700, then a closed fd at 900. */
    {
        static uint64_t big[1024 / 64];
        int hi = dup2(p[1], 700);
        memset(big, 0, sizeof(big));
        big[700 / 64] = 1ull << (700 % 64);
        tv.tv_sec = 0, tv.tv_usec = 0;
        int r = syscall(SYS_select, 1024, NULL, big, NULL, &tv);
        printf("select fd 700 of 1024: %d, set %d\n", r, (int)((big[700 / 64] >> (700 % 64)) & 1));
        big[900 / 64] |= 1ull << (900 % 64);
        show("select a closed fd 900 of 1024", raw(syscall(SYS_select, 1024, NULL, big, NULL, &tv)));
        close(hi);
    }
    tv.tv_usec = -1;
    show("select usec -1", raw(syscall(SYS_select, 1, NULL, NULL, NULL, &tv)));
    tv.tv_sec = -1, tv.tv_usec = 0;
    show("select sec -1", raw(syscall(SYS_select, 1, NULL, NULL, NULL, &tv)));
    show("select bad set pointer", raw(syscall(SYS_select, 4, (void *)8, NULL, NULL, NULL)));
    show("select bad timeval pointer", raw(syscall(SYS_select, 1, NULL, NULL, NULL, (void *)8)));
    struct timespec ts = { 0, 1000000000 };
    show("pselect6 nsec 1e9", raw(syscall(SYS_pselect6, 1, NULL, NULL, NULL, &ts, NULL)));
    sigset_t m;
    sigemptyset(&m);
    struct { sigset_t *ss; size_t len; } sg = { &m, 4 };
    ts.tv_nsec = 0;
    show("pselect6 sigsetsize 4", raw(syscall(SYS_pselect6, 1, NULL, NULL, NULL, &ts, &sg)));
    show("pselect6 bad sig struct", raw(syscall(SYS_pselect6, 1, NULL, NULL, NULL, &ts, (void *)8)));
    FD_ZERO(&rd); FD_SET(p[1], &rd);
    ts.tv_sec = 0, ts.tv_nsec = 30000000;
    n = syscall(SYS_pselect6, p[1] + 1, &rd, NULL, NULL, &ts, NULL);
    printf("pselect6 30 ms timeout: %d, left %lld.%09ld\n", n, (long long)ts.tv_sec, ts.tv_nsec);
    close(p[0]), close(p[1]);
}

/* ---- signals: EINTR, no restart, temporary masks ---- */

static void interrupts(void)
{
    int p[2], ep = epoll_create1(0);
    pipe(p);
    struct epoll_event ev = { EPOLLIN, { .u64 = 1 } };
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    handle(SIGALRM, SA_RESTART);
    struct pollfd one = { p[0], POLLIN, 0 };
    hits = 0;
    alarm_ms(50);
    show("poll interrupted (SA_RESTART)", poll(&one, 1, -1));
    alarm_ms(50);
    fd_set rd;
    FD_ZERO(&rd); FD_SET(p[0], &rd);
    show("select interrupted (SA_RESTART)", select(p[0] + 1, &rd, NULL, NULL, NULL));
    alarm_ms(50);
    show("epoll_wait interrupted (SA_RESTART)", epoll_wait(ep, &ev, 1, -1));
    alarm_ms(50);
    struct timespec ts = { 10, 0 };
    show("ppoll interrupted", raw(syscall(SYS_ppoll, &one, 1, &ts, NULL, 8)));
    printf("ppoll left less than 10 s: %d\n", ts.tv_sec < 10);
    printf("handler ran %d times\n", hits);

    /* A temporary mask: SIGUSR1 blocked and pending; the call's mask opens
     * it, the handler runs, and the old mask is back afterwards. */
    handle(SIGUSR1, 0);
    sigset_t open_mask;
    sigemptyset(&open_mask);
    hits = 0;
    block(SIGUSR1, SIG_BLOCK);
    kill(getpid(), SIGUSR1);
    show("ppoll with an unblocking mask", raw(syscall(SYS_ppoll, &one, 1, NULL, &open_mask, 8)));
    printf("  handler %d, blocked after %d\n", hits, blocked(SIGUSR1));
    kill(getpid(), SIGUSR1);
    struct { sigset_t *ss; size_t len; } sg = { &open_mask, 8 };
    FD_ZERO(&rd); FD_SET(p[0], &rd);
    show("pselect6 with an unblocking mask",
         raw(syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, NULL, &sg)));
    printf("  handler %d, blocked after %d\n", hits, blocked(SIGUSR1));
    kill(getpid(), SIGUSR1);
    show("epoll_pwait with an unblocking mask", epoll_pwait(ep, &ev, 1, -1, &open_mask));
    printf("  handler %d, blocked after %d\n", hits, blocked(SIGUSR1));
    /* Not interrupted: the mask comes back at once, the signal stays. */
    write(p[1], "x", 1);
    show("ppoll ready with an unblocking mask", raw(syscall(SYS_ppoll, &one, 1, NULL, &open_mask, 8)));
    printf("  blocked after %d\n", blocked(SIGUSR1));
    block(SIGUSR1, SIG_UNBLOCK);
    printf("  handler %d after unblocking\n", hits);
    close(p[0]), close(p[1]), close(ep);
}

/* ---- eventfd ---- */

static uint64_t efd_get(int fd, long *r)
{
    uint64_t v = 0;
    *r = read(fd, &v, 8);
    return v;
}

static void eventfds(void)
{
    long r;
    int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
    printf("eventfd cloexec: %d\n", fcntl(e, F_GETFD) & FD_CLOEXEC);
    show_ready("eventfd 3", e);
    uint64_t v = efd_get(e, &r);
    printf("eventfd read: %ld %llu\n", r, (unsigned long long)v);
    efd_get(e, &r);
    show("eventfd read at 0", r);
    show_ready("eventfd 0", e);
    v = 5;
    write(e, &v, 8);
    v = 2;
    write(e, &v, 8);
    v = efd_get(e, &r);
    printf("eventfd 5 + 2: %llu\n", (unsigned long long)v);
    v = UINT64_MAX;
    show("eventfd write 2^64-1", write(e, &v, 8));
    v = UINT64_MAX - 1;
    show("eventfd write 2^64-2", write(e, &v, 8));
    show_ready("eventfd at the maximum", e);
    v = 1;
    show("eventfd write past the maximum", write(e, &v, 8));
    show("eventfd write 4 bytes", write(e, &v, 4));
    char small[4];
    show("eventfd read 4 bytes", read(e, small, 4));
    show("eventfd read to a bad pointer", read(e, (void *)8, 8));
    close(e);
    e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    v = efd_get(e, &r);
    printf("semaphore: %llu", (unsigned long long)v);
    v = efd_get(e, &r);
    printf(" %llu", (unsigned long long)v);
    efd_get(e, &r);
    printf(" then %s\n", r < 0 ? ename(errno) : "a value");
    close(e);
    show("eventfd2 bad flags", raw(syscall(SYS_eventfd2, 0, 0x10)));
    show("eventfd (old) is fd", raw(syscall(SYS_eventfd, 7)) >= 0 ? 1 : -1);
}

/* ---- timerfd ---- */

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Expirations of a timer (first after `value`, then every `interval`)
 * `elapsed` nanoseconds after it was armed. */
static long long expirations(long long elapsed, long long value, long long interval)
{
    return elapsed < value ? 0 : 1 + (elapsed - value) / interval;
}

static void timerfds(void)
{
    long r;
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec cur;
    timerfd_gettime(t, &cur);
    printf("timerfd disarmed: %ld.%09ld every %ld.%09ld\n", (long)cur.it_value.tv_sec,
           cur.it_value.tv_nsec, (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    uint64_t v;
    show("timerfd read disarmed", read(t, &v, 8));
    show_ready("timerfd disarmed", t);
    struct itimerspec its = { { 0, 20000000 }, { 0, 50000000 } };
    long long armed_lo = mono_ns();
    timerfd_settime(t, 0, &its, NULL);
    long long armed_hi = mono_ns();
    timerfd_gettime(t, &cur);
    printf("timerfd armed: interval %ld.%09ld, value <= 50 ms: %d\n", (long)cur.it_interval.tv_sec,
           cur.it_interval.tv_nsec, cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 50000000);
    struct timespec nap = { 0, 200000000 };
    long long slept = mono_ns();
    nanosleep(&nap, NULL);
    long long read_lo = mono_ns();
    printf("nanosleep slept at least 200 ms by CLOCK_MONOTONIC: %d\n", read_lo - slept >= 200000000);
    r = read(t, &v, 8);
    long long read_hi = mono_ns();
    /* The count is the expirations between arming and reading: whatever the
     * machine's load, it lies between what the closest and the farthest
     * ends of those two calls allow. */
    long long least = expirations(read_lo - armed_hi, 50000000, 20000000);
    long long most = expirations(read_hi - armed_lo, 50000000, 20000000);
    printf("timerfd 50 ms + 20 ms after 200 ms: read %ld, count >= 8: %d, as the clock says: %d\n",
           r, v >= 8, (long long)v >= least && (long long)v <= most);
    /* Read again at once: EAGAIN, the count having been taken, unless a
     * loaded machine let the next 20 ms expiry pass between the two reads
     * (then a count no more than the clock allows since the first). */
    r = read(t, &v, 8);
    long long again_hi = mono_ns();
    int again_ok = r < 0 ? errno == EAGAIN
                         : r == 8 && (long long)v <= 1 + (again_hi - read_lo) / 20000000;
    printf("timerfd read again at once: EAGAIN or one more expiry the clock allows: %d\n", again_ok);
    struct itimerspec old;
    its.it_value.tv_nsec = 0, its.it_interval.tv_nsec = 0;
    timerfd_settime(t, 0, &its, &old);
    printf("timerfd disarm: old interval %ld.%09ld\n", (long)old.it_interval.tv_sec,
           old.it_interval.tv_nsec);
    close(t);

    /* Blocking: a one-shot 30 ms timer read waits for its one expiration. */
    t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec once = { { 0, 0 }, { 0, 30000000 } };
    timerfd_settime(t, 0, &once, NULL);
    v = 0;
    r = read(t, &v, 8);
    printf("timerfd one-shot blocking read: %ld count %llu\n", r, (unsigned long long)v);
    timerfd_gettime(t, &cur);
    printf("timerfd after one-shot: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    /* An absolute time in the past: expired at once. */
    struct timespec now;
    once.it_value.tv_sec = 0, once.it_value.tv_nsec = 1;   /* 1 ns after boot */
    show("timerfd abstime in the past", timerfd_settime(t, TFD_TIMER_ABSTIME, &once, NULL));
    show_ready("timerfd expired", t);
    read(t, &v, 8);
    printf("timerfd expired count %llu\n", (unsigned long long)v);
    /* REALTIME, absolute, 30 ms ahead, through epoll. */
    close(t);
    t = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
    clock_gettime(CLOCK_REALTIME, &now);
    once.it_value = now;
    once.it_value.tv_nsec += 30000000;
    if (once.it_value.tv_nsec >= 1000000000)
        once.it_value.tv_sec++, once.it_value.tv_nsec -= 1000000000;
    timerfd_settime(t, TFD_TIMER_ABSTIME, &once, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { .u64 = 77 } };
    epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
    memset(&ev, 0, sizeof(ev));
    r = epoll_wait(ep, &ev, 1, 5000);
    printf("realtime timerfd in epoll: %ld events 0x%x data %llu\n", r, ev.events,
           (unsigned long long)ev.data.u64);
    close(ep);

    show("timerfd_create clock 5", timerfd_create(5, 0));
    show("timerfd_create bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
    its.it_value.tv_nsec = 1000000000;
    show("timerfd_settime nsec 1e9", timerfd_settime(t, 0, &its, NULL));
    its.it_value.tv_nsec = 0;
    show("timerfd_settime bad flags", timerfd_settime(t, 4, &its, NULL));
    show("timerfd_settime bad pointer", timerfd_settime(t, 0, (void *)8, NULL));
    show("timerfd_settime bad fd", timerfd_settime(99, 0, &its, NULL));
    show("timerfd_settime on a pipe", timerfd_settime(1, 0, &its, NULL) < 0 && errno == EBADF
         ? 0 : -1);
    int p[2];
    pipe(p);
    show("timerfd_gettime on a pipe", timerfd_gettime(p[0], &cur));
    show("timerfd read 4 bytes", read(t, &v, 4));
    close(p[0]), close(p[1]), close(t);
}

/* ---- signalfd ---- */

static void signalfds(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int s = signalfd(-1, &m, SFD_NONBLOCK);
    struct signalfd_siginfo si[3];
    show("signalfd read, nothing pending", read(s, si, sizeof(si)));
    show_ready("signalfd nothing pending", s);
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    show_ready("signalfd two pending", s);
    long r = read(s, si, sizeof(si));
    printf("signalfd read: %ld bytes", r);
    for (long i = 0; i < r / (long)sizeof(si[0]); i++)
        printf(" [signo %u code %d from me %d]", si[i].ssi_signo, si[i].ssi_code,
               si[i].ssi_pid == (uint32_t)getpid());
    printf("\n");
    show("signalfd read again", read(s, si, sizeof(si)));
    show("signalfd read 64 bytes", read(s, si, 64));
    /* In epoll; and the pending set is what sigpending sees. */
    int ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { .u64 = 5 } };
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    show("signalfd in epoll, nothing", epoll_wait(ep, &ev, 1, 0));
    kill(getpid(), SIGUSR1);
    show("signalfd in epoll, SIGUSR1", epoll_wait(ep, &ev, 1, 1000));
    sigset_t pend;
    sigpending(&pend);
    printf("SIGUSR1 pending: %d\n", sigismember(&pend, SIGUSR1));
    read(s, si, sizeof(si));
    sigpending(&pend);
    printf("SIGUSR1 pending after read: %d\n", sigismember(&pend, SIGUSR1));
    /* A new mask for the same fd. */
    sigdelset(&m, SIGUSR1);
    show("signalfd new mask, same fd", signalfd(s, &m, 0) == s ? 0 : -1);
    kill(getpid(), SIGUSR1);
    show("signalfd SIGUSR1 not in mask", read(s, si, sizeof(si)));
    sigaddset(&m, SIGUSR1);
    signalfd(s, &m, 0);
    long got = read(s, si, sizeof(si));
    printf("signalfd mask back: %ld bytes, signo %u\n", got, si[0].ssi_signo);
    close(ep);
    show("signalfd sizemask 4", raw(syscall(SYS_signalfd4, -1, &m, 4, 0)));
    show("signalfd bad flags", raw(syscall(SYS_signalfd4, -1, &m, 8, 1)));
    show("signalfd bad mask pointer", raw(syscall(SYS_signalfd4, -1, (void *)8, 8, 0)));
    show("signalfd on a bad fd", raw(syscall(SYS_signalfd4, 99, &m, 8, 0)));
    show("signalfd on an epoll fd", raw(syscall(SYS_signalfd4, ep = epoll_create1(0), &m, 8, 0)));
    close(ep), close(s);
    sigprocmask(SIG_UNBLOCK, &m, NULL);
}

/* ---- epoll ---- */

static int wait1(int ep, int ms, struct epoll_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    return epoll_wait(ep, ev, 1, ms);
}

static void show_wait(const char *what, int ep)
{
    struct epoll_event ev;
    int n = wait1(ep, 0, &ev);
    if (n < 0)
        printf("%s: %s\n", what, ename(errno));
    else if (n == 0)
        printf("%s: 0\n", what);
    else
        printf("%s: %d events 0x%x data %llu\n", what, n, ev.events, (unsigned long long)ev.data.u64);
}

static void epolls(void)
{
    show("epoll_create 0", raw(syscall(SYS_epoll_create, 0)));
    show("epoll_create1 bad flags", epoll_create1(1));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll cloexec: %d\n", fcntl(ep, F_GETFD) & FD_CLOEXEC);
    int p[2];
    char c;
    pipe2(p, O_NONBLOCK);
    struct epoll_event ev = { EPOLLIN, { .u64 = 42 } };
    show("add read end", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show("add it again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show_wait("level: empty", ep);
    write(p[1], "ab", 2);
    show_wait("level: data", ep);
    show_wait("level: still data", ep);
    read(p[0], &c, 1);
    show_wait("level: one byte left", ep);
    read(p[0], &c, 1);
    show_wait("level: drained", ep);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 43;
    show("mod to edge", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    write(p[1], "ab", 2);
    show_wait("edge: data", ep);
    show_wait("edge: no new data", ep);
    write(p[1], "c", 1);
    show_wait("edge: more data", ep);
    while (read(p[0], &c, 1) > 0)
        ;
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 44;
    show("mod to oneshot", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    write(p[1], "a", 1);
    show_wait("oneshot: data", ep);
    write(p[1], "b", 1);
    show_wait("oneshot: disabled", ep);
    show("oneshot: rearm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    show_wait("oneshot: rearmed", ep);
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = 45;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    close(p[1]);
    show_wait("writer closed (RDHUP asked)", ep);
    while (read(p[0], &c, 1) > 0)
        ;
    show_wait("writer closed, drained", ep);
    show("del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    show("del again", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    show("mod absent", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    show_wait("nothing watched", ep);
    close(p[0]);

    /* The write end: writable; an item per (file, fd). */
    pipe2(p, O_NONBLOCK);
    ev.events = EPOLLOUT;
    ev.data.u64 = 50;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
    show_wait("write end", ep);
    /* Lifetime: the item lives while the open file lives. */
    int p1dup = dup(p[1]);
    close(p[1]);
    show_wait("write end, its fd closed, a dup open", ep);
    show("del by the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    close(p1dup);
    show_wait("write end, every fd closed", ep);
    close(p[0]);

    /* Bad input to epoll_ctl, in Linux's order of checks. */
    pipe(p);
    int file = open("/bin/poll", O_RDONLY);
    ev.events = EPOLLIN;
    show("ctl on itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    show("ctl a regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
    show("ctl a directory", epoll_ctl(ep, EPOLL_CTL_ADD, open("/", O_RDONLY), &ev));
    show("ctl epfd not an epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
    show("ctl bad epfd", epoll_ctl(99, EPOLL_CTL_ADD, p[0], &ev));
    show("ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
    show("ctl bad op", epoll_ctl(ep, 99, p[0], &ev));
    show("ctl ADD NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], NULL));
    show("ctl bad op NULL event", epoll_ctl(ep, 99, p[0], NULL));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    show("ctl ADD exclusive", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show("ctl MOD exclusive", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    ev.events = EPOLLIN;
    show("ctl MOD an exclusive item", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    show("ctl ADD exclusive oneshot", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
    close(file);

    /* Bad input to epoll_wait. */
    struct epoll_event evs[4];
    show("wait maxevents 0", epoll_wait(ep, evs, 0, 0));
    show("wait maxevents -1", epoll_wait(ep, evs, -1, 0));
    show("wait bad pointer", epoll_wait(ep, (void *)8, 4, 0));
    show("wait kernel pointer", epoll_wait(ep, (void *)0xffffffff81000000ul, 4, 0));
    show("wait not an epoll", epoll_wait(p[0], evs, 4, 0));
    show("wait bad epfd", epoll_wait(99, evs, 4, 0));
    struct timespec ts = { 0, 1000000000 };
    show("pwait2 nsec 1e9", raw(syscall(441, ep, evs, 4, &ts, NULL, 8)));
    ts.tv_nsec = 20000000;
    show("pwait2 20 ms", raw(syscall(441, ep, evs, 4, &ts, NULL, 8)));
    show("pwait2 bad timespec pointer", raw(syscall(441, ep, evs, 4, (void *)8, NULL, 8)));
    sigset_t m;
    sigemptyset(&m);
    show("pwait sigsetsize 4", raw(syscall(SYS_epoll_pwait, ep, evs, 4, 0, &m, 4)));
    show("wait 20 ms, nothing ready", epoll_wait(ep, evs, 4, 20));
    close(p[0]), close(p[1]), close(ep);

    /* Nesting: an epoll is readable while it has a ready item; loops are
     * ELOOP. */
    int outer = epoll_create1(0), inner = epoll_create1(0);
    pipe2(p, O_NONBLOCK);
    ev.events = EPOLLIN;
    ev.data.u64 = 60;
    epoll_ctl(inner, EPOLL_CTL_ADD, p[0], &ev);
    ev.data.u64 = 61;
    show("add inner to outer", epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev));
    show("add outer to inner", epoll_ctl(inner, EPOLL_CTL_ADD, outer, &ev));
    show_wait("outer, nothing", outer);
    show_ready("inner polled, nothing", inner);
    write(p[1], "a", 1);
    show_wait("outer, data in the inner's pipe", outer);
    show_ready("inner polled, data", inner);
    show_wait("inner", inner);
    read(p[0], &c, 1);
    show_wait("outer, drained", outer);
    close(inner);
    show_wait("outer, inner closed", outer);
    close(outer), close(p[0]), close(p[1]);

    /* Many ready at once, and maxevents smaller than that. */
    ep = epoll_create1(0);
    int e[6];
    for (int i = 0; i < 6; i++) {
        e[i] = eventfd(1, 0);
        ev.events = EPOLLIN;
        ev.data.u64 = 100 + i;
        epoll_ctl(ep, EPOLL_CTL_ADD, e[i], &ev);
    }
    int n = epoll_wait(ep, evs, 4, 0);
    printf("six ready, maxevents 4: %d\n", n);
    n = epoll_wait(ep, evs, 4, 0);
    printf("again: %d, all level-triggered ones come back round\n", n);
    uint64_t sum = 0;
    for (int round = 0; round < 3; round++) {
        n = epoll_wait(ep, evs, 4, 0);
        for (int i = 0; i < n; i++)
            sum += evs[i].data.u64;
    }
    printf("three more rounds: data sum %llu\n", (unsigned long long)sum);
    for (int i = 0; i < 6; i++)
        close(e[i]);
    show("all closed", epoll_wait(ep, evs, 4, 0));
    close(ep);

    /* poll and select on an epoll fd. */
    ep = epoll_create1(0);
    int efd = eventfd(0, 0);
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    show_ready("epoll fd, nothing", ep);
    uint64_t one = 1;
    write(efd, &one, 8);
    show_ready("epoll fd, eventfd ready", ep);
    close(efd), close(ep);
}

/* ---- device nodes: which ones epoll takes (run on the host's real /dev) ---- */

static int devs(void)
{
    static const char *const names[] = {
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
    };
    int ep = epoll_create1(0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int fd = open(names[i], O_RDWR);
        struct epoll_event ev = { EPOLLIN | EPOLLOUT, { 0 } };
        int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        printf("%s: poll revents 0x%x, epoll_ctl %s\n", names[i], ready(fd), ename(r ? errno : 0));
        close(fd);
    }
    close(ep);
    return 0;
}

/* ---- two threads: lost wake-ups ---- */

static int ping, pong, pp[2], qq[2];
static volatile int rounds, failed;

/* Wait for fd to be readable by way `how`, at most 5 s; then check. */
static int wait_readable(int ep, int fd, int how, int round)
{
    int n;
    if (how == 0) {
        struct epoll_event ev;
        n = epoll_wait(ep, &ev, 1, 5000);
    } else if (how == 1) {
        struct pollfd p = { fd, POLLIN, 0 };
        n = poll(&p, 1, 5000);
    } else {
        fd_set rd;
        FD_ZERO(&rd); FD_SET(fd, &rd);
        struct timeval tv = { 5, 0 };
        n = select(fd + 1, &rd, NULL, NULL, &tv);
    }
    if (n == 0) {
        struct pollfd p = { fd, POLLIN, 0 };
        int now = poll(&p, 1, 0);
        printf("missed wake-up in round %d (%s): the fd %s readable but the wait ran out\n",
               round, how == 0 ? "epoll_wait" : how == 1 ? "poll" : "select",
               now > 0 ? "was" : "was not even");
        failed = 1;
        return -1;
    }
    return 0;
}

static void drain(int fd, int is_pipe)
{
    char b[16];
    uint64_t v;
    if (is_pipe)
        read(fd, b, 1);
    else
        read(fd, &v, 8);
}

static void *partner(void *arg)
{
    (void)arg;
    int ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { 0 } };
    epoll_ctl(ep, EPOLL_CTL_ADD, ping, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev);
    uint64_t one = 1;
    for (int i = 0; i < rounds && !failed; i++) {
        int use_pipe = i & 1, fd = use_pipe ? pp[0] : ping;
        if (wait_readable(ep, fd, i % 3, i))
            break;
        drain(fd, use_pipe);
        if (use_pipe)
            write(qq[1], "x", 1);
        else
            write(pong, &one, 8);
    }
    close(ep);
    return NULL;
}

static int race(int n)
{
    rounds = n;
    ping = eventfd(0, 0), pong = eventfd(0, 0);
    pipe(pp), pipe(qq);
    pthread_t t;
    pthread_create(&t, NULL, partner, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { 0 } };
    epoll_ctl(ep, EPOLL_CTL_ADD, pong, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, qq[0], &ev);
    uint64_t one = 1;
    int done = 0;
    for (int i = 0; i < n && !failed; i++) {
        int use_pipe = i & 1, fd = use_pipe ? qq[0] : pong;
        if (use_pipe)
            write(pp[1], "x", 1);
        else
            write(ping, &one, 8);
        if (wait_readable(ep, fd, (i + 1) % 3, i))
            break;
        drain(fd, use_pipe);
        done++;
    }
    pthread_join(t, NULL);
    printf("race: %d of %d round trips, %s\n", done, n, failed ? "FAILED" : "no wake-up missed");
    return failed;
}

/* ---- leaks ---- */

static void leak_round(void)
{
    int ep = epoll_create1(0), outer = epoll_create1(0);
    int e = eventfd(0, EFD_NONBLOCK), t = timerfd_create(CLOCK_MONOTONIC, 0);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    int s = signalfd(-1, &m, 0);
    int p[2];
    pipe(p);
    struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
    timerfd_settime(t, 0, &its, NULL);       /* armed when closed */
    struct epoll_event ev = { EPOLLIN, { 0 } };
    epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev);
    uint64_t one = 1;
    write(e, &one, 8);
    struct epoll_event evs[4];
    epoll_wait(ep, evs, 4, 0);
    struct pollfd pf[3] = { { e, POLLIN, 0 }, { p[0], POLLIN, 0 }, { t, POLLIN, 0 } };
    poll(pf, 3, 0);
    /* Close the watched files first half of the time, the epolls first
     * the other half. */
    static int k;
    if (k++ & 1) {
        close(e), close(t), close(s), close(p[0]), close(p[1]);
        close(ep), close(outer);
    } else {
        close(outer), close(ep);
        close(e), close(t), close(s), close(p[0]), close(p[1]);
    }
}

/* The rounds run in a child, so the parent's own memory (stdio, the
 * stack) stays out of the count. */
static void leak_child(int n)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < n; i++)
            leak_round();
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static int leak(int n)
{
    struct snap before, after;
    take(&before);                      /* also warms up stdio's buffers */
    leak_child(4);                      /* first-use allocations */
    take(&before);
    leak_child(n);
    take(&after);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (!strcmp(mode, "race"))
        return race(argc > 2 ? atoi(argv[2]) : 200);
    if (!strcmp(mode, "dev"))
        return devs();
    if (!strcmp(mode, "leak"))
        return leak(argc > 2 ? atoi(argv[2]) : 50);
    pipes();
    poll_errors();
    selects();
    interrupts();
    eventfds();
    timerfds();
    signalfds();
    epolls();
    printf("done\n");
    return 0;
}
