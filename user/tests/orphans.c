/* orphans: a child whose parent exits is adopted by init (getppid() == 1),
 * and init reaps it: the process count comes back. */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    pid_t mid = fork();
    if (mid == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);                   /* outlive the parent */
            printf("orphan's parent is now pid %d\n", getppid());
            fflush(stdout);
            _exit(0);
        }
        _exit(0);
    }
    int st;
    waitpid(mid, &st, 0);
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    printf("middle process exited %d\n", WEXITSTATUS(st));
    return 0;
}
