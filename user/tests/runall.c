/* runall CMD ARGS... [-- CMD ARGS...]...: run each command in turn (fork,
 * execv, wait), each after a line "=== CMD ARGS" and followed by one saying
 * how it ended ("=== exit N", "=== signal N", "=== errno N" if execv itself
 * failed). Lets one boot (and the same run on the host) try many programs,
 * each section comparable on its own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int i = 1;
    while (i < argc) {
        int j = i;
        while (j < argc && strcmp(argv[j], "--"))
            j++;
        argv[j < argc ? j : argc] = NULL;
        printf("===");
        for (int k = i; k < j; k++)
            printf(" %s", argv[k]);
        printf("\n");
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execv(argv[i], &argv[i]);
            printf("=== errno %d\n", errno);
            fflush(stdout);
            _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(st))
            printf("=== signal %d\n", WTERMSIG(st));
        else
            printf("=== exit %d\n", WEXITSTATUS(st));
        fflush(stdout);
        i = j + 1;
    }
    return 0;
}
