/* bench fork: fork, the child _exits at once, the parent waits for it. */
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static int once(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(0);
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    BENCH_LOOP("fork", a, 4, once());
    return 0;
}
