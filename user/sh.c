/* user/sh.c - a small shell: run programs with arguments and wait for
 * them. Words are split on blanks, with '...' and "..." quoting; commands
 * may be joined into a pipeline with '|', and `< FILE` feeds one its input.
 * Builtins: exit [N], cd DIR, and `status` (the last exit status). A
 * command without a '/' is looked up in /bin. */
#include <errno.h>
#include <fcntl.h>
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

/* In the child: apply "< FILE", connect stdin/stdout, exec. */
static void run_command(char *text, int in, int out)
{
    char *argv[64], path[512];
    int argc = split(text, argv, 64), j = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "<") && i + 1 < argc) {
            int fd = open(argv[++i], O_RDONLY);
            if (fd < 0) {
                fprintf(stderr, "sh: %s: %s\n", argv[i], strerror(errno));
                _exit(1);
            }
            if (in != 0)
                close(in);
            in = fd;
        } else {
            argv[j++] = argv[i];
        }
    }
    argv[j] = NULL;
    if (j == 0)
        _exit(0);
    if (in != 0) {
        dup2(in, 0);
        close(in);
    }
    if (out != 1) {
        dup2(out, 1);
        close(out);
    }
    const char *prog = argv[0];
    if (!strchr(prog, '/')) {
        snprintf(path, sizeof(path), "/bin/%s", prog);
        prog = path;
    }
    execve(prog, argv, environ);
    fprintf(stderr, "sh: %s: %s\n", argv[0], errno == ENOENT ? "not found" : strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

/* Start every command of "a | b | c" and wait for all of them; the
 * pipeline's status is the last command's. */
static int pipeline(char *line)
{
    char *cmds[16];
    int n = 0;
    char quote = 0;
    cmds[n++] = line;
    for (char *p = line; *p; p++) {
        if (quote)
            quote = *p == quote ? 0 : quote;
        else if (*p == '\'' || *p == '"')
            quote = *p;
        else if (*p == '|' && n < 16) {
            *p = 0;
            cmds[n++] = p + 1;
        }
    }
    pid_t pids[16];
    int in = 0;
    for (int i = 0; i < n; i++) {
        int p[2] = { 0, 1 };
        if (i + 1 < n && pipe(p) < 0) {
            perror("sh: pipe");
            return 1;
        }
        pids[i] = fork();
        if (pids[i] == 0) {
            if (i + 1 < n)
                close(p[0]);
            run_command(cmds[i], in, p[1]);
        }
        if (in != 0)
            close(in);
        if (i + 1 < n) {
            close(p[1]);
            in = p[0];
        }
    }
    int status = 0;
    for (int i = 0; i < n; i++)
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "%s\n", describe(WTERMSIG(status)));
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

int main(void)
{
    char line[1024], words[1024], *argv[64];
    int last = 0;
    for (;;) {
        fputs("$ ", stdout);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
            return last;
        strcpy(words, line);
        int argc = split(words, argv, 64);
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
        last = pipeline(line);
    }
}
