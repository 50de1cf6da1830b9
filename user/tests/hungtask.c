/* hungtask - say who we are, then sync(2). Booted with crash=hung, that
 * sync sleeps in the kernel for ever in D state (debug/crash.c), and the
 * hung-task watchdog must report this process by pid, name and syscall
 * (tests/test_watchdog.py). Without crash=hung it just syncs. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("hungtask: pid %d calls sync\n", getpid());
    fflush(stdout);
    sync();
    printf("hungtask: sync returned\n");
    return 0;
}
