/* procmax - the process limit Vigil reports is the one fork enforces.
 *
 * Reads /proc/sys/kernel/threads-max and pid_max, counts the threads alive
 * as LTP's tst_get_free_pids does (the Threads: lines of every
 * /proc/PID/status), then forks children that wait on a pipe until fork
 * fails (or threads-max + 10 were made: a kernel that does not hold the
 * limit stops there). Linux's answer: EAGAIN exactly when the threads
 * alive reach threads-max. Then the children go, are reaped, and a fork
 * works again. Prints:
 *   threads-max T pid_max P MemTotal M kB
 *   RLIMIT_NPROC cur max
 *   alive before A
 *   forked N, then E
 *   alive at the limit B (listing of /proc)
 *   reaped R, fork after: ok */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"

static long read_long(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long v = -1;
    size_t kl = key ? strlen(key) : 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (!key) {
            v = atol(line);
            break;
        }
        if (!strncmp(line, key, kl)) {
            v = atol(line + kl);
            break;
        }
    }
    if (f)
        fclose(f);
    return v;
}

/* The threads alive: the sum of every /proc/PID/status Threads: line. */
static long alive(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long n = 0;
    char path[300];
    while (d && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        long t = read_long(path, "Threads:");
        n += t > 0 ? t : 0;
    }
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    long tmax = read_long("/proc/sys/kernel/threads-max", NULL);
    long pmax = read_long("/proc/sys/kernel/pid_max", NULL);
    printf("threads-max %ld pid_max %ld MemTotal %ld kB\n", tmax, pmax,
           read_long("/proc/meminfo", "MemTotal:"));
    struct rlimit rl;
    getrlimit(RLIMIT_NPROC, &rl);
    printf("RLIMIT_NPROC %ld %ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
    long before = alive();
    printf("alive before %ld\n", before);
    fflush(stdout);
    if (tmax <= 0)
        return 1;
    int p[2];
    if (pipe(p))
        return 1;
    long n = 0;
    int err = 0;
    for (;;) {
        if (n >= tmax + 10) {
            err = -1;
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            char c;
            close(p[1]);
            read(p[0], &c, 1);                  /* until the write end closes */
            _exit(0);
        }
        n++;
    }
    printf("forked %ld, then %s\n", n, err < 0 ? "no failure (threads-max + 10 made)" : ename(err));
    printf("alive at the limit %ld\n", alive());
    fflush(stdout);
    close(p[1]);
    long reaped = 0;
    while (wait(NULL) > 0)
        reaped++;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int st = -1;
    if (pid > 0)
        waitpid(pid, &st, 0);
    printf("reaped %ld, fork after: %s\n", reaped, pid > 0 && st == 0 ? "ok" : ename(errno));
    printf("procmax: done\n");
    return 0;
}
