/* dontunmap: mremap(2)'s MREMAP_DONTUNMAP, the same steps on Vigil and on
 * the host's Linux, compared line for line.
 *
 * The promise: the pages move to the new range, contents intact, and the
 * old range stays mapped but empty - a touch there faults in a zero page
 * (anonymous memory) or the file's page again (a private file mapping),
 * never the moved data; shared memory shows the same pages at both. A
 * page a forked child still shares is not the parent's to move away from
 * it. The lock of an mlock'd range goes with the pages (VmLck is not
 * compared: Linux adds the new range's pages to locked_vm and never takes
 * the old range's off). Bad inputs get
 * Linux's errno: no MREMAP_MAYMOVE, a resize, an unaligned or overlapping
 * new address, an unmapped or too long old range.
 *
 * No addresses are printed (they differ between kernels): only contents,
 * residency (mincore) and errnos. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define PG 4096ul
#define DU (MREMAP_DONTUNMAP | MREMAP_MAYMOVE)

static char *map(size_t len, int prot, int flags, int fd)
{
    char *p = mmap(NULL, len, prot, flags, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

static char *anon(size_t pages)
{
    return map(pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

/* "1" per resident page, "0" per absent one; "ENOMEM" if unmapped. */
static const char *resident(void *p, size_t pages)
{
    static char bufs[4][64];
    static int turn;
    char *out = bufs[turn++ % 4];
    unsigned char vec[32];
    if (mincore(p, pages * PG, vec))
        return ename(errno);
    for (size_t i = 0; i < pages; i++)
        out[i] = '0' + (vec[i] & 1);
    out[pages] = 0;
    return out;
}

static char *dontunmap(void *old, size_t len, int flags, void *hint)
{
    return mremap(old, len, len, flags, hint);
}

/* The first bytes of each page, as text ("" for a zero page). */
static void show(const char *what, const char *p, size_t pages)
{
    printf("%s:", what);
    for (size_t i = 0; i < pages; i++)
        printf(" [%.8s]", p + i * PG);
    printf("\n");
}

static void anonymous(void)
{
    char *old = anon(3);
    strcpy(old, "one");
    strcpy(old + PG, "two");
    strcpy(old + 2 * PG, "three");
    char *new = dontunmap(old, 3 * PG, DU, NULL);
    if (new == MAP_FAILED) {
        printf("anonymous: mremap %s\n", ename(errno));
        return;
    }
    printf("anonymous: moved elsewhere %s\n", new != old ? "yes" : "no");
    printf("anonymous: old resident %s, new resident %s\n", resident(old, 3), resident(new, 3));
    show("anonymous: new", new, 3);
    show("anonymous: old", old, 3);
    strcpy(old + PG, "again");
    show("anonymous: new after old written", new, 3);
    show("anonymous: old after old written", old, 3);
    printf("anonymous: munmap old %d, new %d\n", munmap(old, 3 * PG), munmap(new, 3 * PG));
}

/* One page out of the middle of a region: it moves, the region keeps its
 * three pages, the neighbours keep their data. */
static void middle(void)
{
    char *old = anon(3);
    strcpy(old, "left");
    strcpy(old + PG, "mid");
    strcpy(old + 2 * PG, "right");
    char *new = dontunmap(old + PG, PG, DU, NULL);
    if (new == MAP_FAILED) {
        printf("middle: mremap %s\n", ename(errno));
        return;
    }
    show("middle: new", new, 1);
    show("middle: old", old, 3);
    printf("middle: old resident %s\n", resident(old, 3));
    munmap(old, 3 * PG);
    munmap(new, PG);
}

/* A free hint is taken; MREMAP_FIXED puts it exactly there, over
 * whatever was mapped. */
static void placed(void)
{
    char *old = anon(1), *spot = anon(2);
    strcpy(old, "placed");
    munmap(spot, 2 * PG);
    char *new = dontunmap(old, PG, DU, spot + PG);
    printf("hint: %s\n", new == MAP_FAILED ? ename(errno) : new == spot + PG ? "taken" : "elsewhere");
    if (new != MAP_FAILED)
        munmap(new, PG);
    strcpy(old, "placed");
    char *target = anon(1);
    strcpy(target, "target");
    new = dontunmap(old, PG, DU | MREMAP_FIXED, target);
    printf("fixed: %s\n", new == MAP_FAILED ? ename(errno) : new == target ? "there" : "elsewhere");
    show("fixed: new", target, 1);
    show("fixed: old", old, 1);
    munmap(old, PG);
    munmap(target, PG);
}

/* A page fork shares stays the child's: the parent moving its copy away
 * (and writing to both ranges) changes nothing the child sees. */
static void forked(void)
{
    char *old = anon(1);
    strcpy(old, "shared");
    int go[2], back[2];
    if (pipe(go) || pipe(back))
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(go[0], &c, 1);
        char line[64];
        snprintf(line, sizeof(line), "fork: child reads [%.8s]\n", old);
        write(back[1], line, strlen(line));
        _exit(0);
    }
    char *new = dontunmap(old, PG, DU, NULL);
    if (new == MAP_FAILED) {
        printf("fork: mremap %s\n", ename(errno));
    } else {
        strcpy(new, "parent");
        strcpy(old, "zeroed?");
        show("fork: parent new", new, 1);
    }
    write(go[1], "x", 1);
    char line[64] = { 0 };
    read(back[0], line, sizeof(line) - 1);
    fputs(line, stdout);
    waitpid(pid, NULL, 0);
}

/* Shared anonymous memory: the new range and the old show the same pages. */
static void shared(void)
{
    char *old = map(2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    strcpy(old, "shm");
    char *new = dontunmap(old, 2 * PG, DU, NULL);
    if (new == MAP_FAILED) {
        printf("shared: mremap %s\n", ename(errno));
        return;
    }
    show("shared: new", new, 2);
    show("shared: old", old, 2);
    strcpy(new + PG, "written");
    show("shared: old after new written", old, 2);
    munmap(old, 2 * PG);
    munmap(new, 2 * PG);
}

/* A private file mapping: a page written (a private copy) moves; the old
 * range shows the file again. */
static void file(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/dontunmap.file", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, "from the file", 13) != 13) {
        perror("file");
        exit(2);
    }
    char *old = map(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
    memcpy(old, "private", 7);
    char *new = dontunmap(old, PG, DU, NULL);
    if (new == MAP_FAILED) {
        printf("file: mremap %s\n", ename(errno));
    } else {
        show("file: new", new, 1);
        show("file: old", old, 1);
        munmap(new, PG);
    }
    munmap(old, PG);
    close(fd);
    unlink(path);
}

/* An mlock'd range: the pages stay locked and resident at the new place;
 * the old range is no longer locked (nothing faulted in there). */
static void locked(void)
{
    char *old = anon(2);
    if (mlock(old, 2 * PG)) {
        printf("locked: mlock %s\n", ename(errno));
        return;
    }
    char *new = dontunmap(old, 2 * PG, DU, NULL);
    if (new == MAP_FAILED) {
        printf("locked: mremap %s\n", ename(errno));
        return;
    }
    printf("locked: new resident %s, old resident %s\n", resident(new, 2), resident(old, 2));
    munmap(old, 2 * PG);
    munmap(new, 2 * PG);
}

static void bad(void)
{
    char *p = anon(5), *gone = p + 4 * PG;  /* the region ends where a hole begins */
    munmap(gone, PG);
#define TRY(what, call) do { \
        char *r_ = (call); \
        printf("bad: %s: %s\n", what, r_ == MAP_FAILED ? ename(errno) : "succeeded"); \
        if (r_ != MAP_FAILED) \
            munmap(r_, PG); \
    } while (0)
    TRY("without MREMAP_MAYMOVE", mremap(p, PG, PG, MREMAP_DONTUNMAP, NULL));
    TRY("growing", mremap(p, PG, 2 * PG, DU, NULL));
    TRY("shrinking", mremap(p, 2 * PG, PG, DU, NULL));
    TRY("lengths in one page but unequal", mremap(p, PG, PG - 1, DU, NULL));
    TRY("zero length", mremap(p, 0, 0, DU, NULL));
    TRY("unaligned old address", mremap(p + 1, PG, PG, DU, NULL));
    TRY("unaligned hint", mremap(p, PG, PG, DU, gone + 8));
    TRY("hint overlapping the old range", mremap(p + PG, PG, PG, DU, p));
    TRY("fixed over the old range", mremap(p, 2 * PG, 2 * PG, DU | MREMAP_FIXED, p + PG));
    TRY("hint past user space", mremap(p, PG, PG, DU, (void *)0x7ffffffff000000ul));
    TRY("unknown flag", mremap(p, PG, PG, DU | 8, NULL));
    TRY("unmapped old range", mremap(gone, PG, PG, DU, NULL));
    TRY("old range past the region", mremap(p + 3 * PG, 2 * PG, 2 * PG, DU, NULL));
    TRY("length past user space", mremap(p, 1ul << 48, 1ul << 48, DU, NULL));
    struct rlimit rl, tight;
    getrlimit(RLIMIT_AS, &rl);
    tight = rl;
    tight.rlim_cur = PG;                    /* far below what is mapped: nothing new fits */
    setrlimit(RLIMIT_AS, &tight);
    TRY("mmap past RLIMIT_AS", mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    TRY("past RLIMIT_AS", mremap(p, 2 * PG, 2 * PG, DU, NULL));
    setrlimit(RLIMIT_AS, &rl);
    printf("bad: region still whole: %s\n", resident(p, 4));
    munmap(p, 4 * PG);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    anonymous();
    middle();
    placed();
    forked();
    shared();
    file(argc > 1 ? argv[1] : "/tmp");
    locked();
    bad();
    printf("dontunmap done\n");
    return 0;
}
