/* getdents.c - the old getdents(2) beside getdents64(2) (tests/test_fspath.py
 * runs it on the host's Linux and on Vigil and compares every line).
 *
 * In a fresh directory DIR/gd (argv[1]) with one entry of each kind a user
 * can make (file, directory, symlink, FIFO) and a long name: both calls
 * list the same names, inode numbers and types, read through a buffer so
 * small that each call returns one or two records; each record's d_off,
 * given back to lseek, resumes after it; then the bad inputs: a closed
 * descriptor, a file that is not a directory, a buffer too small for one
 * record, a bad pointer. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errname.h"

struct ent { unsigned long ino; long off; unsigned char type; char name[260]; };

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

/* Every entry through one call or the other, bufsize bytes at a time. */
static int list(int old, const char *dir, size_t bufsize, struct ent *out, int max, int *calls)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[4096];
    int n = 0;
    *calls = 0;
    for (;;) {
        long r = syscall(old ? SYS_getdents : SYS_getdents64, fd, buf, bufsize);
        if (r < 0) {
            printf("  %s: %s\n", old ? "getdents" : "getdents64", ename(errno));
            break;
        }
        if (r == 0)
            break;
        (*calls)++;
        for (long pos = 0; pos < r && n < max;) {
            struct ent *e = &out[n++];
            unsigned short reclen;
            memcpy(&e->ino, buf + pos, 8);
            memcpy(&e->off, buf + pos + 8, 8);
            memcpy(&reclen, buf + pos + 16, 2);
            if (old) {                          /* d_name at 18, d_type in the last byte */
                snprintf(e->name, sizeof(e->name), "%s", buf + pos + 18);
                e->type = (unsigned char)buf[pos + reclen - 1];
            } else {                            /* d_type at 18, d_name at 19 */
                e->type = (unsigned char)buf[pos + 18];
                snprintf(e->name, sizeof(e->name), "%s", buf + pos + 19);
            }
            if (reclen % 8 || reclen < 20)
                printf("  a record of %u bytes\n", reclen);
            pos += reclen;
        }
    }
    close(fd);
    return n;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[512], path[1024];
    snprintf(dir, sizeof(dir), "%s/gd", argc > 1 ? argv[1] : "/tmp");
    mkdir(dir, 0755);
    char longname[201];
    memset(longname, 'L', 200);
    longname[200] = 0;
    const char *files[] = { "file", "a", longname };
    for (unsigned i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    snprintf(path, sizeof(path), "%s/sub", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/link", dir);
    symlink("file", path);
    snprintf(path, sizeof(path), "%s/fifo", dir);
    mkfifo(path, 0644);

    static struct ent a[64], b[64];
    int calls_a, calls_b;
    int na = list(1, dir, 4096, a, 64, &calls_a);
    int nb = list(0, dir, 4096, b, 64, &calls_b);
    printf("entries: getdents %d, getdents64 %d\n", na, nb);
    qsort(a, (size_t)na, sizeof(a[0]), by_name);
    qsort(b, (size_t)nb, sizeof(b[0]), by_name);
    for (int i = 0; i < na && i < nb; i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, a[i].name);
        int ok = !lstat(path, &st) && st.st_ino == a[i].ino;
        printf("  %.20s type %u/%u, same inode %s, st_ino %s\n", a[i].name, a[i].type, b[i].type,
               a[i].ino == b[i].ino && !strcmp(a[i].name, b[i].name) ? "yes" : "NO",
               ok || !strcmp(a[i].name, "..") ? "agrees" : "DIFFERS");
    }
    /* A buffer of 64 bytes holds one short record or two: many calls, the
     * same entries; the long name does not fit (EINVAL), as on Linux. */
    printf("through 64 bytes:\n");
    list(1, dir, 64, a, 64, &calls_a);
    int big = list(1, dir, 280, a, 64, &calls_a);
    printf("through 280 bytes: %d entries, more than one call: %s\n", big, calls_a > 1 ? "yes" : "no");

    /* d_off: lseek to each record's offset, and the next call starts after it. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[4096];
    long r = syscall(SYS_getdents, fd, buf, sizeof(buf));
    int resumed = 0, records = 0;
    for (long pos = 0; pos < r;) {
        unsigned short reclen;
        long off;
        memcpy(&off, buf + pos + 8, 8);
        memcpy(&reclen, buf + pos + 16, 2);
        long next = pos + reclen;
        char buf2[4096];
        lseek(fd, off, SEEK_SET);
        long r2 = syscall(SYS_getdents, fd, buf2, sizeof(buf2));
        if (next >= r ? r2 == 0 : (r2 > 0 && !strcmp(buf2 + 18, buf + next + 18)))
            resumed++;
        records++;
        pos = next;
    }
    printf("d_off resumes after its record: %d of %d\n", resumed, records);
    close(fd);

    /* Bad inputs. */
    printf("closed fd: %s\n", syscall(SYS_getdents, fd, buf, sizeof(buf)) < 0 ? ename(errno) : "0");
    snprintf(path, sizeof(path), "%s/file", dir);
    int f = open(path, O_RDONLY);
    printf("not a directory: %s\n", syscall(SYS_getdents, f, buf, sizeof(buf)) < 0 ? ename(errno) : "0");
    close(f);
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    printf("buffer of 8 bytes: %s\n", syscall(SYS_getdents, fd, buf, 8) < 0 ? ename(errno) : "0");
    printf("bad pointer: %s\n", syscall(SYS_getdents, fd, (void *)16, sizeof(buf)) < 0 ? ename(errno) : "0");
    printf("kernel pointer: %s\n",
           syscall(SYS_getdents, fd, (void *)0xffffffff81000000ul, sizeof(buf)) < 0 ? ename(errno) : "0");
    close(fd);

    for (unsigned i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/link", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/fifo", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
    printf("getdents: done\n");
    return 0;
}
