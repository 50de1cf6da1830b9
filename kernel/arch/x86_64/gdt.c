/* arch/x86_64/gdt.c - the GDT (flat segments for ring 0 and ring 3) and the
 * TSS, which in long mode only holds stack pointers: rsp0 for entries from
 * ring 3 and the IST stacks for faults that must not trust the current stack. */
#include "arch.h"
#include "cpu.h"
#include "../../debug/debug.h"
#include "../../lib/kprintf.h"
#include "../../lib/string.h"
#include "../../lib/cmdline.h"
#include "../../lib/abi.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
    /* The I/O permission bitmap (a set bit refuses its port), in use only
     * while iomap_base points at it: for a thread that ioperm or iopl gave
     * ports (tss_set_io_bitmap). The byte after it must be 0xff. */
    uint8_t iomap[IO_BITMAP_BYTES + 1];
} __packed;

#define IOMAP_OFF   __builtin_offsetof(struct tss, iomap)
#define IOMAP_NONE  0xffff              /* past the limit: no bitmap at all */

/* One GDT and TSS per CPU: the TSS descriptor is marked busy by ltr, and
 * each CPU needs its own rsp0 and IST stacks anyway. */
static struct tss tss[MAX_CPUS] __aligned(16);
static uint64_t gdt_of[MAX_CPUS][GDT_ENTRIES] __aligned(16);
static struct cpu cpus[MAX_CPUS];
static int cpus_online;

/* Early stacks for the boot CPU's IST, used until mm gives guarded ones. */
static uint8_t early_df_stack[4096] __aligned(16);
static uint8_t early_nmi_stack[4096] __aligned(16);

struct gdt_ptr {
    uint16_t limit;
    uint64_t base;
} __packed;

void gdt_init(int id)
{
    uint64_t *gdt = gdt_of[id];
    struct tss *t = &tss[id];
    gdt[0] = 0;
    gdt[GDT_KCODE >> 3]   = 0x00af9a000000ffff;  /* DPL0 code, L=1 */
    gdt[GDT_KDATA >> 3]   = 0x00cf92000000ffff;  /* DPL0 data */
    gdt[GDT_UCODE32 >> 3] = 0x00cffa000000ffff;  /* DPL3 32-bit code (unused) */
    gdt[GDT_UDATA >> 3]   = 0x00cff2000000ffff;  /* DPL3 data */
    gdt[GDT_UCODE >> 3]   = 0x00affa000000ffff;  /* DPL3 code, L=1 */

    /* An iomap_base past the TSS limit means no I/O bitmap: with IOPL 0
     * every in/out from ring 3 faults.
     * INVARIANT(privilege separation): user mode has no port I/O but the
     * ports ioperm/iopl gave root's threads (tss_set_io_bitmap). */
    t->iomap_base = IOMAP_NONE;
    t->iomap[IO_BITMAP_BYTES] = 0xff;   /* the bitmap's required end byte */
#ifdef BREAK_IOPB
    /* The break switch: a bitmap of zeros inside the TSS limit opens every
     * port to ring 3 (IOPL stays 0: cli and hlt still fault). */
    t->iomap_base = IOMAP_OFF;
#endif
    if (id == 0) {
        t->ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(early_df_stack + sizeof(early_df_stack));
        t->ist[IST_NMI - 1] = (uint64_t)(early_nmi_stack + sizeof(early_nmi_stack));
    }

    uint64_t base = (uint64_t)t, limit = sizeof(*t) - 1;
    gdt[GDT_TSS >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                        (0x89ul << 40) |                 /* present, 64-bit TSS */
                        (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[(GDT_TSS >> 3) + 1] = base >> 32;

    /* A descriptor nobody loads, whose limit is this CPU's number (node 0
     * above bit 12): ring 3 reads it with lsl, the vDSO's getcpu on a CPU
     * without RDPID (Linux's trick). Present, DPL3, read-only data. */
    gdt[GDT_CPUNUM >> 3] = ((uint64_t)id & 0xffff) | ((((uint64_t)id >> 16) & 0xf) << 48) |
                           (0xf1ul << 40);
    struct gdt_ptr p = { GDT_ENTRIES * sizeof(uint64_t) - 1, (uint64_t)gdt };
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

/* Before cpu_init has set GS (early boot) only the boot CPU exists. */
static int my_id(void) { return rdmsr(MSR_GS_BASE) ? this_cpu()->id : 0; }
void tss_set_rsp0(uint64_t rsp0) { tss[my_id()].rsp[0] = rsp0; }
void tss_set_ist(int n, uint64_t top) { tss[my_id()].ist[n - 1] = top; }

/* Which bitmap contents each CPU's TSS holds now (their version number). */
static uint64_t iomap_loaded[MAX_CPUS];

void tss_set_io_bitmap(const uint8_t *bitmap, uint64_t version)
{
    int id = my_id();
    struct tss *t = &tss[id];
    if (!bitmap) {
#ifndef BREAK_IOPB
        t->iomap_base = IOMAP_NONE;
#endif
        return;
    }
    if (iomap_loaded[id] != version) {
        memcpy(t->iomap, bitmap, IO_BITMAP_BYTES);
        iomap_loaded[id] = version;
    }
    t->iomap_base = IOMAP_OFF;
}

/* ---- per-CPU state and the syscall instruction ---- */
extern void syscall_entry(void);

bool cpu_pku;                   /* [const] after the boot CPU's cpu_init: CR4.PKE on every CPU */
bool cpu_rdpid;                 /* [const] after the boot CPU's cpu_init: RDPID reads TSC_AUX */

struct cpu *cpu_get(int id) { return &cpus[id]; }
int cpu_count(void) { return cpus_online ? cpus_online : 1; }
void cpu_mark_online(void) { __atomic_add_fetch(&cpus_online, 1, __ATOMIC_SEQ_CST); }

#define RFLAGS_TF 0x100
#define RFLAGS_IF 0x200
#define RFLAGS_DF 0x400
#define RFLAGS_NT 0x4000
#define RFLAGS_AC 0x40000

void cpu_init(int id)
{
    struct cpu *me = &cpus[id];
    me->self = me;
    me->id = id;
    wrmsr(MSR_GS_BASE, (uint64_t)me);
    wrmsr(MSR_KERNEL_GS, 0);

    /* syscall: kernel CS/SS from STAR[47:32]; sysret: user SS = STAR[63:48]+8,
     * CS = STAR[63:48]+16 (hence GDT_UCODE32 just below GDT_UDATA). */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);                /* SCE */
    wrmsr(0xC0000081, ((uint64_t)GDT_UCODE32 << 48) | ((uint64_t)GDT_KCODE << 32));
    wrmsr(0xC0000082, (uint64_t)syscall_entry);          /* LSTAR */
    wrmsr(0xC0000084, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC);   /* SFMASK */

    uint32_t a, b, c, d;
    cpuid(7, 0, &a, &b, &c, &d);
    uint64_t cr4 = read_cr4();
    /* INVARIANT(privilege separation): with SMEP the kernel never executes
     * user pages; with SMAP it never touches user memory outside uaccess.
     * Both read the U/S bit, so under BREAK_USER_PAGES (the kernel's own
     * pages carry it) the CPU could not run the kernel with either on: that
     * switch turns them off as a consequence, not as a second mechanism. */
#if !defined(BREAK_SMEP) && !defined(BREAK_USER_PAGES)
    if (b & (1 << 7))
        cr4 |= CR4_SMEP;
#endif
#if !defined(BREAK_SMAP) && !defined(BREAK_USER_PAGES)
    if (b & (1 << 20)) {
        cr4 |= CR4_SMAP;
        me->smap = true;
    }
#endif
#ifndef BREAK_UMIP
    /* INVARIANT(privilege separation): ring 3 cannot read where the
     * kernel's descriptor tables are (sgdt, sidt, sldt, smsw, str). */
    if (c & (1 << 2))
        cr4 |= CR4_UMIP;            /* no sgdt/sidt/smsw... from ring 3 */
#endif
    /* Memory protection keys (pkeys(7)): PTE bits 59-62 name one of 16
     * keys, and PKRU, per thread, says which keys deny reads or writes to
     * user pages. The boot CPU decides for all ("nopku" on the command
     * line: off, as Linux's). */
    if (id == 0)
        cpu_pku = (c & (1 << 3)) && !cmdline_has("nopku");
    if (cpu_pku)
        cr4 |= CR4_PKE;
    /* The CPU's number where rdtscp and rdpid read it (the vDSO's getcpu);
     * the MSR exists with either instruction. */
    uint32_t a8, b8, c8, d8;
    cpuid(0x80000001, 0, &a8, &b8, &c8, &d8);
    if (id == 0)
        cpu_rdpid = c & (1 << 22);
    if ((d8 & (1 << 27)) || (c & (1 << 22)))
        wrmsr(MSR_TSC_AUX, (uint64_t)id);       /* node 0 */
    /* User programs use SSE (the x86-64 ABI assumes it): enable the FPU and
     * fxsave/fxrstor. The kernel itself never touches these registers. */
    cr4 |= (1 << 9) | (1 << 10);    /* OSFXSR, OSXMMEXCPT */
    write_cr4(cr4);
    write_cr0((read_cr0() & ~(1ul << 2)) | (1ul << 1));   /* EM off, MP on */
    if (cpu_pku)
        wrpkru(PKRU_INIT);
    if (id == 0)
        kprintf("cpu: smep %s, smap %s, umip %s, nx on%s\n", cr4 & CR4_SMEP ? "on" : "off",
            cr4 & CR4_SMAP ? "on" : "off", cr4 & CR4_UMIP ? "on" : "off",
            cpu_pku ? ", pku on" : "");
}

void cpu_set_kernel_stack(uint64_t top)
{
    struct cpu *c = this_cpu();
    c->kernel_rsp = top;
    tss[c->id].rsp[0] = top;
}

void fpu_save(struct fpu_state *st) { __asm__ volatile("fxsave64 %0" : "=m"(*st)); }
void fpu_restore(const struct fpu_state *st) { __asm__ volatile("fxrstor64 %0" ::"m"(*st)); }

uint32_t fpu_mxcsr_mask(void)
{
    /* fxsave stores the mask at byte 28; 0 there means the default, which
     * lacks DAZ (Intel SDM vol. 1, 11.6.6). */
    static struct fpu_state probe;
    static uint32_t mask;
    if (!mask) {
        fpu_save(&probe);
        uint32_t m;
        memcpy(&m, probe.bytes + 28, 4);
        mask = m ? m : 0xffbf;
    }
    return mask;
}

void debugreg_load(const uint64_t addr[4], uint64_t dr7)
{
    if (!dr7) {
        __asm__ volatile("mov %0, %%dr7" ::"r"(0ul));
        return;
    }
    __asm__ volatile("mov %0, %%dr7" ::"r"(0ul));     /* nothing armed while they change */
    __asm__ volatile("mov %0, %%dr0" ::"r"(addr[0]));
    __asm__ volatile("mov %0, %%dr1" ::"r"(addr[1]));
    __asm__ volatile("mov %0, %%dr2" ::"r"(addr[2]));
    __asm__ volatile("mov %0, %%dr3" ::"r"(addr[3]));
    __asm__ volatile("mov %0, %%dr7" ::"r"(dr7));
}

uint64_t debugreg_take_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    __asm__ volatile("mov %0, %%dr6" ::"r"(DR6_FIXED));
    return v;
}

void fpu_init_state(struct fpu_state *st)
{
    /* The state a new program starts with: x87 control 0x37f, MXCSR 0x1f80
     * (all exceptions masked), everything else zero. */
    for (size_t i = 0; i < sizeof(st->bytes); i++)
        st->bytes[i] = 0;
    st->bytes[0] = 0x7f;
    st->bytes[1] = 0x03;
    st->bytes[24] = 0x80;
    st->bytes[25] = 0x1f;
}
