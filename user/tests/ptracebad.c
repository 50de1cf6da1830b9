/* ptracebad - ptrace(2) against bad input and bad timing (issue 16): the
 * answer is Linux's errno or a clean state, never a panic, a stuck tracee
 * or memory the kernel does not get back.
 *
 *   (no argument)  printed so the host Linux prints the same lines
 *                  (tests/test_ptrace_bad.py compares them):
 *     - PTRACE_ATTACH/SEIZE to pid 1 as uid 1000, to itself, to its own
 *       thread, to a zombie; requests to a process it does not trace
 *     - a tracer SIGKILLed while its tracee sleeps in read(), while it
 *       sits in a syscall stop, and with EXITKILL: the tracee runs
 *       on untraced (or dies with it), and is reaped with its own status
 *     - a tracee SIGKILLed in a signal-delivery stop and in a group stop
 *     - POKEDATA into a tracee's read-only text: the tracee sees it (Linux
 *       writes through a private copy); the tracer (which forked it and so
 *       maps the same page), a fresh exec of the same file and the file
 *       itself do not (isolation)
 *   fuzz SEED N    N rounds of random requests, addresses, data and pids
 *                  against a stopped tracee, itself and others; then the
 *                  tracee must still answer (or be dead) and be reaped, and
 *                  the kernel's free frames and heap must be what they were
 *                  after a warm-up round (Vigil's /proc/meminfo). The rounds
 *                  run in a child, so its own pages are gone too. A fifth
 *                  argument "v" prints each request before it is made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "meminfo.h"

static const char text_msg[] = "original-text";

static const char *errname(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EIO: return "EIO";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

static void expect(const char *what, long r)
{
    printf("%s: %s\n", what, r == -1 ? errname(errno) : "ok");
}

static const char *how_ended(int st)
{
    static char buf[48];
    if (WIFEXITED(st))
        snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, sizeof(buf), "status 0x%x", st);
    return buf;
}

static pid_t thread_tid;
static int thread_go[2];

static void *thread_main(void *arg)
{
    (void)arg;
    thread_tid = (pid_t)syscall(SYS_gettid);
    char c;
    (void)!read(thread_go[0], &c, 1);
    return NULL;
}

static void bad_targets(void)
{
    pid_t u = fork();
    if (u == 0) {
        if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
            _exit(4);
        expect("uid 1000: attach pid 1", ptrace(PTRACE_ATTACH, 1, 0, 0));
        expect("uid 1000: seize pid 1", ptrace(PTRACE_SEIZE, 1, 0, 0));
        _exit(0);
    }
    waitpid(u, NULL, 0);
    expect("attach self", ptrace(PTRACE_ATTACH, getpid(), 0, 0));
    expect("seize self", ptrace(PTRACE_SEIZE, getpid(), 0, 0));
    pthread_t t;
    if (pipe(thread_go) || pthread_create(&t, NULL, thread_main, NULL))
        return;
    while (!__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST))
        sched_yield();
    expect("attach own thread", ptrace(PTRACE_ATTACH, thread_tid, 0, 0));
    (void)!write(thread_go[1], "x", 1);
    pthread_join(t, NULL);

    pid_t z = fork();
    if (z == 0)
        _exit(0);
    siginfo_t si;
    waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT);      /* a zombie now, not reaped */
    expect("attach zombie", ptrace(PTRACE_ATTACH, z, 0, 0));
    expect("seize zombie", ptrace(PTRACE_SEIZE, z, 0, 0));
    expect("peek zombie", ptrace(PTRACE_PEEKDATA, z, (void *)text_msg, 0));
    waitpid(z, NULL, 0);
    expect("attach reaped", ptrace(PTRACE_ATTACH, z, 0, 0));
    expect("cont not traced", ptrace(PTRACE_CONT, getppid(), 0, 0));
    expect("detach not traced", ptrace(PTRACE_DETACH, getppid(), 0, 0));
    expect("interrupt pid 0", ptrace(PTRACE_INTERRUPT, 0, 0, 0));
    expect("kill pid -1", ptrace(PTRACE_KILL, -1, 0, 0));
}

/* A tracee blocked reading a pipe; the tracer (a sibling) dies at a chosen
 * moment; the tracee must go on by itself and exit with the byte it read. */
static void tracer_killed(const char *when)
{
    int data[2], ready[2];
    if (pipe(data) || pipe(ready))
        return;
    pid_t c = fork();
    if (c == 0) {
        unsigned char b = 0;
        close(data[1]);
        if (read(data[0], &b, 1) != 1)
            _exit(99);
        _exit(b);
    }
    close(data[0]);
    pid_t t = fork();
    if (t == 0) {
        int opts = !strcmp(when, "with EXITKILL") ? PTRACE_O_EXITKILL : 0;
        if (ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD | opts))
            _exit(1);
        if (!strcmp(when, "in a syscall stop")) {
            int st;
            ptrace(PTRACE_INTERRUPT, c, 0, 0);
            waitpid(c, &st, 0);                 /* the INTERRUPT's stop */
            ptrace(PTRACE_SYSCALL, c, 0, 0);    /* the read goes on; stop when it is done */
            (void)!write(ready[1], "r", 1);
            waitpid(c, &st, 0);                 /* after the byte came: the exit stop */
            (void)!write(ready[1], WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80) ? "s" : "?",
                         1);
        } else {
            (void)!write(ready[1], "r", 1);
        }
        for (;;)
            pause();
    }
    char r;
    (void)!read(ready[0], &r, 1);
    if (!strcmp(when, "in a syscall stop")) {
        (void)!write(data[1], "\x2a", 1);       /* the read returns: its exit stop */
        (void)!read(ready[0], &r, 1);
        printf("tracer killed %s: tracee was in its stop: %d\n", when, r == 's');
    }
    kill(t, SIGKILL);
    int st;
    waitpid(t, &st, 0);
    if (strcmp(when, "in a syscall stop"))
        (void)!write(data[1], "\x2a", 1);
    waitpid(c, &st, 0);
    printf("tracer killed %s: tracee %s\n", when, how_ended(st));
    close(data[1]);
    close(ready[0]);
    close(ready[1]);
}

static void tracee_killed(const char *where)
{
    pid_t c = fork();
    if (c == 0) {
        raise(SIGSTOP);                         /* until the tracer is there */
        raise(SIGUSR1);
        for (;;)
            pause();
    }
    int st;
    waitpid(c, &st, WUNTRACED);
    ptrace(PTRACE_SEIZE, c, 0, 0);
    kill(c, SIGCONT);
    /* The SIGSTOP's group stop is reported first (SEIZE), then SIGCONT's
     * delivery stop; run on to the SIGUSR1's delivery stop. */
    for (int i = 0; i < 8; i++) {
        waitpid(c, &st, 0);
        if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1 && st >> 16 == 0)
            break;
        ptrace(PTRACE_CONT, c, 0, 0);
    }
    if (!strcmp(where, "in a group stop")) {
        ptrace(PTRACE_CONT, c, 0, SIGSTOP);     /* swap SIGUSR1 for a stop: a group stop */
        waitpid(c, &st, 0);
        printf("tracee in a group stop: event stop %d, signal %d\n",
               st >> 16 == PTRACE_EVENT_STOP, WSTOPSIG(st));
    }
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    printf("tracee killed %s: %s\n", where, how_ended(st));
}

/* POKEDATA into read-only text: a private copy for the tracee only. */
static void poke_text(const char *self)
{
    pid_t c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        printf("poke: the tracee reads %s\n", text_msg);
        _exit(0);
    }
    int st;
    waitpid(c, &st, WUNTRACED);
    ptrace(PTRACE_SEIZE, c, 0, 0);
    waitpid(c, &st, 0);                         /* its group stop, reported to us */
    long w;
    memcpy(&w, "POKED!!!", 8);
    expect("poke read-only text", ptrace(PTRACE_POKEDATA, c, (void *)text_msg, (void *)w));
    errno = 0;
    long back = ptrace(PTRACE_PEEKDATA, c, (void *)text_msg, 0);
    printf("poke: peek gives %.8s\n", (char *)&back);
    kill(c, SIGCONT);
    ptrace(PTRACE_CONT, c, 0, 0);
    for (;;) {                                  /* run it to its end */
        waitpid(c, &st, 0);
        if (!WIFSTOPPED(st))
            break;
        ptrace(PTRACE_CONT, c, 0, 0);
    }
    printf("poke: the tracer (same page before the fork) reads %s\n", text_msg);
    fflush(stdout);
    pid_t e = fork();
    if (e == 0) {
        execl(self, "ptracebad", "print", (char *)NULL);
        _exit(127);
    }
    waitpid(e, NULL, 0);
    /* The file: its bytes where text_msg came from are the original. */
    int fd = open(self, O_RDONLY);
    char buf[65536];
    ssize_t n;
    int found = 0, poked = 0;
    char pat[14];                               /* (made here: not a literal in the file) */
    memcpy(pat, "POKED!!!", 8);
    memcpy(pat + 8, text_msg + 8, 6);
    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
        found += memmem(buf, (size_t)n, text_msg, 13) != NULL;
        poked += memmem(buf, (size_t)n, pat, 13) != NULL;
    }
    if (fd >= 0)
        close(fd);
    printf("poke: the file holds the original %d, the poked bytes %d\n", found > 0, poked);
}

/* ---- fuzz ---- */

static uint64_t rng;
static int verbose;                             /* fuzz ... v: print each request */

static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static uint64_t poison(void)
{
    static const uint64_t vals[] = {
        0, 1, 8, 0xfff, 0x1000, 0x7fffffffefff, 0x7ffffffff000, 0x800000000000,
        0xffff800000000000, 0xffffffff80100000, 0xffffffffffffffff, 0x400000, 0x400003,
        0x555555554000, 848, 856, 904, 0x3fff, 27 * 8, 26 * 8, 0x200, 4096 * 16,
    };
    return next() % 3 ? vals[next() % (sizeof(vals) / sizeof(vals[0]))] : next();
}

static long request(void)
{
    static const long reqs[] = {
        PTRACE_PEEKTEXT, PTRACE_PEEKDATA, PTRACE_PEEKUSER, PTRACE_POKETEXT, PTRACE_POKEDATA,
        PTRACE_POKEUSER, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_GETFPREGS, PTRACE_SETFPREGS,
        PTRACE_GETREGSET, PTRACE_SETREGSET, PTRACE_GETSIGINFO, PTRACE_SETSIGINFO,
        PTRACE_GETEVENTMSG, PTRACE_SETOPTIONS, PTRACE_GET_SYSCALL_INFO, PTRACE_LISTEN,
        PTRACE_INTERRUPT, PTRACE_SINGLESTEP, PTRACE_CONT, PTRACE_SYSCALL, 0x4209, 0x420f,
        0x4210, 0x4211, 0x4212, 25, 26, 0x7777, -1, 1 << 30,
    };
    return next() % 8 ? reqs[next() % (sizeof(reqs) / sizeof(reqs[0]))] : (long)(next() % 0x4300);
}

static bool resumes(long req)
{
    return req == PTRACE_CONT || req == PTRACE_SYSCALL || req == PTRACE_SINGLESTEP ||
           req == PTRACE_DETACH || req == PTRACE_LISTEN || req == 31 || req == 32;  /* SYSEMU */
}

/* One tracee stopped for us: a child that loops on getppid. */
static pid_t new_tracee(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            syscall(SYS_getppid);
    }
    ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD);
    ptrace(PTRACE_INTERRUPT, c, 0, 0);
    int st;
    waitpid(c, &st, 0);
    return c;
}

static int end_tracee(pid_t c)
{
    kill(c, SIGKILL);
    int st, n = 0;
    while (waitpid(c, &st, __WALL) == c && !WIFEXITED(st) && !WIFSIGNALED(st))
        n++;
    return n;
}

static void fuzz_round(int rounds, pid_t self)
{
    pid_t c = new_tracee();
    static uint8_t scratch[8192];
    for (int i = 0; i < rounds; i++) {
        long req = request();
        uint64_t k = next() % 16;
        pid_t pid = k < 11 ? c : k == 11 ? self : k == 12 ? 1 : k == 13 ? 0 : (pid_t)(next() % 70000);
        if (req == PTRACE_TRACEME || req == PTRACE_ATTACH || req == PTRACE_SEIZE ||
            req == 0x4206)
            continue;                           /* (never attach to others, nor ask init to) */
        uint64_t addr = poison(), data = poison();
        if (next() % 2)
            data = (uint64_t)(uintptr_t)scratch + (next() % 2 ? 0 : next() % 4096);
        if (req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) {
            static struct iovec iov;
            iov.iov_base = next() % 2 ? (void *)scratch : (void *)(uintptr_t)poison();
            iov.iov_len = next() % 2 ? 512 : poison();
            data = next() % 4 ? (uint64_t)(uintptr_t)&iov : poison();
            addr = next() % 2 ? 1 + next() % 2 : next() % 0x210;
        }
        if (verbose)
            printf("round %d: ptrace(%ld, %d, %#llx, %#llx)\n", i, req, (int)pid,
                   (unsigned long long)addr, (unsigned long long)data);
        errno = 0;
        long r = ptrace(req, pid, (void *)addr, (void *)data);
        /* A request may have let the tracee run (CONT, SYSCALL, DETACH,
         * LISTEN...) or killed it: collect what it reports, and take it
         * back into a stop (or start a new one if it is gone or detached). */
        bool let_go = pid == c && (req == PTRACE_KILL || (r == 0 && resumes(req)));
        int st;
        pid_t w = waitpid(c, &st, WNOHANG | __WALL);
        if (w == c && (WIFEXITED(st) || WIFSIGNALED(st))) {
            c = new_tracee();
            continue;
        }
        if (w == c || !let_go)
            continue;                           /* stopped */
        if (ptrace(PTRACE_INTERRUPT, c, 0, 0) == 0) {
            waitpid(c, &st, __WALL);
            if (WIFEXITED(st) || WIFSIGNALED(st))
                c = new_tracee();
        } else {                                /* detached or gone: start over */
            end_tracee(c);
            c = new_tracee();
        }
    }
    end_tracee(c);
}

/* The rounds run in a child (whose tracees are its children), so that
 * afterwards everything it and they held is gone: the kernel must then be
 * back where it was. */
static void fuzz_child(uint64_t seed, int rounds)
{
    pid_t f = fork();
    if (f == 0) {
        rng = seed * 2654435761u + 1;
        fuzz_round(rounds, getpid());
        _exit(0);
    }
    int st;
    waitpid(f, &st, 0);
}

static int fuzz(uint64_t seed, int rounds)
{
    struct snap before, after;
    take(&before);                              /* (its own first use of /proc, too) */
    fuzz_child(seed + 1, rounds / 8 + 1);       /* warm-up: the kernel's caches */
    take(&before);
    fuzz_child(seed, rounds);
    take(&after);
    printf("fuzz seed %llu rounds %d done\n", (unsigned long long)seed, rounds);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "print")) {
        printf("poke: a fresh exec reads %s\n", text_msg);
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    verbose = argc > 4 && !strcmp(argv[4], "v");
    if (argc > 3 && !strcmp(argv[1], "fuzz"))
        return fuzz(strtoull(argv[2], NULL, 0), atoi(argv[3]));
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);       /* a tracee EXITKILL ended may have closed its pipe first */
    bad_targets();
    tracer_killed("while the tracee sleeps in read");
    tracer_killed("in a syscall stop");
    tracer_killed("with EXITKILL");
    tracee_killed("in a signal-delivery stop");
    tracee_killed("in a group stop");
    char self[256];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    poke_text(self);
    printf("done\n");
    return 0;
}
