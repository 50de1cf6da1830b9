/* futexpp [ROUNDS]: two threads hand a turn back and forth ROUNDS times
 * (default 20000) through one int and the raw futex syscall.
 *
 *   futexpp: 20000 rounds completed
 *
 * Each thread, to wait for its turn, spins a little reading `turn`, then
 * checks it, and if it is not its turn sleeps in FUTEX_WAIT(&turn, seen);
 * to give the turn away it stores the other's number and calls FUTEX_WAKE.
 * Random delays (a few thousand loop turns) before the check, between the
 * check and the sleep, and before giving the turn mix the three ways a round
 * can go: the turn arrives while spinning; it arrives between the check and
 * the sleep (a wake before the wait: the kernel must see that the value
 * changed and return EAGAIN instead of sleeping); or the thread really
 * sleeps and the wake wakes it. The second diagnostics line counts each.
 *
 * If the kernel loses a wake that comes before the wait (it sleeps without
 * re-checking the value under the lock FUTEX_WAKE takes), both threads end
 * up asleep. A watchdog thread then reports it ("futexpp: stuck at round
 * N", after 20 seconds without a completed round) and exits with status 2;
 * with a correct kernel it never fires. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0    /* <linux/futex.h> is not in musl's headers */
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128
#ifndef DELAY_BITS
#define DELAY_BITS 17
#endif

static int turn;                /* 0: ping's turn, 1: pong's */
static long rounds;
static volatile long done[2];   /* rounds each side has finished */
static long spun, eagain, slept;

static unsigned next(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A random length from 0 to 2^DELAY_BITS, log-uniform: every scale from a
 * few loop turns to a cross-CPU wakeup's latency comes up often. */
static unsigned rnd(unsigned *s)
{
    unsigned r = next(s);
    return (r >> 8) & ((1u << (r % (DELAY_BITS + 1))) - 1);
}

static void delay(unsigned n)
{
    for (volatile unsigned d = n; d; d--)
        ;
}

static void *player(void *arg)
{
    int me = (int)(long)arg;
    long my_spun = 0, my_eagain = 0, my_slept = 0;
    unsigned seed = 2463534242u + 977u * me;
    for (long i = 0; i < rounds; i++) {
        /* Wait for my turn: spin a while, then sleep. */
        unsigned spin = rnd(&seed);
        while (spin && __atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me)
            spin--;
        if (spin)
            my_spun++;
        int t;
        while ((t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) != me) {
            delay(rnd(&seed));   /* between the check and the sleep */
            long r = syscall(SYS_futex, &turn, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, t, NULL, NULL, 0);
            if (r == 0)
                my_slept++;
            else if (errno == EAGAIN)
                my_eagain++;
            else if (errno != EINTR) {
                perror("futexpp: FUTEX_WAIT");
                exit(1);
            }
        }
        /* My turn: a little work, then give the turn away. */
        delay(rnd(&seed));
        __atomic_store_n(&turn, !me, __ATOMIC_RELEASE);
        if (syscall(SYS_futex, &turn, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0) < 0) {
            perror("futexpp: FUTEX_WAKE");
            exit(1);
        }
        done[me] = i + 1;
    }
    __atomic_fetch_add(&spun, my_spun, __ATOMIC_RELAXED);
    __atomic_fetch_add(&eagain, my_eagain, __ATOMIC_RELAXED);
    __atomic_fetch_add(&slept, my_slept, __ATOMIC_RELAXED);
    return NULL;
}

static void *watchdog(void *arg)
{
    long last = -1;
    int idle = 0;
    for (;;) {
        struct timespec ts = { 1, 0 };
        nanosleep(&ts, NULL);
        long now = done[0] + done[1];
        idle = now == last ? idle + 1 : 0;
        last = now;
        if (idle >= 20) {
            printf("futexpp: stuck at round %ld (ping %ld, pong %ld): a wakeup was lost\n",
                   done[0] < done[1] ? done[0] : done[1], done[0], done[1]);
            fflush(stdout);
            _exit(2);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 20000;
    pthread_t ping, pong, dog;
    pthread_create(&dog, NULL, watchdog, NULL);
    pthread_create(&pong, NULL, player, (void *)1L);
    pthread_create(&ping, NULL, player, (void *)0L);
    pthread_join(ping, NULL);
    pthread_join(pong, NULL);
    printf("futexpp: %ld rounds completed\n", done[0] < done[1] ? done[0] : done[1]);
    /* Diagnostics (they vary from run to run). */
    printf("futexpp: turns caught spinning %ld, wait found the turn already given (EAGAIN) %ld, "
           "woken from sleep %ld\n", spun, eagain, slept);
    return 0;
}
