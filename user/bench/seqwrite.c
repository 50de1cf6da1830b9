/* bench seqwrite: write a new 64 MiB file in 64 KiB writes, then fsync
 * (the time includes getting it to the disk). One op is one MiB. */
#include "seqio.h"

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    char path[256];
    snprintf(path, sizeof(path), "%s/bench-seq", a.dir);
    unlink(path);
    uint64_t t0 = now_ns();
    if (seq_write_file(path))
        return bench_fail("seqwrite", "write");
    seq_report("seqwrite", now_ns() - t0);
    unlink(path);
    return 0;
}
