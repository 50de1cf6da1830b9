/* isolation: each process sees only its own memory.
 *  - after fork, a child's writes (globals, heap, stack, mmap) are invisible
 *    to the parent, and the parent's later writes to the child (COW);
 *  - two processes write different values at the same virtual address and
 *    each reads back its own, across many context switches. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long global = 1;

/* Mode "probe ADDR": read ADDR, which another process has mapped. */
static int probe(const char *addr)
{
    volatile char *p = (volatile char *)strtoul(addr, NULL, 0);
    printf("read %d from another process's memory\n", *p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "probe"))
        return probe(argv[2]);
    char *heap = malloc(64);
    strcpy(heap, "parent heap");
    volatile char stack[32] = "parent stack";
    char *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(anon, "parent mmap");
    int pipe_ok = 1;

    pid_t pid = fork();
    if (pid == 0) {
        global = 2;
        strcpy(heap, "child heap");
        strcpy((char *)stack, "child stack");
        strcpy(anon, "child mmap");
        printf("child sees: %ld %s %s %s\n", global, heap, (char *)stack, anon);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent sees: %ld %s %s %s\n", global, heap, (char *)stack, anon);

    /* Parent writes after fork must not reach a child either. */
    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 50; i++)
            sched_yield();
        printf("second child sees global=%ld\n", global);
        _exit(global == 1 ? 0 : 1);
    }
    global = 3;
    waitpid(pid, &st, 0);
    printf("second child status %d\n", WEXITSTATUS(st));

    /* Same address, different values, interleaved. */
    static volatile long shared_va;
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            long mine = 1000 + k;
            int bad = 0;
            for (int i = 0; i < 2000; i++) {
                shared_va = mine;
                if ((i & 63) == 0)
                    sched_yield();
                bad += shared_va != mine;
            }
            _exit(bad ? 1 : 0);
        }
    }
    for (int k = 0; k < 2; k++) {
        waitpid(kids[k], &st, 0);
        pipe_ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    printf("same address, own values: %s\n", pipe_ok ? "yes" : "no");

    /* A freshly exec'd program cannot reach what this one has mapped. */
    char *secret = mmap((void *)0x600000000, 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    strcpy(secret, "secret");
    pid = fork();
    if (pid == 0) {
        char *av[] = { argv[0], "probe", "0x600000000", NULL };
        execv(argv[0], av);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    printf("probe of another's memory: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    return 0;
}
