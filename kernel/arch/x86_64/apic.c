/* arch/x86_64/apic.c - interrupt controllers. The legacy 8259 PICs are
 * remapped out of the exception range and masked; the local APIC delivers
 * the timer and IPIs; the IOAPIC routes device IRQs (all masked until a
 * driver asks for one). */
#include "arch.h"
#include "../../lib/kprintf.h"
#include "../../lib/string.h"
#include "cpu.h"
#include "platform.h"
#include "../../mm/mm.h"
#include "../../debug/debug.h"

/* Local APIC registers (Intel SDM vol. 3, 11.4.1). */
#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0B0
#define LAPIC_SVR       0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3E0
#define LVT_MASKED      (1u << 16)

static volatile uint32_t *lapic;
static volatile uint32_t *ioapic;

static inline uint32_t lapic_read(uint32_t reg) { return lapic[reg / 4]; }
static inline void lapic_write(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; (void)lapic[LAPIC_ID / 4]; }

void pic_disable(void)
{
    /* Even masked, the 8259s can raise spurious IRQ 7/15; remapping them to
     * 0x20-0x2f keeps those from looking like CPU exceptions. */
    outb(0x20, 0x11); outb(0xA0, 0x11);         /* ICW1: init, ICW4 follows */
    outb(0x21, VEC_IRQ_BASE); outb(0xA1, VEC_IRQ_BASE + 8);
    outb(0x21, 4); outb(0xA1, 2);               /* cascade on IRQ 2 */
    outb(0x21, 1); outb(0xA1, 1);               /* 8086 mode */
    outb(0x21, 0xFF); outb(0xA1, 0xFF);         /* mask everything */
}

void lapic_init(void)
{
    /* Enable the APIC globally (IA32_APIC_BASE bit 11) and map it uncached. */
    wrmsr(MSR_APIC_BASE, (rdmsr(MSR_APIC_BASE) & ~0xffful) | (1 << 11) | (platform.lapic_pa & ~0xffful));
    if (!lapic)
        lapic = vmm_map_mmio(platform.lapic_pa, PAGE_SIZE);
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);   /* software enable */
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    lapic_write(LAPIC_EOI, 0);
}

void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

/* Send an interprocessor interrupt (Intel SDM vol. 3, 11.6.1): destination
 * in the high word, then the command; wait until the APIC has sent it. */
void lapic_send_icr(uint32_t apic_id, uint32_t icr)
{
    uint64_t f = irq_save();
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, icr);
    while (lapic_read(LAPIC_ICR_LO) & (1u << 12))      /* delivery pending */
        cpu_relax();
    irq_restore(f);
}
uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

/* ---- IOAPIC ---- */
static uint32_t ioapic_read(uint32_t reg) { ioapic[0] = reg; return ioapic[4]; }
static void ioapic_write(uint32_t reg, uint32_t v) { ioapic[0] = reg; ioapic[4] = v; }

void ioapic_init(void)
{
    ioapic = vmm_map_mmio(platform.ioapic_pa, PAGE_SIZE);
    int n = (int)((ioapic_read(1) >> 16) & 0xff) + 1;
    for (int i = 0; i < n; i++) {
        ioapic_write(0x10 + 2 * i, LVT_MASKED);
        ioapic_write(0x11 + 2 * i, 0);
    }
}

void ioapic_route(int isa_irq, int vector)
{
    uint32_t gsi = platform.isa_gsi[isa_irq] - platform.ioapic_gsi_base;
    uint16_t fl = platform.isa_flags[isa_irq];
    uint32_t lo = (uint32_t)vector;
    if ((fl & 3) == 3)
        lo |= 1 << 13;          /* active low */
    if (((fl >> 2) & 3) == 3)
        lo |= 1 << 15;          /* level triggered */
    ioapic_write(0x11 + 2 * gsi, (uint32_t)platform.cpu_apic_id[0] << 24);
    ioapic_write(0x10 + 2 * gsi, lo);
}

/* ---- timer ---- */
volatile uint64_t timer_tick_count;     /* [atomic] the boot CPU's ticks (timer_ticks) */
static uint64_t tsc_per_sec;

uint64_t tsc_hz(void) { return tsc_per_sec; }
static unsigned hz;

static trap_handler_t tick_hook;

static bool timer_tick(struct trapframe *tf)
{
    /* Every CPU's LAPIC ticks (for its scheduler); the boot CPU's alone
     * keeps time. */
    if (this_cpu()->id == 0)
        __atomic_add_fetch(&timer_tick_count, 1, __ATOMIC_RELAXED);
    if (tick_hook)
        tick_hook(tf);
    watchdog_tick(tf);
    return true;
}

void timer_set_hook(trap_handler_t h) { tick_hook = h; }

/* One 10 ms window of PIT channel 2, which runs at a known 1.193182 MHz,
 * timed by the TSC and the LAPIC timer.
 *
 * Under a hypervisor the CPU may stop for milliseconds anywhere in it (a
 * host busy with other work deschedules the vCPU), and a window noticed late
 * reads long: a TSC rate calibrated from it makes the clock run slow for
 * the whole boot (an hour's soak measured 3600 "seconds" in well over an
 * hour) and the timer tick too. So each window is bracketed - the TSC just
 * before and after the PIT starts, and the last TSC read while its output
 * was still low and the first after it went high - and the window whose
 * bracket is narrowest is used. The LAPIC's rate is taken against the
 * TSC's over the same window, a ratio no delay can skew. */
struct pit_window {
    uint64_t tsc_lo, tsc_hi;    /* the window lies within [lo, hi] TSC ticks */
    uint64_t lapic, lapic_tsc;  /* LAPIC decrements over lapic_tsc TSC ticks */
};

static struct pit_window pit_window(void)
{
    const uint32_t pit_count = 1193182 / 100;
    struct pit_window w;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);     /* gate on, speaker off */
    outb(0x43, 0xB0);                           /* ch2, lo/hi byte, mode 0 */
    outb(0x42, pit_count & 0xff);
    outb(0x42, pit_count >> 8);
    lapic_write(LAPIC_TIMER_DIV, 0x3);          /* divide by 16 */
    lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    uint8_t g = inb(0x61);
    uint32_t l0 = lapic_read(LAPIC_TIMER_CUR);
    uint64_t t_l0 = rdtsc();
    uint64_t a = rdtsc();
    outb(0x61, g & ~1);                         /* restart the count */
    outb(0x61, g | 1);
    uint64_t b = rdtsc(), d = b, c;
    for (;;) {
        uint64_t t = rdtsc();
        if (inb(0x61) & 0x20) {
            c = rdtsc();
            break;
        }
        d = t;
        cpu_relax();
    }
    uint32_t l1 = lapic_read(LAPIC_TIMER_CUR);
    uint64_t t_l1 = rdtsc();
    lapic_write(LAPIC_TIMER_INIT, 0);
    w.tsc_lo = d - b;
    w.tsc_hi = c - a;
    w.lapic = l0 - l1;
    w.lapic_tsc = t_l1 - t_l0;
    return w;
}

/* LAPIC timer decrements in 10 ms; sets tsc_per_sec.
 *
 * The narrowest bracket alone is not enough. On this project's machines (a
 * VM whose vCPUs run QEMU's threads) most windows under load are looked at
 * late (brackets of 5-100 M cycles around 23 M), and a window with a narrow
 * bracket can still be wrong: the TSC QEMU shows the guest may stand still
 * or jump while the PIT, on QEMU's virtual clock, goes on. One boot in five
 * at load 18 calibrated 1.42 GHz on a 2.3 GHz host (every clock and sleep of
 * that boot 1.6 times fast), another 2.62 GHz. So windows are taken until
 * AGREE narrow ones (bracket within 1 %) agree within 0.25 % of each other,
 * and their middle one is used; a stall has to hit AGREE windows the same
 * way to move it. At most MAX_WINDOWS (each costs 10 ms and more under
 * load); if they never agree, the median of the narrow ones (or of all). */
#define AGREE 3
#define MAX_WINDOWS 64
#define KEPT 24

static uint64_t mid(const struct pit_window *w) { return (w->tsc_lo + w->tsc_hi) / 2; }

static void sort_windows(struct pit_window *w, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && mid(&w[j]) < mid(&w[j - 1]); j--) {
            struct pit_window x = w[j];
            w[j] = w[j - 1];
            w[j - 1] = x;
        }
}

static uint32_t lapic_ticks_per_10ms(void)
{
    struct pit_window w[KEPT], any[AGREE];
    int n = 0, found = -1;
    int i;
    for (i = 0; i < MAX_WINDOWS && found < 0; i++) {
        struct pit_window x = pit_window();
        if (i < AGREE)
            any[i] = x;
        if (x.tsc_hi - x.tsc_lo > x.tsc_lo / 100 || n == KEPT)
            continue;                           /* looked at late: the window is not known */
        w[n++] = x;
        sort_windows(w, n);
        for (int k = 0; k + AGREE <= n && found < 0; k++)
            if (mid(&w[k + AGREE - 1]) - mid(&w[k]) <= mid(&w[k]) / 400)
                found = k + AGREE / 2;
    }
    if (found < 0 && n == 0) {
        memcpy(w, any, sizeof(any));            /* nothing narrow: the first few as they are */
        n = AGREE;
        sort_windows(w, n);
    }
    struct pit_window best = w[found >= 0 ? found : n / 2];
    uint64_t tsc_10ms = mid(&best);
    kprintf("timer: PIT windows: %d taken, %d narrow, %s\n", i, n,
            found >= 0 ? "3 agree" : "none agree (their median)");
    tsc_per_sec = tsc_10ms * 100;
    return (uint32_t)(best.lapic * tsc_10ms / best.lapic_tsc);
}

static uint32_t timer_count;    /* LAPIC initial count for one tick (same bus clock on every CPU) */

void timer_init(unsigned want_hz)
{
    hz = want_hz;
    uint32_t per_10ms = lapic_ticks_per_10ms();
    trap_register(VEC_TIMER, timer_tick);
    timer_count = per_10ms * 100 / hz;
    timer_init_ap();
}

void timer_init_ap(void)
{
    lapic_write(LAPIC_TIMER_DIV, 0x3);
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | (1 << 17));   /* periodic */
    lapic_write(LAPIC_TIMER_INIT, timer_count);
}

unsigned timer_hz(void) { return hz; }

/* ---- power ---- */
void qemu_exit(int code)
{
    /* isa-debug-exit ends QEMU at once. Without that device (an interactive
     * run) we simply stop here. */
    outl(0xf4, (uint32_t)code);
    cli();
    for (;;)
        hlt();
}
