/* madvremove.c - madvise(MADV_REMOVE) (tests/test_mmap_file.py runs it on
 * Vigil and on the host Linux and compares every line).
 *
 * MADV_REMOVE gives back the pages of a shared, writable mapping of memory
 * that belongs to a file (shared anonymous memory, a memfd): afterwards
 * the range reads as zeros in every mapping of it, the parent's and a
 * forked child's, and through the file; the pages around it keep their
 * bytes and the file keeps its size. Then the calls Linux refuses, each
 * with its errno: private or read-only mappings, a locked region, an
 * unaligned start, a range with a hole in it, a write-sealed memfd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

#define PG 4096

/* Each page's first byte, then whether the rest of the page agrees. */
static void show(const char *what, const unsigned char *p, int pages)
{
    printf("%s:", what);
    for (int i = 0; i < pages; i++) {
        int same = 1;
        for (int j = 1; j < PG; j++)
            same &= p[i * PG + j] == p[i * PG];
        printf(" %02x%s", p[i * PG], same ? "" : "(mixed)");
    }
    printf("\n");
}

static const char *res(int r) { return r ? ename(errno) : "0"; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);

    /* Shared anonymous memory: a child removes the middle two pages. */
    unsigned char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4; i++)
        memset(s + i * PG, 'a' + i, PG);
    pid_t c = fork();
    if (c == 0)
        _exit(madvise(s + PG, 2 * PG, MADV_REMOVE) ? 1 : 0);
    int st;
    waitpid(c, &st, 0);
    printf("shared anon, removed by a child: %s\n", WIFEXITED(st) && !WEXITSTATUS(st) ? "0" : "failed");
    show("  the parent reads", s, 4);
    s[PG] = 'x';                                /* the page comes back, writable */
    show("  written again", s, 4);

    /* A memfd mapped shared: the file reads zeros there too, same size. */
    int fd = memfd_create("madvremove", MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 3 * PG)) {
        printf("memfd: %s\n", ename(errno));
        return 1;
    }
    unsigned char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memset(m, 'm', 3 * PG);
    printf("memfd shared: %s\n", res(madvise(m + PG, PG, MADV_REMOVE)));
    show("  the mapping reads", m, 3);
    unsigned char buf[3 * PG];
    printf("  pread: %zd bytes\n", pread(fd, buf, sizeof(buf), 0));
    show("  the file reads", buf, 3);
    struct stat sb;
    fstat(fd, &sb);
    printf("  size %lld\n", (long long)sb.st_size);

    /* A second mapping at an offset: the file offset is the mapping's. */
    unsigned char *m2 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PG);
    memset(m + 2 * PG, 'n', PG);
    printf("memfd at offset 2 pages: %s\n", res(madvise(m2, PG, MADV_REMOVE)));
    show("  the first mapping reads", m, 3);

    /* What Linux refuses. */
    unsigned char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    printf("private anon: %s\n", res(madvise(p, PG, MADV_REMOVE)));
    unsigned char *pm = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("memfd private: %s\n", res(madvise(pm, PG, MADV_REMOVE)));
    unsigned char *ro = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    printf("memfd shared read-only: %s\n", res(madvise(ro, PG, MADV_REMOVE)));
    unsigned char *sr = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("shared anon read-only: %s\n", res(madvise(sr, PG, MADV_REMOVE)));
    printf("unaligned: %s\n", res(madvise(s + 1, PG, MADV_REMOVE)));
    printf("zero length: %s\n", res(madvise(s, 0, MADV_REMOVE)));
    munmap(s + 2 * PG, PG);                     /* a hole in the middle */
    printf("range with a hole: %s\n", res(madvise(s, 4 * PG, MADV_REMOVE)));
    show("  after it, page 0", s, 1);
    printf("unmapped: %s\n", res(madvise(s + 2 * PG, PG, MADV_REMOVE)));
    unsigned char *lk = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("mlock: %s\n", res(mlock(lk, PG)));
    printf("locked: %s\n", res(madvise(lk, PG, MADV_REMOVE)));

    /* A write-sealed memfd: the pages are not anyone's to give back. */
    munmap(m, 3 * PG);
    munmap(m2, PG);
    munmap(ro, PG);
    munmap(pm, PG);
    int fd2 = memfd_create("sealed", MFD_ALLOW_SEALING);
    ftruncate(fd2, PG);
    unsigned char *w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
    w[0] = 'w';
    printf("seal FUTURE_WRITE: %s\n", res(fcntl(fd2, F_ADD_SEALS, F_SEAL_FUTURE_WRITE)));
    printf("sealed: %s\n", res(madvise(w, PG, MADV_REMOVE)));
    printf("  still reads %c\n", w[0]);
    printf("madvremove done\n");
    return 0;
}
