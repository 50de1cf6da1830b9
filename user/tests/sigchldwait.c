/* sigchldwait - the call sequence trinity's main loop makes, found by
 * `./vigil fuzz` (docs/fuzz.md): SIGCHLD blocked with its default action
 * (ignore), a child that exits, then rt_sigtimedwait for SIGCHLD. Linux
 * keeps a blocked signal pending even when its action is to ignore it
 * (the action may change before it is unblocked), so sigtimedwait takes it;
 * Vigil discarded it, trinity never learnt its children had ended, and the
 * fuzz run stopped. Also: sigpending shows it, and once unblocked with the
 * default action it is dropped without harm. Prints what the host prints. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *code(int c)
{
    return c == CLD_EXITED ? "CLD_EXITED" : c == CLD_KILLED ? "CLD_KILLED" : "other";
}

int main(void)
{
    sigset_t chld, none, pend;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    /* 1: the child exits before the wait: pending, then taken. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    int st;
    siginfo_t si;
    struct timespec ts = { 20, 0 };
    memset(&si, 0, sizeof(si));
    int r = sigtimedwait(&chld, &si, &ts);
    printf("1: sigtimedwait %s", r == SIGCHLD ? "SIGCHLD" : strerror(errno));
    if (r == SIGCHLD)
        printf(" from the child %s, %s, status %d", si.si_pid == pid ? "yes" : "no",
               code(si.si_code), si.si_status);
    printf("\n");
    pid_t w = waitpid(pid, &st, 0);
    printf("1: waitpid %s, exit %d\n", w == pid ? "reaped" : "failed", WEXITSTATUS(st));

    /* 2: the child exits while we do something else: sigpending shows it. */
    pid = fork();
    if (pid == 0)
        _exit(3);
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    sigpending(&pend);
    printf("2: sigpending has SIGCHLD: %s\n", sigismember(&pend, SIGCHLD) ? "yes" : "no");
    /* Unblocked with the default action: dropped, the process lives on. */
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    sigpending(&pend);
    printf("2: after unblocking: pending %s, still alive\n",
           sigismember(&pend, SIGCHLD) ? "yes" : "no");
    waitpid(pid, &st, 0);

    /* 3: not blocked and ignored by default: discarded at once, so a short
     * sigtimedwait times out (EAGAIN), on Linux too. */
    pid = fork();
    if (pid == 0)
        _exit(0);
    waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    struct timespec zero = { 0, 0 };
    r = sigtimedwait(&chld, &si, &zero);
    printf("3: unblocked, then sigtimedwait: %s\n", r == SIGCHLD ? "SIGCHLD" : strerror(errno));
    waitpid(pid, &st, 0);
    return 0;
}
