/* epollexcl: EPOLLEXCLUSIVE wakes one waiter per event (epoll_ctl(2)).
 *
 * Six processes each make an epoll instance watching the read end of one
 * shared pipe with EPOLLIN | EPOLLET | EPOLLEXCLUSIVE and sleep in
 * epoll_wait. Once all six are asleep (their /proc/PID/stat state is S),
 * the parent writes one byte per round, waits for the woken child to say
 * so, lets any other that was woken too catch up, and reads the byte back.
 * Each child counts itself in a shared counter when its epoll_wait reports
 * the pipe. Without exclusivity every child wakes on the first byte (the
 * thundering herd), and the count runs ahead of the rounds.
 *
 * Prints, the same on Linux:
 *     event 1 woke 1 waiter in all ... event 6 woke 6 waiters in all
 *     each event woke exactly one waiter */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAITERS 6

static char state_of(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

int main(void)
{
    int data[2], done[2];
    if (pipe(data) || pipe(done)) {
        perror("pipe");
        return 1;
    }
    int *woken = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (woken == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pid_t pids[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            int ep = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE };
            if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, data[0], &ev)) {
                printf("child %d: epoll setup: %s\n", i, strerror(errno));
                _exit(1);
            }
            int n = epoll_wait(ep, &ev, 1, 20000);
            if (n == 1) {
                __atomic_add_fetch(woken, 1, __ATOMIC_SEQ_CST);
                if (write(done[1], "w", 1) != 1)
                    _exit(1);
            }
            _exit(n == 1 ? 0 : 2);
        }
    }
    /* Every child asleep in epoll_wait before the first byte. */
    for (int i = 0; i < WAITERS; i++)
        for (int tries = 0; state_of(pids[i]) != 'S'; tries++) {
            if (tries > 2000) {
                printf("child %d never went to sleep\n", i);
                return 1;
            }
            pause_ms(5);
        }
    int ok = 1;
    for (int round = 1; round <= WAITERS; round++) {
        char c;
        if (write(data[1], "x", 1) != 1 || read(done[0], &c, 1) != 1) {
            printf("event %d: %s\n", round, strerror(errno));
            return 1;
        }
        pause_ms(100);                  /* others wrongly woken show up meanwhile */
        int n = __atomic_load_n(woken, __ATOMIC_SEQ_CST);
        printf("event %d woke %d waiter%s in all\n", round, n, n == 1 ? "" : "s");
        if (n != round) {
            ok = 0;
            break;
        }
        if (read(data[0], &c, 1) != 1)
            return 1;
    }
    if (ok)
        printf("each event woke exactly one waiter\n");
    for (int i = 0; i < WAITERS; i++) {
        if (!ok)
            kill(pids[i], SIGKILL);         /* the ones still waiting, after a failure */
        waitpid(pids[i], NULL, 0);
    }
    return ok ? 0 : 1;
}
