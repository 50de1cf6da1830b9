/* chroot: "/" and ".." stop at the new root for the process and its
 * children; only root may chroot; the errors are Linux's. Prints one line
 * per check, the same on Linux and on Vigil (tests/test_chroot.py). Run as
 * root, from a writable /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void result(const char *what, int r)
{
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}

/* The first line of path, or the errno's name. */
static void show(const char *what, const char *path)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", what, strerror(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("%s: \"%s\"\n", what, buf);
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        perror(path);
    close(fd);
}

int main(void)
{
    mkdir("/tmp/jail", 0755);
    mkdir("/tmp/jail/etc", 0755);
    mkdir("/tmp/jail/sub", 0755);
    mkdir("/tmp/jail/locked", 0);
    put("/tmp/jail/etc/marker", "inside the jail\n");
    put("/tmp/outside-marker", "outside the jail\n");
    put("/tmp/jail/file", "a file\n");

    result("chroot to a file", chroot("/tmp/jail/file"));
    result("chroot to nothing", chroot("/tmp/jail/none"));
    result("chroot to an empty path", chroot(""));
    result("chroot to a bad pointer", chroot((const char *)8));
    pid_t pid = fork();
    if (pid == 0) {
        setuid(1000);
        result("chroot as uid 1000", chroot("/tmp/jail"));
        result("chroot as uid 1000 to a locked dir", chroot("/tmp/jail/locked"));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    fflush(stdout);

    pid = fork();
    if (pid == 0) {
        result("chroot /tmp/jail", chroot("/tmp/jail"));
        result("chdir /", chdir("/"));
        show("/etc/marker", "/etc/marker");
        show("/../../etc/marker", "/../../etc/marker");
        show("../../../tmp/outside-marker", "../../../tmp/outside-marker");
        show("/tmp/outside-marker", "/tmp/outside-marker");
        result("chdir sub", chdir("sub"));
        show("../../../etc/marker", "../../../etc/marker");
        char cwd[64];
        printf("getcwd: %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : strerror(errno));
        fflush(stdout);
        /* A child inherits the root. */
        pid_t c = fork();
        if (c == 0) {
            show("child /etc/marker", "/etc/marker");
            show("child /../tmp/outside-marker", "/../tmp/outside-marker");
            _exit(0);
        }
        waitpid(c, NULL, 0);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    show("parent, not chrooted: /tmp/jail/etc/marker", "/tmp/jail/etc/marker");
    show("parent: /etc/marker", "/etc/marker");
    return 0;
}
