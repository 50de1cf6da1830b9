/* mutants: edge cases that ./vigil mutate showed no other test looked at
 * (docs/mutation.md). Each mode probes one promise at its boundary and
 * prints what it saw; tests/test_mutants.py runs it on Vigil and on the
 * host Linux and wants the same lines.
 *
 *  protnone  memory mapped PROT_NONE (or made so by mprotect after being
 *            touched) cannot be read by the process (SIGSEGV) nor by the
 *            kernel on its behalf (write(2) from it is EFAULT): a region's
 *            protection holds for reads, not only for writes and execution.
 *  args      syscall argument checks: getresuid/getresgid write all four
 *            bytes of each id, and a bad pointer in any of the three places
 *            is EFAULT; rt_sigaction takes signals 1-64 and only an 8-byte
 *            signal set size (else EINVAL); getrandom refuses unknown
 *            flags; openat with an absolute path ignores dirfd, even a bad
 *            one; lseek from SEEK_CUR, and its errors; mprotect past the
 *            top of user space is ENOMEM; mmap without MAP_PRIVATE or
 *            MAP_SHARED is EINVAL; madvise of an unaligned start is EINVAL;
 *            resource limits 0-15 exist (prlimit64, getrlimit); a sleep cut
 *            short by a signal, with a bad pointer for the time left, is
 *            EFAULT; MAP_FIXED_NOREPLACE over a mapping is EEXIST;
 *            sched_setscheduler's priority ranges per policy.
 *  killperm  kill(-1, 0) by a user who may signal no one else is 0 (Linux
 *            skips whom it may not signal), kill(root's pid, 0) EPERM; and
 *            each of kill's four uid rules alone lets a signal through;
 *            setregid to a gid the caller lacks is EPERM.
 *  cputime   CLOCK_PROCESS_CPUTIME_ID counts this process's threads only.
 *  forkoom   (Vigil only) a fork that runs out of frames while copying the
 *            page tables is ENOMEM, and undoes itself.
 *  enosys    three missing syscalls, two of them twice (or the numbers
 *            given): ENOSYS each time (the test checks the kernel reports
 *            each one once).
 *  reboot    (Vigil only) reboot(2) by a non-root user is EPERM; root's
 *            unknown commands are EINVAL.
 *  rrturn    (Vigil only: it spins at a real-time priority) two SCHED_RR
 *            threads of priority 1 on one CPU take turns, and a turn
 *            lasts a whole round-robin quantum (100 ms, as on Linux), not
 *            one timer tick: each thread's CPU time divided by its turns.
 */
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run fn in a child; say how it ended. */
static void in_child(const char *what, void (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

static void read_byte(void *p)
{
    volatile char c = *(volatile char *)p;
    (void)c;
}

static void protnone(void)
{
    char *fresh = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *used = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED || used == MAP_FAILED) {
        perror("mmap");
        _exit(2);
    }
    strcpy(used, "secret");
    printf("mprotect none: %d\n", mprotect(used, 4096, PROT_NONE));
    in_child("read never-touched PROT_NONE", read_byte, fresh);
    in_child("read touched page made PROT_NONE", read_byte, used);
    errno = 0;
    long n = write(1, fresh, 1);
    printf("\nwrite from PROT_NONE: %ld %s\n", n, errno == EFAULT ? "EFAULT" : strerror(errno));
    errno = 0;
    n = write(1, used, 1);
    printf("\nwrite from page made PROT_NONE: %ld %s\n", n,
           errno == EFAULT ? "EFAULT" : strerror(errno));
    printf("mprotect read: %d; reads \"%s\"\n", mprotect(used, 4096, PROT_READ), used);
}

static void on_alarm(int sig) { (void)sig; }

static void args(void)
{
    void *bad = (void *)8;
    const int nrs[2] = { SYS_getresuid, SYS_getresgid };
    for (int k = 0; k < 2; k++) {
        unsigned a = ~0u, b = ~0u, c = ~0u;     /* every byte must be written */
        long ok = syscall(nrs[k], &a, &b, &c);
        long r0 = syscall(nrs[k], bad, &b, &c);
        int e0 = errno;
        long r1 = syscall(nrs[k], &a, bad, &c);
        int e1 = errno;
        long r2 = syscall(nrs[k], &a, &b, bad);
        int e2 = errno;
        printf("%s: %ld -> %x %x %x; bad first %ld %s, second %ld %s, third %ld %s\n",
               k ? "getresgid" : "getresuid", ok, a, b, c, r0, strerror(e0), r1, strerror(e1),
               r2, strerror(e2));
    }
    /* rt_sigaction: signals 1..64, and the kernel's sigset is 8 bytes. */
    unsigned long old[4];
    const struct { int sig; long size; } cases[] = {
        { 0, 8 }, { 1, 8 }, { 64, 8 }, { 65, 8 }, { 10, 4 }, { 10, 16 }, { 10, 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        errno = 0;
        long r = syscall(SYS_rt_sigaction, cases[i].sig, NULL, old, cases[i].size);
        printf("rt_sigaction(%d, size %ld): %ld %s\n", cases[i].sig, cases[i].size, r,
               r ? strerror(errno) : "ok");
    }
    /* getrandom: flags beyond GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE are EINVAL. */
    char buf[16];
    const unsigned flags[] = { 0, 1, 2, 4, 8, 0x100 };
    for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        errno = 0;
        long r = syscall(SYS_getrandom, buf, sizeof(buf), flags[i]);
        printf("getrandom(16, flags %#x): %ld %s\n", flags[i], r, r < 0 ? strerror(errno) : "");
    }
    /* An absolute path ignores dirfd, even one that is bad or not a directory. */
    int file = open("/bin/mutants", O_RDONLY);
    const int dirfds[] = { AT_FDCWD, 1000, file };
    for (unsigned i = 0; i < 3; i++) {
        errno = 0;
        int fd = openat(dirfds[i], "/bin", O_RDONLY | O_DIRECTORY);
        printf("openat(%s, \"/bin\"): %s\n", i == 0 ? "AT_FDCWD" : i == 1 ? "bad fd" : "a file",
               fd >= 0 ? "opened" : strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    /* lseek from the current offset, forwards and back, and before 0. */
    const struct { long off; int whence; const char *name; } seeks[] = {
        { 5, SEEK_SET, "SEEK_SET" }, { 3, SEEK_CUR, "SEEK_CUR" }, { -2, SEEK_CUR, "SEEK_CUR" },
        { -100, SEEK_CUR, "SEEK_CUR" }, { 0, SEEK_CUR, "SEEK_CUR" }, { 7, 99, "whence 99" },
    };
    for (unsigned i = 0; i < sizeof(seeks) / sizeof(seeks[0]); i++) {
        errno = 0;
        long r = lseek(file, seeks[i].off, seeks[i].whence);
        printf("lseek(%ld, %s): %ld %s\n", seeks[i].off, seeks[i].name, r,
               r < 0 ? strerror(errno) : "");
    }
    close(file);
    /* mmap must be told MAP_PRIVATE or MAP_SHARED. */
    errno = 0;
    void *m = mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0);
    printf("mmap with neither private nor shared: %s\n",
           m == MAP_FAILED ? strerror(errno) : "mapped");
    /* madvise wants a page-aligned start. */
    char *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    long ma = madvise(pg + 1, 4096, MADV_NORMAL);
    printf("madvise(unaligned): %ld %s\n", ma, ma ? strerror(errno) : "");
    /* Resource limits 0-15 exist, 16 and -1 do not. */
    const int res[] = { 0, 3, 7, 15, 16, -1 };
    for (unsigned i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
        unsigned long lim[2];
        errno = 0;
        long r = syscall(SYS_prlimit64, 0, res[i], NULL, lim);
        int e = errno;
        errno = 0;
        long g = syscall(SYS_getrlimit, res[i], lim);
        printf("prlimit64(%d): %ld %s; getrlimit: %ld %s\n", res[i], r, r ? strerror(e) : "",
               g, g ? strerror(errno) : "");
    }
    /* A sleep a signal cuts short, with a bad pointer for the time left:
     * EFAULT (nanosleep and clock_nanosleep). */
    struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    const long sleeps[2] = { SYS_nanosleep, SYS_clock_nanosleep };
    for (int i = 0; i < 2; i++) {
        struct timespec five = { 5, 0 };
        alarm(1);
        errno = 0;
        long r = i ? syscall(sleeps[i], CLOCK_MONOTONIC, 0, &five, (void *)8)
                   : syscall(sleeps[i], &five, (void *)8);
        printf("%s cut short, bad rem: %ld %s\n", i ? "clock_nanosleep" : "nanosleep", r,
               r ? strerror(errno) : "");
    }
    /* MAP_FIXED_NOREPLACE over a page already mapped: EEXIST, and the
     * page keeps its contents. */
    pg[0] = 'k';
    errno = 0;
    void *nr = mmap(pg, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("mmap fixed-noreplace over a mapping: %s; page keeps '%c'\n",
           nr == MAP_FAILED ? strerror(errno) : "mapped", pg[0]);
    /* sched_setscheduler's priority ranges: 0 for SCHED_OTHER, 1-99 for
     * the real-time policies (nothing changes on a refusal). */
    const struct { int policy, prio; } pol[] = { { SCHED_OTHER, 5 }, { SCHED_FIFO, 0 },
                                                 { SCHED_RR, 100 }, { SCHED_OTHER, 0 } };
    for (unsigned i = 0; i < 4; i++) {
        struct sched_param sp = { .sched_priority = pol[i].prio };
        errno = 0;
        long r = syscall(SYS_sched_setscheduler, 0, pol[i].policy, &sp);
        printf("sched_setscheduler(policy %d, priority %d): %ld %s\n", pol[i].policy, pol[i].prio,
               r, r ? strerror(errno) : "");
    }
    /* mprotect of a range that runs past the top of user space: ENOMEM. */
    const unsigned long tops[][2] = { { 0x7ffffffff000ul, 8192 }, { 0x1000, ~0ul - 4095 } };
    for (unsigned i = 0; i < 2; i++) {
        errno = 0;
        long r = mprotect((void *)tops[i][0], tops[i][1], PROT_READ);
        printf("mprotect(%#lx, %#lx): %ld %s\n", tops[i][0], tops[i][1], r,
               r ? strerror(errno) : "");
    }
}

/* kill(-1, 0) from a user who may signal nobody else: Linux skips the
 * processes it may not signal and says 0 (ESRCH only if there were none). */
static void killperm(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(1000)) {
            perror("setuid");
            _exit(2);
        }
        errno = 0;
        long r = kill(-1, 0);
        printf("uid 1000: kill(-1, 0) = %ld %s\n", r, r ? strerror(errno) : "");
        errno = 0;
        r = kill(getppid(), 0);
        printf("uid 1000: kill(parent, 0) = %ld %s\n", r, r ? strerror(errno) : "");
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));

    /* Each of kill(2)'s four rules alone: the sender's real or effective
     * uid equals the target's real or saved uid. The target is (2000, 5000,
     * 3000) (real, effective, saved). */
    int ready[2];
    if (pipe(ready))
        _exit(2);
    fflush(stdout);
    pid_t target = fork();
    if (target == 0) {
        if (setresuid(2000, 5000, 3000))
            _exit(2);
        write(ready[1], "x", 1);
        for (;;)
            pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        _exit(2);
    const struct { unsigned r, e; const char *rule; } senders[] = {
        { 2000, 4000, "real = target's real" }, { 3000, 4000, "real = target's saved" },
        { 1000, 2000, "effective = target's real" }, { 1000, 3000, "effective = target's saved" },
        { 1000, 4000, "none" }, { 5000, 5000, "only the target's effective" },
    };
    for (unsigned i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
        fflush(stdout);
        pid_t s = fork();
        if (s == 0) {
            if (setresuid(senders[i].r, senders[i].e, senders[i].r))
                _exit(2);
            errno = 0;
            long r = kill(target, 0);
            printf("kill by %s: %ld %s\n", senders[i].rule, r, r ? strerror(errno) : "");
            fflush(stdout);
            _exit(0);
        }
        waitpid(s, &st, 0);
    }
    kill(target, SIGKILL);
    waitpid(target, &st, 0);

    /* setregid by a non-root user: a gid it does not have is EPERM however
     * it is written (-2 as a 64-bit word is gid 0xfffffffe, as on Linux). */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (setresgid(100, 100, 100) || setresuid(1000, 1000, 1000))
            _exit(2);
        const long gids[] = { -2L, 0xfffffffeL, 200, 100 };
        for (unsigned i = 0; i < 4; i++) {
            errno = 0;
            long r = syscall(SYS_setregid, gids[i], -1L);
            printf("uid 1000: setregid(%ld, -1) = %ld %s\n", gids[i], r, r ? strerror(errno) : "");
        }
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &st, 0);
}

struct turner {
    volatile unsigned long count;
    unsigned long turns;
    double cpu_ms;
    struct turner *other;
};

static volatile int stop;

static void set_rr(int prio)
{
    struct sched_param sp = { .sched_priority = prio };
    if (syscall(SYS_sched_setscheduler, 0, SCHED_RR, &sp)) { /* this thread (musl: ENOSYS) */
        perror("sched_setscheduler");
        _exit(2);
    }
}

static void *turner(void *arg)
{
    struct turner *t = arg;
    set_rr(1);                      /* the lowest real-time priority rotates too */
    unsigned long seen = t->other->count;
    while (!stop) {
        unsigned long now = t->other->count;
        if (now != seen) {          /* the other ran since we last looked */
            seen = now;
            t->turns++;
        }
        t->count++;
    }
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    t->cpu_ms = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    return NULL;
}

static void rrturn(void)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof(one), &one))
        perror("sched_setaffinity");
    set_rr(20);                     /* above the turners: it stops them */
    static struct turner a, b;
    a.other = &b, b.other = &a;
    pthread_t ta, tb;
    pthread_create(&ta, NULL, turner, &a);
    pthread_create(&tb, NULL, turner, &b);
    struct timespec two = { 2, 0 };
    nanosleep(&two, NULL);
    stop = 1;
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    unsigned long turns = a.turns + b.turns + 2;        /* each one's first turn too */
    double per_turn = (a.cpu_ms + b.cpu_ms) / turns;
    printf("rr: %lu and %lu turns, %.0f ms of CPU; a turn lasts %.0f ms\n", a.turns + 1,
           b.turns + 1, a.cpu_ms + b.cpu_ms, per_turn);
    printf("rr: both ran: %s; a turn is a whole quantum (>= 50 ms), not a tick: %s\n",
           a.turns && b.turns ? "yes" : "no", per_turn >= 50 ? "yes" : "no");
}

static long free_frames(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long n = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VigilFreeFrames:", 16))
            n = atol(line + 16);
    if (f)
        fclose(f);
    return n;
}

/* (Vigil only: it reads Vigil's exact free-frame count.) A fork that runs
 * out of frames halfway through copying the page tables fails with ENOMEM
 * and undoes itself: the parent goes on, every frame comes back, and the
 * next fork works. The parent touches one page in each of 512 2-MiB
 * blocks (the child needs as many page-table pages), then fills memory
 * until about 200 frames are left. */
static void forkoom(void)
{
    const size_t block = 2ul << 20, nblocks = 512;
    long start = free_frames();
    char *big = mmap(NULL, block * nblocks, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (big == MAP_FAILED || start < 0) {
        perror("mmap or /proc/meminfo");
        _exit(2);
    }
    for (size_t b = 0; b < nblocks; b++)
        big[b * block] = 1;
    size_t next = 1;                        /* fill the blocks' other pages */
    for (long left = free_frames(); left > 260; left = free_frames()) {
        for (long k = 0; k < (left - 200) / 2 && next < nblocks * 512; k++, next++)
            big[(next % nblocks) * block + (next / nblocks) * 4096] = 1;
    }
    long left = free_frames();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int e = errno;
    if (pid > 0)
        waitpid(pid, NULL, 0);
    printf("fork with %s frames left: %s\n", left > 100 && left < 400 ? "few" : "MANY",
           pid < 0 ? strerror(e) : "it worked");
    munmap(big, block * nblocks);
    long back = free_frames();
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(7);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("afterwards: frames back: %s; fork works: %s\n",
           back >= start - 8 ? "yes" : "no", pid > 0 && WEXITSTATUS(st) == 7 ? "yes" : "no");
}

static double cpu_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CLOCK_PROCESS_CPUTIME_ID sums this process's threads and no one else's:
 * a child that spins 600 ms of CPU does not show in its parent's clock. */
static void cputime(void)
{
    int done[2];
    if (pipe(done))
        _exit(2);
    double before = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        while (cpu_ms(CLOCK_THREAD_CPUTIME_ID) < 600)
            ;
        write(done[1], "x", 1);
        for (;;)
            pause();
    }
    char c;
    if (read(done[0], &c, 1) != 1)  /* asleep while the child spins */
        _exit(2);
    double mine = cpu_ms(CLOCK_PROCESS_CPUTIME_ID) - before;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (cpu_ms(CLOCK_THREAD_CPUTIME_ID) < 100)   /* now spin a little here */
        ;
    double own = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
    printf("process clock while a child spun: %s\n", mine < 300 ? "only mine" : "includes others");
    printf("process clock counts my own spinning: %s\n", own >= 100 ? "yes" : "no");
}

/* Missing syscalls: each is ENOSYS every time, and the kernel reports each
 * one once (183 afs_syscall and 184 tuxcall: Linux never had them either). */
static void enosys(int argc, char **argv)
{
    const long nrs[] = { 183, 184, 183, 184, 185 };
    int n = argc > 2 ? argc - 2 : 5;
    for (int i = 0; i < n; i++) {
        long nr = argc > 2 ? atol(argv[i + 2]) : nrs[i];
        errno = 0;
        long r = syscall(nr);
        printf("syscall(%ld) = %ld %s\n", nr, r, errno == ENOSYS ? "ENOSYS" : strerror(errno));
    }
}

/* (Vigil only: it may power the machine off.) reboot(2) is for root only,
 * and root's unknown commands are EINVAL, not a power-off. */
static void rebootcmd(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(1000))
            _exit(2);
        errno = 0;
        long r = syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL);
        printf("uid 1000: reboot(POWER_OFF) = %ld %s\n", r, r ? strerror(errno) : "");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    const unsigned cmds[] = { 0x1234, 0x89abcdee, 0x01234566 };   /* (0 is CAD_OFF: valid) */
    for (unsigned i = 0; i < 3; i++) {
        errno = 0;
        long r = syscall(SYS_reboot, 0xfee1dead, 672274793, cmds[i], NULL);
        printf("root: reboot(%#x) = %ld %s\n", cmds[i], r, r ? strerror(errno) : "");
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "protnone"))
        protnone();
    else if (!strcmp(mode, "args"))
        args();
    else if (!strcmp(mode, "rrturn"))
        rrturn();
    else if (!strcmp(mode, "killperm"))
        killperm();
    else if (!strcmp(mode, "cputime"))
        cputime();
    else if (!strcmp(mode, "forkoom"))
        forkoom();
    else if (!strcmp(mode, "reboot"))
        rebootcmd();
    else if (!strcmp(mode, "enosys"))
        enosys(argc, argv);
    else {
        fprintf(stderr, "usage: mutants protnone|args|rrturn|killperm|cputime|forkoom|enosys|reboot\n");
        return 2;
    }
    return 0;
}
