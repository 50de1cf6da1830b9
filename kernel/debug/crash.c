/* debug/crash.c - deliberate kernel faults, chosen with crash=NAME on the
 * command line. Each says first what it is about to do, so the harness can
 * check that the report names the right vector, address and function. */
#include "debug.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"
#include "../proc/proc.h"
#include "../arch/x86_64/cpu.h"

extern struct kstack boot_kstack;

__attribute__((noinline)) void crash_pagefault(void)
{
    volatile uint64_t *p = (volatile uint64_t *)0xdead0000ul;  /* never mapped */
    kprintf("crash: pagefault target=0x%016lx\n", (uintptr_t)p);
    (void)*p;
}

__attribute__((noinline)) void crash_divide(void)
{
    volatile int zero = 0, x = 42;
    kprintf("crash: divide target=0x%016lx\n", 0ul);
    x = x / zero;
    (void)x;
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static uint64_t recurse(volatile uint64_t depth)
{
    volatile uint8_t pad[512];
    pad[0] = (uint8_t)depth;
    return recurse(depth + 1) + pad[0];
}

__attribute__((noinline)) void crash_doublefault(void)
{
    /* Recurse until the stack runs into its guard page. The page fault
     * cannot be delivered on the dead stack, so the CPU raises a double
     * fault, which arrives on its own IST stack. */
    kprintf("crash: doublefault target=0x%016lx\n", boot_kstack.guard);
    recurse(0);
}

__attribute__((noinline)) void crash_wx(void)
{
    volatile uint8_t *text = (volatile uint8_t *)(uintptr_t)crash_wx;
    kprintf("crash: wx target=0x%016lx\n", (uintptr_t)text);
    *text = 0xcc;                  /* W^X: kernel text is read-only */
}

/* A user page at 0x400000 holding `ret`, in a fresh address space made
 * current: what the kernel must not touch outside uaccess, nor execute. */
static volatile uint8_t *user_page(void)
{
    struct mm *mm = mm_create();
    const uint8_t ret = 0xc3;
    if (!mm || mm_map(mm, 0x400000, PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC) ||
        mm_write(mm, 0x400000, &ret, 1))
        panic("crash: no memory for the user page");
    mm_activate(mm);
    return (volatile uint8_t *)0x400000;
}

__attribute__((noinline)) void crash_smap(void)
{
    volatile uint8_t *p = user_page();
    kprintf("crash: smap target=0x%016lx\n", (uintptr_t)p);
    kprintf("crash: read 0x%x from user memory\n", *p);     /* SMAP: faults */
}

__attribute__((noinline)) void crash_smep(void)
{
    volatile uint8_t *p = user_page();
    kprintf("crash: smep target=0x%016lx\n", (uintptr_t)p);
    ((void (*)(void))(uintptr_t)p)();                         /* SMEP: faults */
}

/* Hold the kernel lock with interrupts on, for ever: the watchdog must say
 * so, naming this function. The stall counts the same timer ticks the
 * watchdog counts and says when it reaches three times the threshold, so a
 * test sees a missing report as an event (no report before that line)
 * rather than by waiting on the host's clock: a sound watchdog speaks at
 * one threshold. */
__attribute__((noinline)) void crash_stall(void)
{
    kernel_lock();
    kprintf("crash: stall target=0x%016lx\n", (uintptr_t)crash_stall);
    __asm__ volatile("sti");
    uint64_t until = timer_ticks() + 3 * (uint64_t)watchdog_limit_ticks();
    while (timer_ticks() < until)
        cpu_relax();
    kprintf("crash: stall reached 3x the watchdog threshold\n");
    for (;;)
        cpu_relax();
}

/* Spin with interrupts off, for ever (run once the other CPUs tick, from
 * start_user_space): another CPU's watchdog must notice and, by NMI, name
 * this function. */
__attribute__((noinline)) void crash_stall_irq(void)
{
    kprintf("crash: stall-irq target=0x%016lx\n", (uintptr_t)crash_stall_irq);
    __asm__ volatile("cli");
    for (;;)
        cpu_relax();
}

/* crash=hung: the first sync(2) after boot sleeps in D state on a channel
 * nobody wakes, as a lost I/O completion or a lock never given back would
 * leave it: the hung-task watchdog must report it by pid, name, syscall
 * and this function in its backtrace. (The rest of the machine goes on:
 * the kernel lock is given up in the sleep.) */
bool crash_hung_armed;

__attribute__((noinline)) void crash_hung(void)
{
    crash_hung_armed = false;
    kprintf("crash: hung target=0x%016lx pid %d\n", (uintptr_t)crash_hung, current()->pid);
    static int never;                           /* no one calls wakeup(&never) */
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (;;)
        sleep_uninterruptible_locked(&never);
    spin_unlock_irqrestore(&sched_lock, f);
}

void crash_run(const char *name)
{
    if (!strcmp(name, "stall-irq"))
        return;                                 /* later: see crash_stall_irq */
    if (!strcmp(name, "hung")) {
        crash_hung_armed = true;                /* later: the first sync(2) */
        return;
    }
    static const struct { const char *name; void (*fn)(void); } crashes[] = {
        { "pagefault", crash_pagefault },
        { "divide", crash_divide },
        { "doublefault", crash_doublefault },
        { "wx", crash_wx },
        { "smap", crash_smap },
        { "smep", crash_smep },
        { "stall", crash_stall },
    };
    for (size_t i = 0; i < ARRAY_SIZE(crashes); i++)
        if (!strcmp(name, crashes[i].name)) {
            crashes[i].fn();
            panic("crash=%s did not crash", name);
        }
    kprintf("crash: unknown crash '%s'\n", name);
}
