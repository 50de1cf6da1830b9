/* lib/errno.h - Linux's errno values (asm-generic/errno-base.h, errno.h), the part
 * of the ABI header (abi.h) that most files need alone:
 * syscalls return -E... exactly as Linux does. */
#pragma once
#define EPERM    1
#define ENOENT   2
#define ESRCH    3
#define EINTR    4
#define EIO      5
#define ENXIO    6
#define E2BIG    7
#define ENOEXEC  8
#define EBADF    9
#define ECHILD  10
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define EXDEV   18
#define ENODEV  19
#define ENOTDIR 20
#define EISDIR  21
#define EINVAL  22
#define ENFILE  23
#define EMFILE  24
#define ENOTTY  25
#define ETXTBSY 26
#define EFBIG   27
#define ENOSPC  28
#define ESPIPE  29
#define EROFS   30
#define EMLINK  31
#define EPIPE   32
#define ERANGE  34
#define EDEADLK 35
#define ENOLCK  37
#define ENAMETOOLONG 36
#define ENOSYS  38
#define ENOTEMPTY 39
#define ELOOP   40
#define EWOULDBLOCK EAGAIN
#define ENOMSG  42      /* System V IPC: no message of the type asked for */
#define EIDRM   43      /* System V IPC: the object was removed */
#define ENODATA 61
#define EOVERFLOW 75
#define ENOTSOCK 88
#define ELIBBAD 80      /* "accessing a corrupted shared library": a bad ELF interpreter */
#define EOPNOTSUPP 95
#define ENOTSUP EOPNOTSUPP
#define ETIMEDOUT 110
#define EMSGSIZE 90     /* POSIX message queues: message longer than mq_msgsize */
#define ESTALE  116
#define EUCLEAN 117     /* "structure needs cleaning": Linux's EFSCORRUPTED */
#define EOWNERDEAD 130
/* Kernel-internal, never seen by a program: a sleep cut short by a signal,
 * to be restarted unless a handler without SA_RESTART runs (then EINTR).
 * Linux's ERESTARTSYS, with its number; return_to_user_work resolves it. */
#define ERESTARTSYS 512
/* Kernel-internal too: a relative sleep cut short, whose end the thread
 * keeps (proc's restart_end). With no handler run it goes on as
 * restart_syscall(2) until that end, not for its whole length again; a
 * handler makes it EINTR. Linux's number. */
#define ERESTART_RESTARTBLOCK 516
