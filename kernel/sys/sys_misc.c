/* sys/sys_misc.c - identity, time, randomness, power. */
#include "sys.h"
#include "syscall.h"
#include "../proc/proc.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/cpu.h"
#include "../fs/vfs.h"
#include "../lib/random.h"
#include "../debug/debug.h"

long sys_clock_settime(int clk, const void *uts)
{
    int64_t ts[2];
    if (clk != 0)
        return -EINVAL;                         /* only CLOCK_REALTIME is settable */
    if (copy_from_user(ts, uts, sizeof(ts)))
        return -EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -EINVAL;
    return set_realtime(ts[0], ts[1]);
}

long sys_settimeofday(const void *utv, const void *utz)
{
    int64_t tv[2];
    int32_t tz[2];
    if (utv && copy_from_user(tv, utv, sizeof(tv)))
        return -EFAULT;
    if (utz && copy_from_user(tz, utz, sizeof(tz)))
        return -EFAULT;
    if (utv && (tv[0] < 0 || tv[1] < 0 || tv[1] >= 1000000))
        return -EINVAL;
    if (!utv)
        return current()->euid ? -EPERM : 0;    /* a time zone: nothing kept */
    return set_realtime(tv[0], tv[1] * 1000);
}

uint64_t ts_to_ns_sat(int64_t sec, int64_t nsec)
{
    uint64_t ns;
    if (sec < 0)
        return 0;
    if (__builtin_mul_overflow((uint64_t)sec, 1000000000ull, &ns) ||
        __builtin_add_overflow(ns, (uint64_t)(nsec < 0 ? 0 : nsec), &ns))
        return UINT64_MAX;
    return ns;
}

uint64_t ns_to_ticks_sat(uint64_t ns)
{
    uint64_t tick_ns = 1000000000ull / timer_hz();
    return ns / tick_ns + (ns % tick_ns != 0);
}

uint64_t tick_deadline_sat(uint64_t ticks)
{
    uint64_t d;
    return __builtin_add_overflow(timer_ticks(), ticks, &d) ? UINT64_MAX : d;
}

struct utsname {
    char f[6][65];
};

/* The node name: sethostname(2) and /proc/sys/kernel/hostname change it. */
static char nodename[65] = "vigil";     /* [klock] */
/* The NIS domain name: setdomainname(2), /proc/sys/kernel/domainname. */
static char domainname[65] = "(none)";  /* [klock] */

/* uname(2) and /proc/sys/kernel/ostype, osrelease, version: the system
 * says it is Linux, as the programs it runs ask (`uname -s`, Python's
 * platform.system(), configure scripts compare the name with "Linux";
 * glibc wants a release at least as new as its --enable-kernel). The
 * release is that of the Linux whose ABI Vigil follows (Debian 12's 6.1),
 * marked as Vigil's; the version names Vigil. */
void uts_get(struct utsname_k *u)
{
    strlcpy(u->sysname, "Linux", sizeof(u->sysname));
    strlcpy(u->nodename, nodename, sizeof(u->nodename));
    strlcpy(u->release, "6.1.0-vigil", sizeof(u->release));
    strlcpy(u->version, "#1 SMP Vigil 0.1", sizeof(u->version));
    strlcpy(u->domainname, domainname, sizeof(u->domainname));
}

/* Linux's order for setdomainname: the privilege (CAP_SYS_ADMIN), then
 * the length, then the bytes. */
long uts_set_domainname(const char *name, size_t len)
{
    if (current()->euid != 0)
        return -EPERM;
    if (len > 64)
        return -EINVAL;
    memcpy(domainname, name, len);
    domainname[len] = 0;
    return 0;
}

long sys_setdomainname(const char *uname, int len)
{
    char buf[65];
    if (current()->euid != 0)
        return -EPERM;
    if (len < 0 || len > 64)
        return -EINVAL;
    if (copy_from_user(buf, uname, (size_t)len))
        return -EFAULT;
    return uts_set_domainname(buf, (size_t)len);
}

long uts_set_nodename(const char *name, size_t len)
{
    if (current()->euid != 0)
        return -EPERM;                  /* Linux: CAP_SYS_ADMIN */
    if (len > 64)
        return -EINVAL;
    memcpy(nodename, name, len);
    nodename[len] = 0;
    return 0;
}

long sys_sethostname(const char *uname, int len)
{
    char buf[65];
    if (len < 0 || len > 64)
        return -EINVAL;
    if (current()->euid != 0)
        return -EPERM;
    if (copy_from_user(buf, uname, (size_t)len))
        return -EFAULT;
    return uts_set_nodename(buf, (size_t)len);
}

long sys_uname(void *ubuf)
{
    struct utsname u;
    struct utsname_k k;
    uts_get(&k);
    memset(&u, 0, sizeof(u));
    strlcpy(u.f[0], k.sysname, 65);
    strlcpy(u.f[1], k.nodename, 65);
    strlcpy(u.f[2], k.release, 65);
    strlcpy(u.f[3], k.version, 65);
    strlcpy(u.f[4], "x86_64", 65);
    strlcpy(u.f[5], k.domainname, 65);
    return copy_to_user(ubuf, &u, sizeof(u)) ? -EFAULT : 0;
}

long sys_getuid(void) { return current()->uid; }
long sys_geteuid(void) { return current()->euid; }
long sys_getgid(void) { return current()->gid; }
long sys_getegid(void) { return current()->egid; }

/* Set-user-ID rules as in POSIX/Linux: root may set anything; others may
 * only move among their real, effective and saved IDs. -1 leaves one be. */
static long set_ids(uint32_t *r, uint32_t *e, uint32_t *sv, long nr, long ne, long ns, bool root)
{
    struct proc *p = current();
    uint32_t *fs = e == &p->euid ? &p->fsuid : &p->fsgid;
    uint32_t cur[3] = { *r, *e, *sv };
    long want[3] = { nr, ne, ns };
    for (int i = 0; i < 3; i++) {
        if (want[i] == -1)
            continue;
        if (want[i] < 0 || want[i] > 0xfffffffe)
            return -EINVAL;
#ifdef BREAK_CRED
        root = true;                    /* the break switch: anyone may take any ID */
#endif
        /* INVARIANT(privilege separation): without root a process only
         * moves among the IDs it already has; it never gains another's. */
        if (!root && want[i] != cur[0] && want[i] != cur[1] && want[i] != cur[2])
            return -EPERM;
    }
    if (nr != -1)
        *r = (uint32_t)nr;
    if (ne != -1)
        *e = (uint32_t)ne;
    if (ns != -1)
        *sv = (uint32_t)ns;
    *fs = *e;                           /* the file-system id follows the effective one */
    return 0;
}

/* setfsuid/setfsgid (man 2 setfsuid): the id file access is checked with.
 * Without root, only to the real, effective, saved or current fs id.
 * Always the previous value, success or not (the call reports nothing
 * else); -1 (or any id refused) only asks. */
static long set_fs_id(uint32_t *fs, uint32_t r, uint32_t e, uint32_t sv, long want)
{
    uint32_t old = *fs;
    uint32_t w = (uint32_t)want;
    if (w == 0xffffffffu)
        return old;
    bool root = current()->euid == 0;
#ifdef BREAK_CRED
    root = true;
#endif
    /* INVARIANT(privilege separation): the same rule as set_ids. */
    if (root || w == r || w == e || w == sv || w == old)
        *fs = w;
    return old;
}

long sys_setfsuid(long uid)
{
    struct proc *p = current();
    return set_fs_id(&p->fsuid, p->uid, p->euid, p->suid, uid);
}

long sys_setfsgid(long gid)
{
    struct proc *p = current();
    return set_fs_id(&p->fsgid, p->gid, p->egid, p->sgid, gid);
}

/* An ID argument is a 32-bit uid_t/gid_t in a 64-bit register: glibc and
 * musl pass (uid_t)-1, "leave it be", zero-extended as 0xffffffff, and
 * Linux reads only the low 32 bits. */
static long id_arg(long v)
{
    uint32_t u = (uint32_t)v;
    return u == 0xffffffffu ? -1 : (long)u;
}

long sys_setresuid(long r, long e, long s)
{
    struct proc *p = current();
    r = id_arg(r), e = id_arg(e), s = id_arg(s);
    return set_ids(&p->uid, &p->euid, &p->suid, r, e, s, p->euid == 0);
}

long sys_setresgid(long r, long e, long s)
{
    struct proc *p = current();
    r = id_arg(r), e = id_arg(e), s = id_arg(s);
    return set_ids(&p->gid, &p->egid, &p->sgid, r, e, s, p->euid == 0);
}

long sys_setuid(long uid)
{
    struct proc *p = current();
    uid = (uint32_t)uid;                        /* (uid_t)-1 names no one: EINVAL */
    if (p->euid == 0)                           /* root: all three */
        return set_ids(&p->uid, &p->euid, &p->suid, uid, uid, uid, true);
    return set_ids(&p->uid, &p->euid, &p->suid, -1, uid, -1, false);
}

long sys_setgid(long gid)
{
    struct proc *p = current();
    gid = (uint32_t)gid;                        /* (gid_t)-1 names no group: EINVAL */
    if (p->euid == 0)
        return set_ids(&p->gid, &p->egid, &p->sgid, gid, gid, gid, true);
    return set_ids(&p->gid, &p->egid, &p->sgid, -1, gid, -1, false);
}

/* setreuid/setregid: without root the real ID may become only the real or
 * the effective one (not the saved one, unlike the effective ID). */
long sys_setreuid(long r, long e)
{
    struct proc *p = current();
    r = id_arg(r), e = id_arg(e);
    if (p->euid != 0 && r != -1 && r != p->uid && r != p->euid)
        return -EPERM;
    long s = (r != -1 || (e != -1 && e != p->uid)) ? (e != -1 ? e : p->euid) : -1;
    return set_ids(&p->uid, &p->euid, &p->suid, r, e, s, p->euid == 0);
}

long sys_setregid(long r, long e)
{
    struct proc *p = current();
    r = id_arg(r), e = id_arg(e);
    if (p->euid != 0 && r != -1 && r != p->gid && r != p->egid)
        return -EPERM;
    long s = (r != -1 || (e != -1 && e != p->gid)) ? (e != -1 ? e : p->egid) : -1;
    return set_ids(&p->gid, &p->egid, &p->sgid, r, e, s, p->euid == 0);
}

static long get_ids(uint32_t a, uint32_t b, uint32_t c, uint32_t *ua, uint32_t *ub, uint32_t *uc)
{
    if (copy_to_user(ua, &a, 4) || copy_to_user(ub, &b, 4) || copy_to_user(uc, &c, 4))
        return -EFAULT;
    return 0;
}

long sys_getresuid(uint32_t *r, uint32_t *e, uint32_t *s)
{
    struct proc *p = current();
    return get_ids(p->uid, p->euid, p->suid, r, e, s);
}

long sys_getresgid(uint32_t *r, uint32_t *e, uint32_t *s)
{
    struct proc *p = current();
    return get_ids(p->gid, p->egid, p->sgid, r, e, s);
}

long sys_getgroups(int size, uint32_t *list)
{
    struct proc *p = current();
    if (size < 0)
        return -EINVAL;
    if (size == 0)
        return p->ngroups;                      /* just the count */
    if (size < p->ngroups)
        return -EINVAL;
    if (p->ngroups && copy_to_user(list, p->groups, (size_t)p->ngroups * 4))
        return -EFAULT;
    return p->ngroups;
}

/* Supplementary groups: root only (CAP_SETGID); at most NGROUPS_VIGIL
 * (Linux allows 65536; EINVAL beyond the limit, as there). */
long sys_setgroups(long size, const uint32_t *list)
{
    struct proc *p = current();
    uint32_t g[NGROUPS_VIGIL];
    if (p->euid != 0)
        return -EPERM;
    if (size < 0 || size > NGROUPS_MAX_LINUX)
        return -EINVAL;
    if (size > NGROUPS_VIGIL) {
        /* Linux would take it; Vigil keeps fewer. A list it cannot read is
         * still EFAULT first, as Linux copies before it looks further. */
        for (long i = 0; i < size; i += NGROUPS_VIGIL)
            if (copy_from_user(g, list + i, (size_t)MIN(size - i, (long)NGROUPS_VIGIL) * 4))
                return -EFAULT;
        return -EINVAL;
    }
    if (size && copy_from_user(g, list, (size_t)size * 4))
        return -EFAULT;
    memcpy(p->groups, g, (size_t)size * 4);
    p->ngroups = (int)size;
    return 0;
}

/* ---- CPU-time clocks ----
 * CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID are the caller's;
 * clock_getcpuclockid and pthread_getcpuclockid make negative ids that name
 * another process or thread: ~pid << 3, bit 2 for a thread, and the low two
 * bits the kind (0 user+system "prof", 1 user "virt", 2 "sched"). Vigil
 * counts CPU time in timer ticks; the clocks read in ns. */

/* The CPU time of a live thread t, or of its whole process (the exited
 * threads' time is in the leader already); with sched_lock held. */
static uint64_t cpu_ticks_locked(struct proc *t, bool process, bool user_only)
{
    ASSERT_HELD(&sched_lock);
    if (!process)
        return t->utime + (user_only ? 0 : t->stime);
    uint64_t sum = 0;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        if (q && q->tgid == t->tgid && q->state != P_DEAD && q->state != P_UNUSED)
            sum += q->utime + (user_only ? 0 : q->stime);
    }
    return sum;
}

int cpu_clock_read(int clk, uint64_t *ns)
{
    struct proc *me = current();
    bool process = clk == CLOCK_PROCESS_CPUTIME_ID, user_only = false;
    int id = 0;
    if (clk != CLOCK_PROCESS_CPUTIME_ID && clk != CLOCK_THREAD_CPUTIME_ID) {
        if (clk >= 0 || (clk & 3) == 3)
            return -EINVAL;
        id = ~(clk >> 3);
        process = !(clk & 4);
        user_only = (clk & 3) == 1;
    }
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct proc *t = id ? proc_find_thread(id) : me;
    /* A thread's clock only within the caller's process; a process's by its pid. */
    if (t && (process ? (id && t->leader != t && t != me) : t->tgid != me->tgid))
        t = NULL;
    if (t && t->state == P_ZOMBIE && t->leader->nthreads == 0 && !process)
        t = NULL;
    uint64_t ticks = t ? cpu_ticks_locked(t, process, user_only) : 0;
    spin_unlock_irqrestore(&sched_lock, f);
    if (!t)
        return -EINVAL;
    *ns = ticks * (1000000000ul / timer_hz());
    return 0;
}

uint64_t cpu_time_ns(bool process)
{
    uint64_t ns = 0;
    cpu_clock_read(process ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &ns);
    return ns;
}

struct timespec {
    int64_t sec, nsec;
};

long sys_clock_gettime(int clk, void *uts)
{
    uint64_t ns;
    /* The clocks the vvar page serves are computed by the very function
     * the vDSO calls (sys/vvar.h), from the same page. */
    if (time_clock_ns(clk, &ns))
        ;
    else if (clk == CLOCK_REALTIME_ALARM)
        ns = time_realtime_ns();
    else if (clk == CLOCK_BOOTTIME_ALARM)
        ns = time_monotonic_ns();
    else {
        int r = cpu_clock_read(clk, &ns);   /* the CPU-time clocks, or EINVAL */
        if (r)
            return r;
    }
    struct timespec ts = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000) };
    return copy_to_user(uts, &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_clock_getres(int clk, void *uts)
{
    uint64_t ns;
    if ((clk < 0 && cpu_clock_read(clk, &ns)) || clk == 10 || clk > CLOCK_TAI)
        return -EINVAL;
    bool cpu = clk == 2 || clk == 3 || clk < 0;
    struct timespec ts = { 0, cpu ? 10000000 : 1 };
    return uts && copy_to_user(uts, &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_gettimeofday(void *utv, void *utz)
{
    uint64_t ns = time_realtime_ns();
    int64_t tv[2] = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000 / 1000) };
    int32_t tz[2] = { 0, 0 };                   /* minutes west of UTC, DST: the kernel keeps UTC */
    if (utv && copy_to_user(utv, tv, sizeof(tv)))
        return -EFAULT;
    return utz && copy_to_user(utz, tz, sizeof(tz)) ? -EFAULT : 0;
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
    if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE))
        return -EINVAL;
    return random_read_user(ubuf, len);         /* never blocks (random.c) */
}

/* ---- syslog(2): the kernel's log (lib/kprintf.c) and its console level ----
 * The levels are kept and shown (/proc/sys/kernel/printk) as Linux's
 * defaults; Vigil's console prints every message whatever they say. */
int printk_levels[4] = { 4, 4, 1, 7 };         /* [klock] console, default, minimum, default console */
static int saved_console_level = -1;            /* [klock] SYSLOG_ACTION_CONSOLE_OFF's */

long sys_syslog(int type, char *ubuf, int len)
{
    /* Reading everything and the size are anyone's (dmesg_restrict 0);
     * the rest is root's (CAP_SYSLOG), checked before anything else. */
    if (type != SYSLOG_ACTION_READ_ALL && type != SYSLOG_ACTION_SIZE_BUFFER && current()->euid != 0)
        return -EPERM;
    switch (type) {
    case SYSLOG_ACTION_CLOSE:
    case SYSLOG_ACTION_OPEN:
        return 0;
    case SYSLOG_ACTION_READ:
    case SYSLOG_ACTION_READ_ALL:
    case SYSLOG_ACTION_READ_CLEAR: {
        if (!ubuf || len < 0)
            return -EINVAL;
        if (!len)
            return 0;
        if (!user_range_ok((uintptr_t)ubuf, (size_t)len))
            return -EFAULT;
        size_t n = MIN((size_t)len, (size_t)KLOG_SIZE);
        char *k = kmalloc(n);
        if (!k)
            return -ENOMEM;
        size_t got;
        while (!(got = klog_take(k, n, type == SYSLOG_ACTION_READ ? KLOG_READ :
                                       type == SYSLOG_ACTION_READ_ALL ? KLOG_READ_ALL : KLOG_READ_CLEAR)) &&
               type == SYSLOG_ACTION_READ) {
            long r = sleep_ticks(timer_hz() / 10);  /* the read waits for a message */
            if (r) {
                kfree(k);
                return r;
            }
        }
        long r = copy_to_user(ubuf, k, got) ? -EFAULT : (long)got;
        kfree(k);
        return r;
    }
    case SYSLOG_ACTION_CLEAR:
        klog_take(NULL, 0, KLOG_CLEAR);
        return 0;
    case SYSLOG_ACTION_CONSOLE_OFF:
        if (saved_console_level < 0)
            saved_console_level = printk_levels[0];
        printk_levels[0] = printk_levels[2];
        return 0;
    case SYSLOG_ACTION_CONSOLE_ON:
        if (saved_console_level >= 0)
            printk_levels[0] = saved_console_level;
        saved_console_level = -1;
        return 0;
    case SYSLOG_ACTION_CONSOLE_LEVEL:
        if (len < 1 || len > 8)
            return -EINVAL;
        printk_levels[0] = len < printk_levels[2] ? printk_levels[2] : len;
        saved_console_level = -1;
        return 0;
    case SYSLOG_ACTION_SIZE_UNREAD:
        return (long)klog_take(NULL, 0, KLOG_UNREAD);
    case SYSLOG_ACTION_SIZE_BUFFER:
        return KLOG_SIZE;
    default:
        return -EINVAL;
    }
}

static bool cad_reboots = true;                 /* [klock] reboot(CAD_ON/OFF), Linux's default */

long sys_reboot(unsigned m1, unsigned m2, unsigned cmd, void *arg)
{
    (void)arg;
    /* INVARIANT(privilege separation): only root may stop the machine
     * (Linux: CAP_SYS_BOOT, checked before anything else). */
    if (current()->euid != 0)
        return -EPERM;
    if (m1 != LINUX_REBOOT_MAGIC1 || m2 != LINUX_REBOOT_MAGIC2)
        return -EINVAL;
    if (cmd == LINUX_REBOOT_CMD_CAD_ON || cmd == LINUX_REBOOT_CMD_CAD_OFF) {
        cad_reboots = cmd == LINUX_REBOOT_CMD_CAD_ON;   /* what Ctrl-Alt-Del does: no keyboard here */
        return 0;
    }
    if (cmd != LINUX_REBOOT_CMD_POWER_OFF && cmd != LINUX_REBOOT_CMD_HALT &&
        cmd != LINUX_REBOOT_CMD_RESTART)
        return -EINVAL;
    kprintf("vigil: power off requested by pid %d\n", current()->pid);
    vfs_shutdown();                             /* nothing written is left behind */
    kstack_note(&current()->kstack);
    kprintf("vigil: kernel stacks: deepest use %lu of %lu bytes\n", (uint64_t)kstack_deepest(),
            (uint64_t)KSTACK_PAGES * PAGE_SIZE);
    qemu_exit(EXIT_OK);
}
