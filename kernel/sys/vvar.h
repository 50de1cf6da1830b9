/* sys/vvar.h - the clock every program reads: one page the kernel writes and
 * every process maps read-only as [vvar], and the one set of functions that
 * turn it and the TSC into time. The system calls (timekeep.c, sys_misc.c)
 * and the vDSO (vdso/vdso.c, built into user space) include this same file
 * and call these same functions on this same page, so a reading through the
 * vDSO and one through clock_gettime(2) can only differ by the TSC ticks
 * between them: one never goes backwards after the other, on any CPU.
 *
 * Why a page and not a copy. Linux keeps its timekeeper in the kernel and
 * copies the part the vDSO needs into the vvar at every tick and clock
 * change; two records, and a change that forgets the copy leaves programs
 * on a clock the kernel no longer keeps. Vigil has no tick-driven clock
 * (time is the TSC since boot, and a line over it for real time), so the
 * record can be the page itself: the kernel's clock_settime, adjtimex and
 * leap seconds write it, and both readers read it.
 *
 * The protocol (a sequence count): a writer, holding tk_lock, makes seq odd,
 * changes the clock, makes seq even again; a reader copies the clock
 * between two loads of seq and starts over if it saw an odd count or the
 * count changed. So a reader never uses half of one setting and half of
 * another, and never waits for anything but a writer that is mid-change.
 * The TSC is read inside the same window, so the snapshot is the one in
 * force at that instant.
 *
 * Nothing here may call or reference anything outside this file: the vDSO
 * has no kernel to link against and must hold no relocation. */
#pragma once
#include "../lib/types.h"
#include "../lib/abi.h"

#define VV_NS 1000000000ll

/* How __vdso_getcpu learns the CPU (the kernel decides at boot); both
 * read (node << 12) | cpu. */
#define VV_GETCPU_LSL     0             /* the limit of GDT entry VV_CPUNUM_SELECTOR (lsl) */
#define VV_GETCPU_RDPID   1             /* RDPID reads IA32_TSC_AUX */
#define VV_CPUNUM_SELECTOR 0x4b         /* GDT_CPUNUM (arch.h) | RPL 3 */

/* The clock: monotonic time is the TSC since boot; real time is a line over
 * it, rebased at every change (timekeep.c explains the line and leaps):
 *     realtime(m) = boot_unix + m + shift + (m - m0) * rate_ppb / 1e9
 * with a leap second (leap +1 insert, -1 delete) at realtime leap_at. */
struct vv_clock {
    uint64_t boot_tsc;          /* the TSC at monotonic 0 */
    uint64_t tsc_hz;            /* its rate, calibrated at boot */
    uint64_t boot_unix;         /* the RTC's seconds at monotonic 0 */
    uint64_t m0;                /* monotonic ns where the line was last rebased */
    int64_t shift;              /* realtime - (boot_unix + m) at m0 */
    int64_t rate_ppb;           /* how much faster than monotonic (adjtimex frequency + tick) */
    int64_t leap_at;            /* a leap second at this realtime ns (before correction); 0: none */
    int32_t leap;               /* +1 insert, -1 delete */
    int32_t tai;                /* CLOCK_TAI - CLOCK_REALTIME, seconds (adjtimex ADJ_TAI) */
};

struct vvar {
    uint32_t seq;               /* [tk_lock] to write; odd while clock changes */
    uint32_t getcpu;            /* [const] VV_GETCPU_*, set before any process runs */
    struct vv_clock clock;      /* [tk_lock] to write, under seq; readers: vv_snapshot */
};

/* The TSC, ordered after the loads before it (lfence): a reading is not
 * taken before the snapshot it is paired with. */
static inline uint64_t vv_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* A consistent copy of the clock, and the TSC at that moment. Field by
 * field through volatile loads: the vDSO has no memcpy to call. */
static inline uint64_t vv_snapshot(const struct vvar *v, struct vv_clock *c)
{
    const volatile struct vv_clock *s = &v->clock;
    uint32_t seq;
    uint64_t tsc;
    do {
        seq = __atomic_load_n(&v->seq, __ATOMIC_ACQUIRE);
        c->boot_tsc = s->boot_tsc, c->tsc_hz = s->tsc_hz, c->boot_unix = s->boot_unix;
        c->m0 = s->m0, c->shift = s->shift, c->rate_ppb = s->rate_ppb;
        c->leap_at = s->leap_at, c->leap = s->leap, c->tai = s->tai;
        tsc = vv_rdtsc();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((seq & 1) || __atomic_load_n(&v->seq, __ATOMIC_RELAXED) != seq);
    return tsc;
}

/* Monotonic ns at TSC value tsc. */
static inline uint64_t vv_mono_ns(const struct vv_clock *c, uint64_t tsc)
{
    uint64_t d = tsc - c->boot_tsc, hz = c->tsc_hz;
    return d / hz * (uint64_t)VV_NS + (d % hz) * (uint64_t)VV_NS / hz;
}

/* d * ppb / 1e9 without overflow (|ppb| < 2^31, d any). */
static inline int64_t vv_scale(int64_t d, int64_t ppb)
{
    return d / VV_NS * ppb + d % VV_NS * ppb / VV_NS;
}

/* The line's real time at monotonic m, before the leap's correction. */
static inline int64_t vv_raw_at(const struct vv_clock *c, uint64_t m)
{
    return (int64_t)(c->boot_unix * (uint64_t)VV_NS + m) + c->shift +
           vv_scale((int64_t)(m - c->m0), c->rate_ppb);
}

static inline int64_t vv_leap_corrected(const struct vv_clock *c, int64_t raw)
{
    if (c->leap > 0 && raw >= c->leap_at)
        return raw - VV_NS;                     /* 23:59:59 again */
    if (c->leap < 0 && raw >= c->leap_at - VV_NS)
        return raw + VV_NS;                     /* 23:59:59 never was */
    return raw;
}

static inline uint64_t vv_real_ns(const struct vv_clock *c, uint64_t m)
{
    int64_t r = vv_leap_corrected(c, vv_raw_at(c, m));
    return r < 0 ? 0 : (uint64_t)r;
}

/* The clocks the page serves: clock clk's time in ns, or false for a clock
 * it does not (the CPU-time clocks, the alarm clocks, ids that are no
 * clock): the caller asks the kernel, which knows them and EINVAL. The
 * coarse clocks read the same as the fine ones (Vigil's clock_getres says
 * 1 ns for both); BOOTTIME is MONOTONIC (Vigil never suspends). */
static inline bool vv_clock_ns(const struct vvar *v, int clk, uint64_t *ns)
{
    struct vv_clock c;
    switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_TAI: {
        uint64_t r = vv_real_ns(&c, vv_mono_ns(&c, vv_snapshot(v, &c)));
        *ns = clk == CLOCK_TAI ? r + (uint64_t)(int64_t)c.tai * (uint64_t)VV_NS : r;
        return true;
    }
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = vv_mono_ns(&c, vv_snapshot(v, &c));
        return true;
    default:
        return false;
    }
}
