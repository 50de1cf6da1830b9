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
 * a last name: EBUSY. And a directory that was removed while a descriptor
 * (or a working directory) still held it takes no new name: mkdir, open's
 * O_CREAT, mknod, symlink, link and rename into it say ENOENT, as Linux's
 * IS_DEADDIR (ext2 had created the entry in the freed directory: e2fsck's
 * "Unconnected directory ... '..' has deleted inode", found by pathfuzz
 * racing an rmdir against a mkdir).
 *
 *   parentput DIR... (each in turn: a tmpfs, a disk) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errname.h"

static void say(const char *what, long r)
{
    printf("%s: %s\n", what, r < 0 ? ename(errno) : "ok");
}

/* Where link leads, from its last slash on (the directory above differs
 * between the host and Vigil). */
static void tail(const char *what, const char *link)
{
    char to[4096];
    long n = readlink(link, to, sizeof(to) - 1);
    if (n < 0) {
        say(what, n);
        return;
    }
    to[n] = 0;
    const char *slash = strrchr(to, '/');
    printf("%s: ...%s\n", what, slash ? slash : to);
}

/* A chain of removed directories, each still the ".." of the one below:
 * 64 nested, the deepest held by a descriptor, removed from the bottom
 * up; ".." walks back up through all of them, then the descriptor's close
 * lets every one go (each held the one above it). */
static void chain(void)
{
    enum { DEPTH = 64 };
    int top = open(".", O_RDONLY | O_DIRECTORY);
    int i;
    for (i = 0; i < DEPTH; i++)
        if (mkdir("c", 0755) || chdir("c"))
            break;
    printf("chain: %d made\n", i);
    int fd = open(".", O_RDONLY | O_DIRECTORY);
    int removed = 0;
    for (int k = 0; k < i; k++)
        if (chdir("..") == 0 && rmdir("c") == 0)
            removed++;
    printf("chain: %d removed\n", removed);
    int up = 0;
    if (fd >= 0 && fchdir(fd) == 0)
        for (; up < DEPTH + 5; up++) {
            struct stat st;
            if (stat("..", &st) || chdir(".."))
                break;
            if (stat("c", &st) != 0 && errno != ENOENT)
                break;
            struct stat here;
            if (stat(".", &here) == 0 && here.st_nlink != 0)
                break;                          /* back among the living: pp */
        }
    printf("chain: %d steps up through removed directories\n", up);
    close(fd);
    if (top >= 0 && fchdir(top))
        perror("back to pp");
    close(top);
}

/* A removed directory, still held by a descriptor and as the working
 * directory: nothing new may be named in it. */
static void gone(void)
{
    mkdir("gone", 0755);
    mkdir("moved", 0755);
    int fd = open("gone", O_RDONLY | O_DIRECTORY);
    if (fd < 0 || rmdir("gone")) {
        perror("gone");
        return;
    }
    struct stat st;
    say("gone fstat", fstat(fd, &st));
    printf("gone nlink %ld\n", (long)st.st_nlink);
    say("gone mkdirat", mkdirat(fd, "x", 0755));
    int f = openat(fd, "x", O_CREAT | O_WRONLY, 0644);
    say("gone openat O_CREAT", f);
    if (f >= 0)
        close(f);
    say("gone mknodat", mknodat(fd, "x", S_IFIFO | 0644, 0));
    say("gone symlinkat", symlinkat("target", fd, "x"));
    say("gone linkat", linkat(AT_FDCWD, "file", fd, "x", 0));
    say("gone renameat file", renameat(AT_FDCWD, "file", fd, "x"));
    say("gone renameat dir", renameat(AT_FDCWD, "moved", fd, "x"));
    say("gone renameat2 noreplace", syscall(SYS_renameat2, AT_FDCWD, "moved", fd, "x", 1));
    say("gone fstatat x", fstatat(fd, "x", &st, 0));
    char ents[512], link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    tail("gone fd link", link);
    say("gone getdents64", syscall(SYS_getdents64, fd, ents, sizeof(ents)));
    if (fchdir(fd) == 0) {
        say("gone cwd mkdir", mkdir("y", 0755));
        f = open("y", O_CREAT | O_WRONLY, 0644);
        say("gone cwd open O_CREAT", f);
        if (f >= 0)
            close(f);
        say("gone cwd stat .", stat(".", &st));
        say("gone cwd stat ..", stat("..", &st));
        tail("gone cwd link", "/proc/self/cwd");
        char cwd[4096];
        say("gone cwd getcwd", getcwd(cwd, sizeof(cwd)) ? 0 : -1);
        if (chdir(".."))
            perror("back from gone");
        const char *at = getcwd(cwd, sizeof(cwd));
        size_t n = at ? strlen(at) : 0;
        printf("back from gone: %s\n", n > 3 && !strcmp(at + n - 3, "/pp") ? "in pp" : "elsewhere");
    }
    close(fd);
    rmdir("moved");
    chain();
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
    gone();
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
