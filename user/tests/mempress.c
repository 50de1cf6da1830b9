/* mempress: memory as a resource, on a small machine (mem=128M). Modes:
 *   mkfile PATH MB   (on the host) a file of MB MiB whose every 8-byte word
 *                    is its own offset xor PAT: any page out of place or
 *                    stale shows
 *   reclaim MNT      mount /dev/vda on MNT; write a pattern through a
 *                    MAP_SHARED mapping of a small file (dirty pages); map
 *                    MNT/big (larger than RAM) and read every word, twice,
 *                    with anonymous memory taken and given back in between;
 *                    /proc/meminfo's Cached at each step; then the shared
 *                    pages read back (what was written, not the file's old
 *                    zeros)
 *   oom ADJ          a worker fills a third of free memory, then a hog with
 *                    oom_score_adj ADJ allocates: without end (ADJ 0: the
 *                    OOM killer must end the hog, the bigger), or a bounded
 *                    amount that fits only if the worker goes (ADJ -1000:
 *                    the worker, the smaller, must be the victim); this
 *                    process (the "shell") goes on and reports
 *   adjbad           /proc/self/oom_score_adj's bad inputs and rules
 *   swap MNT MB      mount /dev/vda on MNT; swapon's bad inputs; swapon
 *                    MNT/swapfile (made by mkswap); MB MiB of anonymous
 *                    memory written with a pattern, read back, read by a
 *                    forked child (swap slots shared; every 8th page), read
 *                    again; the swap figures at each step; swapoff (ENOMEM
 *                    while the pages do not fit), every 8th page again */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG   4096ul
#define MiB  (1ul << 20)
#define PAT  0x5a17c0de00000000ull

static long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[160];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, k) && line[k] == ':')
            v = atol(line + k + 1);
    if (f)
        fclose(f);
    return v;                               /* kB */
}

static int mkfile(const char *p, long mb)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return perror("open"), 1;
    static uint64_t buf[MiB / 8];
    for (long m = 0; m < mb; m++) {
        for (size_t i = 0; i < MiB / 8; i++)
            buf[i] = (m * MiB + i * 8) ^ PAT;
        if (write(fd, buf, MiB) != (ssize_t)MiB)
            return perror("write"), 1;
    }
    return close(fd);
}

/* Pages of [p, p+len) of the big file whose words are not their offsets. */
static long bad_pages(const uint64_t *p, size_t len)
{
    long bad = 0;
    for (size_t pg = 0; pg < len / PG; pg++) {
        const uint64_t *w = p + pg * (PG / 8);
        for (size_t i = 0; i < PG / 8; i++)
            if (w[i] != ((pg * PG + i * 8) ^ PAT)) {
                bad++;
                break;
            }
    }
    return bad;
}

static int reclaim(const char *mnt)
{
    char big[256], small[256];
    printf("mount: %s\n", mount("/dev/vda", mnt, "ext3", 0, NULL) ? strerror(errno) : "0");
    snprintf(big, sizeof(big), "%s/big", mnt);
    snprintf(small, sizeof(small), "%s/dirty", mnt);

    /* Dirty pages: written through a shared mapping, never written back
     * before the pressure (no msync): only the page cache has them. */
    const size_t dlen = 256 * PG;
    int dfd = open(small, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (dfd < 0 || ftruncate(dfd, (off_t)dlen))
        return perror("dirty file"), 1;
    uint8_t *d = mmap(NULL, dlen, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
    if (d == MAP_FAILED)
        return perror("mmap dirty"), 1;
    for (size_t i = 0; i < dlen; i++)
        d[i] = (uint8_t)(i / PG + 1);

    int fd = open(big, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st))
        return perror(big), 1;
    size_t len = (size_t)st.st_size;
    const uint64_t *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return perror("mmap big"), 1;
    printf("file: %zu MiB, MemTotal %ld kB, MemFree %ld kB, Cached %ld kB\n", len / MiB,
           meminfo("MemTotal"), meminfo("MemFree"), meminfo("Cached"));
    fflush(stdout);

    long bad1 = bad_pages(p, len);
    long cached1 = meminfo("Cached");
    printf("pass 1: %ld bad pages, Cached %ld kB\n", bad1, cached1);
    fflush(stdout);

    /* Anonymous memory for all but a margin of what is free or cached:
     * the cache has to give its pages up. */
    size_t anon = (size_t)(meminfo("MemFree") + cached1 - 16 * 1024) * 1024;
    uint8_t *a = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return perror("mmap anon"), 1;
    for (size_t i = 0; i < anon; i += PG)
        a[i] = (uint8_t)(i / PG * 7 + 1);
    long anon_bad = 0;
    for (size_t i = 0; i < anon; i += PG)
        anon_bad += a[i] != (uint8_t)(i / PG * 7 + 1);
    long cached2 = meminfo("Cached");
    printf("anonymous %zu MiB: %ld bad pages, Cached %ld kB\n", anon / MiB, anon_bad, cached2);
    munmap(a, anon);
    fflush(stdout);

    long bad2 = bad_pages(p, len);
    long cached3 = meminfo("Cached");
    printf("pass 2: %ld bad pages, Cached %ld kB\n", bad2, cached3);

    long stale = 0;
    for (size_t pg = 0; pg < dlen / PG; pg++)
        for (size_t i = 0; i < PG; i++)
            if (d[pg * PG + i] != (uint8_t)(pg + 1)) {
                stale++;
                break;
            }
    printf("shared pages written before the pressure read back as old data: %ld of %zu\n",
           stale, dlen / PG);
    printf("vmstat: reclaimed %ld\n", meminfo("VigilReclaimed"));
    munmap((void *)p, len);
    munmap(d, dlen);
    close(fd);
    close(dfd);
    printf("umount: %s\n", umount(mnt) ? strerror(errno) : "0");
    return 0;
}

static int set_adj(const char *v)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd < 0)
        return -errno;
    ssize_t r = write(fd, v, strlen(v));
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}

static const char *en(int r)
{
    return r == 0 ? "0" : r == -EINVAL ? "EINVAL" : r == -EACCES ? "EACCES" : r == -EPERM ? "EPERM"
                                                                                      : strerror(-r);
}

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f && fscanf(f, "%ld", &v) != 1)
        v = -1;
    if (f)
        fclose(f);
    return v;
}

static int adjbad(void)
{
    printf("oom_score_adj 1001: %s\n", en(set_adj("1001")));
    printf("oom_score_adj -1001: %s\n", en(set_adj("-1001")));
    printf("oom_score_adj abc: %s\n", en(set_adj("abc")));
    printf("oom_score_adj 500: %s\n", en(set_adj("500")));
    printf("reads back: %ld\n", read_long("/proc/self/oom_score_adj"));
    printf("oom_score in range: %s\n",
           read_long("/proc/self/oom_score") >= 0 && read_long("/proc/self/oom_score") <= 2000
               ? "yes" : "no");
    pid_t c = fork();
    if (c == 0) {
        if (setuid(1000))
            _exit(2);
        printf("uid 1000 raises to 600: %s\n", en(set_adj("600")));
        printf("uid 1000 lowers to 0: %s\n", en(set_adj("0")));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("root lowers to -1000: %s\n", en(set_adj("-1000")));
    printf("oom_score exempt: %ld\n", read_long("/proc/self/oom_score"));
    return 0;
}

/* Fill [p, p+len) with its pattern (tag: whose); count pages not holding it. */
static void fill(uint8_t *p, size_t len, uint8_t tag)
{
    for (size_t i = 0; i < len; i += PG)
        memset(p + i, (uint8_t)(tag + i / PG), 64);
}

static long check(const uint8_t *p, size_t len, uint8_t tag)
{
    long bad = 0;
    for (size_t i = 0; i < len; i += PG)
        for (size_t j = 0; j < 64; j++)
            if (p[i + j] != (uint8_t)(tag + i / PG)) {
                bad++;
                break;
            }
    return bad;
}

static void describe(const char *who, int st)
{
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", who, WTERMSIG(st));
    else
        printf("%s: exit %d\n", who, WEXITSTATUS(st));
}

static int oom(const char *adj)
{
    signal(SIGPIPE, SIG_IGN);               /* the worker may be gone when told to go on */
    long free_kb = meminfo("MemFree");
    size_t wlen = (size_t)free_kb / 3 * 1024 & ~(PG - 1);
    int ready[2], go[2];
    if (pipe(ready) || pipe(go))
        return perror("pipe"), 1;
    printf("free %ld kB; worker %zu MiB\n", free_kb, wlen / MiB);
    fflush(stdout);
    pid_t w = fork();
    if (w == 0) {
        prctl(PR_SET_NAME, "memworker");
        uint8_t *p = mmap(NULL, wlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(3);
        fill(p, wlen, 0x11);
        char c = 1;
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(4);
        long bad = check(p, wlen, 0x11);
        printf("worker: %zu MiB checked, %ld bad pages\n", wlen / MiB, bad);
        fflush(stdout);
        _exit(bad ? 1 : 0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return printf("worker never got ready\n"), 1;
    bool bounded = strcmp(adj, "0") != 0;
    /* Bounded: more than is free beside the worker, less than is free
     * without it. */
    size_t hlen = bounded ? (size_t)(free_kb - (long)wlen / 1024 / 2 - 12 * 1024) * 1024 & ~(PG - 1)
                          : SIZE_MAX;
    pid_t h = fork();
    if (h == 0) {
        prctl(PR_SET_NAME, "memhog");
        if (set_adj(adj))
            _exit(5);
        size_t done = 0;
        uint8_t *chunks[4096];
        int n = 0;
        while (done < hlen && n < 4096) {
            size_t len = 4 * MiB;
            uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                break;
            fill(p, len, (uint8_t)n);
            chunks[n++] = p;
            done += len;
        }
        long bad = 0;
        for (int i = 0; i < n; i++)
            bad += check(chunks[i], 4 * MiB, (uint8_t)i);
        printf("hog: %zu MiB checked, %ld bad pages\n", done / MiB, bad);
        fflush(stdout);
        _exit(bad ? 1 : 0);
    }
    int hs, ws;
    waitpid(h, &hs, 0);
    describe("hog", hs);
    fflush(stdout);
    c = 1;
    if (write(go[1], &c, 1) != 1)
        printf("worker gone before go\n");
    waitpid(w, &ws, 0);
    describe("worker", ws);
    /* The shell's part: it still runs programs. */
    pid_t e = fork();
    if (e == 0) {
        execl("/bin/hello", "hello", (char *)NULL);
        _exit(127);
    }
    int es;
    waitpid(e, &es, 0);
    describe("a program run afterwards", es);
    printf("shell: still here, MemFree %ld kB\n", meminfo("MemFree"));
    return 0;
}


static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[160];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, k) && line[k] == ':')
            v = atol(line + k + 1);
    if (f)
        fclose(f);
    return v;
}

static long vmstat(const char *key)
{
    FILE *f = fopen("/proc/vmstat", "r");
    char line[160];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, k) && line[k] == ' ')
            v = atol(line + k + 1);
    if (f)
        fclose(f);
    return v;
}

/* VmSwap of every process: what the swap area's used slots must add up to
 * (no slot is shared after fork at the moments this is called). */
static long all_vmswap(void)
{
    long sum = 0;
    for (int pid = 1; pid < 4096; pid++) {
        char path[64], line[160];
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
            if (!strncmp(line, "VmSwap:", 7))
                sum += atol(line + 7);
        if (f)
            fclose(f);
    }
    return sum;
}

static void figures(const char *when)
{
    /* Reading the figures may itself fault pages in and push others out:
     * take them again until the swap in use is the same before and after
     * the processes' VmSwap are summed (a snapshot). */
    long total, free, all;
    for (int i = 0; i < 20; i++) {
        total = meminfo("SwapTotal"), free = meminfo("SwapFree");
        all = all_vmswap();
        if (meminfo("SwapFree") == free)
            break;
    }
    printf("%s: SwapTotal %ld kB, SwapFree %ld kB, used %ld kB, VmSwap %ld kB, all VmSwap %ld kB, "
           "VmRSS %ld kB, pswpout %ld, pswpin %ld\n", when, total, free, total - free,
           status_kb("VmSwap"), all, status_kb("VmRSS"), vmstat("pswpout"),
           vmstat("pswpin"));
    fflush(stdout);
}

/* Every step-th page of [p, p+len): pages not holding their pattern. */
static long check_words(const uint64_t *p, size_t len, size_t step)
{
    long bad = 0;
    for (size_t pg = 0; pg < len / PG; pg += step)
        for (size_t i = 0; i < PG / 8; i++)
            if (p[pg * (PG / 8) + i] != ((pg * PG + i * 8) ^ PAT)) {
                bad++;
                break;
            }
    return bad;
}

static const char *err(int r) { return r ? (errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM"
                                             : errno == EBUSY ? "EBUSY" : errno == ENOMEM ? "ENOMEM"
                                             : strerror(errno)) : "0"; }

static int swap(const char *mnt, long mb)
{
    char sw[256], notswap[256];
    printf("mount: %s\n", mount("/dev/vda", mnt, "ext3", 0, NULL) ? strerror(errno) : "0");
    snprintf(sw, sizeof(sw), "%s/swapfile", mnt);
    snprintf(notswap, sizeof(notswap), "%s/notswap", mnt);
    printf("swapon of a file mkswap did not make: %s\n", err(swapon(notswap, 0)));
    printf("swapon of a directory: %s\n", err(swapon(mnt, 0)));
    printf("swapoff of a file that is not swap: %s\n", err(swapoff(sw)));
    pid_t c = fork();
    if (c == 0) {
        if (setuid(1000))
            _exit(2);
        printf("uid 1000 swapon: %s\n", err(swapon(sw, 0)));
        printf("uid 1000 swapoff: %s\n", err(swapoff(sw)));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("swapon: %s\n", err(swapon(sw, 0)));
    printf("swapon again: %s\n", err(swapon(sw, 0)));
    FILE *f = fopen("/proc/swaps", "r");
    char line[256];
    while (f && fgets(line, sizeof(line), f))
        printf("/proc/swaps: %s", line);
    if (f)
        fclose(f);
    figures("before");

    size_t len = (size_t)mb * MiB;
    uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return perror("mmap"), 1;
    for (size_t pg = 0; pg < len / PG; pg++)
        for (size_t i = 0; i < PG / 8; i++)
            p[pg * (PG / 8) + i] = (pg * PG + i * 8) ^ PAT;
    figures("written");
    printf("read 1: %ld bad pages\n", check_words(p, len, 1));
    figures("read 1");
    c = fork();
    if (c == 0) {
        printf("child read: %ld bad pages\n", check_words(p, len, 8));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "exit 0" : "died");
    printf("read 2: %ld bad pages\n", check_words(p, len, 1));
    figures("read 2");
    printf("swapoff while the pages do not fit: %s\n", err(swapoff(sw)));
    printf("read 3: %ld bad pages\n", check_words(p, len, 8));
    munmap(p, len);
    figures("unmapped");
    printf("swapoff: %s\n", err(swapoff(sw)));
    figures("off");
    printf("umount: %s\n", umount(mnt) ? strerror(errno) : "0");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && !strcmp(argv[1], "mkfile"))
        return mkfile(argv[2], atol(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "reclaim"))
        return reclaim(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "oom"))
        return oom(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "swap"))
        return swap(argv[2], atol(argv[3]));
    if (argc == 2 && !strcmp(argv[1], "adjbad"))
        return adjbad();
    fprintf(stderr, "usage: mempress mkfile PATH MB | reclaim MNT | oom ADJ | adjbad | swap MNT MB\n");
    return 2;
}
