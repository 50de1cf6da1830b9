/* fuzzrun SEED OPS CHILDREN [WARMUP [TRINITY-ARGS...]] - run Debian's trinity on Vigil as an
 * unprivileged user, and report what the kernel's memory looked like before
 * and after.
 *
 * Why a wrapper: trinity refuses to run as root without --dangerous (root's
 * syscalls can wreck the machine in ways that say nothing about the kernel:
 * reboot, umount /, kill -1), and the point is what an ordinary user can do
 * to the kernel. init runs us as root, so we drop to nobody (65534) in the
 * child that execs trinity, in a scratch directory of its own on /tmp (its
 * test files go there). The leak check needs root's view of /proc/meminfo
 * and a sync, so it stays here.
 *
 * The run:
 *   1. warm-up: trinity for WARMUP ops (default 2000) with the same seed, so
 *      the page cache holds trinity's binary and libc, /proc and /sys have
 *      been walked once, and the heap's size classes have their pages;
 *   2. snapshot (storm.c's counters: meminfo.h; the page and buffer
 *      caches' frames count as free);
 *   3. trinity -q -l off --disable-fds=sockets -s SEED -N OPS -C CHILDREN
 *      (its default syscall set), its output straight to
 *      the console (progress lines), timed (TRINITY-ARGS, if any, replace
 *      -q: -v, -c NAME... to chase a finding);
 *   4. every process of nobody's is gone (trinity's children may outlive
 *      it for a moment), its directory removed, and its System V IPC
 *      objects (trinity makes shared memory segments at start-up and
 *      fuzzes msgget/semget/shmget: they outlive their makers by design,
 *      as on Linux, so they are nobody's leftovers, not the kernel's
 *      leaks), its POSIX message queues (the same, found through the
 *      mqueue file system) and its files in /dev/shm (a tmpfs anyone may
 *      write: a file there lives in the kernel heap until removed), sync,
 *      snapshot.
 * Prints "fuzzrun: ..." lines the harness (harness/fuzz.py) parses:
 *   fuzzrun: trinity exit status N | killed by signal N
 *   fuzzrun: ops N seconds S.SSS
 *   free frames before F after F / heap bytes ... / heap objects ... */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "meminfo.h"

#define NOBODY 65534
#define TRINITY "/usr/bin/trinity"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

/* Processes whose real uid is nobody's, counted from /proc/N/status. */
static int nobody_left(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], line[128];
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
            if (!strncmp(line, "Uid:", 4) && atoi(line + 4) == NOBODY)
                n++;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/* Kill whatever nobody still runs (as nobody: kill(-1) reaches only its own). */
static void kill_nobodies(void)
{
    for (int tries = 0; tries < 200 && nobody_left(); tries++) {
        pid_t k = fork();
        if (k == 0) {
            if (setgid(NOBODY) || setuid(NOBODY))
                _exit(1);
            kill(-1, SIGKILL);
            _exit(0);
        }
        waitpid(k, NULL, 0);
        usleep(20000);
    }
}

/* Remove every System V message queue, semaphore set and shared memory
 * segment nobody created or owns: the highest index in use from *_INFO,
 * then *_STAT on each index (root may look at any) gives its id and
 * owner. Returns how many went. */
static int remove_nobodys_ipc(void)
{
    int n = 0;
    struct msginfo mi;
    int top = msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&mi);
    for (int i = 0; i <= top; i++) {
        struct msqid_ds d;
        int id = msgctl(i, MSG_STAT, &d);
        if (id >= 0 && (d.msg_perm.uid == NOBODY || d.msg_perm.cuid == NOBODY))
            n += msgctl(id, IPC_RMID, NULL) == 0;
    }
    struct seminfo si;
    top = semctl(0, 0, SEM_INFO, &si);
    for (int i = 0; i <= top; i++) {
        struct semid_ds d;
        int id = semctl(i, 0, SEM_STAT, &d);
        if (id >= 0 && (d.sem_perm.uid == NOBODY || d.sem_perm.cuid == NOBODY))
            n += semctl(id, 0, IPC_RMID) == 0;
    }
    struct shm_info hi;
    top = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&hi);
    for (int i = 0; i <= top; i++) {
        struct shmid_ds d;
        int id = shmctl(i, SHM_STAT, &d);
        if (id >= 0 && (d.shm_perm.uid == NOBODY || d.shm_perm.cuid == NOBODY))
            n += shmctl(id, IPC_RMID, NULL) == 0;
    }
    return n;
}

/* POSIX message queues outlive their makers by design, as on Linux:
 * nobody's are leftovers, not leaks. The mqueue file system lists them;
 * with remove, nobody's go (counted in mq_removed). Returns how many
 * named queues are left, or -1 if the file system could not be mounted.
 * (A queue unlinked but still open dies with its last descriptor, when
 * nobody's processes do.) */
#define MQDIR "/tmp/fuzzrun.mq"
static int mq_removed;

static long mqueues(int remove)
{
    mkdir(MQDIR, 0700);
    if (mount("none", MQDIR, "mqueue", 0, NULL))
        return -1;
    long left = 0;
    DIR *d = opendir(MQDIR);
    struct dirent *e;
    char path[300];
    struct stat st;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), MQDIR "/%s", e->d_name);
        if (remove && !stat(path, &st) && st.st_uid == NOBODY && !unlink(path))
            mq_removed++;
        else
            left++;
    }
    if (d)
        closedir(d);
    umount(MQDIR);
    rmdir(MQDIR);
    return left;
}

/* trinity as nobody in DIR; returns its wait status, or -1. */
/* Frames the page and buffer caches hold (/proc/meminfo's Buffers and
 * Cached): trinity reads files the warm-up did not, and a cached page is
 * the cache's to keep or reclaim, not a leak. They count as free. */
static long cache_frames(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[160];
    long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "Buffers:", 8) || !strncmp(line, "Cached:", 7))
            kb += atol(strchr(line, ':') + 1);
    if (f)
        fclose(f);
    return kb / 4;
}

static void snapshot(struct snap *s)
{
    take(s);
    s->frames += cache_frames();
}

static char **extra;             /* TRINITY-ARGS (NULL-terminated), or NULL */

static int trinity(const char *dir, const char *seed, long ops, const char *children, int quiet)
{
    char nops[32];
    snprintf(nops, sizeof(nops), "-N%ld", ops);
    char sarg[48];
    snprintf(sarg, sizeof(sarg), "-s%s", seed);
    char carg[32];
    snprintf(carg, sizeof(carg), "-C%s", children);
    pid_t pid = fork();
    if (pid == 0) {
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        gid_t g = NOBODY;
        if (setgroups(1, &g) || setgid(NOBODY) || setuid(NOBODY) || chdir(dir)) {
            perror("fuzzrun: dropping to nobody");
            _exit(126);
        }
        /* --disable-fds=sockets: Vigil has no sockets (socket(2) is ENOSYS),
         * and trinity's socket provider then spends minutes of TCG time
         * trying every family before the first syscall. The syscall set
         * is trinity's default either way. */
        char *av[64] = { TRINITY, "-l", "off", "--disable-fds=sockets", sarg, nops, carg, "-q",
                         NULL };
        for (int i = 0; extra && extra[i] && i < 55; i++)
            av[7 + i] = extra[i], av[8 + i] = NULL;
        char *env[] = { "PATH=/usr/bin:/bin", "HOME=/tmp", "TERM=dumb", NULL };
        execve(av[0], av, env);
        perror(TRINITY);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static void scratch(char *dir, size_t len, int n)
{
    snprintf(dir, len, "/tmp/fuzz.%d", n);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(dir, 0755) || chown(dir, NOBODY, NOBODY)) {
        perror(dir);
        exit(1);
    }
}

static int ipc_removed, shm_removed;

/* What nobody left in /dev/shm (trinity's pathnames come from /dev too). */
static int rm_nobodys(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    if (ftw->level > 0 && st->st_uid == NOBODY && !remove(path))
        shm_removed++;
    return 0;
}

static void cleanup(const char *dir)
{
    kill_nobodies();
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    ipc_removed = remove_nobodys_ipc();
    shm_removed = 0;
    nftw("/dev/shm", rm_nobodys, 16, FTW_DEPTH | FTW_PHYS);
}

/* The blocks allocated during the run and still held, by allocation site:
 * a leak's suspects (the rest are objects that replaced freed ones). */
static void held_since_mark(void)
{
    FILE *f = fopen("/proc/vigil/kheap", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f))
        printf("fuzzrun: held: %s", line);
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fuzzrun SEED OPS CHILDREN [WARMUP]\n");
        return 2;
    }
    long ops = atol(argv[2]);
    long warm = argc > 4 ? atol(argv[4]) : 2000;
    extra = argc > 5 ? argv + 5 : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[64];
    if (warm > 0) {
        scratch(dir, sizeof(dir), 0);
        trinity(dir, argv[1], warm, argv[3], 1);
        cleanup(dir);
        /* The warm-up's message queues too: one left here was removed
         * with the run's leftovers, inside the measured window (seed 387:
         * the heap one 512-byte block smaller after than before). */
        mqueues(1);
        mq_removed = 0;
    }
    struct snap before, after;
    /* Vigil's heap tracer records who allocates and frees from here on,
     * and freed blocks wait in quarantine, so that a use after free meets
     * poison and its crash report names the freer (Linux has no such
     * file: nothing happens there). */
    int mark = open("/proc/vigil/kheap", O_WRONLY);
    if (mark >= 0) {
        if (write(mark, "mark", 4) != 4 || write(mark, "quarantine", 10) != 10)
            printf("fuzzrun: the heap tracer did not start: %s\n", strerror(errno));
        close(mark);
    }
    /* The first clock read maps the vDSO's pages (and their page tables)
     * into this process: before the baseline, not inside it. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long mq_before = mqueues(0);
    snapshot(&before);
    sync();
    snapshot(&before);
    scratch(dir, sizeof(dir), 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int st = trinity(dir, argv[1], ops, argv[3], 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cleanup(dir);
    long mq_after = mqueues(1);
    sync();
    snapshot(&after);
    if (st < 0)
        printf("fuzzrun: trinity did not run: %s\n", strerror(errno));
    else if (WIFEXITED(st))
        printf("fuzzrun: trinity exit status %d\n", WEXITSTATUS(st));
    else
        printf("fuzzrun: trinity killed by signal %d\n", WTERMSIG(st));
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("fuzzrun: ops %ld seconds %.3f\n", ops, secs);
    printf("fuzzrun: processes of nobody left %d\n", nobody_left());
    printf("fuzzrun: System V IPC objects of nobody's removed %d\n", ipc_removed);
    printf("fuzzrun: files of nobody's removed from /dev/shm %d\n", shm_removed);
    printf("fuzzrun: POSIX message queues of nobody's removed %d; named queues before %ld after %ld\n",
           mq_removed, mq_before, mq_after);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    if (strcmp(before.objects, after.objects))
        held_since_mark();
    return 0;
}
