/* ptdebug - what a debugger asks of ptrace(2), printed so the same program
 * on the host Linux prints the same lines (tests/test_gdb.py compares them).
 *
 * A child stops itself (TRACEME, SIGSTOP); the parent plants a breakpoint
 * (int3 POKEd over the first byte of pt_steps), continues to it, puts the
 * byte back and single-steps through pt_steps: a nop, a getpid `syscall`
 * (a step over it reports at its exit), an int3 of the program's own. Then
 * the regsets against GETREGS/GETFPREGS, a SETFPREGS the child sees (xmm0,
 * MXCSR), SETREGSET of the general registers, and a hardware watchpoint
 * (DR0 = &watched, DR7 write/4 bytes) that stops the child's store with
 * TRAP_HWBKPT and DR6 saying which. Bad input throughout gets Linux's errno:
 * debug registers on kernel addresses, misaligned or of a type the CPU
 * lacks, DR4, short or NULL iovecs, unknown regsets, SINGLESTEP of a
 * tracee that is not stopped. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* The steps: offsets from pt_steps are what the lines print. */
__asm__(".text\n"
        ".globl pt_steps\n"
        "pt_steps:\n"
        "  nop\n"
        "  mov $39, %eax\n"             /* getpid */
        "  syscall\n"
        ".globl pt_after_syscall\n"
        "pt_after_syscall:\n"
        "  nop\n"
        "  int3\n"
        ".globl pt_after_int3\n"
        "pt_after_int3:\n"
        "  movq %xmm0, %rax\n"          /* what the tracer put in xmm0 */
        "  ret\n");
extern long pt_steps(void);
extern char pt_after_syscall[], pt_after_int3[];

volatile int watched __attribute__((aligned(8)));
long landing __attribute__((aligned(8)));      /* a syscall writes it, then the child */

#define DR(n) ((void *)(offsetof(struct user, u_debugreg) + 8 * (n)))

static const char *errname(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EIO: return "EIO";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    default: return "other";
    }
}

static void expect(const char *what, long r)
{
    printf("%s: %s\n", what, r == -1 ? errname(errno) : "ok");
}

static int child(void)
{
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    long x = pt_steps();
    unsigned mxcsr = __builtin_ia32_stmxcsr();
    printf("child: xmm0 0x%lx mxcsr 0x%x\n", (unsigned long)x, mxcsr);
    watched = 42;                               /* the watchpoint stops this store */
    watched = 43;                               /* ... and, disarmed, not this one */
    printf("child: watched %d\n", watched);
    /* A watchpoint on memory the kernel writes (read's copy to the user):
     * the kernel goes on; the child's own store is what stops. */
    int p[2];
    if (pipe(p) || write(p[1], "12345678", 8) != 8 || read(p[0], &landing, 8) != 8)
        return 4;
    printf("child: read landed %d\n", memcmp(&landing, "12345678", 8) == 0);
    landing = 7;
    return 3;
}

/* Wait for a stop; print it and SIGTRAP's siginfo; the registers. */
static void stopped(pid_t pid, const char *what, struct user_regs_struct *r)
{
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
        printf("%s: no stop (status 0x%x)\n", what, st);
        exit(1);
    }
    ptrace(PTRACE_GETREGS, pid, 0, r);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
    long rip = (long)(r->rip - (uintptr_t)pt_steps);
    if (WSTOPSIG(st) == SIGTRAP)
        printf("%s: SIGTRAP si_code %d si_addr %s rip pt_steps%+ld\n", what, si.si_code,
               si.si_addr == 0 ? "0" : si.si_addr == (void *)r->rip ? "rip" : "other", rip);
    else
        printf("%s: signal %d\n", what, WSTOPSIG(st));
}

static long peekdr(pid_t pid, int n)
{
    errno = 0;
    long v = ptrace(PTRACE_PEEKUSER, pid, DR(n), 0);
    return errno ? -errno : v;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* SINGLESTEP of a tracee that is not in a stop, and of a stranger */
    pid_t idle = fork();
    if (idle == 0) {
        for (;;)
            pause();
    }
    expect("seize idle", ptrace(PTRACE_SEIZE, idle, 0, 0));
    expect("singlestep running tracee", ptrace(PTRACE_SINGLESTEP, idle, 0, 0));
    expect("singlestep not a tracee", ptrace(PTRACE_SINGLESTEP, getppid(), 0, 0));
    kill(idle, SIGKILL);
    waitpid(idle, NULL, __WALL);

    pid_t pid = fork();
    if (pid == 0)
        return child();
    struct user_regs_struct r, r0;
    stopped(pid, "start", &r);

    /* A breakpoint: int3 over pt_steps' first byte, continue to it. */
    errno = 0;
    long orig = ptrace(PTRACE_PEEKTEXT, pid, pt_steps, 0);
    expect("poke int3", ptrace(PTRACE_POKETEXT, pid, pt_steps, (orig & ~0xffl) | 0xcc));
    ptrace(PTRACE_CONT, pid, 0, 0);
    stopped(pid, "breakpoint", &r);
    ptrace(PTRACE_POKETEXT, pid, pt_steps, orig);
    r.rip = (uintptr_t)pt_steps;
    expect("setregs back to the breakpoint", ptrace(PTRACE_SETREGS, pid, 0, &r));
    printf("dr6 before steps: 0x%lx\n", peekdr(pid, 6));
    expect("singlestep bad signal", ptrace(PTRACE_SINGLESTEP, pid, 0, 0x1000));

    /* Steps: nop, mov, syscall (reported at its exit), nop, int3. */
    char name[32];
    for (int i = 1; i <= 5; i++) {
        ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
        snprintf(name, sizeof(name), "step %d", i);
        stopped(pid, name, &r);
        printf("step %d: dr6 0x%lx eflags.TF %d\n", i, peekdr(pid, 6), !!(r.eflags & 0x100));
        if (r.rip == (uintptr_t)pt_after_syscall)
            printf("step %d: past the syscall, rax is the pid %d\n", i, (pid_t)r.rax == pid);
    }
    printf("at pt_after_int3: %d\n", r.rip == (uintptr_t)pt_after_int3);

    /* The general registers: GETREGSET is GETREGS; its bad inputs. */
    struct user_regs_struct g;
    struct iovec iov = { &g, sizeof(g) };
    expect("getregset prstatus", ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov));
    printf("prstatus: len %zu same as getregs %d\n", iov.iov_len, memcmp(&g, &r, sizeof(g)) == 0);
    char big[4096];
    iov = (struct iovec){ big, sizeof(big) };
    ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov);
    printf("prstatus long buffer: len %zu\n", iov.iov_len);
    iov = (struct iovec){ big, 7 };
    expect("getregset length 7", ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov));
    expect("setregset length 7", ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov));
    iov = (struct iovec){ big, 0 };
    expect("getregset length 0", ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov));
    printf("length 0: len %zu\n", iov.iov_len);
    expect("getregset NULL iovec", ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, NULL));
    expect("setregset NULL iovec", ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, NULL));
    iov = (struct iovec){ NULL, sizeof(g) };
    expect("getregset NULL buffer", ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov));
    iov = (struct iovec){ NULL, sizeof(g) };
    expect("setregset NULL buffer", ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov));
    iov = (struct iovec){ big, 64 };
    expect("getregset unknown type", ptrace(PTRACE_GETREGSET, pid, 0x999, &iov));
    iov = (struct iovec){ big, 7 };
    expect("getregset xstate length 7", ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov));

    /* SETREGSET: r12 whole, then r15 alone (8 bytes: the first field). */
    r0 = r;
    g = r;
    g.r12 = 0x1234;
    iov = (struct iovec){ &g, sizeof(g) };
    expect("setregset prstatus", ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov));
    uint64_t r15 = 0x5151;
    iov = (struct iovec){ &r15, 8 };
    expect("setregset 8 bytes", ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov));
    printf("setregset: len %zu\n", iov.iov_len);
    ptrace(PTRACE_GETREGS, pid, 0, &g);
    printf("after setregset: r12 0x%lx r15 0x%lx rip same %d\n", (unsigned long)g.r12, (unsigned long)g.r15, g.rip == r0.rip);
    ptrace(PTRACE_SETREGS, pid, 0, &r0);       /* the caller's registers back */

    /* FP registers: GETREGSET NT_PRFPREG is GETFPREGS; SETFPREGS round trip. */
    struct user_fpregs_struct fp, fp2;
    ptrace(PTRACE_GETFPREGS, pid, 0, &fp);
    iov = (struct iovec){ &fp2, sizeof(fp2) };
    expect("getregset prfpreg", ptrace(PTRACE_GETREGSET, pid, NT_PRFPREG, &iov));
    printf("prfpreg: len %zu same as getfpregs %d\n", iov.iov_len, memcmp(&fp, &fp2, 416) == 0);
    printf("fpregs: cwd 0x%x mxcsr 0x%x\n", fp.cwd, fp.mxcsr);
    fp2 = fp;
    fp2.mxcsr = 0x80000000u;
    expect("setfpregs bad mxcsr", ptrace(PTRACE_SETFPREGS, pid, 0, &fp2));
    expect("setfpregs NULL", ptrace(PTRACE_SETFPREGS, pid, 0, NULL));
    fp.mxcsr = 0x7f80;                          /* round toward zero */
    fp.xmm_space[0] = 0x89abcdef;
    fp.xmm_space[1] = 0x01234567;
    expect("setfpregs", ptrace(PTRACE_SETFPREGS, pid, 0, &fp));
    ptrace(PTRACE_GETFPREGS, pid, 0, &fp2);
    printf("fpregs round trip %d\n", memcmp(&fp, &fp2, 416) == 0);
    iov = (struct iovec){ &fp2, 32 };           /* the first 32 bytes: cwd..mxcsr_mask */
    fp2.cwd = 0x27f;
    expect("setregset prfpreg 32 bytes", ptrace(PTRACE_SETREGSET, pid, NT_PRFPREG, &iov));
    ptrace(PTRACE_GETFPREGS, pid, 0, &fp2);
    printf("after setregset prfpreg: cwd 0x%x xmm0 kept %d\n", fp2.cwd,
           fp2.xmm_space[0] == 0x89abcdef);
    fp2.cwd = 0x37f;
    ptrace(PTRACE_SETFPREGS, pid, 0, &fp2);

    /* Debug registers: what PEEKUSER shows, what POKEUSER refuses. */
    printf("dr0 0x%lx dr5 0x%lx dr7 0x%lx\n", peekdr(pid, 0), peekdr(pid, 5), peekdr(pid, 7));
    expect("dr0 kernel address", ptrace(PTRACE_POKEUSER, pid, DR(0), 0xffffffff81000000ul));
    expect("dr0 top user page", ptrace(PTRACE_POKEUSER, pid, DR(0), 0x7ffffffff000ul));
    expect("dr0 last user byte", ptrace(PTRACE_POKEUSER, pid, DR(0), 0x7fffffffeffful));
    expect("dr4", ptrace(PTRACE_POKEUSER, pid, DR(4), 0));
    printf("dr0 now 0x%lx\n", peekdr(pid, 0));
    expect("dr0 misaligned", ptrace(PTRACE_POKEUSER, pid, DR(0), (char *)&watched + 1));
    expect("dr7 write len 4 on a misaligned dr0",
           ptrace(PTRACE_POKEUSER, pid, DR(7), 1 | 1 << 16 | 3 << 18));
    expect("dr0 watched", ptrace(PTRACE_POKEUSER, pid, DR(0), &watched));
    expect("dr7 io type", ptrace(PTRACE_POKEUSER, pid, DR(7), 1 | 2 << 16));
    expect("dr7 exec len 4", ptrace(PTRACE_POKEUSER, pid, DR(7), 1 | 0 << 16 | 3 << 18));
    expect("dr7 gd alone", ptrace(PTRACE_POKEUSER, pid, DR(7), 0x2000));
    printf("dr7 now 0x%lx\n", peekdr(pid, 7));
    expect("dr6 write", ptrace(PTRACE_POKEUSER, pid, DR(6), 0));
    printf("dr6 now 0x%lx\n", peekdr(pid, 6));
    unsigned long dr7 = 1 | 1 << 16 | 3 << 18;  /* L0, write, 4 bytes */
    expect("dr7 watch", ptrace(PTRACE_POKEUSER, pid, DR(7), dr7));
    printf("dr0 is &watched %d dr7 0x%lx\n", peekdr(pid, 0) == (long)&watched, peekdr(pid, 7));

    /* The watchpoint stops the store; SETSIGINFO changes what GETSIGINFO says. */
    ptrace(PTRACE_CONT, pid, 0, 0);
    stopped(pid, "watchpoint", &r);
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, (void *)&watched, 0);
    printf("watchpoint: dr6 0x%lx watched %d\n", peekdr(pid, 6), (int)w);
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
    si.si_code = 3;                             /* TRAP_BRANCH, say */
    expect("setsiginfo", ptrace(PTRACE_SETSIGINFO, pid, 0, &si));
    expect("setsiginfo NULL", ptrace(PTRACE_SETSIGINFO, pid, 0, NULL));
    memset(&si, 0, sizeof(si));
    ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
    printf("after setsiginfo: signo %d code %d\n", si.si_signo, si.si_code);
    expect("dr7 off", ptrace(PTRACE_POKEUSER, pid, DR(7), 0));
    expect("dr1 landing", ptrace(PTRACE_POKEUSER, pid, DR(1), &landing));
    expect("dr6 clear", ptrace(PTRACE_POKEUSER, pid, DR(6), 0));
    expect("dr7 watch landing", ptrace(PTRACE_POKEUSER, pid, DR(7), 4 | 1 << 20 | 2 << 22));
    ptrace(PTRACE_CONT, pid, 0, 0);
    stopped(pid, "landing", &r);
    printf("landing: dr6 0x%lx\n", peekdr(pid, 6));
    expect("dr7 off", ptrace(PTRACE_POKEUSER, pid, DR(7), 0));
    ptrace(PTRACE_CONT, pid, 0, 0);
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    (void)argc, (void)argv;
    return 0;
}
