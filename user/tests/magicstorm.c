/* magicstorm.c - /proc's magic links (fd/N, cwd, exe) looked through while
 * what they lead to comes and goes (tests/test_procfs.py, 2 CPUs).
 *
 * /proc/PID/fd/N, cwd and exe lead straight to another process's open
 * file, working directory or program: the lookup takes a reference to an
 * inode that process holds, while that process may close it, leave it,
 * exec or exit at the same moment. Each such object must be out of reach
 * before its last reference goes (fs/vfs.c's iget rule), or the reader
 * holds freed memory (trinity's finding 5 and seed 392's statfs fault had
 * that shape). So: churners fork short-lived children that open files,
 * pipes and memfds, chdir into directories on ext2 and tmpfs that they
 * then remove, and exec or exit; readers, on the other CPU, walk every
 * process's fd directory and stat, statfs, open and readlink each entry,
 * and cwd and exe, all the time. With the heap quarantine on, a freed inode
 * meets poison and the kernel says "BUG:" (the test fails on any such
 * line); every call here may fail, none may hurt the kernel.
 *
 *   magicstorm SECONDS DIR... (the lives take the directories in turn) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One short life: things opened, a directory entered and removed, then
 * exit or exec. */
static void life(const char *base, int n)
{
    char d[256], f[300];
    snprintf(d, sizeof(d), "%s/m%d-%d", base, getpid(), n);
    snprintf(f, sizeof(f), "%s/file", d);
    int p[2] = { -1, -1 };
    if (mkdir(d, 0755) == 0 && chdir(d) == 0) {
        int fd = open(f, O_CREAT | O_RDWR, 0644);
        if (pipe(p))
            p[0] = p[1] = -1;
        int mfd = memfd_create("storm", 0);
        if (fd >= 0 && write(fd, "x", 1) < 0)
            perror("write");
        unlink(f);
        rmdir(d);                               /* the working directory, removed */
        usleep((unsigned)(n % 3) * 1000);
        if (n % 4 == 0)
            chdir("/");                         /* its last reference goes here */
        close(fd);
        close(mfd);
        close(p[0]);
        if (n % 5 == 0) {
            char *argv[] = { "/bin/hello", NULL };
            execv(argv[0], argv);
        }
    }
    _exit(0);
}

static long probes, answered;

static void probe(const char *path)
{
    struct stat st;
    struct statfs sf;
    char buf[256];
    probes++;
    answered += stat(path, &st) == 0;
    answered += statfs(path, &sf) == 0;
    answered += readlink(path, buf, sizeof(buf)) > 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0) {
        answered++;
        close(fd);
    }
    char sub[320];
    snprintf(sub, sizeof(sub), "%.300s/.", path);
    answered += stat(sub, &st) == 0;
}

static void reader(double until)
{
    pin(1);
    char path[300];
    while (now() < until) {
        DIR *proc = opendir("/proc");
        struct dirent *e;
        while (proc && (e = readdir(proc))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9')
                continue;
            snprintf(path, sizeof(path), "/proc/%.16s/cwd", e->d_name);
            probe(path);
            snprintf(path, sizeof(path), "/proc/%.16s/exe", e->d_name);
            probe(path);
            char fds[300];
            snprintf(fds, sizeof(fds), "/proc/%.16s/fd", e->d_name);
            DIR *fdd = opendir(fds);
            struct dirent *g;
            while (fdd && (g = readdir(fdd))) {
                if (g->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof(path), "%.40s/%.16s", fds, g->d_name);
                probe(path);
            }
            if (fdd)
                closedir(fdd);
        }
        if (proc)
            closedir(proc);
    }
    printf("magicstorm: reader %d: %ld probes, %ld answers\n", getpid(), probes, answered);
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 10;
    char *tmp[] = { "/tmp" };
    char **bases = argc > 2 ? argv + 2 : tmp;
    int nbases = argc > 2 ? argc - 2 : 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The heap tracer and its quarantine (Vigil's; nothing elsewhere). */
    int k = open("/proc/vigil/kheap", O_WRONLY);
    if (k >= 0) {
        if (write(k, "mark", 4) != 4 || write(k, "quarantine", 10) != 10)
            perror("kheap");
        close(k);
    }
    double until = now() + secs;
    pid_t readers[2];
    for (int r = 0; r < 2; r++)
        if ((readers[r] = fork()) == 0)
            reader(until);
    pin(0);
    long lives = 0;
    while (now() < until) {
        pid_t c = fork();
        if (c == 0)
            life(bases[lives % nbases], (int)lives);
        if (c > 0)
            lives++;
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (c < 0)
            usleep(1000);
    }
    for (int r = 0; r < 2; r++)
        waitpid(readers[r], NULL, 0);
    while (wait(NULL) > 0)
        ;
    k = open("/proc/vigil/kheap", O_WRONLY);
    if (k >= 0) {
        if (write(k, "noquarantine", 12) != 12)
            perror("kheap");
        close(k);
    }
    printf("magicstorm: %ld lives in %d s\n", lives, secs);
    printf("magicstorm done\n");
    return 0;
}
