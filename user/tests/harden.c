/* harden: what an attacker's program does to a kernel (issue 14), one case
 * per argument. Each case prints "CASE: ok ..." when the kernel answered as
 * Linux does, or "CASE: FAIL ..." with what it saw, and exits 0 / 1. A kernel
 * that breaks panics instead, and the harness sees no line at all.
 *
 *   pipe-close     a thread blocked in write() on a full pipe; a sibling
 *                  closes both ends: the write returns what it wrote
 *   pi-owner-exit  the owner of a PI futex exits (and is reaped) while main
 *                  waits in FUTEX_LOCK_PI: main takes the lock over
 *   brk-minus-one  brk(-1) leaves the break where it was
 *   prot-none      write() from a PROT_NONE page fails with EFAULT
 *   sleep-forever  nanosleep/futex timeouts near 2^64 ns sleep (saturate)
 *   pid-args       kill(0,0), kill(-1,0) = 0; kill/wait4(INT_MIN) = ESRCH
 *   dir-seek DIR   lseek(dir, 3) then getdents64: entries, no error
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> is not in musl's headers */
#define FUTEX_WAIT_PRIVATE        128
#define FUTEX_LOCK_PI             6
#define FUTEX_WAIT_BITSET_PRIVATE (9 | 128)
#define FUTEX_BITSET_MATCH_ANY    0xffffffff
#define FUTEX_TID_MASK            0x3fffffff

static const char *name;
static const char *self = "/bin/harden";

static int fail(const char *fmt, long a, long b)
{
    printf("%s: FAIL ", name);
    printf(fmt, a, b);
    printf("\n");
    return 1;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- pipe-close ---- */
static int pfd[2];
static volatile long wrote = -2;
static volatile int werr;

static void *writer(void *arg)
{
    static char big[100000];
    long r = write(pfd[1], big, sizeof(big));
    werr = r < 0 ? errno : 0;
    wrote = r;
    return arg;
}

static int pipe_close(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (pipe(pfd))
        return fail("pipe %ld%ld", errno, 0);
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    pause_ms(300);                              /* the writer fills 64 KiB and sleeps */
    close(pfd[0]);
    close(pfd[1]);
    pthread_join(t, NULL);
    /* Linux: the write returns what it wrote (the pipe holds 65536). */
    if (wrote != 65536)
        return fail("write returned %ld (errno %ld), not 65536", wrote, werr);
    printf("%s: ok write returned %ld\n", name, wrote);
    return 0;
}

/* ---- pi-owner-exit ---- */
static _Atomic uint32_t piword;
static _Atomic int owner_ready;

static void *pi_owner(void *arg)
{
    piword = (uint32_t)gettid();
    owner_ready = 1;
    pause_ms(200);                              /* main is asleep in LOCK_PI by now */
    return arg;                                 /* exits holding the lock */
}

static void *reaper(void *arg)
{
    pause_ms(500);                              /* the owner has exited */
    for (int i = 0; i < 4; i++) {               /* creating processes frees dead threads */
        pid_t c = fork();
        if (c == 0)
            _exit(0);
        waitpid(c, NULL, 0);
    }
    return arg;
}

static int pi_owner_exit(void)
{
    pthread_t o, r;
    pthread_create(&o, NULL, pi_owner, NULL);
    while (!owner_ready)
        ;
    pthread_create(&r, NULL, reaper, NULL);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 2;
    long ret = syscall(SYS_futex, &piword, FUTEX_LOCK_PI, 0, &dl, NULL, 0);
    int e = errno;
    pthread_join(r, NULL);
    pthread_join(o, NULL);
    uint32_t w = piword;
    /* Linux hands a dead owner's PI lock to its waiter. */
    if (ret != 0)
        return fail("FUTEX_LOCK_PI returned %ld errno %ld, not 0 (taken over)", ret, e);
    if ((w & FUTEX_TID_MASK) != (uint32_t)gettid())
        return fail("word 0x%lx does not name the new owner %ld", w, gettid());
    printf("%s: ok lock taken over from the dead owner\n", name);
    return 0;
}

/* ---- brk-minus-one ---- */
static int brk_minus_one(void)
{
    long before = syscall(SYS_brk, 0);
    long r = syscall(SYS_brk, -1L);
    long after = syscall(SYS_brk, 0);
    if (r != before || after != before)
        return fail("brk(-1) moved the break (returned 0x%lx, break now 0x%lx)", r, after);
    printf("%s: ok break unchanged\n", name);   /* (the text is still mapped: we print) */
    return 0;
}

/* ---- prot-none ---- */
static int prot_none(void)
{
    int p[2];
    pipe(p);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 'x', 4096);                       /* touched: the frame is there */
    mprotect(m, 4096, PROT_NONE);
    long r = write(p[1], m, 20);
    if (r != -1 || errno != EFAULT)
        return fail("write from a PROT_NONE page returned %ld (errno %ld), not EFAULT", r, errno);
    printf("%s: ok EFAULT\n", name);
    return 0;
}

/* ---- sleep-forever: a child sleeps with a timeout near 2^64 ns ---- */
static int sleeper(int how)
{
    struct timespec huge = { 18446744074, 0 };  /* 2^64 ns + a bit */
    uint32_t word = 0;
    switch (how) {
    case 0:
        nanosleep(&huge, NULL);
        break;
    case 1:
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &huge, NULL, 0);
        break;
    case 2: {
        struct timespec abs = { 18446744074, 0 };
        syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
        break;
    }
    case 3: {
        struct timespec big = { INT64_MAX, 999999999 };
        nanosleep(&big, NULL);
        break;
    }
    }
    _exit(7);                                   /* woke: the timeout wrapped */
}

static int sleep_forever(void)
{
    static const char *what[] = { "nanosleep", "FUTEX_WAIT", "FUTEX_WAIT_BITSET", "nanosleep(INT64_MAX)" };
    pid_t kids[4];
    for (int i = 0; i < 4; i++)
        if ((kids[i] = fork()) == 0)
            sleeper(i);
    pause_ms(2000);                             /* a wrapped deadline fires within 0.3 s */
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        int st;
        if (waitpid(kids[i], &st, WNOHANG) != 0) {
            printf("%s: FAIL %s returned early\n", name, what[i]);
            bad = 1;
        } else {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], &st, 0);
        }
    }
    if (!bad)
        printf("%s: ok all four still asleep\n", name);
    return bad;
}

/* ---- pid-args ---- */
static int pid_args(void)
{
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    int bad = 0;
    struct { long pid; int want; } k[] = {
        { 0, 0 }, { -1, 0 }, { INT_MIN, ESRCH }, { -getpgrp(), 0 }, { getpid(), 0 },
        { 0x3fffffff, ESRCH },
    };
    for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        long r = syscall(SYS_kill, k[i].pid, 0);
        int got = r ? errno : 0;
        if (got != k[i].want) {
            printf("%s: FAIL kill(%ld, 0): errno %d, want %d\n", name, k[i].pid, got, k[i].want);
            bad = 1;
        }
    }
    int st;
    long r = syscall(SYS_wait4, INT_MIN, &st, WNOHANG, NULL);
    if (r != -1 || errno != ESRCH) {
        printf("%s: FAIL wait4(INT_MIN) returned %ld errno %d, want ESRCH\n", name, r, errno);
        bad = 1;
    }
    kill(c, SIGKILL);
    r = waitpid(0, &st, 0);                     /* 0: any child in our process group */
    if (r != c || !WIFSIGNALED(st)) {
        printf("%s: FAIL waitpid(0) returned %ld, want %d\n", name, r, c);
        bad = 1;
    }
    if (!bad)
        printf("%s: ok\n", name);
    return bad;
}

/* ---- dir-seek ---- */
static int dir_seek(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return fail("open %ld%ld", errno, 0);
    int entries = 0;
    struct stat st;
    fstat(fd, &st);
    for (off_t i = 0, off = 0; i < 80; i++, off = i < 64 ? i : st.st_blksize - (80 - i)) {
        /* A small buffer at the end of a page: a read past it would fault. */
        char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(page + 4096, 4096);
        if (lseek(fd, off, SEEK_SET) != off)
            return fail("lseek(dir, %ld) errno %ld", off, errno);
        long n = syscall(SYS_getdents64, fd, page + 4096 - 1024, 1024);
        if (n < 0)
            return fail("getdents64 after lseek(dir, %ld): errno %ld", off, errno);
        entries += n > 0;
        munmap(page, 4096);
    }
    close(fd);
    printf("%s: ok %s entries after every seek\n", name, entries ? "got" : "no");
    return 0;
}

/* ---- pread-offset DIR: pread never borrows the file's own offset ---- */
static int pofd;
static _Atomic int pstop;

static void *preader(void *arg)
{
    static unsigned char buf[65536];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(((1 << 20) + i) % 251);
    while (!pstop) {
        if (arg)
            fsync(pofd);                        /* commits: the pwrites wait for the journal */
        else
            pwrite(pofd, buf, sizeof(buf), 1 << 20);   /* the same bytes again */
        pread(pofd, buf, sizeof(buf), 1 << 20);
    }
    return arg;
}

static int pread_offset(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/pread.dat", dir);
    pofd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    static unsigned char data[2 << 20];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i % 251);
    if (pofd < 0 || write(pofd, data, sizeof(data)) != (long)sizeof(data))
        return fail("setup: errno %ld%ld", errno, 0);
    fsync(pofd);
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, preader, (void *)i);
    int bad = 0;
    for (int round = 0; round < 20 && !bad; round++) {
        lseek(pofd, 0, SEEK_SET);
        for (long at = 0; at < 8192; at += 512) {
            unsigned char b[512];
            long r = read(pofd, b, sizeof(b));
            if (r != 512 || b[0] != (unsigned char)(at % 251)) {
                printf("%s: FAIL read at %ld got %ld bytes starting %u (want %u)\n", name, at, r,
                       b[0], (unsigned)(at % 251));
                bad = 1;
                break;
            }
        }
    }
    pstop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    unlink(path);
    if (!bad)
        printf("%s: ok read() kept its own offset\n", name);
    return bad;
}

/* ---- exec-files: exec unshares a CLONE_FILES table before closing ---- */
static int exec_child(void *arg)
{
    char *argv[] = { (char *)self, "noop", NULL };
    execv(self, argv);
    _exit(9);
    return 0;
}

static int exec_files(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return fail("pipe2 errno %ld%ld", errno, 0);
    static char stack[65536];
    pid_t c = clone(exec_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
    if (c < 0)
        return fail("clone errno %ld%ld", errno, 0);
    int st;
    waitpid(c, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return fail("the child's exec failed: status 0x%lx%ld", st, 0);
    if (fcntl(p[0], F_GETFD) < 0 || fcntl(p[1], F_GETFD) < 0)
        return fail("the sharer's exec closed our close-on-exec pipe (errno %ld)%ld", errno, 0);
    printf("%s: ok our descriptors survive the sharer's exec\n", name);
    return 0;
}

/* ---- umount-busy: EBUSY while a cwd or an open file is inside ---- */
static int umount_busy(void)
{
    if (mount("/dev/vda", "/mnt", "ext3", 0, NULL))
        return fail("mount errno %ld%ld", errno, 0);
    int bad = 0;
    chdir("/mnt");
    if (umount("/mnt") == 0 || errno != EBUSY) {
        printf("%s: FAIL umount with the cwd at the mount's root: %s\n", name, strerror(errno));
        bad = 1;
    }
    chdir("/");
    int fd = open("/mnt", O_RDONLY | O_DIRECTORY);
    if (umount("/mnt") == 0 || errno != EBUSY) {
        printf("%s: FAIL umount with the root open: %s\n", name, strerror(errno));
        bad = 1;
    }
    close(fd);
    fd = open("/mnt/busy.txt", O_WRONLY | O_CREAT, 0644);
    if (umount("/mnt") == 0 || errno != EBUSY) {
        printf("%s: FAIL umount with a file open: %s\n", name, strerror(errno));
        bad = 1;
    }
    close(fd);
    unlink("/mnt/busy.txt");
    if (umount("/mnt")) {
        printf("%s: FAIL umount of an idle file system: %s\n", name, strerror(errno));
        bad = 1;
    }
    if (!bad)
        printf("%s: ok\n", name);
    return bad;
}

/* ---- lseek-limits DIR: positions as Linux checks them ---- */
static int lseek_limits(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/lseek.dat", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "0123456789", 10);
    struct { off_t off; int whence; int want; } c[] = {
        { INT64_MAX, SEEK_SET, EINVAL },        /* past ext2's s_maxbytes */
        { -1, SEEK_SET, EINVAL },
        { -11, SEEK_END, EINVAL },
        { 5, SEEK_SET, 0 },
        { INT64_MAX, SEEK_CUR, EINVAL },        /* 5 + INT64_MAX overflows */
        { INT64_MAX, SEEK_END, EINVAL },
        { 3, 7, EINVAL },                       /* no such whence */
        { 10, SEEK_DATA, ENXIO },
        { 2, SEEK_HOLE, 0 },
        { (off_t)1 << 40, SEEK_SET, 0 },        /* 1 TiB: within s_maxbytes */
    };
    int bad = 0;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        off_t r = lseek(fd, c[i].off, c[i].whence);
        int got = r < 0 ? errno : 0;
        if (got != c[i].want) {
            printf("%s: FAIL lseek(%lld, %d) = %lld errno %d, want %d\n", name, (long long)c[i].off,
                   c[i].whence, (long long)r, got, c[i].want);
            bad = 1;
        }
    }
    close(fd);
    unlink(path);
    if (!bad)
        printf("%s: ok\n", name);
    return bad;
}

/* ---- itimer: setitimer, getitimer and alarm deliver SIGALRM as Linux ---- */
static volatile sig_atomic_t alrm, vtalrm;
static void on_alrm(int sig) { alrm++; (void)sig; }
static void on_vtalrm(int sig) { vtalrm++; (void)sig; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int itimer(void)
{
    int bad = 0;
#define CHECK(c, ...) do { if (!(c)) { printf("%s: FAIL ", name); printf(__VA_ARGS__); printf("\n"); bad = 1; } } while (0)
    signal(SIGALRM, on_alrm);
    alarm(1);
    int r = pause();
    CHECK(r == -1 && errno == EINTR && alrm == 1, "alarm(1) + pause: r %d errno %d alarms %d", r, errno, (int)alrm);
    /* A repeating timer: five signals, then off. */
    struct itimerval iv = { { 0, 20000 }, { 0, 20000 } }, cur;
    alrm = 0;
    CHECK(setitimer(ITIMER_REAL, &iv, NULL) == 0, "setitimer: errno %d", errno);
    while (alrm < 5)
        pause();
    CHECK(getitimer(ITIMER_REAL, &cur) == 0 && cur.it_interval.tv_usec == 20000 &&
          cur.it_value.tv_sec == 0 && cur.it_value.tv_usec <= 20000,
          "getitimer of a running 20 ms timer: interval %ld us, value %ld.%06ld",
          (long)cur.it_interval.tv_usec, (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    getitimer(ITIMER_REAL, &cur);
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 && cur.it_interval.tv_usec == 0,
          "getitimer after cancel: %ld.%06ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
    /* alarm's return: the seconds the old one had left. */
    alarm(5);
    unsigned left = alarm(0);
    CHECK(left == 5, "alarm(5) then alarm(0) returned %u, want 5", left);
    CHECK(alarm(0) == 0, "alarm(0) with none set");
    /* Bad arguments. */
    CHECK(setitimer(5, &iv, NULL) == -1 && errno == EINVAL, "setitimer(5): errno %d", errno);
    struct itimerval badv = { { 0, 0 }, { 0, 1000000 } };
    CHECK(setitimer(ITIMER_REAL, &badv, NULL) == -1 && errno == EINVAL, "usec 1000000: errno %d", errno);
    /* ITIMER_VIRTUAL counts user time: spinning gets SIGVTALRM. */
    signal(SIGVTALRM, on_vtalrm);
    struct itimerval vt = { { 0, 0 }, { 0, 50000 } };
    setitimer(ITIMER_VIRTUAL, &vt, NULL);
    for (double t0 = now_s(); !vtalrm && now_s() - t0 < 20;)
        ;
    CHECK(vtalrm == 1, "ITIMER_VIRTUAL: %d signals after spinning", (int)vtalrm);
    /* With no handler SIGALRM kills. */
    pid_t c = fork();
    if (c == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(1);
        for (;;)
            pause();
    }
    int st;
    waitpid(c, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM, "child with alarm(1): status 0x%x", st);
    if (!bad)
        printf("%s: ok\n", name);
    return bad;
}

/* ---- growsdown: mprotect with PROT_GROWSDOWN on the stack, as Linux ---- */
static int growsdown(void)
{
    volatile char here = 0;
    uintptr_t page = (uintptr_t)&here & ~(uintptr_t)4095;
    int bad = 0;
    if (mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_GROWSDOWN)) {
        printf("%s: FAIL PROT_GROWSDOWN on the stack: %s\n", name, strerror(errno));
        bad = 1;
    }
    here = 1;                                   /* still writable */
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mprotect(m, 4096, PROT_READ | PROT_GROWSDOWN) == 0 || errno != EINVAL) {
        printf("%s: FAIL PROT_GROWSDOWN on an mmap region: %s, want EINVAL\n", name, strerror(errno));
        bad = 1;
    }
    if (mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_GROWSUP) == 0 || errno != EINVAL) {
        printf("%s: FAIL PROT_GROWSUP: %s, want EINVAL\n", name, strerror(errno));
        bad = 1;
    }
    if (!bad)
        printf("%s: ok\n", name);
    return bad;
}

/* ---- oom: a process that touches more memory than there is ---- */
static int oom(void)
{
    pid_t c = fork();
    if (c == 0) {
        size_t len = (size_t)4 << 30;           /* more than the machine has */
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            _exit(3);
        for (size_t i = 0; i < len; i += 4096)
            m[i] = 1;
        _exit(4);
    }
    int st;
    waitpid(c, &st, 0);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
        return fail("the child that exhausted memory ended with status 0x%lx%ld, not SIGKILL", st, 0);
    /* The kernel and this process go on: a fresh child runs. */
    if ((c = fork()) == 0)
        _exit(5);
    waitpid(c, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 5)
        return fail("a child after the OOM kill: status 0x%lx%ld", st, 0);
    printf("%s: ok killed by SIGKILL\n", name);
    return 0;
}

/* ---- futex-fork: a shared futex in private memory is per process ---- */
static int futex_fork(void)
{
    uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *w = 0;
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        struct timespec to = { 1, 0 };
        write(p[1], "w", 1);
        long r = syscall(SYS_futex, w, 0 /* FUTEX_WAIT, shared */, 0, &to, NULL, 0);
        _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
    }
    char x;
    read(p[0], &x, 1);
    pause_ms(200);                              /* the child is waiting */
    long woken = syscall(SYS_futex, w, 1 /* FUTEX_WAKE, shared */, 1, NULL, NULL, 0);
    int st;
    waitpid(c, &st, 0);
    /* Linux: the child's copy is another word (another mm): nobody wakes. */
    if (woken != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return fail("the parent's FUTEX_WAKE woke %ld waiter(s) in its child (status 0x%lx)", woken, st);
    printf("%s: ok\n", name);
    return 0;
}

int main(int argc, char **argv)
{
    name = argc > 1 ? argv[1] : "";
    if (strchr(argv[0], '/'))
        self = argv[0];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(name, "pipe-close"))
        return pipe_close();
    if (!strcmp(name, "pi-owner-exit"))
        return pi_owner_exit();
    if (!strcmp(name, "brk-minus-one"))
        return brk_minus_one();
    if (!strcmp(name, "prot-none"))
        return prot_none();
    if (!strcmp(name, "sleep-forever"))
        return sleep_forever();
    if (!strcmp(name, "pid-args"))
        return pid_args();
    if (!strcmp(name, "futex-fork"))
        return futex_fork();
    if (!strcmp(name, "oom"))
        return oom();
    if (!strcmp(name, "growsdown"))
        return growsdown();
    if (!strcmp(name, "itimer"))
        return itimer();
    if (!strcmp(name, "noop"))
        return 0;
    if (!strcmp(name, "pread-offset"))
        return pread_offset(argc > 2 ? argv[2] : "/tmp");
    if (!strcmp(name, "exec-files"))
        return exec_files();
    if (!strcmp(name, "umount-busy"))
        return umount_busy();
    if (!strcmp(name, "lseek-limits"))
        return lseek_limits(argc > 2 ? argv[2] : "/tmp");
    if (!strcmp(name, "dir-seek"))
        return dir_seek(argc > 2 ? argv[2] : "/");
    fprintf(stderr, "usage: harden CASE\n");
    return 2;
}
