/* enosys: syscalls that do not exist get ENOSYS (183 is afs_syscall, which
 * Linux never implemented either; 1000 is past the table). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    long nrs[] = { 183, 183, 1000, -1 };
    for (int i = 0; i < 4; i++) {
        errno = 0;
        long r = syscall(nrs[i]);
        int e = errno;
        printf("syscall(%ld) = %ld, %s\n", nrs[i], r, e == ENOSYS ? "ENOSYS" : strerror(e));
    }
    return 0;
}
