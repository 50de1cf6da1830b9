/* initsig - init (pid 1) receives only the signals it has a handler for.
 *
 * A process whose parent has exited is adopted by init, and getppid()
 * then says 1: a program that signals "its parent" (LTP's kill10 does,
 * once its timeout has killed the parent) signals init. As on Linux,
 * where init is SIGNAL_UNKILLABLE, a signal whose action is the default
 * is discarded for init: kill() succeeds and nothing happens, even for
 * SIGKILL and SIGSTOP. Were they delivered, init would die (the machine
 * powers off) or stop (the machine goes silent) - issue 17's kill10 hang.
 *
 * The program forks a child that forks a grandchild and exits; the
 * grandchild, adopted, sends init every such signal and exits; the
 * program waits for it through a pipe (EOF once it is gone) and says
 * "init survived". Run as init's autorun program only, never on a host. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct { int sig; const char *name; } sigs[] = {
    { SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" }, { SIGTERM, "SIGTERM" },
    { SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
    { SIGALRM, "SIGALRM" }, { SIGPIPE, "SIGPIPE" }, { SIGSEGV, "SIGSEGV" },
    { SIGTSTP, "SIGTSTP" }, { SIGSTOP, "SIGSTOP" }, { SIGKILL, "SIGKILL" },
};

int main(void)
{
    int p[2];
    if (pipe(p))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        if (fork() == 0) {
            close(p[0]);
            while (getppid() != 1)
                usleep(1000);
            for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
                int r = kill(1, sigs[i].sig);
                printf("adopted: kill(init, %s): %s\n", sigs[i].name, r ? strerror(errno) : "ok");
                fflush(stdout);
                usleep(10000);
            }
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    waitpid(c, NULL, 0);
    char b;
    while (read(p[0], &b, 1) > 0)
        ;
    usleep(100000);
    printf("init survived\n");
    return 0;
}
