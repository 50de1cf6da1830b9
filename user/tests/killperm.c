/* killperm: who may signal whom (kill(2)): the sender must be root
 * (effective uid 0), or its real or effective uid must equal the target's
 * real or saved set-user-ID; SIGCONT is also allowed within one session.
 * Everything else is EPERM, for kill, tgkill and tkill alike.
 *
 * As root, start targets with chosen (real, effective, saved) uids that
 * sleep; then, from senders with chosen uids, try signal 0 and SIGCONT on
 * each and print a table. Last, an unprivileged SIGKILL at a root process:
 * it must fail and the root process must still be there to die of the
 * SIGTERM its parent sends. Each line is the same on Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct ids {
    uid_t r, e, s;
};

static const struct ids targets[] = {
    { 0, 0, 0 }, { 1000, 1000, 1000 }, { 2000, 2000, 1000 }, { 0, 1000, 0 }, { 2000, 0, 2000 },
};
#define NT (int)(sizeof(targets) / sizeof(targets[0]))
static const struct ids senders[] = {
    { 1000, 1000, 1000 }, { 3000, 1000, 3000 }, { 1000, 3000, 3000 }, { 3000, 3000, 1000 },
    { 3000, 0, 3000 },
};
#define NS (int)(sizeof(senders) / sizeof(senders[0]))

static const char *result(long r)
{
    return r == 0 ? "ok" : errno == EPERM ? "EPERM" : errno == ESRCH ? "ESRCH" : strerror(errno);
}

static pid_t start_target(const struct ids *id, int newsession)
{
    int ready[2];
    if (pipe(ready))
        _exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        if (newsession && setsid() < 0)
            _exit(3);
        if (setresuid(id->r, id->e, id->s))
            _exit(4);
        close(ready[0]);
        if (write(ready[1], "x", 1) != 1)
            _exit(5);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1)
        printf("target %d did not start\n", (int)pid);
    close(ready[0]);
    return pid;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t tp[NT + 1];
    for (int t = 0; t < NT; t++)
        tp[t] = start_target(&targets[t], 0);
    tp[NT] = start_target(&targets[0], 1);         /* root, in a session of its own */

    for (int s = 0; s < NS; s++) {
        const struct ids *me = &senders[s];
        pid_t pid = fork();
        if (pid == 0) {
            if (setresuid(me->r, me->e, me->s))
                _exit(4);
            for (int t = 0; t <= NT; t++) {
                const struct ids *it = &targets[t < NT ? t : 0];
                printf("sender %u/%u/%u -> target %u/%u/%u%s:", me->r, me->e, me->s,
                       it->r, it->e, it->s, t < NT ? "" : " (other session)");
                printf(" kill0 %s", result(kill(tp[t], 0)));
                printf(" SIGCONT %s", result(kill(tp[t], SIGCONT)));
                printf(" tgkill0 %s", result(syscall(SYS_tgkill, tp[t], tp[t], 0)));
                printf(" tkill0 %s\n", result(syscall(SYS_tkill, tp[t], 0)));
            }
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }

    /* The symptom the promise names: a uid-1000 process SIGKILLs root. */
    pid_t pid = fork();
    if (pid == 0) {
        if (setresuid(1000, 1000, 1000))
            _exit(4);
        printf("uid 1000: kill(root, SIGKILL): %s\n", result(kill(tp[0], SIGKILL)));
        printf("uid 1000: tgkill(root, SIGKILL): %s\n",
               result(syscall(SYS_tgkill, tp[0], tp[0], SIGKILL)));
        printf("uid 1000: tkill(root, SIGKILL): %s\n", result(syscall(SYS_tkill, tp[0], SIGKILL)));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    for (int t = 0; t <= NT; t++) {
        kill(tp[t], SIGTERM);
        int st;
        waitpid(tp[t], &st, 0);
        if (t == 0)
            printf("root target: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited",
                   WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }
    return 0;
}
