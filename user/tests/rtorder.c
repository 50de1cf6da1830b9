/* rtorder: real-time priorities are strict. Everything runs on CPU 0 (an
 * affinity mask, so the result is the same at any CPU count). main, at
 * SCHED_FIFO 90, creates four threads in the worst order for a scheduler
 * that ignores priorities: SCHED_OTHER first, then FIFO 10, 20, 30. None of
 * them can run while main does; then main waits for them all. Each notes
 * when it starts and when it has finished spinning (long enough for many
 * timer ticks, so a scheduler that time-slices among them would interleave
 * them). Strict priorities give
 *
 *   rtorder: started 30 20 10 0; finished 30 20 10 0
 *
 * (0 is the SCHED_OTHER thread). Needs root (real time). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define N 4

static const int prio[N] = { 0, 10, 20, 30 };
static int started[N], finished[N];
static int nstarted, nfinished;

static void *worker(void *arg)
{
    int me = prio[(long)arg];
    started[__atomic_fetch_add(&nstarted, 1, __ATOMIC_SEQ_CST)] = me;
    for (volatile unsigned long x = 0; x < 30000000ul; x++)
        ;
    finished[__atomic_fetch_add(&nfinished, 1, __ATOMIC_SEQ_CST)] = me;
    return NULL;
}

int main(void)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    struct sched_param sp = { .sched_priority = 90 };
    int e = 0;
    if (sched_setaffinity(0, sizeof(one), &one) ||
        (e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))) {
        printf("rtorder: setup: %s\n", strerror(e ? e : errno));
        return 1;
    }
    pthread_t t[N];
    for (long i = 0; i < N; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&a, prio[i] ? SCHED_FIFO : SCHED_OTHER);
        struct sched_param p = { .sched_priority = prio[i] };
        pthread_attr_setschedparam(&a, &p);
        if ((e = pthread_create(&t[i], &a, worker, (void *)i))) {
            printf("rtorder: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    printf("rtorder: started");
    for (int i = 0; i < N; i++)
        printf(" %d", started[i]);
    printf("; finished");
    for (int i = 0; i < N; i++)
        printf(" %d", finished[i]);
    printf("\n");
    return 0;
}
