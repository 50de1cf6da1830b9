/* hungtask [N] - say who we are, then sync(2). Booted with crash=hung, that
 * sync sleeps in the kernel for ever in D state (debug/crash.c), and the
 * hung-task watchdog must report this process by pid, name and syscall
 * (tests/test_watchdog.py). Without crash=hung it just syncs.
 *
 * With N, a child says "hungtask: N s have passed" N seconds later, by the
 * guest's own clock (the one the watchdog counts in): past that, a report
 * that has not come is not coming, and the test need not wait any longer
 * on a host however loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
    printf("hungtask: pid %d calls sync\n", getpid());
    fflush(stdout);
    if (n && fork() == 0) {
        sleep(n);
        printf("hungtask: %u s have passed\n", n);
        fflush(stdout);
        _exit(0);
    }
    sync();
    printf("hungtask: sync returned\n");
    return 0;
}
