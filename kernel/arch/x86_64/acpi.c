/* arch/x86_64/acpi.c - find the MADT ("APIC" table) through the RSDP and
 * read from it the local APIC address, the CPUs, the IOAPIC and the ISA IRQ
 * overrides. No AML: Vigil needs none of it. */
#include "arch.h"
#include "platform.h"
#include "../../lib/string.h"
#include "../../lib/kprintf.h"
#include "../../mm/mm.h"

struct rsdp {
    char sig[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t xchecksum;
    uint8_t reserved[3];
} __packed;

struct sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __packed;

struct madt {
    struct sdt_header h;
    uint32_t lapic_addr;
    uint32_t flags;
    uint8_t entries[];
} __packed;

struct platform platform = {
    .lapic_pa = 0xFEE00000,
    .ioapic_pa = 0xFEC00000,
    .ncpus = 1,
};

static bool checksum_ok(const void *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ((const uint8_t *)p)[i];
    return sum == 0;
}


static bool readable(uint64_t pa, size_t n)
{
    return vmm_kernel_mapped((uintptr_t)P2V(pa)) && vmm_kernel_mapped((uintptr_t)P2V(pa + n - 1));
}

static const struct rsdp *scan(uint64_t pa, size_t len)
{
    for (uint64_t p = pa; p + sizeof(struct rsdp) <= pa + len; p += 16) {
        const struct rsdp *r = P2V(p);
        if (!readable(p, sizeof(*r)))
            return NULL;
        if (!memcmp(r->sig, "RSD PTR ", 8) && checksum_ok(r, 20))
            return r;
    }
    return NULL;
}

static const struct sdt_header *table_at(uint64_t pa)
{
    if (!readable(pa, sizeof(struct sdt_header)))
        return NULL;
    const struct sdt_header *h = P2V(pa);
    if (!readable(pa, h->length) || !checksum_ok(h, h->length))
        return NULL;
    return h;
}

static const struct sdt_header *find_table(const struct rsdp *r, const char *sig)
{
    bool x = r->revision >= 2 && r->xsdt;
    const struct sdt_header *root = table_at(x ? r->xsdt : r->rsdt);
    if (!root)
        return NULL;
    size_t width = x ? 8 : 4;
    size_t n = (root->length - sizeof(*root)) / width;
    const uint8_t *ptrs = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t pa = 0;
        memcpy(&pa, ptrs + i * width, width);
        const struct sdt_header *t = table_at(pa);
        if (t && !memcmp(t->sig, sig, 4))
            return t;
    }
    return NULL;
}

void acpi_init(void)
{
    for (int i = 0; i < 16; i++)
        platform.isa_gsi[i] = (uint8_t)i, platform.isa_flags[i] = 0;

    /* The RSDP lives in the first KiB of the EBDA or in the BIOS area. */
    uint64_t ebda = (uint64_t)(*(uint16_t *)P2V(0x40E)) << 4;
    const struct rsdp *r = NULL;
    if (ebda >= 0x80000 && ebda < 0xA0000)
        r = scan(ebda, 1024);
    if (!r)
        r = scan(0xE0000, 0x20000);
    const struct madt *m = r ? (const struct madt *)find_table(r, "APIC") : NULL;
    if (!m) {
        kprintf("acpi: no MADT; assuming one CPU and the standard APIC addresses\n");
        return;
    }

    platform.lapic_pa = m->lapic_addr;
    platform.ncpus = 0;
    for (const uint8_t *e = m->entries; e < (const uint8_t *)m + m->h.length && e[1]; e += e[1]) {
        switch (e[0]) {
        case 0:     /* processor local APIC: uid, apic id, flags (bit 0: enabled) */
            if ((e[4] & 1) && platform.ncpus < MAX_CPUS)
                platform.cpu_apic_id[platform.ncpus++] = e[3];
            break;
        case 1:     /* IOAPIC: id, reserved, address, GSI base */
            memcpy(&platform.ioapic_pa, e + 4, 4);
            memcpy(&platform.ioapic_gsi_base, e + 8, 4);
            break;
        case 2: {   /* interrupt source override: bus, source, GSI, flags */
            uint32_t gsi;
            uint16_t flags;
            memcpy(&gsi, e + 4, 4);
            memcpy(&flags, e + 8, 2);
            if (e[3] < 16) {
                platform.isa_gsi[e[3]] = (uint8_t)gsi;
                platform.isa_flags[e[3]] = flags;
            }
            break;
        }
        case 5:     /* 64-bit local APIC address override */
            memcpy(&platform.lapic_pa, e + 4, 8);
            break;
        }
    }
    if (platform.ncpus == 0)
        platform.ncpus = 1;
    kprintf("acpi: %d cpu(s), lapic 0x%lx, ioapic 0x%lx\n", platform.ncpus,
            platform.lapic_pa, platform.ioapic_pa);
}
