/* bench seqread: read a 64 MiB file (written and fsync'd first, untimed)
 * in 64 KiB reads. Warm: whatever each kernel kept cached after writing it
 * stays cached (neither is asked to drop it). One op is one MiB. */
#include "seqio.h"

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    char path[256];
    snprintf(path, sizeof(path), "%s/bench-seq", a.dir);
    if (seq_write_file(path))
        return bench_fail("seqread", "write");
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return bench_fail("seqread", "open");
    uint64_t t0 = now_ns();
    unsigned long total = 0;
    for (;;) {
        ssize_t n = read(fd, seq_buf, SEQ_CHUNK);
        if (n < 0)
            return bench_fail("seqread", "read");
        if (n == 0)
            break;
        total += (unsigned long)n;
    }
    uint64_t el = now_ns() - t0;
    close(fd);
    unlink(path);
    if (total != SEQ_SIZE) {
        errno = 0;
        return bench_fail("seqread", "short");
    }
    seq_report("seqread", el);
    return 0;
}
