/* sysfiles DIR SHM: the file syscalls Debian's programs make beside open,
 * read and write, tried with good and bad input, printing only what must
 * be the same on Linux and on Vigil: statfs/fstatfs (with DIR on an ext2/3/4
 * file system and SHM on a tmpfs, the magic numbers match too), statx,
 * utimensat/utimes/utime/futimesat and their permission rules, extended
 * attributes, fallocate, flock and POSIX record locks, sendfile,
 * copy_file_range, memfd_create with seals, syncfs, name_to_handle_at.
 * tests/test_syscalls_files.py runs it on both and compares line by line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#define BAD ((void *)1)                 /* an address never mapped */
#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1
#define MFD_ALLOW_SEALING 2
#endif

static const char *en(int e)
{
    static const struct { int e; const char *n; } t[] = {
        { 0, "0" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" }, { EBADF, "EBADF" },
        { ENXIO, "ENXIO" },
        { ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
        { EFAULT, "EFAULT" }, { EEXIST, "EEXIST" }, { EXDEV, "EXDEV" }, { ENODEV, "ENODEV" },
        { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
        { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { EROFS, "EROFS" },
        { ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" }, { ENODATA, "ENODATA" }, { E2BIG, "E2BIG" },
        { EOPNOTSUPP, "EOPNOTSUPP" }, { EOVERFLOW, "EOVERFLOW" }, { ENAMETOOLONG, "ENAMETOOLONG" },
    };
    static char buf[16];
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].e == e)
            return t[i].n;
    snprintf(buf, sizeof(buf), "errno %d", e);
    return buf;
}

/* The result of a call that returns -1 and errno, as "0", "N" or "ENAME". */
static const char *res(long r)
{
    static char buf[4][32];
    static int k;
    char *b = buf[k++ % 4];
    if (r == -1)
        return en(errno);
    snprintf(b, 32, "%ld", r);
    return b;
}

#define TRY(label, call) do { errno = 0; long r_ = (long)(call); printf("%s: %s\n", label, res(r_)); } while (0)

static char dir[512], shm[512];

static char *at(const char *name)
{
    static char buf[4][600];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 600, "%s/%s", dir, name);
    return b;
}

static const char *magic_name(long t)
{
    switch ((unsigned long)t) {
    case 0xEF53: return "ext2/3/4";
    case 0x01021994: return "tmpfs";
    case 0x50495045: return "pipefs";
    case 0x858458f6: return "ramfs";
    default: return "other";
    }
}

static void make_file(const char *path, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char buf[4096];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (char)('a' + i % 26);
    while (n) {
        size_t k = n < sizeof(buf) ? n : sizeof(buf);
        if (write(fd, buf, k) != (ssize_t)k)
            break;
        n -= k;
    }
    close(fd);
}

/* ---- statfs, fstatfs ---- */
static void t_statfs(void)
{
    struct statfs a, b;
    statfs(dir, &a);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    fstatfs(fd, &b);
    printf("statfs dir: %s\n", magic_name(a.f_type));
    printf("statfs dir sane: bsize>0 %d blocks>=bfree>=bavail %d files>=ffree %d namelen %ld\n",
           a.f_bsize > 0, a.f_blocks >= a.f_bfree && a.f_bfree >= a.f_bavail, a.f_files >= a.f_ffree,
           (long)a.f_namelen);
    printf("statfs == fstatfs: %d\n", a.f_type == b.f_type && a.f_bsize == b.f_bsize &&
           a.f_blocks == b.f_blocks && a.f_files == b.f_files && a.f_namelen == b.f_namelen &&
           !memcmp(&a.f_fsid, &b.f_fsid, sizeof(a.f_fsid)));
    printf("statfs flags: valid rw %d\n", !(a.f_flags & ST_RDONLY));
    statfs(shm, &a);
    printf("statfs shm: %s sane %d\n", magic_name(a.f_type),
           a.f_bsize > 0 && a.f_blocks >= a.f_bfree && a.f_namelen == 255);
    int p[2];
    pipe(p);
    fstatfs(p[0], &a);
    printf("fstatfs pipe: %s\n", magic_name(a.f_type));
    close(p[0]);
    close(p[1]);
    make_file(at("f"), 10);
    TRY("statfs empty path", statfs("", &a));
    TRY("statfs missing", statfs(at("nothing"), &a));
    TRY("statfs through a file", statfs(at("f/x"), &a));
    TRY("statfs bad path", syscall(SYS_statfs, BAD, &a));
    TRY("statfs bad buffer", syscall(SYS_statfs, dir, BAD));
    TRY("fstatfs -1", fstatfs(-1, &a));
    TRY("fstatfs closed", fstatfs(999, &a));
    TRY("fstatfs bad buffer", syscall(SYS_fstatfs, fd, BAD));
    close(fd);
}

/* ---- statx ---- */
struct sx_ts { int64_t sec; uint32_t nsec; int32_t pad; };
struct sx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, pad0;
    uint64_t ino, size, blocks, attributes_mask;
    struct sx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t spare[14];
};

static long sx(int dfd, const char *path, int flags, unsigned mask, void *buf)
{
    return syscall(SYS_statx, dfd, path, flags, mask, buf);
}

/* Linux counts the symlinks a lookup follows in total, one after another
 * as well as nested: "self" -> "." taken 40 times resolves, 41 times is
 * ELOOP (LTP's mkdir03, mknod07). */
static void t_symlink_total(void)
{
    static char path[1200];
    symlink(".", at("self"));
    make_file(at("selftarget"), 1);
    for (int n = 40; n <= 41; n++) {
        int k = snprintf(path, sizeof(path), "%s", dir);
        for (int i = 0; i < n; i++)
            k += snprintf(path + k, sizeof(path) - k, "/self");
        snprintf(path + k, sizeof(path) - k, "/selftarget");
        struct stat st;
        printf("stat through %d symlinks: %s\n", n, stat(path, &st) ? strerror(errno) : "ok");
    }
}

static void t_statx(void)
{
    struct sx x;
    struct stat st;
    make_file(at("sx"), 5000);
    symlink("sx", at("sxlink"));
    stat(at("sx"), &st);
    TRY("statx file", sx(AT_FDCWD, at("sx"), 0, 0x7ff, &x));
    printf("statx basic mask set: %d\n", (x.mask & 0x7ff) == 0x7ff);
    printf("statx agrees with stat: mode %d nlink %d ids %d ino %d size %d blocks %d mtime %d dev %d\n",
           x.mode == st.st_mode, x.nlink == st.st_nlink, x.uid == st.st_uid && x.gid == st.st_gid,
           x.ino == st.st_ino, x.size == (uint64_t)st.st_size, x.blocks == (uint64_t)st.st_blocks,
           x.mtime.sec == st.st_mtime, x.dev_major == major(st.st_dev) && x.dev_minor == minor(st.st_dev));
    sx(AT_FDCWD, at("sxlink"), AT_SYMLINK_NOFOLLOW, 0x7ff, &x);
    printf("statx nofollow: link %d\n", S_ISLNK(x.mode));
    sx(AT_FDCWD, at("sxlink"), 0, 0x7ff, &x);
    printf("statx follow: regular %d size %llu\n", S_ISREG(x.mode), (unsigned long long)x.size);
    int fd = open(at("sx"), O_RDONLY);
    TRY("statx AT_EMPTY_PATH", sx(fd, "", AT_EMPTY_PATH, 0x7ff, &x));
    printf("statx AT_EMPTY_PATH same inode: %d\n", x.ino == st.st_ino);
    TRY("statx AT_EMPTY_PATH NULL path", sx(fd, NULL, AT_EMPTY_PATH, 0x7ff, &x));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    TRY("statx relative to dirfd", sx(dfd, "sx", 0, 0x7ff, &x));
    TRY("statx sync flags", sx(AT_FDCWD, at("sx"), AT_STATX_FORCE_SYNC, 0x7ff, &x));
    TRY("statx dont-sync", sx(AT_FDCWD, at("sx"), AT_STATX_DONT_SYNC, 0x7ff, &x));
    int p[2];
    pipe(p);
    sx(p[0], "", AT_EMPTY_PATH, 0x7ff, &x);
    printf("statx pipe: fifo %d\n", S_ISFIFO(x.mode));
    close(p[0]);
    close(p[1]);
    TRY("statx both sync types", sx(AT_FDCWD, at("sx"), 0x6000, 0x7ff, &x));
    TRY("statx reserved mask", sx(AT_FDCWD, at("sx"), 0, 0x80000000u, &x));
    TRY("statx bad flags", sx(AT_FDCWD, at("sx"), 0x10000000, 0x7ff, &x));
    TRY("statx empty path", sx(AT_FDCWD, "", 0, 0x7ff, &x));
    TRY("statx missing", sx(AT_FDCWD, at("nothing"), 0, 0x7ff, &x));
    TRY("statx bad path", sx(AT_FDCWD, BAD, 0, 0x7ff, &x));
    TRY("statx bad buffer", sx(AT_FDCWD, at("sx"), 0, 0x7ff, BAD));
    TRY("statx bad dirfd", sx(999, "sx", 0, 0x7ff, &x));
    TRY("statx dirfd not a directory", sx(fd, "sx", 0, 0x7ff, &x));
    close(fd);
    close(dfd);
}

/* ---- utimensat, futimesat, utimes, utime ---- */
static void show_times(const char *label, const char *path, int nofollow)
{
    struct stat st;
    (nofollow ? lstat : stat)(path, &st);
    printf("%s: atime %ld mtime %ld\n", label, (long)st.st_atime, (long)st.st_mtime);
}

static int near_now(time_t t) { time_t n = time(NULL); return t >= n - 30 && t <= n + 30; }

static void t_times(void)
{
    const char *f = at("t");
    make_file(f, 10);
    struct timespec ts[2] = { { 1000000000, 0 }, { 1200000000, 0 } };
    TRY("utimensat set", utimensat(AT_FDCWD, f, ts, 0));
    show_times("after set", f, 0);
    struct timespec om[2] = { { 5, UTIME_OMIT }, { 1300000000, 0 } };
    TRY("utimensat omit atime", utimensat(AT_FDCWD, f, om, 0));
    show_times("after omit", f, 0);
    struct timespec both[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
    TRY("utimensat both omit", utimensat(AT_FDCWD, f, both, 0));
    TRY("utimensat both omit, missing path", utimensat(AT_FDCWD, at("nothing"), both, 0));
    struct timespec now[2] = { { 0, UTIME_NOW }, { 1400000000, 0 } };
    TRY("utimensat atime now", utimensat(AT_FDCWD, f, now, 0));
    struct stat st;
    stat(f, &st);
    printf("atime now %d mtime %ld\n", near_now(st.st_atime), (long)st.st_mtime);
    TRY("utimensat NULL (now)", utimensat(AT_FDCWD, f, NULL, 0));
    stat(f, &st);
    printf("both now: %d %d\n", near_now(st.st_atime), near_now(st.st_mtime));
    symlink("t", at("tlink"));
    TRY("utimensat nofollow", utimensat(AT_FDCWD, at("tlink"), ts, AT_SYMLINK_NOFOLLOW));
    show_times("the link", at("tlink"), 1);
    stat(f, &st);
    printf("the target still now: %d\n", near_now(st.st_mtime));
    int fd = open(f, O_RDONLY);
    TRY("futimens", futimens(fd, ts));
    show_times("after futimens", f, 0);
    TRY("utimensat AT_EMPTY_PATH", syscall(SYS_utimensat, fd, "", om, AT_EMPTY_PATH));
    show_times("after empty path", f, 0);
    struct timespec bad1[2] = { { 0, 1000000000 }, { 0, 0 } }, bad2[2] = { { 0, 0 }, { 0, -1 } };
    TRY("utimensat nsec 1e9", utimensat(AT_FDCWD, f, bad1, 0));
    TRY("utimensat nsec -1", utimensat(AT_FDCWD, f, bad2, 0));
    TRY("utimensat bad flags", utimensat(AT_FDCWD, f, ts, 0x8000));
    TRY("utimensat NULL path, AT_FDCWD", syscall(SYS_utimensat, AT_FDCWD, NULL, ts, 0));
    TRY("utimensat NULL path with flags", syscall(SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW));
    TRY("utimensat bad times", syscall(SYS_utimensat, AT_FDCWD, f, BAD, 0));
    TRY("utimensat bad path", utimensat(AT_FDCWD, BAD, ts, 0));
    TRY("utimensat missing", utimensat(AT_FDCWD, at("nothing"), ts, 0));
    TRY("utimensat bad fd", syscall(SYS_utimensat, 999, NULL, ts, 0));
    struct timeval tv[2] = { { 1100000000, 0 }, { 1150000000, 0 } };
    TRY("utimes", utimes(f, tv));
    show_times("after utimes", f, 0);
    struct timeval tvbad[2] = { { 0, 1000000 }, { 0, 0 } };
    TRY("utimes usec 1e6", utimes(f, tvbad));
    TRY("futimesat", syscall(SYS_futimesat, AT_FDCWD, f, tv));
    struct utimbuf ub = { 1111111111, 1222222222 };
    TRY("utime", utime(f, &ub));
    show_times("after utime", f, 0);
    TRY("utime NULL", utime(f, NULL));
    stat(f, &st);
    printf("utime NULL now: %d\n", near_now(st.st_mtime));
    TRY("utime bad buffer", syscall(SYS_utime, f, BAD));
    /* Permission: another user may touch a file it can write (NULL or
     * both UTIME_NOW), never set explicit times on one it does not own. */
    chmod(f, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        setuid(4242);
        struct timespec nn[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
        struct timespec no[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
        TRY("uid 4242 touch a 0644 file", futimens(fd, NULL));
        TRY("uid 4242 both UTIME_NOW", futimens(fd, nn));
        TRY("uid 4242 explicit times", futimens(fd, ts));
        TRY("uid 4242 NOW+OMIT", futimens(fd, no));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    chmod(f, 0666);
    pid = fork();
    if (pid == 0) {
        setuid(4242);
        TRY("uid 4242 touch a 0666 file", futimens(fd, NULL));
        TRY("uid 4242 explicit times on 0666", futimens(fd, ts));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    close(fd);
}

/* ---- extended attributes ---- */
static void t_xattr(void)
{
    const char *f = at("x");
    make_file(f, 10);
    char buf[256], longname[300];
    memset(longname, 'a', sizeof(longname));
    memcpy(longname, "user.", 5);
    longname[299] = 0;
    int fd = open(f, O_RDONLY);
    const char *names[] = { "user.foo", "foo.bar", "security.selinux", "system.posix_acl_access",
                            "system.foo", "trusted.x" };
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char l[80];
        snprintf(l, sizeof(l), "getxattr %s", names[i]);
        TRY(l, getxattr(f, names[i], buf, sizeof(buf)));
    }
    TRY("lgetxattr user.foo", lgetxattr(f, "user.foo", buf, sizeof(buf)));
    TRY("fgetxattr user.foo", fgetxattr(fd, "user.foo", buf, sizeof(buf)));
    TRY("getxattr size 0", getxattr(f, "user.foo", NULL, 0));
    TRY("getxattr empty name", getxattr(f, "", buf, sizeof(buf)));
    TRY("getxattr name too long", getxattr(f, longname, buf, sizeof(buf)));
    TRY("getxattr bad name", getxattr(f, BAD, buf, sizeof(buf)));
    TRY("getxattr missing file", getxattr(at("nothing"), "user.foo", buf, sizeof(buf)));
    TRY("fgetxattr bad fd", fgetxattr(999, "user.foo", buf, sizeof(buf)));
    TRY("listxattr", listxattr(f, buf, sizeof(buf)));
    TRY("llistxattr", llistxattr(f, buf, sizeof(buf)));
    TRY("flistxattr", flistxattr(fd, buf, sizeof(buf)));
    TRY("listxattr size 0", listxattr(f, NULL, 0));
    TRY("listxattr missing", listxattr(at("nothing"), buf, sizeof(buf)));
    TRY("flistxattr bad fd", flistxattr(999, buf, sizeof(buf)));
    TRY("removexattr user.foo", removexattr(f, "user.foo"));
    TRY("fremovexattr bad fd", fremovexattr(999, "user.foo"));
    TRY("setxattr bad flags", setxattr(f, "user.foo", "v", 1, 0x10));
    TRY("setxattr empty name", setxattr(f, "", "v", 1, 0));
    TRY("setxattr too big", setxattr(f, "user.foo", buf, 65537, 0));
    TRY("setxattr unknown namespace", setxattr(f, "foo.bar", "v", 1, 0));
    TRY("fsetxattr bad fd", fsetxattr(999, "user.foo", "v", 1, 0));
    close(fd);
}

/* ---- fallocate ---- */
static void t_fallocate(void)
{
    const char *f = at("fa");
    int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);
    struct stat st;
    TRY("fallocate 64k", fallocate(fd, 0, 0, 65536));
    fstat(fd, &st);
    printf("size %ld allocated %d\n", (long)st.st_size, st.st_blocks * 512 >= 65536);
    char buf[65536];
    pread(fd, buf, sizeof(buf), 0);
    int zero = 1;
    for (size_t i = 0; i < sizeof(buf); i++)
        zero &= buf[i] == 0;
    printf("reads zeros: %d\n", zero);
    pwrite(fd, "hello", 5, 4096);
    TRY("fallocate over data", fallocate(fd, 0, 0, 8192));
    pread(fd, buf, 5, 4096);
    printf("data kept: %.5s\n", buf);
    TRY("fallocate KEEP_SIZE past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 65536, 8192));
    fstat(fd, &st);
    printf("size after KEEP_SIZE %ld\n", (long)st.st_size);
    TRY("fallocate grows", fallocate(fd, 0, 100000, 10));
    fstat(fd, &st);
    printf("size after growing %ld\n", (long)st.st_size);
    TRY("fallocate len 0", fallocate(fd, 0, 0, 0));
    TRY("fallocate offset -1", fallocate(fd, 0, -1, 10));
    TRY("fallocate unknown mode", fallocate(fd, 0x100, 0, 10));
    TRY("fallocate punch without keep", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10));
    TRY("fallocate collapse with keep", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    TRY("fallocate huge", fallocate(fd, 0, 1L << 62, 1L << 62));
    TRY("fallocate bad fd", fallocate(999, 0, 0, 10));
    int ro = open(f, O_RDONLY);
    TRY("fallocate read-only", fallocate(ro, 0, 0, 10));
    close(ro);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    TRY("fallocate directory", fallocate(dfd, 0, 0, 10));
    close(dfd);
    int p[2];
    pipe(p);
    TRY("fallocate pipe", fallocate(p[1], 0, 0, 10));
    close(p[0]);
    close(p[1]);
    int nul = open("/dev/null", O_WRONLY);
    TRY("fallocate /dev/null", fallocate(nul, 0, 0, 10));
    close(nul);
    close(fd);
}

/* ---- flock ---- */
static void t_flock(void)
{
    const char *f = at("lk");
    make_file(f, 10);
    int a = open(f, O_RDONLY), b = open(f, O_RDONLY);
    TRY("flock a EX", flock(a, LOCK_EX));
    TRY("flock b EX|NB", flock(b, LOCK_EX | LOCK_NB));
    TRY("flock b SH|NB", flock(b, LOCK_SH | LOCK_NB));
    TRY("flock a EX again", flock(a, LOCK_EX | LOCK_NB));
    int c = dup(a);
    close(a);
    TRY("held by the dup: b EX|NB", flock(b, LOCK_EX | LOCK_NB));
    close(c);
    TRY("released at the last close: b EX|NB", flock(b, LOCK_EX | LOCK_NB));
    TRY("flock b UN", flock(b, LOCK_UN));
    a = open(f, O_RDONLY);
    TRY("flock a SH", flock(a, LOCK_SH));
    TRY("flock b SH|NB", flock(b, LOCK_SH | LOCK_NB));
    TRY("upgrade b to EX|NB", flock(b, LOCK_EX | LOCK_NB));
    TRY("failed upgrade dropped b's lock: a EX|NB", flock(a, LOCK_EX | LOCK_NB));
    TRY("flock op 0", flock(a, 0));
    TRY("flock SH|EX", flock(a, LOCK_SH | LOCK_EX));
    TRY("flock bad fd", flock(999, LOCK_SH));
    /* A sleeping waiter is woken when the lock goes. */
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(a);                               /* (the parent's close must be the last) */
        close(b);
        int w = open(f, O_RDONLY);
        write(p[1], "t", 1);
        flock(w, LOCK_EX);
        write(p[1], "g", 1);
        _exit(0);
    }
    char ch;
    read(p[0], &ch, 1);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    errno = 0;
    printf("waiter has it while a holds EX: %s\n", read(p[0], &ch, 1) == 1 ? "yes" : en(errno));
    fcntl(p[0], F_SETFL, 0);
    close(a);
    printf("waiter woken after the release: %d\n", read(p[0], &ch, 1) == 1 && ch == 'g');
    waitpid(pid, NULL, 0);
    close(b);
    close(p[0]);
    close(p[1]);
}

/* ---- POSIX record locks ---- */
static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    return fcntl(fd, cmd, &l);
}

static void getlk(const char *label, int fd, short type, off_t start, off_t len, pid_t owner)
{
    struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    errno = 0;
    int r = fcntl(fd, F_GETLK, &l);
    if (r)
        printf("%s: %s\n", label, en(errno));
    else if (l.l_type == F_UNLCK)
        printf("%s: unlocked\n", label);
    else
        printf("%s: %s start %ld len %ld by owner %d\n", label, l.l_type == F_WRLCK ? "WRLCK" : "RDLCK",
               (long)l.l_start, (long)l.l_len, l.l_pid == owner);
}

static void t_posix_locks(void)
{
    const char *f = at("pl");
    make_file(f, 200);
    int fd = open(f, O_RDWR);
    pid_t me = getpid();
    TRY("F_SETLK WRLCK 0-99", setlk(fd, F_SETLK, F_WRLCK, 0, 100));
    TRY("F_SETLK own relock", setlk(fd, F_SETLK, F_RDLCK, 10, 10));
    int go[2], back[2];
    pipe(go);
    pipe(back);
    pid_t pid = fork();
    if (pid == 0) {
        int c = open(f, O_RDWR);
        char ch;
        getlk("child GETLK 0+10", c, F_WRLCK, 0, 10, me);
        getlk("child GETLK 150+0", c, F_WRLCK, 150, 0, me);
        getlk("child GETLK RDLCK over the read part", c, F_RDLCK, 10, 10, me);
        TRY("child SETLK RDLCK 50+10", setlk(c, F_SETLK, F_RDLCK, 50, 10));
        TRY("child SETLK WRLCK 100+10", setlk(c, F_SETLK, F_WRLCK, 100, 10));
        write(back[1], "1", 1);
        read(go[0], &ch, 1);                    /* the parent unlocked 20-29 */
        getlk("child GETLK 20+10 after unlock", c, F_WRLCK, 20, 10, me);
        getlk("child GETLK 0+0 after unlock", c, F_WRLCK, 0, 0, me);
        write(back[1], "2", 1);
        read(go[0], &ch, 1);                    /* the parent closed another fd of the file */
        getlk("child GETLK after the parent's other close", c, F_WRLCK, 0, 0, me);
        fflush(stdout);
        _exit(0);
    }
    char ch;
    read(back[0], &ch, 1);
    TRY("F_SETLK UNLCK 20+10", setlk(fd, F_SETLK, F_UNLCK, 20, 10));
    fflush(stdout);
    write(go[1], "1", 1);
    read(back[0], &ch, 1);
    int other = open(f, O_RDONLY);
    close(other);
    fflush(stdout);
    write(go[1], "2", 1);
    waitpid(pid, NULL, 0);
    TRY("child's lock went at its exit", setlk(fd, F_SETLK, F_WRLCK, 100, 10));
    /* A waiter (F_SETLKW) gets the lock when its holder exits. */
    pid = fork();
    if (pid == 0) {
        int c = open(f, O_RDWR);
        setlk(c, F_SETLK, F_WRLCK, 0, 10);
        write(back[1], "3", 1);
        read(go[0], &ch, 1);
        _exit(0);
    }
    read(back[0], &ch, 1);
    int again = open(f, O_RDWR);                /* (its close would drop our own locks) */
    setlk(fd, F_SETLK, F_UNLCK, 0, 0);
    TRY("F_SETLK while the child holds it", setlk(fd, F_SETLK, F_WRLCK, 5, 1));
    write(go[1], "3", 1);
    TRY("F_SETLKW waits for the child's exit", setlk(fd, F_SETLKW, F_WRLCK, 5, 1));
    waitpid(pid, NULL, 0);
    close(again);
    struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = -5 };
    TRY("F_SETLK negative length", fcntl(fd, F_SETLK, &l));
    l = (struct flock){ .l_type = 7, .l_whence = SEEK_SET };
    TRY("F_SETLK bad type", fcntl(fd, F_SETLK, &l));
    l = (struct flock){ .l_type = F_WRLCK, .l_whence = 9 };
    TRY("F_SETLK bad whence", fcntl(fd, F_SETLK, &l));
    l = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = -1 };
    TRY("F_SETLK start -1", fcntl(fd, F_SETLK, &l));
    l = (struct flock){ .l_type = F_UNLCK, .l_whence = SEEK_SET };
    TRY("F_GETLK F_UNLCK", fcntl(fd, F_GETLK, &l));
    TRY("F_SETLK bad pointer", fcntl(fd, F_SETLK, BAD));
    int ro = open(f, O_RDONLY), wo = open(f, O_WRONLY);
    TRY("WRLCK on a read-only fd", setlk(ro, F_SETLK, F_WRLCK, 0, 1));
    TRY("RDLCK on a write-only fd", setlk(wo, F_SETLK, F_RDLCK, 0, 1));
    close(ro);
    close(wo);
    close(fd);
    close(go[0]), close(go[1]), close(back[0]), close(back[1]);
}

/* ---- sendfile, copy_file_range ---- */
static int same_file(const char *a, const char *b, size_t n)
{
    static char x[16384], y[16384];
    int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
    ssize_t ra = read(fa, x, sizeof(x)), rb = read(fb, y, sizeof(y));
    close(fa);
    close(fb);
    return ra == (ssize_t)n && rb == (ssize_t)n && !memcmp(x, y, n);
}

static void t_copies(void)
{
    make_file(at("src"), 10000);
    int src = open(at("src"), O_RDONLY);
    int dst = open(at("dst"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    TRY("sendfile whole", sendfile(dst, src, NULL, 20000));
    printf("copy equal: %d, source offset %ld\n", same_file(at("src"), at("dst"), 10000),
           (long)lseek(src, 0, SEEK_CUR));
    TRY("sendfile at the end", sendfile(dst, src, NULL, 100));
    off_t off = 5000;
    TRY("sendfile with an offset", sendfile(dst, src, &off, 100));
    printf("offset now %ld, file offset still %ld\n", (long)off, (long)lseek(src, 0, SEEK_CUR));
    TRY("sendfile bad in", sendfile(dst, 999, NULL, 10));
    TRY("sendfile bad out", sendfile(999, src, NULL, 10));
    TRY("sendfile out read-only", sendfile(src, src, NULL, 10));
    int app = open(at("dst"), O_WRONLY | O_APPEND);
    TRY("sendfile out O_APPEND", sendfile(app, src, NULL, 10));
    TRY("sendfile bad offset pointer", sendfile(dst, src, BAD, 10));
    close(dst);
    dst = open(at("dst2"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    loff_t in = 0;
    TRY("copy_file_range", syscall(SYS_copy_file_range, src, &in, dst, NULL, 10000, 0));
    printf("copy equal: %d, in offset %ld\n", same_file(at("src"), at("dst2"), 10000), (long)in);
    in = 10000;
    TRY("copy_file_range at the end", syscall(SYS_copy_file_range, src, &in, dst, NULL, 10, 0));
    TRY("copy_file_range flags", syscall(SYS_copy_file_range, src, NULL, dst, NULL, 10, 1));
    TRY("copy_file_range bad fd", syscall(SYS_copy_file_range, 999, NULL, dst, NULL, 10, 0));
    TRY("copy_file_range out O_APPEND", syscall(SYS_copy_file_range, src, NULL, app, NULL, 10, 0));
    TRY("copy_file_range out read-only", syscall(SYS_copy_file_range, src, NULL, src, NULL, 10, 0));
    int rw = open(at("src"), O_RDWR);
    loff_t o1 = 0, o2 = 100;
    TRY("copy_file_range overlapping", syscall(SYS_copy_file_range, rw, &o1, rw, &o2, 1000, 0));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    TRY("copy_file_range from a directory", syscall(SYS_copy_file_range, dfd, NULL, dst, NULL, 10, 0));
    TRY("copy_file_range len 0", syscall(SYS_copy_file_range, src, NULL, dst, NULL, 0, 0));
    close(dfd);
    close(rw);
    close(app);
    close(dst);
    close(src);
}

/* ---- memfd_create and seals ---- */
static void t_memfd(void)
{
    int fd = (int)syscall(SYS_memfd_create, "test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    printf("memfd: fd ok %d cloexec %d\n", fd >= 0, fcntl(fd, F_GETFD) == FD_CLOEXEC);
    write(fd, "hello", 5);
    char buf[8] = "";
    pread(fd, buf, 5, 0);
    struct stat st;
    fstat(fd, &st);
    printf("memfd reads %.5s size %ld nlink %ld regular %d\n", buf, (long)st.st_size, (long)st.st_nlink,
           S_ISREG(st.st_mode));
    struct statfs sf;
    fstatfs(fd, &sf);
    printf("memfd on %s\n", magic_name(sf.f_type));
    TRY("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    TRY("F_ADD_SEALS GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    TRY("write inside", pwrite(fd, "HE", 2, 0));
    TRY("write past the end", pwrite(fd, "x", 1, 5));
    TRY("ftruncate larger", ftruncate(fd, 100));
    TRY("ftruncate smaller", ftruncate(fd, 3));
    TRY("F_ADD_SEALS WRITE|SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK));
    TRY("write when sealed", pwrite(fd, "x", 1, 0));
    TRY("ftruncate when sealed", ftruncate(fd, 1));
    TRY("F_ADD_SEALS SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    TRY("F_ADD_SEALS after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    TRY("F_GET_SEALS now", fcntl(fd, F_GET_SEALS));
    TRY("F_ADD_SEALS unknown", fcntl(fd, F_ADD_SEALS, 0x100));
    close(fd);
    fd = (int)syscall(SYS_memfd_create, "plain", 0);
    TRY("F_GET_SEALS without ALLOW_SEALING", fcntl(fd, F_GET_SEALS));
    TRY("F_ADD_SEALS without ALLOW_SEALING", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    printf("memfd without CLOEXEC: %d\n", fcntl(fd, F_GETFD));
    close(fd);
    char longname[300];
    memset(longname, 'n', sizeof(longname));
    longname[299] = 0;
    TRY("memfd_create bad flags", syscall(SYS_memfd_create, "x", 0x100));
    TRY("memfd_create bad name", syscall(SYS_memfd_create, BAD, 0));
    TRY("memfd_create long name", syscall(SYS_memfd_create, longname, 0));
    int reg = open(at("src"), O_RDWR);
    TRY("F_GET_SEALS on a plain file", fcntl(reg, F_GET_SEALS));
    TRY("syncfs", syncfs(reg));
    TRY("syncfs bad fd", syncfs(999));
    close(reg);
    char h[128];
    int mnt;
    TRY("name_to_handle_at bad flags", syscall(SYS_name_to_handle_at, AT_FDCWD, at("src"), h, &mnt, 0xffff));
    TRY("name_to_handle_at missing", syscall(SYS_name_to_handle_at, AT_FDCWD, at("nothing"), h, &mnt, 0));
}

/* ---- mknod (FIFOs, sockets, devices), fadvise64, readahead, sync_file_range ---- */
static void t_mknod(void)
{
    const char *ff = at("fifo");
    struct stat st;
    TRY("mkfifo", mkfifo(ff, 0640));
    stat(ff, &st);
    printf("fifo: S_ISFIFO %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);
    TRY("mkfifo again", mkfifo(ff, 0640));
    TRY("open write-only non-blocking, no reader", open(ff, O_WRONLY | O_NONBLOCK));
    int r = open(ff, O_RDONLY | O_NONBLOCK);
    printf("open read-only non-blocking: %d\n", r >= 0);
    int w = open(ff, O_WRONLY | O_NONBLOCK);
    printf("then write-only non-blocking: %d\n", w >= 0);
    TRY("write", write(w, "through the fifo", 16));
    char buf[32] = "";
    TRY("read", read(r, buf, sizeof(buf)));
    printf("read back: %.16s\n", buf);
    fstat(r, &st);
    printf("fstat of an open fifo: S_ISFIFO %d same inode %d\n", S_ISFIFO(st.st_mode),
           (stat(ff, &st), 1));
    TRY("lseek on a fifo", lseek(r, 0, SEEK_SET));
    close(w);
    TRY("read after the writer left", read(r, buf, sizeof(buf)));
    close(r);
    /* Blocking opens meet: a child writes, we read. */
    pid_t pid = fork();
    if (pid == 0) {
        int cw = open(ff, O_WRONLY);
        write(cw, "child", 5);
        close(cw);
        _exit(0);
    }
    r = open(ff, O_RDONLY);
    ssize_t n = read(r, buf, sizeof(buf));
    printf("blocking open met the child: %.*s\n", (int)(n > 0 ? n : 0), buf);
    close(r);
    waitpid(pid, NULL, 0);
    int rw = open(ff, O_RDWR);
    TRY("O_RDWR write", write(rw, "x", 1));
    TRY("O_RDWR read", read(rw, buf, 1));
    close(rw);
    TRY("mknod socket", mknod(at("sock"), S_IFSOCK | 0600, 0));
    TRY("open a socket node", open(at("sock"), O_RDONLY));
    TRY("mknod regular", mknod(at("plain"), S_IFREG | 0600, 0));
    TRY("mknod type 0", mknod(at("plain0"), 0600, 0));
    stat(at("plain0"), &st);
    printf("type 0 is regular: %d\n", S_ISREG(st.st_mode));
    TRY("mknod directory", mknod(at("d"), S_IFDIR | 0700, 0));
    TRY("mknod bad type", mknod(at("bad"), 0170000 | 0600, 0));
    TRY("mknod missing parent", mknod(at("none/x"), S_IFIFO | 0600, 0));
    TRY("mknod bad path", syscall(SYS_mknodat, AT_FDCWD, BAD, S_IFIFO | 0600, 0));
    TRY("mknod char device on tmpfs", mknod("/dev/shm/sysfiles-null", S_IFCHR | 0666, makedev(1, 3)));
    stat("/dev/shm/sysfiles-null", &st);
    printf("its number: %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
    int nul = open("/dev/shm/sysfiles-null", O_WRONLY);
    TRY("write to it", write(nul, "gone", 4));
    close(nul);
    unlink("/dev/shm/sysfiles-null");
    pid = fork();
    if (pid == 0) {
        setuid(4242);
        TRY("uid 4242 mknod char device", mknod("/dev/shm/sysfiles-x", S_IFCHR | 0666, makedev(1, 3)));
        TRY("uid 4242 mkfifo", mkfifo("/dev/shm/sysfiles-f", 0600));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    unlink("/dev/shm/sysfiles-f");
    int fd = open(at("src"), O_RDONLY);
    TRY("fadvise WILLNEED", posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED) ? (errno = posix_fadvise(fd, 0, 0, 3), -1) : 0);
    TRY("fadvise bad advice", syscall(SYS_fadvise64, fd, 0, 0, 99));
    TRY("fadvise bad fd", syscall(SYS_fadvise64, 999, 0, 0, 0));
    int p[2];
    pipe(p);
    TRY("fadvise pipe", syscall(SYS_fadvise64, p[0], 0, 0, 0));
    TRY("readahead", syscall(SYS_readahead, fd, 0, 4096));
    TRY("readahead pipe", syscall(SYS_readahead, p[0], 0, 4096));
    TRY("sync_file_range", syscall(SYS_sync_file_range, fd, 0, 0, 2));
    TRY("sync_file_range bad flags", syscall(SYS_sync_file_range, fd, 0, 0, 8));
    TRY("sync_file_range pipe", syscall(SYS_sync_file_range, p[0], 0, 0, 2));
    close(p[0]);
    close(p[1]);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "statfs")) {      /* the raw numbers, for e2fsprogs to judge */
        struct statfs a;
        if (statfs(argv[2], &a))
            return 1;
        printf("statfs %s: type 0x%lx bsize %ld blocks %lu bfree %lu bavail %lu files %lu ffree %lu\n",
               argv[2], (unsigned long)a.f_type, (long)a.f_bsize, (unsigned long)a.f_blocks,
               (unsigned long)a.f_bfree, (unsigned long)a.f_bavail, (unsigned long)a.f_files,
               (unsigned long)a.f_ffree);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: sysfiles DIR SHM\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s/sysfiles", argv[1]);
    snprintf(shm, sizeof(shm), "%s", argv[2]);
    mkdir(dir, 0755);
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_statfs();
    t_statx();
    t_symlink_total();
    t_times();
    t_xattr();
    t_fallocate();
    t_flock();
    t_posix_locks();
    t_copies();
    t_memfd();
    t_mknod();
    printf("sysfiles: done\n");
    return 0;
}
