/* procfs: /proc and /sys tell the truth, as tests/test_procfs.py checks.
 *
 *   procfs self SEED DIR   a process compares what /proc says about it
 *                          with what it knows: RSS and its peak against a
 *                          seeded number of pages it touched, maps against
 *                          regions it mapped at known addresses with known
 *                          protections, stat and status against getpid,
 *                          getppid, getpgrp, getsid, fd/ against its open
 *                          descriptors, cmdline and environ against argv
 *                          and envp, exe and cwd, comm, threads, a child
 *                          that becomes a zombie and is reaped. One line per
 *                          fact, the same on the host's Linux (the outputs
 *                          must be equal): never a raw address or number
 *                          that differs between machines.
 *   procfs perm            another user's environ, fd/, exe are EACCES, its
 *                          status readable; our own environ readable.
 *   procfs global          meminfo, uptime, loadavg, stat, cpuinfo, /sys's
 *                          CPU count, sys/kernel against uname: consistent.
 *   procfs bad             writes to read-only files, odd names, a process
 *                          that exits under an open file of its directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EIO: return "EIO";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EROFS: return "EROFS";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    default: {
        static char b[32];
        snprintf(b, sizeof(b), "errno%d", e);
        return b;
    }
    }
}

/* A whole /proc file into buf with plain read(2) (no stdio buffer that
 * would change our RSS); its length, or -errno. */
static char fbuf[65536];
static long slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return (long)n;
}

/* A "Key:\t   N kB" line of /proc/self/status, or -1. */
static long status_field(const char *key)
{
    if (slurp("/proc/self/status", fbuf, sizeof(fbuf)) < 0)
        return -1;
    size_t k = strlen(key);
    for (char *l = fbuf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == ':')
            return strtol(l + k + 1, NULL, 10);
    return -1;
}

static const char *yes(int ok) { return ok ? "yes" : "NO"; }

/* ---- self ---- */

/* One round: a fresh region, a seeded random subset of its pages touched,
 * /proc/self/status read before, after, and after munmap. Printed only at
 * the end, so the measured stretch runs the same code in every round (the
 * program's own pages are mapped from its file as they are first run). */
static void rss_round(unsigned seed, bool print)
{
    srand(seed);
    size_t pages = 16 + (size_t)rand() % 497;       /* 16..512 */
    size_t span = 1024;
    char *m = mmap(NULL, span * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    madvise(m, span * 4096, MADV_NOHUGEPAGE);      /* 4 KiB pages on the host too */
    unsigned char *pick = calloc(span, 1);
    status_field("VmRSS");                          /* warm: the page buffers, the code */
    long before = status_field("VmRSS");
    /* A random subset of the span's pages, each touched once or more. */
    size_t touched = 0;
    while (touched < pages) {
        size_t i = (size_t)rand() % span;
        m[i * 4096 + (size_t)rand() % 4096] = 1;
        touched += !pick[i];
        pick[i] = 1;
    }
    long after = status_field("VmRSS"), hwm = status_field("VmHWM");
    munmap(m, span * 4096);
    long gone = status_field("VmRSS"), hwm2 = status_field("VmHWM");
    long size = status_field("VmSize"), peak = status_field("VmPeak");
    free(pick);
    if (!print)
        return;
    printf("rss grows by the pages touched: %s\n", yes(after - before == (long)pages * 4));
    if (after - before != (long)pages * 4)
        printf("  touched %zu pages = %zu kB, VmRSS went %ld -> %ld kB\n", pages, pages * 4, before, after);
    printf("hwm at least rss: %s\n", yes(hwm >= after));
    printf("rss falls back after munmap: %s\n", yes(gone == before));
    if (gone != before)
        printf("  VmRSS %ld kB before, %ld kB after munmap\n", before, gone);
    printf("hwm keeps the peak: %s\n", yes(hwm2 >= hwm));
    printf("vmpeak at least vmsize: %s\n", yes(peak >= size && peak >= size + (long)span * 4 - 4));
}

static void rss(unsigned seed)
{
    rss_round(seed, false);                         /* every path below runs once first */
    rss_round(seed, true);
}

/* Regions at known addresses, gaps between them: each must be one maps
 * line with its exact range and permissions. */
static void maps(void)
{
    static const struct { size_t pages; int prot; } want[] = {
        { 1, PROT_READ }, { 3, PROT_READ | PROT_WRITE }, { 2, PROT_READ | PROT_EXEC },
        { 4, PROT_NONE }, { 5, PROT_READ | PROT_WRITE | PROT_EXEC }, { 2, PROT_WRITE },
    };
    uintptr_t base = 0x3e0000000000ul;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uintptr_t a = base + i * 0x100000;
        void *p = mmap((void *)a, want[i].pages * 4096, want[i].prot,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != (void *)a)
            printf("mmap %zu failed: %s\n", i, ename(errno));
    }
    /* One region split in three by mprotect. */
    uintptr_t s = base + 0x800000;
    mmap((void *)s, 6 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    mprotect((void *)(s + 2 * 4096), 2 * 4096, PROT_READ);
    long n = slurp("/proc/self/maps", fbuf, sizeof(fbuf));
    int lines = 0, stack = 0, heap = 0, mine = 0, wellformed = 1;
    int local;
    uintptr_t here = (uintptr_t)&local;
    void *brk_now = sbrk(0);
    for (char *l = fbuf; n > 0 && l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        unsigned long a, b, off, ino;
        char perms[8], dev[16];
        int name_at = 0;
        lines++;
        if (sscanf(l, "%lx-%lx %7s %lx %15s %lu %n", &a, &b, perms, &off, dev, &ino, &name_at) < 6) {
            wellformed = 0;
            continue;
        }
        const char *name = l + name_at;
        if (!strncmp(name, "[stack]", 7) && a <= here && here < b)
            stack = 1;
        if (!strncmp(name, "[heap]", 6) && a < (uintptr_t)brk_now && (uintptr_t)brk_now <= b)
            heap = 1;
        if (a >= base && b <= base + 0x1000000) {
            mine++;
            printf("map +%lx-+%lx %s %s\n", a - base, b - base, perms, dev);
        }
    }
    printf("maps well formed: %s\n", yes(wellformed && lines > 4));
    printf("maps names the stack around a local: %s\n", yes(stack));
    printf("maps names the heap at the break: %s\n", yes(heap || brk_now == NULL));
    printf("regions found: %d\n", mine);
}

static void stat_line(void)
{
    /* The vDSO's pages are faulted in by the first clock read: take it
     * now, so the process's RSS does not change between stat and status. */
    struct timespec warm;
    clock_gettime(CLOCK_MONOTONIC, &warm);
    long n = slurp("/proc/self/stat", fbuf, sizeof(fbuf));
    char *open_paren = strchr(fbuf, '('), *close_paren = strrchr(fbuf, ')');
    if (n <= 0 || !open_paren || !close_paren) {
        printf("stat unreadable\n");
        return;
    }
    *close_paren = 0;
    char comm[32];
    snprintf(comm, sizeof(comm), "%s", open_paren + 1);
    int fields = 2;
    long v[64] = { 0 };
    char state = 0;
    for (char *p = close_paren + 1; *p;) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p)
            break;
        fields++;
        if (fields == 3)
            state = *p;
        else if (fields < 64)
            v[fields] = strtol(p, NULL, 10);
        while (*p && *p != ' ' && *p != '\n')
            p++;
    }
    printf("stat fields: %d\n", fields);
    printf("stat pid, ppid, pgrp, session: %s %s %s %s\n", yes(atol(fbuf) == getpid()),
           yes(v[4] == getppid()), yes(v[5] == getpgrp()), yes(v[6] == getsid(0)));
    printf("stat state running: %s, threads %ld\n", yes(state == 'R'), v[20]);
    printf("stat comm: %s\n", comm);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long now_ticks = ts.tv_sec * sysconf(_SC_CLK_TCK) + ts.tv_nsec / (1000000000 / sysconf(_SC_CLK_TCK));
    printf("stat starttime not in the future: %s\n", yes(v[22] <= now_ticks + 1));
    long pages = v[24], vsize = v[23];
    /* (Linux's stat rss is an approximate per-CPU sum: judged on Vigil only.) */
    long vmrss = status_field("VmRSS");
    printf("rss in stat is status's VmRSS: %s\n", yes(pages * 4 == vmrss));
    if (pages * 4 != vmrss)
        printf("  VmRSS %ld kB, stat rss %ld pages\n", vmrss, pages);
    printf("stat vsize agrees with status: %s\n", yes(vsize / 1024 == status_field("VmSize")));
    long statm[7];
    slurp("/proc/self/statm", fbuf, sizeof(fbuf));
    sscanf(fbuf, "%ld %ld %ld %ld %ld %ld %ld", &statm[0], &statm[1], &statm[2], &statm[3],
           &statm[4], &statm[5], &statm[6]);
    printf("statm size and resident agree: %s %s\n", yes(statm[0] * 4 == status_field("VmSize")),
           yes(statm[1] * 4 == status_field("VmRSS")));
    printf("status pid, ppid, tgid: %s %s %s\n", yes(status_field("Pid") == getpid()),
           yes(status_field("PPid") == getppid()), yes(status_field("Tgid") == getpid()));
    printf("status uid: %s\n", yes(status_field("Uid") == (long)getuid()));
}

static void fds(const char *dir)
{
    char path[PATH_MAX], real[PATH_MAX], link[PATH_MAX];
    snprintf(path, sizeof(path), "%s/procfs-file", dir);
    int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    int p[2];
    pipe(p);
    int null = open("/dev/null", O_WRONLY);
    int hi = dup2(f, 37);
    /* The set of descriptors: fcntl's and fd/'s. */
    char have[64] = { 0 }, listed[64] = { 0 };
    for (int fd = 0; fd < 64; fd++)
        have[fd] = fcntl(fd, F_GETFD) >= 0;
    DIR *d = opendir("/proc/self/fd");
    int dfd = d ? dirfd(d) : -1;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) < 64)
            listed[atoi(e->d_name)] = 1;
    if (d)
        closedir(d);
    if (dfd >= 0)
        listed[dfd] = have[dfd];            /* the directory's own descriptor, closed now */
    printf("fd/ lists exactly the open descriptors: %s\n", yes(!memcmp(have, listed, sizeof(have))));
    realpath(path, real);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", hi);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link of a file is its real path: %s\n", yes(!strcmp(link, real)));
    struct stat st;
    fstat(p[0], &st);
    char want[64];
    snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
    n = readlink(path, link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link of a pipe is pipe:[its inode]: %s\n", yes(!strcmp(link, want)));
    snprintf(path, sizeof(path), "/proc/self/fd/%d", null);
    n = readlink(path, link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link of /dev/null: %s\n", link);
    struct stat l;
    lstat(path, &l);
    printf("fd link mode for write-only: %o\n", l.st_mode & 0777);
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", hi);
    lseek(f, 5, SEEK_SET);
    slurp(path, fbuf, sizeof(fbuf));
    printf("fdinfo pos: %s", strncmp(fbuf, "pos:\t5\n", 7) ? "NO\n" : "yes\n");
    /* Opening fd/N opens the file itself. */
    write(f, "hello", 5);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", f);
    int again = open(path, O_RDONLY);
    char got[8] = "";
    pread(again, got, 5, 5);
    printf("opening fd/N reaches the file: %s\n", yes(!memcmp(got, "hello", 5)));
    close(again);
    /* ... even renamed away from the name it was opened by. */
    char moved[PATH_MAX];
    snprintf(moved, sizeof(moved), "%s/procfs-moved", dir);
    rename(real, moved);
    again = open(path, O_RDONLY);
    memset(got, 0, sizeof(got));
    pread(again, got, 5, 5);
    printf("opening fd/N of a renamed file reaches it: %s\n", yes(again >= 0 && !memcmp(got, "hello", 5)));
    close(again);
    unlink(moved);
    n = readlink(path, link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link of an unlinked file: %s\n", strstr(link, " (deleted)") ? "(deleted)" : link);
    /* A pipe reopened through /dev/fd (bash's <(...)) is the same pipe. */
    int q[2];
    pipe(q);
    write(q[1], "through", 7);
    snprintf(path, sizeof(path), "/dev/fd/%d", q[0]);
    int r2 = open(path, O_RDONLY);
    memset(got, 0, sizeof(got));
    printf("a pipe reopened through /dev/fd: %s\n", yes(r2 >= 0 && read(r2, got, 7) == 7 &&
                                                       !memcmp(got, "through", 7)));
    struct stat fs;
    printf("it is a fifo: %s\n", yes(!stat(path, &fs) && S_ISFIFO(fs.st_mode)));
    snprintf(path, sizeof(path), "/proc/self/fd/%d", q[1]);
    int w2 = open(path, O_WRONLY);
    printf("a pipe's write end reopened: %s\n", yes(w2 >= 0 && write(w2, "x", 1) == 1 &&
                                                   read(q[0], got, 1) == 1 && got[0] == 'x'));
    close(r2), close(w2), close(q[0]), close(q[1]);
    close(f), close(p[0]), close(p[1]), close(null), close(hi);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", hi);
    printf("a closed descriptor's link: %s\n", ename(readlink(path, link, sizeof(link)) < 0 ? errno : 0));
    snprintf(path, sizeof(path), "%s/procfs-file", dir);
    unlink(path);
}

static void strings(int argc, char **argv)
{
    char want[4096];
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        size_t k = strlen(argv[i]) + 1;
        memcpy(want + n, argv[i], k);
        n += k;
    }
    long got = slurp("/proc/self/cmdline", fbuf, sizeof(fbuf));
    printf("cmdline is argv: %s\n", yes(got == (long)n && !memcmp(fbuf, want, n)));
    n = 0;
    for (char **e = environ; *e && n < sizeof(want) - 256; e++) {
        size_t k = strlen(*e) + 1;
        memcpy(want + n, *e, k);
        n += k;
    }
    got = slurp("/proc/self/environ", fbuf, sizeof(fbuf));
    printf("environ is envp: %s\n", yes(got == (long)n && !memcmp(fbuf, want, n)));
    char exe[PATH_MAX], real[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[k > 0 ? k : 0] = 0;
    realpath(argv[0], real);
    printf("exe is the program's real path: %s\n", yes(!strcmp(exe, real)));
}

static void cwd(const char *dir)
{
    char real[PATH_MAX], link[PATH_MAX], old[PATH_MAX];
    getcwd(old, sizeof(old));
    chdir(dir);
    realpath(".", real);
    ssize_t n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    printf("cwd is the working directory: %s\n", yes(!strcmp(link, real)));
    struct stat a, b;
    stat("/proc/self/cwd/.", &a);
    stat(".", &b);
    printf("cwd leads to it: %s\n", yes(a.st_ino == b.st_ino && a.st_dev == b.st_dev));
    chdir(old);
}

static void comm(void)
{
    int fd = open("/proc/self/comm", O_WRONLY);
    write(fd, "renamed-it", 10);
    close(fd);
    slurp("/proc/self/comm", fbuf, sizeof(fbuf));
    printf("comm after writing: %s", fbuf);
    fd = open("/proc/self/comm", O_WRONLY);
    write(fd, "a-name-longer-than-fifteen", 26);
    close(fd);
    slurp("/proc/self/comm", fbuf, sizeof(fbuf));
    printf("a long comm is cut: %s", fbuf);
    slurp("/proc/self/stat", fbuf, sizeof(fbuf));
    printf("stat shows it: %s\n", yes(strstr(fbuf, "(a-name-longer-t)") != NULL));
}

static volatile int thread_go;
static pid_t thread_tid;

static void *thread_main(void *arg)
{
    (void)arg;
    thread_tid = (pid_t)syscall(SYS_gettid);
    while (!thread_go)
        usleep(1000);
    return NULL;
}

static void threads(void)
{
    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    while (!thread_tid)
        usleep(1000);
    printf("status Threads with a second thread: %ld\n", status_field("Threads"));
    int tids = 0, found = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            tids++;
            found |= atoi(e->d_name) == thread_tid;
        }
    if (d)
        closedir(d);
    printf("task/ lists both threads: %s\n", yes(tids == 2 && found));
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", thread_tid);
    slurp(path, fbuf, sizeof(fbuf));
    printf("task/TID/stat is the thread's: %s\n", yes(atoi(fbuf) == thread_tid));
    snprintf(path, sizeof(path), "/proc/%d/status", thread_tid);
    long n = slurp(path, fbuf, sizeof(fbuf));
    printf("/proc/TID of a thread: %s\n", n > 0 ? "readable" : ename((int)-n));
    char link[64];
    n = readlink("/proc/thread-self", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = 0;
    char want[64];
    snprintf(want, sizeof(want), "%d/task/%d", getpid(), getpid());
    printf("thread-self: %s\n", yes(!strcmp(link, want)));
    thread_go = 1;
    pthread_join(t, NULL);
}

static void on_child(int sig) { (void)sig; }

/* Stopped by SIGSTOP: T until SIGCONT (before the zombie part below, whose
 * SIGCHLD must be the child's exit, not a stop). */
static void stopped(void)
{
    int go[2];
    pipe(go);
    pid_t c = fork();
    if (c == 0) {
        char x;
        read(go[0], &x, 1);
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", c);
    kill(c, SIGSTOP);
    int ws;
    waitpid(c, &ws, WUNTRACED);
    long n = slurp(path, fbuf, sizeof(fbuf));
    char *cp = strrchr(fbuf, ')');
    printf("stopped child: state %c\n", n > 0 && cp ? cp[2] : '?');
    kill(c, SIGCONT);
    waitpid(c, &ws, WCONTINUED);
    n = slurp(path, fbuf, sizeof(fbuf));
    cp = strrchr(fbuf, ')');
    printf("continued: stopped no more %s\n", yes(n > 0 && cp && cp[2] != 'T'));
    write(go[1], "x", 1);
    waitpid(c, &ws, 0);
    close(go[0]), close(go[1]);
}

static void children(void)
{
    int go[2];
    pipe(go);
    /* SIGCHLD blocked until sigsuspend: the child is a zombie when it comes. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    signal(SIGCHLD, on_child);
    pid_t c = fork();
    if (c == 0) {
        char x;
        read(go[0], &x, 1);
        _exit(3);
    }
    char path[64], dpath[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", c);
    snprintf(dpath, sizeof(dpath), "/proc/%d", c);
    usleep(20000);
    long n = slurp(path, fbuf, sizeof(fbuf));
    char *cp = strrchr(fbuf, ')');
    int ppid = 0;
    char st = 0;
    if (n > 0 && cp)
        sscanf(cp + 2, "%c %d", &st, &ppid);
    printf("child's stat: ppid is us %s, sleeping %s\n", yes(ppid == getpid()), yes(st == 'S'));
    int held = open(path, O_RDONLY), dir = open(dpath, O_RDONLY | O_DIRECTORY);
    write(go[1], "x", 1);
    /* Now a zombie until reaped. */
    sigset_t none;
    sigemptyset(&none);
    sigsuspend(&none);
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* (Linux signals the parent a moment before the child is a zombie:
     * waitid without reaping waits for that.) */
    siginfo_t si;
    waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT);
    n = slurp(path, fbuf, sizeof(fbuf));
    cp = strrchr(fbuf, ')');
    printf("exited, not reaped: state %c\n", n > 0 && cp ? cp[2] : '?');
    waitpid(c, NULL, 0);
    n = slurp(path, fbuf, sizeof(fbuf));
    printf("reaped: its stat %s\n", ename(n < 0 ? (int)-n : 0));
    char b[64];
    n = read(held, b, sizeof(b));
    printf("reaped: read from a file opened before %s\n", ename(n < 0 ? errno : 0));
    char db[1024];
    n = syscall(SYS_getdents64, dir, db, sizeof(db));
    printf("reaped: getdents of its directory %s\n", n < 0 ? ename(errno) : n == 0 ? "empty" : "entries");
    n = openat(dir, "status", O_RDONLY);
    printf("reaped: openat in its directory %s\n", ename(n < 0 ? errno : 0));
    close(held), close(dir), close(go[0]), close(go[1]);
}

static void self(int argc, char **argv, unsigned seed, const char *dir)
{
    rss(seed);
    maps();
    stat_line();
    fds(dir);
    strings(argc, argv);
    cwd(dir);
    comm();
    threads();
    stopped();
    children();
}

/* ---- perm ---- */

static void perm(void)
{
    int ready[2], done[2];
    pipe(ready);
    pipe(done);
    pid_t a = fork();
    if (a == 0) {
        setresgid(2000, 2000, 2000);
        setresuid(2000, 2000, 2000);
        write(ready[1], "r", 1);
        char x;
        read(done[0], &x, 1);
        _exit(0);
    }
    char x;
    read(ready[0], &x, 1);
    pid_t b = fork();
    if (b == 0) {
        setresgid(3000, 3000, 3000);
        setresuid(3000, 3000, 3000);
        char path[64], link[256];
        const char *what[] = { "environ", "status", "cmdline", "stat", "syscall" };
        for (int i = 0; i < 5; i++) {
            snprintf(path, sizeof(path), "/proc/%d/%s", a, what[i]);
            long n = slurp(path, fbuf, sizeof(fbuf));
            printf("another user's %s: %s\n", what[i], n >= 0 ? "readable" : ename((int)-n));
        }
        const char *links[] = { "exe", "cwd", "root" };
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof(path), "/proc/%d/%s", a, links[i]);
            printf("another user's %s link: %s\n", links[i],
                   readlink(path, link, sizeof(link)) >= 0 ? "readable" : ename(errno));
        }
        snprintf(path, sizeof(path), "/proc/%d/fd", a);
        DIR *d = opendir(path);
        printf("another user's fd/: %s\n", d ? "listable" : ename(errno));
        int fd = open("/proc/sys/kernel/hostname", O_WRONLY);
        printf("hostname writable by a user: %s\n", fd >= 0 ? "yes" : ename(errno));
        fflush(stdout);
        _exit(0);
    }
    waitpid(b, NULL, 0);
    write(done[1], "d", 1);
    waitpid(a, NULL, 0);
    /* Root may look at anyone's. */
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/environ", b);
    printf("root reads its own children's environ: %s\n",
           slurp("/proc/self/environ", fbuf, sizeof(fbuf)) >= 0 ? "yes" : "NO");
}

/* ---- global ---- */

static long meminfo(const char *key)
{
    size_t k = strlen(key);
    for (char *l = fbuf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == ':')
            return strtol(l + k + 1, NULL, 10);
    return -1;
}

static void global(void)
{
    slurp("/proc/meminfo", fbuf, sizeof(fbuf));
    long total = meminfo("MemTotal"), fr = meminfo("MemFree"), av = meminfo("MemAvailable");
    printf("meminfo: total > free > 0, available <= total: %s %s\n", yes(total > fr && fr > 0),
           yes(av > 0 && av <= total));
    printf("meminfo has swap and buffers lines: %s\n",
           yes(meminfo("SwapTotal") >= 0 && meminfo("Buffers") >= 0 && meminfo("Cached") >= 0));
    double up1, idle, up2;
    slurp("/proc/uptime", fbuf, sizeof(fbuf));
    int ok = sscanf(fbuf, "%lf %lf", &up1, &idle) == 2;
    usleep(30000);
    slurp("/proc/uptime", fbuf, sizeof(fbuf));
    ok &= sscanf(fbuf, "%lf", &up2) == 1;
    printf("uptime grows: %s\n", yes(ok && up2 > up1 && up1 > 0));
    double l1, l5, l15;
    int running, total_threads, last;
    slurp("/proc/loadavg", fbuf, sizeof(fbuf));
    printf("loadavg has five fields, running <= total: %s\n",
           yes(sscanf(fbuf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total_threads, &last) == 6 &&
               running >= 1 && running <= total_threads && last > 0 && l1 >= 0));
    slurp("/proc/stat", fbuf, sizeof(fbuf));
    unsigned long c[10];
    int cpulines = 0;
    long btime = 0, procs = 0, ctxt = 0;
    for (char *l = fbuf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, "cpu", 3) && l[3] != ' ')
            cpulines++;
        sscanf(l, "btime %ld", &btime);
        sscanf(l, "processes %ld", &procs);
        sscanf(l, "ctxt %ld", &ctxt);
    }
    int tencols = sscanf(fbuf, "cpu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", &c[0], &c[1], &c[2],
                         &c[3], &c[4], &c[5], &c[6], &c[7], &c[8], &c[9]) == 10;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("stat: cpu line of ten, a line per cpu: %s %s\n", yes(tencols), yes(cpulines == ncpu));
    time_t now = time(NULL);
    printf("stat: btime in the past, processes and ctxt counted: %s %s\n",
           yes(btime > 0 && btime <= now && now - btime < 100L * 86400 * 365), yes(procs > 0 && ctxt > 0));
    slurp("/proc/cpuinfo", fbuf, sizeof(fbuf));
    int proclines = 0, flags = 0;
    for (char *l = fbuf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        proclines += !strncmp(l, "processor\t:", 11);
        flags += !strncmp(l, "flags\t\t:", 8) && strstr(l, " fpu ") && strstr(l, " sse2");
    }
    printf("cpuinfo: a processor per cpu, with flags: %s %s\n", yes(proclines == ncpu), yes(flags == ncpu));
    slurp("/sys/devices/system/cpu/online", fbuf, sizeof(fbuf));
    char want[32];
    snprintf(want, sizeof(want), ncpu > 1 ? "0-%ld\n" : "0\n", ncpu - 1);
    printf("sys cpu online: %s\n", yes(!strcmp(fbuf, want)));
    int cpudirs = 0;
    DIR *d = opendir("/sys/devices/system/cpu");
    struct dirent *e;
    while (d && (e = readdir(d)))
        cpudirs += !strncmp(e->d_name, "cpu", 3) && e->d_name[3] >= '0' && e->d_name[3] <= '9';
    if (d)
        closedir(d);
    printf("sys cpuN directories: %s\n", yes(cpudirs >= ncpu));
    struct utsname u;
    uname(&u);
    slurp("/proc/sys/kernel/hostname", fbuf, sizeof(fbuf));
    printf("hostname is uname's: %s\n", yes(!strncmp(fbuf, u.nodename, strlen(u.nodename))));
    slurp("/proc/sys/kernel/osrelease", fbuf, sizeof(fbuf));
    printf("osrelease is uname's: %s\n", yes(!strncmp(fbuf, u.release, strlen(u.release))));
    slurp("/proc/sys/kernel/ostype", fbuf, sizeof(fbuf));
    printf("ostype is uname's: %s\n", yes(!strncmp(fbuf, u.sysname, strlen(u.sysname))));
    char id1[64], id2[64], uu1[64], uu2[64];
    slurp("/proc/sys/kernel/random/boot_id", id1, sizeof(id1));
    slurp("/proc/sys/kernel/random/boot_id", id2, sizeof(id2));
    slurp("/proc/sys/kernel/random/uuid", uu1, sizeof(uu1));
    slurp("/proc/sys/kernel/random/uuid", uu2, sizeof(uu2));
    printf("boot_id stays, uuid changes, both uuids: %s %s %s\n", yes(!strcmp(id1, id2)),
           yes(strcmp(uu1, uu2) != 0), yes(strlen(uu1) == 37 && uu1[8] == '-' && uu1[14] == '4'));
    slurp("/proc/self/mounts", fbuf, sizeof(fbuf));
    printf("mounts shows proc on /proc: %s\n", yes(strstr(fbuf, "proc /proc proc ") != NULL));
    slurp("/proc/mounts", id1, sizeof(id1));
    printf("/proc/mounts is self/mounts: %s\n", yes(!strncmp(fbuf, id1, strlen(id1))));
    slurp("/proc/filesystems", fbuf, sizeof(fbuf));
    printf("filesystems has proc: %s\n", yes(strstr(fbuf, "nodev\tproc\n") != NULL));
    char self[32];
    ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    printf("self is our pid: %s\n", yes(atoi(self) == getpid()));
    int seen = 0;
    d = opendir("/proc");
    while (d && (e = readdir(d)))
        seen |= atoi(e->d_name) == getpid() || atoi(e->d_name) == 1;
    if (d)
        closedir(d);
    printf("/proc lists us: %s\n", yes(seen));
}

/* ---- bad input ---- */

/* Two threads reading one open /proc file at once (maps names files, which
 * may sleep): each read whole and equal to a read alone. */
static int shared_fd;
static char alone[65536];
static long alone_n;
static int shared_bad;
static volatile int shared_go, shared_done;

static void *reader(void *arg)
{
    (void)arg;
    static __thread char mine[65536];
    while (!shared_go)
        sched_yield();
    for (int i = 0; i < 100; i++) {
        long n = pread(shared_fd, mine, sizeof(mine), 0);
        if (n != alone_n || memcmp(mine, alone, (size_t)n))
            __atomic_add_fetch(&shared_bad, 1, __ATOMIC_RELAXED);
    }
    /* No thread leaves (and unmaps its stack) while the other still reads. */
    __atomic_add_fetch(&shared_done, 1, __ATOMIC_RELAXED);
    while (shared_done < 2)
        sched_yield();
    return NULL;
}

static void bad(void)
{
    const char *ro[] = { "/proc/meminfo", "/proc/self/stat", "/proc/self/status", "/proc/uptime" };
    for (int i = 0; i < 4; i++) {
        int fd = open(ro[i], O_WRONLY);
        long r = fd < 0 ? -errno : write(fd, "1\n", 2);
        if (fd >= 0 && r < 0)
            r = -errno;
        printf("write %s: %s\n", ro[i], r >= 0 ? "taken" : ename((int)-r));
        if (fd >= 0)
            close(fd);
    }
    const char *odd[] = { "/proc/0", "/proc/-1", "/proc/999999", "/proc/01", "/proc/self/nothing",
                          "/proc/self/fd/999", "/proc/self/task/0", "/proc/sys/nothing" };
    for (int i = 0; i < 8; i++) {
        struct stat st;
        printf("stat %s: %s\n", odd[i], ename(stat(odd[i], &st) ? errno : 0));
    }
    printf("mkdir in /proc: %s\n", ename(mkdir("/proc/newdir", 0755) ? errno : 0));
    printf("unlink in /proc: %s\n", ename(unlink("/proc/meminfo") ? errno : 0));
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    printf("oom_score_adj 2000: %s\n", ename(write(fd, "2000", 4) < 0 ? errno : 0));
    printf("oom_score_adj 100: %s\n", ename(write(fd, "100", 3) < 0 ? errno : 0));
    close(fd);
    slurp("/proc/self/oom_score_adj", fbuf, sizeof(fbuf));
    printf("oom_score_adj now: %s", fbuf);
    /* Reading in small pieces gives the same text as one read. */
    long whole = slurp("/proc/self/maps", fbuf, sizeof(fbuf));
    static char pieces[65536];
    fd = open("/proc/self/maps", O_RDONLY);
    long n = 0, r;
    while ((r = read(fd, pieces + n, 7)) > 0)
        n += r;
    close(fd);
    printf("maps read 7 bytes at a time: %s\n", yes(n == whole && !memcmp(pieces, fbuf, (size_t)n)));
    shared_fd = open("/proc/self/maps", O_RDONLY);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)                         /* (their stacks are mapped first) */
        pthread_create(&t[i], NULL, reader, NULL);
    alone_n = pread(shared_fd, alone, sizeof(alone), 0);
    shared_go = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("one maps file read by two threads at once: %s\n", yes(alone_n > 0 && shared_bad == 0));
    close(shared_fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 4 && !strcmp(argv[1], "self"))
        self(argc, argv, (unsigned)strtoul(argv[2], NULL, 10), argv[3]);
    else if (argc >= 2 && !strcmp(argv[1], "perm"))
        perm();
    else if (argc >= 2 && !strcmp(argv[1], "global"))
        global();
    else if (argc >= 2 && !strcmp(argv[1], "bad"))
        bad();
    else {
        fprintf(stderr, "usage: procfs self SEED DIR | perm | global | bad\n");
        return 2;
    }
    return 0;
}
