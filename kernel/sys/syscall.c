/* sys/syscall.c - from the syscall instruction to the handler.
 *
 * The table is indexed by Linux's x86-64 syscall numbers. A number with no
 * handler returns -ENOSYS and is reported once on the console, so that the
 * calls a new program needs are easy to find. */
#include "syscall.h"
#include "sys.h"
#include "../proc/proc.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"

#define NSYSCALLS 512

typedef long (*sys_fn)(long, long, long, long, long, long);
/* Handlers take their real parameter types; all arguments arrive as 64-bit
 * registers, and an int parameter sees the low half, as on Linux. */
#define S(nr, fn) [nr] = (sys_fn)(void (*)(void))(fn)

static const sys_fn table[NSYSCALLS] = {
    S(0, sys_read), S(1, sys_write), S(2, sys_open), S(3, sys_close), S(4, sys_stat),
    S(5, sys_fstat), S(6, sys_lstat), S(8, sys_lseek), S(9, sys_mmap), S(10, sys_mprotect),
    S(11, sys_munmap), S(12, sys_brk), S(13, sys_rt_sigaction), S(14, sys_rt_sigprocmask), S(15, sys_rt_sigreturn),
    S(16, sys_ioctl), S(17, sys_pread64), S(18, sys_pwrite64), S(19, sys_readv), S(20, sys_writev),
    S(21, sys_access), S(22, sys_pipe), S(24, sys_sched_yield), S(28, sys_madvise), S(32, sys_dup),
    S(33, sys_dup2), S(34, sys_pause), S(35, sys_nanosleep), S(39, sys_getpid), S(56, sys_clone), S(57, sys_fork), S(58, sys_vfork),
    S(59, sys_execve), S(60, sys_exit), S(61, sys_wait4), S(62, sys_kill), S(63, sys_uname),
    S(72, sys_fcntl), S(74, sys_fsync), S(75, sys_fsync), S(76, sys_truncate),
    S(77, sys_ftruncate), S(79, sys_getcwd), S(80, sys_chdir), S(81, sys_fchdir), S(82, sys_rename), S(83, sys_mkdir), S(84, sys_rmdir),
    S(86, sys_link), S(87, sys_unlink), S(88, sys_symlink), S(89, sys_readlink), S(90, sys_chmod),
    S(91, sys_fchmod), S(92, sys_chown), S(93, sys_fchown), S(94, sys_lchown), S(95, sys_umask),
    S(96, sys_gettimeofday), S(97, sys_getrlimit), S(98, sys_getrusage), S(100, sys_times),
    S(102, sys_getuid), S(104, sys_getgid), S(105, sys_setuid), S(106, sys_setgid),
    S(107, sys_geteuid), S(108, sys_getegid), S(113, sys_setreuid), S(114, sys_setregid),
    S(115, sys_getgroups), S(116, sys_setgroups), S(117, sys_setresuid), S(118, sys_getresuid),
    S(119, sys_setresgid), S(120, sys_getresgid),
    S(109, sys_setpgid), S(110, sys_getppid), S(111, sys_getpgrp), S(112, sys_setsid),
    S(121, sys_getpgid), S(127, sys_rt_sigpending), S(124, sys_getsid), S(140, sys_getpriority), S(141, sys_setpriority),
    S(158, sys_arch_prctl), S(162, sys_sync), S(165, sys_mount), S(166, sys_umount2), S(169, sys_reboot), S(186, sys_gettid), S(200, sys_tkill), S(202, sys_futex), S(203, sys_sched_setaffinity), S(204, sys_sched_getaffinity), S(234, sys_tgkill),
    S(142, sys_sched_setparam), S(143, sys_sched_getparam), S(144, sys_sched_setscheduler), S(145, sys_sched_getscheduler),
    S(146, sys_sched_get_priority_max), S(147, sys_sched_get_priority_min), S(201, sys_time),
    S(217, sys_getdents64), S(218, sys_set_tid_address), S(228, sys_clock_gettime), S(229, sys_clock_getres),
    S(230, sys_clock_nanosleep), S(231, sys_exit_group), S(257, sys_openat), S(258, sys_mkdirat), S(260, sys_fchownat), S(262, sys_newfstatat), S(263, sys_unlinkat), S(264, sys_renameat),
    S(265, sys_linkat), S(266, sys_symlinkat), S(267, sys_readlinkat), S(268, sys_fchmodat),
    S(269, sys_faccessat), S(273, sys_set_robust_list), S(292, sys_dup3), S(293, sys_pipe2), S(302, sys_prlimit64),
    S(316, sys_renameat2), S(318, sys_getrandom), S(334, sys_rseq), S(439, sys_faccessat2),
};

static uint64_t reported[NSYSCALLS / 64];

/* Syscalls that touch only the calling thread's own fields, immutable data
 * or state with a spinlock of its own: they run without the kernel lock, so
 * they never wait for another CPU's kernel work. */
static bool lock_free(uint64_t nr)
{
    switch (nr) {
    case 24:                    /* sched_yield */
    case 39: case 186:          /* getpid, gettid */
    case 96: case 201: case 228: case 229:   /* gettimeofday, time, clock_gettime/getres */
    case 102: case 104: case 107: case 108:  /* getuid, getgid, geteuid, getegid */
        return true;
    default:
        return false;
    }
}

void syscall_dispatch(struct trapframe *tf)
{
    struct proc *p = current();
    uint64_t nr = tf->rax;
    if (!lock_free(nr))
        kernel_lock();      /* given up in return_to_user_work (see proc/sync.c) */
    p->tf = tf;
    p->syscall_nr = (long)nr;
    long r;
    if (nr < NSYSCALLS && table[nr]) {
        r = table[nr]((long)tf->rdi, (long)tf->rsi, (long)tf->rdx, (long)tf->r10,
                      (long)tf->r8, (long)tf->r9);
    } else {
        if (nr < NSYSCALLS && !(reported[nr / 64] & (1ul << (nr % 64)))) {
            reported[nr / 64] |= 1ul << (nr % 64);
            kprintf("vigil: syscall %lu not implemented (first called by pid %d, %s)\n",
                    nr, p->pid, p->name);
        }
        r = -ENOSYS;
    }
    /* execve and rt_sigreturn replaced the frame: its registers stand. */
    if (!(nr == 59 && r == 0) && nr != 15)
        tf->rax = (uint64_t)r;
    return_to_user_work(tf);
}
