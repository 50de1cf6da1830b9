/* sys/syscall.h - the system-call layer: Linux x86-64 numbers and calling
 * convention (rdi, rsi, rdx, r10, r8, r9; result or -errno in rax). */
#pragma once
#include "../lib/types.h"
#include "../arch/x86_64/arch.h"

struct file;

/* SYS_read, SYS_write...: Linux's numbers, from the one list. */
enum {
#define SYSCALL(nr, name, fn, lock) SYS_##name = nr,
#define UNIMPL(nr, name)            SYS_##name = nr,
#include "syscalls.def"
#undef SYSCALL
#undef UNIMPL
};

void syscall_dispatch(struct trapframe *tf);
const char *syscall_name(long nr);      /* "read", or "?" (reports: debug/watchdog.c) */

/* Descriptor helpers shared by the sys_*.c files. fd_get returns the file
 * with a reference the syscall holds until it returns (fd_put_held, called
 * by syscall_dispatch and at exit), so the file outlives any sleep in the
 * syscall whatever other threads do to the descriptor table. */
struct file *fd_get(int fd);
/* ... fd_get refuses a file opened with O_PATH (NULL: the caller says
 * EBADF, as Linux's fdget does); fd_get_raw takes it too, for the calls
 * Linux lets an O_PATH descriptor reach (close, dup, fcntl's descriptor
 * commands, fstat, fstatfs, fchdir, and as the dirfd of the *at calls). */
struct file *fd_get_raw(int fd);
void         fd_put_held(void);
int          fd_install(struct file *f, int min_fd, bool cloexec);   /* -EMFILE */

/* Paths from user space (sys_file.c), for the sys_*.c files: a PATH_MAX
 * buffer from the heap, freed when its variable goes out of scope (NULL if
 * memory ran out: get_path then says ENOMEM); the path copied in (-EFAULT,
 * -ENAMETOOLONG, -ENOENT for an empty one); and what it names, relative to
 * dirfd's directory or the working directory (LOOKUP_FOLLOW: through a
 * final symlink). */
void         path_buf_free(char **p);
#define PATH_BUF(name) char *name __attribute__((cleanup(path_buf_free))) = kmalloc(PATH_MAX)
long         get_path(const char *upath, char *path, size_t size);
struct inode;
int          lookup_at(int dirfd, const char *path, int flags, struct inode **out);
/* inotify: mask happened to the inode path names (and to its directory's entry). */
void         notify_path(int dirfd, const char *path, struct inode *ino, uint32_t mask);
/* The directory of path's last component (relative to dirfd), which the
 * caller may change (write and search permission), and that component. */
int          parent_for_change(int dirfd, const char *path, struct inode **dir, const char **name,
                               size_t *len);

/* open(2)'s checks and open file for an inode found (its reference is the
 * file's, or dropped on failure); created: this open made it. */
struct file;
long         open_inode(struct inode *ino, int flags, bool created, struct file **out);

/* memfd seals (sys_fsinfo.c): fcntl's F_ADD_SEALS/F_GET_SEALS, and may n
 * bytes be written at pos (or the file truncated to pos)? 0 or -EPERM;
 * always 0 for files that are no memfd. */
long         memfd_seals(struct file *f, int cmd, unsigned seals);
/* F_GETPIPE_SZ / F_SETPIPE_SZ (fs/pipe.c): EBADF for a file not a pipe. */
long         pipe_fcntl(struct file *f, int cmd, unsigned long arg);
long         seal_check(struct inode *ino, uint64_t pos, uint64_t n, bool truncate);

/* Time from user numbers, saturating (INVARIANT(kernel memory safety): a
 * timeout too large to represent means "forever", never a wrapped small
 * one): seconds+nanoseconds to ns, ns to timer ticks (rounded up), and the
 * tick deadline that many ticks from now. */
uint64_t     ts_to_ns_sat(int64_t sec, int64_t nsec);
uint64_t     ns_to_ticks_sat(uint64_t ns);
uint64_t     tick_deadline_sat(uint64_t ticks);

/* Monotonic and real time in nanoseconds (sys/timekeep.c, over the vvar
 * page the vDSO reads too: sys/vvar.h). time_clock_ns: clock clk's time if
 * the page serves it (what the vDSO answers without a system call). */
void         timekeep_init(void);               /* at boot, after the TSC's calibration */
struct vvar;
struct vvar *timekeep_vvar(uint64_t *pa);       /* the page, and its frame */
uint64_t     time_monotonic_ns(void);
uint64_t     time_realtime_ns(void);
bool         time_clock_ns(int clk, uint64_t *ns);
/* sys/timekeep.c: set CLOCK_REALTIME (root's; -EPERM), and adjtimex's TAI offset. */
long         set_realtime(int64_t sec, int64_t nsec);
int32_t      time_tai_offset(void);
/* sys_misc.c: a CPU-time clock's reading in ns (CLOCK_*_CPUTIME_ID or a
 * clock_getcpuclockid id): 0, or -EINVAL for no such clock. cpu_time_ns:
 * the caller's process's (or thread's). */
int          cpu_clock_read(int clk, uint64_t *ns);
uint64_t     cpu_time_ns(bool process);
