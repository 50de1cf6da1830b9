/* sys/timekeep.c - the real-time clock's rate and steps: clock_settime,
 * settimeofday, adjtimex(2) and clock_adjtime(2), leap seconds.
 *
 * Why: CLOCK_MONOTONIC is the TSC since boot and never moves otherwise;
 * CLOCK_REALTIME is what people and NTP daemons set. An NTP daemon does not
 * only step the clock, it tells the kernel how fast to run it (the
 * frequency, in scaled parts per million, and the length of a tick) and
 * about the leap second announced for midnight. So the real-time clock is a
 * line over the monotonic one, rebased at every change:
 *
 *     realtime(m) = boot_unix + m + shift + (m - m0) * rate_ppb / 1e9
 *
 * and, with a leap second armed for midnight L (adjtimex's STA_INS or
 * STA_DEL), one second repeated at L (inserted: 23:59:59 twice) or skipped
 * before it (deleted). That correction is a pure function of the line, so
 * readers on any CPU, in any context, compute it without writing anything:
 * the parameters are read under a sequence count (a writer makes it odd
 * while it changes them; a reader that saw it odd or changed reads again).
 * The line and the count live in the vvar page (vvar.h), which every
 * process maps read-only: the vDSO computes time from them with the same
 * functions, without a system call.
 * The leap's states (TIME_INS, TIME_OOP during the repeated second,
 * TIME_WAIT after it until the flag is cleared) are derived from the clock
 * when adjtimex asks.
 *
 * What Vigil keeps without acting on it: the PLL's offset and time
 * constant, the error estimates, adjtime's pending slew. They are stored
 * and read back as set (an NTP daemon's bookkeeping), with Linux's checks:
 * EPERM for a change without root, EINVAL for a tick off by more than 10%,
 * a bad mode or a bad ADJ_SETOFFSET; nothing is written back on failure.
 *
 * Locking: the parameters change under tk_lock (a spinlock: clock_settime
 * and adjtimex, KLOCK calls, may come from two CPUs... the kernel lock
 * already orders them, tk_lock orders them against the seqcount's readers);
 * the NTP bookkeeping fields are [klock]. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/spinlock.h"
#include "../arch/x86_64/cpu.h"
#include "../mm/mm.h"
#include "../debug/debug.h"
#include "vvar.h"

#define NS 1000000000ll

/* The clock itself is the vvar page (vvar.h): the kernel's one record of
 * time, which every process also maps read-only and its vDSO reads. */
static struct vvar *vv;                         /* [const] after timekeep_init */
#define tk (vv->clock)                          /* [tk_lock] to write; readers: vv_snapshot */
static struct spinlock tk_lock = SPINLOCK_INIT("timekeep");

/* At boot, once the TSC is calibrated and before anything reads the time:
 * the page, monotonic 0 now, and the RTC's time for it. */
void timekeep_init(void)
{
    uint64_t pa = pmm_alloc_zeroed();
    if (!pa)
        panic("timekeep: no frame for the vvar page");
    vv = P2V(pa);
    tk.tsc_hz = tsc_hz();
    tk.boot_unix = rtc_read_unix();
    tk.boot_tsc = vv_rdtsc();
}

struct vvar *timekeep_vvar(uint64_t *pa)
{
    *pa = V2P(vv);
    return vv;
}

uint64_t time_monotonic_ns(void)
{
    struct vv_clock c;
    return vv_mono_ns(&c, vv_snapshot(vv, &c));
}

uint64_t time_realtime_ns(void)
{
    struct vv_clock c;
    return vv_real_ns(&c, vv_mono_ns(&c, vv_snapshot(vv, &c)));
}

bool time_clock_ns(int clk, uint64_t *ns) { return vv_clock_ns(vv, clk, ns); }

/* The line as it stands (a consistent copy). */
static struct vv_clock tk_read(void)
{
    struct vv_clock c;
    vv_snapshot(vv, &c);
    return c;
}

static void tk_write_begin(uint64_t *f)
{
    *f = spin_lock_irqsave(&tk_lock);
    __atomic_store_n(&vv->seq, vv->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void tk_write_end(uint64_t f)
{
    __atomic_store_n(&vv->seq, vv->seq + 1, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&tk_lock, f);
}

#define raw_at vv_raw_at

/* ---- NTP's bookkeeping (adjtimex) ---- */
static struct {
    int64_t offset;             /* ns */
    int64_t freq;               /* scaled ppm (16-bit fraction), as adjtimex's freq */
    int64_t maxerror, esterror; /* us */
    int32_t status;
    int64_t constant;
    int64_t tick;               /* us per USER_HZ tick */
    int64_t adjust;             /* adjtime's pending slew, us */
    int32_t tai;
    bool leap_waiting;          /* a leap second happened: TIME_WAIT until STA_INS/DEL go */
} ntp = { 0, 0, NTP_PHASE_LIMIT_US, NTP_PHASE_LIMIT_US, STA_UNSYNC, 2, 1000000 / USER_HZ_VIGIL, 0, 0, false };

/* Rebase the line at monotonic m (tk_lock held, and the kernel lock: it
 * notes a leap that is over): the same raw clock from a new origin, and a
 * leap second wholly past folded into the shift. */
static void rebase_locked(uint64_t m)
{
    int64_t raw = raw_at(&tk, m);
    tk.shift = raw - (int64_t)(tk.boot_unix * 1000000000ul + m);
    tk.m0 = m;
    if ((tk.leap > 0 && raw >= tk.leap_at + NS) || (tk.leap < 0 && raw >= tk.leap_at)) {
        tk.shift += tk.leap > 0 ? -NS : NS;
        tk.leap = 0, tk.leap_at = 0;
        ntp.leap_waiting = true;                /* TIME_WAIT until STA_INS/STA_DEL go */
    }
}

static int64_t rate_ppb(void)
{
    /* 2^16 scaled ppm to ppb, and the tick's share: (tick - nominal) / nominal. */
    int64_t f = ntp.freq * 1000 / 65536;
    int64_t nominal = 1000000 / USER_HZ_VIGIL;
    return f + (ntp.tick - nominal) * 1000000000ll / nominal;
}

void arm_leap_klocked(void);

/* Set CLOCK_REALTIME (root's: Linux's CAP_SYS_TIME); the value was checked. */
long set_realtime(int64_t sec, int64_t nsec)
{
    if (current()->euid != 0)
        return -EPERM;
    uint64_t m = time_monotonic_ns(), f;
    tk_write_begin(&f);
    tk.m0 = m;
    tk.shift = sec * NS + nsec - (int64_t)(tk.boot_unix * 1000000000ul + m);
    tk.leap = 0, tk.leap_at = 0;                /* Linux: a set clock forgets an armed leap's timing */
    tk_write_end(f);
    if (ntp.status & (STA_INS | STA_DEL))
        arm_leap_klocked();
    return 0;
}

/* Arm the leap second STA_INS or STA_DEL asks for at the next midnight (UTC). */
void arm_leap_klocked(void)
{
    uint64_t m = time_monotonic_ns(), f;
    tk_write_begin(&f);
    rebase_locked(m);
    int64_t now = raw_at(&tk, m);
    int want = (ntp.status & STA_INS) ? 1 : (ntp.status & STA_DEL) ? -1 : 0;
    if (ntp.leap_waiting && want)
        want = tk.leap;                         /* one leap a midnight: the flag must go first */
    if (!want) {
        tk.leap = 0, tk.leap_at = 0;
    } else if (tk.leap != want) {
        int64_t day = 86400 * NS;
        tk.leap = want;
        tk.leap_at = (now / day + 1) * day;
    }
    tk_write_end(f);
}

/* TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT: where the leap stands. */
static int leap_state(void)
{
    struct vv_clock l = tk_read();
    int64_t raw = raw_at(&l, time_monotonic_ns());
    if (l.leap > 0 && raw >= l.leap_at + NS)
        ntp.leap_waiting = true;
    else if (l.leap > 0 && raw >= l.leap_at)
        return TIME_OOP;
    else if (l.leap > 0)
        return TIME_INS;
    if (l.leap < 0 && raw >= l.leap_at - NS)
        ntp.leap_waiting = true;
    else if (l.leap < 0)
        return TIME_DEL;
    if (ntp.leap_waiting && !(ntp.status & (STA_INS | STA_DEL)))
        ntp.leap_waiting = false;
    return ntp.leap_waiting ? TIME_WAIT : TIME_OK;
}

/* Linux's struct timex (x86-64). */
struct timex_k {
    uint32_t modes, pad0;
    int64_t offset, freq, maxerror, esterror;
    int32_t status, pad1;
    int64_t constant, precision, tolerance;
    int64_t time_sec, time_usec;
    int64_t tick, ppsfreq, jitter;
    int32_t shift, pad2;
    int64_t stabil, jitcnt, calcnt, errcnt, stbcnt;
    int32_t tai;
    int32_t pad[11];
};

static long check_timex(const struct timex_k *t)
{
    bool root = current()->euid == 0;
    if (t->modes & ADJ_ADJTIME) {
        /* adjtime(3)'s single shot: no other mode with it. */
        if (!(t->modes & ADJ_OFFSET_SINGLESHOT & ~ADJ_ADJTIME))
            return -EINVAL;
        if ((t->modes & ADJ_OFFSET_SS_READ) != ADJ_OFFSET_SS_READ && !root)
            return -EPERM;
    } else {
        /* INVARIANT(privilege separation): only root steers the clock. */
        if (t->modes && !root)
            return -EPERM;
        if ((t->modes & ADJ_TICK) &&
            (t->tick < 900000 / USER_HZ_VIGIL || t->tick > 1100000 / USER_HZ_VIGIL))
            return -EINVAL;                     /* a quartz off by more than 10% */
    }
    if (t->modes & ADJ_SETOFFSET) {
        if (!root)
            return -EPERM;
        if (t->time_usec < 0 || t->time_usec >= ((t->modes & ADJ_NANO) ? NS : 1000000))
            return -EINVAL;
    }
    if ((t->modes & ADJ_FREQUENCY) && (t->freq > INT64_MAX / 1000 || t->freq < -INT64_MAX / 1000))
        return -EINVAL;
    return 0;
}

static void apply_timex(struct timex_k *t)
{
    bool nano = ntp.status & STA_NANO;
    if (t->modes & ADJ_ADJTIME) {
        int64_t old = ntp.adjust;
        if ((t->modes & ADJ_OFFSET_SS_READ) != ADJ_OFFSET_SS_READ)
            ntp.adjust = t->offset;
        t->offset = old;
        return;
    }
    if (t->modes & ADJ_STATUS) {
        if ((ntp.status & STA_PLL) && !(t->status & STA_PLL))
            ntp.leap_waiting = false, ntp.status = STA_UNSYNC;     /* leaving PLL mode: start over */
        ntp.status = (ntp.status & STA_RONLY) | (t->status & ~STA_RONLY);
    }
    if (t->modes & ADJ_NANO)
        ntp.status |= STA_NANO;
    if (t->modes & ADJ_MICRO)
        ntp.status &= ~STA_NANO;
    nano = ntp.status & STA_NANO;
    if (t->modes & ADJ_FREQUENCY)
        ntp.freq = t->freq > MAXFREQ_SCALED ? MAXFREQ_SCALED :
                   t->freq < -MAXFREQ_SCALED ? -MAXFREQ_SCALED : t->freq;
    if (t->modes & ADJ_MAXERROR)
        ntp.maxerror = t->maxerror;
    if (t->modes & ADJ_ESTERROR)
        ntp.esterror = t->esterror;
    if (t->modes & ADJ_TIMECONST)
        ntp.constant = t->constant < 0 ? 0 : t->constant > 10 ? 10 : t->constant;
    if ((t->modes & ADJ_TAI) && t->constant >= 0) {
        ntp.tai = (int32_t)t->constant;
        uint64_t f;
        tk_write_begin(&f);
        tk.tai = ntp.tai;                       /* CLOCK_TAI, for the vDSO too */
        tk_write_end(f);
    }
    if (t->modes & ADJ_OFFSET) {
        int64_t ns = nano ? t->offset : t->offset * 1000;
        ntp.offset = ns > NS / 2 - 1 ? NS / 2 - 1 : ns < -(NS / 2 - 1) ? -(NS / 2 - 1) : ns;
    }
    if (t->modes & ADJ_TICK)
        ntp.tick = t->tick;
    if (t->modes & ADJ_SETOFFSET) {
        int64_t d = t->time_sec * NS + ((t->modes & ADJ_NANO) ? t->time_usec : t->time_usec * 1000);
        uint64_t m = time_monotonic_ns(), f;
        tk_write_begin(&f);
        rebase_locked(m);
        tk.shift += d;
        tk_write_end(f);
    }
    if (t->modes & (ADJ_FREQUENCY | ADJ_TICK)) {
        uint64_t m = time_monotonic_ns(), f;
        tk_write_begin(&f);
        rebase_locked(m);
        tk.rate_ppb = rate_ppb();
        tk_write_end(f);
    }
    if (t->modes & ADJ_STATUS)
        arm_leap_klocked();
}

static void read_timex(struct timex_k *t)
{
    bool nano = ntp.status & STA_NANO;
    t->offset = nano ? ntp.offset : ntp.offset / 1000;
    t->freq = ntp.freq;
    t->maxerror = ntp.maxerror;
    t->esterror = ntp.esterror;
    t->status = ntp.status;
    t->constant = ntp.constant;
    t->precision = 1;
    t->tolerance = MAXFREQ_SCALED;
    uint64_t now = time_realtime_ns();
    t->time_sec = (int64_t)(now / NS);
    t->time_usec = (int64_t)(now % NS) / (nano ? 1 : 1000);
    t->tick = ntp.tick;
    t->ppsfreq = t->jitter = t->stabil = t->jitcnt = t->calcnt = t->errcnt = t->stbcnt = 0;
    t->shift = 0;
    t->tai = ntp.tai;
}

static long do_adjtimex(void *ut)
{
    struct timex_k t;
    if (copy_from_user(&t, ut, sizeof(t)))
        return -EFAULT;
    long r = check_timex(&t);
    if (r)
        return r;                               /* nothing written back (CVE-2018-11508) */
    int64_t ss = 0;
    bool adjtime = t.modes & ADJ_ADJTIME;
    apply_timex(&t);
    if (adjtime)
        ss = t.offset;
    read_timex(&t);
    if (adjtime)
        t.offset = ss;                          /* adjtime's old slew, not the PLL's offset */
    int state = leap_state();
    if (copy_to_user(ut, &t, sizeof(t)))
        return -EFAULT;
    return ntp.status & (STA_UNSYNC | STA_CLOCKERR) ? TIME_ERROR : state;
}

long sys_adjtimex(void *ut) { return do_adjtimex(ut); }

long sys_clock_adjtime(int clk, void *ut)
{
    if (clk == CLOCK_REALTIME)
        return do_adjtimex(ut);
    /* A clock that exists but cannot be steered (the CPU-time clocks by
     * their negative ids too, but not a clock-device descriptor's): EOPNOTSUPP. */
    if ((clk >= 0 && clk <= CLOCK_TAI && clk != 10) || (clk < 0 && (clk & 7) != 3))
        return -EOPNOTSUPP;
    return -EINVAL;
}

int32_t time_tai_offset(void) { return ntp.tai; }
