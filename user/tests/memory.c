/* memory: brk, mmap, munmap, mprotect and malloc, checked by content. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned sum(const unsigned char *p, size_t n)
{
    unsigned s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

int main(void)
{
    /* brk (the raw syscall: musl's sbrk only reports): grow, use, shrink. */
    char *b0 = (char *)syscall(SYS_brk, 0);
    char *b1 = (char *)syscall(SYS_brk, b0 + (1 << 20));
    printf("brk grew: %s\n", b1 == b0 + (1 << 20) ? "yes" : "no");
    memset(b0, 0x5a, 1 << 20);
    printf("brk sum %u\n", sum((unsigned char *)b0, 1 << 20));
    printf("brk shrink: %s\n", (char *)syscall(SYS_brk, b0) == b0 ? "yes" : "no");
    printf("brk below start refused: %s\n", (char *)syscall(SYS_brk, b0 - (64 << 20)) == b0 ? "yes" : "no");

    /* Anonymous mmap is zero-filled and writable. */
    size_t len = 3 << 20;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap ok: %s\n", m != MAP_FAILED ? "yes" : "no");
    size_t zeros = 0;
    for (size_t i = 0; i < len; i += 4096)
        zeros += m[i] == 0;
    printf("pages zero: %zu of %zu\n", zeros, len / 4096);
    for (size_t i = 0; i < len; i++)
        m[i] = (unsigned char)(i * 7);
    printf("mmap sum %u\n", sum(m, len));

    /* munmap a hole in the middle; the rest stays. */
    printf("munmap middle: %d\n", munmap(m + (1 << 20), 1 << 20));
    printf("tail intact sum %u\n", sum(m + (2 << 20), 1 << 20));
    printf("munmap rest: %d %d\n", munmap(m, 1 << 20), munmap(m + (2 << 20), 1 << 20));

    /* mprotect to read-only keeps the data. */
    unsigned char *r = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy((char *)r, "kept across mprotect");
    printf("mprotect: %d\n", mprotect(r, 8192, PROT_READ));
    printf("read back: %s\n", r);

    /* Errors as Linux gives them. */
    errno = 0;
    printf("mmap len 0: %s\n", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL ? "EINVAL" : "?");
    errno = 0;
    int rc = munmap((char *)r + 1, 4096);
    printf("munmap unaligned: %d %s\n", rc, errno == EINVAL ? "EINVAL" : "?");
    errno = 0;
    rc = mprotect((void *)0x10000000000, 4096, PROT_READ);
    printf("mprotect unmapped: %d %s\n", rc, errno == ENOMEM ? "ENOMEM" : "?");

    /* malloc of many sizes. */
    void *p[200];
    for (int i = 0; i < 200; i++) {
        p[i] = malloc((size_t)(i * 997) % 70000 + 1);
        memset(p[i], i, (size_t)(i * 997) % 70000 + 1);
    }
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        unsigned char *q = p[i];
        bad += q[(size_t)(i * 997) % 70000] != (unsigned char)i;
        free(p[i]);
    }
    printf("malloc blocks intact: %s\n", bad ? "no" : "yes");
    return 0;
}
