/* arch/x86_64/trap.c - the IDT and the one C entry point for every trap,
 * exception and interrupt. Faults nobody claims are reported in full (name,
 * error code, registers, CR2, a symbolised backtrace) and end in panic(). */
#include "arch.h"
#include "cpu.h"
#include "../../lib/kprintf.h"
#include "../../debug/debug.h"
#include "../../mm/mm.h"

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t  ist;
    uint8_t  type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __packed;

static struct idt_gate idt[256] __aligned(16);
static trap_handler_t handlers[256];
extern const uint64_t trap_stubs[256];

static const char *const exception_names[32] = {
    "Divide Error", "Debug", "Non-Maskable Interrupt", "Breakpoint",
    "Overflow", "BOUND Range Exceeded", "Invalid Opcode", "Device Not Available",
    "Double Fault", "Coprocessor Segment Overrun", "Invalid TSS", "Segment Not Present",
    "Stack-Segment Fault", "General Protection", "Page Fault", "Reserved",
    "x87 Floating-Point", "Alignment Check", "Machine Check", "SIMD Floating-Point",
    "Virtualization", "Control Protection", "Reserved", "Reserved",
    "Reserved", "Reserved", "Reserved", "Reserved",
    "Hypervisor Injection", "VMM Communication", "Security", "Reserved",
};

const char *trap_name(int vector)
{
    if (vector < 32)
        return exception_names[vector];
    if (vector == VEC_TIMER)
        return "Timer";
    if (vector == VEC_SPURIOUS)
        return "Spurious";
    return "Interrupt";
}

static void set_gate(int v, uint64_t handler, int ist, int dpl)
{
    idt[v] = (struct idt_gate){
        .offset_lo = handler & 0xffff,
        .selector = GDT_KCODE,
        .ist = (uint8_t)ist,
        .type_attr = (uint8_t)(0x8e | (dpl << 5)),   /* present, interrupt gate */
        .offset_mid = (handler >> 16) & 0xffff,
        .offset_hi = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++)
        set_gate(v, trap_stubs[v], 0, 0);
    /* A double fault usually means the stack is gone (overflowed into its
     * guard page): take it on a stack of its own. Same for NMIs, which may
     * arrive anywhere. */
    set_gate(T_DOUBLE, trap_stubs[T_DOUBLE], IST_DOUBLE_FAULT, 0);
    set_gate(T_NMI, trap_stubs[T_NMI], IST_NMI, 0);
    /* int3 is the debugger's breakpoint: ring 3 may raise it (a #GP otherwise). */
    set_gate(T_BREAKPOINT, trap_stubs[T_BREAKPOINT], 0, 3);
    idt_load();
}

void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __packed p = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" ::"m"(p));
}

void trap_register(int vector, trap_handler_t h)
{
    handlers[vector] = h;
}

static bool dumped;
bool trap_dumped(void) { return dumped; }

void trap_dump(const struct trapframe *tf)
{
    dumped = true;
    int v = (int)tf->vector;
    kprintf("EXCEPTION vector=%d name=\"%s\" error=0x%016lx\n", v, trap_name(v), tf->error);
    kprintf("  RIP=0x%016lx CS=0x%04lx RFLAGS=0x%016lx RSP=0x%016lx SS=0x%04lx\n",
            tf->rip, tf->cs, tf->rflags, tf->rsp, tf->ss);
    kprintf("  CR2=0x%016lx CR3=0x%016lx CR0=0x%016lx CR4=0x%016lx\n",
            read_cr2(), read_cr3(), read_cr0(), read_cr4());
    kprintf("  RAX=0x%016lx RBX=0x%016lx RCX=0x%016lx RDX=0x%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
    kprintf("  RSI=0x%016lx RDI=0x%016lx RBP=0x%016lx R8 =0x%016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
    kprintf("  R9 =0x%016lx R10=0x%016lx R11=0x%016lx R12=0x%016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
    kprintf("  R13=0x%016lx R14=0x%016lx R15=0x%016lx\n", tf->r13, tf->r14, tf->r15);
    if (v == T_PAGE_FAULT)
        kprintf("  page fault: %s %s in %s mode%s\n",
                tf->error & PF_IFETCH ? "instruction fetch" : tf->error & PF_WRITE ? "write" : "read",
                tf->error & PF_PRESENT ? "violating page protection" : "of a not-present page",
                tf->error & PF_USER ? "user" : "kernel",
                tf->error & PF_RSVD ? " (reserved bit set)" : "");
    const struct { const char *name; uint64_t v; } regs[] = {
        { "RAX", tf->rax }, { "RBX", tf->rbx }, { "RCX", tf->rcx }, { "RDX", tf->rdx }, { "RSI", tf->rsi },
        { "RDI", tf->rdi }, { "R8", tf->r8 }, { "R9", tf->r9 }, { "R10", tf->r10 }, { "R11", tf->r11 },
        { "R12", tf->r12 }, { "R13", tf->r13 }, { "R14", tf->r14 }, { "R15", tf->r15 },
    };
    if (!(tf->cs & 3))                          /* a kernel fault: the heap blocks it was touching */
        for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
            kheap_whois(regs[i].name, regs[i].v);
    backtrace_from(tf->rip, tf->rbp);
}

/* A fault inside uaccess.asm (a bad user pointer handed to a syscall)
 * resumes at that instruction's fixup. */
struct ex_entry {
    uint64_t insn, fixup;
};
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

static bool apply_fixup(struct trapframe *tf)
{
    for (const struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->insn == tf->rip) {
            tf->rip = e->fixup;
            return true;
        }
    return false;
}

void trap_dispatch(struct trapframe *tf)
{
    int v = (int)tf->vector;
    bool from_user = tf->cs & 3;

    if (v == T_NMI) {
        /* Not the process's business, and may arrive anywhere (even with
         * the kernel lock or sched_lock held on this CPU): the handler only
         * looks and prints (the watchdog). */
        if (handlers[v])
            handlers[v](tf);
        return;
    }

    if (v >= VEC_IRQ_BASE) {
        /* Interrupts from devices and the timer: acknowledge first, so a
         * handler that switches threads leaves the LAPIC ready. */
        if (v == VEC_SPURIOUS)
            return;                          /* spurious: no EOI, by the spec */
        if (v >= VEC_IOAPIC)
            lapic_eoi();
        if (handlers[v])
            handlers[v](tf);
    } else {
        /* An exception: the proc layer takes its lock for work on the
         * process's behalf (return_to_user_work lets it go). */
        if (from_user) {
            /* Taking the lock may sleep and wake on another CPU, whose CR2
             * holds some other fault's address: carry ours across. */
            uint64_t cr2 = read_cr2();
            user_trap_enter();
            write_cr2(cr2);
        }
        if (handlers[v] && handlers[v](tf)) {
            /* resolved (a demand-paging or copy-on-write fault, say) */
        } else if (from_user) {
            /* INVARIANT(process isolation): a user fault ends that process, nothing else. */
#ifdef BREAK_USER_FAULT
            trap_dump(tf);                  /* the break switch: it ends everything */
            panic("unhandled %s in user mode", trap_name(v));
#endif
            user_fault(tf);
        } else if (!apply_fixup(tf)) {
            trap_dump(tf);
            panic("unhandled %s in kernel mode", trap_name(v));
        }
    }

    if (from_user)
        return_to_user_work(tf);
}
