/* fspath DIR: paths, open flags and per-file metadata beyond open/read/
 * write, tried with good and bad input in DIR (a tmpfs directory), printing
 * only what must be the same on Linux and on Vigil: openat2 (struct
 * open_how's checks, every RESOLVE_* flag), O_PATH descriptors (what they
 * may and may not do), O_TMPFILE, extended attributes on tmpfs (security.,
 * trusted., user. and who may touch which), renameat2's NOREPLACE,
 * EXCHANGE and WHITEOUT, ETXTBSY both ways, O_NOATIME by another user,
 * file handles, SEEK_DATA/SEEK_HOLE, and the flag checks of the *at calls.
 * tests/test_fspath.py runs it on the host and on Vigil and compares line
 * by line. Run as root (it becomes nobody for the permission cases). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BAD ((void *)1)                 /* an address never mapped */
#define NOBODY 65534
#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

struct how {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_XDEV 1
#define RESOLVE_NO_MAGICLINKS 2
#define RESOLVE_NO_SYMLINKS 4
#define RESOLVE_BENEATH 8
#define RESOLVE_IN_ROOT 16

static const char *en(int e)
{
    static const struct { int e; const char *n; } t[] = {
        { 0, "0" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EBADF, "EBADF" }, { ENXIO, "ENXIO" },
        { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
        { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { EXDEV, "EXDEV" }, { ENODEV, "ENODEV" },
        { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" }, { ETXTBSY, "ETXTBSY" },
        { ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" }, { EROFS, "EROFS" }, { ERANGE, "ERANGE" },
        { ENOSYS, "ENOSYS" }, { ENODATA, "ENODATA" }, { E2BIG, "E2BIG" }, { ELOOP, "ELOOP" },
        { EOPNOTSUPP, "EOPNOTSUPP" }, { EOVERFLOW, "EOVERFLOW" }, { ENOTTY, "ENOTTY" },
        { ESTALE, "ESTALE" }, { ENOTEMPTY, "ENOTEMPTY" },
    };
    static char buf[16];
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].e == e)
            return t[i].n;
    snprintf(buf, sizeof(buf), "errno %d", e);
    return buf;
}

/* A call's answer: its errno, or "fd" for a new descriptor (closed), or
 * the number. */
static const char *res(long r, bool fd)
{
    static char buf[4][32];
    static int k;
    char *b = buf[k++ % 4];
    if (r == -1)
        return en(errno);
    if (fd) {
        close((int)r);
        return "fd";
    }
    snprintf(b, 32, "%ld", r);
    return b;
}

#define TRY(label, call) do { errno = 0; long r_ = (long)(call); printf("%s: %s\n", label, res(r_, false)); } while (0)
#define OPEN(label, call) do { errno = 0; long r_ = (long)(call); printf("%s: %s\n", label, res(r_, true)); } while (0)

static char dir[512];

static char *at(const char *name)
{
    static char buf[4][600];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 600, "%s/%s", dir, name);
    return b;
}

static void make_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (write(fd, text, strlen(text)) < 0)
        perror("write");
    close(fd);
}

static long renameat2(int od, const char *o, int nd, const char *n, unsigned flags)
{
    return syscall(SYS_renameat2, od, o, nd, n, flags);
}

static long openat2(int dfd, const char *path, const void *how, size_t size)
{
    return syscall(SYS_openat2, dfd, path, how, size);
}

/* In a child as uid/gid nobody: fn's lines, then the child ends. */
static void as_nobody(void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
            printf("setresuid failed\n");
        fn();
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

/* ---- openat2 ---- */
static void t_openat2(void)
{
    struct how h = { O_RDWR | O_CREAT, 0600, 0 };
    int d = open(dir, O_DIRECTORY);
    OPEN("openat2 create", openat2(d, "o2", &h, sizeof(h)));
    OPEN("openat2 size 0", openat2(d, "o2", &h, 0));
    OPEN("openat2 size short", openat2(d, "o2", &h, sizeof(h) - 1));
    struct { struct how h; uint64_t pad; } big = { h, 0 };
    OPEN("openat2 bigger, zero tail", openat2(d, "o2", &big, sizeof(big)));
    big.pad = 1;
    OPEN("openat2 bigger, tail not zero", openat2(d, "o2", &big, sizeof(big)));
    OPEN("openat2 how unmapped", openat2(d, "o2", BAD, sizeof(h)));
    OPEN("openat2 path unmapped", openat2(d, BAD, &h, sizeof(h)));
    OPEN("openat2 bad dirfd", openat2(-1, "o2", &h, sizeof(h)));
    struct how bad = { O_RDONLY, 0600, 0 };
    OPEN("openat2 mode without O_CREAT", openat2(d, "o2", &bad, sizeof(bad)));
    bad = (struct how){ O_RDWR | O_CREAT, 070000, 0 };
    OPEN("openat2 mode with type bits", openat2(d, "o2", &bad, sizeof(bad)));
    bad = (struct how){ 1ull << 40, 0, 0 };
    OPEN("openat2 unknown flag", openat2(d, "o2", &bad, sizeof(bad)));
    bad = (struct how){ O_RDONLY, 0, 1ull << 20 };
    OPEN("openat2 unknown resolve", openat2(d, "o2", &bad, sizeof(bad)));
    bad = (struct how){ O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT };
    OPEN("openat2 beneath and in-root", openat2(d, "o2", &bad, sizeof(bad)));
    bad = (struct how){ O_PATH | O_RDWR, 0, 0 };
    OPEN("openat2 O_PATH with O_RDWR", openat2(d, "o2", &bad, sizeof(bad)));

    mkdir(at("sub"), 0755);
    make_file(at("sub/f"), "x", 0644);
    symlink("/etc", at("sub/abs"));
    symlink("../o2", at("sub/up"));
    symlink("f", at("sub/rel"));
    int s = open(at("sub"), O_DIRECTORY);
    struct how r = { O_RDONLY, 0, RESOLVE_BENEATH };
    OPEN("beneath: a file below", openat2(s, "f", &r, sizeof(r)));
    OPEN("beneath: a relative symlink below", openat2(s, "rel", &r, sizeof(r)));
    OPEN("beneath: ..", openat2(s, "../o2", &r, sizeof(r)));
    OPEN("beneath: down and up again", openat2(s, "./../sub/f", &r, sizeof(r)));
    OPEN("beneath: absolute path", openat2(s, "/etc", &r, sizeof(r)));
    OPEN("beneath: symlink up", openat2(s, "up", &r, sizeof(r)));
    OPEN("beneath: absolute symlink", openat2(s, "abs", &r, sizeof(r)));
    r.resolve = RESOLVE_IN_ROOT;
    OPEN("in-root: .. stops at the root", openat2(s, "../f", &r, sizeof(r)));
    OPEN("in-root: / is the root", openat2(s, "/f", &r, sizeof(r)));
    OPEN("in-root: symlink up stays", openat2(s, "up", &r, sizeof(r)));
    r.resolve = RESOLVE_NO_SYMLINKS;
    OPEN("no-symlinks: a symlink", openat2(s, "rel", &r, sizeof(r)));
    OPEN("no-symlinks: a file", openat2(s, "f", &r, sizeof(r)));
    r.flags = O_PATH | O_NOFOLLOW;
    OPEN("no-symlinks: the link itself (O_PATH|O_NOFOLLOW)", openat2(s, "rel", &r, sizeof(r)));
    r = (struct how){ O_RDONLY, 0, RESOLVE_NO_XDEV };
    OPEN("no-xdev: /proc from here", openat2(s, "/proc/version", &r, sizeof(r)));
    OPEN("no-xdev: below", openat2(s, "f", &r, sizeof(r)));
    int proc = open("/proc", O_DIRECTORY);
    OPEN("no-xdev: inside /proc", openat2(proc, "version", &r, sizeof(r)));
    r.resolve = RESOLVE_NO_MAGICLINKS;
    OPEN("no-magiclinks: /proc/self/exe", openat2(AT_FDCWD, "/proc/self/exe", &r, sizeof(r)));
    OPEN("no-magiclinks: /proc/self/cwd", openat2(AT_FDCWD, "/proc/self/cwd", &r, sizeof(r)));
    r.resolve = 0;
    OPEN("magic link allowed", openat2(AT_FDCWD, "/proc/self/cwd", &r, sizeof(r)));
    close(proc);
    close(s);
    close(d);
}

/* ---- O_PATH ---- */
static void t_opath(void)
{
    make_file(at("p"), "hello", 0644);
    symlink("p", at("plink"));
    int fd = open(at("p"), O_PATH);
    int dup_fd = dup(fd);
    char buf[16];
    struct stat st;
    TRY("O_PATH read", read(fd, buf, sizeof(buf)));
    TRY("O_PATH read (dup)", read(dup_fd, buf, sizeof(buf)));
    TRY("O_PATH write", write(fd, "x", 1));
    TRY("O_PATH pread", pread(fd, buf, 1, 0));
    TRY("O_PATH lseek", lseek(fd, 0, SEEK_SET));
    /* (fchmod and fchown through O_PATH: EBADF on Linux 6.1, which Vigil
     * follows and LTP's open13 checks; later Linux allows them.) */
    TRY("O_PATH ioctl", ioctl(fd, FIONREAD, buf));
    TRY("O_PATH fgetxattr", fgetxattr(fd, "user.x", buf, sizeof(buf)));
    TRY("O_PATH fsync", fsync(fd));
    TRY("O_PATH ftruncate", ftruncate(fd, 0));
    void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("O_PATH mmap: %s\n", m == MAP_FAILED ? en(errno) : "mapped");
    TRY("O_PATH fstat", fstat(fd, &st));
    printf("O_PATH fstat size: %ld\n", (long)st.st_size);
    TRY("O_PATH F_GETFL has O_PATH", (fcntl(fd, F_GETFL) & O_PATH) != 0);
    TRY("O_PATH F_SETFL", fcntl(fd, F_SETFL, O_NONBLOCK));
    TRY("O_PATH F_SETFD", fcntl(fd, F_SETFD, FD_CLOEXEC));
    TRY("O_PATH F_GETFD", fcntl(fd, F_GETFD));
    TRY("O_PATH fstatat empty path", fstatat(fd, "", &st, AT_EMPTY_PATH));
    TRY("O_PATH faccessat2 empty path", syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
    TRY("O_PATH as a dirfd of a file", openat(fd, "x", O_RDONLY));
    OPEN("O_PATH of a file opens it again through /proc/self/fd",
         open(({ static char p[64]; snprintf(p, sizeof(p), "/proc/self/fd/%d", fd); p; }), O_RDONLY));
    close(dup_fd);
    close(fd);
    int d = open(dir, O_PATH | O_DIRECTORY);
    OPEN("O_PATH dir as dirfd", openat(d, "p", O_RDONLY));
    TRY("O_PATH dir getdents", syscall(SYS_getdents64, d, buf, sizeof(buf)));
    TRY("O_PATH dir fchdir", fchdir(d));
    close(d);
    OPEN("O_PATH|O_DIRECTORY of a file", open(at("p"), O_PATH | O_DIRECTORY));
    int l = open(at("plink"), O_PATH | O_NOFOLLOW);
    TRY("O_PATH|O_NOFOLLOW is the link", fstat(l, &st) == 0 && S_ISLNK(st.st_mode));
    memset(buf, 0, sizeof(buf));
    TRY("readlinkat(link fd, \"\")", readlinkat(l, "", buf, sizeof(buf)));
    printf("readlinkat text: %s\n", buf);
    close(l);
    int f = open(at("p"), O_RDONLY);
    TRY("readlinkat(file fd, \"\")", readlinkat(f, "", buf, sizeof(buf)));
    close(f);
    OPEN("O_PATH of /dev/null (no device open)", open("/dev/null", O_PATH));
}

/* ---- O_TMPFILE ---- */
static void t_tmpfile(void)
{
    mkdir(at("tmpd"), 0755);
    int fd = open(at("tmpd"), O_TMPFILE | O_RDWR, 0640);
    printf("O_TMPFILE: %s\n", fd >= 0 ? "fd" : en(errno));
    TRY("O_TMPFILE write", write(fd, "data", 4));
    struct stat st;
    fstat(fd, &st);
    printf("O_TMPFILE nlink %ld mode %o\n", (long)st.st_nlink, st.st_mode & 07777);
    DIR *dd = opendir(at("tmpd"));
    int n = 0;
    for (struct dirent *e; (e = readdir(dd));)
        n += e->d_name[0] != '.';
    closedir(dd);
    printf("O_TMPFILE entries in its directory: %d\n", n);
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    TRY("linkat it a name", linkat(AT_FDCWD, p, AT_FDCWD, at("tmpd/named"), AT_SYMLINK_FOLLOW));
    fstat(fd, &st);
    printf("named: nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
    TRY("linkat a second name", linkat(AT_FDCWD, p, AT_FDCWD, at("tmpd/again"), AT_SYMLINK_FOLLOW));
    close(fd);
    fd = open(at("tmpd"), O_TMPFILE | O_RDWR | O_EXCL, 0600);
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    TRY("O_TMPFILE|O_EXCL linkat", linkat(AT_FDCWD, p, AT_FDCWD, at("tmpd/never"), AT_SYMLINK_FOLLOW));
    TRY("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, at("tmpd/never"), AT_EMPTY_PATH));
    close(fd);
    fd = open(at("tmpd"), O_TMPFILE | O_RDWR, 0600);
    TRY("linkat AT_EMPTY_PATH of an O_TMPFILE", linkat(fd, "", AT_FDCWD, at("tmpd/empty"), AT_EMPTY_PATH));
    close(fd);
    OPEN("O_TMPFILE read-only", open(at("tmpd"), O_TMPFILE | O_RDONLY, 0600));
    OPEN("O_TMPFILE with O_CREAT", open(at("tmpd"), O_TMPFILE | O_CREAT | O_RDWR, 0600));
    OPEN("O_TMPFILE on a file", open(at("tmpd/named"), O_TMPFILE | O_RDWR, 0600));
    OPEN("O_TMPFILE in a missing dir", open(at("nodir"), O_TMPFILE | O_RDWR, 0600));
    OPEN("O_TMPFILE without O_DIRECTORY", open(at("tmpd"), 020000000 | O_RDWR, 0600));
    /* A directory removed under an O_TMPFILE file: the file lives on. */
    mkdir(at("gone"), 0755);
    fd = open(at("gone"), O_TMPFILE | O_RDWR, 0600);
    TRY("rmdir under an O_TMPFILE", rmdir(at("gone")));
    TRY("write after", write(fd, "abc", 3));
    TRY("read back", pread(fd, p, 3, 0));
    close(fd);
}

/* ---- extended attributes ---- */
static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_list(const char *label, const char *buf, long n)
{
    char *names[32];
    int k = 0;
    for (long i = 0; i < n && k < 32; i += (long)strlen(buf + i) + 1)
        names[k++] = (char *)buf + i;
    qsort(names, (size_t)k, sizeof(names[0]), by_name);
    printf("%s:", label);
    for (int i = 0; i < k; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static void xattr_as_nobody(void)
{
    char buf[256];
    const char *f = at("xf");
    TRY("nobody getxattr security", getxattr(f, "security.a", buf, sizeof(buf)));
    TRY("nobody getxattr trusted", getxattr(f, "trusted.t", buf, sizeof(buf)));
    TRY("nobody setxattr security", setxattr(f, "security.n", "v", 1, 0));
    TRY("nobody setxattr trusted", setxattr(f, "trusted.n", "v", 1, 0));
    TRY("nobody setxattr user (file not ours)", setxattr(f, "user.n", "v", 1, 0));
    TRY("nobody removexattr security", removexattr(f, "security.a"));
    long n = listxattr(f, buf, sizeof(buf));
    print_list("nobody listxattr", buf, n);
    TRY("nobody getxattr user", getxattr(f, "user.u", buf, sizeof(buf)));
}

static bool on_disk;                    /* DIR is on ext2/3/4: no 64 KiB values (one block each) */

static void t_xattr(void)
{
    const char *f = at("xf");
    make_file(f, "x", 0644);
    symlink("xf", at("xl"));
    char buf[256];
    TRY("listxattr empty", listxattr(f, buf, sizeof(buf)));
    TRY("setxattr security", setxattr(f, "security.a", "one", 3, XATTR_CREATE));
    TRY("setxattr security again CREATE", setxattr(f, "security.a", "two", 3, XATTR_CREATE));
    TRY("setxattr REPLACE missing", setxattr(f, "security.b", "two", 3, XATTR_REPLACE));
    TRY("setxattr REPLACE", setxattr(f, "security.a", "longer", 6, XATTR_REPLACE));
    TRY("getxattr size 0", getxattr(f, "security.a", NULL, 0));
    TRY("getxattr small buffer", getxattr(f, "security.a", buf, 3));
    memset(buf, 0, sizeof(buf));
    TRY("getxattr", getxattr(f, "security.a", buf, sizeof(buf)));
    printf("value: %s\n", buf);
    TRY("getxattr bad buffer", getxattr(f, "security.a", BAD, sizeof(buf)));
    TRY("setxattr bad value", setxattr(f, "security.c", BAD, 4, 0));
    TRY("setxattr empty value", setxattr(f, "trusted.t", "", 0, 0));
    TRY("getxattr empty value", getxattr(f, "trusted.t", buf, sizeof(buf)));
    TRY("setxattr user", setxattr(f, "user.u", "uu", 2, 0));
    TRY("setxattr unknown namespace", setxattr(f, "other.x", "x", 1, 0));
    TRY("getxattr missing", getxattr(f, "security.zz", buf, sizeof(buf)));
    TRY("listxattr size 0", listxattr(f, NULL, 0));
    TRY("listxattr small", listxattr(f, buf, 4));
    long n = listxattr(f, buf, sizeof(buf));
    print_list("listxattr", buf, n);
    TRY("listxattr bad buffer", listxattr(f, BAD, sizeof(buf)));
    TRY("lsetxattr user on a symlink", lsetxattr(at("xl"), "user.u", "v", 1, 0));
    TRY("lsetxattr security on a symlink", lsetxattr(at("xl"), "security.l", "v", 1, 0));
    n = llistxattr(at("xl"), buf, sizeof(buf));
    print_list("llistxattr of the link", buf, n);
    n = listxattr(at("xl"), buf, sizeof(buf));
    print_list("listxattr through the link", buf, n);
    TRY("lgetxattr user on a symlink", lgetxattr(at("xl"), "user.u", buf, sizeof(buf)));
    int fd = open(f, O_RDONLY);
    n = flistxattr(fd, buf, sizeof(buf));
    print_list("flistxattr", buf, n);
    TRY("fremovexattr", fremovexattr(fd, "user.u"));
    TRY("fremovexattr again", fremovexattr(fd, "user.u"));
    close(fd);
    as_nobody(xattr_as_nobody);
    char big[65537];
    memset(big, 'v', sizeof(big));
    if (on_disk) {
        TRY("setxattr 1 KiB", setxattr(f, "security.big", big, 1024, 0));
        TRY("getxattr 1 KiB", getxattr(f, "security.big", big, sizeof(big)));
        TRY("setxattr prefix only", setxattr(f, "user.", "v", 1, 0));
        TRY("removexattr 1 KiB", removexattr(f, "security.big"));
        n = listxattr(f, buf, sizeof(buf));
        print_list("listxattr at the end", buf, n);
        mkdir(at("xd"), 01777);
        TRY("setxattr user on a directory", setxattr(at("xd"), "user.d", "d", 1, 0));
        TRY("readlink of a symlink with attributes", readlink(at("xl"), buf, sizeof(buf)));
        TRY("unlink the symlink", unlink(at("xl")));
        unlink(f);
        return;
    }
    TRY("setxattr 64 KiB", setxattr(f, "security.big", big, 65536, 0));
    TRY("setxattr past 64 KiB", setxattr(f, "security.big", big, 65537, 0));
    TRY("getxattr 64 KiB", getxattr(f, "security.big", big, sizeof(big)));
    TRY("removexattr 64 KiB", removexattr(f, "security.big"));
    mkdir(at("xd"), 01777);
    TRY("setxattr user on a directory", setxattr(at("xd"), "user.d", "d", 1, 0));
    unlink(f);
}

/* ---- renameat2 ---- */
static void t_rename(void)
{
    make_file(at("ra"), "A", 0644);
    make_file(at("rb"), "B", 0644);
    mkdir(at("rd1"), 0755);
    mkdir(at("rd1/inner"), 0755);
    mkdir(at("rd2"), 0755);
    char buf[4] = "";
    TRY("NOREPLACE onto a file", renameat2(AT_FDCWD, at("ra"), AT_FDCWD, at("rb"), RENAME_NOREPLACE));
    TRY("EXCHANGE two files", renameat2(AT_FDCWD, at("ra"), AT_FDCWD, at("rb"), RENAME_EXCHANGE));
    int fd = open(at("ra"), O_RDONLY);
    TRY("ra now holds", read(fd, buf, 1));
    printf("ra: %s\n", buf);
    close(fd);
    TRY("EXCHANGE with a missing name", renameat2(AT_FDCWD, at("ra"), AT_FDCWD, at("rz"), RENAME_EXCHANGE));
    TRY("EXCHANGE a file and a directory", renameat2(AT_FDCWD, at("ra"), AT_FDCWD, at("rd2"), RENAME_EXCHANGE));
    struct stat st;
    lstat(at("ra"), &st);
    printf("ra is a directory now: %d\n", S_ISDIR(st.st_mode));
    TRY("EXCHANGE a directory into itself", renameat2(AT_FDCWD, at("rd1"), AT_FDCWD, at("rd1/inner"), RENAME_EXCHANGE));
    TRY("EXCHANGE|NOREPLACE", renameat2(AT_FDCWD, at("rb"), AT_FDCWD, at("rd2"), RENAME_EXCHANGE | RENAME_NOREPLACE));
    TRY("EXCHANGE|WHITEOUT", renameat2(AT_FDCWD, at("rb"), AT_FDCWD, at("rd2"), RENAME_EXCHANGE | RENAME_WHITEOUT));
    TRY("unknown flag", renameat2(AT_FDCWD, at("rb"), AT_FDCWD, at("rc"), 8));
    TRY("WHITEOUT", renameat2(AT_FDCWD, at("rb"), AT_FDCWD, at("rc"), RENAME_WHITEOUT));
    TRY("the whiteout", lstat(at("rb"), &st));
    printf("whiteout: chr %d rdev %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    TRY("NOREPLACE to a new name", renameat2(AT_FDCWD, at("rc"), AT_FDCWD, at("rnew"), RENAME_NOREPLACE));
}

/* ---- ETXTBSY ---- */
static void t_txtbsy(void)
{
    /* A copy of this program, run by a child that waits on a pipe. */
    int in = open("/proc/self/exe", O_RDONLY), out = open(at("prog"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[65536];
    for (ssize_t n; (n = read(in, buf, sizeof(buf))) > 0;)
        if (write(out, buf, (size_t)n) != n)
            break;
    close(in);
    TRY("exec a file open for writing", ({
        pid_t c = fork();
        if (c == 0) {
            execl(at("prog"), "prog", "--wait", (char *)NULL);
            _exit(errno == ETXTBSY ? 26 : 1);
        }
        int ws;
        waitpid(c, &ws, 0);
        WIFEXITED(ws) && WEXITSTATUS(ws) == 26 ? (errno = ETXTBSY, -1) : 0;
    }));
    close(out);
    int p[2], q[2];
    if (pipe(p) || pipe(q))
        return;
    pid_t c = fork();
    if (c == 0) {
        dup2(p[0], 0);
        dup2(q[1], 1);
        close(p[1]);
        close(q[0]);
        execl(at("prog"), "prog", "--wait", (char *)NULL);
        _exit(1);
    }
    close(p[0]);
    close(q[1]);
    char ready = 0;
    TRY("the program started", read(q[0], &ready, 1));     /* it runs: exec is done */
    int fd = open(at("prog"), O_WRONLY);
    if (fd >= 0)
        close(fd);
    printf("open a running program for writing: %s\n", fd < 0 ? en(errno) : "opened");
    TRY("truncate a running program", truncate(at("prog"), 0));
    OPEN("open a running program for reading", open(at("prog"), O_RDONLY));
    OPEN("O_PATH of a running program", open(at("prog"), O_PATH | O_WRONLY));
    close(p[1]);
    close(q[0]);
    waitpid(c, NULL, 0);
    OPEN("open it for writing after it ended", open(at("prog"), O_WRONLY));
    unlink(at("prog"));
}

/* ---- O_NOATIME ---- */
static void noatime_as_nobody(void)
{
    OPEN("nobody O_NOATIME on root's file", open(at("na"), O_RDONLY | O_NOATIME));
    OPEN("nobody O_NOATIME on its own file", open(at("na2"), O_RDONLY | O_NOATIME));
    OPEN("nobody plain open of root's file", open(at("na"), O_RDONLY));
}

static void t_noatime(void)
{
    make_file(at("na"), "n", 0644);
    make_file(at("na2"), "n", 0644);
    chown(at("na2"), NOBODY, NOBODY);
    OPEN("root O_NOATIME", open(at("na"), O_RDONLY | O_NOATIME));
    as_nobody(noatime_as_nobody);
}

/* ---- file handles ---- */
static void t_handles(void)
{
    make_file(at("h"), "handle", 0644);
    struct file_handle *fh = malloc(sizeof(*fh) + 128);
    int mnt = -1;
    fh->handle_bytes = 0;
    TRY("name_to_handle_at size 0", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0));
    printf("needed bytes > 0: %d\n", fh->handle_bytes > 0);
    fh->handle_bytes = 129;
    TRY("name_to_handle_at size too big", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0));
    fh->handle_bytes = 128;
    TRY("name_to_handle_at", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0));
    TRY("name_to_handle_at bad mount id", name_to_handle_at(AT_FDCWD, at("h"), fh, BAD, 0));
    TRY("name_to_handle_at bad handle", name_to_handle_at(AT_FDCWD, at("h"), BAD, &mnt, 0));
    TRY("name_to_handle_at bad flags", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0x10));
    int fd = open_by_handle_at(AT_FDCWD, fh, O_RDONLY);
    char buf[8] = "";
    printf("open_by_handle_at: %s\n", fd >= 0 ? "fd" : en(errno));
    TRY("read through it", read(fd, buf, 6));
    printf("text: %s\n", buf);
    close(fd);
    OPEN("open_by_handle_at bad mount fd", open_by_handle_at(-1, fh, O_RDONLY));
    OPEN("open_by_handle_at bad handle", open_by_handle_at(AT_FDCWD, BAD, O_RDONLY));
    unsigned keep = fh->handle_bytes;
    fh->handle_bytes = 0;
    OPEN("open_by_handle_at size 0", open_by_handle_at(AT_FDCWD, fh, O_RDONLY));
    fh->handle_bytes = 200;
    OPEN("open_by_handle_at size too big", open_by_handle_at(AT_FDCWD, fh, O_RDONLY));
    fh->handle_bytes = keep;
    unlink(at("h"));
    OPEN("open_by_handle_at after unlink", open_by_handle_at(AT_FDCWD, fh, O_RDONLY));
    free(fh);
}

/* ---- SEEK_DATA, SEEK_HOLE ---- */
static void t_seek(void)
{
    int fd = open(at("sparse"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    pwrite(fd, "a", 1, 4096 * 3 + 10);
    pwrite(fd, "b", 1, 4096 * 8);
    ftruncate(fd, 4096 * 12);
    TRY("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
    TRY("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
    TRY("SEEK_HOLE in data", lseek(fd, 4096 * 3 + 5, SEEK_HOLE));
    TRY("SEEK_DATA in data", lseek(fd, 4096 * 3 + 5, SEEK_DATA));
    TRY("SEEK_DATA after the first", lseek(fd, 4096 * 4, SEEK_DATA));
    TRY("SEEK_DATA past the last data", lseek(fd, 4096 * 9, SEEK_DATA));
    TRY("SEEK_HOLE past the last data", lseek(fd, 4096 * 9, SEEK_HOLE));
    TRY("SEEK_DATA at the end", lseek(fd, 4096 * 12, SEEK_DATA));
    TRY("SEEK_HOLE negative", lseek(fd, -1, SEEK_HOLE));
    close(fd);
}

/* ---- the *at calls' flags, and a few more ---- */
static void t_flags(void)
{
    make_file(at("ff"), "f", 0644);
    struct stat st;
    TRY("fstatat bad flags", fstatat(AT_FDCWD, at("ff"), &st, 0x8000));
    TRY("fstatat AT_STATX flag", fstatat(AT_FDCWD, at("ff"), &st, 0x2000));
    TRY("faccessat2 bad flags", syscall(SYS_faccessat2, AT_FDCWD, at("ff"), R_OK, 0x8000));
    TRY("faccessat2 bad mode", syscall(SYS_faccessat2, AT_FDCWD, at("ff"), 8, 0));
    TRY("fchownat bad flags", fchownat(AT_FDCWD, at("ff"), 0, 0, 0x8000));
    TRY("linkat bad flags", linkat(AT_FDCWD, at("ff"), AT_FDCWD, at("ff2"), 1));
    TRY("linkat empty path without the flag", linkat(AT_FDCWD, "", AT_FDCWD, at("ff2"), 0));
    TRY("ustat of no device", syscall(SYS_ustat, 0xfffffffful, &st));
    TRY("setdomainname too long", syscall(SYS_setdomainname, "x", 65));
    TRY("setdomainname negative", syscall(SYS_setdomainname, "x", -1));
    mkdir(at("real"), 0755);
    symlink("real", at("alias"));
    char here[512], cwd[1024];
    if (!getcwd(here, sizeof(here)) || chdir(at("alias")))
        return;
    printf("getcwd through a symlink names the directory: %d\n",
           getcwd(cwd, sizeof(cwd)) && !strcmp(strrchr(cwd, '/'), "/real"));
    if (chdir(here))
        return;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--wait")) {
        char c = 'r';
        if (write(1, &c, 1) != 1)               /* running */
            return 1;
        return read(0, &c, 1) < 0;              /* until the pipe closes */
    }
    if (argc < 2) {
        fprintf(stderr, "usage: fspath DIR | fspath disk DIR\n");
        return 2;
    }
    if (argc > 2 && !strcmp(argv[1], "disk")) {     /* on a disk file system: ext2/3/4 */
        snprintf(dir, sizeof(dir), "%s/fspath.d", argv[2]);
        mkdir(dir, 0777);
        chmod(dir, 0777);
        setvbuf(stdout, NULL, _IOLBF, 0);
        on_disk = true;
        t_handles();
        t_xattr();
        printf("fspath: done\n");
        return 0;
    }
    snprintf(dir, sizeof(dir), "%s/fspath.%d", argv[1], 1);
    mkdir(dir, 0777);
    chmod(dir, 0777);
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_openat2();
    t_opath();
    t_tmpfile();
    t_xattr();
    t_rename();
    t_txtbsy();
    t_noatime();
    t_handles();
    t_seek();
    t_flags();
    printf("fspath: done\n");
    return 0;
}
