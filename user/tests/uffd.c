/* uffd: userfaultfd(2) in MISSING mode over private anonymous memory, the
 * same steps on Vigil and on the host's Linux, compared line for line.
 *
 * A thread touching a registered page that has no frame waits; the page
 * fault arrives as a message (poll, read); UFFDIO_COPY or UFFDIO_ZEROPAGE
 * fills the page and the thread goes on with it - also when the touch is
 * the kernel's own copy for a syscall (read(2) into the page). Filling a
 * page that is there is EEXIST; UNREGISTER, close and fork give ordinary
 * zero-fill back; MREMAP_DONTUNMAP leaves the old range registered and
 * empty (mremap07). Bad flags, modes, ranges and ioctls get Linux's
 * errno. Only what Vigil offers is asked for: no optional features. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

/* linux/userfaultfd.h's ABI (musl has no kernel headers). */
#define UFFD_API 0xAA
#define UFFD_EVENT_PAGEFAULT 0x12
#define UFFD_PAGEFAULT_FLAG_WRITE 1
#define UFFDIO_REGISTER_MODE_MISSING 1
struct uffdio_api { uint64_t api, features, ioctls; };
struct uffdio_range { uint64_t start, len; };
struct uffdio_register { struct uffdio_range range; uint64_t mode, ioctls; };
struct uffdio_copy { uint64_t dst, src, len, mode; int64_t copy; };
struct uffdio_zeropage { struct uffdio_range range; uint64_t mode; int64_t zeropage; };
struct uffd_msg {
    uint8_t event, reserved1;
    uint16_t reserved2;
    uint32_t reserved3;
    union {
        struct { uint64_t flags, address; uint32_t ptid; } pagefault;
        uint64_t pad[3];
    } arg;
} __attribute__((packed));
#define UFFDIO_API _IOWR(0xAA, 0x3F, struct uffdio_api)
#define UFFDIO_REGISTER _IOWR(0xAA, 0x00, struct uffdio_register)
#define UFFDIO_UNREGISTER _IOR(0xAA, 0x01, struct uffdio_range)
#define UFFDIO_WAKE _IOR(0xAA, 0x02, struct uffdio_range)
#define UFFDIO_COPY _IOWR(0xAA, 0x03, struct uffdio_copy)
#define UFFDIO_ZEROPAGE _IOWR(0xAA, 0x04, struct uffdio_zeropage)

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define PG 4096ul

static const char *res(long r) { return r < 0 ? ename(errno) : "0"; }

static char *anon(size_t pages)
{
    char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        exit(2);
    return p;
}

static int new_uffd(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    struct uffdio_api api = { .api = UFFD_API };
    if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
        printf("userfaultfd: %s\n", ename(errno));
        exit(3);
    }
    return fd;
}

static long reg(int fd, void *p, size_t len, uint64_t mode, uint64_t *ioctls)
{
    struct uffdio_register r = { .range = { (uintptr_t)p, len }, .mode = mode };
    long x = ioctl(fd, UFFDIO_REGISTER, &r);
    if (ioctls)
        *ioctls = r.ioctls;
    return x;
}

static void errors(void)
{
    char *p = anon(2);
    printf("userfaultfd(flags 0x10): %s\n", res(syscall(SYS_userfaultfd, 0x10)));
    int fd = (int)syscall(SYS_userfaultfd, O_NONBLOCK);
    struct uffdio_range rg = { (uintptr_t)p, PG };
    printf("UFFDIO_WAKE before UFFDIO_API: %s\n", res(ioctl(fd, UFFDIO_WAKE, &rg)));
    struct uffdio_api api = { .api = 0x55 };
    const char *r = res(ioctl(fd, UFFDIO_API, &api));
    printf("UFFDIO_API(api 0x55): %s, api now 0x%llx\n", r, (unsigned long long)api.api);
    api = (struct uffdio_api){ .api = UFFD_API };
    r = res(ioctl(fd, UFFDIO_API, &api));
    printf("UFFDIO_API: %s, ioctls 0x%llx\n", r, (unsigned long long)api.ioctls);
    api = (struct uffdio_api){ .api = UFFD_API };
    printf("UFFDIO_API again: %s\n", res(ioctl(fd, UFFDIO_API, &api)));
    printf("UFFDIO_API from a bad pointer: %s\n", res(ioctl(fd, UFFDIO_API, (void *)8)));
    printf("register mode 0: %s\n", res(reg(fd, p, PG, 0, NULL)));
    printf("register mode 8: %s\n", res(reg(fd, p, PG, 8, NULL)));
    printf("register unaligned: %s\n", res(reg(fd, p + 1, PG, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    printf("register length 0: %s\n", res(reg(fd, p, 0, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    printf("register odd length: %s\n", res(reg(fd, p, 100, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    char *gone = anon(1);
    munmap(gone, PG);
    printf("register unmapped: %s\n", res(reg(fd, gone, PG, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    printf("register past user space: %s\n",
           res(reg(fd, (void *)0x7ffffffff000ul, 2 * PG, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    int ffd = open("/tmp/uffd.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
    ftruncate(ffd, PG);
    char *fm = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, ffd, 0);
    printf("register a private file mapping: %s\n", res(reg(fd, fm, PG, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    munmap(fm, PG);
    close(ffd);
    unlink("/tmp/uffd.file");
    uint64_t ioctls = 0;
    r = res(reg(fd, p, 2 * PG, UFFDIO_REGISTER_MODE_MISSING, &ioctls));
    printf("register: %s, range ioctls has WAKE COPY ZEROPAGE: %s\n", r,
           (ioctls & 0x1c) == 0x1c ? "yes" : "no");
    int other = new_uffd();
    printf("register with a second uffd: %s\n", res(reg(other, p, PG, UFFDIO_REGISTER_MODE_MISSING, NULL)));
    close(other);
    struct uffd_msg m;
    printf("read with nothing waiting: %s\n", res(read(fd, &m, sizeof(m))));
    printf("read into a short buffer: %s\n", res(read(fd, &m, 8)));
    char src[PG];
    memset(src, 'x', PG);
    struct uffdio_copy c = { .dst = (uintptr_t)p, .src = (uintptr_t)src, .len = PG, .mode = 4 };
    printf("UFFDIO_COPY mode 4: %s\n", res(ioctl(fd, UFFDIO_COPY, &c)));
    c.mode = 0;
    c.dst = (uintptr_t)p + 1;
    printf("UFFDIO_COPY unaligned dst: %s\n", res(ioctl(fd, UFFDIO_COPY, &c)));
    c.dst = (uintptr_t)gone;
    r = res(ioctl(fd, UFFDIO_COPY, &c));
    printf("UFFDIO_COPY to an unregistered range: %s, copy %lld\n", r, (long long)c.copy);
    c.dst = (uintptr_t)p;
    r = res(ioctl(fd, UFFDIO_COPY, &c));
    printf("UFFDIO_COPY: %s, copy %lld, page reads %.3s\n", r, (long long)c.copy, p);
    r = res(ioctl(fd, UFFDIO_COPY, &c));
    printf("UFFDIO_COPY again: %s, copy %lld\n", r, (long long)c.copy);
    struct uffdio_zeropage z = { .range = { (uintptr_t)p + PG, PG } };
    r = res(ioctl(fd, UFFDIO_ZEROPAGE, &z));
    printf("UFFDIO_ZEROPAGE: %s, zeropage %lld, page reads %d\n", r, (long long)z.zeropage, p[PG]);
    printf("unknown ioctl: %s\n", res(ioctl(fd, _IOR(0xAA, 0x30, struct uffdio_range), &rg)));
    rg = (struct uffdio_range){ (uintptr_t)p, 2 * PG };
    printf("UFFDIO_UNREGISTER: %s\n", res(ioctl(fd, UFFDIO_UNREGISTER, &rg)));
    close(fd);
    munmap(p, 2 * PG);
}

static int the_fd;
static char *area;

static void *toucher(void *arg)
{
    char *at = arg;
    char got = *(volatile char *)at;         /* waits for the fill */
    char line[64];
    snprintf(line, sizeof(line), "thread: the page reads '%c'\n", got ? got : '0');
    write(1, line, strlen(line));
    return NULL;
}

static void *reader(void *arg)
{
    int *pfd = arg;
    char buf[8] = { 0 };
    long n = read(pfd[0], area + 2 * PG, 4);   /* the kernel's copy faults on the page */
    char line[80];
    snprintf(line, sizeof(line), "thread: read(2) into the page: %ld, it reads %.4s\n", n, area + 2 * PG);
    write(1, line, strlen(line));
    (void)buf;
    return NULL;
}

/* Wait for one message; print what it says. */
static struct uffd_msg next_msg(const char *what)
{
    struct pollfd pf = { the_fd, POLLIN, 0 };
    int n = poll(&pf, 1, 10000);
    struct uffd_msg m = { 0 };
    long r = read(the_fd, &m, sizeof(m));
    printf("%s: poll %d revents 0x%x, read %ld, event 0x%x, page %ld, write %s\n", what, n, pf.revents,
           r, m.event, (long)((char *)(uintptr_t)m.arg.pagefault.address - area) / (long)PG,
           m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? "yes" : "no");
    return m;
}

static void faults(void)
{
    the_fd = new_uffd();
    area = anon(6);
    reg(the_fd, area, 6 * PG, UFFDIO_REGISTER_MODE_MISSING, NULL);
    char src[PG];
    memset(src, 'c', PG);
    /* A thread's read fault, answered by UFFDIO_COPY. */
    pthread_t t;
    pthread_create(&t, NULL, toucher, area);
    next_msg("copy");
    struct uffdio_copy c = { .dst = (uintptr_t)area, .src = (uintptr_t)src, .len = PG };
    const char *r = res(ioctl(the_fd, UFFDIO_COPY, &c));
    pthread_join(t, NULL);                  /* its line first, whichever CPU runs it */
    printf("copy: UFFDIO_COPY %s\n", r);
    /* ... answered by UFFDIO_ZEROPAGE. */
    pthread_create(&t, NULL, toucher, area + PG);
    next_msg("zero");
    struct uffdio_zeropage z = { .range = { (uintptr_t)area + PG, PG } };
    r = res(ioctl(the_fd, UFFDIO_ZEROPAGE, &z));
    pthread_join(t, NULL);
    printf("zero: UFFDIO_ZEROPAGE %s\n", r);
    /* The kernel's copy for read(2) waits as well (a write fault). */
    int pfd[2];
    pipe(pfd);
    write(pfd[1], "pipe", 4);
    pthread_create(&t, NULL, reader, pfd);
    next_msg("syscall");
    memset(src, 's', PG);
    c.dst = (uintptr_t)area + 2 * PG;
    r = res(ioctl(the_fd, UFFDIO_COPY, &c));
    pthread_join(t, NULL);
    printf("syscall: UFFDIO_COPY %s\n", r);
    /* A child does not inherit the registration: its touch is zero-fill. */
    pid_t pid = fork();
    if (pid == 0) {
        printf("fork: the child's touch reads %d\n", area[3 * PG]);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    struct uffd_msg m;
    printf("fork: messages for the parent: %s\n", res(read(the_fd, &m, sizeof(m))));
    /* UNREGISTER: zero-fill again. */
    struct uffdio_range rg = { (uintptr_t)area + 3 * PG, PG };
    r = res(ioctl(the_fd, UFFDIO_UNREGISTER, &rg));
    printf("unregister: %s, touch reads %d\n", r, area[3 * PG]);
    /* close while a thread waits: its touch completes with zeros. */
    pthread_create(&t, NULL, toucher, area + 4 * PG);
    next_msg("close");
    close(the_fd);
    pthread_join(t, NULL);
    munmap(area, 6 * PG);
}

/* mremap07: the old range of a MREMAP_DONTUNMAP move stays registered. */
static void dontunmap(void)
{
    the_fd = new_uffd();
    char *old = anon(1);
    strcpy(old, "ABCD");
    reg(the_fd, old, PG, UFFDIO_REGISTER_MODE_MISSING, NULL);
    area = old;
    char *new = mremap(old, PG, PG, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, NULL);
    if (new == MAP_FAILED) {
        printf("dontunmap: mremap %s\n", ename(errno));
        return;
    }
    printf("dontunmap: new reads %s\n", new);
    strcpy(new, "EFGH");
    pthread_t t;
    pthread_create(&t, NULL, toucher, old);
    next_msg("dontunmap");
    struct uffdio_copy c = { .dst = (uintptr_t)old, .src = (uintptr_t)new, .len = PG };
    const char *r = res(ioctl(the_fd, UFFDIO_COPY, &c));
    pthread_join(t, NULL);
    printf("dontunmap: UFFDIO_COPY %s\n", r);
    printf("dontunmap: old reads %s\n", old);
    uint64_t ioctls;
    printf("dontunmap: the new range registers afresh: %s\n",
           res(reg(the_fd, new, PG, UFFDIO_REGISTER_MODE_MISSING, &ioctls)));
    close(the_fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    errors();
    faults();
    dontunmap();
    printf("uffd done\n");
    return 0;
}
