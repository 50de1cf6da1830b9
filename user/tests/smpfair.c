/* smpfair THREADS SECONDS: THREADS CPU-bound threads of one process (default
 * 3) spin side by side for SECONDS of wall time (default 2); then each reads
 * its own CPU time as the kernel accounted it (clock_gettime of
 * CLOCK_THREAD_CPUTIME_ID; on Vigil in 10 ms ticks) and main prints them:
 *
 *   smpfair: 3 threads, 2 CPUs online, 2 s
 *   thread 0 cpu_ms 1330
 *   thread 1 cpu_ms 1340
 *   thread 2 cpu_ms 1320
 *
 * With N threads on M CPUs (N > M) each should get M/N of the wall time.
 * When N is not a multiple of M, that takes the scheduler moving threads
 * between CPUs: a thread left alone on a CPU would get more than those that
 * share one. Main sleeps meanwhile (nanosleep) and stops them with a flag. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX 64

static volatile int go, stop;
static long cpu_ms[MAX];

static void *spinner(void *arg)
{
    long me = (long)arg;
    while (!go)
        ;
    unsigned long x = 0;
    while (!stop)
        x++;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    cpu_ms[me] = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return (void *)x;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    int secs = argc > 2 ? atoi(argv[2]) : 2;
    if (n < 1 || n > MAX || secs < 1) {
        fprintf(stderr, "usage: smpfair [THREADS [SECONDS]]\n");
        return 2;
    }
    printf("smpfair: %d threads, %ld CPUs online, %d s\n", n, sysconf(_SC_NPROCESSORS_ONLN),
           secs);
    pthread_t t[MAX];
    for (long i = 0; i < n; i++) {
        int e = pthread_create(&t[i], NULL, spinner, (void *)i);
        if (e) {
            printf("smpfair: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    go = 1;
    struct timespec ts = { secs, 0 };
    nanosleep(&ts, NULL);
    stop = 1;
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < n; i++)
        printf("thread %d cpu_ms %ld\n", i, cpu_ms[i]);
    return 0;
}
