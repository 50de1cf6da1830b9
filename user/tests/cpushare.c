/* cpushare [N [SECONDS]]: N CPU-bound children run side by side (default,
 * or N = 0: twice the CPUs plus one, so they always oversubscribe the CPUs
 * and cannot be a multiple of them); after SECONDS of wall time (default 2)
 * the parent stops them and prints each one's CPU time as the kernel
 * accounted it (wait4's rusage, in ticks of 10 ms):
 *
 *   cpushare: 5 children on 2 CPUs, 2 s
 *   child 0 cpu_ms 800
 *   ...
 *
 * The children start together: each waits for the parent to close a pipe. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX 64

int main(int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = argc > 1 ? atoi(argv[1]) : 0;
    int secs = argc > 2 ? atoi(argv[2]) : 2;
    if (n <= 0)
        n = (int)(2 * cpus + 1);
    if (n > MAX || secs < 1) {
        fprintf(stderr, "usage: cpushare [N [SECONDS]]\n");
        return 2;
    }
    printf("cpushare: %d children on %ld CPUs, %d s\n", n, cpus, secs);
    int start[2];
    if (pipe(start))
        return 1;
    pid_t kids[MAX];
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            char c;
            close(start[1]);
            if (read(start[0], &c, 1) != 0)
                _exit(1);
            for (volatile unsigned long x = 0;; x++)
                ;
        }
    }
    close(start[0]);
    close(start[1]);                    /* go */
    struct timespec ts = { secs, 0 };
    nanosleep(&ts, NULL);
    for (int i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < n; i++) {
        int st;
        struct rusage ru;
        wait4(kids[i], &st, 0, &ru);
        long ms = ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
                  ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
        printf("child %d cpu_ms %ld\n", i, ms);
    }
    return 0;
}
