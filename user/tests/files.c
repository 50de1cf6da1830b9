/* files DIR: the file syscalls and their errors, in a scratch directory
 * DIR. Prints results only (no inode numbers or times), so the output is
 * the same on any correct kernel. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char *what, long r)
{
    int e = errno;
    if (r < 0)
        printf("%-34s -1 %s\n", what, strerror(e));
    else
        printf("%-34s %ld\n", what, r);
    errno = 0;
}

static void show(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        printf("stat %-29s %s\n", path, strerror(errno));
        errno = 0;
        return;
    }
    printf("stat %-29s mode %06o size %lld nlink %ld\n", path, st.st_mode,
           (long long)st.st_size, (long)st.st_nlink);
}

static void list(const char *dir)
{
    DIR *d = opendir(dir);
    char *names[256];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 256)
        names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    for (int i = 0; i < n; i++)                 /* sorted: order on disk differs */
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    printf("ls %s:", dir);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) < 0)
        return 2;
    umask(022);
    char buf[200];
    int fd = open("a", O_CREAT | O_WRONLY | O_EXCL, 0644);
    say("open a (create)", fd);
    say("write a", write(fd, "hello, disk\n", 12));
    say("fsync a", fsync(fd));
    say("close a", close(fd));
    say("open a O_EXCL again", open("a", O_CREAT | O_EXCL | O_WRONLY, 0644));
    fd = open("a", O_RDWR | O_APPEND);
    say("append", write(fd, "more\n", 5));
    say("lseek 0", lseek(fd, 0, SEEK_SET));
    memset(buf, 0, sizeof(buf));
    say("read back", read(fd, buf, sizeof(buf)));
    printf("content: %s", buf);
    say("pwrite at 2", pwrite(fd, "LL", 2, 2));
    say("pread at 0", pread(fd, buf, 5, 0));
    printf("pread: %.5s\n", buf);
    say("ftruncate 4", ftruncate(fd, 4));
    say("ftruncate 10000 (sparse)", ftruncate(fd, 10000));
    say("pread past old end", pread(fd, buf, 4, 5000));
    printf("zeros: %d %d %d %d\n", buf[0], buf[1], buf[2], buf[3]);
    close(fd);
    show("a");

    say("mkdir d", mkdir("d", 0755));
    say("mkdir d again", mkdir("d", 0755));
    say("mkdir d/e", mkdir("d/e", 0700));
    say("mkdir missing/x", mkdir("missing/x", 0755));
    say("mkdir a/x (a is a file)", mkdir("a/x", 0755));
    show("d");
    say("rmdir d (not empty)", rmdir("d"));
    say("unlink d (a directory)", unlink("d"));
    say("rmdir a (a file)", rmdir("a"));
    say("open d for writing", open("d", O_WRONLY));
    say("open a as O_DIRECTORY", open("a", O_RDONLY | O_DIRECTORY));

    say("link a b", link("a", "b"));
    show("a");
    say("link a b again", link("a", "b"));
    say("symlink a -> s", symlink("a", "s"));
    ssize_t k = readlink("s", buf, sizeof(buf));
    printf("readlink s: %.*s\n", (int)(k > 0 ? k : 0), buf);
    say("stat through s", open("s", O_RDONLY) >= 0 ? 0 : -1);
    say("symlink loop", symlink("loop", "loop"));
    say("open loop", open("loop", O_RDONLY));

    fd = open("c", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    for (int i = 0; i < 300; i++)               /* past the direct blocks */
        write(fd, "0123456789abcdef0123456789abcdef", 32);
    say("fsync c", fsync(fd));
    close(fd);
    show("c");
    say("rename c d/e/c", rename("c", "d/e/c"));
    say("rename a over b (same inode)", rename("a", "b"));
    say("rename d/e/c over b", rename("d/e/c", "b"));
    show("b");
    say("rename missing", rename("nope", "x"));
    say("rename d into itself", rename("d", "d/e/x"));
    say("unlink b", unlink("b"));
    say("unlink b again", unlink("b"));
    say("unlink s", unlink("s"));
    say("unlink loop", unlink("loop"));
    say("rmdir d/e", rmdir("d/e"));
    say("rmdir d", rmdir("d"));
    char longname[300];
    memset(longname, 'x', 299);
    longname[299] = 0;
    say("open name too long", open(longname, O_CREAT | O_WRONLY, 0644));
    say("chmod a 600", chmod("a", 0600));
    show("a");
    say("access a W", access("a", W_OK));
    say("chown a 1000:100", chown("a", 1000, 100));
    struct stat st;
    stat("a", &st);
    printf("owner %d:%d\n", (int)st.st_uid, (int)st.st_gid);
    fd = open("a", O_RDONLY);
    say("fchown a 0:0", fchown(fd, 0, 0));
    close(fd);
    stat("a", &st);
    printf("owner %d:%d\n", (int)st.st_uid, (int)st.st_gid);
    say("truncate a 1", truncate("a", 1));
    show("a");
    list(".");
    sync();
    return 0;
}
