/* pichain: priority inheritance beyond one waiter, as orders of events on
 * one CPU (an affinity mask, so the same at any CPU count). Every thread is
 * SCHED_FIFO; main runs at 90 and drops to 1 when it wants the others to
 * run until they block, so who runs when is decided by priorities alone.
 * Mutexes are PTHREAD_PRIO_INHERIT (FUTEX_LOCK_PI/UNLOCK_PI).
 *
 *  handover: main holds M; waiters of priority 10, 20 and 30 block on it in
 *    that order; main unlocks. Each waiter notes itself when it gets M and
 *    passes it on. The lock goes to the highest priority first, not in
 *    queue order:                               "handover: 30 20 10"
 *  chain: C (2) holds MB and waits for a semaphore; B (10) holds MA and
 *    blocks on MB; A (30) blocks on MA. A hog (20) becomes runnable and C's
 *    semaphore is posted: C must run at A's priority (through B), so C, B
 *    and A all finish before the hog:           "chain: C B A hog"
 *  timeout: L (5) holds M and waits for a semaphore; A (30) blocks on M
 *    with a timeout and gives up. Then a hog (20) and L are both runnable:
 *    L's loan from A ended with A's wait, so the hog goes first:
 *                                               "timeout: A timed out, hog, L"
 * Needs root (real time). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char events[16][16];
static int nevents;

static void note(const char *what)
{
    int i = __atomic_fetch_add(&nevents, 1, __ATOMIC_SEQ_CST);
    if (i < 16)
        snprintf(events[i], sizeof(events[i]), "%s", what);
}

static void report(const char *name)
{
    printf("%s:", name);
    for (int i = 0; i < nevents && i < 16; i++)
        printf("%s %s", i ? "," : "", events[i]);
    printf("\n");
    nevents = 0;
}

static void set_prio(int prio)
{
    struct sched_param sp = { .sched_priority = prio };
    int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (e)
        printf("pichain: setschedparam %d: %s\n", prio, strerror(e));
}

static pthread_t spawn(void *(*fn)(void *), int prio, long arg)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, SCHED_FIFO);
    struct sched_param sp = { .sched_priority = prio };
    pthread_attr_setschedparam(&a, &sp);
    pthread_t t;
    int e = pthread_create(&t, &a, fn, (void *)arg);
    if (e)
        printf("pichain: pthread_create: %s\n", strerror(e));
    return t;
}

/* Let the threads that outrank 1 run until they block, then go on at 90. */
static void let_them_run(void)
{
    set_prio(1);
    set_prio(90);
}

static void pi_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(m, &a);
}

/* ---- handover ---- */
static pthread_mutex_t hm;

static void *hwaiter(void *arg)
{
    char name[8];
    snprintf(name, sizeof(name), "%ld", (long)arg);
    pthread_mutex_lock(&hm);
    note(name);
    pthread_mutex_unlock(&hm);
    return NULL;
}

static void handover(void)
{
    pi_init(&hm);
    pthread_mutex_lock(&hm);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = spawn(hwaiter, 10 * (i + 1), 10 * (i + 1));
        let_them_run();                     /* it blocks on hm: queued 10, 20, 30 */
    }
    pthread_mutex_unlock(&hm);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    report("handover");
}

/* ---- chain ---- */
static pthread_mutex_t ma, mb;
static sem_t cgo;

static void *chain_c(void *arg)
{
    pthread_mutex_lock(&mb);
    sem_wait(&cgo);
    note("C");
    pthread_mutex_unlock(&mb);
    return arg;
}

static void *chain_b(void *arg)
{
    pthread_mutex_lock(&ma);
    pthread_mutex_lock(&mb);
    note("B");
    pthread_mutex_unlock(&mb);
    pthread_mutex_unlock(&ma);
    return arg;
}

static void *chain_a(void *arg)
{
    pthread_mutex_lock(&ma);
    note("A");
    pthread_mutex_unlock(&ma);
    return arg;
}

static void *hog(void *arg)
{
    for (volatile unsigned long x = 0; x < 3000000ul; x++)
        ;
    note("hog");
    return arg;
}

static void chain(void)
{
    pi_init(&ma);
    pi_init(&mb);
    sem_init(&cgo, 0, 0);
    pthread_t c = spawn(chain_c, 2, 0);
    let_them_run();                         /* C holds MB, waits for cgo */
    pthread_t b = spawn(chain_b, 10, 0);
    let_them_run();                         /* B holds MA, blocks on MB */
    pthread_t a = spawn(chain_a, 30, 0);
    let_them_run();                         /* A blocks on MA */
    pthread_t h = spawn(hog, 20, 0);
    sem_post(&cgo);
    pthread_join(a, NULL);
    pthread_join(h, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    report("chain");
}

/* ---- timeout ---- */
static pthread_mutex_t tm;
static sem_t lgo;

static void *timeout_l(void *arg)
{
    pthread_mutex_lock(&tm);
    sem_wait(&lgo);
    note("L");
    pthread_mutex_unlock(&tm);
    return arg;
}

static void *timeout_a(void *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200000000;
    if (ts.tv_nsec >= 1000000000)
        ts.tv_sec++, ts.tv_nsec -= 1000000000;
    int e = pthread_mutex_timedlock(&tm, &ts);
    note(e == ETIMEDOUT ? "A timed out" : e ? strerror(e) : "A got it");
    if (!e)
        pthread_mutex_unlock(&tm);
    return arg;
}

static void timeout(void)
{
    pi_init(&tm);
    sem_init(&lgo, 0, 0);
    pthread_t l = spawn(timeout_l, 5, 0);
    let_them_run();                         /* L holds TM, waits for lgo */
    pthread_t a = spawn(timeout_a, 30, 0);
    set_prio(1);                            /* A blocks on TM (L gets 30)... */
    pthread_join(a, NULL);                  /* ...and gives up */
    set_prio(90);
    pthread_t h = spawn(hog, 20, 0);
    sem_post(&lgo);
    pthread_join(h, NULL);
    pthread_join(l, NULL);
    report("timeout");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof(one), &one)) {
        perror("pichain: affinity");
        return 1;
    }
    set_prio(90);
    handover();
    chain();
    timeout();
    return 0;
}
