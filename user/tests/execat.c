/* execat: execveat(2) cases, each in a child: a path relative to a
 * directory fd, AT_EMPTY_PATH on a file's fd (fexecve), a script run that
 * way with and without close-on-exec, AT_SYMLINK_NOFOLLOW, and the errors.
 * /bin/args (the program run) prints its argv and AT_EXECFN; after each
 * case a line says how it ended. The same output on Linux and Vigil. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static void try(const char *what, int dirfd, const char *path, int flags)
{
    printf("== %s\n", what);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *av[] = { "argv0", "x", NULL }, *ev[] = { NULL };
        syscall(SYS_execveat, dirfd, path, av, ev, flags);
        printf("errno %s\n", errno == ENOENT ? "ENOENT" : errno == EINVAL ? "EINVAL" :
               errno == ENOTDIR ? "ENOTDIR" : errno == EBADF ? "EBADF" : errno == ELOOP ? "ELOOP" :
               errno == EACCES ? "EACCES" : strerror(errno));
        fflush(stdout);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("== status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

int main(void)
{
    int bin = open("/bin", O_RDONLY | O_DIRECTORY);
    int prog = open("/bin/args", O_RDONLY);
    int script = open("/s/script", O_RDONLY);
    int script_cloexec = open("/s/script", O_RDONLY | O_CLOEXEC);
    if (symlink("/bin/args", "/tmp/execat-link") < 0 && errno != EEXIST)
        perror("symlink");
    printf("fds %d %d %d %d\n", bin, prog, script, script_cloexec);
    try("relative to a directory fd", bin, "args", 0);
    try("absolute path, dirfd ignored", 99, "/bin/args", 0);
    try("AT_EMPTY_PATH on the file's fd", prog, "", AT_EMPTY_PATH);
    try("a script by its fd", script, "", AT_EMPTY_PATH);
    try("a script by a close-on-exec fd", script_cloexec, "", AT_EMPTY_PATH);
    try("empty path without AT_EMPTY_PATH", prog, "", 0);
    try("unknown flag", AT_FDCWD, "/bin/args", 0x8000);
    try("relative to a file fd", prog, "args", 0);
    try("relative to a bad fd", 99, "args", 0);
    try("AT_SYMLINK_NOFOLLOW on a symlink", AT_FDCWD, "/tmp/execat-link", 0x100);
    try("a symlink followed", AT_FDCWD, "/tmp/execat-link", 0);
    try("AT_EMPTY_PATH on a directory fd", bin, "", AT_EMPTY_PATH);
    unlink("/tmp/execat-link");
    return 0;
}
