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

/* Descriptor helpers shared by the sys_*.c files. */
struct file *fd_get(int fd);
int          fd_install(struct file *f, int min_fd, bool cloexec);   /* -EMFILE */

/* Monotonic and real time in nanoseconds. */
uint64_t     time_monotonic_ns(void);
uint64_t     time_realtime_ns(void);
