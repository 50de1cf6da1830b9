/* sysfuzz SEED ROUNDS: hurl random arguments at every syscall number the
 * kernel knows (and some it does not), from throwaway child processes.
 * Pointers are chosen to be wrong in every interesting way: NULL, kernel
 * addresses, non-canonical, unmapped, misaligned, at the end of a mapping.
 * A child may fail or die; the kernel must not. Calls that would end the
 * experiment itself (reboot, kill of others, exit) are left out. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t state;

static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static char *page;                      /* a mapped page, the one after it unmapped */

static long arg(void)
{
    switch (rnd() % 12) {
    case 0: return 0;
    case 1: return -1;
    case 2: return (long)0xffffffff80100000ul;      /* kernel text */
    case 3: return (long)0xffff800000000000ul;      /* kernel direct map */
    case 4: return (long)0x8000000000000000ul;      /* non-canonical */
    case 5: return (long)(page + 4096 - (rnd() % 16));   /* runs off the mapping */
    case 6: return (long)(page + rnd() % 4096);
    case 7: return (long)(rnd() % 4096);            /* small numbers: fds, sizes */
    case 8: return (long)rnd();
    case 9: return (long)(rnd() % 64);
    case 10: return (long)0x7ffffffff000ul;         /* top of user space */
    default: return (long)(rnd() & 0xffffffff);
    }
}

static int forbidden(long nr)
{
    /* exit/exit_group end the child early (harmless but useless); reboot
     * ends the run; kill/tkill/tgkill could hit init or the parent; fork,
     * vfork and clone multiply; pause and the sleeps just wait; read may
     * wait on the console; rt_sigreturn kills (correctly) at once; clone3
     * multiplies and rt_sigtimedwait waits, as their older cousins do. */
    static const long skip[] = { SYS_exit, SYS_exit_group, SYS_reboot, SYS_kill, SYS_tkill,
        SYS_tgkill, SYS_fork, SYS_vfork, SYS_clone, SYS_pause, SYS_nanosleep,
        SYS_clock_nanosleep, SYS_rt_sigsuspend, SYS_wait4, SYS_execve, SYS_read,
        SYS_rt_sigreturn, SYS_clone3, SYS_rt_sigtimedwait };
    for (unsigned i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (nr == skip[i])
            return 1;
    return 0;
}

/* The waits for many things (poll, select, epoll_wait and kin) would just
 * wait, like pause, until the child's alarm: their timeout becomes "do not
 * wait" (0, or a zero timespec), every other argument stays random. */
static const long zero_time[2];

static void no_wait(long nr, long *a)
{
    switch (nr) {
    case SYS_poll: a[2] = 0; break;
    case SYS_epoll_wait: case SYS_epoll_pwait: a[3] = 0; break;
    case SYS_ppoll: a[2] = (long)zero_time; break;
    case SYS_select: case SYS_pselect6: a[4] = (long)zero_time; break;
    case 441: a[3] = (long)zero_time; break;            /* epoll_pwait2 */
    }
}

int main(int argc, char **argv)
{
    state = argc > 1 ? strtoull(argv[1], NULL, 0) | 1 : 88172645463325252ull;
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    int died = 0, calls = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t seed = rnd();
        pid_t pid = fork();
        if (pid == 0) {
            state = seed;
            alarm(20);      /* a call that blocks for good (a futex wait...) ends the child */
            page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            munmap(page + 4096, 4096);
            for (int i = 0; i < 400; i++) {
                /* Mostly the classic table; one call in eight from the
                 * newer numbers (424-450: clone3, faccessat2...). */
                long nr = rnd() % 8 ? (long)(rnd() % 340) : 424 + (long)(rnd() % 27);
                if (forbidden(nr))
                    continue;
                long a[6] = { arg(), arg(), arg(), arg(), arg(), arg() };
                no_wait(nr, a);
                syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            }
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        died += WIFSIGNALED(st);
        calls++;
    }
    printf("sysfuzz: %d children done (%d killed by signals); kernel alive\n", calls, died);
    return 0;
}
