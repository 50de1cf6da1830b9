/* bench create: create a small file (100 bytes), close it, unlink it. One
 * op is one create + write + close + unlink, no fsync. */
#include <fcntl.h>
#include <unistd.h>
#include "bench.h"

static char path[256];
static const char data[100] = "small";

static int once(void)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
    if (fd < 0)
        return -1;
    if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data))
        return -1;
    if (close(fd))
        return -1;
    return unlink(path);
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    snprintf(path, sizeof(path), "%s/bench-create", a.dir);
    unlink(path);
    BENCH_LOOP("create", a, 8, once());
    return 0;
}
