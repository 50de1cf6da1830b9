/* vdso: the vDSO (AT_SYSINFO_EHDR) against the system calls it stands in
 * for, the same on Linux and on Vigil (tests/test_vdso.py compares).
 *
 * The vDSO is found the way a libc finds it: the auxiliary vector gives its
 * ELF header; its dynamic section gives the symbol table, the strings, the
 * symbol versions; each function is looked up by name and version
 * (LINUX_2.6), without libc's help. Then:
 *
 *   vdso check      the five functions are there; clock_getres agrees with
 *                   the system call for every clock id; an invalid id gives
 *                   -EINVAL through the vDSO; gettimeofday and time agree
 *                   with clock_gettime; getcpu agrees with the system call
 *                   on each CPU; readings through the vDSO and the system
 *                   call, interleaved, never go backwards (REALTIME,
 *                   MONOTONIC, BOOTTIME, the COARSE and RAW clocks, TAI),
 *                   from two threads moving between CPUs 0 and 1.
 *   vdso maps       the [vvar] and [vdso] lines of /proc/self/maps (address
 *                   left out), and what mprotect, /proc/self/mem, munmap and
 *                   mremap do with them.
 *   vdso dump       the [vdso] region's bytes, base64, between markers.
 *   vdso vvarwrite  a child writes to [vvar]: it must die of SIGSEGV, and
 *                   the parent's clock goes on.
 *   vdso settime    (root, Vigil only: it sets the clock) clock_settime
 *                   forward 1000 s: the vDSO's REALTIME follows at once, in
 *                   this process and in a child forked before; then back.
 *   vdso host [N]   check (N rounds), maps, vvarwrite: one run on the host;
 *   vdso vigil [N]  ... then settime and dump: one boot of Vigil.
 *
 * Each check prints one line; a failure says what went wrong. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*getres_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static gettime_fn v_gettime;
static getres_fn v_getres;
static gettimeofday_fn v_gettimeofday;
static time_fn v_time;
static getcpu_fn v_getcpu;
static int failures;

#define FAIL(...) do { printf("FAIL: " __VA_ARGS__); printf("\n"); failures++; } while (0)

/* ---- finding symbols in the vDSO by name and version ---- */
static const char *strtab;
static const Elf64_Sym *symtab;
static const Elf64_Half *versym;
static const Elf64_Verdef *verdef;
static uint32_t nsyms;
static uintptr_t load_offset;

static int vdso_open(void)
{
    uintptr_t base = getauxval(AT_SYSINFO_EHDR);
    if (!base)
        return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    int loads = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !loads++)
            load_offset = base + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    if (!dyn || !loads)
        return -1;
    const uint32_t *hash = NULL, *gnu_hash = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = dyn->d_un.d_ptr + load_offset;
        switch (dyn->d_tag) {
        case DT_STRTAB: strtab = (const char *)p; break;
        case DT_SYMTAB: symtab = (const Elf64_Sym *)p; break;
        case DT_HASH: hash = (const uint32_t *)p; break;
        case DT_GNU_HASH: gnu_hash = (const uint32_t *)p; break;
        case DT_VERSYM: versym = (const Elf64_Half *)p; break;
        case DT_VERDEF: verdef = (const Elf64_Verdef *)p; break;
        }
    }
    if (!strtab || !symtab || !hash || !gnu_hash || !versym || !verdef)
        return -1;
    nsyms = hash[1];                            /* DT_HASH's nchain: one per symbol */
    return 0;
}

static const char *version_of(unsigned idx)
{
    const Elf64_Verdef *d = verdef;
    for (;;) {
        if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == (idx & 0x7fff))
            return strtab + ((const Elf64_Verdaux *)((const char *)d + d->vd_aux))->vda_name;
        if (!d->vd_next)
            return "";
        d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
    }
}

static void *vdso_sym(const char *name, const char *version)
{
    for (uint32_t i = 1; i < nsyms; i++) {
        const Elf64_Sym *s = &symtab[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF)
            continue;
        if (strcmp(strtab + s->st_name, name) || strcmp(version_of(versym[i]), version))
            continue;
        return (void *)(load_offset + s->st_value);
    }
    return NULL;
}

/* ---- the checks ---- */
static long long ns_of(const struct timespec *t) { return t->tv_sec * 1000000000ll + t->tv_nsec; }

static int sys_gettime(clockid_t c, struct timespec *t) { return (int)syscall(SYS_clock_gettime, c, t); }

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);    /* a CPU that is not there: stay */
}

static const clockid_t clocks[] = {
    CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_TAI,
};
static const char *clock_names[] = {
    "REALTIME", "MONOTONIC", "BOOTTIME", "REALTIME_COARSE", "MONOTONIC_COARSE",
    "MONOTONIC_RAW", "TAI",
};
#define NCLOCKS (int)(sizeof(clocks) / sizeof(clocks[0]))

struct worker {
    int id, rounds;
    char bad[256];
};

/* vDSO, system call, vDSO, system call...: every reading at least the one
 * before, whichever path took it, while the thread moves between CPUs. */
static void *interleave(void *arg)
{
    struct worker *w = arg;
    for (int r = 0; r < w->rounds && !w->bad[0]; r++) {
        pin((r + w->id) & 1);
        for (int k = 0; k < NCLOCKS && !w->bad[0]; k++) {
            struct timespec t[4];
            v_gettime(clocks[k], &t[0]);
            sys_gettime(clocks[k], &t[1]);
            v_gettime(clocks[k], &t[2]);
            sys_gettime(clocks[k], &t[3]);
            for (int i = 1; i < 4; i++)
                if (ns_of(&t[i]) < ns_of(&t[i - 1]))
                    snprintf(w->bad, sizeof(w->bad),
                             "%s went backwards by %lld ns from the %s reading to the %s one",
                             clock_names[k], ns_of(&t[i - 1]) - ns_of(&t[i]),
                             (i - 1) & 1 ? "syscall" : "vDSO", i & 1 ? "syscall" : "vDSO");
        }
    }
    return NULL;
}

static void check_interleaved(int rounds)
{
    struct worker w[2] = { { 0, rounds, "" }, { 1, rounds, "" } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, interleave, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++)
        if (w[i].bad[0])
            FAIL("thread %d: %s", i, w[i].bad);
    printf("interleaved vDSO and syscall readings of %d clocks never went backwards\n", NCLOCKS);
}

static void check_getres(void)
{
    int same = 1;
    for (int c = -3; c <= 15; c++) {
        struct timespec a = { -1, -1 }, b = { -1, -1 };
        int ra = v_getres(c, &a), rb = syscall(SYS_clock_getres, c, &b) < 0 ? -errno : 0;
        if (ra != rb || a.tv_sec != b.tv_sec || a.tv_nsec != b.tv_nsec) {
            FAIL("clock_getres(%d): vDSO %d {%ld, %ld}, syscall %d {%ld, %ld}", c, ra,
                 (long)a.tv_sec, a.tv_nsec, rb, (long)b.tv_sec, b.tv_nsec);
            same = 0;
        }
    }
    if (same)
        printf("clock_getres: the vDSO says what the syscall says for ids -3..15\n");
    printf("clock_getres(MONOTONIC, NULL) via vDSO: %d\n", v_getres(CLOCK_MONOTONIC, NULL));
}

static void check_invalid(void)
{
    static const clockid_t bad[] = { 10, 12, 16, 100, -253 /* ~31 << 3 | 3: no kind 3 */, 0x7fffffff };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct timespec t;
        printf("clock_gettime(%d) via vDSO: %d, syscall: %d\n", bad[i], v_gettime(bad[i], &t),
               sys_gettime(bad[i], &t) < 0 ? -errno : 0);
    }
    struct timespec t;
    printf("clock_gettime(PROCESS_CPUTIME) via vDSO: %d\n", v_gettime(CLOCK_PROCESS_CPUTIME_ID, &t));
}

static void check_agree(void)
{
    int ok = 1;
    for (int i = 0; i < 2000 && ok; i++) {
        struct timespec a, b;
        struct timeval tv;
        v_gettime(CLOCK_REALTIME, &a);
        v_gettimeofday(&tv, NULL);
        time_t t = v_time(NULL), t2;
        v_time(&t2);
        v_gettime(CLOCK_REALTIME, &b);
        long long us = tv.tv_sec * 1000000ll + tv.tv_usec;
        /* Linux's time() is the last tick's second: up to a tick behind. */
        if (us < ns_of(&a) / 1000 || us > ns_of(&b) / 1000) {
            FAIL("gettimeofday %lld us is outside clock_gettime's [%lld, %lld] us", us,
                 ns_of(&a) / 1000, ns_of(&b) / 1000);
            ok = 0;
        }
        if (t < (ns_of(&a) - 20000000) / 1000000000 || t > b.tv_sec || t2 < t || t2 > b.tv_sec)
        {
            FAIL("time %ld (and %ld) is outside clock_gettime's [%ld, %ld]", (long)t, (long)t2,
                 (long)a.tv_sec, (long)b.tv_sec);
            ok = 0;
        }
    }
    if (ok)
        printf("gettimeofday and time agree with clock_gettime\n");
}

static void check_getcpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (int cpu = 0; cpu < 2 && cpu < n; cpu++) {
        pin(cpu);
        sched_yield();
        unsigned a = 99, na = 99, b = 99, nb = 99;
        long ra = v_getcpu(&a, &na, NULL), rb = syscall(SYS_getcpu, &b, &nb, NULL);
        if (ra || rb || a != b || na != nb || (int)a != cpu)
            FAIL("getcpu pinned to CPU %d: vDSO %ld cpu %u node %u, syscall %ld cpu %u node %u",
                 cpu, ra, a, na, rb, b, nb);
        else
            printf("getcpu pinned to CPU %d: the vDSO and the syscall say %u\n", cpu, a);
    }
    unsigned a = 99;
    printf("getcpu(cpu, NULL, NULL) via vDSO: %ld\n", v_getcpu(&a, NULL, NULL));
}

static int resolve(void)
{
    static const char *names[] = { "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
                                   "__vdso_clock_getres", "__vdso_getcpu", "clock_gettime",
                                   "gettimeofday", "time", "clock_getres", "getcpu" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        printf("%s@LINUX_2.6: %s\n", names[i], vdso_sym(names[i], "LINUX_2.6") ? "found" : "missing");
    v_gettime = (gettime_fn)vdso_sym("__vdso_clock_gettime", "LINUX_2.6");
    v_getres = (getres_fn)vdso_sym("__vdso_clock_getres", "LINUX_2.6");
    v_gettimeofday = (gettimeofday_fn)vdso_sym("__vdso_gettimeofday", "LINUX_2.6");
    v_time = (time_fn)vdso_sym("__vdso_time", "LINUX_2.6");
    v_getcpu = (getcpu_fn)vdso_sym("__vdso_getcpu", "LINUX_2.6");
    if (!v_gettime || !v_getres || !v_gettimeofday || !v_time || !v_getcpu) {
        FAIL("a vDSO function is missing");
        return 1;
    }
    return 0;
}

static int do_check(int rounds)
{
    if (resolve())
        return 1;
    check_getres();
    check_invalid();
    check_agree();
    check_getcpu();
    check_interleaved(rounds);
    printf("vdso check done\n");
    return 0;
}

/* ---- the mappings ---- */
static int find_region(const char *name, uintptr_t *lo, uintptr_t *hi, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, name)) {
            sscanf(line, "%lx-%lx %4s", lo, hi, perms);
            found = 1;
        }
    if (f)
        fclose(f);
    return found;
}

static int do_maps(void)
{
    uintptr_t vlo, vhi, dlo, dhi;
    char vp[5] = "", dp[5] = "";
    if (!find_region("[vvar]", &vlo, &vhi, vp) || !find_region("[vdso]", &dlo, &dhi, dp)) {
        FAIL("no [vvar] or [vdso] in /proc/self/maps");
        return 1;
    }
    printf("[vvar] %s, [vdso] %s, [vdso] at AT_SYSINFO_EHDR: %s, [vvar] below [vdso]: %s\n", vp, dp,
           dlo == getauxval(AT_SYSINFO_EHDR) ? "yes" : "no", vhi <= dlo ? "yes" : "no");
    int r = mprotect((void *)vlo, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect([vvar], PROT_READ|PROT_WRITE): %d %s\n", r, r ? strerror(errno) : "");
    int fd = open("/proc/self/mem", O_RDWR);
    char byte = 0;
    r = (int)pwrite(fd, &byte, 1, (off_t)vlo);
    printf("write [vvar] through /proc/self/mem: %d %s\n", r, r < 0 ? strerror(errno) : "");
    close(fd);
    /* A child unmaps both and goes on with system calls; another moves the
     * vDSO (not the vvar) elsewhere: the kernel only has to survive it. */
    pid_t pid = fork();
    if (pid == 0) {
        int a = munmap((void *)vlo, vhi - vlo), b = munmap((void *)dlo, dhi - dlo);
        struct timespec t;
        _exit(a == 0 && b == 0 && syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t) == 0 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("a child unmaps [vvar] and [vdso]: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    pid = fork();
    if (pid == 0) {
        char *to = mmap(NULL, dhi - vlo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void *m = mremap((void *)vlo, vhi - vlo, vhi - vlo, MREMAP_MAYMOVE | MREMAP_FIXED, to);
        void *m2 = mremap((void *)dlo, dhi - dlo, dhi - dlo, MREMAP_MAYMOVE | MREMAP_FIXED,
                          to + (dlo - vlo));
        if (m == MAP_FAILED || m2 == MAP_FAILED)
            _exit(2);
        /* The pair moved together: the vDSO finds its vvar page again. */
        gettime_fn g = (gettime_fn)((uintptr_t)v_gettime - vlo + (uintptr_t)m);
        struct timespec t;
        _exit(g(CLOCK_MONOTONIC, &t) == 0 && t.tv_sec >= 0 ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    printf("a child moves [vvar] and [vdso] together and calls it there: exit %d\n",
           WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    pid = fork();
    if (pid == 0) {
        struct timespec t;
        _exit(v_gettime(CLOCK_REALTIME, &t) == 0 ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    printf("a forked child calls the vDSO: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    printf("vdso maps done\n");
    return 0;
}

static int do_dump(void)
{
    uintptr_t lo, hi;
    char p[5];
    if (!find_region("[vdso]", &lo, &hi, p))
        return 1;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)lo;
    size_t n = hi - lo;
    printf("vdso-image-begin %zu\n", n);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        putchar(b64[v >> 18 & 63]);
        putchar(b64[v >> 12 & 63]);
        putchar(i + 1 < n ? b64[v >> 6 & 63] : '=');
        putchar(i + 2 < n ? b64[v & 63] : '=');
        if (i % 57 == 54)
            putchar('\n');
    }
    printf("\nvdso-image-end\n");
    return 0;
}

static int do_vvarwrite(void)
{
    uintptr_t lo, hi;
    char p[5];
    if (!find_region("[vvar]", &lo, &hi, p)) {
        FAIL("no [vvar]");
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        volatile char *v = (volatile char *)lo;
        *v = *v;                                /* the same byte back: harmless if it goes through */
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
        printf("a write to [vvar] killed the writer with SIGSEGV\n");
    else
        FAIL("a write to [vvar] did not fault: the writer %s %d", WIFEXITED(st) ? "exited" : "died of signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("the parent's clock goes on: %s\n", ns_of(&b) >= ns_of(&a) ? "yes" : "no");
    printf("vdso vvarwrite done\n");
    return 0;
}

/* |vDSO REALTIME - syscall REALTIME| in ms, from this process. */
static long long skew_ms(void)
{
    struct timespec a, b, c;
    v_gettime(CLOCK_REALTIME, &a);
    sys_gettime(CLOCK_REALTIME, &b);
    v_gettime(CLOCK_REALTIME, &c);
    long long lo = ns_of(&a) < ns_of(&c) ? ns_of(&a) : ns_of(&c);
    long long d = ns_of(&b) - lo;
    return (d < 0 ? -d : d) / 1000000;
}

static int do_settime(void)
{
    if (resolve())
        return 1;
    int pipefd[2];
    pipe(pipefd);
    pid_t pid = fork();
    if (pid == 0) {                             /* forked before the change */
        char c;
        read(pipefd[0], &c, 1);
        _exit(skew_ms() < 1000 ? 0 : 1);
    }
    struct timespec now;
    sys_gettime(CLOCK_REALTIME, &now);
    now.tv_sec += 1000;
    if (clock_settime(CLOCK_REALTIME, &now)) {
        FAIL("clock_settime: %s", strerror(errno));
        return 1;
    }
    long long mine = skew_ms();
    write(pipefd[1], "x", 1);
    int st;
    waitpid(pid, &st, 0);
    sys_gettime(CLOCK_REALTIME, &now);
    now.tv_sec -= 1000;
    clock_settime(CLOCK_REALTIME, &now);
    if (mine >= 1000)
        FAIL("after clock_settime the vDSO's REALTIME differs from the syscall's by %lld ms "
             "(it still reads the old clock)", mine);
    else
        printf("after clock_settime the vDSO's REALTIME is the syscall's\n");
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        FAIL("in a child forked before clock_settime the vDSO's REALTIME differs from the syscall's");
    else
        printf("... in a child forked before it too\n");
    printf("after setting it back: %s\n", skew_ms() < 1000 ? "the same" : "different");
    printf("vdso settime done\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (vdso_open()) {
        printf("no vDSO (AT_SYSINFO_EHDR %#lx)\n", getauxval(AT_SYSINFO_EHDR));
        return 1;
    }
    const char *mode = argc > 1 ? argv[1] : "check";
    int r;
    if (!strcmp(mode, "check"))
        r = do_check(argc > 2 ? atoi(argv[2]) : 20000);
    else if (!strcmp(mode, "maps"))
        r = resolve() || do_maps();
    else if (!strcmp(mode, "dump"))
        r = do_dump();
    else if (!strcmp(mode, "vvarwrite"))
        r = do_vvarwrite();
    else if (!strcmp(mode, "settime"))
        r = do_settime();
    else if (!strcmp(mode, "host"))             /* what both run: one run each */
        r = do_check(argc > 2 ? atoi(argv[2]) : 20000) || do_maps() || do_vvarwrite();
    else if (!strcmp(mode, "vigil")) {          /* ... and then what only Vigil may run */
        r = do_check(argc > 2 ? atoi(argv[2]) : 20000);
        r |= do_maps();                         /* each runs whatever the one before found */
        r |= do_vvarwrite();
        r |= do_settime();
        r |= do_dump();
    }
    else
        r = 2;
    printf("vdso %s: %d failures\n", mode, failures);
    return r || failures;
}
