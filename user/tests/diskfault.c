/* diskfault: a workload for a disk that fails (QEMU's blkdebug injects the
 * errors; tests/test_diskfaults.py). Everything it learns goes to stdout,
 * one line per fact, so the harness can hold the kernel to it:
 *
 *   diskfault read NEW OTHER FILE...
 *                               read each FILE in 4 KiB pieces: "read FILE: ok
 *                               N" or "read FILE: errno NAME after N"; then read
 *                               OTHER and write, fsync and read back the file
 *                               NEW ("after: ok", or what failed): one bad block
 *                               costs one read, not the machine.
 *   diskfault commits DIR N SIZE
 *                               N files of SIZE bytes, each written, fsync'd
 *                               and reported "fsynced NAME SIZE SUM" when fsync
 *                               said 0; at the first failure "fsync NAME: errno
 *                               NAME", then what a write to the open file, a new
 *                               file and another fsync get ("later write: ...",
 *                               "later create: ...", "later fsync: ...").
 *   diskfault churn DIR ROUNDS SEED
 *                               a mix of creates, appends, renames, unlinks,
 *                               directory fsyncs and reads of programs in /bin; each
 *                               file that fsync acknowledged is written once and
 *                               reported "fsynced NAME SIZE SUM"; errors are
 *                               reported and the workload goes on ("error ...").
 *   diskfault check DIR         after a reboot: "have NAME SIZE SUM" for every
 *                               file in DIR (the harness compares with the
 *                               fsynced lines).
 * Every run ends with "diskfault: done". The file contents are a pattern
 * of the name's seed, so a sum says whether the bytes are the ones written. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char buf[65536];

static const char *ename(int e)
{
    switch (e) {
    case EIO: return "EIO";
    case EROFS: return "EROFS";
    case ENOSPC: return "ENOSPC";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EUCLEAN: return "EUCLEAN";
    default: return "other";
    }
}

/* FNV-1a over the bytes. */
static unsigned sum_bytes(const unsigned char *p, size_t n, unsigned h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void fill(unsigned seed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)((i * 131 + seed * 7 + (i >> 9)) & 0xFF);
}

/* Write n pattern bytes of seed to path and fsync: 0, or errno (reported). */
static int put(const char *path, unsigned seed, size_t n, int *fd_out)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        printf("error create %s: %s\n", path, ename(errno));
        return errno;
    }
    fill(seed, n);
    if (write(fd, buf, n) != (ssize_t)n) {
        printf("error write %s: %s\n", path, ename(errno));
        int e = errno;
        close(fd);
        return e;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        printf("fsync %s: %s\n", path, ename(e));
        if (fd_out)
            *fd_out = fd;
        else
            close(fd);
        return e;
    }
    printf("fsynced %s %zu %08x\n", path, n, sum_bytes(buf, n, 2166136261u));
    fflush(stdout);
    if (fd_out)
        *fd_out = fd;
    else
        close(fd);
    return 0;
}

/* Read a whole file: its size and sum, or -errno (with the bytes read). */
static long slurp(const char *path, unsigned *sum, long *got)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    unsigned h = 2166136261u;
    long total = 0;
    for (;;) {
        ssize_t k = read(fd, buf, 4096);
        if (k < 0) {
            int e = errno;
            close(fd);
            *got = total;
            return -e;
        }
        if (k == 0)
            break;
        h = sum_bytes(buf, (size_t)k, h);
        total += k;
    }
    close(fd);
    *sum = h;
    *got = total;
    return total;
}

static int do_read(char **files, const char *other, const char *newfile)
{
    unsigned h;
    long got, r;
    for (; *files; files++) {
        r = slurp(*files, &h, &got);
        if (r >= 0)
            printf("read %s: ok %ld\n", *files, r);
        else
            printf("read %s: errno %s after %ld\n", *files, ename((int)-r), got);
    }
    r = slurp(other, &h, &got);
    int bad = r < 0;
    if (bad)
        printf("after: read %s: %s\n", other, ename((int)-r));
    if (!bad && put(newfile, 3, 20000, NULL) != 0)
        bad = 1;
    if (!bad && (slurp(newfile, &h, &got) != 20000)) {
        printf("after: %s does not read back\n", newfile);
        bad = 1;
    }
    if (!bad)
        printf("after: ok\n");
    return 0;
}

static int do_commits(const char *dir, int n, size_t size)
{
    char path[256];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/f%d", dir, i);
        int fd = -1;
        int e = put(path, (unsigned)i, size, &fd);
        if (!e) {
            close(fd);
            continue;
        }
        if (fd >= 0) {
            /* The file system after a failed fsync: its open file, a new
             * file, another fsync. */
            ssize_t w = write(fd, "x", 1);
            printf("later write: %s\n", w == 1 ? "ok" : ename(errno));
            printf("later fsync: %s\n", fsync(fd) == 0 ? "ok" : ename(errno));
            close(fd);
        }
        snprintf(path, sizeof(path), "%s/later", dir);
        int nf = open(path, O_CREAT | O_WRONLY, 0644);
        printf("later create: %s\n", nf >= 0 ? "ok" : ename(errno));
        if (nf >= 0)
            close(nf);
        break;
    }
    return 0;
}

static unsigned long rng;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(rng >> 33) % n;
}

static int do_churn(const char *dir, int rounds, unsigned long seed)
{
    char path[256], to[256];
    rng = seed * 2654435761ul + 1;
    /* Programs on the disk to read, most of them not in any cache yet. */
    static char others[256][300];
    int nothers = 0;
    DIR *bin = opendir("/bin");
    for (struct dirent *e; bin && nothers < 256 && (e = readdir(bin));)
        if (e->d_name[0] != '.')
            snprintf(others[nothers++], sizeof(others[0]), "/bin/%s", e->d_name);
    if (bin)
        closedir(bin);
    int next = 0;
    for (int r = 0; r < rounds; r++) {
        switch (rnd(6)) {
        case 0: case 1: {               /* a new file, fsync'd: a promise */
            snprintf(path, sizeof(path), "%s/p%d", dir, next);
            put(path, (unsigned)next, 1 + rnd(40000), NULL);
            next++;
            break;
        }
        case 2: {                       /* scratch files: created, appended, unfsync'd */
            snprintf(path, sizeof(path), "%s/t%u", dir, rnd(8));
            int fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0644);
            if (fd < 0) {
                printf("error create %s: %s\n", path, ename(errno));
                break;
            }
            fill((unsigned)r, 6000);
            if (write(fd, buf, 1 + rnd(6000)) < 0)
                printf("error append %s: %s\n", path, ename(errno));
            close(fd);
            break;
        }
        case 3: {                       /* rename or unlink a scratch file */
            snprintf(path, sizeof(path), "%s/t%u", dir, rnd(8));
            snprintf(to, sizeof(to), "%s/t%u", dir, rnd(8));
            if ((rnd(2) ? rename(path, to) : unlink(path)) < 0 && errno != ENOENT)
                printf("error rename/unlink %s: %s\n", path, ename(errno));
            break;
        }
        case 4: {                       /* the directory, fsync'd */
            int fd = open(dir, O_RDONLY | O_DIRECTORY);
            if (fd >= 0 && fsync(fd) < 0)
                printf("error fsync %s: %s\n", dir, ename(errno));
            if (fd >= 0)
                close(fd);
            break;
        }
        default: {                      /* a read of something else on the disk */
            unsigned h;
            long got;
            long k = nothers ? slurp(others[rnd((unsigned)nothers)], &h, &got) : 0;
            if (k < 0)
                printf("error read: %s\n", ename((int)-k));
            break;
        }
        }
        fflush(stdout);
    }
    return 0;
}

static int do_check(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("check: %s: %s\n", dir, ename(errno));
        return 1;
    }
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unsigned h = 0;
        long got = 0;
        long r = slurp(path, &h, &got);
        if (r < 0)
            printf("have %s error %s\n", path, ename((int)-r));
        else
            printf("have %s %ld %08x\n", path, r, h);
    }
    closedir(d);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int r = 2;
    if (argc >= 5 && !strcmp(argv[1], "read"))
        r = do_read(argv + 4, argv[3], argv[2]);
    else if (argc == 5 && !strcmp(argv[1], "commits"))
        r = do_commits(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
    else if (argc == 5 && !strcmp(argv[1], "churn"))
        r = do_churn(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
    else if (argc == 3 && !strcmp(argv[1], "check"))
        r = do_check(argv[2]);
    else
        fprintf(stderr, "usage: diskfault read|commits|churn|check ...\n");
    printf("diskfault: done\n");
    return r;
}
