/* applog DIR [N]: an append-heavy log writer, a crash-explorer workload.
 * Appends N records (default 40) of varying length to DIR/log, each made
 * durable before the next (fsync or fdatasync, alternately); every 12
 * records it rotates: DIR/log becomes DIR/log.1 (replacing the last one)
 * and a new DIR/log starts, and the directory is fsync'd. After each
 * persistence call it prints "checkpoint K: <call> of <path> returned"
 * (path relative to DIR) and, when VIGIL_CRASH_ACK is set, waits for a line
 * on stdin. Runs unchanged on the host Linux. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "checkpoint.h"



static int open_log(void)
{
    int fd = open("log", O_CREAT | O_WRONLY | O_APPEND, 0644);
    if (fd < 0) {
        printf("applog: cannot open log\n");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: applog DIR [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 40;
    checkpoint_init();
    mkdir(argv[1], 0755);
    if (chdir(argv[1]) < 0)
        return 1;
    int fd = open_log();
    static char rec[4096];
    for (int i = 0; i < n; i++) {
        /* 40 to ~3000 bytes: some records stay in a block, some cross two. */
        int len = 40 + (i * 733) % 2900;
        int h = snprintf(rec, sizeof(rec), "record %d length %d:", i, len);
        for (int k = h; k < len - 1; k++)
            rec[k] = (char)('a' + (i + k) % 26);
        rec[len - 1] = '\n';
        if (write(fd, rec, (size_t)len) != len) {
            printf("applog: write failed\n");
            return 1;
        }
        int data_only = i % 2;
        if ((data_only ? fdatasync(fd) : fsync(fd)) < 0) {
            printf("applog: sync failed\n");
            return 1;
        }
        checkpoint(data_only ? "fdatasync" : "fsync", "log");
        if (i % 12 == 11) {
            close(fd);
            if (rename("log", "log.1") < 0) {
                printf("applog: rename failed\n");
                return 1;
            }
            fd = open_log();
            int d = open(".", O_RDONLY);
            if (d < 0 || fsync(d) < 0) {
                printf("applog: fsync of the directory failed\n");
                return 1;
            }
            close(d);
            checkpoint("fsync", ".");
        }
    }
    close(fd);
    printf("applog: done\n");
    return 0;
}
