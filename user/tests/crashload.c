/* crashload DIR N: a metadata-heavy workload that promises things as it
 * goes. Step i: write "v<i>" to a temporary file, fsync it, rename it over
 * DIR/current (atomic replace), make directory d<i> with a file in it,
 * remove d<i-2>, append a line to DIR/log and fsync it, then print
 * "checkpoint i". `crashload check DIR` verifies the promises after a crash:
 * DIR/current holds a whole version (never a mix, never empty) at least as
 * new as the last checkpoint printed, and DIR/log has every fsync'd line. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *path, const char *text, int flags)
{
    int fd = open(path, O_CREAT | O_WRONLY | flags, 0644);
    write(fd, text, strlen(text));
    fsync(fd);
    close(fd);
}

static int check(const char *dir, int last)
{
    char path[256], buf[4096];
    snprintf(path, sizeof(path), "%s/current", dir);
    int fd = open(path, O_RDONLY), bad = 0;
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    buf[n > 0 ? n : 0] = 0;
    int v = -1;
    if (last >= 0 && (n <= 0 || sscanf(buf, "v%d", &v) != 1 || v < last)) {
        printf("check: current is \"%s\" after checkpoint %d\n", buf, last);
        bad = 1;
    }
    snprintf(path, sizeof(path), "%s/log", dir);
    FILE *f = fopen(path, "r");
    int lines = 0;
    char line[64];
    while (f && fgets(line, sizeof(line), f)) {
        int k;
        if (sscanf(line, "line %d", &k) != 1 || k != lines) {
            printf("check: log line %d is \"%s\"\n", lines, line);
            bad = 1;
            break;
        }
        lines++;
    }
    if (lines < last + 1) {
        printf("check: log has %d lines after checkpoint %d\n", lines, last);
        bad = 1;
    }
    printf("check: %s (current v%d, %d log lines, last checkpoint %d)\n", bad ? "FAILED" : "ok", v, lines, last);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "check"))
        return check(argv[2], atoi(argv[3]));
    if (argc < 3)
        return 2;
    const char *dir = argv[1];
    int n = atoi(argv[2]);
    char path[256], tmp[256], text[64];
    for (int i = 0; i < n; i++) {
        snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
        snprintf(text, sizeof(text), "v%d %s\n", i, "payload payload payload payload");
        put(tmp, text, O_TRUNC);
        snprintf(path, sizeof(path), "%s/current", dir);
        rename(tmp, path);
        snprintf(path, sizeof(path), "%s/d%d", dir, i);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/d%d/f", dir, i);
        put(path, text, O_TRUNC);
        if (i >= 2) {
            snprintf(path, sizeof(path), "%s/d%d/f", dir, i - 2);
            unlink(path);
            snprintf(path, sizeof(path), "%s/d%d", dir, i - 2);
            rmdir(path);
        }
        snprintf(path, sizeof(path), "%s/log", dir);
        snprintf(text, sizeof(text), "line %d\n", i);
        put(path, text, O_APPEND);
        printf("checkpoint %d\n", i);
        fflush(stdout);
    }
    printf("crashload: done\n");
    return 0;
}
