/* mlockpin: locked memory and what /proc says of a process's pages.
 *
 * Why: mlock(2) is a promise about residency ("pages in the range are
 * guaranteed to stay resident in RAM until unlocked"), and the only ways a
 * program can see it kept are mincore(2), /proc/PID/status (VmLck),
 * /proc/PID/smaps (Rss, Locked, Swap per region) and pagemap(5). So this
 * program locks memory, reads all of those, and checks that they tell one
 * story: the figures add up across files, and under real memory pressure
 * with a swap file a locked region stays resident while an unlocked one
 * of the same age is written out. Modes:
 *   errnos        bad inputs to mlock, mlock2, munlock, mlockall, mmap
 *                 (MAP_LOCKED), madvise, msync, pagemap and memfd's write
 *                 and shrink seals (mmap, mprotect, fallocate's hole
 *                 punching, ftruncate), process_vm_readv/writev,
 *                 remap_file_pages, membarrier and MAP_GROWSDOWN's guard
 *                 gap, as root and as uid
 *                 1000 under RLIMIT_MEMLOCK: one line each with the errno
 *                 (the test compares them with the host's Linux)
 *   figures       VmLck, mincore, smaps (Rss, Pss, Locked), smaps_rollup,
 *                 pagemap and status after mlock, mlock2(MLOCK_ONFAULT),
 *                 a region shared with a child, mlockall, munlockall: the
 *                 figures and whether they add up
 *   pin MNT MB    swapon MNT/swapfile, lock 4 MiB and leave 4 MiB unlocked
 *                 (both written), then write MB MiB more than fit: how much
 *                 of each stayed resident, what smaps says went to swap,
 *                 pswpout, and whether every byte reads back */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG   4096ul
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_KEEP_SIZE  1
#define FALLOC_FL_PUNCH_HOLE 2
#endif
#define MiB  (1ul << 20)

static const char *en(long r)
{
    if (r != -1)
        return "0";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EPERM:  return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case EACCES: return "EACCES";
    default:     return strerror(errno);
    }
}

static long mlock2_(void *a, size_t n, int flags) { return syscall(SYS_mlock2, a, n, flags); }

/* A whole /proc file into a static buffer touched beforehand, so reading
 * it changes nothing it reports (no page faulted in meanwhile). */
static char fbuf[3][256 * 1024];

static char *slurp(int which, const char *path)
{
    char *b = fbuf[which];
    int fd = open(path, O_RDONLY);
    size_t n = 0;
    long r;
    while (fd >= 0 && (r = read(fd, b + n, sizeof(fbuf[0]) - 1 - n)) > 0)
        n += (size_t)r;
    if (fd >= 0)
        close(fd);
    b[n] = 0;
    return b;
}

/* "Key:   N kB" in text from p on, before the next region's line; -1 if absent. */
static long field(const char *p, const char *key)
{
    size_t k = strlen(key);
    for (const char *l = p; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (l != p && strchr("0123456789abcdef", *l) && strchr(l, '-') &&
            strchr(l, '-') < strchr(l, ' '))
            return -1;                      /* the next region */
        if (!strncmp(l, key, k) && l[k] == ':')
            return atol(l + k + 1);
    }
    return -1;
}

static long status_kb(const char *key) { return field(slurp(0, "/proc/self/status"), key); }

/* smaps' entry for the region starting at addr (-1: none). */
static long smaps_kb(void *addr, const char *key)
{
    char *s = slurp(1, "/proc/self/smaps"), want[32];
    snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
    for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, want, strlen(want)))
            return field(l, key);
    return -1;
}

static int resident(void *p, size_t len)
{
    static unsigned char vec[8192];
    if (mincore(p, len, vec))
        return -1;
    int n = 0;
    for (size_t i = 0; i < len / PG; i++)
        n += vec[i] & 1;
    return n;
}

static void as_user(const char *what, void (*fn)(void))
{
    pid_t c = fork();
    if (c == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(2);
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        printf("%s: child failed\n", what);
}

static void user_nolimit(void)
{
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_MEMLOCK, &rl);
    char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("uid 1000, RLIMIT_MEMLOCK 0: mlock %s\n", en(mlock(p, PG)));
    printf("uid 1000, RLIMIT_MEMLOCK 0: mlock2 %s\n", en(mlock2_(p, PG, MLOCK_ONFAULT)));
    printf("uid 1000, RLIMIT_MEMLOCK 0: mlockall %s\n", en(mlockall(MCL_CURRENT)));
    printf("uid 1000, RLIMIT_MEMLOCK 0: mmap MAP_LOCKED %s\n",
           en(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) ==
              MAP_FAILED ? -1 : 0));
    printf("uid 1000, RLIMIT_MEMLOCK 0: munlock %s\n", en(munlock(p, PG)));
}

static void user_limit(void)
{
    struct rlimit rl = { 16 * PG, 16 * PG };
    setrlimit(RLIMIT_MEMLOCK, &rl);
    char *p = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("uid 1000, limit 16 pages: mlock 8 %s\n", en(mlock(p, 8 * PG)));
    printf("uid 1000, limit 16 pages: the same 8 again %s\n", en(mlock(p, 8 * PG)));
    printf("uid 1000, limit 16 pages: 8 more %s\n", en(mlock(p + 8 * PG, 8 * PG)));
    printf("uid 1000, limit 16 pages: 1 more %s\n", en(mlock(p + 16 * PG, PG)));
    printf("uid 1000, limit 16 pages: mmap MAP_LOCKED 1 %s\n",
           en(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) ==
              MAP_FAILED ? -1 : 0));
    const char *r = en(munlock(p, 8 * PG));
    printf("uid 1000, limit 16 pages: munlock 8, then 1 more %s %s\n", r,
           en(mlock(p + 16 * PG, PG)));
}

/* A child that grows a MAP_GROWSDOWN region down by `pages` pages; a
 * mapping `below` pages under its lowest page (0: none). How it ended. */
static const char *grow(long pages, long below)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *top = mmap(NULL, 1024 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(top, 1024 * PG);                 /* a hole of 1024 pages to grow into */
        char *stack = mmap(top + 1023 * PG, PG, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
        if (stack == MAP_FAILED)
            _exit(3);
        if (below && mmap(stack - below * PG, PG, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            _exit(4);
        for (long i = 0; i <= pages; i++)
            *(volatile char *)(stack - i * PG) = 1;
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    static char out[32];
    if (WIFSIGNALED(st))
        snprintf(out, sizeof(out), "killed by %d", WTERMSIG(st));
    else
        snprintf(out, sizeof(out), "exit %d", WEXITSTATUS(st));
    return out;
}

static void more_errnos(void)
{
    /* process_vm_readv/writev: bad vectors, pids, flags, protections. */
    char src[64] = "process_vm", dst[64];
    struct iovec l = { dst, 16 }, r = { src, 16 }, bad;
    pid_t me = getpid();
    printf("process_vm_readv: %ld\n", (long)process_vm_readv(me, &l, 1, &r, 1, 0));
    printf("process_vm_readv flags 1: %s\n", en(process_vm_readv(me, &l, 1, &r, 1, 1)));
    bad = (struct iovec){ dst, (size_t)-1 };
    printf("process_vm_readv local len -1: %s\n", en(process_vm_readv(me, &bad, 1, &r, 1, 0)));
    bad = (struct iovec){ src, (size_t)-1 };
    printf("process_vm_readv remote len -1: %s\n", en(process_vm_readv(me, &l, 1, &bad, 1, 0)));
    bad = (struct iovec){ (void *)-1, 16 };
    printf("process_vm_readv local base -1: %s\n", en(process_vm_readv(me, &bad, 1, &r, 1, 0)));
    printf("process_vm_readv remote base -1: %s\n", en(process_vm_readv(me, &l, 1, &bad, 1, 0)));
    printf("process_vm_readv local vector -1: %s\n",
           en(process_vm_readv(me, (void *)-1, 1, &r, 1, 0)));
    printf("process_vm_readv remote vector -1: %s\n",
           en(process_vm_readv(me, &l, 1, (void *)-1, 1, 0)));
    printf("process_vm_readv 1025 vectors: %s\n", en(process_vm_readv(me, &l, 1025, &r, 1, 0)));
    printf("process_vm_readv pid -1: %s\n", en(process_vm_readv(-1, &l, 1, &r, 1, 0)));
    char *none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    bad = (struct iovec){ none, 16 };
    printf("process_vm_readv of a PROT_NONE page: %s\n", en(process_vm_readv(me, &l, 1, &bad, 1, 0)));
    printf("process_vm_writev into a PROT_NONE page: %s\n",
           en(process_vm_writev(me, &l, 1, &bad, 1, 0)));
    char *ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    bad = (struct iovec){ ro, 16 };
    printf("process_vm_writev into a read-only page: %s\n",
           en(process_vm_writev(me, &l, 1, &bad, 1, 0)));
    /* remap_file_pages over a shared memfd mapping of 4 pages. */
    int m = memfd_create("remap", 0);
    for (int i = 0; i < 4; i++) {
        char page[PG];
        memset(page, 'a' + i, PG);
        if (write(m, page, PG) != (ssize_t)PG)
            printf("write: %s\n", en(-1));
    }
    char *w = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    printf("remap_file_pages page 0 to file page 3: %s", en(remap_file_pages(w, PG, 0, 3, 0)));
    printf(", reads %c%c%c%c\n", w[0], w[PG], w[2 * PG], w[3 * PG]);
    printf("remap_file_pages with prot 1: %s\n", en(remap_file_pages(w, PG, 1, 0, 0)));
    printf("remap_file_pages of size 0: %s\n", en(remap_file_pages(w, 0, 0, 0, 0)));
    printf("remap_file_pages past the region: %s\n", en(remap_file_pages(w, 5 * PG, 0, 0, 0)));
    char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, m, 0);
    printf("remap_file_pages of a private mapping: %s\n", en(remap_file_pages(p, PG, 0, 1, 0)));
    printf("remap_file_pages of anonymous memory: %s\n", en(remap_file_pages(ro, PG, 0, 1, 0)));
    close(m);
    /* ... over a System V segment removed while attached (shmctl05): fine
     * while another attachment holds it; over its last, the segment goes
     * with the old mapping and nothing is mapped again (EINVAL). */
    int seg = shmget(IPC_PRIVATE, PG, 0600);
    char *sa = shmat(seg, NULL, 0), *sb = shmat(seg, NULL, 0);
    strcpy(sa, "seg");
    shmctl(seg, IPC_RMID, NULL);
    printf("remap_file_pages of a removed segment attached twice: %s", en(remap_file_pages(sa, PG, 0, 0, 0)));
    printf(", reads %s\n", sa);
    shmdt(sb);
    printf("remap_file_pages of a removed segment's last attachment: %s", en(remap_file_pages(sa, PG, 0, 0, 0)));
    unsigned char in;
    printf(", range then %s", mincore(sa, PG, &in) ? "unmapped" : "mapped");
    printf(", shmdt %s\n", en(shmdt(sa)));
    /* membarrier: the private expedited barrier needs its registration. */
    printf("membarrier private expedited, unregistered: %s\n", en(syscall(SYS_membarrier, 8, 0, 0)));
    printf("membarrier register private expedited: %s\n", en(syscall(SYS_membarrier, 16, 0, 0)));
    printf("membarrier private expedited: %s\n", en(syscall(SYS_membarrier, 8, 0, 0)));
    printf("membarrier global: %s\n", en(syscall(SYS_membarrier, 1, 0, 0)));
    printf("membarrier query with flags 1: %s\n", en(syscall(SYS_membarrier, 0, 1, 0)));
    printf("membarrier command -1: %s\n", en(syscall(SYS_membarrier, -1, 0, 0)));
    printf("membarrier command 1024: %s\n", en(syscall(SYS_membarrier, 1024, 0, 0)));
    long q = syscall(SYS_membarrier, 0, 0, 0);
    printf("membarrier query offers global and private expedited: %s\n",
           q > 0 && (q & 1) && (q & 8) && (q & 16) ? "yes" : "no");
    /* MAP_GROWSDOWN: a stack grows into free room, not into a guard gap. */
    printf("grow 100 pages down into free room: %s\n", grow(100, 0));
    printf("grow 100 pages down, a mapping 400 pages below: %s\n", grow(100, 400));
    printf("grow 100 pages down, a mapping 200 pages below: %s\n", grow(100, 200));
}

static int errnos(void)
{
    char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4 * PG, PG);                     /* a hole at page 4 */
    printf("mlock over a hole: %s\n", en(mlock(p, 8 * PG)));
    printf("munlock over a hole: %s\n", en(munlock(p, 8 * PG)));
    printf("mlock of a wrapping length: %s\n", en(mlock(p, (size_t)-PG)));
    printf("mlock of a kernel address: %s\n", en(mlock((void *)0xffff800000000000ul, PG)));
    printf("mlock of length 0: %s\n", en(mlock(p, 0)));
    printf("mlock2 with flag 2: %s\n", en(mlock2_(p, PG, 2)));
    printf("mlock2 with flags -1: %s\n", en(mlock2_(p, PG, -1)));
    printf("mlock2 over a hole: %s\n", en(mlock2_(p, 8 * PG, MLOCK_ONFAULT)));
    printf("mlockall(0): %s\n", en(mlockall(0)));
    printf("mlockall(MCL_ONFAULT): %s\n", en(mlockall(MCL_ONFAULT)));
    printf("mlockall(8): %s\n", en(mlockall(8)));
    printf("mlock of a PROT_NONE page: %s\n",
           en(mlock(mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), PG)));
    printf("mlock of an unaligned address: %s\n", en(mlock(p + 100, 10)));
    p[0] = 7;
    printf("madvise(MADV_DONTNEED) of a locked page: %s\n", en(madvise(p, PG, MADV_DONTNEED)));
    printf("madvise(MADV_FREE) of a locked page: %s\n", en(madvise(p, PG, MADV_FREE)));
    printf("still there: %d\n", p[0]);
    printf("madvise(MADV_DONTNEED_LOCKED) of a locked page: %s\n", en(madvise(p, PG, 24)));
    printf("after it: %d\n", p[0]);
    printf("munlock: %s\n", en(munlock(p, 4 * PG)));
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t e[2];
    printf("pagemap read at an odd offset: %s\n", en(pread(fd, e, 8, 3)));
    printf("pagemap read of 4 bytes: %s\n", en(pread(fd, e, 4, 0)));
    printf("pagemap read into a bad pointer: %s\n", en(pread(fd, (void *)8, 8, 0)));
    printf("pagemap read past the user half: %ld\n", (long)pread(fd, e, 16, (1l << 47) / PG * 8));
    printf("pagemap write: %s\n", en(pwrite(fd, e, 8, 0)));
    close(fd);
    /* msync(MS_INVALIDATE) cannot drop locked pages. */
    mlock(p, PG);
    printf("msync(MS_INVALIDATE) of a locked page: %s\n", en(msync(p, PG, MS_INVALIDATE)));
    printf("msync(MS_SYNC) of it: %s\n", en(msync(p, PG, MS_SYNC)));
    munlock(p, PG);
    /* memfd seals against writing: no shared writable mapping, now or later. */
    int m = memfd_create("sealed", MFD_ALLOW_SEALING);
    if (ftruncate(m, 2 * PG))
        printf("ftruncate: %s\n", en(-1));
    char *w = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    printf("F_SEAL_WRITE while mapped shared and writable: %s\n",
           en(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE)));
    w[0] = 'x';
    munmap(w, 2 * PG);
    printf("F_SEAL_WRITE after munmap: %s\n", en(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE)));
    printf("mmap shared RW of the sealed memfd: %s\n",
           en(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0) == MAP_FAILED ? -1 : 0));
    char *ro = mmap(NULL, PG, PROT_READ, MAP_SHARED, m, 0);
    printf("mmap shared read-only of it: %s, then mprotect RW: %s\n", ro == MAP_FAILED ? "fail" : "0",
           en(mprotect(ro, PG, PROT_READ | PROT_WRITE)));
    printf("mmap private RW of it: %s\n",
           en(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0) == MAP_FAILED ? -1 : 0));
    printf("punch a hole in it: %s\n",
           en(fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG)));
    int m2 = memfd_create("open", MFD_ALLOW_SEALING);
    char buf[8] = "abcdefg";
    if (write(m2, buf, 8) != 8)
        printf("write: %s\n", en(-1));
    printf("punch a hole in an unsealed memfd: %s", en(fallocate(m2, FALLOC_FL_PUNCH_HOLE |
                                                                 FALLOC_FL_KEEP_SIZE, 2, 4)));
    memset(buf, '?', 8);
    printf(", reads back %s\n", pread(m2, buf, 8, 0) == 8 && !memcmp(buf, "ab\0\0\0\0g", 8) ?
           "ab, four zeros, g" : "wrong");
    printf("F_SEAL_SHRINK, then ftruncate smaller: %s", en(fcntl(m2, F_ADD_SEALS, F_SEAL_SHRINK)));
    printf(" %s\n", en(ftruncate(m2, 4)));
    close(m);
    close(m2);
    more_errnos();
    as_user("nolimit", user_nolimit);
    as_user("limit", user_limit);
    return 0;
}

static uint64_t pagemap_entry(int fd, void *va)
{
    uint64_t e = 0;
    if (pread(fd, &e, 8, (off_t)((uintptr_t)va / PG * 8)) != 8)
        return 0;
    return e;
}

/* The sums over every smaps region of key (kB). */
static long smaps_sum(const char *key)
{
    char *s = slurp(1, "/proc/self/smaps");
    size_t k = strlen(key);
    long sum = 0;
    for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == ':')
            sum += atol(l + k + 1);
    return sum;
}

static void adds_up(const char *when)
{
    /* Every figure from files read back to back, with nothing touched
     * between (the buffers were faulted in before). */
    long rss = status_kb("VmRSS"), anon = status_kb("RssAnon"), file = status_kb("RssFile");
    long shmem = status_kb("RssShmem"), swap = status_kb("VmSwap"), lck = status_kb("VmLck");
    long srss = smaps_sum("Rss"), sanon = smaps_sum("Anonymous"), sswap = smaps_sum("Swap");
    long ssize = smaps_sum("Size"), size = status_kb("VmSize");
    char *r = slurp(2, "/proc/self/smaps_rollup");
    long rrss = field(strchr(r, '\n') + 1, "Rss");
    printf("%s: VmRSS %ld smaps Rss %ld rollup Rss %ld; RssAnon %ld Anonymous %ld; "
           "RssFile+RssShmem %ld; VmSwap %ld smaps Swap %ld; VmSize %ld smaps Size %ld; VmLck %ld\n",
           when, rss, srss, rrss, anon, sanon, file + shmem, swap, sswap, size, ssize, lck);
    printf("%s: %s\n", when, rss == srss && rss == rrss && anon == sanon && anon + file + shmem == rss &&
           swap == sswap && size == ssize ? "adds up" : "does not add up");
}

static int figures(void)
{
    for (int i = 0; i < 3; i++)
        memset(fbuf[i], 1, sizeof(fbuf[i]));
    slurp(0, "/proc/self/status");
    long base = status_kb("VmLck");
    printf("VmLck at start: %ld\n", base);
    char *a = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *b = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("untouched: resident %d\n", resident(a, 8 * PG));
    const char *r = en(mlock(a, 8 * PG));
    printf("mlock 8 pages: %s, VmLck +%ld, resident %d\n", r, status_kb("VmLck") - base,
           resident(a, 8 * PG));
    printf("smaps of it: Size %ld Rss %ld Locked %ld Swap %ld\n", smaps_kb(a, "Size"),
           smaps_kb(a, "Rss"), smaps_kb(a, "Locked"), smaps_kb(a, "Swap"));
    r = en(mlock(a, 8 * PG));
    printf("mlock the same again: %s, VmLck +%ld\n", r, status_kb("VmLck") - base);
    r = en(mlock2_(b, 4 * PG, MLOCK_ONFAULT));
    printf("mlock2 ONFAULT 4 more: %s, VmLck +%ld, resident %d\n", r, status_kb("VmLck") - base,
           resident(b, 4 * PG));
    b[PG] = 1;
    printf("one of them touched: resident %d, smaps Locked %ld\n", resident(b, 4 * PG),
           smaps_kb(b, "Locked"));
    int fd = open("/proc/self/pagemap", O_RDONLY);
    int present = 0, agree = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t e = pagemap_entry(fd, b + i * PG);
        present += (int)(e >> 63);
        agree += (int)(e >> 63) == (i == 1) && (!(e >> 63) || (e & ((1ull << 55) - 1)));
    }
    printf("pagemap: %d present, %d of 4 as mincore says\n", present, agree);
    adds_up("locked");
    pid_t c = fork();
    if (c == 0) {
        slurp(0, "/proc/self/status");
        printf("child: VmLck %ld\n", status_kb("VmLck"));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    /* A region shared with a child that touched it too: its pages count
     * half in each's Pss. */
    char *s = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(s, 3, 16 * PG);
    int go[2], done[2];
    if (pipe(go) || pipe(done))
        return 1;
    c = fork();
    if (c == 0) {
        volatile char sum = 0;
        for (int i = 0; i < 16; i++)
            sum += s[i * PG];
        char x = 0;
        if (write(done[1], &x, 1) != 1 || read(go[0], &x, 1) != 1)
            _exit(1);
        _exit(sum == 48 ? 0 : 1);
    }
    char x;
    if (read(done[0], &x, 1) != 1)
        return 1;
    printf("shared with a child: Rss %ld Pss %ld Shared %ld Private %ld\n", smaps_kb(s, "Rss"),
           smaps_kb(s, "Pss"), smaps_kb(s, "Shared_Clean") + smaps_kb(s, "Shared_Dirty"),
           smaps_kb(s, "Private_Clean") + smaps_kb(s, "Private_Dirty"));
    adds_up("shared");
    if (write(go[1], &x, 1) != 1)
        return 1;
    int st;
    waitpid(c, &st, 0);
    r = en(munlock(a, 8 * PG));
    printf("munlock 8: %s, VmLck +%ld\n", r, status_kb("VmLck") - base);
    r = en(mlockall(MCL_CURRENT | MCL_FUTURE));
    long lck = status_kb("VmLck"), size = status_kb("VmSize");
    printf("mlockall: %s, VmLck == VmSize: %s\n", r, lck == size ? "yes" : "no");
    char *f = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap after MCL_FUTURE: resident %d, smaps Locked %ld\n", resident(f, 4 * PG),
           smaps_kb(f, "Locked"));
    adds_up("mlockall");
    r = en(munlockall());
    printf("munlockall: %s, VmLck %ld\n", r, status_kb("VmLck"));
    char *g = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap after munlockall: resident %d\n", resident(g, 4 * PG));
    char *h = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    printf("mmap MAP_LOCKED: resident %d, VmLck %ld\n", resident(h, 4 * PG), status_kb("VmLck"));
    char *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    printf("mmap MAP_POPULATE: resident %d\n", resident(q, 4 * PG));
    close(fd);
    return 0;
}

static long vmstat(const char *key)
{
    char *s = slurp(2, "/proc/vmstat");
    size_t k = strlen(key);
    for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == ' ')
            return atol(l + k + 1);
    return -1;
}

static long bad_pages(const uint64_t *p, size_t len, uint64_t salt)
{
    long bad = 0;
    for (size_t i = 0; i < len / 8; i += PG / 8)
        for (size_t j = i; j < i + PG / 8; j++)
            if (p[j] != (j ^ salt)) {
                bad++;
                break;
            }
    return bad;
}

static void fill(uint64_t *p, size_t len, uint64_t salt)
{
    for (size_t j = 0; j < len / 8; j++)
        p[j] = j ^ salt;
}

static int pin(const char *mnt, long mb)
{
    for (int i = 0; i < 3; i++)
        memset(fbuf[i], 1, sizeof(fbuf[i]));
    char sw[256];
    printf("mount: %s\n", en(mount("/dev/vda", mnt, "ext3", 0, NULL)));
    snprintf(sw, sizeof(sw), "%s/swapfile", mnt);
    printf("swapon: %s\n", en(swapon(sw, 0)));
    /* The hog is mapped first (above), the two regions below it, each
     * between PROT_NONE pages (its own line in smaps, never merged): the
     * swap clock's hand, going up from the bottom, meets them first. */
    size_t len = 4 * MiB, hog = (size_t)mb * MiB;
    uint64_t *h = mmap(NULL, hog, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *twin[2];
    for (int i = 0; i < 2; i++) {
        char *m = mmap(NULL, len + 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mprotect(m + PG, len, PROT_READ | PROT_WRITE);
        twin[i] = (uint64_t *)(m + PG);
    }
    uint64_t *locked = twin[0], *plain = twin[1];
    fill(locked, len, 0x1111);
    fill(plain, len, 0x2222);
    printf("mlock: %s\n", en(mlock(locked, len)));
    long out0 = vmstat("pswpout");
    fill(h, hog, 0x3333);
    /* Read before anything touches the two regions again; smaps once the
     * hog is gone (under the pressure its text's buffer may not be had:
     * ENOMEM, an empty read). */
    int rl = resident(locked, len), rp = resident(plain, len);
    long out = vmstat("pswpout") - out0;
    long bh = bad_pages(h, hog, 0x3333);
    munmap(h, hog);
    long sl = smaps_kb(locked, "Swap"), sp = smaps_kb(plain, "Swap");
    printf("pages written out under pressure: %ld\n", out);
    printf("locked region: %d of %lu pages resident, %ld kB on swap\n", rl, len / PG, sl);
    printf("unlocked region: %d of %lu pages resident, %ld kB on swap\n", rp, len / PG, sp);
    printf("bad pages: locked %ld, unlocked %ld, hog %ld\n", bad_pages(locked, len, 0x1111),
           bad_pages(plain, len, 0x2222), bh);
    munmap(locked, len);
    munmap(plain, len);
    printf("swapoff: %s\n", en(swapoff(sw)));
    printf("umount: %s\n", en(umount(mnt)));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && !strcmp(argv[1], "errnos"))
        return errnos();
    if (argc == 2 && !strcmp(argv[1], "figures"))
        return figures();
    if (argc == 4 && !strcmp(argv[1], "pin"))
        return pin(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: mlockpin errnos | figures | pin MNT MB\n");
    return 2;
}
