/* execbad PATH...: execve each path and print the errno it fails with. The
 * harness puts malformed ELF files in the initrd; none may hurt the kernel.
 *
 * execbad -f PATH...: each execve in a child of its own, and print what
 * became of it: "errno NAME" (execve returned), "signal N" (the child died:
 * Linux kills a process whose exec fails past its point of no return), or
 * "exit N" (the program ran). The same run on the host's Linux and on Vigil
 * must print the same lines (tests/test_exec.py). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e)
{
    static const struct { int e; const char *n; } t[] = {
        { ENOEXEC, "ENOEXEC" }, { ENOENT, "ENOENT" }, { EACCES, "EACCES" }, { ELOOP, "ELOOP" },
        { ELIBBAD, "ELIBBAD" }, { EINVAL, "EINVAL" }, { ENOMEM, "ENOMEM" }, { EIO, "EIO" },
        { E2BIG, "E2BIG" }, { EFAULT, "EFAULT" }, { ENAMETOOLONG, "ENAMETOOLONG" },
        { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { ETXTBSY, "ETXTBSY" }, { EPERM, "EPERM" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].e == e)
            return t[i].n;
    return strerror(e);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-f")) {
        for (int i = 2; i < argc; i++) {
            int pfd[2];
            if (pipe2(pfd, O_CLOEXEC))
                return 1;
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                close(pfd[0]);
                char *av[] = { argv[i], "arg", NULL };
                dup2(open("/dev/null", 1), 1);      /* a program that runs: quiet */
                execv(argv[i], av);
                int e = errno;
                if (write(pfd[1], &e, sizeof(e)) < 0)
                    _exit(126);
                _exit(127);
            }
            close(pfd[1]);
            int e = 0, st = 0;
            ssize_t n = read(pfd[0], &e, sizeof(e));
            close(pfd[0]);
            waitpid(pid, &st, 0);
            if (n == sizeof(e))
                printf("%s: errno %s\n", argv[i], errname(e));
            else if (WIFSIGNALED(st))
                printf("%s: signal %d\n", argv[i], WTERMSIG(st));
            else
                printf("%s: exit %d\n", argv[i], WEXITSTATUS(st));
        }
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        char *av[] = { argv[i], NULL };
        execv(argv[i], av);
        int e = errno;
        printf("%s: %s\n", argv[i], e == ENOEXEC ? "ENOEXEC" : strerror(e));
    }
    return 0;
}
