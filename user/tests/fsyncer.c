/* fsyncer FILE BYTES [fsync|fdatasync|nosync [wait]]: write BYTES of a
 * known pattern to FILE, make it durable with fsync (the default) or
 * fdatasync, or not at all (nosync: the control case), say "synced", then
 * wait to be killed (the harness pulls the plug). With wait, it says
 * "written" first and waits for a line on stdin before syncing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    const char *how = argc > 3 ? argv[3] : "fsync";
    if (argc > 4 && !strcmp(argv[4], "wait")) {
        /* Written, not yet synced: wait for a line (the harness arms the disk). */
        printf("written\n");
        fflush(stdout);
        char c;
        while (read(0, &c, 1) == 1 && c != '\n')
            ;
    }
    if (!strcmp(how, "fsync") ? fsync(fd) < 0 : !strcmp(how, "fdatasync") ? fdatasync(fd) < 0
                                              : strcmp(how, "nosync") != 0)
        return 1;
    printf("synced\n");
    fflush(stdout);
    for (;;)
        pause();
}
