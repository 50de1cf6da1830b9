/* fdgrow - descriptor tables past 1024 (proc/fdtable.c).
 *
 *   fdgrow basic   the same steps on the host's Linux and on Vigil, lines
 *                  compared: RLIMIT_NOFILE raised to 4096 and descriptors
 *                  opened up to it (EMFILE at it), dup2/dup3/F_DUPFD to high
 *                  and out-of-range numbers (EBADF, EINVAL), close_range
 *                  (closing and CLOSE_RANGE_CLOEXEC), fork copying the
 *                  table, exec closing the close-on-exec ones, poll and
 *                  select past 1024, and a hard limit at and past fs.nr_open
 *                  (1048576: EPERM past it, even for root);
 *   fdgrow proc    Vigil only (it writes /proc/sys/fs/nr_open): /proc/PID/fd
 *                  listing more than 1024 descriptors, status FDSize, and
 *                  fs.nr_open as a tunable (bounds, errnos, root only) that
 *                  setrlimit, dup2, fork and unshare(CLONE_FILES) obey;
 *   fdgrow leak    tables grown to 200000 slots, copied by fork and
 *                  unshared, many times: the kernel heap back where it was.
 * Every line says what was asked and what came back. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"
#include "meminfo.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *self;                /* argv[0], for the exec step */

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
    fflush(stdout);
}

static int set_nofile(unsigned long cur, unsigned long max)
{
    struct rlimit rl = { cur, max };
    return setrlimit(RLIMIT_NOFILE, &rl);
}

/* dup(0) until it fails or `cap` more are open: how many, the highest, and
 * why it stopped. A cap keeps a kernel that ignores the limit from opening
 * a million. */
static void fill(const char *what, int cap)
{
    int n = 0, top = -1, fd = 0;
    while (n < cap && (fd = dup(0)) >= 0) {
        n++;
        top = fd > top ? fd : top;
    }
    printf("%s: %d opened, highest %d, then %s\n", what, n, top,
           n == cap ? "the cap (the limit did not stop it)" : ename(errno));
    fflush(stdout);
}

/* Descriptors open below `below` (asked one by one with F_GETFD). */
static int count_open(int below)
{
    int n = 0;
    for (int fd = 0; fd < below; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static int basic(void)
{
    char buf[128];
    show("setrlimit NOFILE 1024 4096", set_nofile(1024, 4096));
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("limits %lu %lu\n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
    fill("fill to the soft limit", 5000);
    show("dup2 0 1023", dup2(0, 1023));
    show("dup2 0 1024 (the limit)", dup2(0, 1024));
    show("dup3 0 1024", dup3(0, 1024, O_CLOEXEC));
    show("dup2 0 -1", dup2(0, -1));
    show("dup2 0 INT_MAX", dup2(0, 0x7fffffff));
    show("dup2 -1 5", dup2(-1, 5));
    show("dup2 5000 5 (not open)", dup2(5000, 5));
    show("F_DUPFD 1024", fcntl(0, F_DUPFD, 1024));
    show("F_DUPFD -1", fcntl(0, F_DUPFD, -1));
    show("F_DUPFD INT_MAX", fcntl(0, F_DUPFD, 0x7fffffff));
    show("F_DUPFD 10 (all taken)", fcntl(0, F_DUPFD, 10));
    int p[2];
    show("pipe at the limit", pipe(p));
    show("close 7", close(7));
    show("close 1024 (never open)", close(1024));
    show("close 100000", close(100000));

    show("raise the soft limit to 4096", set_nofile(4096, 4096));
    fill("fill to 4096", 5000);
    show("dup2 0 4096", dup2(0, 4096));
    show("F_DUPFD 4096", fcntl(0, F_DUPFD, 4096));
    show("close_range 100 3999", syscall(SYS_close_range, 100, 3999, 0));
    printf("open below 4096: %d\n", count_open(4096));
    show("F_DUPFD 50", fcntl(0, F_DUPFD, 50));
    show("F_DUPFD_CLOEXEC 2000", fcntl(0, F_DUPFD_CLOEXEC, 2000));
    show("F_GETFD 2000", fcntl(2000, F_GETFD));
    show("close_range 4000 ~0 CLOEXEC", syscall(SYS_close_range, 4000, ~0u, CLOSE_RANGE_CLOEXEC));
    show("F_GETFD 4095", fcntl(4095, F_GETFD));
    show("F_GETFD 3999 (closed)", fcntl(3999, F_GETFD));
    show("close_range 10 5 (first > last)", syscall(SYS_close_range, 10, 5, 0));
    show("close_range bad flags", syscall(SYS_close_range, 0, 10, 0x80));

    /* A pipe end at a high number, with a byte in it: poll and select see it. */
    if (pipe(p) == 0) {
        write(p[1], "x", 1);
        show("dup2 pipe 3000", dup2(p[0], 3000));
        close(p[0]);
        close(p[1]);
    }
    struct pollfd pf = { 3000, POLLIN, 0 };
    show("poll fd 3000", poll(&pf, 1, 0));
    printf("revents %#x\n", pf.revents);
    struct pollfd *many = calloc(4097, sizeof(*many));
    for (int i = 0; i < 4097; i++)
        many[i].fd = -1;
    show("poll nfds 4096", poll(many, 4096, 0));
    show("poll nfds 4097 (past RLIMIT_NOFILE)", poll(many, 4097, 0));
    free(many);
    unsigned long *rs = calloc(1, 4096 / 8);      /* a 4096-bit set (fd_set holds 1024) */
    rs[3000 / 64] |= 1ul << (3000 % 64);
    struct timeval tv = { 0, 0 };
    show("select 4096 with fd 3000", select(4096, (fd_set *)rs, NULL, NULL, &tv));
    memset(rs, 0, 4096 / 8);
    rs[3500 / 64] |= 1ul << (3500 % 64);
    show("select 4096 with fd 3500 (closed)", select(4096, (fd_set *)rs, NULL, NULL, &tv));
    free(rs);

    /* fork copies the table, numbers, files and close-on-exec bits. */
    pid_t pid = fork();
    if (pid == 0) {
        printf("child: open below 4096: %d, F_GETFD 4095 %d, F_GETFD 2000 %d\n",
               count_open(4096), fcntl(4095, F_GETFD), fcntl(2000, F_GETFD));
        char c = 0;
        ssize_t got = read(3000, &c, 1);
        printf("child: read fd 3000: %zd '%c'\n", got, c);
        show("child: dup2 0 3999", dup2(0, 3999));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child status %d\n", st);
    show("parent: F_GETFD 3999 (the child's dup2 was its own)", fcntl(3999, F_GETFD));

    /* exec closes the close-on-exec ones (4000-4095 and 2000), keeps the rest. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char *av[] = { (char *)self, "count", NULL };
        execv(self, av);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    printf("exec'd child status %d\n", st);

    /* The hard limit's ceiling is fs.nr_open (1048576), for root too
     * (raising it to there is in the proc mode: the host's root may lack
     * CAP_SYS_RESOURCE). */
    show("setrlimit 4096 1048577 (past nr_open)", set_nofile(4096, 1048577));
    show("setrlimit 4096 RLIM_INFINITY", set_nofile(4096, RLIM_INFINITY));
    show("setrlimit 5000 4096 (soft past hard)", set_nofile(5000, 4096));
    snprintf(buf, sizeof(buf), "open below 4096 at the end: %d", count_open(4096));
    puts(buf);
    show("close_range 3 ~0", syscall(SYS_close_range, 3, ~0u, 0));
    printf("open at the very end: %d\n", count_open(5000));
    printf("fdgrow: basic done\n");
    return 0;
}

/* The exec'd child of basic: what it still has open. */
static int count_mode(void)
{
    printf("after exec: open below 4096: %d, 4095 %s, 2000 %s, 3000 %s\n", count_open(4096),
           fcntl(4095, F_GETFD) < 0 ? "closed" : "open", fcntl(2000, F_GETFD) < 0 ? "closed" : "open",
           fcntl(3000, F_GETFD) < 0 ? "closed" : "open");
    return 0;
}

/* /proc/self/fd (or another's): entries that are numbers, and the highest. */
static void listing(const char *what, const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0, top = -1;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            n++;
            top = atoi(e->d_name) > top ? atoi(e->d_name) : top;
        }
    if (d)
        closedir(d);
    printf("%s: %d entries, highest %d%s\n", what, n, top, d ? "" : " (no such directory)");
    fflush(stdout);
}

static long fdsize(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "FDSize:", 7))
            v = atol(line + 7);
    if (f)
        fclose(f);
    return v;
}

static long write_nr_open(const char *v)
{
    int fd = open("/proc/sys/fs/nr_open", O_WRONLY);
    if (fd < 0)
        return -1;
    long r = write(fd, v, strlen(v));
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static void nr_open_now(void)
{
    char b[32] = "?";
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    if (f && fgets(b, sizeof(b), f))
        b[strcspn(b, "\n")] = 0;
    if (f)
        fclose(f);
    printf("nr_open %s\n", b);
}

static int files_child(void *arg)
{
    (void)arg;
    show("CLONE_FILES child: unshare(CLONE_FILES) with fd 65 open, nr_open 64",
         unshare(CLONE_FILES));
    return 0;
}

/* close_range's CLOSE_RANGE_UNSHARE copies only what it does not close. */
static int range_child(void *arg)
{
    (void)arg;
    show("CLONE_FILES child: close_range 70 ~0 UNSHARE (65 is copied: past nr_open 64)",
         syscall(SYS_close_range, 70, ~0u, CLOSE_RANGE_UNSHARE));
    show("CLONE_FILES child: close_range 3 ~0 UNSHARE (65 is not copied)",
         syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_UNSHARE));
    show("CLONE_FILES child: F_GETFD 65 after", fcntl(65, F_GETFD));
    return 0;
}

static int proc_mode(void)
{
    /* Root raises the hard limit to fs.nr_open and uses all of it (in a
     * child: a table never shrinks, and the rest wants a small one). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        show("setrlimit 1048576 1048576", set_nofile(1048576, 1048576));
        show("dup2 0 200000", dup2(0, 200000));
        printf("FDSize %ld\n", fdsize());
        show("dup2 0 1048575", dup2(0, 1048575));
        printf("FDSize %ld\n", fdsize());
        show("dup2 0 1048576", dup2(0, 1048576));
        show("F_DUPFD 1048575 (taken)", fcntl(0, F_DUPFD, 1048575));
        show("F_DUPFD 1048570", fcntl(0, F_DUPFD, 1048570));
        listing("/proc/self/fd with 3 high ones", "/proc/self/fd");
        show("close_range 5000 ~0", syscall(SYS_close_range, 5000, ~0u, 0));
        show("F_GETFD 1048575 (closed)", fcntl(1048575, F_GETFD));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    show("setrlimit NOFILE 2048 4096", set_nofile(2048, 4096));
    printf("FDSize at start %ld\n", fdsize());
    fill("fill to 2048", 5000);
    close(2047);                                /* room for the listing's own */
    listing("/proc/self/fd with 2048 open", "/proc/self/fd");
    printf("FDSize %ld\n", fdsize());
    show("close_range 1500 ~0", syscall(SYS_close_range, 1500, ~0u, 0));
    listing("/proc/self/fd after close_range 1500", "/proc/self/fd");
    pid = fork();
    if (pid == 0) {
        show("child: dup2 0 2000", dup2(0, 2000));
        pause();
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    for (int i = 0; i < 200; i++) {              /* until the child's dup2 is in */
        char p2[80];
        snprintf(p2, sizeof(p2), "%s/2000", path);
        if (!access(p2, F_OK))
            break;
        usleep(10000);
    }
    listing("the child's /proc/PID/fd", path);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    show("close_range 3 ~0", syscall(SYS_close_range, 3, ~0u, 0));

    /* fs.nr_open: Linux's bounds and errnos. */
    nr_open_now();
    show("nr_open = 63", write_nr_open("63\n"));
    show("nr_open = 2147483585", write_nr_open("2147483585\n"));
    show("nr_open = -1", write_nr_open("-1\n"));
    show("nr_open = abc", write_nr_open("abc\n"));
    show("nr_open = 2147483584", write_nr_open("2147483584\n"));
    nr_open_now();
    fflush(stdout);
    pid = fork();
    if (pid == 0) {                             /* a table of 2^31 slots: 16 GiB it cannot have */
        show("setrlimit 2147483584 2147483584", set_nofile(2147483584ul, 2147483584ul));
        show("dup2 0 2147483583 (no memory for the table)", dup2(0, 2147483583));
        show("F_DUPFD 2147483000 (no memory for the table)", fcntl(0, F_DUPFD, 2147483000));
        show("dup2 0 2147483584 (the limit)", dup2(0, 2147483584u));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    show("nr_open = 1048576", write_nr_open("1048576"));
    nr_open_now();
    pid = fork();
    if (pid == 0) {
        setgid(4243);
        setuid(4243);
        show("uid 4243: open nr_open for writing", open("/proc/sys/fs/nr_open", O_WRONLY));
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    /* Lowered to 8192: the hard limit and the table obey it. */
    show("nr_open = 8192", write_nr_open("8192"));
    show("setrlimit 4096 8193", set_nofile(4096, 8193));
    show("setrlimit 8192 8192", set_nofile(8192, 8192));
    show("nr_open = 4096 (below the hard limit now)", write_nr_open("4096"));
    show("dup2 0 5000 (past nr_open, within the limit)", dup2(0, 5000));
    show("F_DUPFD 5000", fcntl(0, F_DUPFD, 5000));
    show("dup2 0 4095", dup2(0, 4095));
    show("nr_open = 64", write_nr_open("64"));
    show("fork with fd 4095 open, nr_open 64", (long)({
        pid_t c = fork();
        if (c == 0)
            _exit(0);
        if (c > 0)
            waitpid(c, NULL, 0);
        c > 0 ? 0 : -1;
    }));
    close(4095);
    show("dup2 0 65 (the table has room already)", dup2(0, 65));
    show("nr_open = 1048576", write_nr_open("1048576"));
    show("dup2 0 65", dup2(0, 65));
    show("nr_open = 64", write_nr_open("64"));
    /* unshare03: a CLONE_FILES child unsharing a table with fd 65 open. */
    static char stack[16384];
    pid = clone(files_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
    int st = -1;
    waitpid(pid, &st, 0);
    printf("CLONE_FILES child status %d\n", st);
    pid = clone(range_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
    waitpid(pid, &st, 0);
    show("parent: F_GETFD 65 (still its own)", fcntl(65, F_GETFD));
    show("nr_open = 1048576", write_nr_open("1048576"));
    pid = clone(files_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
    waitpid(pid, &st, 0);
    nr_open_now();
    printf("fdgrow: proc done\n");
    return 0;
}

/* Tables grown, copied and dropped, again and again: the heap comes back. */
static int leak(int rounds)
{
    struct snap before, after;
    set_nofile(1048576, 1048576);
    take(&before);
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            take(&before);
        for (int i = 0; i < rounds; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                dup2(0, 1000 + i * 700);
                dup2(0, 200000);
                if (fork() == 0) {            /* a copy of a big table */
                    dup2(1, 199999);
                    _exit(0);
                }
                wait(NULL);
                syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_UNSHARE);
                dup2(0, 5000);
                dup2(0, 2000000);             /* past the limit: EBADF, nothing allocated */
                _exit(0);
            }
            waitpid(pid, NULL, 0);
        }
    }
    take(&after);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    return 0;
}

int main(int argc, char **argv)
{
    self = argv[0];
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (!strcmp(mode, "basic"))
        return basic();
    if (!strcmp(mode, "count"))
        return count_mode();
    if (!strcmp(mode, "proc"))
        return proc_mode();
    if (!strcmp(mode, "leak"))
        return leak(argc > 2 ? atoi(argv[2]) : 10);
    fprintf(stderr, "usage: fdgrow basic|proc|leak [N]\n");
    return 2;
}
