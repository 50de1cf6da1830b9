/* counter lock|nolock [THREADS [TOTAL]]: THREADS threads (default 4) add 1
 * to one shared counter TOTAL times in all (default 1000000), each its
 * share, all starting together (each waits until all have arrived). The increment is a plain read-modify-write
 * of memory (load, add, store); "lock" puts a pthread mutex around it,
 * "nolock" leaves it bare.
 *
 *   counter: lock, 4 threads, 1000000 increments: counted 1000000, exact
 *   counter: nolock, 4 threads, 20000000 increments: counted 12345678, lost 7654322 (attempt 1)
 *
 * With the lock the count must be exact on any number of CPUs (mutual
 * exclusion). Without it, updates are lost whenever two increments overlap:
 * on several CPUs that happens all the time, provided the threads run long
 * enough to overlap (give nolock tens of millions: a million takes a fast
 * CPU a millisecond, less than a time slice on a busy host; and an attempt
 * that loses nothing is repeated, up to 10 times); on one CPU only when a
 * timer preemption lands inside the three-instruction window. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;
static int arrived, nthreads;
static int use_lock;

static void *worker(void *arg)
{
    long n = (long)arg;
    /* Start together: every thread has arrived before any increments. */
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < nthreads)
        ;
    for (long i = 0; i < n; i++) {
        if (use_lock)
            pthread_mutex_lock(&lock);
        counter = counter + 1;          /* volatile: a real load and store */
        if (use_lock)
            pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "lock") && strcmp(argv[1], "nolock"))) {
        fprintf(stderr, "usage: counter lock|nolock [THREADS [TOTAL]]\n");
        return 2;
    }
    use_lock = !strcmp(argv[1], "lock");
    nthreads = argc > 2 ? atoi(argv[2]) : 4;
    long total = argc > 3 ? atol(argv[3]) : 1000000;
    if (nthreads < 1 || nthreads > 64 || total < nthreads) {
        fprintf(stderr, "counter: bad arguments\n");
        return 2;
    }
    /* nolock: if an attempt happens to lose nothing (the threads never ran
     * at the same moment: a busy host, a fast CPU), try again, up to 10
     * times; one loss is the proof. lock: one attempt. */
    int attempts = use_lock ? 1 : 10, attempt;
    for (attempt = 1; attempt <= attempts; attempt++) {
        counter = 0;
        arrived = 0;
        pthread_t t[64];
        long per_thread = total / nthreads;
        for (int i = 0; i < nthreads; i++) {
            /* The first thread takes the remainder, so the shares sum to total. */
            long n = per_thread + (i == 0 ? total % nthreads : 0);
            int e = pthread_create(&t[i], NULL, worker, (void *)n);
            if (e) {
                printf("counter: pthread_create: %s\n", strerror(e));
                return 1;
            }
        }
        for (int i = 0; i < nthreads; i++)
            pthread_join(t[i], NULL);
        if (counter != total)
            break;
    }
    printf("counter: %s, %d threads, %ld increments: counted %ld, ", argv[1], nthreads,
           total, counter);
    if (counter == total)
        printf("exact\n");
    else
        printf("lost %ld (attempt %d)\n", total - counter, attempt);
    return 0;
}
