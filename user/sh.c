/* user/sh.c - a small shell: run programs with arguments and wait for
 * them. Words are split on blanks, with '...' and "..." quoting. Builtins:
 * exit [N], cd DIR, and `status` (the last exit status). A command without
 * a '/' is looked up in /bin. Pipes and redirection wait for the pipe issue. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int split(char *line, char **argv, int max)
{
    int argc = 0;
    char *out = line;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            break;
        if (argc == max - 1)
            break;
        argv[argc++] = out;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                while (*p && *p != q)
                    *out++ = *p++;
                if (*p)
                    p++;
            } else {
                *out++ = *p++;
            }
        }
        if (*p)
            p++;
        *out++ = 0;
    }
    argv[argc] = NULL;
    return argc;
}

static const char *describe(int sig)
{
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGILL: return "Illegal instruction";
    case SIGFPE: return "Floating point exception";
    case SIGKILL: return "Killed";
    case SIGTERM: return "Terminated";
    case SIGINT: return "Interrupt";
    case SIGBUS: return "Bus error";
    default: return "Killed by a signal";
    }
}

int main(void)
{
    char line[1024], path[512], *argv[64];
    int last = 0;
    for (;;) {
        fputs("$ ", stdout);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
            return last;
        int argc = split(line, argv, 64);
        if (argc == 0)
            continue;
        if (!strcmp(argv[0], "exit"))
            return argc > 1 ? atoi(argv[1]) : last;
        if (!strcmp(argv[0], "cd")) {
            if (chdir(argc > 1 ? argv[1] : "/") < 0)
                fprintf(stderr, "sh: cd: %s: %s\n", argv[1], strerror(errno));
            continue;
        }
        if (!strcmp(argv[0], "status")) {
            printf("%d\n", last);
            continue;
        }
        const char *prog = argv[0];
        if (!strchr(prog, '/')) {
            snprintf(path, sizeof(path), "/bin/%s", prog);
            prog = path;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("sh: fork");
            continue;
        }
        if (pid == 0) {
            execve(prog, argv, environ);
            fprintf(stderr, "sh: %s: %s\n", argv[0], errno == ENOENT ? "not found" : strerror(errno));
            _exit(errno == ENOENT ? 127 : 126);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(status)) {
            fprintf(stderr, "%s\n", describe(WTERMSIG(status)));
            last = 128 + WTERMSIG(status);
        } else {
            last = WEXITSTATUS(status);
        }
    }
}
