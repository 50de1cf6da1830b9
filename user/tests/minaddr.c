/* minaddr.c - vm.mmap_min_addr (tests/test_privilege.py runs it on Vigil and
 * on the host Linux and compares every line).
 *
 * Below /proc/sys/vm/mmap_min_addr only root maps anything: a user's
 * mmap, mremap or shmat at a fixed address there is EPERM, a hint there
 * is not taken, and address 0 stays unmapped, so a NULL pointer is always
 * a fault. Root (CAP_SYS_RAWIO) may map page 0. Run as root; the user
 * part runs in a child that became nobody. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

#define PG 4096ul

static unsigned long min_addr(void)
{
    char buf[32] = { 0 };
    int fd = open("/proc/sys/vm/mmap_min_addr", O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
        return 0;
    close(fd);
    return strtoul(buf, NULL, 10);
}

static const char *res(void *p) { return p == MAP_FAILED ? ename(errno) : "mapped"; }

/* Does touching address 0 kill a child with SIGSEGV? */
static const char *null_read(void)
{
    pid_t c = fork();
    if (c == 0)
        _exit(*(volatile char *)0);
    int st;
    waitpid(c, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "read a byte";
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned long min = min_addr();
    printf("mmap_min_addr: %s\n", min && min % PG == 0 ? "a positive multiple of the page size" : "odd");
    int id = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0666);

    pid_t c = fork();
    if (c == 0) {
        if (setgid(65534) || setuid(65534)) {
            printf("setuid: %s\n", ename(errno));
            _exit(1);
        }
        printf("nobody MAP_FIXED at 0: %s\n",
               res(mmap(0, PG, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)));
        /* (MAP_FIXED_NOREPLACE at 0 is refused too: EPERM here, ENOMEM from
         * Linux 6.18, which no longer reaches its address check for it.) */
        void *nr = mmap(0, PG, PROT_READ, MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("nobody MAP_FIXED_NOREPLACE at 0: %s\n", nr == MAP_FAILED ? "refused" : "mapped");
        printf("nobody MAP_FIXED just below the limit: %s\n",
               res(mmap((void *)(min - PG), PG, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)));
        char *at = mmap((void *)min, PG, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("nobody MAP_FIXED at the limit: %s\n", res(at));
        if (at != MAP_FAILED)
            munmap(at, PG);
        char *h = mmap((void *)PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("nobody's hint of one page: %s\n",
               h == MAP_FAILED ? ename(errno) : (unsigned long)h >= min ? "placed at or above the limit" : "BELOW");
        char *p = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("nobody mremap to 0: %s\n",
               res(mremap(p, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0)));
        void *s = shmat(id, (void *)1, SHM_RND);
        printf("nobody shmat at 1 rounded to 0: %s\n", s == (void *)-1 ? ename(errno) : "attached");
        s = shmat(id, NULL, 0);
        printf("nobody shmat anywhere: %s\n", s == (void *)-1 ? ename(errno) :
               (unsigned long)s >= min ? "attached at or above the limit" : "BELOW");
        printf("nobody reads address 0: %s\n", null_read());
        int fd = open("/proc/sys/vm/mmap_min_addr", O_WRONLY);
        printf("nobody opens mmap_min_addr to write: %s\n", fd < 0 ? ename(errno) : "opened");
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);

    /* Root may: page 0 maps, reads zero, and goes again. */
    char *z = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("root MAP_FIXED at 0: %s\n", res(z));
    if (z != MAP_FAILED) {
        printf("  page 0 reads %d\n", *(volatile char *)z);
        munmap(z, PG);
    }
    printf("root reads address 0 after munmap: %s\n", null_read());
    shmctl(id, IPC_RMID, NULL);
    printf("minaddr done\n");
    return 0;
}
