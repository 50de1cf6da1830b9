/* pidfds: process file descriptors (pidfd_open, pidfd_send_signal,
 * pidfd_getfd, waitid(P_PIDFD), clone3's CLONE_PIDFD and exit signal),
 * kcmp and setfsuid/setfsgid, good input and bad, as facts that do not
 * depend on timing: the same lines on Vigil and on Linux. Run as root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#define SYS_pidfd_send_signal 424
#define SYS_pidfd_getfd 438
#define SYS_clone3 435
#endif
#ifndef SYS_kcmp
#define SYS_kcmp 312
#endif
#define P_PIDFD_ 3
#define CLONE_PIDFD_ 0x1000

static const char *en(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case ECHILD: return "ECHILD";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case ENOENT: return "ENOENT";
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

static long pidfd_open(int pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static long pidfd_send(int fd, int sig, void *info, unsigned flags)
{
    return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}
static long pidfd_getfd(int fd, int target, unsigned flags)
{
    return syscall(SYS_pidfd_getfd, fd, target, flags);
}
static long kcmp(int a, int b, int type, unsigned long x, unsigned long y)
{
    return syscall(SYS_kcmp, a, b, type, x, y);
}

static const char *cmp(long r)
{
    return r == 0 ? "same" : r == 1 || r == 2 ? "differ" : r < 0 ? en(errno) : "?";
}

/* A child that waits for a byte on fd go, then exits with 7. */
static pid_t waiter(int go[2])
{
    if (pipe(go))
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0)
            _exit(3);
        _exit(7);
    }
    close(go[0]);
    return pid;
}

static volatile int got_usr2, got_chld;
static void on_usr2(int s) { (void)s; got_usr2++; }
static void on_chld(int s) { (void)s; got_chld++; }

struct clone_args_ {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void pidfd_basics(void)
{
    long fd = pidfd_open(getpid(), 0);
    say("pidfd_open(self)", fd);
    printf("pidfd close-on-exec: %s\n", fcntl((int)fd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    say("pidfd_send_signal(self, 0)", pidfd_send((int)fd, 0, NULL, 0));
    say("pidfd_send_signal(flags 99999)", pidfd_send((int)fd, 0, NULL, 99999));
    say("pidfd_send_signal(sig 65)", pidfd_send((int)fd, 65, NULL, 0));
    say("pidfd_send_signal(bad info)", pidfd_send((int)fd, SIGUSR1, (void *)16, 0));
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGUSR2;
    si.si_code = SI_QUEUE;
    say("pidfd_send_signal(info of another signal)", pidfd_send((int)fd, SIGUSR1, &si, 0));
    say("pidfd_send_signal(fd -1)", pidfd_send(-1, 0, NULL, 0));
    int p[2];
    if (pipe(p))
        exit(2);
    say("pidfd_send_signal(a pipe)", pidfd_send(p[0], 0, NULL, 0));
    say("pidfd_getfd(a pipe)", pidfd_getfd(p[0], 0, 0));
    close(p[0]), close(p[1]);
    say("pidfd_open(flags 1)", pidfd_open(getpid(), 1));
    say("pidfd_open(-1)", pidfd_open(-1, 0));
    say("pidfd_open(0)", pidfd_open(0, 0));
    say("pidfd_open(unused pid)", pidfd_open(3999999, 0));
    say("pidfd_getfd(self, fd 1)", pidfd_getfd((int)fd, 1, 0) >= 0 ? 0 : -1);
    say("pidfd_getfd(flags 1)", pidfd_getfd((int)fd, 1, 1));
    say("pidfd_getfd(bad target)", pidfd_getfd((int)fd, 1000, 0));
    siginfo_t wi;
    say("waitid(P_PIDFD, self)", waitid(P_PIDFD_, (id_t)fd, &wi, WEXITED | WNOHANG));
    say("waitid(P_PIDFD, a pipe)", waitid(P_PIDFD_, 0, &wi, WEXITED | WNOHANG));
    close((int)fd);
}

static void pidfd_child(void)
{
    int go[2];
    pid_t pid = waiter(go);
    int fd = (int)pidfd_open(pid, 0);
    struct pollfd pf = { fd, POLLIN, 0 };
    printf("poll before its exit: %d\n", poll(&pf, 1, 0));
    /* Its descriptor: the pipe's read end (go[0] in the child). */
    long got = pidfd_getfd(fd, go[0], 0);
    say("pidfd_getfd(child's pipe)", got);
    printf("kcmp(got, child's): %s\n", cmp(kcmp(getpid(), pid, 0, (unsigned long)got, (unsigned long)go[0])));
    printf("kcmp(got, our write end): %s\n", cmp(kcmp(getpid(), getpid(), 0, (unsigned long)got, (unsigned long)go[1])));
    printf("got close-on-exec: %s\n", fcntl((int)got, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    close((int)got);
    if (write(go[1], "x", 1) != 1)
        exit(2);
    int n = poll(&pf, 1, 5000);
    printf("poll after its exit: %d revents POLLIN %s\n", n, pf.revents & POLLIN ? "yes" : "no");
    siginfo_t wi;
    memset(&wi, 0, sizeof(wi));
    say("waitid(P_PIDFD, child)", waitid(P_PIDFD_, (id_t)fd, &wi, WEXITED));
    printf("waitid found: %s, status %d\n", wi.si_pid == pid ? "the child" : "another", wi.si_status);
    say("pidfd_send_signal(reaped child)", pidfd_send(fd, SIGUSR1, NULL, 0));
    say("pidfd_getfd(reaped child)", pidfd_getfd(fd, 0, 0));
    say("waitid(P_PIDFD, reaped child)", waitid(P_PIDFD_, (id_t)fd, &wi, WEXITED));
    close(fd);

    /* Non-blocking: nothing yet is EAGAIN, not 0. */
    pid = waiter(go);
    fd = (int)pidfd_open(pid, O_NONBLOCK);
    printf("nonblocking pidfd O_NONBLOCK: %s\n", fcntl(fd, F_GETFL) & O_NONBLOCK ? "yes" : "no");
    say("waitid(P_PIDFD, nonblocking, running child)", waitid(P_PIDFD_, (id_t)fd, &wi, WEXITED));
    if (write(go[1], "x", 1) != 1)
        exit(2);
    struct pollfd pf2 = { fd, POLLIN, 0 };
    poll(&pf2, 1, 5000);
    say("waitid(P_PIDFD, nonblocking, exited child)", waitid(P_PIDFD_, (id_t)fd, &wi, WEXITED));
    close(fd);
    close(go[1]);
}

/* The rules for another user: a uid-65534 process may not signal or take
 * files from root through a pidfd, nor send a kernel's si_code. */
static void pidfd_perms(void)
{
    int fd = (int)pidfd_open(getpid(), 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        si.si_signo = SIGUSR1;
        si.si_code = SI_USER;
        say("child: pidfd_send_signal(parent, si_code SI_USER)", pidfd_send(fd, SIGUSR1, &si, 0));
        if (setuid(65534))
            _exit(3);
        say("nobody: pidfd_send_signal(root, SIGUSR1)", pidfd_send(fd, SIGUSR1, NULL, 0));
        say("nobody: pidfd_getfd(root)", pidfd_getfd(fd, 1, 0));
        say("nobody: kcmp(root, root)", kcmp(getppid(), getppid(), 1, 0, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    close(fd);
}

static void kcmp_facts(void)
{
    int me = getpid();
    printf("kcmp(self, self, VM): %s\n", cmp(kcmp(me, me, 1, 0, 0)));
    printf("kcmp(self, self, FILE 0, 0): %s\n", cmp(kcmp(me, me, 0, 0, 0)));
    int d = dup(0);
    printf("kcmp(self, self, FILE 0, dup): %s\n", cmp(kcmp(me, me, 0, 0, (unsigned long)d)));
    close(d);
    int go[2];
    pid_t pid = waiter(go);
    printf("kcmp(self, child, VM): %s\n", cmp(kcmp(me, pid, 1, 0, 0)));
    printf("kcmp(self, child, FILES): %s\n", cmp(kcmp(me, pid, 2, 0, 0)));
    printf("kcmp(self, child, FILE 1, 1): %s\n", cmp(kcmp(me, pid, 0, 1, 1)));
    printf("kcmp(self, child, FILE bad fd): %s\n", cmp(kcmp(me, pid, 0, 1, 999)));
    printf("kcmp(type 8): %s\n", cmp(kcmp(me, me, 8, 0, 0)));
    printf("kcmp(type -1): %s\n", cmp(kcmp(me, me, -1, 0, 0)));
    printf("kcmp(unused pid): %s\n", cmp(kcmp(me, 3999999, 1, 0, 0)));
    if (write(go[1], "x", 1) != 1)
        exit(2);
    close(go[1]);
    waitpid(pid, NULL, 0);
}

static void clone3_facts(void)
{
    signal(SIGUSR2, on_usr2);
    signal(SIGCHLD, on_chld);
    int pfd = -1;
    struct clone_args_ a = { CLONE_PIDFD_, (uint64_t)(uintptr_t)&pfd, 0, 0, SIGUSR2, 0, 0, 0 };
    fflush(stdout);
    long pid = syscall(SYS_clone3, &a, sizeof(a));
    if (pid == 0)
        _exit(5);
    say("clone3(CLONE_PIDFD, exit signal SIGUSR2)", pid);
    struct pollfd pf = { pfd, POLLIN, 0 };
    poll(&pf, 1, 5000);
    siginfo_t wi;
    memset(&wi, 0, sizeof(wi));
    say("waitid(P_PIDFD, clone3 child)", waitid(P_PIDFD_, (id_t)pfd, &wi, WEXITED | __WALL));
    printf("clone3 child: status %d, parent heard SIGUSR2 %d SIGCHLD %d\n", wi.si_status,
           got_usr2, got_chld);
    close(pfd);
    a.pidfd = 16;                                       /* unwritable */
    a.exit_signal = SIGCHLD;
    pid = syscall(SYS_clone3, &a, sizeof(a));
    if (pid == 0)
        _exit(5);
    say("clone3(CLONE_PIDFD, bad pidfd pointer)", pid);
    say("wait after it (no child was made)", waitpid(-1, NULL, WNOHANG | __WALL));
    signal(SIGUSR2, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
}

static void fsid_facts(void)
{
    int fd = open("/tmp/pidfds-secret", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    close(fd);
    mkdir("/tmp/pidfds-d", 0777);
    chmod("/tmp/pidfds-d", 0777);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("setfsuid(65534) returns %ld\n", syscall(SYS_setfsuid, 65534));
        printf("setfsuid(-1) returns %ld\n", syscall(SYS_setfsuid, -1));
        printf("setfsgid(65534) returns %ld\n", syscall(SYS_setfsgid, 65534));
        say("fsuid 65534: open(root's 0600 file)", open("/tmp/pidfds-secret", O_RDONLY));
        int n = open("/tmp/pidfds-d/mine", O_CREAT | O_WRONLY | O_TRUNC, 0644);
        struct stat st;
        if (n < 0 || fstat(n, &st))
            printf("fsuid 65534: create: %s\n", en(errno));
        else
            printf("fsuid 65534 creates a file owned by %u:%u\n", st.st_uid, st.st_gid);
        close(n);
        unlink("/tmp/pidfds-d/mine");
        printf("getuid %d geteuid %d (unchanged)\n", getuid(), geteuid());
        printf("setfsuid(0) returns %ld\n", syscall(SYS_setfsuid, 0));
        say("fsuid 0: open(root's 0600 file)", open("/tmp/pidfds-secret", O_RDONLY));
        if (setresuid(1000, 1000, 1000))
            _exit(3);
        printf("uid 1000: setfsuid(0) returns %ld\n", syscall(SYS_setfsuid, 0));
        printf("uid 1000: setfsuid(-1) returns %ld (still its own)\n", syscall(SYS_setfsuid, -1));
        printf("uid 1000: setfsgid(0) returns %ld\n", syscall(SYS_setfsgid, 0));
        printf("uid 1000: setfsgid(-1) returns %ld\n", syscall(SYS_setfsgid, -1));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    unlink("/tmp/pidfds-secret");
    rmdir("/tmp/pidfds-d");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pidfd_basics();
    pidfd_child();
    pidfd_perms();
    kcmp_facts();
    clone3_facts();
    fsid_facts();
    printf("pidfds: done\n");
    return 0;
}
