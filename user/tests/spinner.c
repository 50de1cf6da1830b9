/* spinner: preemption. The parent starts one CPU-bound child more than
 * there are CPUs; each spins without a single system call (it reads the
 * TSC, an unprivileged instruction) for SPIN_MS of wall-clock time, then
 * exits. The parent sleeps 5 x 20 ms and then counts the spinners that have
 * already finished (waitpid WNOHANG).
 *
 * With timer preemption the parent is back long before any spinner is done:
 * "0 of N". A kernel that switches only when a process enters it has every
 * CPU taken by a spinner, and gives the parent a CPU only when one exits:
 * the count is then at least 1. The answer is an order of events, not a
 * measured time; SPIN_MS is only a wide margin over the parent's 100 ms. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPIN_MS 5000
#define MAX_SPINNERS 64

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void)
{
    /* TSC ticks per millisecond, measured over 200 ms of sleep. */
    uint64_t t0 = now_ns(), c0 = rdtsc();
    struct timespec cal = { 0, 200 * 1000 * 1000 };
    nanosleep(&cal, NULL);
    uint64_t per_ms = (rdtsc() - c0) / ((now_ns() - t0) / 1000000 + 1);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 2 : cpus + 1 > MAX_SPINNERS ? MAX_SPINNERS : (int)cpus + 1;
    pid_t kids[MAX_SPINNERS];
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            uint64_t end = rdtsc() + SPIN_MS * per_ms;
            while (rdtsc() < end)
                ;
            _exit(0);
        }
    }
    for (int i = 0; i < 5; i++) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    int finished = 0, st;
    for (int i = 0; i < n; i++)
        if (waitpid(kids[i], &st, WNOHANG) == kids[i]) {
            finished++;
            kids[i] = 0;
        }
    printf("spinner: %d spinners on %ld CPUs; finished before the parent ran again: %d\n",
           n, cpus, finished);
    int killed = 0;
    for (int i = 0; i < n; i++)
        if (kids[i]) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], &st, 0);
            killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        }
    printf("spinner: %d killed by signal 9; parent ran\n", killed);
    return 0;
}
