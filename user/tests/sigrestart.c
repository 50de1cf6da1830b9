/* sigrestart.c - which sleeps a signal cuts short, and which start again
 * (tests/test_signals.py runs it on the host's Linux and on Vigil and
 * compares every line).
 *
 * A child sleeps in one blocking call; the parent waits until it is
 * asleep there (/proc/PID/stat says S), interrupts it one way, waits until
 * it is asleep again or has answered, then lets the call finish (writes
 * the pipe, wakes the futex, sends the message...). The child's answer is
 * one line: the call's result, or its errno; the parent says which call
 * the child sleeps in once it sleeps again (/proc/PID/syscall: a sleep
 * goes on as restart_syscall, to its first end, not for its whole length
 * again: nanosleep, a poll or a futex wait with a timeout). signal(7) says
 * what Linux does, and this checks it:
 *   - stop:    SIGSTOP, then SIGCONT, no handler anywhere: the calls
 *              restart, except those that say EINTR after a stop
 *              (epoll_wait, semop, sigtimedwait);
 *   - traced:  a tracer takes SIGUSR1 at the signal-delivery stop (no
 *              handler runs): the same (strace -f, with SIGCHLD);
 *   - ignored: SIGURG, ignored by default: the sleep never notices;
 *   - handler: SIGUSR1 caught, without SA_RESTART: EINTR everywhere;
 *   - restart: caught with SA_RESTART: read, wait4, futex and flock go on,
 *              poll, select, epoll_wait, nanosleep, sigtimedwait, semop
 *              and msgrcv say EINTR ("never restarted"), and a futex wait
 *              with a timeout does too.
 *
 *   sigrestart DIR (a directory for the flock file) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/ptrace.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "errname.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

enum call { READ, WAIT4, POLL, SELECT, EPOLL, NANOSLEEP, FUTEX, FUTEX_TIMED, SIGTIMEDWAIT, SEMOP,
            MSGRCV, FLOCK, NCALLS };
static const char *call_name[] = { "read", "wait4", "poll", "select", "epoll_wait", "nanosleep",
                                   "futex", "futex timed", "sigtimedwait", "semop", "msgrcv",
                                   "flock" };
enum how { STOP, TRACED, IGNORED, HANDLER, RESTART, NHOWS };
static const char *how_name[] = { "stop", "traced", "ignored", "handler", "restart" };

static int data[2];             /* the pipe read sleeps on (and poll, select, epoll) */
static int gate[2];             /* wait4's grandchild exits when this is written */
static volatile int *word;      /* the futex */
static int semid, msqid;
static const char *lockfile;

static void on_usr1(int s) { (void)s; }

/* /proc/PID/stat's state letter, or 0. */
static char state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

static void nap(void)
{
    struct timespec t = { 0, 2 * 1000 * 1000 };
    nanosleep(&t, NULL);
}

static pid_t tracee;            /* the child, while the parent traces it */

/* A traced child stopped at another signal (its grandchild's SIGCHLD):
 * the tracer takes that one too. */
static void service(void)
{
    int st;
    if (tracee > 0 && waitpid(tracee, &st, WNOHANG) == tracee && WIFSTOPPED(st))
        ptrace(PTRACE_CONT, tracee, 0, 0);
}

/* Until pid sleeps (S), or something answered on fd. */
static int asleep_or_answered(pid_t pid, int fd)
{
    for (int i = 0; i < 5000; i++) {
        service();
        struct pollfd p = { fd, POLLIN, 0 };
        if (fd >= 0 && poll(&p, 1, 0) == 1)
            return 1;
        if (state(pid) == 'S')
            return 0;
        nap();
    }
    return -1;
}

/* /proc/PID/syscall's first word: the call pid sleeps in (restart_syscall,
 * 219, for the rest of a sleep a stop cut short), or "running". */
static const char *in_call(pid_t pid)
{
    static char word[32];
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, word, sizeof(word) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return ename(errno);
    word[n] = 0;
    word[strcspn(word, " \n")] = 0;
    return word;
}

/* The child: sleep in c, say how it ended on out. */
static void sleeper(enum call c, enum how h, int out)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_usr1;
    sa.sa_flags = h == RESTART ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t two;
    sigemptyset(&two);
    sigaddset(&two, SIGUSR2);
    sigprocmask(SIG_BLOCK, &two, NULL);         /* for sigtimedwait */
    pid_t g = -1;
    if (c == WAIT4 && (g = fork()) == 0) {
        char x;
        (void)!read(gate[0], &x, 1);
        _exit(7);
    }
    int ep = -1;
    if (c == EPOLL) {
        ep = epoll_create1(0);
        struct epoll_event ev = { .events = EPOLLIN };
        epoll_ctl(ep, EPOLL_CTL_ADD, data[0], &ev);
    }
    int lf = c == FLOCK ? open(lockfile, O_RDWR) : -1;
    long r;
    char buf[16];
    struct pollfd pf = { data[0], POLLIN, 0 };
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(data[0], &rd);
    struct epoll_event got;
    struct timespec three = { 3, 0 }, ten = { 10, 0 };   /* (long enough to be read asleep) */
    struct sembuf down = { 0, -1, 0 };
    struct { long type; char text[8]; } msg;
    int status = 0;
    switch (c) {
    case READ: r = read(data[0], buf, sizeof(buf)); break;
    case WAIT4: r = wait4(g, &status, 0, NULL); r = r == g ? WEXITSTATUS(status) : r; break;
    case POLL: r = poll(&pf, 1, 10000); break;
    case SELECT: r = select(data[0] + 1, &rd, NULL, NULL, NULL); break;
    case EPOLL: r = epoll_wait(ep, &got, 1, 10000); break;
    case NANOSLEEP: r = nanosleep(&three, NULL); break;
    case FUTEX: r = syscall(SYS_futex, word, FUTEX_WAIT, 0, NULL, NULL, 0); break;
    case FUTEX_TIMED: r = syscall(SYS_futex, word, FUTEX_WAIT, 0, &ten, NULL, 0); break;
    case SIGTIMEDWAIT:                          /* (musl's wrapper tries again on EINTR) */
        r = syscall(SYS_rt_sigtimedwait, &two, NULL, &ten, 8);
        break;
    case SEMOP: r = semop(semid, &down, 1); break;
    case MSGRCV: r = msgrcv(msqid, &msg, sizeof(msg.text), 0, 0); break;
    case FLOCK: r = flock(lf, LOCK_EX); break;
    default: r = -1;
    }
    char line[96];
    int n = r < 0 ? snprintf(line, sizeof(line), "%s %s: %s\n", call_name[c], how_name[h], ename(errno))
                  : snprintf(line, sizeof(line), "%s %s: %ld\n", call_name[c], how_name[h], r);
    (void)!write(out, line, (size_t)n);
    if (c == WAIT4 && r < 0) {                  /* (the grandchild is still there) */
        kill(g, SIGKILL);
        waitpid(g, NULL, 0);
    }
    _exit(0);
}

/* What lets call c finish. */
static void finish(enum call c, pid_t child)
{
    struct sembuf up = { 0, 1, 0 };
    struct { long type; char text[8]; } msg = { 1, "m" };
    switch (c) {
    case READ: case POLL: case SELECT: case EPOLL: (void)!write(data[1], "x", 1); break;
    case WAIT4: (void)!write(gate[1], "x", 1); break;
    case FUTEX: case FUTEX_TIMED:
        *word = 1;
        syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
        break;
    case SIGTIMEDWAIT: kill(child, SIGUSR2); break;
    case SEMOP: semop(semid, &up, 1); break;
    case MSGRCV: msgsnd(msqid, &msg, 2, 0); break;
    case FLOCK: break;                          /* the parent's lock goes below */
    case NANOSLEEP: default: break;
    }
}

static void one(enum call c, enum how h)
{
    int res[2];
    if (pipe(data) || pipe(gate) || pipe(res)) {
        perror("pipe");
        exit(1);
    }
    *word = 0;
    semid = semget(IPC_PRIVATE, 1, 0600);
    msqid = msgget(IPC_PRIVATE, 0600);
    int lf = open(lockfile, O_RDWR | O_CREAT, 0600);
    flock(lf, LOCK_EX);                         /* the child's flock waits for this */
    pid_t child = fork();
    if (child == 0) {
        close(res[0]);
        close(lf);                              /* (its own open file: its own lock) */
        sleeper(c, h, res[1]);
    }
    close(res[1]);
    int wait = asleep_or_answered(child, -1);
    switch (h) {
    case STOP: {
        int st;
        kill(child, SIGSTOP);
        waitpid(child, &st, WUNTRACED);
        kill(child, SIGCONT);
        waitpid(child, &st, WCONTINUED);
        break;
    }
    case TRACED: {
        int st;
        if (ptrace(PTRACE_SEIZE, child, 0, 0)) {
            perror("PTRACE_SEIZE");
            break;
        }
        tracee = child;
        kill(child, SIGUSR1);
        if (waitpid(child, &st, 0) == child && WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1)
            ptrace(PTRACE_CONT, child, 0, 0);   /* taken: no handler runs */
        else
            printf("%s traced: no signal-delivery stop (%#x)\n", call_name[c], st);
        break;
    }
    case IGNORED: kill(child, SIGURG); break;
    case HANDLER: case RESTART: kill(child, SIGUSR1); break;
    default: break;
    }
    int again = asleep_or_answered(child, res[0]);
    if (wait != 0 || again < 0)
        printf("%s %s: the child never slept (%d, %d)\n", call_name[c], how_name[h], wait, again);
    if (again == 0)
        printf("%s %s: asleep again in %s\n", call_name[c], how_name[h], in_call(child));
    finish(c, child);
    flock(lf, LOCK_UN);
    close(lf);
    char line[128];
    struct pollfd p = { res[0], POLLIN, 0 };
    for (int i = 0; i < 1000 && poll(&p, 1, 10) == 0; i++)
        service();
    ssize_t n = read(res[0], line, sizeof(line) - 1);
    if (n > 0) {
        line[n] = 0;
        fputs(line, stdout);
    } else {
        printf("%s %s: no answer\n", call_name[c], how_name[h]);
    }
    int st;
    while (waitpid(child, &st, 0) == child && !WIFEXITED(st) && !WIFSIGNALED(st))
        ptrace(PTRACE_CONT, child, 0, 0);       /* (a tracee's other stops: let it go) */
    tracee = 0;
    semctl(semid, 0, IPC_RMID);
    msgctl(msqid, IPC_RMID, NULL);
    close(data[0]), close(data[1]), close(gate[0]), close(gate[1]), close(res[0]);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sigrestart DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/sigrestart.lock", argv[1]);
    lockfile = path;
    word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int h = 0; h < NHOWS; h++)
        for (int c = 0; c < NCALLS; c++)
            one((enum call)c, (enum how)h);
    unlink(path);
    /* Called by a program itself, with nothing to finish: EINTR. */
    long r = syscall(SYS_restart_syscall);
    printf("restart_syscall called: %s\n", r < 0 ? ename(errno) : "returned");
    printf("sigrestart done\n");
    return 0;
}
