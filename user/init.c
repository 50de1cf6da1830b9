/* user/init.c - the first process. With arguments (the kernel passes the
 * words after " -- " on its command line, or /etc/autorun lists them), it
 * runs that one program, reports how it ended, and powers off: that is the
 * contract `invoke exec` relies on. Without, it runs the shell on the
 * console, reaping orphans meanwhile, and powers off when the shell exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static char *default_env[] = { "PATH=/bin:/sbin", "HOME=/", "TERM=vt100", NULL };

/* /etc/autorun: the argv to run, NUL-separated (written by the harness, so
 * arguments may contain spaces). */
static int read_autorun(char *buf, size_t size, char **argv, int max)
{
    int fd = open("/etc/autorun", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    int argc = 0;
    for (char *p = buf; p < buf + n && argc < max - 1; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    return argc;
}

static int run(char **argv)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("init: fork");
        return -1;
    }
    if (pid == 0) {
        execve(argv[0], argv, default_env);
        fprintf(stderr, "init: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    for (;;) {
        pid_t w = wait(&status);     /* reaps orphans too */
        if (w == pid)
            return status;
        if (w < 0)
            return -1;
    }
}

int main(int argc, char **argv)
{
    char buf[4096], *args[64];
    char **prog = NULL;
    if (argc > 1)
        prog = argv + 1;
    else if (read_autorun(buf, sizeof(buf), args, 64))
        prog = args;

    if (prog) {
        int status = run(prog);
        fflush(stdout);
        if (status >= 0 && WIFEXITED(status))
            fprintf(stderr, "init: exit status %d\n", WEXITSTATUS(status));
        else if (status >= 0 && WIFSIGNALED(status))
            fprintf(stderr, "init: killed by signal %d\n", WTERMSIG(status));
        reboot(RB_POWER_OFF);
        return 1;
    }

    char *sh[] = { "/bin/sh", NULL };
    run(sh);
    printf("init: shell exited; powering off\n");
    fflush(stdout);
    reboot(RB_POWER_OFF);
    return 0;
}
