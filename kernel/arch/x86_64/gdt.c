/* arch/x86_64/gdt.c - the GDT (flat segments for ring 0 and ring 3) and the
 * TSS, which in long mode only holds stack pointers: rsp0 for entries from
 * ring 3 and the IST stacks for faults that must not trust the current stack. */
#include "arch.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

static struct tss tss __aligned(16);
static uint64_t gdt[8] __aligned(16);

/* Early stacks for the IST, used until mm gives guarded ones. */
static uint8_t early_df_stack[4096] __aligned(16);
static uint8_t early_nmi_stack[4096] __aligned(16);

struct gdt_ptr {
    uint16_t limit;
    uint64_t base;
} __packed;

void gdt_init(void)
{
    gdt[0] = 0;
    gdt[GDT_KCODE >> 3]   = 0x00af9a000000ffff;  /* DPL0 code, L=1 */
    gdt[GDT_KDATA >> 3]   = 0x00cf92000000ffff;  /* DPL0 data */
    gdt[GDT_UCODE32 >> 3] = 0x00cffa000000ffff;  /* DPL3 32-bit code (unused) */
    gdt[GDT_UDATA >> 3]   = 0x00cff2000000ffff;  /* DPL3 data */
    gdt[GDT_UCODE >> 3]   = 0x00affa000000ffff;  /* DPL3 code, L=1 */

    /* An iomap_base past the TSS limit means no I/O bitmap: with IOPL 0
     * every in/out from ring 3 faults.
     * INVARIANT(privilege separation): user mode has no port I/O. */
    tss.iomap_base = sizeof(tss);
    tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(early_df_stack + sizeof(early_df_stack));
    tss.ist[IST_NMI - 1] = (uint64_t)(early_nmi_stack + sizeof(early_nmi_stack));

    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    gdt[GDT_TSS >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                        (0x89ul << 40) |                 /* present, 64-bit TSS */
                        (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[(GDT_TSS >> 3) + 1] = base >> 32;

    struct gdt_ptr p = { sizeof(gdt) - 1, (uint64_t)gdt };
    __asm__ volatile(
        "lgdt %0\n"
        "pushq %1\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        "movw %w2, %%ax\n"
        "movw %%ax, %%ds\n"
        "movw %%ax, %%es\n"
        "movw %%ax, %%ss\n"
        "ltr %w3\n"
        :
        : "m"(p), "i"(GDT_KCODE), "r"(GDT_KDATA), "r"(GDT_TSS)
        : "rax", "memory");
}

void tss_set_rsp0(uint64_t rsp0) { tss.rsp[0] = rsp0; }
void tss_set_ist(int n, uint64_t top) { tss.ist[n - 1] = top; }
