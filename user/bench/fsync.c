/* bench fsync: write 4 KiB at the start of a file and fsync it; one op is
 * one write + fsync (a journal commit and device flushes). */
#include <fcntl.h>
#include <unistd.h>
#include "bench.h"

static int fd;
static char block[4096];

static int once(void)
{
    if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
        return -1;
    block[0]++;
    return fsync(fd);
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    char path[256];
    snprintf(path, sizeof(path), "%s/bench-fsync", a.dir);
    memset(block, 'f', sizeof(block));
    fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0)
        return bench_fail("fsync", "open");
    BENCH_LOOP("fsync", a, 1, once());
    close(fd);
    unlink(path);
    return 0;
}
