/* tlbshoot: another CPU must stop using a mapping the moment munmap,
 * mprotect or fork has changed it (TLB shootdown).
 *
 * A second thread, pinned to CPU 1, keeps a page "hot" in its CPU's TLB by
 * reading (or writing) it in a loop; the main thread, on CPU 0, changes the
 * mapping and then tells it to look again:
 *
 *   munmap    the next read must fault (SIGSEGV), not return the old data
 *   mprotect  PROT_READ: the next write must fault
 *   fork      the thread keeps writing after fork returned; the child's copy
 *             must never change (the parent's writable entries became
 *             copy-on-write, and the other CPU must see that)
 *
 *   tlbshoot: munmap: fault; mprotect: fault; fork: child's page unchanged
 *
 * A stale translation shows as "munmap: STALE READ" and the like, and exit
 * status 1. Needs two CPUs (exit status 3 otherwise). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int *page;
static volatile int phase, hot, stop, stopped, result;     /* result: 1 faulted, 2 stale */
static sigjmp_buf env;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

/* mode 0: read then re-read; 1: write then re-write; 2: write until told */
static void *toucher(void *arg)
{
    long mode = (long)arg;
    pin(1);
    if (mode == 2) {
        /* Write throughout the fork and after it: from the moment fork
         * returns, these writes must go to the parent's own copy. */
        while (phase != 2) {
            *page = *page + 1;
            hot = 1;
        }
        return NULL;
    }
    int sink = 0;
    while (!stop) {
        if (mode == 0)
            sink += *page;
        else
            *page = *page + 1;
        hot = 1;
    }
    /* The translation stays cached on this CPU while we wait, untouched,
     * for the other CPU to change the mapping. */
    stopped = 1;
    while (!phase)
        ;
    if (mode == 2)
        return NULL;
    if (sigsetjmp(env, 1)) {
        result = 1;
        return NULL;
    }
    if (mode == 0)
        sink += *page;
    else
        *page = 7;
    result = 2;
    return (void *)(long)sink;
}

static int round_trip(long mode, const char *what)
{
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *page = 1;
    phase = hot = stop = stopped = result = 0;
    pthread_t t;
    pthread_create(&t, NULL, toucher, (void *)mode);
    while (!hot)
        ;
    stop = 1;
    while (!stopped)
        ;
    if (mode == 0)
        munmap((void *)page, 4096);
    else
        mprotect((void *)page, 4096, PROT_READ);
    phase = 1;
    pthread_join(t, NULL);
    printf("%s: %s", what, result == 1 ? "fault" : "STALE ACCESS");
    if (mode == 1)
        munmap((void *)page, 4096);
    return result == 1;
}

int main(void)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        printf("tlbshoot: needs two CPUs\n");
        return 3;
    }
    struct sigaction sa = { .sa_handler = on_segv };
    sigaction(SIGSEGV, &sa, NULL);
    pin(0);
    int ok = round_trip(0, "tlbshoot: munmap");
    printf("; ");
    ok &= round_trip(1, "mprotect");
    printf("; ");
    fflush(stdout);
    if (!ok) {
        /* The kernel let a CPU keep a dead translation: the freed page may
         * already be someone else's. Stop before making things worse. */
        printf("fork: not tried\n");
        return 1;
    }

    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *page = 1;
    phase = hot = stop = stopped = 0;
    pthread_t t;
    pthread_create(&t, NULL, toucher, (void *)2);
    while (!hot)
        ;
    int fds[2];
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: a snapshot right after fork, then watch it. */
        int first = *page, changes = 0;
        for (int i = 0; i < 2000000; i++)
            if (*page != first)
                changes++;
        char c = changes ? 'x' : 'o';
        write(fds[1], &c, 1);
        _exit(0);
    }
    char c = '?';
    read(fds[0], &c, 1);
    phase = 2;
    pthread_join(t, NULL);
    waitpid(pid, NULL, 0);
    printf("fork: %s\n", c == 'o' ? "child's page unchanged" : "CHILD SAW THE PARENT'S WRITES");
    ok &= c == 'o';
    return ok ? 0 : 1;
}
