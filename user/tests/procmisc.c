/* procmisc: the smaller process calls, good input and bad, as facts that
 * do not depend on timing or on the machine, so the lines are the same on
 * Vigil and on Linux: syslog(2), get_robust_list, futex_waitv, unshare,
 * vhangup, rt_tgsigqueueinfo and RLIMIT_SIGPENDING, arch_prctl's CPUID,
 * prctl's timer slack and TSC modes. Run as root. `procmisc devices`: the
 * old termio ioctls and random(4)'s entropy count, which need a /dev. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX2_SIZE_U32 2

static const char *en(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case ENOTTY: return "ENOTTY";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOSYS: return "ENOSYS";
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

static void syslog_facts(void)
{
    char buf[64];
    say("syslog(100)", syscall(SYS_syslog, 100, buf, 0));
    say("syslog(READ, NULL)", syscall(SYS_syslog, 2, NULL, 0));
    say("syslog(READ_ALL, len -1)", syscall(SYS_syslog, 3, buf, -1));
    say("syslog(READ_ALL, len 0)", syscall(SYS_syslog, 3, buf, 0));
    say("syslog(CONSOLE_LEVEL 0)", syscall(SYS_syslog, 8, NULL, 0));
    say("syslog(CONSOLE_LEVEL 9)", syscall(SYS_syslog, 8, NULL, 9));
    printf("syslog(SIZE_BUFFER) > 0: %s\n", syscall(SYS_syslog, 10, NULL, 0) > 0 ? "yes" : "no");
    fflush(stdout);
    if (fork() == 0) {
        if (setuid(65534))
            _exit(3);
        say("nobody: syslog(READ)", syscall(SYS_syslog, 2, buf, sizeof(buf)));
        say("nobody: syslog(CLEAR)", syscall(SYS_syslog, 5, NULL, 0));
        say("nobody: syslog(CONSOLE_LEVEL 7)", syscall(SYS_syslog, 8, NULL, 7));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
}

static void robust_facts(void)
{
    static uint64_t head[3];
    uint64_t got = 0;
    size_t len = 0;
    say("set_robust_list(len 23)", syscall(SYS_set_robust_list, head, 23));
    say("set_robust_list(head)", syscall(SYS_set_robust_list, head, 24));
    say("get_robust_list(self)", syscall(SYS_get_robust_list, 0, &got, &len));
    printf("get_robust_list: the head set, len %zu: %s\n", len, got == (uint64_t)(uintptr_t)head ? "yes" : "no");
    say("get_robust_list(len NULL)", syscall(SYS_get_robust_list, 0, &got, NULL));
    say("get_robust_list(head NULL)", syscall(SYS_get_robust_list, 0, NULL, &len));
    say("get_robust_list(unused pid)", syscall(SYS_get_robust_list, 3999999, &got, &len));
    fflush(stdout);
    if (fork() == 0) {
        if (setuid(65534))
            _exit(3);
        say("nobody: get_robust_list(init)", syscall(SYS_get_robust_list, 1, &got, &len));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
}

struct waitv {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
};

static uint32_t words[2];

static void *waker(void *arg)
{
    (void)arg;
    /* Wake the second word until someone is woken (the waiter may not be
     * asleep yet): the answer is the same whatever the timing. */
    struct timespec d = { 0, 1000000 };
    while (syscall(SYS_futex, &words[1], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 1)
        nanosleep(&d, NULL);
    return NULL;
}

static void waitv_facts(void)
{
    struct waitv w[2] = { { 0, (uintptr_t)&words[0], FUTEX2_SIZE_U32 | FUTEX_PRIVATE_FLAG, 0 },
                          { 0, (uintptr_t)&words[1], FUTEX2_SIZE_U32 | FUTEX_PRIVATE_FLAG, 0 } };
    struct timespec past = { 0, 1 };
    say("futex_waitv(flags 1)", syscall(SYS_futex_waitv, w, 2, 1, NULL, CLOCK_MONOTONIC));
    say("futex_waitv(nr 0)", syscall(SYS_futex_waitv, w, 0, 0, NULL, CLOCK_MONOTONIC));
    say("futex_waitv(nr 129)", syscall(SYS_futex_waitv, w, 129, 0, NULL, CLOCK_MONOTONIC));
    say("futex_waitv(NULL)", syscall(SYS_futex_waitv, NULL, 1, 0, NULL, CLOCK_MONOTONIC));
    say("futex_waitv(CLOCK_TAI)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_TAI));
    say("futex_waitv(bad timeout)", syscall(SYS_futex_waitv, w, 2, 0, (void *)16, CLOCK_MONOTONIC));
    say("futex_waitv(bad waiters)", syscall(SYS_futex_waitv, (void *)16, 2, 0, &past, CLOCK_MONOTONIC));
    w[0].flags = FUTEX_PRIVATE_FLAG;
    say("futex_waitv(no size flag)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_MONOTONIC));
    w[0].flags = FUTEX2_SIZE_U32 | FUTEX_PRIVATE_FLAG;
    w[0].reserved = 1;
    say("futex_waitv(reserved set)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_MONOTONIC));
    w[0].reserved = 0;
    w[0].uaddr = (uintptr_t)&words[0] + 1;
    say("futex_waitv(unaligned)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_MONOTONIC));
    w[0].uaddr = 0;
    say("futex_waitv(address 0)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_MONOTONIC));
    w[0].uaddr = (uintptr_t)&words[0];
    w[1].val = 5;
    say("futex_waitv(a word changed)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_MONOTONIC));
    w[1].val = 0;
    say("futex_waitv(deadline past)", syscall(SYS_futex_waitv, w, 2, 0, &past, CLOCK_MONOTONIC));
    pthread_t t;
    pthread_create(&t, NULL, waker, NULL);
    long r = syscall(SYS_futex_waitv, w, 2, 0, NULL, CLOCK_MONOTONIC);
    pthread_join(t, NULL);
    printf("futex_waitv woken by the second word: returned %ld\n", r);
}

static void unshare_facts(void)
{
    say("unshare(-1)", unshare(-1));
    say("unshare(CLONE_FILES)", unshare(CLONE_FILES));
    say("unshare(CLONE_FS)", unshare(CLONE_FS));
    say("unshare(CLONE_SYSVSEM)", unshare(CLONE_SYSVSEM));
    say("unshare(CLONE_THREAD, one thread)", unshare(CLONE_THREAD));
    fflush(stdout);
    if (fork() == 0) {
        if (setuid(65534))
            _exit(3);
        say("nobody: unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS));
        say("nobody: vhangup()", syscall(SYS_vhangup));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
}

static volatile int got_sig, got_val;
static void on_sig(int s, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = s;
    got_val = si->si_value.sival_int;
}

static void sigqueue_facts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_value.sival_int = 42;
    say("rt_tgsigqueueinfo(self)", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, &si));
    printf("handler saw signal %d value %d\n", got_sig, got_val);
    say("rt_tgsigqueueinfo(tgid 0)", syscall(SYS_rt_tgsigqueueinfo, 0, gettid(), SIGUSR1, &si));
    say("rt_tgsigqueueinfo(bad info)", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, (void *)16));
    say("rt_tgsigqueueinfo(wrong tgid)", syscall(SYS_rt_tgsigqueueinfo, 3999999, gettid(), SIGUSR1, &si));
    fflush(stdout);
    pid_t parent = getpid();
    if (fork() == 0) {
        si.si_code = SI_USER;
        say("child: rt_tgsigqueueinfo(parent, SI_USER)",
            syscall(SYS_rt_tgsigqueueinfo, parent, parent, SIGUSR1, &si));
        /* RLIMIT_SIGPENDING 0: a queued real-time signal has no room. */
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_SIGPENDING, &none);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGRTMIN);
        sigprocmask(SIG_BLOCK, &s, NULL);
        say("tgkill(self, SIGRTMIN) with RLIMIT_SIGPENDING 0",
            syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
    signal(SIGUSR1, SIG_DFL);
}

/* A handler's frame that cannot be written (its alternate stack made
 * read-only): the thread gets SIGSEGV instead, which its own handler takes
 * on the ordinary stack, and goes on. */
static volatile int segv_code, usr2_ran;
static void on_segv(int s, siginfo_t *si, void *uc) { (void)s, (void)uc; segv_code = si->si_code; }
static void on_usr2(int s) { (void)s; usr2_ran = 1; }
static char altstack[65536] __attribute__((aligned(4096)));

static void altstack_facts(void)
{
    stack_t st = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
    sigaltstack(&st, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    mprotect(altstack, sizeof(altstack), PROT_READ);
    raise(SIGUSR2);
    mprotect(altstack, sizeof(altstack), PROT_READ | PROT_WRITE);
    printf("a signal whose alternate stack is read-only: handler ran %d, SIGSEGV si_code %d instead\n",
           usr2_ran, segv_code);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    st.ss_flags = SS_DISABLE;
    sigaltstack(&st, NULL);
}

static void device_facts(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    struct { unsigned short f[4]; unsigned char line, cc[8]; } __attribute__((packed)) t;
    say("ioctl(pty, TCGETA)", ioctl(m, TCGETA, &t));
    say("ioctl(pty, TCGETA, bad)", ioctl(m, TCGETA, (void *)16));
    say("ioctl(pty, TCSETA)", ioctl(m, TCSETA, &t));
    close(m);
    int r = open("/dev/urandom", O_RDONLY);
    int n = -1;
    say("ioctl(urandom, RNDGETENTCNT)", ioctl(r, 0x80045200, &n));
    printf("entropy count positive: %s\n", n > 0 ? "yes" : "no");
    close(r);
    int z = open("/dev/null", O_RDONLY);
    say("ioctl(null, RNDGETENTCNT)", ioctl(z, 0x80045200, &n));
    close(z);
}

static void prctl_facts(void)
{
    printf("arch_prctl(ARCH_GET_CPUID): %ld\n", syscall(SYS_arch_prctl, 0x1011, 0));
    say("prctl(PR_SET_TIMERSLACK, 70000)", prctl(PR_SET_TIMERSLACK, 70000));
    printf("prctl(PR_GET_TIMERSLACK): %d\n", prctl(PR_GET_TIMERSLACK));
    fflush(stdout);
    if (fork() == 0) {
        prctl(PR_SET_TIMERSLACK, 0);            /* the child's default is the parent's current */
        printf("child after PR_SET_TIMERSLACK(0): %d\n", prctl(PR_GET_TIMERSLACK));
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
    say("prctl(PR_SET_TSC, 3)", prctl(PR_SET_TSC, 3));
    int mode = 0;
    say("prctl(PR_GET_TSC)", prctl(PR_GET_TSC, &mode));
    printf("tsc mode: %d\n", mode);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_TSC, PR_TSC_SIGSEGV);
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("rdtsc under PR_TSC_SIGSEGV: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "ran");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && !strcmp(argv[1], "devices")) {     /* needs /dev (Vigil's own) */
        device_facts();
        printf("procmisc: done\n");
        return 0;
    }
    syslog_facts();
    robust_facts();
    waitv_facts();
    unshare_facts();
    sigqueue_facts();
    altstack_facts();
    prctl_facts();
    printf("procmisc: done\n");
    return 0;
}
