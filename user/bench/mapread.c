/* bench mapread: read a 64 MiB file through mmap (MAP_PRIVATE, PROT_READ):
 * map it, read one 8-byte word in every 512 bytes, unmap; again and again
 * with the file open (warm: each kernel keeps its pages cached while the
 * file is in use). One op is one MiB mapped and read: page-cache faults,
 * not the disk. */
#include <sys/mman.h>
#include "seqio.h"

static int once(int fd, uint64_t *sum)
{
    const uint64_t *p = mmap(NULL, SEQ_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    for (unsigned long i = 0; i < SEQ_SIZE / 8; i += 64)
        *sum += p[i];
    return munmap((void *)p, SEQ_SIZE);
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    char path[256];
    snprintf(path, sizeof(path), "%s/bench-map", a.dir);
    if (seq_write_file(path))
        return bench_fail("mapread", "write");
    int fd = open(path, O_RDONLY);
    uint64_t sum = 0;
    if (fd < 0 || once(fd, &sum))               /* warm-up, untimed */
        return bench_fail("mapread", "mmap");
    uint64_t rounds = 0, t0 = now_ns(), el = 0;
    while (el < a.min_ns || rounds == 0) {
        if (once(fd, &sum))
            return bench_fail("mapread", "mmap");
        rounds++;
        el = now_ns() - t0;
    }
    close(fd);
    unlink(path);
    /* Every word is "ssssssss": anything else read the wrong bytes. */
    if (sum != 0x7373737373737373ull * (rounds + 1) * (SEQ_SIZE / 512)) {
        errno = 0;
        return bench_fail("mapread", "content");
    }
    double mib = (double)(SEQ_SIZE >> 20) * (double)rounds;
    char extra[64];
    snprintf(extra, sizeof(extra), " mib_per_s=%.1f", mib * 1e9 / (double)el);
    bench_report("mapread", (double)el / mib, (uint64_t)mib, extra);
    return 0;
}
