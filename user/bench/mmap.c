/* bench mmap: map 64 MiB of anonymous memory, write one byte per 4 KiB
 * page, unmap. One op is one page touched (a demand-zero page fault). */
#include <sys/mman.h>
#include "bench.h"

#define SIZE (64ul << 20)
#define PAGE 4096ul

static int once(void)
{
    char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    for (unsigned long off = 0; off < SIZE; off += PAGE)
        p[off] = 1;
    return munmap(p, SIZE);
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    if (once())                                 /* warm-up, untimed */
        return bench_fail("mmap", "mmap");
    uint64_t rounds = 0, t0 = now_ns(), el = 0;
    while (el < a.min_ns || rounds == 0) {
        if (once())
            return bench_fail("mmap", "mmap");
        rounds++;
        el = now_ns() - t0;
    }
    uint64_t faults = rounds * (SIZE / PAGE);
    char extra[64];
    snprintf(extra, sizeof(extra), " faults_per_s=%.0f", (double)faults * 1e9 / (double)el);
    bench_report("mmap", (double)el / (double)faults, faults, extra);
    return 0;
}
