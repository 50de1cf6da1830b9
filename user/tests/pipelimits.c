/* pipelimits: Linux's pipe-size rules for users who are not root (pipe(7),
 * fcntl(2) F_SETPIPE_SZ) on Vigil, and nothing leaked by processes killed
 * while blocked in pipe, splice, vmsplice or inotify reads. Run as root;
 * the unprivileged parts fork and setuid(65534). Each line is "name: got"
 * (the test compares with Linux's documented results); the leak lines are
 * "... before X after Y". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "meminfo.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, errno == EPERM ? "EPERM" : errno == EINVAL ? "EINVAL" :
               errno == EACCES ? "EACCES" : errno == ENFILE ? "ENFILE" : strerror(errno));
    else
        printf("%s: %ld\n", what, r);
}

static long sysctl_write(const char *name, const char *val)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/sys/fs/%s", name);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    long r = write(fd, val, strlen(val));
    int e = errno;
    close(fd);
    errno = e;
    return r < 0 ? -1 : 0;
}

static long sysctl_read(const char *name)
{
    char path[96], buf[32] = "";
    snprintf(path, sizeof(path), "/proc/sys/fs/%s", name);
    int fd = open(path, O_RDONLY);
    read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return atol(buf);
}

static long new_pipe_size(void)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    long r = fcntl(p[1], F_GETPIPE_SZ);
    close(p[0]), close(p[1]);
    return r;
}

static void limits(void)
{
    show("write pipe-max-size 5000", sysctl_write("pipe-max-size", "5000"));
    show("pipe-max-size reads", sysctl_read("pipe-max-size"));
    show("write 0", sysctl_write("pipe-max-size", "0"));
    show("pipe-max-size reads", sysctl_read("pipe-max-size"));
    show("write 2^31+1", sysctl_write("pipe-max-size", "2147483649"));
    show("write -1", sysctl_write("pipe-max-size", "-1"));
    show("write junk", sysctl_write("pipe-max-size", "12ab"));
    sysctl_write("pipe-max-size", "8192");
    show("root's new pipe", new_pipe_size());
    pid_t pid = fork();
    if (pid == 0) {
        setuid(65534);
        show("user's new pipe", new_pipe_size());
        int p[2];
        pipe(p);
        show("user grows past the max", fcntl(p[0], F_SETPIPE_SZ, 16384));
        show("user shrinks", fcntl(p[0], F_SETPIPE_SZ, 4096));
        show("user grows to the max", fcntl(p[0], F_SETPIPE_SZ, 8192));
        close(p[0]), close(p[1]);
        show("user writes pipe-max-size", sysctl_write("pipe-max-size", "65536"));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    sysctl_write("pipe-max-size", "16384");
    sysctl_write("pipe-user-pages-soft", "4");
    sysctl_write("pipe-user-pages-hard", "6");
    pid = fork();
    if (pid == 0) {
        /* soft limit 4 pages, hard 6: a pipe of 4 pages, one of 2 past the
         * soft limit, then none past the hard one */
        setuid(65534);
        int p[4][2];
        for (int i = 0; i < 4; i++) {
            char what[32];
            snprintf(what, sizeof(what), "user's pipe %d", i + 1);
            show(what, pipe(p[i]) < 0 ? -1 : fcntl(p[i][0], F_GETPIPE_SZ));
        }
        show("grow past the soft limit", fcntl(p[1][0], F_SETPIPE_SZ, 16384));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    show("root past the limits", new_pipe_size());
    sysctl_write("pipe-user-pages-soft", "16384");
    sysctl_write("pipe-user-pages-hard", "0");
    sysctl_write("pipe-max-size", "1048576");
    show("root's new pipe again", new_pipe_size());
}

/* What the parent holds while its children wait: POSIX and OFD read locks
 * on one file, a read lease on another. */
static const char lockfile[] = "/tmp/pipelimits.lock", leasefile[] = "/tmp/pipelimits.lease";
static int held[3];

static void hold(void)
{
    close(open(lockfile, O_CREAT | O_RDWR, 0600));
    close(open(leasefile, O_CREAT | O_RDWR, 0600));
    signal(SIGIO, SIG_IGN);                     /* (the lease's break notice) */
    held[0] = open(lockfile, O_RDONLY);
    held[1] = open(lockfile, O_RDONLY);
    held[2] = open(leasefile, O_RDONLY);
    struct flock p = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    struct flock o = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10 };
    if (fcntl(held[0], F_SETLK, &p) || fcntl(held[1], F_OFD_SETLK, &o) ||
        fcntl(held[2], F_SETLEASE, F_RDLCK))
        printf("hold: %s\n", strerror(errno));
}

static void let_go(void)
{
    for (int i = 0; i < 3; i++)
        close(held[i]);
    unlink(lockfile);
    unlink(leasefile);
}

/* Children that block: writing a full pipe, splicing from an empty one,
 * vmsplicing into a full one, reading an inotify instance with watches
 * and a queued event, waiting for a POSIX lock, for an OFD lock, and in
 * an open that breaks a lease; all killed. */
#define KIDS 7
static void blocked_and_killed(int only)
{
    pid_t kids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        kids[k] = only >= 0 && k != only ? 0 : fork();
        if (kids[k] || (only >= 0 && k != only))
            continue;
        int p[2], q[2];
        pipe(p);
        pipe(q);
        static char buf[65536];
        fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
        if (k == 0) {
            for (;;)
                write(p[1], buf, sizeof(buf));
        } else if (k == 1) {
            splice(q[0], NULL, p[1], NULL, 4096, 0);
        } else if (k == 2) {
            struct iovec v = { buf, sizeof(buf) };
            for (;;)
                vmsplice(p[1], &v, 1, 0);
        } else if (k == 4 || k == 5) {
            int fd = open(lockfile, O_RDWR);
            struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = k == 4 ? 0 : 10, .l_len = 10 };
            fcntl(fd, k == 4 ? F_SETLKW : F_OFD_SETLKW, &w);
        } else if (k == 6) {
            open(leasefile, O_WRONLY);
        } else {
            int in = inotify_init1(0);
            inotify_add_watch(in, "/tmp", IN_ALL_EVENTS);
            inotify_add_watch(in, "/", IN_ALL_EVENTS);
            close(open("/tmp", O_RDONLY));
            for (;;)
                read(in, buf, sizeof(buf));     /* the events, then it waits */
        }
        printf("child %d did not block\n", k);
        _exit(1);
    }
    usleep(300000);
    for (int k = 0; k < KIDS; k++)
        if (kids[k] > 0)
            kill(kids[k], SIGKILL);
    for (int k = 0; k < KIDS; k++)
        if (kids[k] > 0)
            waitpid(kids[k], NULL, 0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "leaks")) {
        int only = argc > 2 ? atoi(argv[2]) : -1;
        hold();
        blocked_and_killed(only);               /* warm-up: caches, scratch pages */
        struct snap before, after;
        take(&before);                          /* (its own buffers, once) */
        take(&before);
        for (int i = 0; i < 3; i++)
            blocked_and_killed(only);
        take(&after);
        let_go();
        printf("free frames before %ld after %ld\n", before.frames, after.frames);
        printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
        printf("heap objects before %s after %s\n", before.objects, after.objects);
        return 0;
    }
    limits();
    return 0;
}
