/* fill DIR: write into DIR/big until the disk is full. The write that does
 * not fit must fail with ENOSPC (after any partial write), the file system
 * must stay usable, and removing the file must give the space back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) < 0)
        return 2;
    static char buf[65536];
    memset(buf, 'x', sizeof(buf));
    int fd = open("big", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    long long total = 0;
    ssize_t k;
    errno = 0;
    while ((k = write(fd, buf, sizeof(buf))) > 0)
        total += k;
    int e = errno;
    printf("stopped after %s with %s\n", total > 0 ? "some data" : "nothing",
           k < 0 && e == ENOSPC ? "ENOSPC" : strerror(e));
    printf("fsync: %d\n", fsync(fd));
    close(fd);
    printf("unlink: %d\n", unlink("big"));
    fd = open("small", O_CREAT | O_WRONLY, 0644);
    printf("write after freeing: %zd\n", write(fd, "ok\n", 3));
    fsync(fd);
    close(fd);
    return 0;
}
