/* lib/abi.h - Linux's user-space ABI constants, in one place.
 *
 * Vigil runs unchanged Linux binaries, so every number a program passes in
 * or gets back (flags, commands, signal numbers, wait statuses, errno) is
 * Linux's own value for x86-64, from the uapi headers' documented ABI and
 * the man pages. They live here and nowhere else: a constant defined in two
 * files can drift apart in one, and a reader should find each in one grep.
 * Vigil's own policy (which flags it supports, its limits) stays in the
 * file that applies it; only Linux's names are here.
 *
 * errno values are in errno.h, included below, because half the kernel
 * needs only them. */
#pragma once
#include "errno.h"
#include "types.h"

/* ---- open(2), fcntl(2) ---- */
#define O_ACCMODE    3
#define O_RDONLY     0
#define O_WRONLY     1
#define O_RDWR       2
#define O_CREAT      0100
#define O_EXCL       0200
#define O_TRUNC      01000
#define O_APPEND     02000
#define O_NONBLOCK   04000
#define O_DIRECTORY  0200000
#define O_NOFOLLOW   0400000
#define O_CLOEXEC    02000000
#define CLOSE_RANGE_UNSHARE  (1u << 1)    /* close_range(2) */
#define CLOSE_RANGE_CLOEXEC  (1u << 2)

#define F_DUPFD          0
#define F_GETFD          1
#define F_SETFD          2
#define F_GETFL          3
#define F_SETFL          4
#define F_DUPFD_CLOEXEC  1030

/* ---- lseek(2) ---- */
#define SEEK_SET     0
#define SEEK_CUR     1
#define SEEK_END     2
#define SEEK_DATA    3
#define SEEK_HOLE    4

/* ---- poll(2), select(2), epoll(7), eventfd(2), timerfd_create(2), signalfd(2) ---- */
#define POLLIN      0x0001
#define POLLPRI     0x0002
#define POLLOUT     0x0004
#define POLLERR     0x0008
#define POLLHUP     0x0010
#define POLLNVAL    0x0020
#define POLLRDNORM  0x0040
#define POLLRDBAND  0x0080
#define POLLWRNORM  0x0100
#define POLLWRBAND  0x0200
#define POLLMSG     0x0400
#define POLLRDHUP   0x2000
#define EPOLLEXCLUSIVE  (1u << 28)
#define EPOLLWAKEUP     (1u << 29)
#define EPOLLONESHOT    (1u << 30)
#define EPOLLET         (1u << 31)
#define EPOLL_CLOEXEC   O_CLOEXEC
#define EPOLL_CTL_ADD   1
#define EPOLL_CTL_DEL   2
#define EPOLL_CTL_MOD   3
#define EFD_SEMAPHORE   1
#define EFD_NONBLOCK    O_NONBLOCK
#define EFD_CLOEXEC     O_CLOEXEC
#define TFD_NONBLOCK    O_NONBLOCK
#define TFD_CLOEXEC     O_CLOEXEC
#define TFD_TIMER_ABSTIME        1
#define TFD_TIMER_CANCEL_ON_SET  2
#define SFD_NONBLOCK    O_NONBLOCK
#define SFD_CLOEXEC     O_CLOEXEC
#define CLOCK_REALTIME   0
#define CLOCK_MONOTONIC  1
#define CLOCK_BOOTTIME   7
#define CLOCK_REALTIME_ALARM  8
#define CLOCK_BOOTTIME_ALARM  9

/* ---- setitimer(2) ---- */
#define ITIMER_REAL    0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF    2

/* ---- the *at(2) calls ---- */
#define AT_FDCWD             -100
#define AT_SYMLINK_NOFOLLOW  0x100
#define AT_REMOVEDIR         0x200
#define AT_EMPTY_PATH        0x1000
#define RENAME_NOREPLACE     1

/* ---- file modes (inode.i_mode, stat.st_mode) ---- */
#define S_IFMT   0170000
#define S_IFDIR  0040000
#define S_IFREG  0100000
#define S_IFLNK  0120000
#define S_IFCHR  0020000
#define S_IFIFO  0010000
#define S_ISVTX  0001000        /* sticky: only the owner may remove an entry */
#define NGROUPS_VIGIL 32        /* supplementary groups a process may have */
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)

#define NAME_MAX 255            /* bytes in a file name */
#define PATH_MAX 4096           /* bytes in a path, with its NUL */

/* ---- mount(2) ---- */
#define MS_RDONLY 1

/* ---- getrandom(2) ---- */
#define GRND_NONBLOCK 1
#define GRND_RANDOM   2
#define GRND_INSECURE 4

/* ---- device numbers (makedev(3): the old 8-bit minor layout) ---- */
#define MKDEV(ma, mi) (((uint64_t)(ma) << 8) | (uint64_t)(mi))

/* ---- terminals: ioctl(2) numbers (tty_ioctl(4), ioctl_tty(2)) ---- */
#define TCGETS      0x5401
#define TCSETS      0x5402
#define TCSETSW     0x5403
#define TCSETSF     0x5404
#define TCSBRK      0x5409
#define TCXONC      0x540A
#define TCFLSH      0x540B
#define TIOCSCTTY   0x540E
#define TIOCGPGRP   0x540F
#define TIOCSPGRP   0x5410
#define TIOCOUTQ    0x5411
#define TIOCGWINSZ  0x5413
#define TIOCSWINSZ  0x5414
#define FIONREAD    0x541B          /* TIOCINQ */
#define TIOCNOTTY   0x5422
#define TCSBRKP     0x5425
#define TIOCGSID    0x5429
#define TCGETS2     0x802C542A
#define TCSETS2     0x402C542B
#define TCSETSW2    0x402C542C
#define TCSETSF2    0x402C542D
#define TIOCGPTN    0x80045430
#define TIOCSPTLCK  0x40045431
#define TIOCGPTLCK  0x80045439
#define TIOCGPTPEER 0x5441
#define TCOOFF 0                    /* TCXONC's argument */
#define TCOON  1
#define TCIOFF 2
#define TCION  3
#define TCIFLUSH  0                 /* TCFLSH's argument */
#define TCOFLUSH  1
#define TCIOFLUSH 2
#define O_NOCTTY  0400              /* open(2): do not make it the controlling terminal */

/* struct termios as the kernel's ioctls see it (asm-generic/termbits.h):
 * four flag words, the line discipline, NCCS = 19 control characters;
 * termios2 (TCGETS2) adds the input and output speeds. */
#define NCCS 19
struct termios_k {
    uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
    uint8_t c_line;
    uint8_t c_cc[NCCS];
    uint32_t c_ispeed, c_ospeed;        /* termios2 only: not in TCGETS's 36 bytes */
};
#define TERMIOS_SIZE  36
#define TERMIOS2_SIZE 44
struct winsize_k { uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel; };
/* c_cc indices */
#define VINTR    0
#define VQUIT    1
#define VERASE   2
#define VKILL    3
#define VEOF     4
#define VTIME    5
#define VMIN     6
#define VSTART   8
#define VSTOP    9
#define VSUSP   10
#define VEOL    11
#define VREPRINT 12
#define VWERASE 14
#define VLNEXT  15
#define VEOL2   16
/* c_iflag */
#define ISTRIP  0000040
#define INLCR   0000100
#define IGNCR   0000200
#define ICRNL   0000400
#define IXON    0002000
#define IXANY   0004000
/* c_oflag */
#define OPOST   0000001
#define ONLCR   0000004
#define OCRNL   0000010
/* c_cflag */
#define B38400  0000017
#define CS8     0000060
#define CREAD   0000200
#define HUPCL   0002000
/* c_lflag */
#define ISIG    0000001
#define ICANON  0000002
#define ECHO    0000010
#define ECHOE   0000020
#define ECHOK   0000040
#define ECHONL  0000100
#define NOFLSH  0000200
#define TOSTOP  0000400
#define ECHOCTL 0001000
#define ECHOKE  0004000
#define IEXTEN  0100000

/* ---- mmap(2), mprotect(2) ---- */
#define PROT_READ   1
#define PROT_WRITE  2
#define PROT_EXEC   4
#define PROT_GROWSDOWN 0x01000000
#define PROT_GROWSUP   0x02000000
#define MAP_SHARED           0x01
#define MAP_PRIVATE          0x02
#define MAP_FIXED            0x10
#define MAP_ANONYMOUS        0x20
#define MAP_FIXED_NOREPLACE  0x100000
#define MAP_SHARED_VALIDATE  0x03
#define MAP_TYPE             0x0f
#define MAP_GROWSDOWN        0x0100
#define MAP_DENYWRITE        0x0800
#define MAP_EXECUTABLE       0x1000
#define MAP_LOCKED           0x2000
#define MAP_NORESERVE        0x4000
#define MAP_POPULATE         0x8000
#define MAP_NONBLOCK         0x10000
#define MAP_STACK            0x20000
#define MAP_HUGETLB          0x40000
#define MAP_SYNC             0x80000
#define MREMAP_MAYMOVE       1
#define MREMAP_FIXED         2
#define MREMAP_DONTUNMAP     4
#define MS_ASYNC             1
#define MS_INVALIDATE        2
#define MS_SYNC              4
#define MADV_NORMAL          0
#define MADV_RANDOM          1
#define MADV_SEQUENTIAL      2
#define MADV_WILLNEED        3
#define MADV_DONTNEED        4
#define MADV_FREE            8

/* ---- clone(2) ---- */
#define CLONE_VM             0x00000100
#define CLONE_FS             0x00000200
#define CLONE_FILES          0x00000400
#define CLONE_SIGHAND        0x00000800
#define CLONE_PIDFD          0x00001000
#define CLONE_PTRACE         0x00002000
#define CLONE_VFORK          0x00004000
#define CLONE_PARENT         0x00008000
#define CLONE_THREAD         0x00010000
#define CLONE_SYSVSEM        0x00040000
#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_DETACHED       0x00400000
#define CLONE_CHILD_SETTID   0x01000000

/* ---- wait4(2): options and the status word ---- */
#define WNOHANG     1
#define WUNTRACED   2
#define WCONTINUED  8
#define __WALL      0x40000000
#define W_EXITED(code)   (((code) & 0xff) << 8)
#define W_SIGNALED(sig)  ((sig) & 0x7f)

/* ---- signals ---- */
#define SIGHUP   1
#define SIGINT   2
#define SIGQUIT  3
#define SIGILL   4
#define SIGTRAP  5
#define SIGABRT  6
#define SIGBUS   7
#define SIGFPE   8
#define SIGKILL  9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG  23
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28

#define SIG_DFL 0
#define SIG_IGN 1
#define SA_NOCLDSTOP 0x00000001
#define SA_SIGINFO   0x00000004
#define SA_RESTORER  0x04000000
#define SA_ONSTACK   0x08000000
#define SA_RESTART   0x10000000
#define SA_NODEFER   0x40000000
#define SA_RESETHAND 0x80000000
#define SI_USER 0
#define SIG_BLOCK   0           /* rt_sigprocmask's how */
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

/* ---- futex(2) ---- */
#define FUTEX_WAIT            0
#define FUTEX_WAKE            1
#define FUTEX_REQUEUE         3
#define FUTEX_CMP_REQUEUE     4
#define FUTEX_WAKE_OP         5
#define FUTEX_LOCK_PI         6
#define FUTEX_UNLOCK_PI       7
#define FUTEX_TRYLOCK_PI      8
#define FUTEX_WAIT_BITSET     9
#define FUTEX_WAKE_BITSET     10
#define FUTEX_PRIVATE_FLAG    128
#define FUTEX_CLOCK_REALTIME  256
#define FUTEX_WAITERS     0x80000000u
#define FUTEX_OWNER_DIED  0x40000000u
#define FUTEX_TID_MASK    0x3fffffffu

/* ---- scheduling policies (sched_setscheduler(2)) ---- */
#define SCHED_OTHER 0
#define SCHED_FIFO  1
#define SCHED_RR    2
#define SCHED_BATCH 3
#define SCHED_IDLE  5
#define SCHED_RESET_ON_FORK 0x40000000

/* ---- resources, arch_prctl(2), reboot(2) ---- */
#define RLIM_INFINITY (~0ul)
#define RUSAGE_SELF      0
#define RUSAGE_CHILDREN  (-1)
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define LINUX_REBOOT_MAGIC1        0xfee1dead
#define LINUX_REBOOT_MAGIC2        672274793
#define LINUX_REBOOT_CMD_RESTART   0x01234567
#define LINUX_REBOOT_CMD_HALT      0xcdef0123
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

/* ---- the ELF auxiliary vector (execve(2) hands it to the program) ---- */
#define AT_NULL      0
#define AT_PHDR      3
#define AT_PHENT     4
#define AT_PHNUM     5
#define AT_PAGESZ    6
#define AT_BASE      7
#define AT_FLAGS     8
#define AT_ENTRY     9
#define AT_UID      11
#define AT_EUID     12
#define AT_GID      13
#define AT_EGID     14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_HWCAP2   26
#define AT_EXECFN   31
#define AT_MINSIGSTKSZ 51
