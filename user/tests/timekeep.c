/* timekeep: the real-time clock's steering and the timers on every clock.
 *
 * `timekeep errors` changes nothing (safe on a host, compared with Linux):
 * adjtimex's and clock_adjtime's checks (EPERM without root, EINVAL for a
 * bad tick, mode or clock, EFAULT, nothing written back on failure), the
 * CPU-time clocks of other processes and threads, bad timer clocks,
 * clock_nanosleep on a CPU clock, gettimeofday's EFAULT.
 *
 * `timekeep clock` steers Vigil's clock (run it only there): ADJ_SETOFFSET
 * steps real time and not monotonic time; ADJ_FREQUENCY makes real time run
 * faster by what was asked; a leap second inserted at midnight repeats
 * 23:59:59 with the states TIME_INS, TIME_OOP, TIME_WAIT, TIME_OK, and an
 * absolute sleep across it never ends before the clock reads its target; a
 * relative timer on CLOCK_REALTIME does not move when the clock is set;
 * timers on the CPU-time clocks fire after that much CPU time; an overrun
 * count saturates at INT_MAX. Each line is a fact, not a timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *en(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESRCH: return "ESRCH";
    default: return "other";
    }
}

static void say(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: ok\n", what);
}

static long adjtimex_(struct timex *t) { return syscall(SYS_adjtimex, t); }

static int64_t ns_of(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void errors(void)
{
    struct timex t;
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_TICK;
    t.tick = 8999;
    say("adjtimex(tick 8999)", adjtimex_(&t));
    t.tick = 11001;
    say("adjtimex(tick 11001)", adjtimex_(&t));
    memset(&t, 0, sizeof(t));
    t.modes = 0x8000;                                   /* ADJ_ADJTIME alone */
    say("adjtimex(ADJ_ADJTIME alone)", adjtimex_(&t));
    printf("nothing written back: %s\n", t.tai == 0 && t.time.tv_sec == 0 ? "yes" : "no");
    say("adjtimex(bad pointer)", adjtimex_((struct timex *)16));
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_SETOFFSET;
    t.time.tv_usec = 1000000;
    say("adjtimex(SETOFFSET usec 1000000)", adjtimex_(&t));
    t.time.tv_usec = -1;
    say("adjtimex(SETOFFSET usec -1)", adjtimex_(&t));
    memset(&t, 0, sizeof(t));
    say("clock_adjtime(MONOTONIC, read)", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &t));
    say("clock_adjtime(clock 16)", syscall(SYS_clock_adjtime, 16, &t));
    say("clock_adjtime(clock -1)", syscall(SYS_clock_adjtime, -1, &t));
    struct timeval tv;
    say("gettimeofday(tz bad)", syscall(SYS_gettimeofday, &tv, (void *)16));
    struct timespec ts = { 0, 1000 };
    say("clock_nanosleep(THREAD_CPUTIME_ID)",
        syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL));
    say("clock_nanosleep(MONOTONIC_RAW)", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &ts, NULL));
    say("clock_nanosleep(clock 16)", syscall(SYS_clock_nanosleep, 16, 0, &ts, NULL));
    timer_t tid;
    say("timer_create(MONOTONIC_RAW)", syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, NULL, &tid));
    say("timer_create(clock 16)", syscall(SYS_timer_create, 16, NULL, &tid));
    /* CPU-time clocks by id: a process's by its pid, another process's
     * thread clock is not ours to read; a pid that does not exist. */
    clockid_t c;
    clock_getcpuclockid(getpid(), &c);
    say("clock_gettime(own process clock by pid)", clock_gettime(c, &ts));
    clock_getcpuclockid(1, &c);
    say("clock_gettime(init's process clock)", clock_gettime(c, &ts));
    c = (clockid_t)((~(unsigned)1 << 3) | 4 | 2);        /* init's thread clock */
    say("clock_gettime(init's thread clock)", clock_gettime(c, &ts));
    c = (clockid_t)((~(unsigned)3999999 << 3) | 2);
    say("clock_gettime(a pid that does not exist)", clock_gettime(c, &ts));
    c = (clockid_t)((~(unsigned)getpid() << 3) | 3);
    say("clock_gettime(cpu clock kind 3)", clock_gettime(c, &ts));
    say("timer_create(a pid that does not exist)", syscall(SYS_timer_create,
        (clockid_t)((~(unsigned)3999999 << 3) | 2), NULL, &tid));
    fflush(stdout);
    if (fork() == 0) {
        if (setuid(65534))
            _exit(3);
        memset(&t, 0, sizeof(t));
        say("nobody: adjtimex(read)", adjtimex_(&t) >= 0 ? 0 : -1);
        t.modes = ADJ_FREQUENCY;
        say("nobody: adjtimex(ADJ_FREQUENCY)", adjtimex_(&t));
        memset(&t, 0, sizeof(t));
        t.modes = ADJ_OFFSET_SS_READ;
        say("nobody: adjtimex(ADJ_OFFSET_SS_READ)", adjtimex_(&t) >= 0 ? 0 : -1);
        t.modes = ADJ_OFFSET_SINGLESHOT;
        say("nobody: adjtimex(ADJ_OFFSET_SINGLESHOT)", adjtimex_(&t));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
}

/* ---- the clock itself (Vigil only) ---- */

static void set_status(int status, const char *what)
{
    struct timex t;
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_STATUS;
    t.status = status;
    int r = (int)adjtimex_(&t);
    if (what)
        printf("%s: state %d\n", what, r);
}

static int state(void)
{
    struct timex t;
    memset(&t, 0, sizeof(t));
    return (int)adjtimex_(&t);
}

/* A monotonic and a real-time reading taken as nearly at once as this
 * machine allows: of 50 tries, the one with the least monotonic time
 * around the real-time read (a preemption in between would spoil it). */
static void pair(int64_t *mono, int64_t *real)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < 50; i++) {
        int64_t a = ns_of(CLOCK_MONOTONIC), r = ns_of(CLOCK_REALTIME), b = ns_of(CLOCK_MONOTONIC);
        if (b - a < best) {
            best = b - a;
            *mono = a + (b - a) / 2;
            *real = r;
        }
    }
}

static void steer(void)
{
    /* A step: real time moves by 1000 s, monotonic time does not. */
    int64_t m0 = ns_of(CLOCK_MONOTONIC), r0 = ns_of(CLOCK_REALTIME);
    struct timex t;
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_SETOFFSET | ADJ_NANO;
    t.time.tv_sec = 1000;
    say("adjtimex(SETOFFSET +1000 s)", adjtimex_(&t));
    int64_t m1 = ns_of(CLOCK_MONOTONIC), r1 = ns_of(CLOCK_REALTIME);
    int64_t step = (r1 - r0) - (m1 - m0);
    printf("real time stepped by 1000 s: %s\n", step > 999500000000ll && step < 1000500000000ll ? "yes" : "no");
    /* The frequency: +500 ppm, measured over half a second of monotonic time
     * from pairs of readings taken back to back. */
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_FREQUENCY;
    t.freq = 500 << 16;
    say("adjtimex(freq +500 ppm)", adjtimex_(&t));
    int64_t ma, ra, mb, rb;
    pair(&ma, &ra);
    usleep(1000000);
    pair(&mb, &rb);
    double dm = (double)(mb - ma), ppm = ((double)(rb - ra) - dm) / dm * 1e6;
    printf("real time runs faster by 500 ppm: %s\n", ppm > 300 && ppm < 700 ? "yes" : "no");
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_FREQUENCY | ADJ_OFFSET | ADJ_MAXERROR | ADJ_ESTERROR | ADJ_TIMECONST | ADJ_TICK;
    t.freq = -(100 << 16);
    t.offset = 1234;
    t.maxerror = 777;
    t.esterror = 55;
    t.constant = 3;
    t.tick = 10001;
    adjtimex_(&t);
    memset(&t, 0, sizeof(t));
    adjtimex_(&t);
    printf("read back: freq %ld offset %ld maxerror %ld esterror %ld constant %ld tick %ld\n",
           t.freq, t.offset, t.maxerror, t.esterror, t.constant, t.tick);
    memset(&t, 0, sizeof(t));
    t.modes = ADJ_FREQUENCY | ADJ_TICK;
    t.tick = 10000;
    adjtimex_(&t);
}

static void leap(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_t midnight = now.tv_sec - now.tv_sec % 86400 + 86400;
    struct timespec before = { midnight - 2, 500000000 };
    say("clock_settime(23:59:57.5)", clock_settime(CLOCK_REALTIME, &before));
    set_status(STA_PLL, NULL);
    set_status(0, NULL);
    set_status(STA_INS, "STA_INS armed");
    /* Read the clock every 50 ms of monotonic time through midnight: it
     * must go back by a second once, and the states must follow. */
    int seen_oop = 0, back = 0, seen_wait = 0;
    int64_t last = ns_of(CLOCK_REALTIME);
    for (int i = 0; i < 100; i++) {
        struct timespec d = { 0, 50000000 };
        clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
        int64_t r = ns_of(CLOCK_REALTIME);
        int s = state();
        if (r < last)
            back++;
        seen_oop |= s == TIME_OOP;
        seen_wait |= s == TIME_WAIT;
        last = r;
        if (seen_wait)
            break;
    }
    printf("the clock went back once: %s; TIME_OOP seen: %s; TIME_WAIT: %s\n", back == 1 ? "yes" : "no",
           seen_oop ? "yes" : "no", seen_wait ? "yes" : "no");
    set_status(STA_INS, "STA_INS still set after the leap");
    set_status(0, "STA_INS cleared");
    /* An absolute sleep across a leap second ends only once the clock
     * reads its target. */
    before.tv_sec = midnight + 86400 - 1;
    before.tv_nsec = 500000000;
    clock_settime(CLOCK_REALTIME, &before);
    set_status(STA_INS, NULL);
    struct timespec target = { midnight + 86400, 300000000 };
    int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, NULL);
    clock_gettime(CLOCK_REALTIME, &now);
    int early = now.tv_sec < target.tv_sec || (now.tv_sec == target.tv_sec && now.tv_nsec < target.tv_nsec);
    printf("absolute sleep across the leap: %d, ended early: %s\n", r, early ? "yes" : "no");
    set_status(0, NULL);
}

static volatile int fired;
static void on_alarm(int s) { (void)s; fired++; }

static void burn_until(volatile int *flag, int64_t limit_ns)
{
    int64_t start = ns_of(CLOCK_MONOTONIC);
    while (!*flag && ns_of(CLOCK_MONOTONIC) - start < limit_ns)
        ;
}

static void *thread_burn(void *arg)
{
    (void)arg;
    timer_t t;
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t))
        return (void *)1;
    struct itimerspec its = { { 0, 0 }, { 0, 100000000 } };
    timer_settime(t, 0, &its, NULL);
    burn_until(&fired, 20ll * 1000000000);
    int64_t cpu = ns_of(CLOCK_THREAD_CPUTIME_ID);
    printf("thread CPU timer (100 ms): fired %s, after at least 100 ms of the thread's CPU: %s\n",
           fired ? "yes" : "no", cpu >= 100000000 ? "yes" : "no");
    timer_delete(t);
    return NULL;
}

static void timers(void)
{
    signal(SIGUSR1, on_alarm);
    timer_t t;
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    say("timer_create(PROCESS_CPUTIME_ID)", timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &t));
    struct itimerspec its = { { 0, 3000000 }, { 0, 150000000 } }, cur;
    timer_settime(t, 0, &its, NULL);
    timer_gettime(t, &cur);
    printf("interval read back exactly: %s; value at most 150 ms: %s\n",
           cur.it_interval.tv_nsec == 3000000 ? "yes" : "no",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 150000000 ? "yes" : "no");
    fired = 0;
    burn_until(&fired, 20ll * 1000000000);
    int64_t cpu = ns_of(CLOCK_PROCESS_CPUTIME_ID);
    printf("process CPU timer (150 ms): fired %s, after at least 150 ms of CPU: %s\n",
           fired ? "yes" : "no", cpu >= 150000000 ? "yes" : "no");
    timer_delete(t);
    fired = 0;
    pthread_t th;
    pthread_create(&th, NULL, thread_burn, NULL);
    pthread_join(th, NULL);

    /* A relative real-time timer counts monotonic time: setting the clock
     * a day ahead leaves it where it was. */
    say("timer_create(REALTIME)", timer_create(CLOCK_REALTIME, &ev, &t));
    struct itimerspec rel = { { 0, 0 }, { 5, 0 } };
    timer_settime(t, 0, &rel, NULL);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_sec += 86400;
    clock_settime(CLOCK_REALTIME, &now);
    timer_gettime(t, &cur);
    printf("relative real-time timer after the clock moved a day: %s\n",
           cur.it_value.tv_sec >= 4 && cur.it_value.tv_sec <= 5 ? "unmoved" : "moved");
    /* An absolute one set an hour ahead fires at once when the clock gets there. */
    fired = 0;
    struct itimerspec abs = { { 0, 0 }, { now.tv_sec + 3600, 0 } };
    timer_settime(t, TIMER_ABSTIME, &abs, NULL);
    now.tv_sec += 3601;
    clock_settime(CLOCK_REALTIME, &now);
    int64_t s = ns_of(CLOCK_MONOTONIC);
    while (!fired && ns_of(CLOCK_MONOTONIC) - s < 5000000000ll)
        usleep(10000);
    printf("absolute real-time timer when the clock was set past it: %s\n", fired ? "fired" : "silent");
    /* Overruns saturate: a 1 ns period that started long ago. */
    struct itimerspec old = { { 0, 1 }, { 1, 0 } };
    timer_settime(t, TIMER_ABSTIME, &old, NULL);
    fired = 0;
    s = ns_of(CLOCK_MONOTONIC);
    while (!fired && ns_of(CLOCK_MONOTONIC) - s < 5000000000ll)
        usleep(10000);
    printf("overrun of a 1 ns timer that began in 1970: %s\n",
           timer_getoverrun(t) == INT_MAX ? "INT_MAX" : "not capped");
    timer_delete(t);
    signal(SIGUSR1, SIG_DFL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && !strcmp(argv[1], "errors"))
        errors();
    else if (argc > 1 && !strcmp(argv[1], "clock")) {
        struct timespec start;
        clock_gettime(CLOCK_REALTIME, &start);
        steer();
        leap();
        timers();
        clock_settime(CLOCK_REALTIME, &start);
    } else {
        printf("usage: timekeep errors|clock\n");
        return 2;
    }
    printf("timekeep: done\n");
    return 0;
}
