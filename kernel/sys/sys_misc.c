/* sys/sys_misc.c - identity, time, randomness, power. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../lib/errno.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/cpu.h"
#include "../fs/vfs.h"

static uint64_t boot_tsc, boot_unix;

uint64_t time_monotonic_ns(void)
{
    uint64_t hz = tsc_hz();
    if (!boot_tsc)
        boot_tsc = rdtsc(), boot_unix = rtc_read_unix();
    uint64_t d = rdtsc() - boot_tsc;
    return d / hz * 1000000000ul + (d % hz) * 1000000000ul / hz;
}

uint64_t time_realtime_ns(void)
{
    uint64_t mono = time_monotonic_ns();
    return boot_unix * 1000000000ul + mono;
}

struct utsname {
    char f[6][65];
};

long sys_uname(void *ubuf)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.f[0], "Vigil", 65);
    strlcpy(u.f[1], "vigil", 65);
    strlcpy(u.f[2], "0.1", 65);
    strlcpy(u.f[3], "#1", 65);
    strlcpy(u.f[4], "x86_64", 65);
    strlcpy(u.f[5], "(none)", 65);
    return copy_to_user(ubuf, &u, sizeof(u)) ? -EFAULT : 0;
}

long sys_getuid(void) { return 0; }

struct timespec {
    int64_t sec, nsec;
};

long sys_clock_gettime(int clk, void *uts)
{
    struct proc *p = current();
    uint64_t ns;
    switch (clk) {
    case 0: case 5:                         /* REALTIME, REALTIME_COARSE */
        ns = time_realtime_ns();
        break;
    case 1: case 4: case 6: case 7:         /* MONOTONIC, _RAW, _COARSE, BOOTTIME */
        ns = time_monotonic_ns();
        break;
    case 2: case 3:                         /* PROCESS/THREAD_CPUTIME_ID */
        ns = (p->utime + p->stime) * (1000000000ul / timer_hz());
        break;
    default:
        return -EINVAL;
    }
    struct timespec ts = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000) };
    return copy_to_user(uts, &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_clock_getres(int clk, void *uts)
{
    if (clk < 0 || clk > 7)
        return -EINVAL;
    struct timespec ts = { 0, (clk == 2 || clk == 3) ? 10000000 : 1 };
    return uts && copy_to_user(uts, &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_gettimeofday(void *utv, void *utz)
{
    (void)utz;
    uint64_t ns = time_realtime_ns();
    int64_t tv[2] = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000 / 1000) };
    return utv && copy_to_user(utv, tv, sizeof(tv)) ? -EFAULT : 0;
}

long sys_time(int64_t *ut)
{
    int64_t t = (int64_t)(time_realtime_ns() / 1000000000);
    if (ut && copy_to_user(ut, &t, sizeof(t)))
        return -EFAULT;
    return t;
}

long sys_getrandom(void *ubuf, size_t len, unsigned flags)
{
    static uint64_t state;
    if (flags & ~7u)
        return -EINVAL;
    if (!state)
        state = rdtsc() | 1;
    uint8_t tmp[256];
    size_t done = 0;
    len = MIN(len, 33554431ul);
    while (done < len) {
        size_t k = MIN(len - done, sizeof(tmp));
        for (size_t i = 0; i < k; i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;   /* xorshift64 */
            state += rdtsc();
            tmp[i] = (uint8_t)(state >> 32);
        }
        if (copy_to_user((uint8_t *)ubuf + done, tmp, k))
            return done ? (long)done : -EFAULT;
        done += k;
    }
    return (long)done;
}

#define REBOOT_MAGIC1 0xfee1dead
#define REBOOT_MAGIC2 672274793
#define CMD_RESTART   0x01234567
#define CMD_HALT      0xcdef0123
#define CMD_POWER_OFF 0x4321fedc

long sys_reboot(unsigned m1, unsigned m2, unsigned cmd, void *arg)
{
    (void)arg;
    if (m1 != REBOOT_MAGIC1 || m2 != REBOOT_MAGIC2)
        return -EINVAL;
    if (cmd != CMD_POWER_OFF && cmd != CMD_HALT && cmd != CMD_RESTART)
        return -EINVAL;
    kprintf("vigil: power off requested by pid %d\n", current()->pid);
    vfs_shutdown();                             /* nothing written is left behind */
    qemu_exit(EXIT_OK);
}
