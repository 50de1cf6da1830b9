/* vdso/vdso.c - Vigil's vDSO: the few system calls a program may answer
 * in user space, as Linux's vdso(7) lists them for x86-64 (version
 * LINUX_2.6): __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time,
 * __vdso_clock_getres and __vdso_getcpu, with the unprefixed weak names
 * beside them.
 *
 * Why: a clock read is the commonest system call there is (a logger
 * stamps every line, a loop checks its deadline), and it needs no
 * privilege: the clock is the TSC, which ring 3 may read, and the few
 * numbers that turn it into time. The kernel maps those numbers, read-only,
 * one page before this image ([vvar], kernel/sys/vvar.h) and this code
 * computes time from them with the very functions the system calls use,
 * so both give the same answer (and neither runs backwards after the other).
 *
 * What falls back to the real system call, from here: a clock the page
 * does not serve (the CPU-time clocks, the alarm clocks, an id that is no
 * clock: the kernel answers, EINVAL included). getcpu reads the CPU's
 * number with RDPID, or from a GDT entry's limit (lsl) without it. The result is the kernel's raw one (-errno), as Linux's vDSO
 * returns it; libc turns it into errno. A bad pointer is written here
 * directly and faults (SIGSEGV), as with Linux's vDSO.
 *
 * This file is linked into a shared object of its own (vdso/vdso.lds): no
 * libc, no data, no relocations (harness/vdsocheck.py refuses an image
 * with any), position-independent code that reaches the vvar page
 * relative to itself. */
#include "../kernel/sys/vvar.h"

/* SYS_clock_gettime...: Linux's numbers, from the kernel's one list. */
enum {
#define SYSCALL(nr, name, fn, lock) SYS_##name = nr,
#define UNIMPL(nr, name)            SYS_##name = nr,
#include "../kernel/sys/syscalls.def"
#undef SYSCALL
#undef UNIMPL
};

/* The vvar page: the linker script puts this name one page before the
 * image's first byte (hidden: reached PC-relative, no GOT). */
extern const struct vvar vigil_vvar __attribute__((visibility("hidden")));

struct timespec_k { int64_t tv_sec, tv_nsec; };
struct timeval_k { int64_t tv_sec, tv_usec; };
struct timezone_k { int32_t tz_minuteswest, tz_dsttime; };

static long syscall2(long nr, long a, long b)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

int __vdso_clock_gettime(int clk, struct timespec_k *ts)
{
    uint64_t ns;
    if (!vv_clock_ns(&vigil_vvar, clk, &ns))
        return (int)syscall2(SYS_clock_gettime, clk, (long)ts);
    ts->tv_sec = (int64_t)(ns / (uint64_t)VV_NS);
    ts->tv_nsec = (int64_t)(ns % (uint64_t)VV_NS);
    return 0;
}

int __vdso_gettimeofday(struct timeval_k *tv, struct timezone_k *tz)
{
    uint64_t ns;
    if (tv) {
        vv_clock_ns(&vigil_vvar, CLOCK_REALTIME, &ns);
        tv->tv_sec = (int64_t)(ns / (uint64_t)VV_NS);
        tv->tv_usec = (int64_t)(ns % (uint64_t)VV_NS / 1000);
    }
    if (tz)
        tz->tz_minuteswest = 0, tz->tz_dsttime = 0;     /* the kernel keeps UTC */
    return 0;
}

int64_t __vdso_time(int64_t *t)
{
    uint64_t ns;
    vv_clock_ns(&vigil_vvar, CLOCK_REALTIME, &ns);
    int64_t s = (int64_t)(ns / (uint64_t)VV_NS);
    if (t)
        *t = s;
    return s;
}

int __vdso_clock_getres(int clk, struct timespec_k *res)
{
    uint64_t ns;
    /* The clocks this page serves tick in nanoseconds (the TSC's ns),
     * as the kernel's clock_getres says; the others are the kernel's. */
    if (clk < 0 || !vv_clock_ns(&vigil_vvar, clk, &ns))
        return (int)syscall2(SYS_clock_getres, clk, (long)res);
    if (res)
        res->tv_sec = 0, res->tv_nsec = 1;
    return 0;
}

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
    uint64_t p;
    if (__atomic_load_n(&vigil_vvar.getcpu, __ATOMIC_RELAXED) == VV_GETCPU_RDPID)
        __asm__ volatile("rdpid %0" : "=r"(p));                 /* IA32_TSC_AUX */
    else
        __asm__ volatile("lsl %1, %0" : "=r"(p) : "r"((uint64_t)VV_CPUNUM_SELECTOR));
    if (cpu)
        *cpu = (unsigned)(p & 0xfff);
    if (node)
        *node = (unsigned)(p >> 12);
    return 0;
}

int clock_gettime(int, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_k *, struct timezone_k *) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));

/* A PT_NOTE naming the Linux whose ABI this follows (6.1.0, as uname's
 * release says), the note Linux's vDSO carries. */
static const struct {
    uint32_t namesz, descsz, type;
    char name[8];
    uint32_t version;
} linux_note __attribute__((section(".note.Linux"), aligned(4), used)) = {
    6, 4, 0, "Linux", (6 << 16) | (1 << 8) | 0,
};
