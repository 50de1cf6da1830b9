/* pkeys: memory protection keys (pkeys(7)) as Linux x86-64 has them.
 *
 *   pkeys calls    pkey_alloc/pkey_free/pkey_mprotect with good and bad
 *                  input: Linux's errno for each, 15 keys then ENOSPC.
 *                  Prints nothing that depends on the CPU beyond the calls'
 *                  results, so a CPU without the feature (the host here;
 *                  Vigil booted with "nopku") prints the same on both.
 *   pkeys access   with the CPU feature: what the keys enforce. A write
 *                  through a write-disabled key and any access through an
 *                  access-disabled one are SIGSEGV with si_code SEGV_PKUERR
 *                  and si_pkey; the same access is fine once PKRU allows
 *                  it or the page is given key 0 again; the kernel's own
 *                  access for a syscall (read/write into/out of the page)
 *                  is EFAULT under the same rules; a handler runs with
 *                  PKRU's init value and sigreturn gives the old one back;
 *                  fork keeps PKRU and the keys, exec resets both; two
 *                  threads keep their own PKRU across context switches;
 *                  smaps names the key.
 *   pkeys pkru     print PKRU and the first key pkey_alloc gives (after exec)
 *
 * Each line says what happened; the test compares with the host (calls)
 * or with what the man pages say (access). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

#define PG 4096ul
#define AD 1                    /* PKEY_DISABLE_ACCESS */
#define WD 2                    /* PKEY_DISABLE_WRITE */

static long palloc(unsigned long flags, unsigned long rights) { return syscall(SYS_pkey_alloc, flags, rights); }
static long pfree(long key) { return syscall(SYS_pkey_free, key); }
static long pmprotect(void *a, size_t len, int prot, long key)
{
    return syscall(SYS_pkey_mprotect, a, len, prot, key);
}

static const char *res(long r)
{
    static char bufs[4][32];
    static int turn;
    char *b = bufs[turn++ % 4];
    if (r < 0)
        return ename(errno);
    snprintf(b, 32, "%ld", r);
    return b;
}

static char *page(int prot)
{
    char *p = mmap(NULL, PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

static void calls(void)
{
    char *p = page(PROT_READ | PROT_WRITE);
    printf("pkey_alloc(flags 1): %s\n", res(palloc(1, 0)));
    printf("pkey_alloc(PKEY_DISABLE_EXECUTE): %s\n", res(palloc(0, 4)));
    printf("pkey_alloc(rights 8): %s\n", res(palloc(0, 8)));
    printf("pkey_alloc(rights -1): %s\n", res(palloc(0, ~0ul)));
    printf("pkey_free(-1): %s\n", res(pfree(-1)));
    printf("pkey_free(16): %s\n", res(pfree(16)));
    printf("pkey_free(5, never allocated): %s\n", res(pfree(5)));
    printf("pkey_mprotect(key 1, never allocated): %s\n", res(pmprotect(p, PG, PROT_READ, 1)));
    printf("pkey_mprotect(key 16): %s\n", res(pmprotect(p, PG, PROT_READ, 16)));
    printf("pkey_mprotect(key -2): %s\n", res(pmprotect(p, PG, PROT_READ, -2)));
    printf("pkey_mprotect(key -1, as mprotect): %s\n", res(pmprotect(p, PG, PROT_READ | PROT_WRITE, -1)));
    printf("pkey_mprotect(length 0, key 99): %s\n", res(pmprotect(p, 0, PROT_READ, 99)));
    printf("pkey_mprotect(unaligned, key 99): %s\n", res(pmprotect(p + 1, PG, PROT_READ, 99)));
    printf("pkey_mprotect(bad prot, key 99): %s\n", res(pmprotect(p, PG, 0x40, 99)));
    /* Take every key there is. */
    int keys[32], n = 0;
    long k;
    while (n < 32 && (k = palloc(0, 0)) >= 0)
        keys[n++] = (int)k;
    int last = errno;
    printf("keys allocated:");
    for (int i = 0; i < n; i++)
        printf(" %d", keys[i]);
    printf(" (%d), then %s\n", n, n < 32 ? ename(last) : "none");
    if (n) {
        printf("pkey_mprotect(allocated key %d): %s\n", keys[n - 1],
               res(pmprotect(p, PG, PROT_READ | PROT_WRITE, keys[n - 1])));
        printf("pkey_mprotect(unmapped range, allocated key): %s\n",
               res(pmprotect(p + 64 * PG * 1024, PG, PROT_READ, keys[0])));
        printf("pkey_mprotect(key 0): %s\n", res(pmprotect(p, PG, PROT_READ | PROT_WRITE, 0)));
        printf("pkey_free(%d): %s", keys[2], res(pfree(keys[2])));
        printf(", again: %s\n", res(pfree(keys[2])));
        printf("pkey_alloc after that: %s\n", res(palloc(0, 0)));
        for (int i = 0; i < n; i++)
            pfree(keys[i]);
    } else {
        printf("pkey_mprotect(key 0): %s\n", res(pmprotect(p, PG, PROT_READ | PROT_WRITE, 0)));
        printf("pkey_free(0): %s\n", res(pfree(0)));
    }
    munmap(p, PG);
    printf("pkeys calls done\n");
}

/* ---- access: needs the CPU feature ---- */

static uint32_t rdpkru(void)
{
    uint32_t a, d;
    __asm__ volatile("rdpkru" : "=a"(a), "=d"(d) : "c"(0));
    return a;
}

static void wrpkru(uint32_t v)
{
    __asm__ volatile("wrpkru" ::"a"(v), "c"(0), "d"(0) : "memory");
}

static bool ospke(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    return c & (1u << 4);
}

static sigjmp_buf back;
static volatile int got_code, got_pkey;
static volatile uintptr_t got_addr;
static volatile uint32_t handler_pkru;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    got_code = si->si_code;
    got_addr = (uintptr_t)si->si_addr;
    got_pkey = *(int *)((char *)si + 32);   /* si_pkey (glibc names it, musl not) */
    handler_pkru = rdpkru();
    siglongjmp(back, 1);
}

/* Touch p (a write if write) with PKRU set to pkru: "ok" or what stopped it. */
static const char *touch(volatile char *p, bool write, uint32_t pkru)
{
    static char out[96];
    got_code = got_pkey = -1;
    got_addr = 0;
    if (sigsetjmp(back, 1)) {
        wrpkru(0);                          /* the handler left PKRU at its init value */
        snprintf(out, sizeof(out), "SIGSEGV si_code %d si_pkey %d si_addr %s", got_code,
                 got_pkey, got_addr == (uintptr_t)p ? "the page" : "elsewhere");
        return out;
    }
    wrpkru(pkru);
    if (write)
        *p = 'w';
    else
        (void)*p;
    wrpkru(0);
    return "ok";
}

static uint32_t deny(int key, uint32_t rights) { return rights << (2 * key); }

static volatile long other_faults, other_rounds;
static char *shared_page;
static int thread_key;
static int to_other[2], to_main[2];

/* The other thread: its PKRU write-disables thread_key, and stays so
 * however often the two hand over to each other (a pipe each way: on one
 * CPU every handover is a context switch). */
static void *other_thread(void *arg)
{
    (void)arg;
    wrpkru(deny(thread_key, WD));
    char c;
    while (read(to_other[0], &c, 1) == 1 && c == 'g') {
        if ((rdpkru() & deny(thread_key, 3)) != deny(thread_key, WD))
            other_faults++;
        other_rounds++;
        write(to_main[1], "b", 1);
    }
    return NULL;
}

static void threads(void)
{
    thread_key = (int)palloc(0, 0);
    shared_page = page(PROT_READ | PROT_WRITE);
    pmprotect(shared_page, PG, PROT_READ | PROT_WRITE, thread_key);
    if (pipe(to_other) || pipe(to_main))
        exit(2);
    wrpkru(0);
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    long mine_wrong = 0, writes = 0;
    char c;
    for (int i = 0; i < 200; i++) {
        write(to_other[1], "g", 1);
        if (read(to_main[0], &c, 1) != 1)
            break;
        if (rdpkru() & deny(thread_key, 3))
            mine_wrong++;
        if (strcmp(touch(shared_page, true, rdpkru()), "ok"))
            mine_wrong++;
        writes++;
    }
    write(to_other[1], "s", 1);
    pthread_join(t, NULL);
    printf("threads: %s; %s\n",
           mine_wrong ? "a thread's PKRU leaked to another thread (this one's writes faulted)"
                      : "this thread's writes all went through",
           other_faults ? "a thread's PKRU leaked to another thread (the other's changed)"
                        : "the other thread's PKRU stayed its own");
    printf("threads: handed over back and forth %s\n", other_rounds == 200 && writes == 200 ? "200 times" : "less");
    pfree(thread_key);
    munmap(shared_page, PG);
}

static volatile uint32_t usr1_pkru;
static void on_usr1(int sig) { (void)sig; usr1_pkru = rdpkru(); wrpkru(0x12345678 & ~3u); }

static void access_(const char *self)
{
    if (!ospke()) {
        printf("pkeys access: no OSPKE\n");
        return;
    }
    printf("PKRU at start: 0x%08x\n", rdpkru());
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    char *p = page(PROT_READ | PROT_WRITE);
    strcpy(p, "data");
    uint32_t before = rdpkru();
    int wd = (int)palloc(0, WD), ad = (int)palloc(0, AD);
    printf("pkey_alloc(WD) %d, pkey_alloc(AD) %d: PKRU bits set %s\n", wd, ad,
           (rdpkru() & (deny(wd, 3) | deny(ad, 3))) == (deny(wd, WD) | deny(ad, AD)) &&
           (rdpkru() & ~(deny(wd, 3) | deny(ad, 3))) == (before & ~(deny(wd, 3) | deny(ad, 3)))
               ? "as asked" : "WRONG");
    pmprotect(p, PG, PROT_READ | PROT_WRITE, wd);
    printf("read through a write-disabled key: %s\n", touch(p, false, deny(wd, WD)));
    const char *w = touch(p, true, deny(wd, WD));
    printf("write through a write-disabled key: %s\n",
           !strcmp(w, "ok") ? "a write through a key with write-disable succeeded" : w);
    printf("handler's PKRU: 0x%08x\n", handler_pkru);
    printf("write with the key's rights cleared (WRPKRU): %s\n", touch(p, true, 0));
    pmprotect(p, PG, PROT_READ | PROT_WRITE, ad);
    const char *r = touch(p, false, deny(ad, AD));
    printf("read through an access-disabled key: %s\n",
           !strcmp(r, "ok") ? "a read through a key with access-disable succeeded" : r);
    printf("write through an access-disabled key: %s\n", touch(p, true, deny(ad, AD)));
    printf("read with key %d only write-disabled: %s\n", ad,
           touch(p, false, deny(ad, WD)));
    pmprotect(p, PG, PROT_READ | PROT_WRITE, 0);
    printf("write after pkey_mprotect(key 0), PKRU denying key %d: %s\n", ad,
           touch(p, true, deny(ad, AD)));
    /* A read-only page with a write-disabled key: the key is the reason given. */
    char *ro = page(PROT_READ);
    pmprotect(ro, PG, PROT_READ, wd);
    printf("write to a read-only page with a write-disabled key: %s\n", touch(ro, true, deny(wd, WD)));
    /* A page never touched: the key is checked before it is filled. */
    char *fresh = page(PROT_READ | PROT_WRITE);
    pmprotect(fresh, PG, PROT_READ | PROT_WRITE, ad);
    printf("first touch through an access-disabled key: %s\n", touch(fresh, false, deny(ad, AD)));
    unsigned char vec;
    mincore(fresh, PG, &vec);
    printf("page filled by that touch: %s\n", vec & 1 ? "yes" : "no");
    /* mprotect keeps the key. */
    mprotect(fresh, PG, PROT_READ);
    printf("read after mprotect (key kept): %s\n", touch(fresh, false, deny(ad, AD)));
    /* The kernel's accesses for a syscall follow the same rules. */
    int fd[2];
    if (pipe(fd))
        exit(2);
    pmprotect(p, PG, PROT_READ | PROT_WRITE, wd);
    write(fd[1], "xy", 2);
    wrpkru(deny(wd, WD));
    long got = read(fd[0], p, 2);
    int e = errno;
    wrpkru(0);
    printf("read(2) into a write-disabled page: %s\n", got < 0 ? ename(e) : "it wrote the page");
    wrpkru(deny(wd, WD));
    got = write(fd[1], p, 4);
    wrpkru(0);
    printf("write(2) from a write-disabled page: %s\n", got < 0 ? ename(errno) : res(got));
    pmprotect(p, PG, PROT_READ | PROT_WRITE, ad);
    wrpkru(deny(ad, AD));
    got = write(fd[1], p, 4);
    e = errno;
    wrpkru(0);
    printf("write(2) from an access-disabled page: %s\n", got < 0 ? ename(e) : "it read the page");
    close(fd[0]);
    close(fd[1]);
    /* smaps names the key. */
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[256], want[32];
    snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
    bool in = false, found = false;
    while (f && fgets(line, sizeof(line), f)) {
        if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' '))
            in = !strncmp(line, want, strlen(want));
        unsigned key;
        if (in && sscanf(line, "ProtectionKey: %u", &key) == 1) {
            printf("smaps: ProtectionKey %u (key %d)\n", key, ad);
            found = true;
        }
    }
    if (f)
        fclose(f);
    if (!found)
        printf("smaps: no ProtectionKey line\n");
    /* A handler runs with PKRU's init value; sigreturn restores the old. */
    signal(SIGUSR1, on_usr1);
    wrpkru(deny(wd, WD) | deny(ad, AD));
    raise(SIGUSR1);
    uint32_t after = rdpkru();
    wrpkru(0);
    printf("SIGUSR1 handler's PKRU: 0x%08x; after sigreturn: %s\n", usr1_pkru,
           after == (deny(wd, WD) | deny(ad, AD)) ? "restored" : "NOT restored");
    /* fork keeps PKRU and the allocated keys. */
    wrpkru(deny(wd, WD));
    pid_t pid = fork();
    if (pid == 0) {
        printf("fork: child's PKRU %s", rdpkru() == deny(wd, WD) ? "the parent's" : "different");
        printf("; pkey_free(%d) %s", ad, res(pfree(ad)));
        printf("; next key %s\n", res(palloc(0, 0)));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    wrpkru(0);
    /* exec resets both. */
    wrpkru(deny(wd, WD) | deny(ad, AD));
    pid = fork();
    if (pid == 0) {
        execl(self, self, "pkru", (char *)NULL);
        _exit(3);
    }
    waitpid(pid, NULL, 0);
    wrpkru(0);
    threads();
    printf("pkeys access done\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "calls";
    if (!strcmp(mode, "calls"))
        calls();
    else if (!strcmp(mode, "access"))
        access_(argv[0]);
    else if (!strcmp(mode, "pkru"))
    {
        printf("exec: PKRU 0x%08x", rdpkru());
        printf(", first key %s\n", res(palloc(0, 0)));
    }
    return 0;
}
