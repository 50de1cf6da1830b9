/* arch/x86_64/arch_test.c - in-kernel tests of traps and the timer. */
#include "arch.h"
#include "cpu.h"
#include "../../ktest/ktest.h"

static volatile int breakpoints_seen;
static volatile uint64_t breakpoint_rip;

static bool on_breakpoint(struct trapframe *tf)
{
    breakpoints_seen++;
    breakpoint_rip = tf->rip;
    return true;                    /* int3 is a trap: rip already points past it */
}

KTEST(trap, handled_exception_returns_to_the_next_instruction)
{
    trap_register(T_BREAKPOINT, on_breakpoint);
    uint64_t after;
    __asm__ volatile("int3\n1: leaq 1b(%%rip), %0" : "=r"(after));
    trap_register(T_BREAKPOINT, NULL);
    KT_EXPECT_EQ(t, breakpoints_seen, 1);
    KT_EXPECT_EQ(t, breakpoint_rip, after);
}

KTEST(trap, registers_survive_an_interrupt)
{
    /* Spin with values in callee- and caller-saved registers while timer
     * interrupts come and go; trap_common must restore every one. */
    uint64_t start = timer_ticks();
    uint64_t r12 = 0x1212121212121212, r15 = 0x1515151515151515, rbx = 0xb0b0b0b0b0b0b0b0;
    sti();
    while (timer_ticks() < start + 3)
        __asm__ volatile("pause" : "+r"(r12), "+r"(r15), "+b"(rbx));
    cli();
    KT_EXPECT_EQ(t, r12, 0x1212121212121212);
    KT_EXPECT_EQ(t, r15, 0x1515151515151515);
    KT_EXPECT_EQ(t, rbx, 0xb0b0b0b0b0b0b0b0);
}

KTEST(timer, ticks_advance_while_halted)
{
    /* Five ticks need five interrupts: hlt only returns on one. */
    uint64_t start = timer_ticks();
    for (int i = 0; i < 5; i++)
        sti_hlt();
    cli();
    KT_EXPECT(t, timer_ticks() >= start + 5);
    KT_EXPECT_EQ(t, timer_hz(), 100);
}

KTEST(timer, rate_matches_the_tsc)
{
    /* Cross-check the calibrated rate against the TSC: 20 ticks must take
     * about 20x as many TSC cycles as one tick. Catches a timer that is not
     * periodic or not steady; needs no wall clock. */
    sti_hlt();
    uint64_t t0 = timer_ticks(), c0 = rdtsc();
    while (timer_ticks() < t0 + 1)
        sti_hlt();
    uint64_t c1 = rdtsc();
    while (timer_ticks() < t0 + 21)
        sti_hlt();
    uint64_t c2 = rdtsc();
    cli();
    uint64_t one = c1 - c0, twenty = c2 - c1;
    KT_EXPECT(t, twenty > one * 10 && twenty < one * 40);
}
