/* arch/x86_64/smp.c - starting the other CPUs, and the interprocessor
 * interrupts they use to talk: "reschedule" and "flush your TLB".
 *
 * The boot CPU finds the others in ACPI's MADT (acpi.c), copies the real-mode
 * trampoline (aptramp.asm) below 1 MiB, and wakes each in turn with the
 * INIT-SIPI-SIPI sequence of the Intel SDM (vol. 3, 8.4.4.1), waiting until
 * it reports in before starting the next. */
#include "arch.h"
#include "cpu.h"
#include "platform.h"
#include "../../mm/mm.h"
#include "../../lib/string.h"
#include "../../lib/kprintf.h"
#include "../../lib/spinlock.h"
#include "../../debug/debug.h"

#define AP_TRAMPOLINE 0x8000ul

extern const char ap_trampoline[], ap_trampoline_end[];
extern const char ap_param_cr3[], ap_param_stack[], ap_param_entry[], ap_param_id[];

static void (*ap_continue)(int id);
static volatile int ap_started;
static struct kstack ap_stacks[MAX_CPUS], ap_df[MAX_CPUS], ap_nmi[MAX_CPUS];

static void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz() / 1000000 * us;
    while (rdtsc() < end)
        cpu_relax();
}

/* Where the trampoline lands, on the AP's own guarded stack. */
static __noreturn void ap_main(int id)
{
    gdt_init(id);
    idt_load();
    cpu_init(id);
    cpu_get(id)->apic_id = lapic_id();
    tss_set_ist(IST_DOUBLE_FAULT, ap_df[id].top);
    tss_set_ist(IST_NMI, ap_nmi[id].top);
    tss_set_rsp0(ap_stacks[id].top);
    lapic_init();
    timer_init_ap();
    cpu_mark_online();
    __atomic_store_n(&ap_started, 1, __ATOMIC_RELEASE);
    ap_continue(id);
    panic("ap_entry returned");
}

static void set_param(const char *field, uint64_t v)
{
    *(uint64_t *)((uint8_t *)P2V(AP_TRAMPOLINE) + (field - ap_trampoline)) = v;
}

static bool start_ap(int id, uint32_t apic_id)
{
    if (!kstack_alloc(&ap_stacks[id]) || !kstack_alloc(&ap_df[id]) || !kstack_alloc(&ap_nmi[id]))
        return false;
    set_param(ap_param_cr3, vmm_kernel_root());
    set_param(ap_param_stack, ap_stacks[id].top);
    set_param(ap_param_entry, (uint64_t)ap_main);
    set_param(ap_param_id, (uint64_t)id);
    ap_started = 0;
    lapic_send_icr(apic_id, 0x4500);                    /* INIT, assert */
    delay_us(10000);
    for (int i = 0; i < 2; i++) {                       /* STARTUP, vector 0x08 */
        lapic_send_icr(apic_id, 0x4600 | (AP_TRAMPOLINE >> 12));
        delay_us(200);
    }
    for (int ms = 0; ms < 1000 && !__atomic_load_n(&ap_started, __ATOMIC_ACQUIRE); ms++)
        delay_us(1000);
    return ap_started;
}

int smp_boot(void (*entry)(int id))
{
    struct cpu *boot = this_cpu();
    boot->apic_id = lapic_id();
    cpu_mark_online();
    ap_continue = entry;
    if (platform.ncpus <= 1)
        return 1;
    /* The trampoline page, readable and executable at its physical address
     * in the kernel's own page tables (what the APs load into CR3) until
     * every AP is through it. */
    memcpy(P2V(AP_TRAMPOLINE), ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    uint64_t root = vmm_kernel_root();
    if (vmm_map(root, AP_TRAMPOLINE, AP_TRAMPOLINE, 0))
        return 1;
    int next = 1;
    for (int i = 0; i < platform.ncpus && next < MAX_CPUS; i++) {
        if (platform.cpu_apic_id[i] == boot->apic_id)
            continue;
        if (start_ap(next, platform.cpu_apic_id[i]))
            next++;
        else
            kprintf("smp: cpu with APIC id %u did not start\n", platform.cpu_apic_id[i]);
    }
    vmm_unmap(root, AP_TRAMPOLINE);
    vmm_prune(root, 0, LARGE_PAGE_SIZE);
    tlb_shootdown(~0ul, AP_TRAMPOLINE, 1);
    kprintf("smp: %d CPUs online\n", cpu_count());
    return cpu_count();
}

void ipi_send(int cpu, int vector)
{
    lapic_send_icr(cpu_get(cpu)->apic_id, (uint32_t)vector);   /* fixed, physical, edge */
}

void ipi_send_nmi(int cpu)
{
    lapic_send_icr(cpu_get(cpu)->apic_id, 4u << 8);            /* delivery mode NMI */
}

/* ---- TLB shootdown ----
 * INVARIANT(process isolation): once a mapping is removed or write-protected,
 * no CPU keeps using the old translation: every CPU that may cache it
 * flushes before the change is relied on. One shootdown at a time (tlb_lock);
 * a CPU waiting for that lock answers the current request itself, so two
 * initiators can never wait on each other's acknowledgement. */
static struct spinlock tlb_lock = SPINLOCK_INIT("tlb");
static volatile uintptr_t tlb_va;
static volatile size_t tlb_npages;
static volatile int tlb_pending;
static volatile uint8_t tlb_want[MAX_CPUS];

static void flush_local(uintptr_t va, size_t npages)
{
    if (npages == 0 || npages > 32) {
        /* Toggling PGE flushes global (kernel) entries too. */
        uint64_t cr4 = read_cr4();
        write_cr4(cr4 & ~(1ul << 7));
        write_cr4(cr4);
        write_cr3(read_cr3());
        return;
    }
    for (size_t i = 0; i < npages; i++)
        invlpg(va + i * PAGE_SIZE);
}

static void tlb_service(void)
{
    int me = this_cpu()->id;
    if (__atomic_exchange_n(&tlb_want[me], 0, __ATOMIC_ACQ_REL)) {
        flush_local(tlb_va, tlb_npages);
        __atomic_sub_fetch(&tlb_pending, 1, __ATOMIC_RELEASE);
    }
}

static bool tlb_ipi(struct trapframe *tf)
{
    (void)tf;
    tlb_service();
    return true;
}

static bool resched_ipi(struct trapframe *tf)
{
    (void)tf;           /* the work happens on the way out (return_to_user_work / idle) */
    return true;
}

void tlb_shootdown(uint64_t mask, uintptr_t va, size_t npages)
{
    int me = cpu_count() > 1 ? this_cpu()->id : 0;
    if (mask & (1ul << me))
        flush_local(va, npages);
    mask &= ~(1ul << me);
    int n = 0;
    for (int c = 0; c < cpu_count(); c++)
        n += (mask >> c) & 1;
    if (!n)
        return;
    uint64_t f = irq_save();
    while (!spin_trylock(&tlb_lock)) {
        tlb_service();
        cpu_relax();
    }
    tlb_va = va;
    tlb_npages = npages;
    __atomic_store_n(&tlb_pending, n, __ATOMIC_RELEASE);
    for (int c = 0; c < cpu_count(); c++)
        if ((mask >> c) & 1) {
            __atomic_store_n(&tlb_want[c], 1, __ATOMIC_RELEASE);
            ipi_send(c, VEC_TLB);
        }
    while (__atomic_load_n(&tlb_pending, __ATOMIC_ACQUIRE))
        cpu_relax();
    spin_unlock_noirq(&tlb_lock);
    irq_restore(f);
}

void smp_init_ipis(void)
{
    trap_register(VEC_TLB, tlb_ipi);
    trap_register(VEC_RESCHED, resched_ipi);
}
