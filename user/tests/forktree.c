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
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(node(depth - 1, id * 2 + i, self));
        if (kids[i] < 0) {
            perror("fork");
            exit(98);
        }
    }
    int sum = 0;
    for (int i = 1; i >= 0; i--) {              /* reap in reverse order on purpose */
        int st;
        if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st))
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
    printf("wait with no children: %d\n", (int)wait(&st));
    printf("root result %d\n", r);
    return r;
}
