/* forktree: fork a tree of processes, exec at the leaves, and collect every
 * exit status in a fixed order: fork, execve, wait4 and exit semantics. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int node(int depth, int id, const char *self)
{
    if (depth == 0) {
        char code[16];
        snprintf(code, sizeof(code), "%d", id % 50);
        char *argv[] = { (char *)self, "leaf", code, NULL };
        execv(self, argv);
        perror("execv");
        _exit(99);
    }
    /* Subtrees run one after the other, so the output order is fixed. */
    int sum = 0;
    for (int i = 0; i < 2; i++) {
        pid_t kid = fork();
        if (kid == 0)
            _exit(node(depth - 1, id * 2 + i, self));
        if (kid < 0) {
            perror("fork");
            exit(98);
        }
        int st;
        if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st))
            return 97;
        printf("depth %d node %d: child %d exited %d\n", depth, id, id * 2 + i, WEXITSTATUS(st));
        fflush(stdout);
        sum += WEXITSTATUS(st);
    }
    return sum % 50;
}

int main(int argc, char **argv)
{
    if (argc == 3)                               /* a leaf, after exec */
        return atoi(argv[2]);
    int r = node(3, 1, argv[0]);
    int st;
    /* Several children at once, reaped in reverse order by pid. */
    pid_t kids[4];
    for (int i = 0; i < 4; i++)
        if ((kids[i] = fork()) == 0)
            _exit(10 + i);
    for (int i = 3; i >= 0; i--) {
        waitpid(kids[i], &st, 0);
        printf("kid %d exited %d\n", i, WEXITSTATUS(st));
    }
    printf("wait with no children: %d\n", (int)wait(&st));
    printf("root result %d\n", r);
    return r;
}
