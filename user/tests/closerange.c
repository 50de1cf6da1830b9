/* closerange: close_range(2) on descriptors 3..9 (dups of stdin), each
 * step followed by what fcntl(F_GETFD) says of 3..9: '-' closed, 'c'
 * close-on-exec, 'o' open. The same lines on Linux and Vigil. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CLOSE_RANGE_UNSHARE (1u << 1)
#define CLOSE_RANGE_CLOEXEC (1u << 2)

static void show(const char *what, long r)
{
    char s[8];
    for (int fd = 3; fd <= 9; fd++) {
        int f = fcntl(fd, F_GETFD);
        s[fd - 3] = f < 0 ? '-' : (f & FD_CLOEXEC) ? 'c' : 'o';
    }
    s[7] = 0;
    printf("%-28s -> %s  %s\n", what, r < 0 ? strerror(errno) : "0", s);
}

int main(void)
{
    for (int fd = 3; fd <= 9; fd++)
        dup2(0, fd);
    show("start", 0);
    show("close_range(5, 7, 0)", syscall(SYS_close_range, 5, 7, 0));
    show("close_range(3, 4, CLOEXEC)", syscall(SYS_close_range, 3, 4, CLOSE_RANGE_CLOEXEC));
    show("close_range(9, 3, 0)", syscall(SYS_close_range, 9, 3, 0));
    show("close_range(3, 9, 1)", syscall(SYS_close_range, 3, 9, 1));
    show("close_range(8, ~0, UNSHARE)", syscall(SYS_close_range, 8, ~0u, CLOSE_RANGE_UNSHARE));
    show("close_range(0+100, ~0, 0)", syscall(SYS_close_range, 100, ~0u, 0));
    show("close_range(3, ~0, 0)", syscall(SYS_close_range, 3, ~0u, 0));
    return 0;
}
