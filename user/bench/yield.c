/* bench yield: two processes calling sched_yield in turn; one op is one
 * sched_yield of the measuring process (with one CPU, a switch to the other
 * process and back). */
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("yield", "fork");
    if (pid == 0)
        for (;;)
            sched_yield();
    BENCH_LOOP("yield", a, 100, sched_yield());
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}
