/* cwdnames.c - the working directory's name through symlinks, "..", and
 * /proc's magic links (tests/test_fspath.py runs it on the host Linux and
 * on Vigil and compares every line; paths are printed below DIR).
 *
 * getcwd and readlink(/proc/self/cwd) name where the walk went: "link/.."
 * is the parent of where link leads; /proc/self/cwd is the working
 * directory itself, so chdir there changes nothing and its name is never
 * the magic link's own (a name that passed through /proc/self/cwd again
 * made each readlink resolve it again, without end: a kernel stack
 * overflow, found by user/tests/pathfuzz.c). A descriptor opened through
 * /proc/self/fd/N, and one opened through that, name the directory.
 *
 *   cwdnames DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errname.h"

static char top[4096];

static const char *below(const char *p)
{
    size_t n = strlen(top);
    return !strncmp(p, top, n) ? (p[n] ? p + n : "/") : p;
}

static void show(const char *what)
{
    char cwd[4096], link[4096];
    long k = readlink("/proc/self/cwd", link, sizeof(link) - 1);
    if (k >= 0)
        link[k] = 0;
    const char *g = getcwd(cwd, sizeof(cwd));
    printf("%s: getcwd %s, /proc/self/cwd %s\n", what, g ? below(cwd) : ename(errno),
           k >= 0 ? below(link) : "(error)");
}

static void cd(const char *path)
{
    char what[4200];
    snprintf(what, sizeof(what), "chdir %s", path == top ? "DIR" : path);
    if (chdir(path))
        printf("%s: %s\n", what, ename(errno));
    else
        show(what);
}

static void fdname(const char *what, int fd)
{
    char p[64], link[4096];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    long k = readlink(p, link, sizeof(link) - 1);
    if (k >= 0)
        link[k] = 0;
    printf("%s: %s\n", what, k >= 0 ? below(link) : ename(errno));
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    if (chdir(dir) || !getcwd(top, sizeof(top))) {
        perror(dir);
        return 1;
    }
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    mkdir("c", 0755);
    symlink("a/b", "lb");
    symlink("../a/b", "c/up");
    cd("lb");
    cd("..");
    cd(top);
    cd("lb/..");
    cd(top);
    cd("c/up/..");
    cd(top);
    cd("a/b");
    cd("/proc/self/cwd");
    cd("/proc/self/cwd");
    cd("/proc/self/cwd/..");
    cd("/proc/self/cwd/b/../..");
    cd(top);
    int d = open("a", O_RDONLY | O_DIRECTORY);
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", d);
    int d2 = open(p, O_RDONLY | O_DIRECTORY);
    snprintf(p, sizeof(p), "/proc/self/fd/%d", d2);
    int d3 = open(p, O_RDONLY | O_DIRECTORY);
    fdname("a", d);
    fdname("a through fd", d2);
    fdname("a through fd through fd", d3);
    if (fchdir(d3) == 0)
        show("fchdir to the last");
    cd("/proc/self/cwd/b");
    int here = open("/proc/self/cwd", O_RDONLY | O_DIRECTORY);
    fdname("/proc/self/cwd opened", here);
    if (fchdir(here) == 0)
        show("fchdir to it");
    cd(top);
    unlink("c/up");
    unlink("lb");
    rmdir("c");
    rmdir("a/b");
    rmdir("a");
    printf("cwdnames done\n");
    return 0;
}
