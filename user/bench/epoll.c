/* bench epoll: the pipe ping-pong of bench-pipe, but each side first waits
 * for its pipe in epoll_wait (the parent) or poll (the child), as an event
 * loop does; one op is a round trip. Against bench-pipe it prices the
 * readiness check and the wait-queue registration and wake-up. */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static int to_child[2], to_parent[2], ep;

static int round_trip(void)
{
    char c = 'x';
    struct epoll_event ev;
    if (write(to_child[1], &c, 1) != 1 || epoll_wait(ep, &ev, 1, -1) != 1)
        return -1;
    return read(to_parent[0], &c, 1) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    if (pipe(to_child) || pipe(to_parent))
        return bench_fail("epoll", "pipe");
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("epoll", "fork");
    if (pid == 0) {
        char c;
        close(to_child[1]);
        close(to_parent[0]);
        struct pollfd p = { to_child[0], POLLIN, 0 };
        while (poll(&p, 1, -1) == 1 && read(to_child[0], &c, 1) == 1)
            if (write(to_parent[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { 0 } };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, to_parent[0], &ev))
        return bench_fail("epoll", "epoll");
    BENCH_LOOP("epoll", a, 100, round_trip());
    close(to_child[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
