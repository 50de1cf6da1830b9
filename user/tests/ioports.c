/* ioports: ioperm(2) and iopl(2), the ports a process may touch from ring 3.
 *
 * Run as root. Each line is a fact: a call's result (0 or the errno's
 * name) or what became of a child that touched a port ("ran" or "killed by
 * signal N"). The promises: only root gains ports (EPERM otherwise); a
 * process touches only the ports it was given (another port, or another
 * process that was given none, faults with SIGSEGV, the TSS's I/O bitmap
 * being the running thread's); fork passes them on; iopl(3) opens every
 * port but not cli; bad ranges and levels are EINVAL as on Linux. Port
 * 0x80 (the POST diagnostic port) is safe to read and write. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *res(long r)
{
    if (r == 0)
        return "0";
    switch (errno) {
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ENOMEM: return "ENOMEM";
    default: return "other";
    }
}

static long ioperm_(unsigned long from, unsigned long num, int on)
{
    return syscall(SYS_ioperm, from, num, on);
}

static long iopl_(unsigned long level) { return syscall(SYS_iopl, level); }

static void inb80(void) { __asm__ volatile("inb $0x80, %%al" ::: "eax"); }
static void outb81(void) { __asm__ volatile("outb %%al, $0x81" ::"a"(0)); }
static void inb60(void) { __asm__ volatile("inb $0x60, %%al" ::: "eax"); }
static void cli_(void) { __asm__ volatile("cli"); }

/* Run f in a child (after setup, if any) and say how it ended. */
static void child(const char *what, void (*setup)(void), void (*f)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setup)
            setup();
        for (int i = 0; i < 200; i++) {
            f();
            if (i % 50 == 0)
                sched_yield();                  /* switch away and back: the bitmap must follow */
        }
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: ran\n", what);
}

static void as_nobody(void)
{
    if (setuid(65534))
        _exit(3);
}

static void nobody_calls(void)
{
    as_nobody();
    printf("nobody: ioperm(0x80, 1, on): %s\n", res(ioperm_(0x80, 1, 1)));
    printf("nobody: ioperm(0x80, 1, off): %s\n", res(ioperm_(0x80, 1, 0)));
    printf("nobody: iopl(3): %s\n", res(iopl_(3)));
    printf("nobody: iopl(0): %s\n", res(iopl_(0)));
    fflush(stdout);
}

static void give80(void)
{
    if (ioperm_(0x80, 1, 1))
        _exit(4);
}

static void give_all(void)
{
    if (iopl_(3))
        _exit(4);
}

/* A process with port 0x80 keeps running on one side while one without
 * any tries it: the bitmap loaded for the first must not serve the second. */
static void neighbours(void)
{
    fflush(stdout);
    pid_t holder = fork();
    if (holder == 0) {
        give80();
        for (int i = 0; i < 2000; i++) {
            inb80();
            sched_yield();
        }
        _exit(0);
    }
    child("no ports, beside a process given 0x80: inb 0x80", NULL, inb80);
    int st;
    waitpid(holder, &st, 0);
    printf("the holder: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ran" : "failed");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getuid() != 0) {
        printf("ioports: must run as root\n");
        return 1;
    }
    /* Bad input: Linux's EINVAL. */
    printf("ioperm(65535, 2, on): %s\n", res(ioperm_(65535, 2, 1)));
    printf("ioperm(0, 0, on): %s\n", res(ioperm_(0, 0, 1)));
    printf("ioperm(-1, 2, on): %s\n", res(ioperm_(~0ul, 2, 1)));
    printf("ioperm(65536, 1, off): %s\n", res(ioperm_(65536, 1, 0)));
    printf("iopl(4): %s\n", res(iopl_(4)));
    printf("iopl(-1): %s\n", res(iopl_(~0ul)));

    /* Without ports, every port faults. */
    child("no ports: inb 0x80", NULL, inb80);
    /* Given 0x80: that one port, not its neighbour. */
    child("ioperm(0x80): inb 0x80", give80, inb80);
    child("ioperm(0x80): outb 0x81", give80, outb81);
    /* Only root gains ports. */
    child("nobody: inb 0x80 after asking", nobody_calls, inb80);
    /* fork passes them on. */
    fflush(stdout);
    if (ioperm_(0x80, 1, 1))
        printf("ioperm(0x80) failed: %s\n", strerror(errno));
    child("forked after ioperm(0x80): inb 0x80", NULL, inb80);
    printf("ioperm(0x80, 1, off): %s\n", res(ioperm_(0x80, 1, 0)));
    child("after turning 0x80 off: inb 0x80", NULL, inb80);
    neighbours();
    /* iopl(3): every port, but interrupts stay the kernel's. */
    child("iopl(3): inb 0x60", give_all, inb60);
    child("iopl(3): cli", give_all, cli_);
    printf("ioports: done\n");
    return 0;
}
