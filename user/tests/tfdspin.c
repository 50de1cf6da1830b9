/* tfdspin - a timerfd that is always expired (a 1 ns interval), polled for
 * POLLOUT, found by `./vigil fuzz` (seed 40, docs/fuzz.md): Vigil's timerfd
 * counted its expirations when polled and woke its waiters each time, the
 * poller among them, so ppoll went round for ever without sleeping, with
 * the kernel lock held (the lock watchdog's "held for 10 s", every other
 * thread stuck behind it, no signal or timeout could end it). Linux: the
 * timeout ends the call with 0. Then the same with poll, and a read that
 * gets the expirations. Prints what the host prints. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec it = { { 0, 1 }, { 0, 1 } };
    if (fd < 0 || timerfd_settime(fd, 0, &it, NULL)) {
        perror("timerfd");
        return 1;
    }
    struct pollfd p = { fd, POLLOUT, 0 };
    struct timespec to = { 0, 200 * 1000 * 1000 };
    int r = ppoll(&p, 1, &to, NULL);
    printf("ppoll POLLOUT on an always-expired timerfd: %d, revents %#x\n", r, p.revents);
    p.revents = 0;
    r = poll(&p, 1, 100);
    printf("poll POLLOUT: %d, revents %#x\n", r, p.revents);
    p.events = POLLIN;
    r = poll(&p, 1, 100);
    printf("poll POLLIN: %d, revents %#x\n", r, p.revents);
    uint64_t n = 0;
    ssize_t k = read(fd, &n, sizeof(n));
    printf("read: %zd bytes, expirations %s\n", k, n > 0 ? "> 0" : "0");
    it.it_interval.tv_sec = 0x7fffffffffffffffLL / 1000000000 - 1;   /* near the clock's end */
    it.it_interval.tv_nsec = 999999999;
    timerfd_settime(fd, 0, &it, NULL);
    usleep(1000);
    r = poll(&p, 1, 100);
    k = read(fd, &n, sizeof(n));
    printf("a huge interval: poll %d, read %zd bytes, expirations %llu\n", r, k,
           (unsigned long long)n);
    printf("tfdspin: done\n");
    return 0;
}
