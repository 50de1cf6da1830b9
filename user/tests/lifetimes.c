/* lifetimes OBJ SEED ROUNDS [DIR]: races as tests (issue 14, "lifetimes
 * across sleeps"). Each round runs in a child process: threads block in a
 * sleeping syscall on one kind of object while siblings take the object away
 * under them (close, dup2 over the descriptor, munmap, the owner's exit), and
 * the round ends in one of three ways: the threads are joined, the process
 * exits with them still asleep (exit_group), or a thread calls execve. The
 * order and timing of every step come from SEED and the round number.
 *
 *   pipe    readers in read() on an empty pipe, writers in write() on a full
 *           one; siblings close and dup2 over both ends
 *   file    readers and writers of a regular file (on ext2 they sleep in
 *           the buffer cache), fsync; siblings close, dup2, reopen, truncate
 *   dir     getdents64 and lseek on a directory while siblings create and
 *           unlink entries in it and close or dup2 over the descriptor
 *   futex   FUTEX_WAIT on a word in an mmap'd page that a sibling unmaps;
 *           FUTEX_LOCK_PI on a lock whose owner thread exits
 *   mm      read() from a pipe into, and write() from, a buffer a sibling
 *           munmaps or makes PROT_NONE meanwhile
 *   all     each of the above in turn
 *
 * Each result must be one Linux could give (a count, or an errno from the
 * short list the case allows); anything else is printed and counted. The
 * last line is "lifetimes: OBJ seed S: R rounds, E bad results" and the
 * exit status 0 only if E is 0. Whether the kernel stayed sound is the
 * harness's half: no panic or exception on the console. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_LOCK_PI      6
#define FUTEX_UNLOCK_PI    7

static char *self_path;
static const char *dir_path = "/tmp";
static _Atomic long bad;
static uint64_t rng_state;

static uint64_t rnd(void)                       /* xorshift64, per round (before threads) */
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void nap_us(long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep(&ts, NULL);
}

/* A result is sane if it is a count, or an errno the case allows. */
static void check(const char *what, long r, int err, const int *allowed)
{
    if (r >= 0)
        return;
    for (; *allowed; allowed++)
        if (err == *allowed)
            return;
    printf("lifetimes: bad result: %s returned %ld errno %d (%s)\n", what, r, err, strerror(err));
    bad++;
}

/* ---- one round: a plan of steps for the siblings, drawn from the seed ---- */

struct sleeper {
    pthread_t t;
    void *(*fn)(void *);
    long arg;
};

#define MAXT 6
static struct sleeper sl[MAXT];
static int nsl;

static void spawn(void *(*fn)(void *), long arg)
{
    sl[nsl].fn = fn;
    sl[nsl].arg = arg;
    pthread_create(&sl[nsl].t, NULL, fn, &sl[nsl]);
    nsl++;
}

/* The end of a round: 0 join everyone, 1 exit with them asleep, 2 exec. */
static void finish(int how)
{
    if (how == 1)
        _exit(0);
    if (how == 2) {
        char *argv[] = { self_path, "exit", NULL };
        execv(self_path, argv);
        printf("lifetimes: bad result: execv %s\n", strerror(errno));
        _exit(1);
    }
    for (int i = 0; i < nsl; i++)
        pthread_join(sl[i].t, NULL);
    _exit(bad ? 1 : 0);
}

/* ---- pipe ---- */
static int pa[2], pb[2];                        /* a: empty (readers sleep), b: full (writers) */

static void *pipe_reader(void *arg)
{
    static const int ok[] = { EBADF, EINTR, 0 };
    char buf[512];
    for (int i = 0; i < 3; i++) {
        long r = read(pa[0], buf, sizeof(buf));
        check("read(pipe)", r, errno, ok);
        if (r <= 0)
            break;
    }
    return arg;
}

static void *pipe_writer(void *arg)
{
    static const int ok[] = { EBADF, EPIPE, EINTR, 0 };
    static char big[80000];
    long r = write(pb[1], big, sizeof(big));
    check("write(pipe)", r, errno, ok);
    return arg;
}

static void round_pipe(int how)
{
    pipe(pa);
    pipe(pb);
    fcntl(pb[1], F_SETFL, O_NONBLOCK);
    static char fill[65536];
    while (write(pb[1], fill, sizeof(fill)) > 0)
        ;
    fcntl(pb[1], F_SETFL, 0);
    int n = 1 + (int)(rnd() % 3);
    for (int i = 0; i < n; i++) {
        spawn(pipe_reader, i);
        spawn(pipe_writer, i);
    }
    /* The siblings' steps, in a seeded order, with seeded pauses. */
    int fds[4] = { pa[0], pa[1], pb[0], pb[1] };
    for (int step = 0; step < 4; step++) {
        nap_us((long)(rnd() % 3000));
        int k = (int)(rnd() % 4);
        switch (rnd() % 3) {
        case 0:
            close(fds[k]);
            break;
        case 1: {                               /* dup2 something else over it */
            int other = open("/", O_RDONLY);
            dup2(other, fds[k]);
            close(other);
            close(fds[k]);
            break;
        }
        default:
            if (k == 1)
                write(pa[1], "x", 1);           /* a reader wakes with data */
            else
                close(fds[k]);
        }
    }
    for (int k = 0; k < 4; k++)
        close(fds[k]);                          /* everyone wakes: EOF, EPIPE */
    finish(how);
}

/* ---- file ---- */
static int ffd;
static char fpath[256];

static void *file_worker(void *arg)
{
    static const int ok[] = { EBADF, EINTR, 0 };
    struct sleeper *s = arg;
    char buf[8192];
    memset(buf, (int)s->arg, sizeof(buf));
    for (int i = 0; i < 8; i++) {
        long r;
        switch ((s->arg + i) % 5) {
        case 0: r = pread(ffd, buf, sizeof(buf), (off_t)(i * 4096)); check("pread", r, errno, ok); break;
        case 1: r = pwrite(ffd, buf, sizeof(buf), (off_t)(i * 8192)); check("pwrite", r, errno, ok); break;
        case 2: r = read(ffd, buf, sizeof(buf)); check("read(file)", r, errno, ok); break;
        case 3: r = write(ffd, buf, sizeof(buf)); check("write(file)", r, errno, ok); break;
        default: r = fsync(ffd); check("fsync", r, errno, (const int[]){ EBADF, EINVAL, 0 }); break;
        }
    }
    return arg;
}

static void round_file(int how)
{
    snprintf(fpath, sizeof(fpath), "%s/lifetimes.%d", dir_path, getpid());
    ffd = open(fpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (ffd < 0) {
        printf("lifetimes: bad result: open %s: %s\n", fpath, strerror(errno));
        bad++;
        _exit(1);
    }
    int n = 2 + (int)(rnd() % 3);
    for (int i = 0; i < n; i++)
        spawn(file_worker, i);
    for (int step = 0; step < 4; step++) {
        nap_us((long)(rnd() % 4000));
        switch (rnd() % 4) {
        case 0:
            close(ffd);
            break;
        case 1: {
            int other = open(fpath, O_RDWR);
            dup2(other, ffd);
            close(other);
            break;
        }
        case 2:
            truncate(fpath, (off_t)(rnd() % 50000));
            break;
        default:
            unlink(fpath);                      /* the inode lives while open */
        }
    }
    unlink(fpath);
    if (how == 0) {
        for (int i = 0; i < nsl; i++)
            pthread_join(sl[i].t, NULL);
        nsl = 0;
    }
    finish(how);
}

/* ---- dir ---- */
static int dfd;
static char dpath[256];

static void *dir_reader(void *arg)
{
    static const int ok[] = { EBADF, ENOTDIR, EINTR, 0 };
    char buf[1024];
    for (int i = 0; i < 12; i++) {
        lseek(dfd, (off_t)(i * 7), SEEK_SET);
        long r = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
        check("getdents64", r, errno, ok);
    }
    return arg;
}

static void *dir_changer(void *arg)
{
    struct sleeper *s = arg;
    char name[300];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "%s/e%ld.%d", dpath, s->arg, i);
        int fd = open(name, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
        if (i % 2)
            unlink(name);
    }
    return arg;
}

static void round_dir(int how)
{
    snprintf(dpath, sizeof(dpath), "%s/lifetimes.d%d", dir_path, getpid());
    mkdir(dpath, 0755);
    dfd = open(dpath, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        spawn(dir_reader, i);
        spawn(dir_changer, i);
    }
    for (int step = 0; step < 3; step++) {
        nap_us((long)(rnd() % 4000));
        if (rnd() % 2) {
            close(dfd);
        } else {
            int other = open(dir_path, O_RDONLY | O_DIRECTORY);
            dup2(other, dfd);
            close(other);
        }
    }
    if (how != 0)
        finish(how);                            /* leftovers are cleaned by the next "all" run */
    for (int i = 0; i < nsl; i++)
        pthread_join(sl[i].t, NULL);
    nsl = 0;
    char name[300];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 10; i += 2) {
            snprintf(name, sizeof(name), "%s/e%d.%d", dpath, c, i);
            unlink(name);
        }
    rmdir(dpath);
    finish(0);
}

/* ---- futex ---- */
static uint32_t *fword;
static _Atomic uint32_t piword;
static _Atomic int pi_taken;

static void *futex_waiter(void *arg)
{
    static const int ok[] = { EAGAIN, EFAULT, ETIMEDOUT, EINTR, 0 };
    struct timespec to = { 0, 20 * 1000 * 1000 };
    long r = syscall(SYS_futex, fword, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0);
    check("FUTEX_WAIT", r, errno, ok);
    return arg;
}

static void *pi_owner(void *arg)
{
    uint32_t zero = 0;
    if (__atomic_compare_exchange_n(&piword, &zero, (uint32_t)gettid(), 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        pi_taken = 1;
    nap_us((long)(((struct sleeper *)arg)->arg));
    return arg;                                 /* exits holding it (or not) */
}

static void *pi_waiter(void *arg)
{
    static const int ok[] = { ESRCH, ETIMEDOUT, EINTR, EDEADLK, 0 };
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 30 * 1000 * 1000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    long r = syscall(SYS_futex, &piword, FUTEX_LOCK_PI, 0, &dl, NULL, 0);
    check("FUTEX_LOCK_PI", r, errno, ok);
    if (r == 0 && (piword & 0x3fffffff) != (uint32_t)gettid()) {
        printf("lifetimes: bad result: FUTEX_LOCK_PI returned 0 but the word is 0x%x\n", piword);
        bad++;
    }
    if (r == 0)
        syscall(SYS_futex, &piword, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    return arg;
}

static void round_futex(int how)
{
    fword = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *fword = 0;
    piword = 0;
    spawn(pi_owner, (long)(rnd() % 5000));
    while (!pi_taken && !piword)
        sched_yield();
    for (int i = 0; i < 2; i++) {
        spawn(futex_waiter, i);
        spawn(pi_waiter, i);
    }
    nap_us((long)(rnd() % 4000));
    switch (rnd() % 3) {
    case 0:
        munmap(fword, 4096);
        break;
    case 1:
        *fword = 1;
        syscall(SYS_futex, fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        break;
    default:
        break;                                  /* they time out */
    }
    if (how == 0) {                             /* reap the exited threads: frees their memory */
        pid_t c = fork();
        if (c == 0)
            _exit(0);
        waitpid(c, NULL, 0);
    }
    finish(how);
}

/* ---- mm ---- */
static char *mbuf;
static int mp[2], mq[2];

static void *mm_reader(void *arg)
{
    static const int ok[] = { EFAULT, EBADF, EINTR, 0 };
    long r = read(mp[0], mbuf + 4096, 8192);
    check("read(pipe) into a buffer being unmapped", r, errno, ok);
    return arg;
}

static void *mm_writer(void *arg)
{
    static const int ok[] = { EFAULT, EBADF, EPIPE, EINTR, 0 };
    long r = write(mq[1], mbuf, 3 * 4096);
    check("write(pipe) from a buffer being unmapped", r, errno, ok);
    return arg;
}

static void round_mm(int how)
{
    mbuf = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(mbuf, 'm', 4 * 4096);
    pipe(mp);
    pipe(mq);
    static char fill[65536 - 4096];
    write(mq[1], fill, sizeof(fill));           /* nearly full: the writer sleeps part way */
    spawn(mm_reader, 0);
    spawn(mm_writer, 0);
    nap_us((long)(rnd() % 3000));
    switch (rnd() % 3) {
    case 0: munmap(mbuf, 4 * 4096); break;
    case 1: mprotect(mbuf, 4 * 4096, PROT_NONE); break;
    default: munmap(mbuf + 4096, 4096); break;
    }
    nap_us((long)(rnd() % 2000));
    static char data[8192];
    write(mp[1], data, sizeof(data));           /* the reader copies into what is left */
    static char sink[65536];
    read(mq[0], sink, sizeof(sink));            /* room: the writer copies from what is left */
    nap_us((long)(rnd() % 2000));
    close(mp[1]);
    close(mq[0]);                               /* the writer wakes (EPIPE or a count) */
    finish(how);
}

static const struct {
    const char *name;
    void (*round)(int how);
} objects[] = {
    { "pipe", round_pipe }, { "file", round_file }, { "dir", round_dir },
    { "futex", round_futex }, { "mm", round_mm },
};

static int run(int o, uint64_t seed, int rounds)
{
    long badrounds = 0;
    for (int r = 0; r < rounds; r++) {
        rng_state = seed * 0x9e3779b97f4a7c15ull + (uint64_t)r * 0xbf58476d1ce4e5b9ull + (uint64_t)o + 1;
        for (int i = 0; i < 4; i++)
            rnd();
        int how = (int)(rnd() % 3);
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            objects[o].round(how);
            _exit(0);
        }
        int st;
        if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("lifetimes: %s round %d (end %d): child status 0x%x\n", objects[o].name, r, how, st);
            badrounds++;
        }
    }
    printf("lifetimes: %s seed %llu: %d rounds, %ld bad results\n", objects[o].name,
           (unsigned long long)seed, rounds, badrounds);
    return badrounds != 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "exit"))
        return 0;                               /* what a round's execve runs */
    if (argc < 4) {
        fprintf(stderr, "usage: lifetimes pipe|file|dir|futex|mm|all SEED ROUNDS [DIR]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    self_path = strchr(argv[0], '/') ? argv[0] : "/bin/lifetimes";
    uint64_t seed = strtoull(argv[2], NULL, 0);
    int rounds = atoi(argv[3]);
    if (argc > 4)
        dir_path = argv[4];
    int failed = 0, found = 0;
    for (int o = 0; o < (int)(sizeof(objects) / sizeof(objects[0])); o++)
        if (!strcmp(argv[1], "all") || !strcmp(argv[1], objects[o].name)) {
            found = 1;
            failed |= run(o, seed, rounds);
        }
    if (!found) {
        fprintf(stderr, "lifetimes: unknown object %s\n", argv[1]);
        return 2;
    }
    return failed;
}
