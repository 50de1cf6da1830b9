/* futexerr: what the futex syscall answers when it does not sleep, or
 * sleeps and times out. Each line names the call and its result (the
 * return value, and errno by name); the output is compared with Linux's.
 *
 *   wait, value differs            -1 EAGAIN     (the atomic check: no sleep)
 *   wait, 30 ms timeout            -1 ETIMEDOUT
 *   wait, zero timeout             -1 ETIMEDOUT
 *   wait, bad timeout (nsec 1e9)   -1 EINVAL
 *   wait, unmapped address         -1 EFAULT
 *   wait, misaligned address       -1 EINVAL
 *   wake, nobody waiting            0
 *   op 99                          -1 ENOSYS
 * and the same with FUTEX_PRIVATE_FLAG (how musl calls it). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> is not in musl's headers. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENOSYS: return "ENOSYS";
    case EINTR: return "EINTR";
    case EPERM: return "EPERM";
    default: return strerror(e);
    }
}

static void show(const char *what, long r, int e)
{
    if (r < 0)
        printf("futex %-44s %ld %s\n", what, r, ename(e));
    else
        printf("futex %-44s %ld\n", what, r);
}

static long futex(void *addr, int op, int val, const struct timespec *ts)
{
    errno = 0;
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void run(int priv)
{
    static int word __attribute__((aligned(8))) = 5;
    char name[64];
    long r;
    const char *p = priv ? "private " : "";

#define CHECK(label, call)                                  \
    do {                                                    \
        r = (call);                                         \
        int e = errno;                                      \
        snprintf(name, sizeof(name), "%s%s:", p, label);    \
        show(name, r, e);                                   \
    } while (0)

    /* With a timeout, so that a kernel that sleeps although the value
     * differs says ETIMEDOUT after 5 s instead of hanging for good. */
    struct timespec t5 = { 5, 0 };
    CHECK("wait, value differs", futex(&word, FUTEX_WAIT | priv, 4, &t5));
    struct timespec t30 = { 0, 30 * 1000 * 1000 };
    CHECK("wait, 30 ms timeout", futex(&word, FUTEX_WAIT | priv, 5, &t30));
    struct timespec t0 = { 0, 0 };
    CHECK("wait, zero timeout", futex(&word, FUTEX_WAIT | priv, 5, &t0));
    struct timespec bad = { 0, 1000000000 };
    CHECK("wait, bad timeout (nsec 1e9)", futex(&word, FUTEX_WAIT | priv, 5, &bad));
    /* An address certainly not mapped: map a page, unmap it. */
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page, 4096);
    CHECK("wait, unmapped address", futex(page, FUTEX_WAIT | priv, 0, NULL));
    CHECK("wait, misaligned address", futex((char *)&word + 1, FUTEX_WAIT | priv, 5, NULL));
    CHECK("wake, nobody waiting", futex(&word, FUTEX_WAKE | priv, 1, NULL));
    CHECK("op 99", futex(&word, 99 | priv, 0, NULL));
#undef CHECK
}

int main(void)
{
    run(0);
    run(FUTEX_PRIVATE_FLAG);
    return 0;
}
