/* proc/acct.c - BSD process accounting: acct(2).
 *
 * Why: with accounting on, every process that ends leaves a record in one
 * file (who ran what, for how long, how it ended), which lastcomm(1) and
 * sa(8) read. The records are Linux's struct acct_v3 (acct(5)): 64 bytes,
 * appended at the exit of each process's last thread. Times are in AHZ
 * (100 per second, Vigil's tick) as comp_t (a 13-bit mantissa and a 3-bit
 * base-8 exponent), the elapsed time as an IEEE float, written without
 * floating-point registers (the kernel has none).
 *
 * acct(path) is root's (CAP_SYS_PACCT); the file must be a regular file
 * root may write; acct(NULL) turns it off. A record that cannot be written
 * (the disk full, an error) is lost, as on Linux; nothing else is affected.
 *
 * Locking: the accounting file is [klock] (acct(2) and exits run with it). */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../mm/mm.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../debug/debug.h"

static struct inode *acct_ino;          /* [klock] the accounting file (a reference), or NULL */

struct acct_v3 {
    uint8_t ac_flag, ac_version;
    uint16_t ac_tty;
    uint32_t ac_exitcode, ac_uid, ac_gid, ac_pid, ac_ppid, ac_btime;
    uint32_t ac_etime;                  /* a float's bits */
    uint16_t ac_utime, ac_stime, ac_mem, ac_io, ac_rw, ac_minflt, ac_majflt, ac_swaps;
    char ac_comm[16];
};

/* comp_t: value = mantissa << (3 * exponent), rounded to nearest. */
static uint16_t comp_t_of(uint64_t v)
{
    int exp = 0;
    bool round = false;
    while (v > 0x1fff) {
        round = v & 4;
        v >>= 3;
        exp++;
    }
    if (round && ++v > 0x1fff) {
        v >>= 3;
        exp++;
    }
    return exp > 7 ? 0xffff : (uint16_t)((exp << 13) | v);
}

/* An IEEE single-precision float's bits for v (truncated). */
static uint32_t float_bits(uint64_t v)
{
    if (!v)
        return 0;
    int e = 63 - __builtin_clzll(v);
    uint64_t mant = e > 23 ? v >> (e - 23) : v << (23 - e);
    return (uint32_t)((e + 127) << 23) | (uint32_t)(mant & 0x7fffff);
}

long sys_acct(const char *upath)
{
    if (current()->euid != 0)
        return -EPERM;                          /* CAP_SYS_PACCT, checked first */
    if (!upath) {
        iset(&acct_ino, NULL);
        return 0;
    }
    PATH_BUF(path);
    long r = get_path(upath, path, PATH_MAX);
    if (r < 0)
        return r;
    struct inode *ino;
    if ((r = lookup_at(AT_FDCWD, path, LOOKUP_FOLLOW, &ino)))
        return r;
    size_t len = strlen(path);
    if (len && path[len - 1] == '/' && !S_ISDIR(ino->mode)) {
        iput(ino);
        return -ENOTDIR;                        /* "file/": only a directory has a slash after it */
    }
    /* Opened for writing, as Linux does: a directory is EISDIR, a file
     * that is not regular EACCES, a read-only file system EROFS. */
    r = S_ISDIR(ino->mode) ? -EISDIR : !S_ISREG(ino->mode) ? -EACCES :
        sb_ro(ino) || !ino->ops->write ? -EROFS : vfs_permission(ino, MAY_WRITE);
    if (r) {
        iput(ino);
        return r;
    }
    iset(&acct_ino, ino);
    return 0;
}

void acct_process_exit(struct proc *l, int wstatus)
{
    ASSERT_KLOCK();
    if (!acct_ino)
        return;
    struct acct_v3 a;
    memset(&a, 0, sizeof(a));
    uint64_t hz = timer_hz(), now = timer_ticks();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    uint64_t ut = 0, st = 0;
    for (int i = 0; i < sched_slots(); i++) {
        struct proc *q = sched_proc_at(i);
        if (q && q->tgid == l->tgid && q->state != P_UNUSED && q != l && q->state != P_DEAD) {
            ut += q->utime;
            st += q->stime;
        }
    }
    ut += l->utime;
    st += l->stime;
    a.ac_ppid = l->parent ? (uint32_t)l->parent->tgid : 0;
    uint64_t dev = 0;
    int fg;
    if (l->ctty)
        tty_proc_info_locked(l->ctty, &dev, &fg);
    spin_unlock_irqrestore(&sched_lock, f);
    a.ac_flag = (uint8_t)((l->execed ? 0 : ACCT_AFORK) | (l->euid == 0 ? ACCT_ASU : 0) |
                          ((wstatus & 0x7f) ? ACCT_AXSIG : 0) | ((wstatus & 0x80) ? ACCT_ACORE : 0));
    a.ac_version = 3;
    a.ac_tty = (uint16_t)dev;
    a.ac_exitcode = (uint32_t)wstatus;
    a.ac_uid = l->uid;
    a.ac_gid = l->gid;
    a.ac_pid = (uint32_t)l->tgid;
    uint64_t boot = (time_realtime_ns() - time_monotonic_ns()) / 1000000000ul;
    a.ac_btime = (uint32_t)(boot + l->start_tick / hz);
    uint64_t ahz = 100;                         /* AHZ: records count in hundredths */
    a.ac_etime = float_bits((now - l->start_tick) * ahz / hz);
    a.ac_utime = comp_t_of(ut * ahz / hz);
    a.ac_stime = comp_t_of(st * ahz / hz);
    struct proc *me = current();                /* the last thread: its memory, its name */
    a.ac_mem = comp_t_of(me->mm ? me->mm->hiwater_rss * (PAGE_SIZE / 1024) : 0);
    memcpy(a.ac_comm, me->name, sizeof(a.ac_comm));
    a.ac_comm[15] = 0;
    struct inode *ino = iget(acct_ino);         /* acct(NULL) may come while this sleeps */
    (void)filemap_write(ino, ino->size, &a, sizeof(a));
    iput(ino);
}
