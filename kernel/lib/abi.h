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
#define O_ASYNC      020000        /* fcntl F_SETFL: SIGIO when I/O is possible */
#define O_DIRECT     040000        /* pipe2: packet mode */
#define O_DIRECTORY  0200000
#define O_NOFOLLOW   0400000
#define O_CLOEXEC    02000000
#define O_DSYNC      010000
#define O_ASYNC      020000
#define O_LARGEFILE  0100000
#define O_NOATIME    01000000
#define O_PATH       010000000
#define __O_SYNC     04000000
#define __O_TMPFILE  020000000
#define O_TMPFILE    (__O_TMPFILE | O_DIRECTORY)
/* openat2(2): struct open_how's resolve bits. */
#define RESOLVE_NO_XDEV        0x01
#define RESOLVE_NO_MAGICLINKS  0x02
#define RESOLVE_NO_SYMLINKS    0x04
#define RESOLVE_BENEATH        0x08
#define RESOLVE_IN_ROOT        0x10
#define RESOLVE_CACHED         0x20
#define CLOSE_RANGE_UNSHARE  (1u << 1)    /* close_range(2) */
#define CLOSE_RANGE_CLOEXEC  (1u << 2)
/* preadv2/pwritev2 flags (RWF_*). */
#define RWF_HIPRI    0x01
#define RWF_DSYNC    0x02
#define RWF_SYNC     0x04
#define RWF_NOWAIT   0x08
#define RWF_APPEND   0x10
#define RWF_SUPPORTED 0x1f

#define F_DUPFD          0
#define F_GETFD          1
#define F_SETFD          2
#define F_GETFL          3
#define F_SETFL          4
#define F_DUPFD_CLOEXEC  1030
#define F_GETLK          5      /* POSIX record locks (struct flock) */
#define F_SETLK          6
#define F_SETLKW         7
#define F_SETOWN         8
#define F_GETOWN         9
#define F_SETSIG         10
#define F_GETSIG         11
#define F_SETOWN_EX      15
#define F_GETOWN_EX      16
#define F_OWNER_TID      0      /* struct f_owner_ex's type */
#define F_OWNER_PID      1
#define F_OWNER_PGRP     2
#define F_OFD_GETLK      36     /* open file description locks */
#define F_OFD_SETLK      37
#define F_OFD_SETLKW     38
#define F_SETLEASE       1024
#define F_GETLEASE       1025
#define F_NOTIFY         1026   /* dnotify */
#define F_SETPIPE_SZ     1031
#define F_GETPIPE_SZ     1032
#define DN_ACCESS        0x00000001
#define DN_MODIFY        0x00000002
#define DN_CREATE        0x00000004
#define DN_DELETE        0x00000008
#define DN_RENAME        0x00000010
#define DN_ATTRIB        0x00000020
#define DN_MULTISHOT     0x80000000
#define F_ADD_SEALS      1033   /* memfd seals */
#define F_GET_SEALS      1034
#define F_SEAL_SEAL      0x0001
#define F_SEAL_SHRINK    0x0002
#define F_SEAL_GROW      0x0004
#define F_SEAL_WRITE     0x0008
#define F_SEAL_FUTURE_WRITE 0x0010
#define F_RDLCK          0
#define F_WRLCK          1
#define F_UNLCK          2

/* ---- splice(2), tee(2), vmsplice(2) ---- */
#define SPLICE_F_MOVE      1
#define SPLICE_F_NONBLOCK  2
#define SPLICE_F_MORE      4
#define SPLICE_F_GIFT      8
#define SPLICE_F_ALL       0xf

/* ---- inotify(7) ---- */
#define IN_ACCESS        0x00000001
#define IN_MODIFY        0x00000002
#define IN_ATTRIB        0x00000004
#define IN_CLOSE_WRITE   0x00000008
#define IN_CLOSE_NOWRITE 0x00000010
#define IN_OPEN          0x00000020
#define IN_MOVED_FROM    0x00000040
#define IN_MOVED_TO      0x00000080
#define IN_CREATE        0x00000100
#define IN_DELETE        0x00000200
#define IN_DELETE_SELF   0x00000400
#define IN_MOVE_SELF     0x00000800
#define IN_ALL_EVENTS    0x00000fff
#define IN_UNMOUNT       0x00002000
#define IN_Q_OVERFLOW    0x00004000
#define IN_IGNORED       0x00008000
#define IN_ONLYDIR       0x01000000
#define IN_DONT_FOLLOW   0x02000000
#define IN_EXCL_UNLINK   0x04000000
#define IN_MASK_CREATE   0x10000000
#define IN_MASK_ADD      0x20000000
#define IN_ISDIR         0x40000000
#define IN_ONESHOT       0x80000000
#define IN_CLOEXEC       O_CLOEXEC
#define IN_NONBLOCK      O_NONBLOCK

/* ---- flock(2) ---- */
#define LOCK_SH  1
#define LOCK_EX  2
#define LOCK_NB  4
#define LOCK_UN  8

/* ---- fallocate(2) ---- */
#define FALLOC_FL_KEEP_SIZE      0x01
#define FALLOC_FL_PUNCH_HOLE     0x02
#define FALLOC_FL_NO_HIDE_STALE  0x04
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#define FALLOC_FL_ZERO_RANGE     0x10
#define FALLOC_FL_INSERT_RANGE   0x20
#define FALLOC_FL_UNSHARE_RANGE  0x40
#define FALLOC_FL_WRITE_ZEROES   0x80

/* ---- memfd_create(2) ---- */
#define MFD_CLOEXEC        0x0001
#define MFD_ALLOW_SEALING  0x0002
#define MFD_HUGETLB        0x0004
#define MFD_NOEXEC_SEAL    0x0008
#define MFD_EXEC           0x0010

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
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID  3
#define CLOCK_MONOTONIC_RAW     4
#define CLOCK_REALTIME_COARSE   5
#define CLOCK_MONOTONIC_COARSE  6
#define CLOCK_BOOTTIME   7
#define CLOCK_REALTIME_ALARM  8
#define CLOCK_BOOTTIME_ALARM  9
#define CLOCK_TAI        11

/* ---- adjtimex(2) ---- */
#define ADJ_OFFSET            0x0001
#define ADJ_FREQUENCY         0x0002
#define ADJ_MAXERROR          0x0004
#define ADJ_ESTERROR          0x0008
#define ADJ_STATUS            0x0010
#define ADJ_TIMECONST         0x0020
#define ADJ_TAI               0x0080
#define ADJ_SETOFFSET         0x0100
#define ADJ_MICRO             0x1000
#define ADJ_NANO              0x2000
#define ADJ_TICK              0x4000
#define ADJ_ADJTIME           0x8000            /* adjtime(3)'s single shot */
#define ADJ_OFFSET_SINGLESHOT 0x8001
#define ADJ_OFFSET_SS_READ    0xa001
#define STA_PLL         0x0001
#define STA_PPSFREQ     0x0002
#define STA_PPSTIME     0x0004
#define STA_FLL         0x0008
#define STA_INS         0x0010
#define STA_DEL         0x0020
#define STA_UNSYNC      0x0040
#define STA_FREQHOLD    0x0080
#define STA_PPSSIGNAL   0x0100
#define STA_PPSJITTER   0x0200
#define STA_PPSWANDER   0x0400
#define STA_PPSERROR    0x0800
#define STA_CLOCKERR    0x1000
#define STA_NANO        0x2000
#define STA_MODE        0x4000
#define STA_CLK         0x8000
#define STA_RONLY (STA_PPSSIGNAL | STA_PPSJITTER | STA_PPSWANDER | STA_PPSERROR | STA_CLOCKERR | \
                   STA_NANO | STA_MODE | STA_CLK)
#define TIME_OK    0
#define TIME_INS   1
#define TIME_DEL   2
#define TIME_OOP   3
#define TIME_WAIT  4
#define TIME_ERROR 5
#define MAXFREQ_SCALED      (500ll << 16)       /* 500 ppm, adjtimex's freq units */
#define NTP_PHASE_LIMIT_US  16000000            /* maxerror's ceiling: 16 s */
#define USER_HZ_VIGIL       100                 /* sysconf(_SC_CLK_TCK): adjtimex's tick is per it */

/* ---- mlock(2), mlockall(2) ---- */
#define MLOCK_ONFAULT 1
#define MCL_CURRENT   1
#define MCL_FUTURE    2
#define MCL_ONFAULT   4

/* ---- timer_create(2) ---- */
#define TIMER_ABSTIME    1
#define SIGEV_SIGNAL     0
#define SIGEV_NONE       1
#define SIGEV_THREAD     2
#define SIGEV_THREAD_ID  4

/* ---- System V IPC (svipc(7), msgctl(2), semctl(2), shmctl(2)) ---- */
#define IPC_PRIVATE   0
#define IPC_CREAT     01000
#define IPC_EXCL      02000
#define IPC_NOWAIT    04000
#define IPC_RMID      0
#define IPC_SET       1
#define IPC_STAT      2
#define IPC_INFO      3
#define MSG_STAT      11
#define MSG_INFO      12
#define MSG_STAT_ANY  13
#define MSG_NOERROR   010000
#define MSG_EXCEPT    020000
#define MSG_COPY      040000
#define GETPID        11
#define GETVAL        12
#define GETALL        13
#define GETNCNT       14
#define GETZCNT       15
#define SETVAL        16
#define SETALL        17
#define SEM_STAT      18
#define SEM_INFO      19
#define SEM_STAT_ANY  20
#define SEM_UNDO      0x1000
#define SHM_RDONLY    010000
#define SHM_RND       020000
#define SHM_REMAP     040000
#define SHM_EXEC      0100000
#define SHM_HUGETLB   04000
#define SHM_NORESERVE 010000
#define SHM_LOCK      11
#define SHM_UNLOCK    12
#define SHM_STAT      13
#define SHM_INFO      14
#define SHM_STAT_ANY  15
#define SHM_DEST      01000     /* shm_perm.mode: removed, destroyed at the last detach */
#define SHM_LOCKED    02000     /* shm_perm.mode: SHM_LOCK */
#define SHMLBA        4096
#define IPCMNI        32768     /* an id is seq * IPCMNI + index */
/* Linux's default limits (ipc/msg.h, sem.h, shm.h of the uapi) */
#define MSGMNI_DEF    32000
#define MSGMAX_DEF    8192
#define MSGMNB_DEF    16384
#define SEMMSL_DEF    32000
#define SEMMNS_DEF    1024000000
#define SEMOPM_DEF    500
#define SEMMNI_DEF    32000
#define SEMVMX        32767
#define SEMAEM        SEMVMX
#define SHMMNI_DEF    4096
#define SHMMIN        1
#define SHMMAX_DEF    (~0ul - (1ul << 24))
#define SHMALL_DEF    (~0ul - (1ul << 24))

/* ---- POSIX message queues (mq_overview(7)) ---- */
#define MQ_PRIO_MAX       32768
#define MQ_DFLT_MSGMAX    10
#define MQ_DFLT_MSGSIZE   8192
#define MQ_MSGMAX_DEF     10
#define MQ_MSGSIZE_DEF    8192
#define MQ_QUEUES_MAX_DEF 256
#define MQ_HARD_MSGMAX    65536
#define MQ_HARD_MSGSIZE   (16 << 20)
#define SI_MESGQ          (-3)   /* si_code of mq_notify's signal */
#define NOTIFY_COOKIE_LEN 32

/* ---- ioprio_set(2) ---- */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_NONE  0
#define IOPRIO_CLASS_RT    1
#define IOPRIO_CLASS_BE    2
#define IOPRIO_CLASS_IDLE  3
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP    2
#define IOPRIO_WHO_USER    3
#define IOPRIO_DEFAULT     ((IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 4)

/* ---- setitimer(2) ---- */
#define ITIMER_REAL    0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF    2

/* ELF-64 (System V gABI; x86-64 psABI): what exec reads and a core dump
 * writes. */
struct elf64_ehdr {
    uint8_t  ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define ET_EXEC   2
#define ET_DYN    3
#define ET_CORE   4
#define EM_X86_64 62
#define PT_LOAD   1
#define PT_INTERP 3
#define PT_NOTE   4
#define PT_PHDR   6
#define PF_X 1
#define PF_W 2
#define PF_R 4


/* ---- the *at(2) calls ---- */
#define AT_FDCWD             -100
#define AT_SYMLINK_NOFOLLOW  0x100
#define AT_REMOVEDIR         0x200
#define AT_EACCESS           0x200
#define AT_NO_AUTOMOUNT      0x800
#define AT_SYMLINK_FOLLOW    0x400
#define AT_EMPTY_PATH        0x1000
#define AT_HANDLE_FID        0x200     /* name_to_handle_at(2) */
#define MAX_HANDLE_SZ        128
#define FILEID_INO32_GEN     1
#define AT_STATX_SYNC_TYPE   0x6000
#define AT_STATX_FORCE_SYNC  0x2000
#define AT_STATX_DONT_SYNC   0x4000
#define RENAME_NOREPLACE     1
#define RENAME_EXCHANGE      2
#define RENAME_WHITEOUT      4

/* ---- statx(2): the mask ---- */
#define STATX_TYPE         0x0001
#define STATX_MODE         0x0002
#define STATX_NLINK        0x0004
#define STATX_UID          0x0008
#define STATX_GID          0x0010
#define STATX_ATIME        0x0020
#define STATX_MTIME        0x0040
#define STATX_CTIME        0x0080
#define STATX_INO          0x0100
#define STATX_SIZE         0x0200
#define STATX_BLOCKS       0x0400
#define STATX_BASIC_STATS  0x07ff
#define STATX_BTIME        0x0800
#define STATX_MNT_ID       0x1000
#define STATX__RESERVED    0x80000000u

/* ---- utimensat(2) ---- */
#define UTIME_NOW   ((1l << 30) - 1l)
#define UTIME_OMIT  ((1l << 30) - 2l)

/* ---- statfs(2): f_type, f_flags ---- */
#define EXT2_SUPER_MAGIC    0xEF53
#define TMPFS_MAGIC         0x01021994
#define RAMFS_MAGIC         0x858458f6
#define PROC_SUPER_MAGIC    0x9fa0
#define STICKY_TIMEOUTS     0x4000000           /* personality(2): select leaves its timeout alone */
#define SYSFS_MAGIC         0x62656572
#define DEVPTS_SUPER_MAGIC  0x1cd1
#define MQUEUE_MAGIC        0x19800202
#define PIPEFS_MAGIC        0x50495045
#define ST_RDONLY           0x0001
#define ST_VALID            0x0020

/* ---- extended attributes ---- */
#define XATTR_NAME_MAX   255
#define XATTR_SIZE_MAX   65536
#define XATTR_LIST_MAX   65536
#define XATTR_CREATE     1
#define XATTR_REPLACE    2

/* ---- file modes (inode.i_mode, stat.st_mode) ---- */
#define S_IFMT   0170000
#define S_IFDIR  0040000
#define S_IFREG  0100000
#define S_IFLNK  0120000
#define S_IFCHR  0020000
#define S_IFBLK  0060000
#define S_IFIFO  0010000
#define S_IFSOCK 0140000
#define S_ISUID  0004000        /* set-user-ID: exec runs the program as its owner */
#define S_ISGID  0002000        /* set-group-ID (with S_IXGRP: exec runs it as its group) */
#define S_IXGRP  0000010
#define S_ISVTX  0001000        /* sticky: only the owner may remove an entry */
#define NGROUPS_VIGIL 32        /* supplementary groups a process may have */
#define NGROUPS_MAX_LINUX 65536  /* setgroups(2): Linux's NGROUPS_MAX */
#define NR_OPEN_VIGIL (1ul << 20) /* fs.nr_open: RLIMIT_NOFILE's ceiling (Linux's default) */
#define NR_OPEN_MIN   64ul      /* ... the least it may be set to (Linux: BITS_PER_LONG) */
#define NR_OPEN_MAX   2147483584ul /* ... and the most (INT_MAX rounded down to 64) */
#define INR_OPEN_CUR  1024      /* RLIMIT_NOFILE of init: soft, */
#define INR_OPEN_MAX  4096      /* ... and hard (Linux's defaults) */
/* A getdents record's d_type (DT_FIFO 1, DT_CHR 2, DT_DIR 4, DT_BLK 6,
 * DT_REG 8, DT_LNK 10, DT_SOCK 12): the file type bits, shifted down. */
#define IFTODT(m)  (((m) & S_IFMT) >> 12)
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)

#define NAME_MAX 255            /* bytes in a file name */
#define PATH_MAX 4096           /* bytes in a path, with its NUL */

/* ---- mount(2) ---- */
#define MS_RDONLY 1
#define MS_REMOUNT 32

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
/* The old struct termio (TCGETA, TCSETA...): 16-bit flags and 8 control characters. */
struct termio_k {
    uint16_t c_iflag, c_oflag, c_cflag, c_lflag;
    uint8_t c_line;
    uint8_t c_cc[8];
} __attribute__((packed));
#define ACCT_AFORK  0x01                        /* acct(5)'s ac_flag: forked, never exec'd */
#define ACCT_ASU    0x02                        /* ... used root's privileges */
#define ACCT_ACORE  0x08                        /* ... dumped core */
#define ACCT_AXSIG  0x10                        /* ... killed by a signal */
#define FUTEX_WAITV_MAX   128                   /* futex_waitv(2) */
#define FUTEX2_SIZE_U32   0x02
#define FUTEX2_SIZE_MASK  0x03
#define FUTEX2_PRIVATE    128
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012
#define TCGETA      0x5405
/* random(4)'s ioctls */
#define RNDGETENTCNT   0x80045200
#define RNDADDTOENTCNT 0x40045201
#define RNDADDENTROPY  0x40085203
#define RNDZAPENTCNT   0x5204
#define RNDCLEARPOOL   0x5206
#define RNDRESEEDCRNG  0x5207
#define RANDOM_ENTROPY_BITS 256                 /* entropy_avail: Linux 5.18+'s constant */
#define TCSETA      0x5406
#define TCSETAW     0x5407
#define TCSETAF     0x5408
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
#define PKEY_DISABLE_ACCESS  0x1     /* pkey_alloc(2)'s access rights */
#define PKEY_DISABLE_WRITE   0x2
#define PKEY_ACCESS_MASK     (PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE)
#define PKEY_MAX             16      /* keys the x86 PTE holds (bits 59-62) */
#define PKRU_INIT            0x55555554u   /* a thread's PKRU at exec and in a handler: keys 1-15 access-disabled */
#define UFFD_USER_MODE_ONLY  1       /* userfaultfd(2)'s flag: faults from user mode only */
#define UFFD_API             0xAA
#define UFFD_EVENT_PAGEFAULT 0x12
#define UFFD_PAGEFAULT_FLAG_WRITE 1
#define UFFDIO_REGISTER_MODE_MISSING 1
#define UFFDIO_REGISTER_MODE_WP      2
#define UFFDIO_REGISTER_MODE_MINOR   4
#define UFFDIO_COPY_MODE_DONTWAKE    1
#define UFFDIO_COPY_MODE_WP          2
#define UFFDIO_ZEROPAGE_MODE_DONTWAKE 1
#define _UFFDIO_REGISTER     0x00    /* ioctl numbers: _IOWR/_IOR(0xAA, nr, struct) */
#define _UFFDIO_UNREGISTER   0x01
#define _UFFDIO_WAKE         0x02
#define _UFFDIO_COPY         0x03
#define _UFFDIO_ZEROPAGE     0x04
#define _UFFDIO_API          0x3F
#define UFFDIO_API           0xc018aa3ful   /* struct uffdio_api, 24 bytes */
#define UFFDIO_REGISTER      0xc020aa00ul   /* struct uffdio_register, 32 */
#define UFFDIO_UNREGISTER    0x8010aa01ul   /* struct uffdio_range, 16 */
#define UFFDIO_WAKE          0x8010aa02ul   /* struct uffdio_range */
#define UFFDIO_COPY          0xc028aa03ul   /* struct uffdio_copy, 40 */
#define UFFDIO_ZEROPAGE      0xc020aa04ul   /* struct uffdio_zeropage, 32 */
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
#define MADV_REMOVE          9

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
#define CLONE_IO             0x80000000u
#define CLONE_NEWNS_ALL      0xfe020080ul       /* every CLONE_NEW*: NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
                                                 * NEWUSER, NEWPID, NEWNET, NEWTIME */

/* ---- pidfd_open(2), kcmp(2) ---- */
#define PIDFD_NONBLOCK       O_NONBLOCK
#define KCMP_FILE            0
#define KCMP_VM              1
#define KCMP_FILES           2
#define KCMP_FS              3
#define KCMP_SIGHAND         4
#define KCMP_IO              5
#define KCMP_SYSVSEM         6
#define KCMP_EPOLL_TFD       7

/* ---- wait4(2): options and the status word ---- */
#define WNOHANG     1
#define WUNTRACED   2
#define WCONTINUED  8
#define WSTOPPED    2           /* waitid(2)'s name for WUNTRACED */
#define WEXITED     4
#define WNOWAIT     0x01000000
#define __WNOTHREAD 0x20000000
#define __WCLONE    0x80000000
#define P_ALL       0           /* waitid(2)'s idtype */
#define P_PID       1
#define P_PGID      2
#define P_PIDFD     3
#define CLD_EXITED    1         /* si_code of a SIGCHLD */
#define CLD_KILLED    2
#define CLD_DUMPED    3
#define CLD_TRAPPED   4
#define CLD_STOPPED   5
#define CLD_CONTINUED 6
#define __WALL      0x40000000
#define W_EXITED(code)   (((code) & 0xff) << 8)
#define W_SIGNALED(sig)  ((sig) & 0x7f)

/* ---- ptrace(2): requests, options, events (man 2 ptrace) ---- */
#define PTRACE_TRACEME      0
#define PTRACE_PEEKTEXT     1
#define PTRACE_PEEKDATA     2
#define PTRACE_PEEKUSER     3
#define PTRACE_POKETEXT     4
#define PTRACE_POKEDATA     5
#define PTRACE_POKEUSER     6
#define PTRACE_CONT         7
#define PTRACE_KILL         8
#define PTRACE_SINGLESTEP   9
#define PTRACE_GETREGS      12
#define PTRACE_SETREGS      13
#define PTRACE_GETFPREGS    14
#define PTRACE_SETFPREGS    15
#define PTRACE_ATTACH       16
#define PTRACE_DETACH       17
#define PTRACE_SYSCALL      24
#define PTRACE_SETOPTIONS   0x4200
#define PTRACE_GETEVENTMSG  0x4201
#define PTRACE_GETSIGINFO   0x4202
#define PTRACE_SETSIGINFO   0x4203
#define PTRACE_GETREGSET    0x4204
#define PTRACE_SETREGSET    0x4205
#define PTRACE_SEIZE        0x4206
#define PTRACE_INTERRUPT    0x4207
#define PTRACE_LISTEN       0x4208
#define PTRACE_GET_SYSCALL_INFO 0x420e
#define PTRACE_O_TRACESYSGOOD  0x01
#define PTRACE_O_TRACEFORK     0x02
#define PTRACE_O_TRACEVFORK    0x04
#define PTRACE_O_TRACECLONE    0x08
#define PTRACE_O_TRACEEXEC     0x10
#define PTRACE_O_TRACEVFORKDONE 0x20
#define PTRACE_O_TRACEEXIT     0x40
#define PTRACE_O_EXITKILL      0x100000
#define PTRACE_O_MASK          0x10007f
#define PTRACE_EVENT_FORK   1
#define PTRACE_EVENT_VFORK  2
#define PTRACE_EVENT_CLONE  3
#define PTRACE_EVENT_EXEC   4
#define PTRACE_EVENT_EXIT   6
#define PTRACE_EVENT_STOP   128
#define PTRACE_SYSCALL_INFO_NONE  0
#define PTRACE_SYSCALL_INFO_ENTRY 1
#define PTRACE_SYSCALL_INFO_EXIT  2
#define NT_PRSTATUS 1
#define NT_PRFPREG  2
#define NT_PRPSINFO 3
#define NT_AUXV     6
#define NT_SIGINFO  0x53494749    /* "SIGI" */
#define NT_FILE     0x46494c45    /* "FILE" */
#define NT_X86_XSTATE 0x202    /* XSAVE's area: none without XSAVE (ENODEV) */
#define AUDIT_ARCH_X86_64 0xc000003e

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
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGIO   29
#define SIGSYS  31

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
#define SI_QUEUE  (-1)          /* sigqueue(3) */
#define SI_TIMER  (-2)          /* a POSIX timer */
#define SI_TKILL  (-6)
#define SI_KERNEL 0x80          /* int3's SIGTRAP */
#define POLL_IN   1             /* SIGIO's (F_SETSIG's) si_code: data to read */
#define POLL_OUT  2             /* ... room to write */
#define POLL_MSG  3             /* ... a dnotify event */
#define SEGV_PKUERR 4           /* SIGSEGV's si_code: refused by a protection key (si_pkey) */
#define TRAP_BRKPT  1           /* SIGTRAP's si_code: a breakpoint (a step over syscall) */
#define TRAP_TRACE  2           /* ... a single step (TF) */
#define TRAP_HWBKPT 4           /* ... a hardware breakpoint or watchpoint */
#define SS_ONSTACK    1         /* sigaltstack(2) */
#define SS_DISABLE    2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ   2048
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
#define SCHED_DEADLINE 6
#define SCHED_DL_MIN_NS 1024ull                 /* the least runtime Linux takes (2^10 ns) */
#define SCHED_RESET_ON_FORK 0x40000000
#define SCHED_ATTR_SIZE_VER0 48   /* sched_setattr(2)'s struct sched_attr */
#define SCHED_FLAG_KEEP_POLICY 0x08
#define SCHED_FLAG_ALL         0x7f

/* ---- resources, arch_prctl(2), reboot(2) ---- */
#define RLIM_INFINITY (~0ul)
#define RLIMIT_CPU     0
#define RLIMIT_FSIZE   1
#define RLIMIT_DATA    2
#define RLIMIT_STACK   3
#define RLIMIT_CORE    4
#define RLIMIT_RSS     5
#define RLIMIT_NPROC   6
#define RLIMIT_NOFILE  7
#define RLIMIT_MEMLOCK 8
#define RLIMIT_MSGQUEUE 12
#define RLIMIT_AS      9
#define RLIMIT_SIGPENDING 11
#define SIGRTMIN_K     32       /* the first real-time signal (the C library keeps 32 and 33 for itself) */
#define RLIM_NLIMITS   16
#define SI_LOAD_SHIFT  16       /* sysinfo(2)'s load averages: fixed point */
#define RUSAGE_SELF      0
#define RUSAGE_CHILDREN  (-1)
#define RUSAGE_THREAD    1
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* ---- prctl(2) ---- */
#define PR_SET_PDEATHSIG        1
#define PR_GET_PDEATHSIG        2
#define PR_GET_DUMPABLE         3
#define PR_SET_DUMPABLE         4
#define PR_GET_KEEPCAPS         7
#define PR_SET_KEEPCAPS         8
#define PR_SET_NAME            15
#define PR_GET_NAME            16
#define PR_GET_SECCOMP         21
#define PR_CAPBSET_READ        23
#define PR_GET_TSC             25
#define PR_SET_TSC             26
#define PR_TSC_ENABLE           1
#define PR_TSC_SIGSEGV          2
#define PR_GET_TIMERSLACK      30
#define PR_SET_TIMERSLACK      29
#define PR_SET_CHILD_SUBREAPER 36
#define PR_GET_CHILD_SUBREAPER 37
#define PR_SET_NO_NEW_PRIVS    38
#define PR_GET_NO_NEW_PRIVS    39
#define CAP_LAST_CAP           40   /* CAP_CHECKPOINT_RESTORE */

/* ---- clone3(2): struct clone_args sizes ---- */
#define CLONE_ARGS_SIZE_VER0   64
#define CLONE_ARGS_SIZE_VER2   88
#define CLONE_NEWTIME          0x00000080
#define CLONE_CLEAR_SIGHAND    0x100000000ull
#define CLONE_INTO_CGROUP      0x200000000ull
#define LINUX_REBOOT_MAGIC1        0xfee1dead
#define LINUX_REBOOT_MAGIC2        672274793
#define LINUX_REBOOT_CMD_RESTART   0x01234567
#define LINUX_REBOOT_CMD_HALT      0xcdef0123
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc
#define LINUX_REBOOT_CMD_CAD_ON    0x89abcdef
/* syslog(2)'s actions */
#define SYSLOG_ACTION_CLOSE          0
#define SYSLOG_ACTION_OPEN           1
#define SYSLOG_ACTION_READ           2
#define SYSLOG_ACTION_READ_ALL       3
#define SYSLOG_ACTION_READ_CLEAR     4
#define SYSLOG_ACTION_CLEAR          5
#define SYSLOG_ACTION_CONSOLE_OFF    6
#define SYSLOG_ACTION_CONSOLE_ON     7
#define SYSLOG_ACTION_CONSOLE_LEVEL  8
#define SYSLOG_ACTION_SIZE_UNREAD    9
#define SYSLOG_ACTION_SIZE_BUFFER   10
#define LINUX_REBOOT_CMD_CAD_OFF   0x00000000

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
#define AT_SYSINFO_EHDR 33     /* where the vDSO's ELF header is */
#define AT_MINSIGSTKSZ 51
