/* ace seq1|seq2 DIR: crash-explorer workloads in the style of ACE, the
 * workload generator of CrashMonkey (OSDI '18): every file-system operation
 * (seq1), or every pair of operations (seq2), followed by a persistence
 * point: fsync of a file or a directory, fdatasync, or sync.
 *
 * Each case works in its own directory DIR/cN, set up beforehand (one sync
 * for all) as:  cN/foo (3000 bytes)  cN/A/bar (1500 bytes)  cN/E (empty dir).
 * After each persistence call returns the program prints
 *     checkpoint K: <call> of <path> returned
 * with the path relative to DIR, and, when VIGIL_CRASH_ACK is set, waits for
 * a line on stdin (the harness notes where the write log stands). It runs
 * unchanged on the host Linux, where the harness takes the expected state of
 * the tree at each checkpoint from it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "checkpoint.h"

#define CASES 12   /* operations in each set */

static int serial;


static void die(const char *what, const char *path)
{
    printf("ace: %s %s failed\n", what, path);
    exit(1);
}

/* n bytes no other write in the run repeats. */
static void fill(int fd, size_t n)
{
    static unsigned char b[8192];
    int s = ++serial;
    for (size_t i = 0; i < n && i < sizeof(b); i++)
        b[i] = (unsigned char)(i * 31 + s * 7 + 1);
    if (n > sizeof(b) || write(fd, b, n) != (ssize_t)n)
        die("write", "");
}

static void put(const char *path, size_t n, int flags)
{
    int fd = open(path, O_CREAT | O_WRONLY | flags, 0644);
    if (fd < 0)
        die("open", path);
    fill(fd, n);
    close(fd);
}

static void sync_path(const char *call, const char *path)
{
    if (!strcmp(call, "sync")) {
        sync();
    } else {
        int fd = open(path, O_RDONLY);
        if (fd < 0 || (!strcmp(call, "fsync") ? fsync(fd) : fdatasync(fd)) < 0)
            die(call, path);
        close(fd);
    }
    checkpoint(call, path);
}

static char p1[128], p2[128], p3[128];

#define P(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

/* Operation op of the seq1 set, on case directory c; 0 if there is none. */
static int seq1(int op, const char *c)
{
    int fd;
    switch (op) {
    case 0:  /* creat */
        if ((fd = open(P(p1, "%s/new", c), O_CREAT | O_WRONLY, 0644)) < 0)
            die("creat", p1);
        close(fd);
        sync_path("fsync", p1);
        break;
    case 1:  /* write: append */
        put(P(p1, "%s/foo", c), 4000, O_APPEND);
        sync_path("fsync", p1);
        break;
    case 2:  /* write: past the end (a hole), fdatasync */
        if ((fd = open(P(p1, "%s/foo", c), O_WRONLY)) < 0 || lseek(fd, 20000, SEEK_SET) < 0)
            die("open", p1);
        fill(fd, 1000);
        close(fd);
        sync_path("fdatasync", p1);
        break;
    case 3:  /* link */
        if (link(P(p1, "%s/foo", c), P(p2, "%s/A/foolink", c)) < 0)
            die("link", p2);
        sync_path("fsync", P(p3, "%s/A", c));
        break;
    case 4:  /* unlink */
        if (unlink(P(p1, "%s/A/bar", c)) < 0)
            die("unlink", p1);
        sync_path("fsync", P(p3, "%s/A", c));
        break;
    case 5:  /* rename to a new name */
        if (rename(P(p1, "%s/foo", c), P(p2, "%s/baz", c)) < 0)
            die("rename", p1);
        sync_path("fsync", c);
        break;
    case 6:  /* rename over an existing file, across directories */
        if (rename(P(p1, "%s/A/bar", c), P(p2, "%s/foo", c)) < 0)
            die("rename", p1);
        sync_path("fsync", c);
        break;
    case 7:  /* mkdir */
        if (mkdir(P(p1, "%s/B", c), 0755) < 0)
            die("mkdir", p1);
        sync_path("fsync", c);
        break;
    case 8:  /* rmdir */
        if (rmdir(P(p1, "%s/E", c)) < 0)
            die("rmdir", p1);
        sync_path("fsync", c);
        break;
    case 9:  /* truncate: shrink */
        if (truncate(P(p1, "%s/foo", c), 1000) < 0)
            die("truncate", p1);
        sync_path("fsync", p1);
        break;
    case 10: /* truncate: grow (a hole), fdatasync */
        if (truncate(P(p1, "%s/A/bar", c), 9000) < 0)
            die("truncate", p1);
        sync_path("fdatasync", p1);
        break;
    case 11: /* create and write, then sync */
        put(P(p1, "%s/A/new", c), 2500, 0);
        sync_path("sync", ".");
        break;
    default:
        return 0;
    }
    return 1;
}

/* Pairs: the second operation builds on (or undoes) the first. */
static int seq2(int op, const char *c)
{
    int fd;
    switch (op) {
    case 0:  /* creat + write */
        put(P(p1, "%s/x", c), 3000, 0);
        sync_path("fsync", p1);
        break;
    case 1:  /* link + unlink the original */
        if (link(P(p1, "%s/foo", c), P(p2, "%s/l1", c)) < 0 || unlink(p1) < 0)
            die("link/unlink", p1);
        sync_path("fsync", c);
        break;
    case 2:  /* two renames: a swap through a third name */
        if (rename(P(p1, "%s/foo", c), P(p2, "%s/A/moved", c)) < 0 ||
            rename(P(p3, "%s/A/bar", c), p1) < 0)
            die("rename", p1);
        sync_path("sync", ".");
        break;
    case 3:  /* mkdir + rename a file into it */
        if (mkdir(P(p1, "%s/B", c), 0755) < 0 ||
            rename(P(p2, "%s/foo", c), P(p3, "%s/B/foo", c)) < 0)
            die("mkdir/rename", p1);
        sync_path("fsync", c);
        break;
    case 4:  /* unlink + creat the same name with new bytes */
        if (unlink(P(p1, "%s/foo", c)) < 0)
            die("unlink", p1);
        put(p1, 3000, 0);
        sync_path("fsync", p1);
        break;
    case 5:  /* truncate to zero + append */
        if (truncate(P(p1, "%s/foo", c), 0) < 0)
            die("truncate", p1);
        put(p1, 5000, O_APPEND);
        sync_path("fsync", p1);
        break;
    case 6:  /* write a new version + rename it over the old: atomic replace */
        put(P(p1, "%s/foo.tmp", c), 2000, O_TRUNC);
        if (rename(p1, P(p2, "%s/foo", c)) < 0)
            die("rename", p1);
        sync_path("fsync", c);
        break;
    case 7:  /* rmdir + mkdir */
        if (rmdir(P(p1, "%s/E", c)) < 0 || mkdir(P(p2, "%s/E2", c), 0755) < 0)
            die("rmdir/mkdir", p1);
        sync_path("fsync", c);
        break;
    case 8:  /* append + truncate another file, fdatasync */
        put(P(p1, "%s/foo", c), 2000, O_APPEND);
        if (truncate(P(p2, "%s/A/bar", c), 500) < 0)
            die("truncate", p2);
        sync_path("fdatasync", p1);
        break;
    case 9:  /* link into a subdirectory + rename the link */
        if (link(P(p1, "%s/foo", c), P(p2, "%s/A/l", c)) < 0 ||
            rename(p2, P(p3, "%s/A/l2", c)) < 0)
            die("link/rename", p2);
        sync_path("fsync", P(p3, "%s/A", c));
        break;
    case 10: /* unlink + rmdir emptying a directory */
        if (unlink(P(p1, "%s/A/bar", c)) < 0 || rmdir(P(p2, "%s/A", c)) < 0)
            die("unlink/rmdir", p1);
        sync_path("fsync", c);
        break;
    case 11: /* creat + fdatasync of an empty file, then grow it */
        if ((fd = open(P(p1, "%s/y", c), O_CREAT | O_WRONLY, 0644)) < 0 || ftruncate(fd, 7000) < 0)
            die("creat/ftruncate", p1);
        close(fd);
        sync_path("fdatasync", p1);
        break;
    default:
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "seq1") && strcmp(argv[1], "seq2"))) {
        fprintf(stderr, "usage: ace seq1|seq2 DIR\n");
        return 2;
    }
    int (*op)(int, const char *) = !strcmp(argv[1], "seq1") ? seq1 : seq2;
    checkpoint_init();
    mkdir(argv[2], 0755);
    if (chdir(argv[2]) < 0)
        die("chdir", argv[2]);
    for (int i = 0; i < CASES; i++) {
        char c[16];
        snprintf(c, sizeof(c), "c%d", i);
        if (mkdir(c, 0755) < 0 || mkdir(P(p1, "%s/A", c), 0755) < 0 ||
            mkdir(P(p1, "%s/E", c), 0755) < 0)
            die("mkdir", c);
        put(P(p1, "%s/foo", c), 3000, 0);
        put(P(p1, "%s/A/bar", c), 1500, 0);
    }
    sync_path("sync", ".");
    for (int i = 0; i < CASES; i++) {
        char c[16];
        snprintf(c, sizeof(c), "c%d", i);
        if (!op(i, c))
            die("operation", c);
    }
    printf("ace: done\n");
    return 0;
}
