/* fschurn: several processes create, write, unlink and read back files at
 * once while another process holds most of the machine's memory, so the
 * buffer cache cannot grow and must evict - writing dirty file data back
 * in batches while other processes commit, evict and wait for the disk.
 *
 * Each child writes files of its own, 1 to 48 KiB with a pattern that
 * names the file, unlinks every third one, then reads every survivor back.
 * The parent prints
 *
 *     children: N ok
 *     files intact: yes
 *
 * or what went wrong. A kernel that loses track of a buffer being written
 * back stalls here (the buffer stays busy for ever) or writes one file's
 * bytes into another's blocks.
 *
 * Usage: fschurn DIR HOG_MB CHILDREN FILES */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char buf[48 * 1024], back[48 * 1024];

static size_t fill(int c, int i)
{
    size_t n = (size_t)((i * 7919 + c * 31) % 48 + 1) * 1024;
    for (size_t k = 0; k < n; k++)
        buf[k] = (unsigned char)(c * 131 + i * 17 + k / 512);
    return n;
}

/* What a wrong read looked like: the first and last bad byte, whose
 * pattern the bad bytes carry (file c2-i2's, zeros, or none), and whether
 * reading the file again into fresh memory gives the right bytes (then
 * the first read or this process's memory went wrong, not the disk). */
static void explain(int c, int i, const char *path, size_t n, ssize_t got)
{
    size_t first = n, last = 0;
    for (size_t k = 0; k < (got > 0 ? (size_t)got : 0) && k < n; k++)
        if (buf[k] != back[k]) {
            if (first == n)
                first = k;
            last = k;
        }
    if (first == n) {
        printf("  no byte differs in the %zd read\n", got);
        return;
    }
    printf("  bytes %zu..%zu differ (block-aligned run: %zu..%zu of 1 KiB units); at %zu: want 0x%02x got 0x%02x\n",
           first, last, first / 1024, last / 1024, first, buf[first], back[first]);
    int zeros = 1;
    for (size_t k = first; k <= last && zeros; k++)
        zeros = back[k] == 0;
    printf("  the bad bytes are %s\n", zeros ? "all zero" : "not all zero");
    for (int c2 = 0; c2 < 8 && !zeros; c2++)
        for (int i2 = 0; i2 < 400; i2++) {
            size_t k0 = first & ~(size_t)511;
            unsigned char want0 = (unsigned char)(c2 * 131 + i2 * 17 + k0 / 512);
            unsigned char want1 = (unsigned char)(c2 * 131 + i2 * 17 + (k0 + 512) / 512);
            if (back[k0] == want0 && (k0 + 512 >= sizeof(back) || back[k0 + 512] == want1))
                printf("  bad bytes carry the pattern of c%d-%d at the same offset\n", c2, i2);
        }
    static unsigned char again[48 * 1024];
    int fd = open(path, O_RDONLY);
    ssize_t got2 = fd < 0 ? -1 : pread(fd, again, sizeof(again), 0);
    if (fd >= 0)
        close(fd);
    printf("  a second read gives %zd bytes, %s\n", got2,
           got2 == (ssize_t)n && !memcmp(again, buf, n) ? "right" :
           got2 == got && !memcmp(again, back, n) ? "the same wrong bytes" : "other wrong bytes");
    unsigned char *fresh = malloc(n);
    if (fresh) {
        memcpy(fresh, buf, n);
        fill(c, i);
        printf("  the expected pattern recomputed %s\n", memcmp(fresh, buf, n) ? "differs (buf changed)" : "is the same");
        free(fresh);
    }
}

static int child(const char *dir, int c, int files)
{
    char path[256];
    for (int i = 0; i < files; i++) {
        snprintf(path, sizeof(path), "%s/c%d-%d", dir, c, i);
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0) {
            printf("child %d: open %s: %s\n", c, path, strerror(errno));
            return 1;
        }
        size_t n = fill(c, i);
        for (size_t off = 0; off < n; off += 4096) {        /* several writes each */
            size_t part = n - off < 4096 ? n - off : 4096;
            if (write(fd, buf + off, part) != (ssize_t)part) {
                printf("child %d: write %s: %s\n", c, path, strerror(errno));
                return 1;
            }
        }
        close(fd);
        if (i % 3 == 2) {
            snprintf(path, sizeof(path), "%s/c%d-%d", dir, c, i - 1);
            unlink(path);
        }
    }
    for (int i = 0; i < files; i++) {
        if (i % 3 == 1 && i + 1 < files)
            continue;                                       /* unlinked */
        snprintf(path, sizeof(path), "%s/c%d-%d", dir, c, i);
        int fd = open(path, O_RDONLY);
        size_t n = fill(c, i);
        ssize_t got = fd < 0 ? -1 : read(fd, back, sizeof(back));
        if (fd >= 0)
            close(fd);
        if (got != (ssize_t)n || memcmp(buf, back, n) != 0) {
            printf("child %d: %s reads back wrong (%zd of %zu bytes)\n", c, path, got, n);
            explain(c, i, path, n, got);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: fschurn DIR HOG_MB CHILDREN FILES\n");
        return 2;
    }
    const char *dir = argv[1];
    size_t hog = (size_t)atol(argv[2]) << 20;
    int children = atoi(argv[3]), files = atoi(argv[4]);
    char *p = mmap(NULL, hog, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < hog; i += 4096)
        p[i] = 1;                                           /* really held */
    for (int c = 0; c < children; c++)
        if (fork() == 0)
            _exit(child(dir, c, files));
    int ok = 0, st;
    while (wait(&st) > 0)
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    sync();
    printf("children: %d ok\n", ok);
    printf("files intact: %s\n", ok == children ? "yes" : "no");
    return ok == children ? 0 : 1;
}
