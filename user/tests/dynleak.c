/* dynleak ROUNDS PROGRAM ARGS... - run a (dynamic, Debian) program ROUNDS
 * times after two warm-up runs (which fill the page and buffer caches with
 * the files it reads), and report the kernel's memory counters before and
 * after as storm.c does: every frame and heap block a dynamic program's
 * exec, ld.so mappings, libraries and exit took must come back. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "meminfo.h"

#ifndef WARMUP
#define WARMUP 2
#endif

static int run(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: dynleak ROUNDS PROGRAM ARGS...\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    for (int i = 0; i < WARMUP; i++)
        if (run(argv + 2)) {
            fprintf(stderr, "dynleak: warm-up run %d failed\n", i);
            return 1;
        }
    struct snap before, after;
    take(&before);              /* the first read of /proc/meminfo sets up what it needs */
    sync();                     /* no journal transaction open at either snapshot */
    take(&before);
    int bad = 0;
    for (int i = 0; i < rounds; i++)
        bad += run(argv + 2) != 0;
    sync();
    take(&after);
    printf("runs %d failed %d\n", rounds, bad);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    return bad != 0;
}
