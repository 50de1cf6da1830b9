/* rtqueue: real-time signals are queued, standard ones are not.
 *
 * signal(7): each instance of a real-time signal (SIGRTMIN..SIGRTMAX) is
 * queued with its own siginfo and delivered in order, lower numbers first
 * and, for one number, in the order they were sent; a standard signal sent
 * again while pending is the same one. The queue is bounded by the user's
 * RLIMIT_SIGPENDING: past it sigqueue() fails with EAGAIN (kill() still
 * makes the signal pending, without a siginfo of its own). The queued
 * signals of a process that exits go with it (SigQ in /proc/PID/status
 * counts them). Every line is a fact that does not depend on timing, so
 * the output is compared with the host's Linux line for line. Run as root
 * (or any user: only differences of SigQ are printed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"

static void say(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* The SigQ count of /proc/self/status: signals pending for this user. */
static long sigq(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "SigQ:\t%ld/", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

/* Take every pending signal of set, in the kernel's order, into the line. */
static int drain(const sigset_t *set, char *out, size_t n, int *vals)
{
    struct timespec zero = { 0, 0 };
    siginfo_t si;
    int got = 0;
    out[0] = 0;
    while (sigtimedwait(set, &si, &zero) > 0) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, " %s%d:%d", si.si_signo >= SIGRTMIN ? "RT" : "SIG",
                 si.si_signo >= SIGRTMIN ? si.si_signo - SIGRTMIN : si.si_signo,
                 si.si_code == SI_QUEUE ? si.si_value.sival_int : -1);
        if (vals && got < 64)
            vals[got] = si.si_value.sival_int;
        got++;
    }
    return got;
}

/* Five SIGRTMIN+1 with values 1..5, two SIGRTMIN+2 (10, 11) sent first,
 * two SIGUSR1: sigtimedwait takes SIGUSR1 once, then RT+1 1..5, then RT+2. */
static void order(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN + 1);
    sigaddset(&set, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    long q0 = sigq();
    union sigval v;
    v.sival_int = 10;
    sigqueue(getpid(), SIGRTMIN + 2, v);
    for (int i = 1; i <= 5; i++) {
        v.sival_int = i;
        if (sigqueue(getpid(), SIGRTMIN + 1, v))
            printf("sigqueue RT1 %d: -1 %s\n", i, ename(errno));
    }
    v.sival_int = 11;
    sigqueue(getpid(), SIGRTMIN + 2, v);
    v.sival_int = 99;
    sigqueue(getpid(), SIGUSR1, v);
    sigqueue(getpid(), SIGUSR1, v);
    printf("SigQ grew by %ld (7 real-time, 1 SIGUSR1)\n", sigq() - q0);
    char line[512];
    int vals[64];
    int n = drain(&set, line, sizeof(line), vals);
    printf("sigtimedwait order:%s\n", line);
    int rt1 = 0;
    for (int i = 0; i < n && i < 64; i++)
        rt1 += vals[i] >= 1 && vals[i] <= 5;
    printf("delivered %d of 5 queued SIGRTMIN+1\n", rt1);
    printf("SigQ after taking them: %s\n", sigq() == q0 ? "back" : "not back");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* The same through handlers: each runs with everything blocked, so one
 * handler at a time, in the kernel's order. */
static int seen[64], nseen;
static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (nseen < 64)
        seen[nseen++] = (sig - SIGRTMIN) * 100 + si->si_value.sival_int;
}

static void handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);
    sigaction(SIGRTMIN + 3, &sa, NULL);
    sigaction(SIGRTMIN + 4, &sa, NULL);
    block(SIGRTMIN + 3, SIG_BLOCK);
    block(SIGRTMIN + 4, SIG_BLOCK);
    union sigval v;
    for (int i = 1; i <= 3; i++) {
        v.sival_int = i;
        sigqueue(getpid(), SIGRTMIN + 4, v);
        v.sival_int = 10 + i;
        sigqueue(getpid(), SIGRTMIN + 3, v);
    }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 3);
    sigaddset(&s, SIGRTMIN + 4);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("handler order:");
    for (int i = 0; i < nseen; i++)
        printf(" %d", seen[i]);
    printf("\n");
    signal(SIGRTMIN + 3, SIG_DFL);
    signal(SIGRTMIN + 4, SIG_DFL);
}

/* A thread's own queue: rt_tgsigqueueinfo to one thread, which takes them. */
static pthread_barrier_t bar;
static volatile pid_t taker_tid;
static void *taker(void *arg)
{
    (void)arg;
    taker_tid = (pid_t)syscall(SYS_gettid);
    pthread_barrier_wait(&bar);                 /* main queues them now */
    pthread_barrier_wait(&bar);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 5);
    char line[256];
    drain(&s, line, sizeof(line), NULL);
    printf("thread took:%s\n", line);
    return NULL;
}

static void thread_queue(void)
{
    block(SIGRTMIN + 5, SIG_BLOCK);             /* the thread inherits the mask */
    pthread_t t;
    pthread_barrier_init(&bar, NULL, 2);
    pthread_create(&t, NULL, taker, NULL);
    pthread_barrier_wait(&bar);
    pid_t tid = taker_tid;
    siginfo_t si;
    for (int i = 1; i <= 3; i++) {
        memset(&si, 0, sizeof(si));
        si.si_signo = SIGRTMIN + 5;
        si.si_code = SI_QUEUE;
        si.si_pid = getpid();
        si.si_uid = getuid();
        si.si_value.sival_int = 20 + i;
        if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGRTMIN + 5, &si))
            printf("rt_tgsigqueueinfo: -1 %s\n", ename(errno));
    }
    sigset_t mine;
    sigpending(&mine);
    printf("main thread sees RT5 pending: %d\n", sigismember(&mine, SIGRTMIN + 5));
    pthread_barrier_wait(&bar);
    pthread_join(t, NULL);
    block(SIGRTMIN + 5, SIG_UNBLOCK);
}

/* RLIMIT_SIGPENDING: in a child, the limit set to what is pending now plus
 * 6; sigqueue succeeds 6 times, then EAGAIN, and rt_tgsigqueueinfo too;
 * kill() still succeeds. The child exits with its 6 queued: SigQ is back. */
static void limit(void)
{
    long q0 = sigq();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        block(SIGRTMIN + 6, SIG_BLOCK);
        block(SIGRTMIN + 7, SIG_BLOCK);
        long base = sigq();
        struct rlimit rl = { (rlim_t)base + 6, (rlim_t)base + 6 };
        setrlimit(RLIMIT_SIGPENDING, &rl);
        union sigval v = { .sival_int = 0 };
        int ok = 0, err = 0;
        for (int i = 0; i < 10; i++) {
            if (sigqueue(getpid(), SIGRTMIN + 6, v) == 0)
                ok++;
            else
                err = errno;
        }
        printf("sigqueue at RLIMIT_SIGPENDING: %d of 10 queued, then %s\n", ok, ename(err));
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        si.si_signo = SIGRTMIN + 7;
        si.si_code = SI_QUEUE;
        si.si_pid = getpid();
        si.si_uid = getuid();
        say("rt_tgsigqueueinfo past the limit", syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(),
                                                        SIGRTMIN + 7, &si));
        say("kill past the limit", kill(getpid(), SIGRTMIN + 7));
        printf("SigQ at the limit: %s\n", sigq() == base + 6 ? "yes" : "no");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("SigQ after the child exited with its queue: %s\n", sigq() == q0 ? "back" : "leaked");
}

/* F_SETSIG with a real-time signal on two watched directories, one change
 * seen by both: two signals of one number, each with its own si_fd (LTP's
 * fcntl38). */
static volatile int fd_seen[2];
static int dfd[2];
static void on_dn(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    for (int i = 0; i < 2; i++)
        if (si->si_fd == dfd[i])
            fd_seen[i]++;
}

static void dnotify_two(void)
{
    char dir[] = "/tmp/rtqXXXXXX", sub[64];
    if (!mkdtemp(dir))
        return;
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    mkdir(sub, 0700);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_dn;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    dfd[0] = open(dir, O_RDONLY);
    dfd[1] = open(sub, O_RDONLY);
    for (int i = 0; i < 2; i++) {
        fcntl(dfd[i], F_SETSIG, SIGRTMIN + 1);
        fcntl(dfd[i], F_NOTIFY, DN_ATTRIB | DN_MULTISHOT);
    }
    chmod(sub, 0755);
    printf("dnotify on parent and subdir: %d and %d signals\n", fd_seen[0], fd_seen[1]);
    close(dfd[0]), close(dfd[1]);
    rmdir(sub), rmdir(dir);
    signal(SIGRTMIN + 1, SIG_DFL);
}

/* Signals that can be delivered at once all are, before user code runs
 * again (Linux): SIGUSR1 and SIGUSR2 unblocked by one sigprocmask stack
 * two frames, so SIGUSR2's handler runs first, inside SIGUSR1's. And a
 * handler frame that cannot be written (its alternate stack read-only)
 * becomes a SIGSEGV taken at once, on the interrupted code's stack: its
 * handler has run when the raise returns, and nothing is left pending. */
static char order_seen[8];
static int norder;
static void on_usr(int sig)
{
    if (norder < 7)
        order_seen[norder++] = sig == SIGUSR1 ? '1' : '2';
}

static volatile int segv_seen;
static void on_segv(int sig) { (void)sig; segv_seen++; }
static void on_hup(int sig) { (void)sig; }
static char ro_stack[65536] __attribute__((aligned(4096)));

static void at_once(void)
{
    signal(SIGUSR1, on_usr);
    signal(SIGUSR2, on_usr);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, NULL);
    raise(SIGUSR1);
    raise(SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("SIGUSR1 and SIGUSR2 unblocked at once: handlers ran %s\n", order_seen);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);

    stack_t st = { .ss_sp = ro_stack, .ss_size = sizeof(ro_stack), .ss_flags = 0 };
    sigaltstack(&st, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGHUP, &sa, NULL);
    mprotect(ro_stack, sizeof(ro_stack), PROT_READ);
    syscall(SYS_tkill, (pid_t)syscall(SYS_gettid), SIGHUP);
    int seen = segv_seen;                       /* no system call in between */
    sigset_t pend;
    sigpending(&pend);
    printf("SIGHUP's frame on a read-only alternate stack: SIGSEGV handled on return %d, "
           "still pending %d\n", seen, sigismember(&pend, SIGSEGV));
    mprotect(ro_stack, sizeof(ro_stack), PROT_READ | PROT_WRITE);
    st.ss_flags = SS_DISABLE;
    sigaltstack(&st, NULL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGSEGV, SIG_DFL);
}

static void bad(void)
{
    union sigval v = { .sival_int = 0 };
    say("sigqueue signal 65", sigqueue(getpid(), 65, v));
    say("sigqueue signal -1", sigqueue(getpid(), -1, v));
    say("rt_sigqueueinfo bad pointer", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, (void *)16));
    int p[2];
    pipe(p);
    say("F_SETSIG 65", fcntl(p[0], F_SETSIG, 65));
    say("F_SETSIG -1", fcntl(p[0], F_SETSIG, -1));
    say("F_SETSIG SIGRTMAX", fcntl(p[0], F_SETSIG, SIGRTMAX));
    say("F_GETSIG is SIGRTMAX", fcntl(p[0], F_GETSIG) == SIGRTMAX);
    close(p[0]), close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* On the host the program runs chrooted into the initrd's tree, which
     * has no /proc mounted: a /proc of its own, in a mount namespace of its
     * own (nothing is left mounted when it exits). */
    if (access("/proc/self/status", R_OK) && unshare(CLONE_NEWNS) == 0) {
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
        mkdir("/proc", 0555);
        mount("proc", "/proc", "proc", 0, NULL);
    }
    order();
    handlers();
    thread_queue();
    limit();
    dnotify_two();
    at_once();
    bad();
    return 0;
}
