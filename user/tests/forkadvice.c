/* forkadvice.c - what madvise tells fork (tests/test_mmap_file.py runs it on
 * Vigil and on the host Linux and compares every line).
 *
 * For each advice that concerns a fork's child (MADV_DONTFORK, DOFORK,
 * WIPEONFORK, KEEPONFORK) and a few plain hints, on a private and on a
 * shared anonymous region of three pages: the call's result, then what a
 * child reads in the middle page (its byte, zero, or killed by SIGSEGV:
 * the region is not there) and whether the parent's pages are untouched.
 * Then the advice's bad inputs: an unaligned start, an unmapped range. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

static const struct { int advice; const char *name; } advs[] = {
    { MADV_NORMAL, "NORMAL" }, { MADV_DONTFORK, "DONTFORK" }, { MADV_DOFORK, "DOFORK" },
    { MADV_WIPEONFORK, "WIPEONFORK" }, { MADV_KEEPONFORK, "KEEPONFORK" }, { MADV_DONTDUMP, "DONTDUMP" },
};

static void child_reads(char *p, const char *what)
{
    pid_t c = fork();
    if (c == 0)
        _exit(p[4096] ? 'A' + (p[4096] - 'a') : '0');   /* SIGSEGV if the page is gone */
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st))
        printf("  %s: child killed by %s\n", what, WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "another signal");
    else
        printf("  %s: child reads %c\n", what, WEXITSTATUS(st));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int shared = 0; shared < 2; shared++)
        for (unsigned i = 0; i < sizeof(advs) / sizeof(advs[0]); i++) {
            char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS,
                           -1, 0);
            memset(p, 'b', 3 * 4096);
            int r = madvise(p + 4096, 4096, advs[i].advice);
            printf("%s %s: %s\n", shared ? "shared" : "private", advs[i].name, r ? ename(errno) : "0");
            child_reads(p, "after it");
            if (advs[i].advice == MADV_DONTFORK || advs[i].advice == MADV_WIPEONFORK) {
                int undo = advs[i].advice == MADV_DONTFORK ? MADV_DOFORK : MADV_KEEPONFORK;
                r = madvise(p, 3 * 4096, undo);
                printf("  undone: %s\n", r ? ename(errno) : "0");
                child_reads(p, "after the undo");
            }
            printf("  parent: %c%c%c\n", p[0], p[4096], p[8192]);
            munmap(p, 3 * 4096);
        }
    char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4096, 4096);
    static const int bad[] = { MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK };
    for (unsigned i = 0; i < 4; i++) {
        int a = madvise(p + 1, 4096, bad[i]), ea = a ? errno : 0;
        int b = madvise(p, 2 * 4096, bad[i]), eb = b ? errno : 0;
        printf("advice %d: unaligned %s, half unmapped %s\n", bad[i], a ? ename(ea) : "0", b ? ename(eb) : "0");
    }
    printf("forkadvice done\n");
    return 0;
}
