/* cpushare N SECONDS: N CPU-bound children run side by side; after the
 * given wall time the parent stops them and prints each one's CPU time as
 * the kernel accounted it (wait4's rusage), in ticks of 10 ms. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    int secs = argc > 2 ? atoi(argv[2]) : 2;
    pid_t kids[64];
    for (int i = 0; i < n && i < 64; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            for (volatile unsigned long x = 0;; x++)
                ;
    }
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
