/* user/init.c - the first process. With arguments (the kernel passes the
 * words after " -- " on its command line, or /etc/autorun lists them), it
 * runs that one program, reports how it ended, and powers off: that is the
 * contract `invoke exec` relies on. Without, it runs a shell on the
 * console, reaping orphans meanwhile, and powers off when the shell exits.
 *
 * Two roots: Debian's (build/root.img, harness/debian.py; it has
 * /etc/debian_version) and the initrd of Vigil's own test programs. On
 * Debian's, programs get Debian's PATH, HOME=/root and /root as their
 * working directory, and the console shell is bash as a login shell (it
 * reads /etc/profile and gives a prompt) - or, while execve of a dynamic
 * ELF fails, busybox's static sh, so there is always a shell. On the
 * initrd, the environment is the old one and the shell is its /bin/sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static char *initrd_env[] = { "PATH=/bin:/sbin", "HOME=/", "TERM=vt100", NULL };
static char *debian_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root", "TERM=linux", "SHELL=/bin/bash", "USER=root", "LOGNAME=root", NULL };
static char **env = initrd_env;

/* The console shells, in order of preference (the path, then argv): the
 * first that execs. */
static char *shells[][5] = {
    { "/bin/bash", "bash", "-l", NULL },
    { "/bin/busybox", "sh", "-l", NULL },   /* argv[0] "sh": busybox runs its ash */
    { "/bin/sh", "/bin/sh", NULL, NULL },
};

/* bash's line editing (readline) waits for the terminal with pselect6 and
 * switches it out of canonical mode with tcsetattr. On a kernel without
 * pselect6 readline takes the failure for the end of input (the login
 * shell would log out at its first prompt); on a terminal that refuses
 * tcsetattr every typed line would show twice. Then bash runs without line
 * editing: it reads lines as the terminal cooks them. */
static void bash_line_editing(void)
{
    struct timespec now = { 0, 0 };
    struct termios t;
    bool can_wait = pselect(0, NULL, NULL, NULL, &now, NULL) == 0 || errno != ENOSYS;
    bool can_raw = tcgetattr(0, &t) == 0 && tcsetattr(0, TCSANOW, &t) == 0;
    if (!can_wait || !can_raw)
        shells[0][2] = "--noediting", shells[0][3] = "-l";
}

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

/* Fork; the child runs argv, or with argv NULL the first shell that execs
 * (as the leader of a new session, the console its controlling terminal:
 * what job control needs; either failing changes nothing else). */
static int run(char **argv)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("init: fork");
        return -1;
    }
    if (pid == 0 && argv) {
        execve(argv[0], argv, env);
        fprintf(stderr, "init: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (pid == 0) {
        setsid();
        ioctl(0, TIOCSCTTY, 0);
        for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
            execve(shells[i][0], shells[i] + 1, env);
            if (errno != ENOENT)
                fprintf(stderr, "init: cannot run %s: %s\n", shells[i][0], strerror(errno));
        }
        _exit(127);
    }
    int status;
    for (;;) {
        pid_t w = wait(&status);     /* reaps orphans too */
        if (w == pid)
            return status;
        if (w < 0 && errno != EINTR)   /* EINTR: e.g. a tracer attached and left (LTP's ptrace11) */
            return -1;
    }
}

int main(int argc, char **argv)
{
    char buf[4096], *args[64];
    char **prog = NULL;
    if (access("/etc/debian_version", F_OK) == 0) {
        env = debian_env;
        if (chdir("/root") < 0)
            perror("init: chdir /root");
    }
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

    if (env == debian_env)
        bash_line_editing();
    run(NULL);
    printf("init: shell exited; powering off\n");
    fflush(stdout);
    reboot(RB_POWER_OFF);
    return 0;
}
