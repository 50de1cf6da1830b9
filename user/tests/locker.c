/* locker: fcntl(2)'s record locks beyond POSIX's (open file description
 * locks, deadlock detection), owners and signals (F_SETOWN(_EX),
 * F_SETSIG, O_ASYNC on a pipe, dnotify's F_NOTIFY) and leases, with bad
 * arguments, compared with Linux: each line a result or an errno (pids
 * shown as "self", "child" or "other"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* waitpid past the signals the tests catch (no SA_RESTART). */
static void reap(pid_t pid, int *st)
{
    while (waitpid(pid, st, 0) < 0 && errno == EINTR)
        ;
}

static long lk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock f = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    return fcntl(fd, cmd, &f);
}

static char path[] = "/tmp/lockerXXXXXX";

static void ofd(void)
{
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    show("ofd write lock on a", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
    show("ofd write lock on b, same process", lk(b, F_OFD_SETLK, F_WRLCK, 5, 10));
    show("ofd read lock on b, past a's", lk(b, F_OFD_SETLK, F_RDLCK, 10, 10));
    show("posix lock over a's, same process", lk(b, F_SETLK, F_WRLCK, 0, 1));
    struct flock g = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    show("ofd getlk from b", fcntl(b, F_OFD_GETLK, &g));
    printf("  type %s start %ld len %ld pid %d\n", g.l_type == F_WRLCK ? "wr" : g.l_type == F_RDLCK ? "rd" : "un",
           (long)g.l_start, (long)g.l_len, g.l_pid);
    struct flock bad = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1 };
    show("ofd setlk with l_pid set", fcntl(a, F_OFD_SETLK, &bad));
    show("ofd getlk with l_pid set", fcntl(a, F_OFD_GETLK, &bad));
    show("ofd bad type", lk(a, F_OFD_SETLK, 7, 0, 1));
    int c = dup(a);
    close(c);                                   /* a POSIX lock would go; an OFD lock stays */
    show("after closing a dup of a, b still blocked", lk(b, F_OFD_SETLK, F_WRLCK, 0, 1));
    pid_t pid = fork();
    if (pid == 0) {
        show("child: the inherited open file is the owner", lk(a, F_OFD_SETLK, F_WRLCK, 0, 5));
        int d = open(path, O_RDWR);
        show("child: its own open file conflicts", lk(d, F_OFD_SETLK, F_WRLCK, 0, 5));
        _exit(0);
    }
    reap(pid, NULL);
    close(a);
    show("after a's last close, b may lock", lk(b, F_OFD_SETLK, F_WRLCK, 0, 10));
    close(b);
}

static void deadlock(void)
{
    int fd = open(path, O_RDWR);
    int go[2], back[2];
    pipe(go);
    pipe(back);
    show("parent locks 0-9", lk(fd, F_SETLK, F_WRLCK, 0, 10));
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open(path, O_RDWR);
        lk(cfd, F_SETLK, F_WRLCK, 20, 10);
        write(back[1], "x", 1);
        char c;
        read(go[0], &c, 1);
        long r = lk(cfd, F_SETLKW, F_WRLCK, 0, 10);  /* waits for the parent */
        _exit(r == 0 ? 0 : 1);
    }
    char c;
    read(back[0], &c, 1);
    write(go[1], "x", 1);
    usleep(200000);                             /* the child is asleep in F_SETLKW */
    show("parent waits for the child's range", lk(fd, F_SETLKW, F_WRLCK, 20, 10));
    show("parent's non-blocking try", lk(fd, F_SETLK, F_WRLCK, 20, 10));
    lk(fd, F_SETLK, F_UNLCK, 0, 0);
    int st;
    reap(pid, &st);
    printf("child got its lock: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    close(fd);
}

static volatile int got_sig, got_fd, got_code;

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_fd = si->si_fd;
    got_code = si->si_code;
}

static void owners(void)
{
    int p[2];
    pipe(p);
    show("getown of a new file", fcntl(p[0], F_GETOWN));
    struct f_owner_ex ex = { 99, 99 };
    show("getown_ex of a new file", fcntl(p[0], F_GETOWN_EX, &ex));
    printf("  type %d pid %d\n", ex.type, ex.pid);
    show("getsig of a new file", fcntl(p[0], F_GETSIG));
    show("setsig 65", fcntl(p[0], F_SETSIG, 65));
    show("setsig -1", fcntl(p[0], F_SETSIG, -1));
    show("setown to a missing pid", fcntl(p[0], F_SETOWN, 4000000));
    ex = (struct f_owner_ex){ 7, getpid() };
    show("setown_ex bad type", fcntl(p[0], F_SETOWN_EX, &ex));
    show("setown_ex bad pointer", fcntl(p[0], F_SETOWN_EX, (void *)8));
    show("setown self", fcntl(p[0], F_SETOWN, getpid()));
    show("getown is self", fcntl(p[0], F_GETOWN) == getpid());
    show("setown group", fcntl(p[0], F_SETOWN, -getpgrp()));
    show("getown is -group", fcntl(p[0], F_GETOWN) == -getpgrp());
    ex = (struct f_owner_ex){ F_OWNER_PID, getpid() };
    fcntl(p[0], F_SETOWN_EX, &ex);
    struct f_owner_ex back;
    fcntl(p[0], F_GETOWN_EX, &back);
    printf("getown_ex: type %d self %d\n", back.type, back.pid == getpid());
    struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigaction(SIGIO, &sa, NULL);
    show("setsig rt+1", fcntl(p[0], F_SETSIG, SIGRTMIN + 1));
    show("getsig", fcntl(p[0], F_GETSIG) == SIGRTMIN + 1);
    fcntl(p[0], F_SETFL, O_ASYNC);
    write(p[1], "x", 1);
    printf("O_ASYNC write: signal %s, si_fd ok %d, si_code %d\n", got_sig == SIGRTMIN + 1 ? "rt+1" : "none",
           got_fd == p[0], got_code);
    close(p[0]), close(p[1]);

    /* dnotify */
    char dir[] = "/tmp/dnotifyXXXXXX";
    mkdtemp(dir);
    int d = open(dir, O_RDONLY);
    int f = open(path, O_RDONLY);
    show("F_NOTIFY on a file", fcntl(f, F_NOTIFY, DN_CREATE));
    close(f);
    fcntl(d, F_SETSIG, SIGRTMIN + 1);
    show("F_NOTIFY create on a directory", fcntl(d, F_NOTIFY, DN_CREATE));
    got_sig = 0;
    char name[64];
    snprintf(name, sizeof(name), "%s/new", dir);
    close(creat(name, 0600));
    printf("dnotify create: signal %s, si_fd ok %d\n", got_sig ? "yes" : "no", got_fd == d);
    got_sig = 0;
    unlink(name);
    close(creat(name, 0600));
    printf("oneshot, second create: signal %s\n", got_sig ? "yes" : "no");
    unlink(name);
    rmdir(dir);
    close(d);
}

static void leases(void)
{
    int r = open(path, O_RDONLY), w = open(path, O_RDWR);
    show("read lease with a writer open", fcntl(r, F_SETLEASE, F_RDLCK));
    close(w);
    show("read lease on O_RDWR", fcntl((w = open(path, O_RDWR)), F_SETLEASE, F_RDLCK));
    close(w);
    show("read lease", fcntl(r, F_SETLEASE, F_RDLCK));
    show("getlease", fcntl(r, F_GETLEASE));
    show("bad lease type", fcntl(r, F_SETLEASE, 5));
    show("upgrade to a write lease, alone", fcntl(r, F_SETLEASE, F_WRLCK));
    int p[2];
    pipe(p);
    show("lease on a pipe", fcntl(p[0], F_SETLEASE, F_RDLCK));
    close(p[0]), close(p[1]);
    got_sig = 0;
    struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
    sigaction(SIGIO, &sa, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(path, O_WRONLY | O_NONBLOCK);
        printf("child's non-blocking open for writing: %s\n", o < 0 ? ename(errno) : "opened");
        _exit(0);
    }
    reap(pid, NULL);
    printf("holder told: %s\n", got_sig == SIGIO ? "SIGIO" : "no");
    show("getlease while breaking", fcntl(r, F_GETLEASE));
    show("unlock", fcntl(r, F_SETLEASE, F_UNLCK));
    show("unlock again", fcntl(r, F_SETLEASE, F_UNLCK));
    pid = fork();
    if (pid == 0) {
        int o = open(path, O_WRONLY | O_NONBLOCK);
        printf("child's open after the unlock: %s\n", o < 0 ? ename(errno) : "opened");
        _exit(0);
    }
    reap(pid, NULL);
    close(r);
}

/* A neighbour of fcntl's: fdatasync on a FIFO (nothing to make durable:
 * EINVAL, as for a device). */
static void misc(void)
{
    char fifo[] = "/tmp/lockerfifo";
    mkfifo(fifo, 0600);
    int n = open(fifo, O_RDWR);
    show("fdatasync on a FIFO", fdatasync(n));
    show("fsync on a FIFO", fsync(n));
    close(n);
    unlink(fifo);
}

/* Vigil only (root, /proc): epoll on the mount table says EPOLLPRI once
 * per change, as proc(5) says /proc/mounts' poll does. */
static int mounts(void)
{
    char dir[] = "/tmp/lockermntXXXXXX";
    mkdtemp(dir);
    int m = open("/proc/self/mounts", O_RDONLY), ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLPRI }, out = { 0 };
    show("epoll_ctl on /proc/self/mounts", epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev));
    show("no change yet", epoll_wait(ep, &out, 1, 0));
    show("mount", mount("none", dir, "tmpfs", 0, NULL));
    show("events after a mount", epoll_wait(ep, &out, 1, 1000));
    printf("  EPOLLPRI %d EPOLLERR %d\n", !!(out.events & EPOLLPRI), !!(out.events & EPOLLERR));
    show("told once", epoll_wait(ep, &out, 1, 0));
    int in = inotify_init1(IN_NONBLOCK);
    show("inotify watch on the mount", inotify_add_watch(in, dir, IN_ALL_EVENTS) > 0);
    show("umount", umount(dir));
    show("events after the umount", epoll_wait(ep, &out, 1, 1000));
    char buf[256] __attribute__((aligned(8)));
    long n = read(in, buf, sizeof(buf));
    for (char *p = buf; n > 0 && p < buf + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
        printf("inotify event %#x\n", ((struct inotify_event *)p)->mask);
    close(in);
    rmdir(dir);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "mounts"))
        return mounts();
    misc();
    close(mkstemp(path));
    ofd();
    deadlock();
    owners();
    leases();
    unlink(path);
    return 0;
}
