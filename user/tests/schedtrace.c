/* schedtrace run PROG ARGS... | work | errors: the user side of the
 * kernel's scheduling trace (/proc/vigil/schedtrace, kernel/proc/schedtrace.c).
 *
 *   run     clears the trace, runs PROG (PATH searched) as a child, and
 *           when it has exited (a zombie still) prints its own account of
 *           its switches from /proc/PID/task/PID/status, then the trace as
 *           base64 lines ("schedtrace: data ...", "schedtrace: end N
 *           bytes") for harness/trace.py, and exits with PROG's status
 *           (128+N for signal N). `./vigil trace` runs programs this way.
 *   work    a known mix for the tests: a sleeper, a pipe ping-pong pair,
 *           a mutex/condvar ping-pong between two threads, and one CPU-bound
 *           process more than there are CPUs (preempted by the timer); each
 *           child, once exited, prints "work: pid P voluntary V
 *           nonvoluntary N" from /proc before it is reaped.
 *   errors  bad input to the trace file: each line "errors: WHAT: RESULT",
 *           the errno Linux gives such a call on a /proc file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRACE "/proc/vigil/schedtrace"
#define HEADER 56                       /* struct st_header */

static int control(const char *cmd)
{
    int fd = open(TRACE, O_WRONLY);
    if (fd < 0)
        return -errno;
    long r = write(fd, cmd, strlen(cmd));
    int e = r < 0 ? -errno : 0;
    close(fd);
    return e;
}

/* The whole file into *out (malloc'd): its length, or -errno. */
static long slurp(char **out)
{
    int fd = open(TRACE, O_RDONLY);
    if (fd < 0)
        return -errno;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (len == cap)
            b = realloc(b, cap *= 2);
        long r = read(fd, b + len, cap - len);
        if (r < 0) {
            int e = errno;
            close(fd);
            free(b);
            return -e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    *out = b;
    return (long)len;
}

static void dump(const unsigned char *p, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char line[80];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (int g = 0; g < 19 && i < n; g++, i += 3) {     /* 57 bytes: 76 characters */
            unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
            line[k++] = b64[v >> 18 & 63];
            line[k++] = b64[v >> 12 & 63];
            line[k++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
            line[k++] = i + 2 < n ? b64[v & 63] : '=';
        }
        line[k] = 0;
        printf("schedtrace: data %s\n", line);
    }
    printf("schedtrace: end %zu bytes\n", n);
}

/* Once child pid has exited (not reaped): its switches by its own account. */
static void report_switches(const char *who, int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, pid);
    int fd = open(path, O_RDONLY);
    long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        printf("%s: pid %d: no %s (%s)\n", who, pid, path, strerror(errno));
        return;
    }
    buf[n] = 0;
    const char *v = strstr(buf, "\nvoluntary_ctxt_switches:"), *nv = strstr(buf, "\nnonvoluntary_ctxt_switches:");
    if (!v || !nv) {
        printf("%s: pid %d: no switch counts\n", who, pid);
        return;
    }
    printf("%s: pid %d voluntary %ld nonvoluntary %ld\n", who, pid,
           strtol(strchr(v + 1, ':') + 1, NULL, 10), strtol(strchr(nv + 1, ':') + 1, NULL, 10));
}

/* Wait for any child to exit, report it, reap it: its wait status, or -1. */
static int reap_one(const char *who)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0)
        return -1;
    report_switches(who, si.si_pid);
    int status;
    waitpid(si.si_pid, &status, 0);
    return status;
}

static int run(char **argv)
{
    int e = control("clear");
    if (e) {
        printf("schedtrace: cannot clear %s: %s\n", TRACE, strerror(-e));
        return 125;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        printf("schedtrace: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = reap_one("schedtrace");
    char *t;
    long n = slurp(&t);
    if (n < 0) {
        printf("schedtrace: cannot read %s: %s\n", TRACE, strerror((int)-n));
        return 125;
    }
    dump((unsigned char *)t, (size_t)n);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- work ---- */

static void spin(long n)
{
    for (volatile long i = 0; i < n; i++)
        ;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 20;

static void *pong(void *arg)
{
    int me = (int)(long)arg;
    pthread_mutex_lock(&m);
    for (int i = 0; i < rounds; i++) {
        while (turn != me)
            pthread_cond_wait(&cv, &m);
        turn = !me;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

static int work(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int children = 0;
    if (fork() == 0) {                      /* the sleeper */
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        for (int i = 0; i < 5; i++)
            nanosleep(&ts, NULL);
        _exit(0);
    }
    children++;
    int ab[2], ba[2];
    if (pipe(ab) || pipe(ba))
        return 1;
    for (int side = 0; side < 2; side++, children++)
        if (fork() == 0) {                  /* the pipe pair */
            int in = side ? ab[0] : ba[0], out = side ? ba[1] : ab[1];
            char c = 'x';
            for (int i = 0; i < 20; i++) {
                if (side == 0 && write(out, &c, 1) != 1)
                    _exit(1);
                if (read(in, &c, 1) != 1)
                    _exit(1);
                if (side == 1 && write(out, &c, 1) != 1)
                    _exit(1);
            }
            _exit(0);
        }
    close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);
    if (fork() == 0) {                      /* two threads, a mutex and a condvar */
        pthread_t t[2];
        for (long i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, pong, (void *)i);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        _exit(0);
    }
    children++;
    for (long i = 0; i <= ncpu; i++, children++)
        if (fork() == 0) {                  /* CPU-bound: the timer preempts them */
            spin(30 * 1000 * 1000);
            _exit(0);
        }
    int bad = 0;
    for (int i = 0; i < children; i++) {
        int st = reap_one("work");
        bad += st != 0;
    }
    printf("work: %d children, %d failed\n", children, bad);
    return bad != 0;
}

/* ---- errors ---- */

static const char *res(long r)
{
    static char b[64];
    int e = errno;
    if (r >= 0)
        snprintf(b, sizeof(b), "%ld", r);
    else
        snprintf(b, sizeof(b), "%s", e == EFAULT ? "EFAULT" : e == EINVAL ? "EINVAL" : e == EBADF ? "EBADF"
                                     : e == EACCES ? "EACCES" : e == ENOENT ? "ENOENT" : "errno?");
    if (r < 0 && !strcmp(b, "errno?"))
        snprintf(b, sizeof(b), "errno %d", e);
    return b;
}

static int errors(void)
{
    char buf[256];
    int fd = open(TRACE, O_RDONLY);
    printf("errors: read into NULL: %s\n", res(read(fd, NULL, 64)));
    printf("errors: read into the kernel: %s\n", res(read(fd, (void *)0xffffffff80100000ul, 64)));
    printf("errors: pread at offset -1: %s\n", res(pread(fd, buf, 64, -1)));
    printf("errors: lseek to -1: %s\n", res(lseek(fd, -1, SEEK_SET)));
    printf("errors: write to a read-only open: %s\n", res(write(fd, "clear", 5)));
    printf("errors: pread past the end: %s\n", res(pread(fd, buf, 64, 1L << 40)));
    close(fd);
    fd = open(TRACE, O_RDWR);
    printf("errors: write of a bad command: %s\n", res(write(fd, "bogus", 5)));
    printf("errors: write of an empty command: %s\n", res(write(fd, "\n", 1)));
    printf("errors: write from NULL: %s\n", res(write(fd, NULL, 5)));
    printf("errors: write from the kernel: %s\n", res(write(fd, (void *)0xffffffff80100000ul, 5)));
    close(fd);
    /* Off: a clear leaves nothing and nothing comes. Then on again. */
    control("0");
    control("clear");
    sched_yield();
    char *t;
    long n = slurp(&t);
    printf("errors: records while off: %ld\n", n < HEADER ? -1 : (n - HEADER) / 32);
    control("1");
    control("clear");
    n = slurp(&t);
    int ok = n >= HEADER && !memcmp(t, "VIGILST1", 8) && (n - HEADER) % 32 == 0;
    printf("errors: a header and whole records when on: %s\n", ok ? "yes" : "no");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && !strcmp(argv[1], "run"))
        return run(argv + 2);
    if (argc == 2 && !strcmp(argv[1], "work"))
        return work();
    if (argc == 2 && !strcmp(argv[1], "errors"))
        return errors();
    fprintf(stderr, "usage: schedtrace run PROG ARGS... | work | errors\n");
    return 2;
}
