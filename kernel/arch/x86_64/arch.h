/* arch/x86_64/arch.h - what the rest of the kernel may ask of the CPU and
 * the platform (PC under QEMU): console, descriptor tables, traps,
 * interrupt controllers, the timer and power-off. */
#pragma once
#include "../../lib/types.h"

/* ---- serial console (COM1) ---- */
void serial_init(void);
void serial_putc(char c);
/* A received byte, -1 for none, or SERIAL_BREAK: the other end sent a
 * break (QEMU's chardev-send-break), which asks for a thread dump. */
#define SERIAL_BREAK (-2)
int  serial_getc_nonblock(void);
void serial_enable_rx_irq(void);

/* ---- what the boot loader handed over (multiboot.c) ---- */
#define MEM_USABLE      1
#define MEM_ACPI        3
#define MEM_ACPI_NVS    4
struct mem_region {
    uint64_t base, len;
    uint32_t type;              /* E820 type: MEM_USABLE, MEM_ACPI... */
};
struct boot_module {
    uint64_t start, end;        /* physical */
    char cmdline[128];
};
struct bootinfo {
    char image[128];            /* the kernel's path, as the loader gave it */
    char cmdline[512];          /* the arguments after it */
    struct mem_region mmap[64];
    int nmmap;
    struct boot_module mods[8];
    int nmods;
};
extern struct bootinfo bootinfo;
void multiboot_parse(uint32_t magic, uint64_t info_pa);

/* ---- segments ---- */
/* The user selectors are Linux's (__USER_CS 0x33, __USER_DS 0x2b): programs
 * and debuggers read them (gdb takes a CS other than 0x33 for a 32-bit
 * process). sysret's layout puts the 32-bit code just below the data. */
#define GDT_KCODE   0x08
#define GDT_KDATA   0x10
#define GDT_UCODE32 0x20    /* placeholder: sysret's layout wants it here */
#define GDT_UDATA   0x28
#define GDT_UCODE   0x30
#define GDT_TSS     0x38    /* two entries */
#define GDT_CPUNUM  0x48    /* DPL3 data, its limit the CPU's number: the vDSO's getcpu (lsl) */
#define GDT_ENTRIES 10

#define IST_DOUBLE_FAULT 1
#define IST_NMI          2

#define MAX_CPUS 16

void gdt_init(int cpu);
void tss_set_rsp0(uint64_t rsp0);
void tss_set_ist(int n, uint64_t top);
/* Port I/O for ring 3 on this CPU: NULL none; else this bitmap (65536
 * bits, a set bit refuses its port: ioperm's), copied into the TSS unless
 * the contents there are this version already (a number each change of
 * any bitmap gets anew). */
#define IO_BITMAP_BYTES 8192
void tss_set_io_bitmap(const uint8_t *bitmap, uint64_t version);

/* ---- per-CPU data, reached through GS in kernel mode ---- */
struct cpu {
    struct cpu *self;           /* gs:0  */
    uint64_t kernel_rsp;        /* gs:8  stack top for syscall entry (syscall.asm) */
    uint64_t user_rsp;          /* gs:16 scratch for syscall entry */
    void *current;              /* the running thread (proc layer) */
    int id;                     /* 0 = the boot CPU; dense */
    bool smap;                  /* SMAP enabled: user access needs stac/clac */
    uint32_t apic_id;
};
void cpu_init(int id);          /* GS base, syscall MSRs, SMEP/SMAP/UMIP */
struct cpu *cpu_get(int id);
int  cpu_count(void);           /* CPUs running (1 until smp_boot) */
void cpu_mark_online(void);
static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(c));
    return c;
}
void cpu_set_kernel_stack(uint64_t top);

/* x87/SSE register state of a user program (fxsave format). */
struct fpu_state {
    uint8_t bytes[512];
} __aligned(16);
void fpu_save(struct fpu_state *st);
void fpu_restore(const struct fpu_state *st);
void fpu_init_state(struct fpu_state *st);   /* for syscalls and interrupts from ring 3 */
uint32_t fpu_mxcsr_mask(void);                /* the MXCSR bits this CPU accepts (fxrstor) */

/* Hardware debug registers (Intel SDM vol. 3, 17.2): DR0-3 the addresses,
 * DR7 their enables, types and lengths (0 disarms all), DR6 what hit. */
void     debugreg_load(const uint64_t addr[4], uint64_t dr7);
uint64_t debugreg_take_dr6(void);            /* DR6, then cleared (its bits are sticky) */
#define DR6_BS      0x4000ul                  /* single step (TF) */
#define DR6_HITS    0xful                     /* B0-B3: breakpoint n's condition met */
#define DR6_FIXED   0xffff0ff0ul              /* DR6's bits that read as 1 when clear */
#define RFLAGS_TRAP 0x100ul                   /* TF: a #DB after each instruction */
#define RFLAGS_RESUME 0x10000ul               /* RF: no instruction breakpoint for one instruction */

/* ---- user memory access (usercopy.asm + trap.c's fixups) ---- */
/* Both return 0 / the length on success and -EFAULT for a bad pointer. */
int  copy_from_user(void *dst, const void *usrc, size_t n);
int  copy_to_user(void *udst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most max-1 characters: its length,
 * -EFAULT, or -ENAMETOOLONG. */
long strncpy_from_user(char *dst, const char *usrc, size_t max);
bool user_range_ok(uintptr_t addr, size_t n);
/* Atomic compare-and-exchange on a user word (futexes): 0 or -EFAULT. */
int  cmpxchg_user32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur);

/* ---- traps ---- */
/* What trapentry.asm pushes, lowest address first. */
struct trapframe {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};

#define T_DIVIDE     0
#define T_DEBUG      1
#define T_NMI        2
#define T_BREAKPOINT 3
#define T_INVALID_OP 6
#define T_DOUBLE     8
#define T_GPF        13
#define T_PAGE_FAULT 14

#define VEC_IRQ_BASE   0x20   /* legacy PIC, remapped and masked */
#define VEC_IOAPIC     0x30   /* IOAPIC GSI n -> 0x30 + n */
#define VEC_MSI_BASE   0x50   /* PCI message-signalled interrupts, up to VEC_TIMER */
#define VEC_TIMER      0xE0
#define VEC_RESCHED    0xF0   /* IPI: look at the run queue (wakes an idle CPU) */
#define VEC_TLB        0xF1   /* IPI: flush this CPU's TLB (shootdown) */
#define VEC_SPURIOUS   0xFF

/* Page-fault error code bits (Intel SDM vol. 3, 4.7). */
#define PF_PRESENT 0x1
#define PF_WRITE   0x2
#define PF_USER    0x4
#define PF_RSVD    0x8
#define PF_IFETCH  0x10
#define PF_PK      0x20   /* refused by the page's protection key (PKRU) */

/* A handler returns true when it dealt with the trap; false lets the
 * dispatcher treat it as fatal. */
typedef bool (*trap_handler_t)(struct trapframe *tf);
void idt_init(void);
void idt_load(void);            /* on each application processor */
void trap_register(int vector, trap_handler_t h);
const char *trap_name(int vector);
void trap_dump(const struct trapframe *tf);
/* Provided by the proc layer: a fault from ring 3 nobody resolved (kills the
 * process), and the work due before any return to ring 3 (reschedule,
 * deliver fatal signals). */
void user_fault(struct trapframe *tf);
void return_to_user_work(struct trapframe *tf);
void user_trap_enter(void);     /* an exception from ring 3 is about to be handled */
/* A fault on user memory from kernel mode is about to be handled: true if
 * the proc layer took its lock for it (a NOLOCK syscall's uaccess); then
 * uaccess_fault_leave gives it back. */
bool uaccess_fault_enter(void);
void uaccess_fault_leave(void);
#define SYSCALL_VECTOR 256
bool trap_dumped(void);   /* has a trap report been printed (so panic skips its own backtrace) */

/* ---- interrupt controllers and timer ---- */
void acpi_init(void);
void pic_disable(void);
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
void ioapic_init(void);
void ioapic_route(int isa_irq, int vector);
void timer_init(unsigned hz);
void timer_init_ap(void);       /* the same periodic tick on an application processor */
/* Called on every tick after the count advances (the scheduler's hook). */
void timer_set_hook(trap_handler_t h);
extern volatile uint64_t timer_tick_count;
/* Inline, so a loop that polls it (crash_stall) is not caught by a tick
 * inside a function of its own: the watchdog names the loop. */
static inline uint64_t timer_ticks(void) { return timer_tick_count; }
unsigned timer_hz(void);
uint64_t tsc_hz(void);          /* measured against the PIT at boot */
uint64_t rtc_read_unix(void);   /* CMOS clock, seconds since 1970 */

/* ---- SMP (smp.c) ---- */
/* Start every CPU the MADT lists; each runs ap_entry(id) on its own stack
 * once its GDT, IDT, MSRs, LAPIC and timer are set up. Returns the count. */
int  smp_boot(void (*ap_entry)(int id));
void ipi_send(int cpu, int vector);
void ipi_send_nmi(int cpu);     /* cannot be masked: the watchdog's "where are you?" */
/* Flush [va, va + n pages) (n == 0: everything, global pages included) from
 * the TLBs of the CPUs in mask, this one included, and wait until they have. */
void tlb_shootdown(uint64_t mask, uintptr_t va, size_t npages);
void lapic_send_icr(uint32_t apic_id, uint32_t icr);
void smp_init_ipis(void);       /* install the IPI handlers (boot CPU, before smp_boot) */

/* ---- power ---- */
/* Guest exit codes for QEMU's isa-debug-exit; QEMU exits with (code<<1)|1.
 * Kept below 0x80 (see shared README). */
#define EXIT_OK        0x10
#define EXIT_TEST_FAIL 0x11
#define EXIT_PANIC     0x50
__noreturn void qemu_exit(int code);
