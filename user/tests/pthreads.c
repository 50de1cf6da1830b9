/* pthreads: the pthread library's everyday mechanisms, each checked by a
 * result that does not depend on how the threads were scheduled, so the
 * output is the same on every run and on every Linux (it is compared with
 * the host's). Only main prints, after the threads are joined.
 *
 *   create     8 threads return i*i+1 through pthread_join
 *   tls        8 threads each keep their own __thread variable (the TLS
 *              block the kernel points %fs at per thread: CLONE_SETTLS)
 *   mutex      trylock of a held mutex is EBUSY; a recursive mutex nests; an
 *              error-checking mutex says EDEADLK to its owner, EPERM to
 *              another thread's unlock
 *   condvar    two threads play ping-pong with a mutex and two condition
 *              variables for 2000 rounds, each checking the other's count
 *   broadcast  4 waiters on one condition variable, released by one
 *              pthread_cond_broadcast
 *   barrier    4 threads, 50 rounds: each round every thread adds to its
 *              slot, then all meet at the barrier; exactly one of them per
 *              round gets PTHREAD_BARRIER_SERIAL_THREAD and checks the sum
 *   semaphore  3 producers x 2000 items through a 16-slot ring guarded by
 *              two counting semaphores and a mutex, 2 consumers; the sum
 *              and count of what came out match what went in
 *   rwlock     2 writers keep two fields equal under the write lock, 4
 *              readers check them under the read lock
 *   once/key   pthread_once runs once among 8 threads; a thread-specific
 *              key's destructor runs once per thread that set it
 *   detach     a detached thread signals a semaphore and ends */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

/* ---- create ---- */
static void *square(void *arg)
{
    long i = (long)arg;
    return (void *)(i * i + 1);
}

static void t_create(void)
{
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        check(pthread_create(&t[i], NULL, square, (void *)i) == 0, "pthread_create");
    printf("create:");
    for (int i = 0; i < 8; i++) {
        void *r;
        check(pthread_join(t[i], &r) == 0, "pthread_join");
        printf(" %ld", (long)r);
    }
    printf("\n");
}

/* ---- tls ---- */
static __thread long mine = -1;
static pthread_barrier_t tls_bar;

static void *tls_thread(void *arg)
{
    long id = (long)arg;
    long was = mine;            /* a new thread starts with the initial value */
    mine = id * 100;
    pthread_barrier_wait(&tls_bar);   /* everyone has written theirs */
    for (volatile int i = 0; i < 10000; i++)
        ;
    return (void *)(intptr_t)(was == -1 && mine == id * 100);
}

static void t_tls(void)
{
    pthread_t t[8];
    pthread_barrier_init(&tls_bar, NULL, 8);
    mine = 7;
    for (long i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, tls_thread, (void *)i);
    int good = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        good += (int)(intptr_t)r;
    }
    pthread_barrier_destroy(&tls_bar);
    printf("tls: %d of 8 threads kept their own value; main's is still %ld\n", good, mine);
}

/* ---- mutex ---- */
static pthread_mutex_t ec;

static void *other_unlocks(void *arg)
{
    return (void *)(intptr_t)pthread_mutex_unlock(&ec);
}

static void *try_held(void *arg)
{
    return (void *)(intptr_t)pthread_mutex_trylock(arg);
}

static void t_mutex(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, try_held, &m);
    pthread_join(t, &r);
    printf("mutex: trylock of a held mutex from another thread: %s\n",
           (intptr_t)r == EBUSY ? "EBUSY" : strerror((int)(intptr_t)r));
    pthread_mutex_unlock(&m);

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_t rm;
    pthread_mutex_init(&rm, &a);
    int e1 = pthread_mutex_lock(&rm), e2 = pthread_mutex_lock(&rm), e3 = pthread_mutex_trylock(&rm);
    int u = pthread_mutex_unlock(&rm) | pthread_mutex_unlock(&rm) | pthread_mutex_unlock(&rm);
    printf("mutex: recursive lock, lock, trylock, 3 unlocks: %d %d %d %d\n", e1, e2, e3, u);

    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&ec, &a);
    pthread_mutex_lock(&ec);
    int again = pthread_mutex_lock(&ec);
    pthread_create(&t, NULL, other_unlocks, NULL);
    pthread_join(t, &r);
    printf("mutex: error-checking relock by its owner: %s; unlock by another thread: %s\n",
           again == EDEADLK ? "EDEADLK" : strerror(again),
           (intptr_t)r == EPERM ? "EPERM" : strerror((int)(intptr_t)r));
    pthread_mutex_unlock(&ec);
}

/* ---- condvar ping-pong ---- */
#define PP_ROUNDS 2000
static pthread_mutex_t pp_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_c[2] = { PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };
static int pp_turn, pp_count[2], pp_bad;

static void *pp_player(void *arg)
{
    int me = (int)(long)arg;
    for (int i = 0; i < PP_ROUNDS; i++) {
        pthread_mutex_lock(&pp_m);
        while (pp_turn != me)
            pthread_cond_wait(&pp_c[me], &pp_m);
        /* ping (0) moves first, so when pong (1) plays its i-th turn ping
         * has played i+1, and when ping plays its i-th pong has played i. */
        if (pp_count[!me] != i + (me == 1))
            pp_bad++;
        pp_count[me]++;
        pp_turn = !me;
        pthread_cond_signal(&pp_c[!me]);
        pthread_mutex_unlock(&pp_m);
    }
    return NULL;
}

static void t_condvar(void)
{
    pthread_t a, b;
    pthread_create(&b, NULL, pp_player, (void *)1L);
    pthread_create(&a, NULL, pp_player, (void *)0L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("condvar: ping %d, pong %d, out-of-turn plays %d\n", pp_count[0], pp_count[1], pp_bad);
}

/* ---- broadcast ---- */
static pthread_mutex_t bc_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bc_c = PTHREAD_COND_INITIALIZER, bc_ready = PTHREAD_COND_INITIALIZER;
static int bc_go, bc_waiting, bc_released;

static void *bc_waiter(void *arg)
{
    pthread_mutex_lock(&bc_m);
    bc_waiting++;
    pthread_cond_signal(&bc_ready);
    while (!bc_go)
        pthread_cond_wait(&bc_c, &bc_m);
    bc_released++;
    pthread_mutex_unlock(&bc_m);
    return NULL;
}

static void t_broadcast(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, bc_waiter, NULL);
    pthread_mutex_lock(&bc_m);
    while (bc_waiting < 4)
        pthread_cond_wait(&bc_ready, &bc_m);
    bc_go = 1;
    pthread_cond_broadcast(&bc_c);
    pthread_mutex_unlock(&bc_m);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("broadcast: %d waiters released by one broadcast\n", bc_released);
}

/* ---- barrier ---- */
#define B_THREADS 4
#define B_ROUNDS 50
static pthread_barrier_t bar;
static long slot[B_THREADS];
static int serial_per_round[B_ROUNDS], bad_sums;

static void *b_thread(void *arg)
{
    long me = (long)arg;
    for (int r = 0; r < B_ROUNDS; r++) {
        slot[me] += (r + 1) * (me + 1);
        int s = pthread_barrier_wait(&bar);
        if (s == PTHREAD_BARRIER_SERIAL_THREAD) {
            /* Everyone has added round r: sum over rounds 0..r and threads. */
            long sum = 0, want = (long)(r + 1) * (r + 2) / 2 * (B_THREADS * (B_THREADS + 1) / 2);
            for (int i = 0; i < B_THREADS; i++)
                sum += slot[i];
            if (sum != want)
                bad_sums++;
            __atomic_fetch_add(&serial_per_round[r], 1, __ATOMIC_RELAXED);
        } else if (s != 0) {
            bad_sums++;
        }
        pthread_barrier_wait(&bar);   /* nobody starts round r+1 before the check */
    }
    return NULL;
}

static void t_barrier(void)
{
    pthread_t t[B_THREADS];
    pthread_barrier_init(&bar, NULL, B_THREADS);
    for (long i = 0; i < B_THREADS; i++)
        pthread_create(&t[i], NULL, b_thread, (void *)i);
    for (int i = 0; i < B_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
    int one_serial = 0;
    for (int r = 0; r < B_ROUNDS; r++)
        one_serial += serial_per_round[r] == 1;
    printf("barrier: %d threads, %d rounds, rounds with exactly one serial thread %d, "
           "bad sums %d\n", B_THREADS, B_ROUNDS, one_serial, bad_sums);
}

/* ---- semaphore ---- */
#define RING 16
#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS 2000
static sem_t slots, items;
static pthread_mutex_t ring_m = PTHREAD_MUTEX_INITIALIZER;
static long ring[RING], consumed_sum, consumed_n;
static int head, tail;

static void *producer(void *arg)
{
    long base = (long)arg * 100000;
    for (long i = 1; i <= ITEMS; i++) {
        while (sem_wait(&slots))
            ;
        pthread_mutex_lock(&ring_m);
        ring[head] = base + i;
        head = (head + 1) % RING;
        pthread_mutex_unlock(&ring_m);
        sem_post(&items);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    for (;;) {
        while (sem_wait(&items))
            ;
        pthread_mutex_lock(&ring_m);
        long v = ring[tail];
        tail = (tail + 1) % RING;
        if (v >= 0) {
            consumed_sum += v;
            consumed_n++;
        }
        pthread_mutex_unlock(&ring_m);
        sem_post(&slots);
        if (v < 0)
            return NULL;         /* the poison pill */
    }
}

static void t_semaphore(void)
{
    sem_init(&slots, 0, RING);
    sem_init(&items, 0, 0);
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (long i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, NULL);
    for (long i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++) {   /* one pill per consumer */
        while (sem_wait(&slots))
            ;
        pthread_mutex_lock(&ring_m);
        ring[head] = -1;
        head = (head + 1) % RING;
        pthread_mutex_unlock(&ring_m);
        sem_post(&items);
    }
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);
    long want = 0;
    for (long k = 0; k < PRODUCERS; k++)
        want += k * 100000 * ITEMS + (long)ITEMS * (ITEMS + 1) / 2;
    int v1, v2;
    sem_getvalue(&slots, &v1);
    sem_getvalue(&items, &v2);
    printf("semaphore: consumed %ld items, sum %s, free slots %d, items left %d\n", consumed_n,
           consumed_sum == want ? "right" : "WRONG", v1, v2);
}

/* ---- rwlock ---- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long fa, fb, torn_reads, reads_done;

static void *writer(void *arg)
{
    for (int i = 0; i < 3000; i++) {
        pthread_rwlock_wrlock(&rw);
        fa++;
        for (volatile int d = 0; d < 20; d++)
            ;
        fb++;
        pthread_rwlock_unlock(&rw);
    }
    return NULL;
}

static void *reader(void *arg)
{
    long torn = 0;
    for (int i = 0; i < 3000; i++) {
        pthread_rwlock_rdlock(&rw);
        long a = fa;
        for (volatile int d = 0; d < 20; d++)
            ;
        if (fb != a)
            torn++;
        pthread_rwlock_unlock(&rw);
    }
    __atomic_fetch_add(&torn_reads, torn, __ATOMIC_RELAXED);
    __atomic_fetch_add(&reads_done, 3000, __ATOMIC_RELAXED);
    return NULL;
}

static void t_rwlock(void)
{
    pthread_t w[2], r[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&r[i], NULL, reader, NULL);
    for (int i = 0; i < 2; i++)
        pthread_create(&w[i], NULL, writer, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(r[i], NULL);
    printf("rwlock: writes %ld/%ld, reads %ld, torn reads %ld\n", fa, fb, reads_done, torn_reads);
}

/* ---- once / key ---- */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, destructor_runs;
static pthread_key_t key;

static void init_once(void) { once_runs++; }
static void destructor(void *v) { __atomic_fetch_add(&destructor_runs, 1, __ATOMIC_RELAXED); }

static void *once_thread(void *arg)
{
    pthread_once(&once, init_once);
    pthread_setspecific(key, arg);
    return (void *)(intptr_t)(pthread_getspecific(key) == arg);
}

static void t_once_key(void)
{
    pthread_key_create(&key, destructor);
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, once_thread, (void *)(i + 1));
    int good = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        good += (int)(intptr_t)r;
    }
    printf("once/key: once ran %d time(s); %d threads read back their value; "
           "destructor ran %d times\n", once_runs, good, destructor_runs);
}

/* ---- detach ---- */
static sem_t detached_done;

static void *detached(void *arg)
{
    sem_post(&detached_done);
    return NULL;
}

static void t_detach(void)
{
    sem_init(&detached_done, 0, 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    pthread_create(&t, &a, detached, NULL);
    while (sem_wait(&detached_done))
        ;
    printf("detach: the detached thread ran\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_create();
    t_tls();
    t_mutex();
    t_condvar();
    t_broadcast();
    t_barrier();
    t_semaphore();
    t_rwlock();
    t_once_key();
    t_detach();
    printf("pthreads: %s\n", failures ? "FAILURES" : "done");
    return failures ? 1 : 0;
}
