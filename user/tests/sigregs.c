/* sigregs: a signal that interrupts a program anywhere - not at a syscall,
 * where the ABI lets rcx and r11 go, but in the middle of its own code -
 * must leave every register as it was once the handler returns.
 *
 * The program fills the general registers and two SSE registers with
 * patterns, spins, and checks they are all still there, over and over,
 * while signals arrive at random points of the spin: SIGALRM from an
 * interval timer (delivered when a timer interrupt returns to user mode),
 * and SIGUSR1 sent by a child as fast as it can (on another CPU, an
 * inter-processor interrupt). The handlers clobber what a handler may: a
 * syscall (rcx, r11), SSE arithmetic. On Linux, or on a kernel that gives
 * every register back (rt_sigreturn through iretq), the output is
 *
 *     signals: enough
 *     registers: intact
 *
 * and otherwise the first register seen changed, with its two values.
 * Usage: sigregs [rounds]  (default 400 blocks of spinning, each checked;
 * more until 100 signals came, at most 100 times as many). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
    volatile double x = 1.25 * sig;             /* SSE registers in the handler */
    x = x * x + 0.5;
    (void)x;
    syscall(SYS_getpid);                        /* and a syscall: rcx, r11 */
    handled++;
}

enum { NREG = 13, ENOUGH = 100 };
static const char *const names[NREG] = {
    "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm0/xmm15",
};

/* Fill the registers from the pattern, spin `iters` times, store them. */
static void spin(uint64_t seed, uint64_t iters, uint64_t out[NREG])
{
    __asm__ volatile(
        "mov %[s], %%rbx\n\t"
        "lea 1(%%rbx), %%rcx\n\t"
        "lea 2(%%rbx), %%rdx\n\t"
        "lea 3(%%rbx), %%rsi\n\t"
        "lea 4(%%rbx), %%r8\n\t"
        "lea 5(%%rbx), %%r9\n\t"
        "lea 6(%%rbx), %%r10\n\t"
        "lea 7(%%rbx), %%r11\n\t"
        "lea 8(%%rbx), %%r12\n\t"
        "lea 9(%%rbx), %%r13\n\t"
        "lea 10(%%rbx), %%r14\n\t"
        "lea 11(%%rbx), %%r15\n\t"
        "movq %%rbx, %%xmm0\n\t"
        "movq %%rcx, %%xmm15\n\t"
        "1: dec %%rax\n\t"
        "jnz 1b\n\t"
        "mov %%rbx, 0(%%rdi)\n\t"
        "mov %%rcx, 8(%%rdi)\n\t"
        "mov %%rdx, 16(%%rdi)\n\t"
        "mov %%rsi, 24(%%rdi)\n\t"
        "mov %%r8, 32(%%rdi)\n\t"
        "mov %%r9, 40(%%rdi)\n\t"
        "mov %%r10, 48(%%rdi)\n\t"
        "mov %%r11, 56(%%rdi)\n\t"
        "mov %%r12, 64(%%rdi)\n\t"
        "mov %%r13, 72(%%rdi)\n\t"
        "mov %%r14, 80(%%rdi)\n\t"
        "mov %%r15, 88(%%rdi)\n\t"
        "movq %%xmm0, %%rax\n\t"
        "movq %%xmm15, %%rbx\n\t"
        "xor %%rbx, %%rax\n\t"                  /* xmm0 ^ xmm15 == seed ^ (seed + 1) */
        "mov %%rax, 96(%%rdi)\n\t"
        : "+a"(iters)
        : [s] "m"(seed), "D"(out)
        : "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
          "xmm0", "xmm15", "memory", "cc");
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 400;
    struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        for (;;) {
            if (kill(parent, SIGUSR1) < 0)
                _exit(0);
            for (volatile int i = 0; i < 100000; i++)
                ;                               /* a few a millisecond, not a flood */
        }
    }
    struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);

    const char *bad = NULL;
    uint64_t want = 0, got = 0;
    for (int r = 0; (r < rounds || handled < ENOUGH) && r < 100 * rounds && !bad; r++) {
        uint64_t seed = 0x5a5a000000000000ull + ((uint64_t)r << 20), out[NREG];
        spin(seed, 200000, out);
        for (int i = 0; i < NREG && !bad; i++) {
            uint64_t w = i == NREG - 1 ? seed ^ (seed + 1) : seed + (uint64_t)i;
            if (out[i] != w)
                bad = names[i], want = w, got = out[i];
        }
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    /* Enough signals that some surely landed inside a spin. */
    if (handled >= ENOUGH)
        printf("signals: enough\n");
    else
        printf("signals: only %d\n", (int)handled);
    if (bad)
        printf("registers: %s changed across a signal handler (0x%llx, then 0x%llx)\n", bad,
               (unsigned long long)want, (unsigned long long)got);
    else
        printf("registers: intact\n");
    return bad != NULL;
}
