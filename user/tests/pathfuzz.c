/* pathfuzz.c - the path syscalls with a small, nasty set of names, at
 * random, from several processes at once (tests/test_fspath.py, 2 CPUs).
 *
 * Trinity found two ways a path call's error path could put an inode
 * once too often (finding 5, seed 392); each took millions of its calls.
 * Here every call gets a name from a pool made to reach the error paths:
 * a file used as a directory ("f/x"), names of 255 and 256 bytes, dangling
 * and looping symlinks, a symlink to a directory, a FIFO, "..", /proc's
 * magic links to the process's own descriptors and working directory,
 * empty and missing names; the calls are open (with O_CREAT, O_EXCL,
 * O_TMPFILE, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TRUNC), mkdir, rmdir,
 * unlink, link, symlink, rename and renameat2 (NOREPLACE, EXCHANGE),
 * mknod, stat, lstat, statx, statfs, truncate, utimensat, chmod, chown,
 * the xattr calls, readlink, access, chdir and fchdir, name_to_handle_at,
 * inotify_add_watch. Four processes share the directory, so they race on
 * the same names. Any answer is fine; the kernel must say nothing (the
 * test fails on a "BUG:" line: a reference taken to, or put back to, an
 * inode whose last one went) and, on ext2, e2fsck must find the disk clean.
 *
 *   pathfuzz OPS DIR... (in each directory in turn; the seed is its place) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static unsigned long long rng;

static unsigned pick(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 33) % n;
}

#define NNAMES 40
static char names[NNAMES][320];
static int nnames;

static void add(const char *s)
{
    if (nnames < NNAMES)
        snprintf(names[nnames++], sizeof(names[0]), "%s", s);
}

static const char *name(void) { return names[pick((unsigned)nnames)]; }

static void pool(void)
{
    char n255[256], n256[257];
    memset(n255, 'a', 255);
    n255[255] = 0;
    memset(n256, 'b', 256);
    n256[256] = 0;
    const char *fixed[] = { "f", "g", "d", "d/e", "d/e/f", "f/x", "g/x/y", "l", "l/x", "dl", "dl/e",
                            "dl/e/..", "loop", "loop/x", "dang", "dang/x", "no", "no/x", "fifo",
                            "fifo/x", "d/..", "d/e/../../f", "", ".", "..", "/proc/self/cwd/f",
                            "/proc/self/cwd/d/e", "/proc/self/fd/3", "/proc/self/fd/3/x",
                            "/proc/self/fd/4/e", "/proc/self/cwd/f/x" };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        add(fixed[i]);
    char buf[320];
    add(n255);
    add(n256);
    snprintf(buf, sizeof(buf), "d/%s", n255);
    add(buf);
    snprintf(buf, sizeof(buf), "d/%s", n256);
    add(buf);
    snprintf(buf, sizeof(buf), "f/%s", n256);
    add(buf);
    snprintf(buf, sizeof(buf), "%s/x", n256);
    add(buf);
}

/* The tree every process starts from (again, now and then). */
static void tree(void)
{
    mkdir("d", 0755);
    mkdir("d/e", 0755);
    int fd = open("f", O_CREAT | O_WRONLY | O_NONBLOCK, 0644);   /* (f may be a FIFO by now) */
    if (fd >= 0)
        close(fd);
    symlink("f", "l");
    symlink("d", "dl");
    symlink("loop", "loop");
    symlink("nowhere", "dang");
    mkfifo("fifo", 0644);
}

static void one(void)
{
    const char *a = name(), *b = name();
    struct stat st;
    struct statfs sf;
    unsigned char sx[256];              /* struct statx (musl's headers may not have it) */
    char buf[300];
    int flags[] = { O_RDONLY, O_WRONLY | O_CREAT, O_RDWR | O_CREAT | O_EXCL, O_RDONLY | O_DIRECTORY,
                    O_RDONLY | O_NOFOLLOW, O_PATH, O_WRONLY | O_TRUNC, O_TMPFILE | O_RDWR,
                    O_RDONLY | O_NONBLOCK, O_PATH | O_NOFOLLOW | O_DIRECTORY };
    int fd;
    switch (pick(28)) {
    case 0: case 1:
        fd = open(a, flags[pick(10)] | O_NONBLOCK, 0644);
        if (fd >= 0) {
            if (pick(4) == 0)
                linkat(fd, "", AT_FDCWD, b, AT_EMPTY_PATH);
            if (pick(4) == 0 && fchdir(fd) == 0)
                (void)!chdir(pick(2) ? ".." : "/proc/self/cwd");
            close(fd);
        }
        break;
    case 2: mkdir(a, 0755); break;
    case 3: rmdir(a); break;
    case 4: unlink(a); break;
    case 5: link(a, b); break;
    case 6: symlink(b, a); break;
    case 7: rename(a, b); break;
    case 8: syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, pick(2) ? 1 /* NOREPLACE */ : 2 /* EXCHANGE */); break;
    case 9: mknod(a, (pick(2) ? S_IFIFO : S_IFREG) | 0644, 0); break;
    case 10: stat(a, &st); break;
    case 11: lstat(a, &st); break;
    case 12: syscall(SYS_statx, AT_FDCWD, a, pick(2) ? AT_SYMLINK_NOFOLLOW : 0, 0xfff, sx); break;
    case 13: statfs(a, &sf); break;
    case 14: truncate(a, pick(3) * 1000); break;
    case 15: utimensat(AT_FDCWD, a, NULL, pick(2) ? AT_SYMLINK_NOFOLLOW : 0); break;
    case 16: chmod(a, 0600 | pick(0200)); break;
    case 17: chown(a, getuid(), getgid()); break;
    case 18: setxattr(a, "user.k", "v", 1, pick(3)); break;
    case 19: getxattr(a, "user.k", buf, sizeof(buf)); break;
    case 20: listxattr(a, buf, sizeof(buf)); break;
    case 21: removexattr(a, "user.k"); break;
    case 22: readlink(a, buf, sizeof(buf)); break;
    case 23: access(a, pick(8)); break;
    case 24:
        if (chdir(a) == 0)
            (void)!chdir(pick(2) ? ".." : "/proc/self/cwd/..");
        break;
    case 25: {
        struct { unsigned bytes; int type; unsigned char h[64]; } fh = { 64, 0, { 0 } };
        int mnt;
        name_to_handle_at(AT_FDCWD, a, (struct file_handle *)&fh, &mnt, 0);
        break;
    }
    case 26: {
        int in = inotify_init1(IN_NONBLOCK);
        if (in >= 0) {
            inotify_add_watch(in, a, IN_ALL_EVENTS);
            close(in);
        }
        break;
    }
    default:
        tree();
        break;
    }
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st, (void)type, (void)f;
    return remove(path) && errno != ENOENT ? -1 : 0;
}

static int run(const char *dir, unsigned seed, long ops)
{
    /* Two levels of its own: ".." (chmod, rename, rmdir...) is then
     * pathfuzz's directory too, never DIR itself. */
    char top[300], home[320];
    snprintf(top, sizeof(top), "%s/pathfuzz", dir);
    snprintf(home, sizeof(home), "%s/w", top);
    mkdir(top, 0755);
    mkdir(home, 0755);
    if (chdir(home)) {
        perror(home);
        return 1;
    }
    tree();
    pid_t kids[4];
    for (int k = 0; k < 4; k++)
        if ((kids[k] = fork()) == 0) {
            rng = seed * 1000003ull + (unsigned)k;
            /* fd 3: the directory; fd 4: d (the magic-link names use them). */
            int d3 = open(".", O_RDONLY | O_DIRECTORY), d4 = open("d", O_RDONLY | O_DIRECTORY);
            if (d3 >= 0 && d3 != 3)
                dup2(d3, 3);
            if (d4 >= 0 && d4 != 4)
                dup2(d4, 4);
            for (long i = 0; i < ops; i++) {
                one();
                if (chdir(home))            /* back where the names mean something */
                    _exit(1);
            }
            _exit(0);
        }
    int bad = 0;
    for (int k = 0; k < 4; k++) {
        int status;
        if (waitpid(kids[k], &status, 0) != kids[k] || !WIFEXITED(status) || WEXITSTATUS(status))
            bad++;
    }
    printf("pathfuzz: %s: 4 processes, %ld calls each, %d ended badly\n", dir, ops, bad);
    if (chdir("/") || chmod(top, 0755) || nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS))
        printf("pathfuzz: the tree was not removed: %s\n", strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    long ops = argc > 1 ? atol(argv[1]) : 10000;
    setvbuf(stdout, NULL, _IOLBF, 0);
    pool();
    for (int i = 2; i < argc; i++)
        if (run(argv[i], (unsigned)i - 1, ops))
            return 1;
    printf("pathfuzz done\n");
    return 0;
}
