/* bench pipe: one byte bounced between two processes over two pipes; one
 * op is a round trip, i.e. two context switches (on one CPU). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static int to_child[2], to_parent[2];

static int round_trip(void)
{
    char c = 'x';
    if (write(to_child[1], &c, 1) != 1)
        return -1;
    return read(to_parent[0], &c, 1) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    if (pipe(to_child) || pipe(to_parent))
        return bench_fail("pipe", "pipe");
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("pipe", "fork");
    if (pid == 0) {
        char c;
        close(to_child[1]);                 /* else read never sees EOF */
        close(to_parent[0]);
        while (read(to_child[0], &c, 1) == 1)
            if (write(to_parent[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    BENCH_LOOP("pipe", a, 100, round_trip());
    close(to_child[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
