/* bench strace: the getpid benchmark under Debian's strace (-f -qq, every
 * call traced and printed, to /dev/null), from the Debian image mounted at
 * DIR (chrooted there, as spawn.h does): what a syscall costs when a tracer stops it twice
 * (entry and exit), reads its registers and arguments, and resumes it.
 * bench-getpid (the image holds Vigil's programs in /usr/lib/vigil/bin)
 * times itself; its line is reported under this name. Its ratio to the
 * plain getpid line, per kernel, is the tracing overhead (docs/bench.md). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static char *spawn_env[] = { "PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8", NULL };

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    char ms[24];
    snprintf(ms, sizeof(ms), "%llu", (unsigned long long)(a.min_ns / 1000000ull));
    char *args[] = { "/usr/bin/strace", "-f", "-qq", "/usr/lib/vigil/bin/bench-getpid", ms, NULL };
    int out[2];
    int null = open("/dev/null", O_WRONLY);     /* (the image's /dev is empty) */
    if (null < 0 || pipe(out))
        return bench_fail("strace", "setup");
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("strace", "fork");
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(null, 2);                          /* the trace */
        close(out[0]);
        close(out[1]);
        if (chroot(a.dir) == 0 && chdir("/") == 0)
            execve(args[0], args, spawn_env);
        _exit(127);
    }
    close(out[1]);
    char buf[512];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) - 1 && (n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    int st;
    waitpid(pid, &st, 0);
    double ns;
    unsigned long long ops;
    char *line = strstr(buf, "bench getpid ns_per_op=");
    if (!line || sscanf(line, "bench getpid ns_per_op=%lf ops=%llu", &ns, &ops) != 2 ||
        !WIFEXITED(st) || WEXITSTATUS(st))
        return bench_fail("strace", "no-result");
    bench_report("strace", ns, ops, "");
    return 0;
}
