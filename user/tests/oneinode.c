/* oneinode.c - two processes that open one file at the same moment get
 * one inode (tests/test_ext2.py runs it on a fresh ext3 disk, 2 CPUs).
 *
 * ext2 reads an inode from its table only when nobody holds it; that read
 * sleeps on the disk, and a second lookup of the same file may come
 * meanwhile. Both must end with the same in-memory inode: with two, each
 * keeps its own size, link count and block map, so a write through one is
 * not seen through the other, and the second one's write-back undoes the
 * first one's (a freed inode comes back). So each round, with the caches
 * dropped (sync, then /proc/sys/vm/drop_caches) and nobody holding the
 * files, two children, each on a CPU of its own and released by each
 * other, open the same files of a directory of 256 in the same order: the
 * first open sleeps reading the directory, the second waits for that
 * block and comes to the first file's inode while the other sleeps
 * reading the inode table (measured: every round with the fix, the
 * second lookup found the inode read in meanwhile; the readahead brings
 * the later files' inodes with the first). Then one appends a
 * byte to each file and the other looks at each size through its own
 * descriptor. A size that differs is a file they got two inodes of.
 *
 *   oneinode DIR ROUNDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NFILES 16         /* f0, f16, ... f240, of 256 in the directory */
#define SPACING 16

struct shared {
    volatile int ready, opened, appended;
    volatile long size_a[NFILES];
};

static void spin_until(volatile int *v, int want)
{
    while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want)
        ;
}

/* Child a (appends) or b (looks): 0, or how many files b saw at another
 * size than a left them (100 on an error). */
static int child(struct shared *s, int appender)
{
    /* Each on a CPU of its own, released by each other, not by the
     * parent: the two leave this line together. */
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(appender ? 0 : 1, &cpus);
    if (sched_setaffinity(0, sizeof(cpus), &cpus))
        perror("sched_setaffinity");
    __atomic_add_fetch(&s->ready, 1, __ATOMIC_ACQ_REL);
    spin_until(&s->ready, 2);
    int fd[NFILES];
    for (int i = 0; i < NFILES; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i * SPACING);
        if ((fd[i] = open(name, O_RDWR | O_APPEND)) < 0) {
            perror(name);
            return 100;
        }
    }
    __atomic_add_fetch(&s->opened, 1, __ATOMIC_ACQ_REL);
    spin_until(&s->opened, 2);
    struct stat st;
    if (appender) {
        for (int i = 0; i < NFILES; i++) {
            if (write(fd[i], "x", 1) != 1 || fstat(fd[i], &st)) {
                perror("append");
                return 100;
            }
            s->size_a[i] = st.st_size;
        }
        __atomic_store_n(&s->appended, 1, __ATOMIC_RELEASE);
        return 0;
    }
    spin_until(&s->appended, 1);
    int split = 0;
    for (int i = 0; i < NFILES; i++) {
        if (fstat(fd[i], &st)) {
            perror("fstat");
            return 100;
        }
        if (st.st_size != s->size_a[i]) {
            printf("two inodes: f%d: the appender sees size %ld, the other %ld\n", i * SPACING, s->size_a[i],
                   (long)st.st_size);
            split++;
        }
    }
    return split;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/scratch";
    int rounds = argc > 2 ? atoi(argv[2]) : 100;
    if (chdir(dir)) {
        perror(dir);
        return 1;
    }
    for (int i = 0; i < NFILES * SPACING; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        int fd = open(name, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0 || close(fd)) {
            perror(name);
            return 1;
        }
    }
    struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* drop_caches' own promises (Linux's): 1 to 4 or EINVAL; not readable,
     * not even by root; only root may write it. */
    const char *bad[] = { "0", "5", "-1", "x" };
    for (int i = 0; i < 4; i++) {
        int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
        errno = 0;
        long w = dc < 0 ? -2 : write(dc, bad[i], strlen(bad[i]));
        printf("drop_caches %s: %s\n", bad[i], w < 0 ? strerror(errno) : "accepted");
        close(dc);
    }
    int rd = open("/proc/sys/vm/drop_caches", O_RDONLY);
    char c;
    errno = 0;
    printf("drop_caches read: %s\n", rd < 0 || read(rd, &c, 1) < 0 ? strerror(errno) : "read");
    close(rd);
    pid_t nobody = fork();
    if (nobody == 0) {
        if (setuid(65534))
            _exit(1);
        errno = 0;
        printf("drop_caches by nobody: %s\n",
               open("/proc/sys/vm/drop_caches", O_WRONLY) < 0 ? strerror(errno) : "opened");
        _exit(0);
    }
    waitpid(nobody, NULL, 0);
    int quiet = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (quiet < 0 || write(quiet, "4", 1) != 1)     /* no console line per round */
        perror("drop_caches 4");
    close(quiet);
    int split = 0, broken = 0;
    for (int r = 0; r < rounds; r++) {
        sync();
        int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
        if (dc < 0 || write(dc, "1", 1) != 1) {
            perror("drop_caches");
            return 1;
        }
        close(dc);
        *s = (struct shared){ 0 };
        pid_t pid[2];
        for (int k = 0; k < 2; k++)
            if ((pid[k] = fork()) == 0)
                _exit(child(s, k == 0));
        for (int k = 0; k < 2; k++) {
            int status;
            if (waitpid(pid[k], &status, 0) != pid[k] || !WIFEXITED(status) || WEXITSTATUS(status) >= 100)
                broken++;
            else
                split += WEXITSTATUS(status);
        }
    }
    long total = 0;
    for (int i = 0; i < NFILES; i++) {
        char name[16];
        struct stat st;
        snprintf(name, sizeof(name), "f%d", i * SPACING);
        if (stat(name, &st))
            perror(name);
        else
            total += st.st_size;
    }
    printf("oneinode: %d rounds of %d files, %d opened twice over, %d children failed; the files hold %ld "
           "bytes\n", rounds, NFILES, split, broken, total);
    printf("oneinode done\n");
    return 0;
}
