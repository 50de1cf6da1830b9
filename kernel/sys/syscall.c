/* sys/syscall.c - from the syscall instruction to the handler.
 *
 * The table is indexed by Linux's x86-64 syscall numbers and generated from
 * syscalls.def, the one list of numbers, names, handlers and lock classes.
 * A number with no handler returns -ENOSYS and is reported once on the
 * console, by number and name, so that the calls a new program needs are
 * easy to find. A NOLOCK call runs without the kernel lock: it touches only
 * the calling thread's own fields, immutable data or state with a spinlock
 * of its own, so it never waits for another CPU's kernel work. */
#include "syscall.h"
#include "sys.h"
#include "../proc/proc.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"

#define NSYSCALLS 512

typedef long (*sys_fn)(long, long, long, long, long, long);

/* One entry per number, generated from syscalls.def. Handlers take their real
 * parameter types; all arguments arrive as 64-bit registers, and an int
 * parameter sees the low half, as on Linux. A known but unimplemented number
 * has a name and no handler; an unknown one has neither. */
struct syscall_entry {
    sys_fn      fn;
    const char *name;
    bool        nolock;     /* lock class NOLOCK: runs without the kernel lock */
};

#define KLOCK  false
#define NOLOCK true
static const struct syscall_entry table[NSYSCALLS] = {
#define SYSCALL(nr, name, fn, lock) [nr] = { (sys_fn)(void (*)(void))(fn), #name, lock },
#define UNIMPL(nr, name)            [nr] = { NULL, #name, KLOCK },
#include "syscalls.def"
#undef SYSCALL
#undef UNIMPL
};
#undef KLOCK
#undef NOLOCK

static uint64_t reported[NSYSCALLS / 64];      /* [klock] */

const char *syscall_name(long nr)
{
    return nr >= 0 && nr < NSYSCALLS && table[nr].name ? table[nr].name : "?";
}

void syscall_dispatch(struct trapframe *tf)
{
    struct proc *p = current();
    uint64_t nr = tf->rax;
    const struct syscall_entry *e = nr < NSYSCALLS ? &table[nr] : NULL;
    if (!e || !e->nolock)
        kernel_lock();      /* given up in return_to_user_work (see proc/sync.c) */
    p->tf = tf;
    p->syscall_nr = (long)nr;
    long r;
    /* The one test a syscall pays for ptrace: a traced thread may stop at
     * entry, and its tracer may change the number (-1: skip) and arguments. */
    bool traced = __atomic_load_n(&p->tracer, __ATOMIC_RELAXED) != NULL;
    if (__builtin_expect(traced, 0)) {
        if (!kernel_lock_held())
            kernel_lock();
        nr = (uint64_t)ptrace_syscall_enter(tf);
        e = nr < NSYSCALLS ? &table[nr] : NULL;
    }
    if (traced && (long)nr == -1) {
        r = (long)tf->rax;                      /* skipped: the result the tracer left */
    } else if (e && e->fn) {
        r = e->fn((long)tf->rdi, (long)tf->rsi, (long)tf->rdx, (long)tf->r10,
                  (long)tf->r8, (long)tf->r9);
    } else {
        if (e && !(reported[nr / 64] & (1ul << (nr % 64)))) {
            reported[nr / 64] |= 1ul << (nr % 64);
            /* The prefix "vigil: syscall N not implemented" is what tests and
             * users grep for; the name follows when Linux has one. */
            kprintf("vigil: syscall %lu not implemented%s%s (first called by pid %d, %s)\n",
                    nr, e->name ? ": " : "", e->name ? e->name : "", p->pid, p->name);
        }
        r = -ENOSYS;
    }
    fd_put_held();          /* the files fd_get lent this syscall */
    /* execve and rt_sigreturn replaced the frame: its registers stand. */
    if (!(nr == SYS_execve && r == 0) && nr != SYS_rt_sigreturn)
        tf->rax = (uint64_t)r;
    if (__builtin_expect(__atomic_load_n(&p->tracer, __ATOMIC_RELAXED) != NULL, 0))
        ptrace_syscall_exit(tf);
    return_to_user_work(tf);
}
