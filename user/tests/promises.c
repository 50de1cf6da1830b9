/* promises fdatasync|sync|dirfsync|replace|reuse|refill|evict DIR: crash-explorer workloads,
 * one per persistence promise an application leans on (see
 * harness/crashexplore.py, docs/invariants.md "crash consistency"):
 *
 *   fdatasync  appends to one file and overwrites another in place, each
 *              made durable by fdatasync: the file's bytes (and, where the
 *              size changed, the size) survive;
 *   sync       rounds of creates, appends, renames, links, truncates,
 *              mkdirs and unlinks across directories, each round ended by
 *              sync(2): the whole tree as it was survives;
 *   dirfsync   creates, renames and unlinks names in directories and makes
 *              them durable by fsync of the directory only: a created
 *              file's name survives once its directory was fsync'd;
 *   replace    the atomic-replace pattern (write etc/cfg.tmp, fsync it,
 *              rename it over etc/cfg, fsync etc): etc/cfg is at every
 *              moment the old version or the new one, whole, and the new
 *              one once etc was fsync'd;
 *   reuse      on a disk the harness left almost full (crashexplore.py,
 *              FILL): each round unlinks the last fsync'd file and writes
 *              a new one, which needs the blocks the unlink freed. Until
 *              the unlink commits, the old file still owns them on the
 *              disk, so they must not take the new file's bytes (ordered
 *              mode writes data home before the commit): the fsync'd file
 *              survives a crash before that commit with its own bytes;
 *   refill     the same cycle, with the free space first padded down to
 *              exactly 2 blocks (statvfs), so every round's write takes
 *              some blocks and then finds only the ones its unlink freed:
 *              the commit that makes them reusable must come after the
 *              write ends, not in its middle (a crash would find blocks
 *              marked used that no file owns), on any image layout;
 *   evict      with most of memory taken (an anonymous mapping, touched),
 *              so the buffer cache cannot grow: each round creates files
 *              (dirty metadata of a transaction not yet committed), then
 *              writes 1 MiB to another file, which makes the cache evict;
 *              then sync. Uncommitted metadata must not be evicted home:
 *              a crash before the commit would find it half there.
 *
 * After each persistence call it prints "checkpoint K: CALL of PATH
 * returned" (checkpoint.h), PATH relative to DIR. Deterministic, small
 * (a few hundred crash states each), and unchanged on the host Linux. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "checkpoint.h"

static int serial;

static void die(const char *what, const char *path)
{
    printf("promises: %s %s failed\n", what, path);
    exit(1);
}

/* n bytes (n <= 8192) that no other write of the run repeats. */
static const unsigned char *pattern(size_t n)
{
    static unsigned char b[8192];
    int s = ++serial;
    if (n > sizeof(b))
        die("pattern", "too long");
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 13 + s * 29 + 3);
    return b;
}

static void put(const char *path, size_t n, int flags)
{
    int fd = open(path, O_CREAT | O_WRONLY | flags, 0644);
    if (fd < 0 || write(fd, pattern(n), n) != (ssize_t)n)
        die("write", path);
    close(fd);
}

/* fsync or fdatasync of path (a file or a directory), or sync(2). */
static void persist(const char *call, const char *path)
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

static void workload_fdatasync(void)
{
    put("pre", 6000, 0);
    persist("fsync", "pre");
    int log = open("data", O_CREAT | O_WRONLY | O_APPEND, 0644);
    int pre = open("pre", O_WRONLY);
    if (log < 0 || pre < 0)
        die("open", "data/pre");
    for (int r = 0; r < 10; r++) {
        if (r % 2 == 0) {
            /* An append: new bytes and a new size. */
            size_t n = 300 + (size_t)r * 250;
            if (write(log, pattern(n), n) != (ssize_t)n || fdatasync(log) < 0)
                die("append+fdatasync", "data");
            checkpoint("fdatasync", "data");
        } else {
            /* An overwrite in place: new bytes, the size unchanged. One
             * aligned block (the disk writes a block whole; a longer
             * overwrite in flight may land torn, as on Linux). */
            off_t at = (off_t)(r * 1024) % 5120;
            if (pwrite(pre, pattern(1024), 1024, at) != 1024 || fdatasync(pre) < 0)
                die("overwrite+fdatasync", "pre");
            checkpoint("fdatasync", "pre");
        }
    }
    close(log);
    close(pre);
}

static void workload_sync(void)
{
    if (mkdir("a", 0755) < 0 || mkdir("b", 0755) < 0)
        die("mkdir", "a/b");
    put("a/f1", 2000, 0);
    persist("sync", ".");
    put("a/f1", 1500, O_APPEND);
    put("b/f2", 3000, 0);
    persist("sync", ".");
    if (rename("a/f1", "b/f1") < 0 || link("b/f2", "a/l2") < 0)
        die("rename/link", "b/f1");
    persist("sync", ".");
    if (truncate("b/f2", 700) < 0 || mkdir("a/c", 0755) < 0)
        die("truncate/mkdir", "b/f2");
    put("a/c/f3", 4000, 0);
    persist("sync", ".");
    if (rename("a/c", "b/c") < 0 || unlink("a/l2") < 0)
        die("rename/unlink", "a/c");
    put("b/c/f3", 1000, O_APPEND);
    persist("sync", ".");
    if (unlink("b/f1") < 0)
        die("unlink", "b/f1");
    put("a/f4", 2500, 0);
    persist("sync", ".");
    /* In place, alone between two syncs, one aligned block: file data is
     * not journaled, so an overwrite is atomic only as the disk's write of
     * one block is (and never with the metadata of its round). */
    int fd = open("a/f4", O_WRONLY);
    if (fd < 0 || pwrite(fd, pattern(1024), 1024, 1024) != 1024)
        die("pwrite", "a/f4");
    close(fd);
    persist("sync", ".");
    if (unlink("b/c/f3") < 0 || rmdir("b/c") < 0)
        die("rmdir", "b/c");
    persist("sync", ".");
}

static void workload_dirfsync(void)
{
    if (mkdir("d", 0755) < 0)
        die("mkdir", "d");
    char name[32];
    for (int i = 0; i < 4; i++) {
        /* A created file, empty or not, durable through its directory. */
        snprintf(name, sizeof(name), "d/n%d", i);
        if (i % 2)
            put(name, 400 + (size_t)i * 500, 0);
        else
            close(open(name, O_CREAT | O_WRONLY, 0644));
        persist("fsync", "d");
    }
    if (mkdir("d/sub", 0755) < 0)
        die("mkdir", "d/sub");
    persist("fsync", "d");
    put("d/sub/x", 1800, 0);
    persist("fsync", "d/sub");
    if (rename("d/n1", "d/sub/n1") < 0)
        die("rename", "d/n1");
    persist("fsync", "d");
    if (unlink("d/n0") < 0 || link("d/n3", "d/sub/n3") < 0)
        die("unlink/link", "d/n0");
    persist("fsync", "d/sub");
    persist("fsync", "d");
}

static void workload_replace(void)
{
    if (mkdir("etc", 0755) < 0)
        die("mkdir", "etc");
    put("etc/cfg", 1200, 0);
    persist("fsync", "etc/cfg");
    persist("fsync", "etc");
    for (int v = 1; v <= 6; v++) {
        /* A new version, a different length each time (across blocks). */
        put("etc/cfg.tmp", 500 + (size_t)((v * 1700) % 5000), O_TRUNC);
        persist("fsync", "etc/cfg.tmp");
        if (rename("etc/cfg.tmp", "etc/cfg") < 0)
            die("rename", "etc/cfg.tmp");
        persist("fsync", "etc");
    }
}

#define HOG_MB 92      /* of the explorer's 128 MiB: the cache's growth stops at 3/4 used */

static void workload_evict(void)
{
    size_t hog = (size_t)HOG_MB << 20;
    char *m = mmap(NULL, hog, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap", "hog");
    for (size_t i = 0; i < hog; i += 4096)
        m[i] = 1;
    char name[32];
    for (int r = 0; r < 4; r++) {
        snprintf(name, sizeof(name), "d%d", r);
        if (mkdir(name, 0755) < 0)
            die("mkdir", name);
        for (int i = 0; i < 12; i++) {
            snprintf(name, sizeof(name), "d%d/f%d", r, i);
            put(name, 100 + (size_t)i * 50, 0);
        }
        int fd = open("big", O_CREAT | O_WRONLY | O_TRUNC, 0644);
        for (int k = 0; fd >= 0 && k < 128; k++)
            if (write(fd, pattern(8192), 8192) != 8192)
                die("write", "big");
        if (fd < 0)
            die("open", "big");
        close(fd);
        persist("sync", ".");
    }
    munmap(m, hog);
}

/* refill: the allocate-free-reallocate cycle with a commit boundary in
 * reach, whatever the image's layout. A pad file is grown a block at a
 * time until exactly REFILL_SPARE blocks are free, so each round's write
 * takes those first, finds only the blocks the round's unlink freed (not
 * reusable before that unlink commits), and must end, commit and go on:
 * a commit in the middle of the write (the bitmap with the blocks it took,
 * not the inode that owns them) is in the crash states of every round.
 * On the host (free space far beyond what a pad should take) no pad: the
 * model only names the fsync'd files, whose sizes do not depend on it. */
#define REFILL_SPARE 2

static long free_blocks_1k(void)
{
    struct statvfs v;
    if (statvfs(".", &v) < 0)
        die("statvfs", ".");
    return (long)(v.f_bfree * (v.f_frsize / 512) / 2);
}

static void workload_refill(void)
{
    sync();
    int pad = open("pad", O_CREAT | O_WRONLY | O_APPEND, 0644);
    if (pad < 0)
        die("open", "pad");
    static const unsigned char zeros[1024];     /* not pattern(): the host writes no pad */
    bool small = free_blocks_1k() < 1000;       /* the explorer's filled image */
    for (int i = 0; small && i < 64 && free_blocks_1k() > REFILL_SPARE + 8; i++) {
        if (write(pad, zeros, 1024) != 1024)
            die("write", "pad");
    }
    close(pad);
    sync();
    char old[16] = "", name[16];
    for (int r = 0; r < 6; r++) {
        if (old[0] && unlink(old) < 0)
            die("unlink", old);
        snprintf(name, sizeof(name), "g%d", r);
        put(name, 8 * 1024, 0);
        persist("fsync", name);
        memcpy(old, name, sizeof(old));
    }
}

static void workload_reuse(void)
{
    char old[16] = "", name[16];
    for (int r = 0; r < 7; r++) {
        if (old[0] && unlink(old) < 0)
            die("unlink", old);
        snprintf(name, sizeof(name), "f%d", r);
        put(name, 8 * 1024, 0);
        persist("fsync", name);
        memcpy(old, name, sizeof(old));
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } w[] = {
        { "fdatasync", workload_fdatasync }, { "sync", workload_sync },
        { "dirfsync", workload_dirfsync }, { "replace", workload_replace },
        { "reuse", workload_reuse }, { "refill", workload_refill },
        { "evict", workload_evict },
    };
    int which = -1;
    for (int i = 0; argc == 3 && i < (int)(sizeof(w) / sizeof(w[0])); i++)
        if (!strcmp(argv[1], w[i].name))
            which = i;
    if (which < 0) {
        fprintf(stderr, "usage: promises fdatasync|sync|dirfsync|replace|reuse|refill|evict DIR\n");
        return 2;
    }
    checkpoint_init();
    mkdir(argv[2], 0755);
    if (chdir(argv[2]) < 0)
        die("chdir", argv[2]);
    w[which].run();
    printf("promises: done\n");
    return 0;
}
