/* fsyncer FILE BYTES [nosync]: write BYTES of a known pattern to FILE,
 * fsync it (unless told not to: the control case), say "synced", then wait
 * to be killed (the harness pulls the plug). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    size_t n = strtoul(argv[2], NULL, 0);
    int fd = open(argv[1], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    static unsigned char buf[4096];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
        for (size_t i = 0; i < k; i++)
            buf[i] = (unsigned char)((done + i) * 31 + 7);
        if (write(fd, buf, k) != (ssize_t)k)
            return 1;
        done += k;
    }
    if (argc < 4 && fsync(fd) < 0)
        return 1;
    printf("synced\n");
    fflush(stdout);
    for (;;)
        pause();
}
