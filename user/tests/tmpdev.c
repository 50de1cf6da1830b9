/* tmpdev: tmpfs and /dev, as tests/test_tmpfs_dev.py checks them.
 *
 *   tmpdev fs DIR     file and directory operations in DIR; one line per
 *                     step with its result (a value or an errno name).
 *                     Deterministic: run in a directory on the host's Linux
 *                     and in Vigil's /tmp, the outputs must be equal.
 *   tmpdev dev        the device nodes: stat (type, major:minor) and what
 *                     reading and writing each does. Host-comparable too.
 *   tmpdev full MNT   mounts a 64 KiB tmpfs on MNT: writes stop at ENOSPC,
 *                     freeing makes room again, umount is EBUSY while a
 *                     file is open and works after.
 *   tmpdev leak N     N rounds of making and removing files and
 *                     directories in /tmp, and of mounting, filling and
 *                     unmounting a tmpfs; the kernel's counters from
 *                     /proc/meminfo before and after (as storm prints).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "meminfo.h"

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENOSPC: return "ENOSPC";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EXDEV: return "EXDEV";
    case ELOOP: return "ELOOP";
    case ENXIO: return "ENXIO";
    case EACCES: return "EACCES";
    default: {
        static char b[32];
        snprintf(b, sizeof(b), "errno%d", e);
        return b;
    }
    }
}

/* A step's result: the value if it succeeded, else the errno's name. */
static void say(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

/* The directory's names, sorted (file systems list in different orders). */
static void list(const char *what, const char *dir)
{
    DIR *d = opendir(dir);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp);
    printf("%s:", what);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void st(const char *what, const char *path)
{
    struct stat s;
    if (lstat(path, &s)) {
        printf("%s: %s\n", what, ename(errno));
        return;
    }
    /* (a directory's size is each file system's own business) */
    printf("%s: mode %o nlink %lu size %ld\n", what, s.st_mode & ~0u, (unsigned long)s.st_nlink,
           S_ISDIR(s.st_mode) ? 0L : (long)s.st_size);
}

static int fs_ops(const char *base)
{
    if (chdir(base)) {
        perror("chdir");
        return 1;
    }
    umask(022);
    char buf[9000];
    int fd = open("f", O_CREAT | O_RDWR | O_EXCL, 0640);
    say("create f", fd);
    say("create f again O_EXCL", open("f", O_CREAT | O_RDWR | O_EXCL, 0640));
    say("write 5", write(fd, "hello", 5));
    say("pwrite at 8190", pwrite(fd, "XYZ", 3, 8190));
    st("stat f", "f");
    say("lseek end", lseek(fd, 0, SEEK_END));
    say("lseek set 4", lseek(fd, 4, SEEK_SET));
    memset(buf, '.', sizeof(buf));
    long n = read(fd, buf, sizeof(buf));
    say("read from 4", n);
    int zeros = 0;
    for (long i = 1; i < n - 3; i++)
        zeros += buf[i] == 0;
    printf("bytes: %c then %d zeros then %.3s\n", buf[0], zeros, buf + n - 3);
    say("pread at 8191", pread(fd, buf, 10, 8191));
    printf("bytes: %.2s\n", buf);
    say("ftruncate 3", ftruncate(fd, 3));
    say("ftruncate 6000", ftruncate(fd, 6000));
    memset(buf, '.', sizeof(buf));
    say("pread 6000 at 0", pread(fd, buf, sizeof(buf), 0));
    zeros = 0;
    for (int i = 3; i < 6000; i++)
        zeros += buf[i] == 0;
    printf("after regrow: %.3s then %d zeros\n", buf, zeros);
    say("ftruncate -1", ftruncate(fd, -1));
    say("write bad pointer", write(fd, (void *)8, 10));
    say("read bad pointer", pread(fd, (void *)8, 10, 0));
    say("truncate f 0", truncate("f", 0));
    st("stat f", "f");

    say("mkdir d", mkdir("d", 0755));
    say("mkdir d again", mkdir("d", 0755));
    say("mkdir d/e", mkdir("d/e", 0700));
    st("stat d", "d");
    say("link f d/g", link("f", "d/g"));
    st("stat f", "f");
    say("link d d2", link("d", "d2"));
    say("symlink", symlink("d/g", "s"));
    n = readlink("s", buf, sizeof(buf));
    say("readlink", n);
    printf("target: %.*s\n", (int)(n > 0 ? n : 0), buf);
    st("lstat s", "s");
    say("open s/x", open("s/x", O_RDONLY));
    say("rename d into d/e", rename("d", "d/e/x"));
    say("rename d onto itself", rename("d", "d"));
    say("rename f onto d", rename("f", "d"));
    say("rename d onto f", rename("d", "f"));
    say("rename d/e to e2", rename("d/e", "e2"));
    st("stat d", "d");
    say("mkdir e3", mkdir("e3", 0755));
    say("mkdir e3/x", mkdir("e3/x", 0755));
    say("rename e2 onto e3 (not empty)", rename("e2", "e3"));
    say("rename e2 onto e3/x (empty)", rename("e2", "e3/x"));
    list("list e3", "e3");
    say("rename f to d/g (same file)", rename("f", "d/g"));
    list("list .", ".");
    list("list d", "d");
    say("rmdir d (not empty)", rmdir("d"));
    say("unlink d", unlink("d"));
    say("rmdir f", rmdir("f"));
    say("unlink d/g", unlink("d/g"));
    say("unlink d/g again", unlink("d/g"));
    st("stat f", "f");
    say("rmdir d", rmdir("d"));
    say("rmdir e3/x", rmdir("e3/x"));
    say("rmdir e3", rmdir("e3"));
    /* An unlinked file stays readable through its open descriptor. */
    say("write 3", pwrite(fd, "abc", 3, 0));
    say("unlink f", unlink("f"));
    say("read unlinked", pread(fd, buf, 10, 0));
    printf("bytes: %.3s\n", buf);
    say("fstat nlink", ({ struct stat s; fstat(fd, &s) ? -1L : (long)s.st_nlink; }));
    close(fd);
    say("unlink s", unlink("s"));
    /* Remove while reading the directory: every entry seen once. */
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%02d", i);
        close(open(name, O_CREAT | O_WRONLY, 0600));
    }
    DIR *d = opendir(".");
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] == 'm' && unlink(e->d_name) == 0)
            seen++;
    closedir(d);
    printf("removed while listing: %d\n", seen);
    list("list . at the end", ".");
    return 0;
}

static void dev_one(const char *path)
{
    struct stat s;
    if (stat(path, &s)) {
        printf("%s: stat %s\n", path, ename(errno));
        return;
    }
    printf("%s: %s %u:%u\n", path, S_ISCHR(s.st_mode) ? "chr" : "not-chr", major(s.st_rdev),
           minor(s.st_rdev));
}

static int dev(void)
{
    const char *all[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                          "/dev/tty", "/dev/console" };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        dev_one(all[i]);
    char buf[4096];
    int fd = open("/dev/null", O_RDWR);
    say("null read", read(fd, buf, sizeof(buf)));
    say("null write", write(fd, buf, 100));
    close(fd);
    fd = open("/dev/zero", O_RDWR);
    memset(buf, 1, sizeof(buf));
    say("zero read", read(fd, buf, sizeof(buf)));
    int nz = 0;
    for (size_t i = 0; i < sizeof(buf); i++)
        nz += buf[i] != 0;
    printf("zero nonzero bytes: %d\n", nz);
    say("zero write", write(fd, buf, 100));
    say("zero read bad pointer", read(fd, (void *)8, 10));
    close(fd);
    fd = open("/dev/full", O_RDWR);
    say("full write", write(fd, buf, 10));
    say("full read", read(fd, buf, 10));
    close(fd);
    unsigned char a[64], b[64];
    fd = open("/dev/urandom", O_RDONLY);
    say("urandom read", read(fd, a, sizeof(a)));
    say("urandom read again", read(fd, b, sizeof(b)));
    printf("urandom reads differ: %s\n", memcmp(a, b, sizeof(a)) ? "yes" : "no");
    say("urandom read bad pointer", read(fd, (void *)8, 10));
    close(fd);
    /* 4096 bytes: every byte value turns up (a broken generator's don't). */
    static unsigned char big[65536];
    say("getrandom", getrandom(big, sizeof(big), 0));
    int hist[256] = { 0 }, missing = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        hist[big[i]]++;
    for (int i = 0; i < 256; i++)
        missing += hist[i] == 0;
    printf("getrandom byte values missing: %d\n", missing);
    say("getrandom bad flags", getrandom(big, 4, 0x100));
    say("getrandom bad pointer", getrandom((void *)8, 4, 0));
    fd = open("/dev/random", O_RDONLY);
    say("random read", read(fd, a, 16));
    close(fd);
    return 0;
}

static long write_until_full(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    char buf[1024];
    memset(buf, 'x', sizeof(buf));
    long total = 0, r;
    while ((r = write(fd, buf, sizeof(buf))) > 0)
        total += r;
    int e = errno;
    close(fd);
    errno = e;
    return r < 0 ? -total - 1 : total;  /* negative: stopped by an error (errno) */
}

static int full(const char *mnt)
{
    say("mount size=64k", mount("none", mnt, "tmpfs", 0, "size=64k"));
    say("mount bad option", mount("none", mnt, "tmpfs", 0, "size=lots") );
    char path[256];
    snprintf(path, sizeof(path), "%s/big", mnt);
    long t = write_until_full(path);
    printf("fill: stopped by %s after %ld bytes (at most 64k: %s)\n", t < 0 ? ename(errno) : "nothing",
           t < 0 ? -t - 1 : t, (t < 0 ? -t - 1 : t) <= 65536 ? "yes" : "no");
    snprintf(path, sizeof(path), "%s/more", mnt);
    say("create while full", open(path, O_CREAT | O_WRONLY, 0600) >= 0 ? 0 : -1);
    snprintf(path, sizeof(path), "%s/big", mnt);
    say("unlink big", unlink(path));
    t = write_until_full(path);
    printf("refill: %s after %ld bytes\n", t < 0 ? ename(errno) : "nothing", t < 0 ? -t - 1 : t);
    int fd = open(path, O_RDONLY);
    say("umount while open", umount(mnt));
    close(fd);
    say("umount", umount(mnt));
    say("stat big after umount", access(path, F_OK));
    /* The boot-time mounts are there and writable. */
    const char *dirs[] = { "/tmp", "/run", "/dev/shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/probe", dirs[i]);
        int pfd = open(path, O_CREAT | O_RDWR, 0600);
        printf("%s writable: %s\n", dirs[i], pfd >= 0 && write(pfd, "x", 1) == 1 ? "yes" : ename(errno));
        close(pfd);
        unlink(path);
    }
    say("umount /dev while /dev/shm is mounted", umount("/dev"));
    say("rmdir /dev/null", rmdir("/dev/null"));
    return 0;
}


static void churn(int rounds)
{
    char buf[5000], p[64];
    memset(buf, 'q', sizeof(buf));
    for (int r = 0; r < rounds; r++) {
        mkdir("/tmp/leak", 0755);
        mkdir("/tmp/leak/sub", 0755);
        for (int i = 0; i < 8; i++) {
            snprintf(p, sizeof(p), "/tmp/leak/f%d", i);
            int fd = open(p, O_CREAT | O_RDWR, 0600);
            write(fd, buf, sizeof(buf) * (size_t)(i % 3));
            pwrite(fd, buf, 10, 3 << 20);          /* a page far out: a second table */
            ftruncate(fd, 100);
            if (i == 3)
                unlink(p);                          /* removed while open */
            close(fd);
        }
        link("/tmp/leak/f1", "/tmp/leak/sub/h");
        symlink("/tmp/leak/f1", "/tmp/leak/sub/s");
        rename("/tmp/leak/f2", "/tmp/leak/sub/f2");
        unlink("/tmp/leak/sub/h");
        unlink("/tmp/leak/sub/s");
        unlink("/tmp/leak/sub/f2");
        rmdir("/tmp/leak/sub");
        for (int i = 0; i < 8; i++) {
            snprintf(p, sizeof(p), "/tmp/leak/f%d", i);
            unlink(p);
        }
        rmdir("/tmp/leak");
        /* A whole tmpfs, left full of files at umount. */
        if (mount("none", "/mnt", "tmpfs", 0, "size=256k") == 0) {
            mkdir("/mnt/a", 0755);
            mkdir("/mnt/a/b", 0755);
            write_until_full("/mnt/a/b/big");
            link("/mnt/a/b/big", "/mnt/a/hard");
            umount("/mnt");
        }
    }
}

static int leak(int rounds)
{
    struct snap before, after;
    take(&before);
    churn(1);                                       /* warm-up: caches settle */
    take(&before);
    churn(rounds);
    take(&after);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && !strcmp(argv[1], "fs"))
        return fs_ops(argv[2]);
    if (argc > 1 && !strcmp(argv[1], "dev"))
        return dev();
    if (argc > 2 && !strcmp(argv[1], "full"))
        return full(argv[2]);
    if (argc > 2 && !strcmp(argv[1], "leak"))
        return leak(atoi(argv[2]));
    fprintf(stderr, "usage: tmpdev fs DIR | dev | full MNT | leak N\n");
    return 2;
}
