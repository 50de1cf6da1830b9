/* sys/sys.h - the syscall handlers (internal to sys/). */
#pragma once
#include "../lib/types.h"

/* sys_file.c */
long sys_read(int fd, void *buf, size_t n);
long sys_write(int fd, const void *buf, size_t n);
long sys_pread64(int fd, void *buf, size_t n, int64_t off);
long sys_readv(int fd, const void *iov, int cnt);
long sys_writev(int fd, const void *iov, int cnt);
long sys_preadv(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h);
long sys_pwritev(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h);
long sys_preadv2(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h, int flags);
long sys_pwritev2(int fd, const void *iov, long cnt, int64_t pos_l, int64_t pos_h, int flags);
long sys_open(const char *path, int flags, int mode);
long sys_creat(const char *path, int mode);
long sys_openat(int dirfd, const char *path, int flags, int mode);
long sys_openat2(int dirfd, const char *path, const void *how, size_t size);
long sys_close(int fd);
long sys_close_range(unsigned first, unsigned last, unsigned flags);
long sys_lseek(int fd, int64_t off, int whence);
long sys_stat(const char *path, void *st);
long sys_lstat(const char *path, void *st);
long sys_fstat(int fd, void *st);
long sys_newfstatat(int dirfd, const char *path, void *st, int flags);
long sys_access(const char *path, int mode);
long sys_faccessat(int dirfd, const char *path, int mode);
long sys_faccessat2(int dirfd, const char *path, int mode, int flags);
long sys_ioctl(int fd, unsigned long cmd, unsigned long arg);
long sys_dup(int fd);
long sys_dup2(int fd, int to);
long sys_dup3(int fd, int to, int flags);
long sys_fcntl(int fd, int cmd, long arg);
long sys_getcwd(char *buf, size_t size);
long sys_chdir(const char *path);
long sys_fchdir(int fd);
long sys_chroot(const char *path);
long sys_getdents64(int fd, void *buf, size_t n);
long sys_getdents(int fd, void *buf, size_t n);      /* the old layout, d_type last */
long sys_readlinkat(int dirfd, const char *path, char *buf, long size);
long sys_readlink(const char *path, char *buf, long size);
long sys_umask(int mask);
long sys_mkdirat(int dirfd, const char *path, int mode);
long sys_mkdir(const char *path, int mode);
long sys_unlinkat(int dirfd, const char *path, int flags);
long sys_unlink(const char *path);
long sys_rmdir(const char *path);
long sys_renameat2(int odirfd, const char *o, int ndirfd, const char *n, unsigned flags);
long sys_renameat(int odirfd, const char *o, int ndirfd, const char *n);
long sys_rename(const char *o, const char *n);
long sys_linkat(int odirfd, const char *o, int ndirfd, const char *n, int flags);
long sys_link(const char *o, const char *n);
long sys_symlinkat(const char *target, int dirfd, const char *path);
long sys_symlink(const char *target, const char *path);
long sys_ftruncate(int fd, int64_t len);
long sys_truncate(const char *path, int64_t len);
long sys_fsync(int fd);
long sys_fdatasync(int fd);
long sys_sync(void);
long sys_fchmod(int fd, int mode);
long sys_fchmodat(int dirfd, const char *path, int mode);
long sys_chmod(const char *path, int mode);
long sys_fchownat(int dirfd, const char *path, int uid, int gid, int flags);
long sys_chown(const char *path, int uid, int gid);
long sys_lchown(const char *path, int uid, int gid);
long sys_fchown(int fd, int uid, int gid);
long sys_mount(const char *source, const char *target, const char *type, unsigned long flags,
               const void *data);
long sys_umount2(const char *target, int flags);
long sys_swapon(const char *path, int flags);                 /* mm/swap.c */
long sys_swapoff(const char *path);
long sys_pwrite64(int fd, const void *buf, size_t n, int64_t off);

/* sys_fsinfo.c */
long sys_statfs(const char *path, void *buf);
long sys_fstatfs(int fd, void *buf);
long sys_ustat(unsigned dev, void *buf);
long sys_sysfs(int option, unsigned long arg1, unsigned long arg2);
/* The i-th file-system type the kernel knows (sysfs(2), /proc/filesystems):
 * its name, and whether it needs no device; NULL past the last. */
const char *fs_type_at(int i, bool *nodev);
long sys_statx(int dirfd, const char *path, int flags, unsigned mask, void *buf);
long sys_utimensat(int dirfd, const char *path, const void *times, int flags);
long sys_futimesat(int dirfd, const char *path, const void *tv);
long sys_utimes(const char *path, const void *tv);
long sys_utime(const char *path, const void *buf);
long sys_getxattr(const char *path, const char *name, void *value, size_t size);
long sys_lgetxattr(const char *path, const char *name, void *value, size_t size);
long sys_fgetxattr(int fd, const char *name, void *value, size_t size);
long sys_listxattr(const char *path, char *list, size_t size);
long sys_llistxattr(const char *path, char *list, size_t size);
long sys_flistxattr(int fd, char *list, size_t size);
long sys_setxattr(const char *path, const char *name, const void *value, size_t size, int flags);
long sys_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
long sys_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
long sys_removexattr(const char *path, const char *name);
long sys_lremovexattr(const char *path, const char *name);
long sys_fremovexattr(int fd, const char *name);
long sys_syncfs(int fd);
long sys_getsockname(int fd, void *addr, int *addrlen);
long sys_getpeername(int fd, void *addr, int *addrlen);
long sys_name_to_handle_at(int dirfd, const char *path, void *handle, int *mnt_id, int flags);
long sys_open_by_handle_at(int mount_fd, void *handle, int flags);
long sys_fallocate(int fd, int mode, int64_t off, int64_t len);
long sys_sendfile(int out_fd, int in_fd, int64_t *off, size_t count);
long sys_memfd_create(const char *name, unsigned flags);
long sys_mknodat(int dirfd, const char *path, unsigned mode, unsigned dev);
long sys_mknod(const char *path, unsigned mode, unsigned dev);
long sys_fadvise64(int fd, int64_t off, int64_t len, int advice);
long sys_readahead(int fd, int64_t off, size_t count);
long sys_sync_file_range(int fd, int64_t off, int64_t n, unsigned flags);
long sys_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len,
                         unsigned flags);

/* fs/lock.c */
long sys_flock(int fd, int op);

/* ipc/: System V IPC and POSIX message queues */
long sys_msgget(int key, int flg);
long sys_msgsnd(int id, const void *msgp, size_t sz, int flg);
long sys_msgrcv(int id, void *msgp, size_t sz, long type, int flg);
long sys_msgctl(int id, int cmd, void *buf);
long sys_semget(int key, int nsems, int flg);
long sys_semop(int id, void *sops, size_t nsops);
long sys_semtimedop(int id, void *sops, size_t nsops, const void *timeout);
long sys_semctl(int id, int num, int cmd, unsigned long arg);
long sys_shmget(int key, size_t size, int flg);
long sys_shmat(int id, uintptr_t addr, int flg);
long sys_shmdt(uintptr_t addr);
long sys_shmctl(int id, int cmd, void *buf);
long sys_mq_open(const char *name, int oflag, unsigned mode, const void *attr);
long sys_mq_unlink(const char *name);
long sys_mq_timedsend(int fd, const char *msg, size_t len, unsigned prio, const void *timeout);
long sys_mq_timedreceive(int fd, char *msg, size_t len, unsigned *prio, const void *timeout);
long sys_mq_notify(int fd, const void *sevp);
long sys_mq_getsetattr(int fd, const void *newattr, void *oldattr);

/* sys_limits.c */
long sys_getrlimit(int res, void *rlim);
long sys_setrlimit(int res, const void *rlim);
long sys_prlimit64(int pid, int res, const void *new_rlim, void *old_rlim);
long sys_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
long sys_sysinfo(void *buf);
long sys_getcpu(unsigned *cpu, unsigned *node, void *cache);
long sys_clone3(const void *args, size_t size);
/* proc/pidfd.c */
long sys_pidfd_open(int pid, unsigned flags);
long sys_pidfd_send_signal(int fd, int sig, const void *uinfo, unsigned flags);
long sys_pidfd_getfd(int pidfd, int targetfd, unsigned flags);
long sys_kcmp(int pid1, int pid2, int type, unsigned long idx1, unsigned long idx2);
long sys_ioprio_set(int which, int who, int ioprio);
long sys_ioprio_get(int which, int who);
long sys_mlock(uintptr_t addr, size_t len);
long sys_munlock(uintptr_t addr, size_t len);
long sys_mlock2(uintptr_t addr, size_t len, int flags);
long sys_mlockall(int flags);
long sys_munlockall(void);
long sys_personality(unsigned persona);
long sys_sched_rr_get_interval(int tid, void *ts);
long sys_sched_setattr(int tid, void *attr, unsigned flags);
long sys_sched_getattr(int tid, void *attr, unsigned size, unsigned flags);
long sys_clock_settime(int clk, const void *ts);
long sys_settimeofday(const void *tv, const void *tz);

/* proc/ptimer.c */
long sys_timer_create(int clock, const void *sev, int *id);
long sys_timer_settime(int id, int flags, const void *new_value, void *old_value);
long sys_timer_gettime(int id, void *cur);
long sys_timer_getoverrun(int id);
long sys_timer_delete(int id);

/* fs/pipe.c */
long sys_pipe(int *fds);
long sys_pipe2(int *fds, int flags);
long sys_splice(int fd_in, int64_t *uoff_in, int fd_out, int64_t *uoff_out, size_t len, unsigned flags);
long sys_tee(int fd_in, int fd_out, size_t len, unsigned flags);
long sys_vmsplice(int fd, const void *uiov, unsigned long nr, unsigned flags);
/* fs/inotify.c */
long sys_inotify_init(void);
long sys_inotify_init1(int flags);
long sys_inotify_add_watch(int fd, const char *upath, uint32_t mask);
long sys_inotify_rm_watch(int fd, int wd);
/* fs/poll.c, fs/epoll.c, fs/eventfd.c, fs/timerfd.c, fs/signalfd.c: waiting on many things */
long sys_poll(void *ufds, unsigned nfds, int timeout_ms);
long sys_ppoll(void *ufds, unsigned nfds, const void *uts, const void *umask, size_t size);
long sys_select(int n, void *uin, void *uout, void *uex, void *utv);
long sys_pselect6(int n, void *uin, void *uout, void *uex, void *uts, const void *usig);
long sys_epoll_create(int size);
long sys_epoll_create1(int flags);
long sys_epoll_ctl(int epfd, int op, int fd, const void *uevent);
long sys_epoll_wait(int epfd, void *uevents, int maxevents, int timeout_ms);
long sys_epoll_pwait(int epfd, void *uevents, int maxevents, int timeout_ms,
                     const void *umask, size_t size);
long sys_epoll_pwait2(int epfd, void *uevents, int maxevents, const void *uts,
                      const void *umask, size_t size);
long sys_eventfd(unsigned initval);
long sys_eventfd2(unsigned initval, int flags);
long sys_timerfd_create(int clockid, int flags);
long sys_timerfd_settime(int fd, int flags, const void *unew, void *uold);
long sys_timerfd_gettime(int fd, void *ucur);
long sys_signalfd(int fd, const void *umask, size_t size);
long sys_signalfd4(int fd, const void *umask, size_t size, int flags);

/* sys_mm.c */
long sys_brk(uintptr_t addr);
long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, int64_t off);
long sys_munmap(uintptr_t addr, size_t len);
long sys_mprotect(uintptr_t addr, size_t len, int prot);
long sys_pkey_mprotect(uintptr_t addr, size_t len, int prot, int pkey);
long sys_pkey_alloc(unsigned long flags, unsigned long access_rights);
long sys_pkey_free(int pkey);
long sys_userfaultfd(int flags);
long sys_madvise(uintptr_t addr, size_t len, int advice);
long sys_msync(uintptr_t addr, size_t len, int flags);
long sys_mincore(uintptr_t addr, size_t len, uint8_t *vec);
long sys_mremap(uintptr_t addr, size_t old_len, size_t new_len, int flags, uintptr_t new_addr);
long sys_remap_file_pages(uintptr_t start, size_t size, int prot, size_t pgoff, int flags);
long sys_membarrier(int cmd, unsigned flags, int cpu_id);

/* sys_proc.c */
long sys_fork(void);
long sys_vfork(void);
long sys_clone(uint64_t flags, uintptr_t newsp, int *ptid, int *ctid, uint64_t tls);
long sys_exit_group(int code);
long sys_futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout, uint32_t *uaddr2, uint32_t val3);
long sys_futex_waitv(const void *waiters, unsigned nr, unsigned flags, const void *timeout, int clockid);
long sys_tgkill(int tgid, int tid, int sig);
long sys_tkill(int tid, int sig);
long sys_sched_setscheduler(int tid, int policy, const void *param);
long sys_sched_setparam(int tid, const void *param);
long sys_sched_getscheduler(int tid);
long sys_sched_getparam(int tid, void *param);
long sys_sched_get_priority_max(int policy);
long sys_sched_get_priority_min(int policy);
long sys_sched_setaffinity(int tid, size_t len, const void *mask);
long sys_sched_getaffinity(int tid, size_t len, void *mask);
long sys_execve(const char *path, char *const argv[], char *const envp[]);
long sys_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);
long sys_exit(int code);
long sys_wait4(int pid, int *status, int options, void *rusage);
long sys_waitid(int idtype, int id, void *info, int options, void *rusage);
long sys_kill(int pid, int sig);
long sys_ptrace(long req, long pid, uint64_t addr, uint64_t data);
long sys_process_vm_readv(int pid, const void *liov, unsigned long liovcnt, const void *riov,
                          unsigned long riovcnt, unsigned long flags);
long sys_process_vm_writev(int pid, const void *liov, unsigned long liovcnt, const void *riov,
                           unsigned long riovcnt, unsigned long flags);
long sys_getpid(void);
long sys_getppid(void);
long sys_gettid(void);
long sys_set_tid_address(int *tidptr);
long sys_sched_yield(void);
long sys_nanosleep(const void *req, void *rem);
long sys_restart_syscall(void);
long sys_clock_nanosleep(int clk, int flags, const void *req, void *rem);
long sys_getrusage(int who, void *ru);
long sys_times(void *buf);
long sys_arch_prctl(int code, uintptr_t addr);
long sys_ioperm(unsigned long from, unsigned long num, int turn_on);
long sys_iopl(unsigned level);
long sys_set_robust_list(void *head, size_t len);
long sys_get_robust_list(int tid, uint64_t *head, size_t *len);
long sys_unshare(unsigned long flags);
long sys_vhangup(void);
long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig);
long sys_getpriority(int which, int who);
long sys_setpriority(int which, int who, int prio);
long sys_setpgid(int pid, int pgid);
long sys_getpgrp(void);
long sys_getpgid(int pid);
long sys_setsid(void);
long sys_getsid(int pid);
/* soft, hard of process tgid's resource res (also /proc/PID/limits); klock held */
void rlimit_of(int tgid, int res, uint64_t r[2]);

/* proc/signal.c */
long sys_rt_sigaction(int sig, const void *act, void *oact, size_t size);
long sys_rt_sigprocmask(int how, const void *set, void *oset, size_t size);
long sys_rt_sigpending(void *set, size_t size);
long sys_rt_sigreturn(void);
long sys_pause(void);
long sys_rt_sigsuspend(const void *umask, size_t size);
long sys_sigaltstack(const void *ss, void *oss);
long sys_rt_sigtimedwait(const void *set, void *info, const void *timeout, size_t size);
long sys_rt_sigqueueinfo(int pid, int sig, const void *info);
long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, const void *info);
long sys_setitimer(int which, const void *unew, void *uold);
long sys_getitimer(int which, void *ucur);
long sys_alarm(unsigned secs);

/* sys_misc.c */
long sys_uname(void *buf);
long sys_sethostname(const char *name, int len);
/* The names uname(2) gives (also /proc/version, /proc/sys/kernel). */
struct utsname_k {
    char sysname[16], nodename[65], release[16], version[32], domainname[65];
};
void uts_get(struct utsname_k *u);
long uts_set_nodename(const char *name, size_t len);   /* root only: -EPERM, -EINVAL */
long uts_set_domainname(const char *name, size_t len); /* root only: -EPERM, -EINVAL */
long sys_setdomainname(const char *name, int len);
long sys_getuid(void);
long sys_geteuid(void);
long sys_getgid(void);
long sys_getegid(void);
long sys_setuid(long uid);
long sys_setgid(long gid);
long sys_setreuid(long r, long e);
long sys_setregid(long r, long e);
long sys_setresuid(long r, long e, long s);
long sys_setresgid(long r, long e, long s);
long sys_getresuid(uint32_t *r, uint32_t *e, uint32_t *s);
long sys_getresgid(uint32_t *r, uint32_t *e, uint32_t *s);
long sys_setfsuid(long uid);
long sys_setfsgid(long gid);
long sys_getgroups(int size, uint32_t *list);
long sys_setgroups(long size, const uint32_t *list);
long sys_clock_gettime(int clk, void *ts);
long sys_clock_getres(int clk, void *ts);
long sys_syslog(int type, char *buf, int len);
long sys_acct(const char *path);
long sys_adjtimex(void *tx);
long sys_clock_adjtime(int clk, void *tx);
long sys_gettimeofday(void *tv, void *tz);
long sys_time(int64_t *t);
long sys_getrandom(void *buf, size_t len, unsigned flags);
long sys_reboot(unsigned magic1, unsigned magic2, unsigned cmd, void *arg);
