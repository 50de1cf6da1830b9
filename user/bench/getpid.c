/* bench getpid: the cost of one system call round trip (getpid, issued
 * directly: no libc caching either side). */
#include <sys/syscall.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    BENCH_LOOP("getpid", a, 1000, syscall(SYS_getpid) <= 0);
    return 0;
}
