/* signals: how processes die. Each child faults in its own way; the parent
 * reports what wait() says. With an argument, the program itself dies that
 * way (so the harness sees the signal as the exit status). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *how)
{
    if (!strcmp(how, "segv")) {
        volatile uintptr_t addr = 16;   /* volatile: the compiler may not assume */
        *(volatile int *)addr = 1;
    } else if (!strcmp(how, "fpe")) {
        volatile int z = 0, x = 100;   /* volatile both: no folding of x / 0 */
        printf("%d\n", x / z);
    } else if (!strcmp(how, "ill")) {
        __asm__ volatile("ud2");
    } else if (!strcmp(how, "kill")) {
        kill(getpid(), SIGKILL);
    } else if (!strcmp(how, "term")) {
        kill(getpid(), SIGTERM);
    } else if (!strcmp(how, "exit7")) {
        _exit(7);
    }
    _exit(100);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        die(argv[1]);
    const char *ways[] = { "segv", "fpe", "ill", "kill", "term", "exit7" };
    for (unsigned i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
        pid_t pid = fork();
        if (pid == 0)
            die(ways[i]);
        int st;
        waitpid(pid, &st, 0);
        if (WIFSIGNALED(st))
            printf("%s: killed by signal %d\n", ways[i], WTERMSIG(st));
        else
            printf("%s: exited %d\n", ways[i], WEXITSTATUS(st));
    }
    /* kill() of a sleeping child, and of nobody. */
    pid_t pid = fork();
    if (pid == 0) {
        sleep(100);
        _exit(1);
    }
    printf("kill sleeper: %d\n", kill(pid, SIGTERM));
    int st;
    waitpid(pid, &st, 0);
    printf("sleeper: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
    printf("kill nobody: %d\n", kill(999999, SIGTERM));
    return 0;
}
