/* umaskrace [ROUNDS]: two threads of one process exchange the umask they
 * share (CLONE_FS) ROUNDS times each, at the same moment on two CPUs.
 *
 *   umaskrace: 2 threads x 100000 exchanges: every value handed back once
 *
 * umask(new) returns the old value: an exchange, done by the kernel under
 * its lock. Thread 0 sets values 0-255, thread 1 values 256-511, and each
 * counts what it set and what it got back. Exchanges that really take turns
 * form one chain, so every value set is handed back exactly as often as it
 * was set (counting the first and the last value of the chain). If two
 * exchanges overlap, both read the same old value: it comes back twice and
 * another value never does. The program reports how many values disagree;
 * the threads meet at a spinning start line, with no system call between
 * them, so the exchanges really overlap in time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define NVAL 512

static long rounds = 100000;
static long set_count[2][NVAL], got_count[2][NVAL];
static volatile int ready;

static void *worker(void *arg)
{
    int t = (int)(long)arg;
    __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < 2)
        ;
    for (long k = 0; k < rounds; k++) {
        mode_t v = (mode_t)((t << 8) | (k & 0xff));
        got_count[t][umask(v)]++;
        set_count[t][v]++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atol(argv[1]);
    mode_t first = umask(0);
    umask(first);
    pthread_t th[2];
    for (long t = 0; t < 2; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    mode_t last = umask(first);
    long wrong = 0, lost = 0;
    for (int v = 0; v < NVAL; v++) {
        long set = set_count[0][v] + set_count[1][v] + (v == (int)first);
        long got = got_count[0][v] + got_count[1][v] + (v == (int)last);
        if (set != got)
            wrong++;
        if (got > set)
            lost += got - set;
    }
    if (!wrong)
        printf("umaskrace: 2 threads x %ld exchanges: every value handed back once\n", rounds);
    else
        printf("umaskrace: 2 threads x %ld exchanges: %ld values not handed back as often as "
               "set (%ld exchanges lost)\n", rounds, wrong, lost);
    return 0;
}
