/* filemap: file-backed memory (mmap of files), checked by content and by
 * errno, the same steps on Vigil and on the host's Linux (the test compares
 * the two outputs line for line). Modes:
 *   private DIR   MAP_PRIVATE: the file's bytes, zeros past its end, SIGBUS
 *                 past its last page, copy-on-write (a private write never
 *                 reaches the file or another mapping), fork, and ld.so's
 *                 pattern (a reservation, MAP_FIXED over parts, mprotect)
 *   shared DIR    MAP_SHARED: writes reach read() and other mappings,
 *                 write() reaches the mapping, msync, fork shares
 *   calls DIR     mremap, madvise, mincore, msync and mprotect over files
 *   bad DIR       bad inputs and their errnos
 *   leak DIR N [MODE]  N rounds of all that (or one mode); frames and heap
 *                 before and after
 *   put PATH N    write N pages through a MAP_SHARED mapping, munmap
 *   check PATH N  read them back with read()
 *   poweroff PATH N  a child's MAP_SHARED writes still mapped at reboot(2)
 *   race DIR T K  T threads mapping, writing, dropping, moving and unmapping
 *                 one file K times each, beside pwrite()s: nothing lost
 *   disk MNT N    put, put and exit, and a private write, on the disk mounted
 *                 on MNT, then umount (the host's debugfs reads the image) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "meminfo.h"

#define PG 4096
static char path[512];
static int quiet;

/* A function, not a macro: its arguments (mmap, touch...) run when quiet too. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!quiet)
        vprintf(fmt, ap);
    va_end(ap);
}

static const char *en(int e)
{
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    default: return "E?";
    }
}

static unsigned char pat(size_t i, int seed) { return (unsigned char)(i * 7 + (size_t)seed * 13 + 3); }

/* A file of n bytes of pattern seed. */
static void make(const char *p, size_t n, int seed)
{
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    unsigned char *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = pat(i, seed);
    if (fd < 0 || write(fd, b, n) != (ssize_t)n)
        printf("make %s: %s\n", p, strerror(errno));
    free(b);
    close(fd);
}

static int bytes_ok(const unsigned char *m, size_t from, size_t n, int seed)
{
    for (size_t i = 0; i < n; i++)
        if (m[i] != pat(from + i, seed))
            return 0;
    return 1;
}

static int zeros(const unsigned char *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i])
            return 0;
    return 1;
}

static unsigned char pread1(int fd, off_t at)
{
    unsigned char c = 0xee;
    if (pread(fd, &c, 1, at) != 1)
        return 0xee;
    return c;
}

static sigjmp_buf jb;
static volatile int caught;
static void on_fault(int sig)
{
    caught = sig;
    siglongjmp(jb, 1);
}

/* What touching p (read) does: "ok", "SIGBUS" or "SIGSEGV". */
static const char *touch(volatile unsigned char *p, int write)
{
    caught = 0;
    signal(SIGBUS, on_fault);
    signal(SIGSEGV, on_fault);
    if (!sigsetjmp(jb, 1)) {
        if (write)
            *p = 1;
        else
            (void)*p;
    }
    signal(SIGBUS, SIG_DFL);
    signal(SIGSEGV, SIG_DFL);
    return caught == SIGBUS ? "SIGBUS" : caught == SIGSEGV ? "SIGSEGV" : "ok";
}

static void private_maps(const char *dir)
{
    snprintf(path, sizeof(path), "%s/priv", dir);
    size_t size = 3 * PG + 100;
    make(path, size, 1);
    int fd = open(path, O_RDONLY);
    unsigned char *m = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    say("private map: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    if (m == MAP_FAILED)
        return;
    say("bytes: %s\n", bytes_ok(m, 0, size, 1) ? "the file's" : "WRONG");
    say("tail past end: %s\n", zeros(m + size, 4 * PG - size) ? "zeros" : "NOT ZERO");
    say("write to read-only map: %s\n", touch(m, 1));
    unsigned char *o = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 2 * PG);
    say("offset map: %s\n", o != MAP_FAILED && bytes_ok(o, 2 * PG, PG, 1) ? "page 2's bytes" : "WRONG");
    munmap(o, PG);

    /* A writable private map of a read-only file: copy-on-write. */
    unsigned char *w = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    say("private writable map of O_RDONLY: %s\n", w == MAP_FAILED ? en(errno) : "ok");
    if (w == MAP_FAILED)
        return;
    unsigned char before = m[5];
    w[5] = 'X';
    w[PG + 1] = 'Y';
    say("own write visible: %s\n", w[5] == 'X' && w[PG + 1] == 'Y' ? "yes" : "no");
    say("other private map sees it: %s\n", m[5] == 'X' ? "YES (shared the file's page)" : "no");
    say("read() sees it: %s\n", pread1(fd, 5) == 'X' ? "YES (reached the file)" : "no");
    say("file byte unchanged: %s\n", pread1(fd, 5) == before ? "yes" : "no");

    /* fork: the child inherits the private copy; its writes stay its own. */
    pid_t pid = fork();
    if (pid == 0) {
        int ok = w[5] == 'X' && m[5] == before;
        w[6] = 'C';
        m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        m[7] = 'D';
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    say("child saw parent's private page: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    say("child's write stayed its own: %s\n", w[6] == pat(6, 1) && pread1(fd, 6) == pat(6, 1) ? "yes" : "no");
    say("child's fresh private write: %s\n", pread1(fd, 7) == pat(7, 1) ? "stayed its own" : "REACHED THE FILE");

    /* mprotect a private file map writable, then read-only again. */
    say("mprotect rw: %d\n", mprotect(m, PG, PROT_READ | PROT_WRITE));
    m[9] = 'Z';
    say("after mprotect write: map %s, file %s\n", m[9] == 'Z' ? "changed" : "same",
        pread1(fd, 9) == 'Z' ? "CHANGED" : "same");
    int rc = mprotect(m, PG, PROT_READ);
    say("mprotect r: %d, write: %s\n", rc, touch(m + 9, 1));
    munmap(w, 2 * PG);
    munmap(m, 4 * PG);

    /* Past the last page of the file: SIGBUS; a one-page file mapped over four. */
    snprintf(path, sizeof(path), "%s/short", dir);
    make(path, 10, 2);
    int sfd = open(path, O_RDONLY);
    unsigned char *s = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, sfd, 0);
    say("short file: page 0 %s, page 2 %s\n", touch(s, 0), touch(s + 2 * PG, 0));
    say("short file tail: %s\n", bytes_ok(s, 0, 10, 2) && zeros(s + 10, PG - 10) ? "bytes then zeros" : "WRONG");
    munmap(s, 4 * PG);
    close(sfd);

    /* ld.so's pattern: reserve, map segments MAP_FIXED over it, protect
     * the gap, unmap parts. */
    unsigned char *r = mmap(NULL, 6 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    say("reserve: %s\n", r == MAP_FAILED ? en(errno) : "ok");
    unsigned char *seg = mmap(r + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, PG);
    say("fixed over it: %s, bytes %s\n", seg == r + 2 * PG ? "in place" : "moved",
        bytes_ok(seg, PG, 2 * PG, 1) ? "page 1-2's" : "WRONG");
    say("first page still page 0: %s\n", bytes_ok(r, 0, PG, 1) ? "yes" : "no");
    seg[0] = 'W';
    say("bss-like write stays private: %s\n", pread1(fd, PG) == pat(PG, 1) ? "yes" : "no");
    rc = mprotect(r + PG, PG, PROT_NONE);
    say("mprotect gap none: %d, touch: %s\n", rc, touch(r + PG, 0));
    unsigned char *anon = mmap(r + 4 * PG, PG, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
    say("anonymous over the file: %s\n", anon == r + 4 * PG && zeros(anon, PG) ? "zeros" : "WRONG");
    say("munmap parts: %d %d\n", munmap(r, PG), munmap(r + 3 * PG, PG));
    say("left intact: %s\n", seg[0] == 'W' && bytes_ok(seg + 1, PG + 1, PG - 1, 1) ? "yes" : "no");
    munmap(r, 6 * PG);
    close(fd);
}

static void shared_maps(const char *dir)
{
    snprintf(path, sizeof(path), "%s/shared", dir);
    size_t size = 2 * PG + 50;
    make(path, size, 3);
    int fd = open(path, O_RDWR), fd2;
    unsigned char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    say("shared map: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    if (m == MAP_FAILED)
        return;
    say("bytes: %s\n", bytes_ok(m, 0, size, 3) ? "the file's" : "WRONG");
    m[10] = 'S';
    say("read() sees a mapped write: %s\n", pread1(fd, 10) == 'S' ? "yes" : "no");
    unsigned char c = 'T';
    pwrite(fd, &c, 1, PG + 3);
    say("mapping sees a write(): %s\n", m[PG + 3] == 'T' ? "yes" : "no");
    unsigned char *m2 = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    say("second shared map sees it: %s\n", m2[10] == 'S' ? "yes" : "no");
    unsigned char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    say("private map sees it: %s\n", p[10] == 'S' ? "yes" : "no");
    pid_t pid = fork();
    if (pid == 0) {
        m[11] = 'K';
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    say("child's shared write reaches parent: %s, file: %s\n", m[11] == 'K' ? "yes" : "no",
        pread1(fd, 11) == 'K' ? "yes" : "no");
    say("msync: %d\n", msync(m, 3 * PG, MS_SYNC));
    say("msync async: %d\n", msync(m, PG, MS_ASYNC));
    /* Past the end but inside the last page: not part of the file. */
    m[size + 5] = 'E';
    say("write past end in last page: file size %ld\n", (long)lseek(fd, 0, SEEK_END));
    say("page past end: %s\n", touch(m + 2 * PG + PG, 0));
    munmap(m2, PG);
    munmap(p, PG);
    say("munmap: %d\n", munmap(m, 4 * PG));
    say("after munmap read(): %c%c%c\n", pread1(fd, 10), pread1(fd, 11), pread1(fd, PG + 3));
    /* Cut short while mapped (shared, private, a private copy): the pages
     * past the new end are gone from every mapping: SIGBUS. */
    fd2 = open(path, O_RDWR);
    unsigned char *sh = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
    unsigned char *pr = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd2, 0);
    unsigned char keep = sh[2 * PG];
    pr[2 * PG] = 'C';                   /* a private copy of page 2 */
    (void)pr[PG];
    say("before cut: %s %s %s\n", touch(sh + 2 * PG, 0), touch(pr + 2 * PG, 0), touch(pr + PG, 0));
    ftruncate(fd2, PG + 10);
    say("after cut: shared page 2 %s, private copy %s, private page 1 %s, shared page 0 %s\n",
        touch(sh + 2 * PG, 0), touch(pr + 2 * PG, 0), touch(pr + PG, 0), touch(sh, 0));
    ftruncate(fd2, size);
    say("grown back: shared page 2 %s, zeros: %s\n", touch(sh + 2 * PG, 0),
        sh[2 * PG] == 0 && keep != 0 ? "yes" : "no");
    munmap(sh, 3 * PG);
    munmap(pr, 3 * PG);
    close(fd2);
    /* ftruncate grows: the bytes past the old end read as zeros. */
    ftruncate(fd, size + 20);
    unsigned char tail[20];
    pread(fd, tail, 20, size);
    say("grown tail: %s\n", zeros(tail, 20) ? "zeros" : "NOT ZERO");
    close(fd);
    /* Read-only fd: shared read-only map yes, writable no, mprotect no. */
    fd = open(path, O_RDONLY);
    m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    say("shared read-only: %s\n", m == MAP_FAILED ? en(errno) : "ok");
    say("shared read-only, mprotect rw: %s\n", mprotect(m, PG, PROT_READ | PROT_WRITE) ? en(errno) : "0");
    munmap(m, PG);
    close(fd);
    /* Shared anonymous memory and shared /dev/zero: zeros, and a child's
     * writes reach the parent. */
    int zfd = open("/dev/zero", O_RDWR);
    for (int i = 0; i < 2; i++) {
        unsigned char *a = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
                                MAP_SHARED | (i ? 0 : MAP_ANONYMOUS), i ? zfd : -1, 0);
        const char *what = i ? "shared /dev/zero" : "shared anonymous";
        if (a == MAP_FAILED) {
            say("%s: %s\n", what, en(errno));
            continue;
        }
        int z = zeros(a, 3 * PG);
        a[0] = 1;
        pid = fork();
        if (pid == 0) {
            a[1] = a[0] + 1;
            a[2 * PG] = 3;
            _exit(0);
        }
        waitpid(pid, &st, 0);
        say("%s: zeros %s, child's writes seen: %s\n", what, z ? "yes" : "no",
            a[1] == 2 && a[2 * PG] == 3 ? "yes" : "no");
        munmap(a, 3 * PG);
    }
    close(zfd);
}

static void calls(const char *dir)
{
    snprintf(path, sizeof(path), "%s/calls", dir);
    make(path, 8 * PG, 4);
    int fd = open(path, O_RDWR);
    unsigned char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    m[0] = 'P';
    m[PG] = 'Q';
    /* mremap: shrink in place, grow in place or move. */
    unsigned char *g = mremap(m, 4 * PG, 2 * PG, 0);
    say("mremap shrink: %s\n", g == m ? "in place" : en(errno));
    g = mremap(m, 2 * PG, 6 * PG, MREMAP_MAYMOVE);
    say("mremap grow: %s, kept: %s, new pages: %s\n", g == MAP_FAILED ? en(errno) : "ok",
        g != MAP_FAILED && g[0] == 'P' && g[PG] == 'Q' ? "yes" : "no",
        g != MAP_FAILED && bytes_ok(g + 2 * PG, 2 * PG, 4 * PG, 4) ? "the file's" : "WRONG");
    unsigned char *fixed = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *f2 = mremap(g, 6 * PG, 6 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, fixed + PG);
    say("mremap fixed: %s, kept: %s\n", f2 == fixed + PG ? "there" : en(errno),
        f2 != MAP_FAILED && f2[0] == 'P' && bytes_ok(f2 + 3 * PG, 3 * PG, PG, 4) ? "yes" : "no");
    say("old place gone: %s\n", touch(g, 0));
    /* madvise: DONTNEED drops a private page: the file's bytes again. */
    int rc = madvise(f2, PG, MADV_DONTNEED);
    say("madvise dontneed: %d, page 0: %s\n", rc, f2[0] == pat(0, 4) ? "the file's again" : "still private");
    for (int a = 0; a <= 3; a++)
        say("madvise %d: %d\n", a, madvise(f2, PG, a));
    unsigned char *an = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    an[0] = 9;
    rc = madvise(an, 2 * PG, MADV_DONTNEED);
    say("madvise dontneed anon: %d, reads %d\n", rc, an[0]);
    /* mincore: touched pages of an anonymous map are resident. */
    unsigned char vec[2] = { 7, 7 };
    an[PG] = 1;
    rc = mincore(an, 2 * PG, vec);
    say("mincore: %d, %d %d\n", rc, vec[0] & 1, vec[1] & 1);
    munmap(an, 2 * PG);
    munmap(fixed, 8 * PG);
    /* Shared: msync writes, madvise dontneed keeps the data. */
    unsigned char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    s[1] = 'M';
    rc = madvise(s, 2 * PG, MADV_DONTNEED);
    say("shared dontneed: %d, kept: %s\n", rc, s[1] == 'M' ? "yes" : "no");
    s = mremap(s, 2 * PG, 3 * PG, MREMAP_MAYMOVE);
    s[2 * PG] = 'N';
    say("shared mremap grow: write reaches file: %s\n", pread1(fd, 2 * PG) == 'N' ? "yes" : "no");
    munmap(s, 3 * PG);
    close(fd);
}

static void bad(const char *dir)
{
    snprintf(path, sizeof(path), "%s/bad", dir);
    make(path, PG, 5);
    int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY), rw = open(path, O_RDWR);
    int pfd[2];
    pipe(pfd);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    struct { const char *what; void *addr; size_t len; int prot, flags, fd; off_t off; } cases[] = {
        { "bad fd", NULL, PG, PROT_READ, MAP_PRIVATE, 99, 0 },
        { "bad fd, len 0", NULL, 0, PROT_READ, MAP_PRIVATE, 99, 0 },
        { "len 0", NULL, 0, PROT_READ, MAP_PRIVATE, ro, 0 },
        { "unaligned offset", NULL, PG, PROT_READ, MAP_PRIVATE, ro, 100 },
        { "no type", NULL, PG, PROT_READ, 0, ro, 0 },
        { "both types", NULL, PG, PROT_READ, MAP_SHARED | MAP_PRIVATE, ro, 0 },
        { "fixed unaligned", (void *)0x10000100, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, ro, 0 },
        { "shared writable on O_RDONLY", NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0 },
        { "shared read-only on O_RDONLY", NULL, PG, PROT_READ, MAP_SHARED, ro, 0 },
        { "private on O_WRONLY", NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0 },
        { "shared on O_WRONLY", NULL, PG, PROT_WRITE, MAP_SHARED, wo, 0 },
        { "shared writable on O_RDWR", NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0 },
        { "validate, bad flag", NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x400000, rw, 0 },
        { "pipe read end", NULL, PG, PROT_READ, MAP_PRIVATE, pfd[0], 0 },
        { "pipe write end", NULL, PG, PROT_READ, MAP_PRIVATE, pfd[1], 0 },
        { "directory", NULL, PG, PROT_READ, MAP_PRIVATE, dfd, 0 },
        { "huge length", NULL, (size_t)1 << 62, PROT_READ, MAP_PRIVATE, ro, 0 },
        { "offset past end", NULL, PG, PROT_READ, MAP_PRIVATE, ro, 1 << 30 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        errno = 0;
        void *m = mmap(cases[i].addr, cases[i].len, cases[i].prot, cases[i].flags, cases[i].fd, cases[i].off);
        say("mmap %s: %s\n", cases[i].what, m == MAP_FAILED ? en(errno) : "ok");
        if (m != MAP_FAILED)
            munmap(m, cases[i].len);
    }
    int zfd = open("/dev/zero", O_RDWR);
    unsigned char *z = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
    say("mmap /dev/zero private: %s\n", z != MAP_FAILED && zeros(z, PG) ? "zeros" : en(errno));
    if (z != MAP_FAILED)
        munmap(z, PG);
    close(zfd);
    unsigned char *m = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, ro, 0);
    errno = 0;
    say("msync unaligned: %s\n", msync(m + 1, PG, MS_SYNC) ? en(errno) : "0");
    say("msync bad flags: %s\n", msync(m, PG, 8) ? en(errno) : "0");
    say("msync sync+async: %s\n", msync(m, PG, MS_SYNC | MS_ASYNC) ? en(errno) : "0");
    say("msync unmapped: %s\n", msync(m + 4 * PG * 1024, PG, MS_SYNC) ? en(errno) : "0");
    say("msync len 0: %s\n", msync(m, 0, MS_SYNC) ? en(errno) : "0");
    say("madvise unaligned: %s\n", madvise(m + 1, PG, MADV_DONTNEED) ? en(errno) : "0");
    say("madvise bad advice: %s\n", madvise(m, PG, 12345) ? en(errno) : "0");
    say("madvise unmapped: %s\n", madvise(m + 4 * PG * 1024, PG, MADV_NORMAL) ? en(errno) : "0");
    unsigned char vec[4];
    say("mincore unaligned: %s\n", mincore(m + 1, PG, vec) ? en(errno) : "0");
    say("mincore unmapped: %s\n", mincore(m + 4 * PG * 1024, PG, vec) ? en(errno) : "0");
    say("mincore bad vec: %s\n", mincore(m, PG, (unsigned char *)8) ? en(errno) : "0");
    say("mremap unaligned: %s\n", mremap(m + 1, PG, PG, 0) == MAP_FAILED ? en(errno) : "ok");
    say("mremap bad flags: %s\n", mremap(m, PG, PG, 8) == MAP_FAILED ? en(errno) : "ok");
    say("mremap fixed without maymove: %s\n",
        mremap(m, PG, PG, MREMAP_FIXED, (void *)0x20000000) == MAP_FAILED ? en(errno) : "ok");
    say("mremap new len 0: %s\n", mremap(m, PG, 0, MREMAP_MAYMOVE) == MAP_FAILED ? en(errno) : "ok");
    say("mremap unmapped: %s\n", mremap(m + 4 * PG * 1024, PG, 2 * PG, MREMAP_MAYMOVE) == MAP_FAILED ? en(errno) : "ok");
    say("mremap grow in place blocked: %s\n", mremap(m, PG, 2 * PG, 0) == MAP_FAILED ? en(errno) : "ok");
    munmap(m, 2 * PG);
    close(ro), close(wo), close(rw), close(pfd[0]), close(pfd[1]), close(dfd);
}

/* put/check: a file written only through a shared mapping. */
static void put(const char *p, int pages)
{
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ftruncate(fd, (off_t)pages * PG);
    unsigned char *m = mmap(NULL, (size_t)pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        printf("put: mmap %s\n", en(errno));
        return;
    }
    for (size_t i = 0; i < (size_t)pages * PG; i++)
        m[i] = pat(i, 9);
    printf("put: munmap %d\n", munmap(m, (size_t)pages * PG));
    close(fd);
}

static void check(const char *p, int pages)
{
    int fd = open(p, O_RDONLY);
    size_t n = (size_t)pages * PG;
    unsigned char *b = malloc(n);
    ssize_t r = fd < 0 ? -1 : read(fd, b, n);
    printf("check: %s\n", r == (ssize_t)n && bytes_ok(b, 0, n, 9) ? "every byte written through the mapping" : "WRONG");
    close(fd);
}

/* disk MNT N: the disk mounted on MNT; a file written only through a shared
 * mapping (munmap writes it back), one whose mapping goes at exit, one
 * written through a private mapping (which must not reach it), umount. */
static void disk(const char *mnt, int pages)
{
    printf("mount: %s\n", mount("/dev/vda", mnt, "ext3", 0, NULL) ? strerror(errno) : "0");
    snprintf(path, sizeof(path), "%s/scratch/mapped", mnt);
    put(path, pages);
    /* Written, msync'd, written again (the same pages and others), msync'd
     * again, then written once more and unmapped: the disk must hold the
     * last bytes of each page, not the first. */
    snprintf(path, sizeof(path), "%s/scratch/rewritten", mnt);
    int rfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ftruncate(rfd, (off_t)pages * PG);
    unsigned char *rm = mmap(NULL, (size_t)pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
    memset(rm, 'a', (size_t)pages * PG);
    int r1 = msync(rm, (size_t)pages * PG, MS_SYNC);
    memset(rm, 'b', (size_t)pages * PG / 2);
    int r2 = msync(rm, (size_t)pages * PG, MS_SYNC);
    rm[0] = 'c';
    printf("rewritten: msync %d %d, munmap %d\n", r1, r2, munmap(rm, (size_t)pages * PG));
    close(rfd);
    snprintf(path, sizeof(path), "%s/scratch/exited", mnt);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        ftruncate(fd, (off_t)pages * PG);
        unsigned char *m = mmap(NULL, (size_t)pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        for (size_t i = 0; i < (size_t)pages * PG; i++)
            m[i] = pat(i, 9);
        _exit(0);                           /* no munmap, no msync: exit writes back */
    }
    waitpid(pid, NULL, 0);
    snprintf(path, sizeof(path), "%s/scratch/private", mnt);
    make(path, (size_t)pages * PG, 9);
    int fd = open(path, O_RDWR);
    unsigned char *m = mmap(NULL, (size_t)pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    memset(m, 'P', (size_t)pages * PG);
    printf("private msync: %d\n", msync(m, (size_t)pages * PG, MS_SYNC));
    printf("private fsync: %d\n", fsync(fd));
    unsigned char c = pread1(fd, 0);
    printf("private write reached read(): %s\n", c == 'P' ? "YES" : "no");
    munmap(m, (size_t)pages * PG);
    close(fd);
    printf("umount: %s\n", umount(mnt) ? strerror(errno) : "0");
}

/* poweroff PATH N: a child writes N pages through a MAP_SHARED mapping of
 * PATH and waits; the parent powers the machine off (reboot(2)) while the
 * mapping is still there: the shutdown writes it back first. */
static void poweroff(const char *p, int pages)
{
    int ready[2];
    pipe(ready);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
        ftruncate(fd, (off_t)pages * PG);
        unsigned char *m = mmap(NULL, (size_t)pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        for (size_t i = 0; i < (size_t)pages * PG; i++)
            m[i] = pat(i, 9);
        write(ready[1], "x", 1);
        for (;;)
            pause();
    }
    char c;
    read(ready[0], &c, 1);
    printf("poweroff: the child's mapping is written; powering off\n");
    syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL);
    printf("poweroff: reboot returned: %s\n", strerror(errno));
}

/* race DIR T K: T threads each map a file (shared and private), write
 * their own pages through the shared map, read them back, drop them
 * (MADV_DONTNEED), move the map (mremap) and unmap, K times, while the main
 * thread pwrite()s a page of its own; then every thread's last values must
 * be in the file (read()). */
#define RACE_PAGES 4
static int race_fd, race_iters;
static volatile int race_bad;

static void *racer(void *arg)
{
    long t = (long)arg;
    size_t len = (size_t)(t + 2) * RACE_PAGES * PG;    /* up to and past its own pages */
    for (int k = 0; k < race_iters; k++) {
        unsigned char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, race_fd, 0);
        unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, race_fd, 0);
        if (s == MAP_FAILED || p == MAP_FAILED) {
            race_bad = 1;
            return NULL;
        }
        unsigned char *mine = s + (size_t)(t + 1) * RACE_PAGES * PG;
        for (int i = 0; i < RACE_PAGES; i++)
            mine[i * PG] = (unsigned char)(t * 16 + k % 16), mine[i * PG + 1] = (unsigned char)k;
        p[(size_t)(t + 1) * RACE_PAGES * PG] = 0xaa;        /* a private copy, never the file's */
        for (int i = 0; i < RACE_PAGES; i++)
            if (mine[i * PG] != (unsigned char)(t * 16 + k % 16))
                race_bad = 2;
        madvise(s, len, MADV_DONTNEED);
        if (mine[0] != (unsigned char)(t * 16 + k % 16))
            race_bad = 3;                               /* a shared write lost by DONTNEED */
        unsigned char *m = mremap(s, len, len + PG, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            race_bad = 4;
        else
            s = m, len += PG;
        munmap(s, len);
        munmap(p, (size_t)(t + 2) * RACE_PAGES * PG);
        len = (size_t)(t + 2) * RACE_PAGES * PG;
    }
    return NULL;
}

static void race(const char *dir, int threads, int iters)
{
    snprintf(path, sizeof(path), "%s/race", dir);
    make(path, (size_t)(threads + 2) * RACE_PAGES * PG, 6);
    race_fd = open(path, O_RDWR);
    race_iters = iters;
    pthread_t th[16];
    threads = threads > 16 ? 16 : threads;
    for (long t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, racer, (void *)t);
    for (int k = 0; k < iters * 4; k++) {
        unsigned char c = (unsigned char)k;
        pwrite(race_fd, &c, 1, 5);                      /* page 0: the main thread's */
    }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    int lost = 0;
    for (int t = 0; t < threads; t++)
        for (int i = 0; i < RACE_PAGES; i++) {
            off_t at = (off_t)((t + 1) * RACE_PAGES + i) * PG;
            if (pread1(race_fd, at) != (unsigned char)(t * 16 + (iters - 1) % 16) ||
                pread1(race_fd, at + 1) != (unsigned char)(iters - 1))
                lost++;
        }
    printf("race: %d threads x %d rounds: errors %d, shared writes lost %d, main's byte %s\n",
           threads, iters, race_bad, lost,
           pread1(race_fd, 5) == (unsigned char)(iters * 4 - 1) ? "kept" : "LOST");
    close(race_fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 3)
        return 2;
    const char *mode = argv[1], *dir = argv[2];
    if (!strcmp(mode, "private"))
        private_maps(dir);
    else if (!strcmp(mode, "shared"))
        shared_maps(dir);
    else if (!strcmp(mode, "calls"))
        calls(dir);
    else if (!strcmp(mode, "bad"))
        bad(dir);
    else if (!strcmp(mode, "put") && argc > 3)
        put(dir, atoi(argv[3]));
    else if (!strcmp(mode, "poweroff") && argc > 3)
        poweroff(dir, atoi(argv[3]));
    else if (!strcmp(mode, "race") && argc > 4)
        race(dir, atoi(argv[3]), atoi(argv[4]));
    else if (!strcmp(mode, "disk") && argc > 3)
        disk(dir, atoi(argv[3]));
    else if (!strcmp(mode, "check") && argc > 3)
        check(dir, atoi(argv[3]));
    else if (!strcmp(mode, "leak") && argc > 3) {
        int rounds = atoi(argv[3]);
        const char *only = argc > 4 ? argv[4] : "";
        quiet = 1;
        struct snap a, b;
        for (int i = -1; i < rounds; i++) {
            if (i == 0) {
                take(&a);                   /* after a warm-up round; the first */
                take(&a);                   /* read of /proc sets procfs up */
            }
            if (!*only || !strcmp(only, "private"))
                private_maps(dir);
            if (!*only || !strcmp(only, "shared"))
                shared_maps(dir);
            if (!*only || !strcmp(only, "calls"))
                calls(dir);
            if (!*only || !strcmp(only, "bad"))
                bad(dir);
        }
        take(&b);
        printf("free frames before %ld after %ld\n", a.frames, b.frames);
        printf("heap bytes before %ld after %ld\n", a.bytes, b.bytes);
        printf("heap objects before %s after %s\n", a.objects, b.objects);
    } else
        return 2;
    return 0;
}
