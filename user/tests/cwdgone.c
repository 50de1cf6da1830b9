/* cwdgone.c - a working directory's last reference goes while others can
 * still reach it (tests/test_ext2.py runs it on a fresh ext3 disk, 2 CPUs).
 *
 * A removed directory stays someone's working directory until they leave
 * it; leaving drops the last reference, and ext2 then frees the inode and
 * its blocks, which sleeps on the disk. Meanwhile two kinds of lookup can
 * reach that directory: a thread that shares the working directory
 * (CLONE_FS: every pthread) resolving a relative path, and anyone
 * resolving /proc/PID/cwd. Neither may find the dying inode: it is freed
 * when the release ends, and a reference taken to it would be a use after
 * free (issue 17's finding 5: trinity's iput of a freed inode under walk).
 * So the leaver first points the working directory elsewhere and only
 * then lets the old one go.
 *
 * Each round: mkdir d, chdir into it, remove it by its absolute path,
 * sync and drop the caches (so the release reads its bitmaps from the disk
 * and sleeps), then chdir out; a thread pinned to the other CPU meanwhile
 * stats "x" relative to the shared working directory, and a child process
 * stats /proc/PID/cwd/x, both in tight loops. Every answer must be an
 * errno (ENOENT: the removed directory is empty; or, after the chdir, the
 * new directory's answer); the kernel must say nothing.
 *
 *   cwdgone DIR ROUNDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;
static long found;              /* stats that succeeded ("x" never exists) */

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static void *prober(void *arg)
{
    (void)arg;
    pin(1);
    struct stat st;
    while (!stop)
        if (stat("x", &st) == 0)
            found++;
    return NULL;
}

static void drop_caches(void)
{
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1)
        perror("drop_caches");
    close(fd);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/scratch";
    int rounds = argc > 2 ? atoi(argv[2]) : 50;
    if (chdir(dir)) {
        perror(dir);
        return 1;
    }
    int quiet = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (quiet < 0 || write(quiet, "4", 1) != 1)
        perror("drop_caches 4");
    close(quiet);
    char d[256], procx[64];
    snprintf(d, sizeof(d), "%s/d", dir);
    snprintf(procx, sizeof(procx), "/proc/%d/cwd/x", getpid());
    pid_t watcher = fork();
    if (watcher == 0) {
        pin(1);
        struct stat st;
        for (;;)
            stat(procx, &st);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, prober, NULL)) {
        perror("pthread_create");
        return 1;
    }
    pin(0);
    int fails = 0;
    for (int r = 0; r < rounds; r++) {
        if (mkdir(d, 0755) || chdir(d) || rmdir(d)) {
            perror("mkdir, chdir, rmdir");
            fails++;
            break;
        }
        drop_caches();
        if (chdir(dir)) {
            perror("chdir out");
            fails++;
            break;
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    kill(watcher, SIGKILL);
    waitpid(watcher, NULL, 0);
    printf("cwdgone: %d rounds, %d failed, %ld stats of x found it\n", rounds, fails, found);
    printf("cwdgone done\n");
    return 0;
}
