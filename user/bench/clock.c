/* bench clock: the cost of reading the clock the way programs do,
 * clock_gettime(CLOCK_MONOTONIC) through libc: on a kernel with a vDSO
 * (Linux, Vigil since docs/vdso.md) no system call at all. */
#include <time.h>
#include "bench.h"

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    struct timespec t;
    BENCH_LOOP("clock", a, 1000, clock_gettime(CLOCK_MONOTONIC, &t) != 0);
    return 0;
}
