/* pathfinder [inherit|none] [BUDGET]: the Mars Pathfinder priority
 * inversion (1997), with SCHED_FIFO threads and one mutex whose protocol is
 * PTHREAD_PRIO_INHERIT ("inherit", the default) or PTHREAD_PRIO_NONE.
 *
 *   main  priority 40 (it sets the stage, then only waits)
 *   low   priority 10: takes the mutex, and holds it until high has asked
 *         for it and a short critical section (LOW_WORK loop turns) is done
 *   hogs  priority 20, one per online CPU: spin until high is done, or until
 *         each has run BUDGET million loop turns (default 1000), and then
 *         raise hogs_done
 *   high  priority 30: locks the mutex and records whether hogs_done was
 *         still down at that moment
 *
 * The order is made certain, not left to timing: low has the mutex before
 * the first hog is created; every hog is spinning before high is created.
 * From then on the hogs fill every CPU and starve low (10 < 20), which holds
 * what high (30) needs. With priority inheritance the kernel lends low
 * high's priority while high waits, low preempts a hog, finishes and unlocks,
 * and high gets the mutex while the hogs still run:
 *
 *   pathfinder: high got the mutex before the hogs finished: yes
 *
 * Without it (protocol "none", or a kernel that ignores the protocol) low
 * runs only when the hogs have spent their budget, and the answer is "no".
 * The hogs' budget only bounds the broken case: with inheritance they stop
 * as soon as high is done. LOW_WORK is a ten-thousandth of a hog's budget,
 * so the outcome does not depend on the machine's speed (a quarter of a
 * second of hogging on a fast PC; under QEMU's TCG a few seconds). The other lines are for
 * diagnosis; those marked (varies) differ from run to run. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_HOGS 64

static pthread_mutex_t mutex;
static sem_t low_locked, hog_started;
static long budget;             /* loop turns per hog */
static long low_work;           /* loop turns in low's critical section after high asked */
static int high_started, high_done, hogs_done, hogs_finished;
static int low_finished_with_hogs_done = -1;
static int high_saw_hogs_done = -1, high_lock_err = -1;
static long hog_turns[MAX_HOGS];
static long low_spins_before_high;

static void die(const char *what, int e)
{
    printf("pathfinder: %s: %s\n", what, strerror(e));
    fflush(stdout);
    exit(1);
}

static void spin(long n)
{
    for (volatile long i = 0; i < n; i++)
        ;
}

static void *low(void *arg)
{
    int e = pthread_mutex_lock(&mutex);
    if (e)
        die("low: lock", e);
    sem_post(&low_locked);
    /* Hold the mutex until high has asked for it. Until then low mostly
     * does not run at all: the hogs have the CPUs. */
    while (!__atomic_load_n(&high_started, __ATOMIC_ACQUIRE))
        low_spins_before_high++;
    spin(low_work);
    low_finished_with_hogs_done = __atomic_load_n(&hogs_done, __ATOMIC_ACQUIRE);
    e = pthread_mutex_unlock(&mutex);
    if (e)
        die("low: unlock", e);
    return NULL;
}

static void *hog(void *arg)
{
    long me = (long)arg;
    sem_post(&hog_started);
    long n = 0;
    while (n < budget && !__atomic_load_n(&high_done, __ATOMIC_ACQUIRE)) {
        spin(1000);
        n += 1000;
    }
    hog_turns[me] = n;
    if (n >= budget) {
        __atomic_store_n(&hogs_done, 1, __ATOMIC_RELEASE);
        __atomic_fetch_add(&hogs_finished, 1, __ATOMIC_ACQ_REL);
    }
    return NULL;
}

static void *high(void *arg)
{
    __atomic_store_n(&high_started, 1, __ATOMIC_RELEASE);
    high_lock_err = pthread_mutex_lock(&mutex);
    high_saw_hogs_done = __atomic_load_n(&hogs_done, __ATOMIC_ACQUIRE);
    if (high_lock_err == 0)
        pthread_mutex_unlock(&mutex);
    __atomic_store_n(&high_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static pthread_t start(void *(*fn)(void *), void *arg, int prio)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, SCHED_FIFO);
    struct sched_param sp = { .sched_priority = prio };
    pthread_attr_setschedparam(&a, &sp);
    pthread_t t;
    int e = pthread_create(&t, &a, fn, arg);
    if (e)
        die("pthread_create (SCHED_FIFO)", e);
    pthread_attr_destroy(&a);
    return t;
}

int main(int argc, char **argv)
{
    const char *proto = argc > 1 ? argv[1] : "inherit";
    if (strcmp(proto, "inherit") && strcmp(proto, "none")) {
        fprintf(stderr, "usage: pathfinder [inherit|none] [BUDGET_MILLIONS]\n");
        return 2;
    }
    budget = (argc > 2 ? atol(argv[2]) : 1000) * 1000000L;
    low_work = budget / 10000;
    setvbuf(stdout, NULL, _IOLBF, 0);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nhogs = ncpu < 1 ? 1 : ncpu > MAX_HOGS ? MAX_HOGS : (int)ncpu;
    printf("pathfinder: protocol %s, %d hogs (one per online CPU)\n", proto, nhogs);

    struct sched_param sp = { .sched_priority = 40 };
    int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (e)
        die("main: SCHED_FIFO 40", e);

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    e = pthread_mutexattr_setprotocol(&ma, strcmp(proto, "inherit") ? PTHREAD_PRIO_NONE
                                                                     : PTHREAD_PRIO_INHERIT);
    if (e)
        die("pthread_mutexattr_setprotocol", e);
    e = pthread_mutex_init(&mutex, &ma);
    if (e)
        die("pthread_mutex_init", e);
    sem_init(&low_locked, 0, 0);
    sem_init(&hog_started, 0, 0);

    pthread_t tl = start(low, NULL, 10);
    while (sem_wait(&low_locked))
        ;
    printf("pathfinder: low holds the mutex before the hogs start: yes\n");

    pthread_t th[MAX_HOGS];
    for (long i = 0; i < nhogs; i++)
        th[i] = start(hog, (void *)i, 20);
    for (int i = 0; i < nhogs; i++)
        while (sem_wait(&hog_started))
            ;
    printf("pathfinder: all hogs running before high starts: yes\n");

    pthread_t tH = start(high, NULL, 30);
    pthread_join(tH, NULL);
    if (high_lock_err)
        die("high: lock", high_lock_err);
    printf("pathfinder: high got the mutex before the hogs finished: %s\n",
           high_saw_hogs_done ? "no" : "yes");
    for (int i = 0; i < nhogs; i++)
        pthread_join(th[i], NULL);
    pthread_join(tl, NULL);
    printf("pathfinder: low finished its critical section before the hogs finished: %s\n",
           low_finished_with_hogs_done ? "no" : "yes");
    long hogged = 0;
    for (int i = 0; i < nhogs; i++)
        hogged += hog_turns[i];
    printf("pathfinder: hogs spent %ld%% of their budget, %d of %d ran out (varies)\n",
           (long)(hogged * 100.0 / ((double)budget * nhogs)), hogs_finished, nhogs);
    printf("pathfinder: low's polls of high_started before high came: %ld (varies)\n",
           low_spins_before_high);
    return 0;
}
