/* parentput.c - calls whose parent directory turns out not to be one
 * (tests/test_fspath.py runs it on Vigil and on the host Linux and compares
 * every line).
 *
 * symlink, link, rename (either side), mknod and mkdir with a path such as
 * "file/x" (ENOTDIR: the parent is a regular file) or "dir/<256 bytes>"
 * (ENAMETOOLONG), several times each, then the file and the directory are
 * looked at again. Each call must fail with Linux's errno and change
 * nothing: trinity's seed 392 found that such a failure put the parent's
 * inode twice, so the file was freed while its directory still named it
 * (the next lookup found freed memory). And rename with "." or ".." as
 * a last name: EBUSY.
 *
 *   parentput DIR... (each in turn: a tmpfs, a disk) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static void say(const char *what, long r)
{
    printf("%s: %s\n", what, r < 0 ? ename(errno) : "ok");
}

static int one(const char *dir)
{
    if (chdir(dir)) {
        perror(dir);
        return 1;
    }
    mkdir("pp", 0755);
    if (chdir("pp")) {
        perror("pp");
        return 1;
    }
    int fd = open("file", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || write(fd, "kept\n", 5) != 5 || close(fd)) {
        perror("file");
        return 1;
    }
    mkdir("d", 0755);
    char longname[300] = "d/";
    memset(longname + 2, 'n', 256);
    longname[258] = 0;
    const char *bad[] = { "file/x", longname };
    for (int round = 0; round < 3; round++)
        for (int b = 0; b < 2; b++) {
            const char *p = bad[b];
            const char *kind = b ? "long" : "notdir";
            char what[64];
            snprintf(what, sizeof(what), "%s symlink", kind);
            say(what, symlink("target", p));
            snprintf(what, sizeof(what), "%s link", kind);
            say(what, link("file", p));
            snprintf(what, sizeof(what), "%s rename from", kind);
            say(what, rename(p, "other"));
            snprintf(what, sizeof(what), "%s rename to", kind);
            say(what, rename("file", p));
            snprintf(what, sizeof(what), "%s mknod", kind);
            say(what, mknod(p, S_IFIFO | 0644, 0));
            snprintf(what, sizeof(what), "%s mkdir", kind);
            say(what, mkdir(p, 0755));
            snprintf(what, sizeof(what), "%s unlink", kind);
            say(what, unlink(p));
        }
    /* "." and ".." as a last name of rename, either side: EBUSY (ext2 had
     * moved the directory ".." named, and taken the ".." entry out of the
     * directory it was named in; found by pathfuzz). */
    mkdir("d/e", 0755);
    const char *dots[][2] = { { "d/e/..", "x" }, { "x", "d/.." }, { "d/.", "x" }, { ".", "x" },
                              { "d", "d/e/.." }, { "d/e/..", "d/e/.." } };
    for (int i = 0; i < 6; i++) {
        char what[64];
        snprintf(what, sizeof(what), "rename %s %s", dots[i][0], dots[i][1]);
        say(what, rename(dots[i][0], dots[i][1]));
    }
    rmdir("d/e");
    struct stat st;
    char buf[16] = { 0 };
    fd = open("file", O_RDONLY);
    long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    int sr = stat("file", &st);
    printf("file afterwards: stat %s, size %ld, nlink %ld, reads %ld bytes: %s", sr ? "fails" : "ok",
           sr ? -1L : (long)st.st_size, sr ? -1L : (long)st.st_nlink, n, n > 0 ? buf : "\n");
    close(fd);
    printf("d afterwards: %s\n", stat("d", &st) == 0 && S_ISDIR(st.st_mode) ? "a directory" : "gone");
    unlink("file");
    rmdir("d");
    if (chdir("..") || rmdir("pp"))
        perror("cleanup");
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        printf("directory %d\n", i);
        if (one(argv[i]))
            return 1;
    }
    printf("parentput done\n");
    return 0;
}
