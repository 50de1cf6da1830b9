/* arch/x86_64/platform.h - what ACPI told us about this machine (internal
 * to arch/x86_64). */
#pragma once
#include "../../lib/types.h"
#include "arch.h"

struct platform {
    uint64_t lapic_pa;
    uint64_t ioapic_pa;
    uint32_t ioapic_gsi_base;
    int      ncpus;
    uint8_t  cpu_apic_id[MAX_CPUS];
    uint8_t  isa_gsi[16];       /* ISA IRQ -> GSI after overrides */
    uint16_t isa_flags[16];     /* MPS INTI flags: polarity, trigger */
};

extern struct platform platform;
