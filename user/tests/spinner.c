/* spinner: preemption. A child spins forever without a syscall; if the
 * timer did not take the CPU from it, the parent would never run again.
 * The parent sleeps, then kills the spinner and reports. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    pid_t pid = fork();
    if (pid == 0)
        for (volatile unsigned long i = 0;; i++)
            ;
    /* Give the spinner the CPU for a while, several times over. */
    for (int i = 0; i < 5; i++) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    printf("spinner killed by signal %d; parent ran\n", WTERMSIG(st));
    return 0;
}
