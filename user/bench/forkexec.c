/* bench forkexec: fork, the child execs /bin/bench-nop (a static program
 * that returns at once), the parent waits. */
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static char *nop_argv[] = { "/bin/bench-nop", NULL };
static char *nop_env[] = { NULL };

static int once(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execve(nop_argv[0], nop_argv, nop_env);
        _exit(127);
    }
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    BENCH_LOOP("forkexec", a, 2, once());
    return 0;
}
