/* drivers/pci.c - PCI configuration space, bus scan, BARs, capabilities and
 * message-signalled interrupts (PCI Local Bus Spec 3.0; MSI-X from PCI 3.0,
 * section 6.8).
 *
 * Configuration mechanism #1: write the address of a 32-bit configuration
 * register (enable bit, bus, device, function, register) to port 0xCF8,
 * then read or write it through port 0xCFC (+0..3 for narrower accesses).
 * The pair is not atomic, so every access holds pci_lock. */
#include "pci.h"
#include "../lib/kprintf.h"
#include "../lib/spinlock.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../mm/mm.h"

#define CONFIG_ADDRESS  0xCF8
#define CONFIG_DATA     0xCFC
#define CONFIG_ENABLE   0x80000000u

/* Configuration header registers (PCI Local Bus Spec 3.0, 6.1). */
#define REG_VENDOR      0x00
#define REG_DEVICE      0x02
#define REG_COMMAND     0x04
#define REG_STATUS      0x06
#define REG_REVISION    0x08
#define REG_PROG_IF     0x09
#define REG_SUBCLASS    0x0A
#define REG_CLASS       0x0B
#define REG_HEADER_TYPE 0x0E
#define REG_BAR0        0x10
#define REG_SUBSYS_VENDOR 0x2C
#define REG_SUBSYS_ID   0x2E
#define REG_CAP_PTR     0x34
#define REG_CARDBUS_CAP_PTR 0x14

#define STATUS_CAP_LIST     (1u << 4)
#define HEADER_MULTI_FUNC   0x80
#define NO_DEVICE           0xFFFF

#define BAR_IO              0x1u
#define BAR_MEM_TYPE_64     0x4u
#define BAR_MEM_PREFETCH    0x8u

/* MSI and MSI-X registers (PCI Local Bus Spec 3.0, 6.8.1 and 6.8.2). */
#define MSI_CTRL            2
#define MSI_CTRL_ENABLE     (1u << 0)
#define MSI_CTRL_MME_MASK   (7u << 4)       /* multiple message enable */
#define MSI_CTRL_64BIT      (1u << 7)
#define MSI_CTRL_MASKABLE   (1u << 8)
#define MSIX_CTRL           2
#define MSIX_CTRL_TABLE_SIZE 0x7FFu
#define MSIX_CTRL_FUNC_MASK (1u << 14)
#define MSIX_CTRL_ENABLE    (1u << 15)
#define MSIX_TABLE          4               /* offset into a BAR, BAR index in bits 2:0 */
#define MSIX_ENTRY_SIZE     16
#define MSIX_ENTRY_MASKED   1u

/* Intel SDM vol. 3, 11.11: a message to 0xFEE0_0000 with the destination
 * APIC ID in bits 19:12 is an interrupt; its data's low byte is the vector
 * (fixed delivery, edge triggered when the other bits are 0). */
#define MSI_ADDRESS_BASE    0xFEE00000u

/* Where pci_enable() puts BARs the firmware left unassigned (qboot, the
 * harness's firmware, assigns none). On QEMU's pc and q35 machines the
 * 32-bit PCI hole always covers [0xE0000000, 0xFEC00000): RAM below 4 GiB
 * ends at 0xE0000000 at most, and the IOAPIC, HPET, LAPIC and BIOS sit
 * above. I/O ports from 0xC000 are clear of every legacy device. */
#define MEM_WINDOW_START    0xE0000000ul
#define MEM_WINDOW_END      0xFEC00000ul
#define IO_WINDOW_START     0xC000ul
#define IO_WINDOW_END       0x10000ul

#define MAX_FUNCTIONS       64

static struct pci_dev functions[MAX_FUNCTIONS];
static int nfunctions;
static bool scanned;
static int next_msi_vector = VEC_MSI_BASE;
static struct spinlock pci_lock = SPINLOCK_INIT("pci");

/* ---- configuration space ---- */

static uint32_t config_address(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
    return CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)(slot & 31) << 11 |
           (uint32_t)(func & 7) << 8 | (off & 0xFC);
}

static uint32_t config_read(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, int width)
{
    uint64_t fl = spin_lock_irqsave(&pci_lock);
    outl(CONFIG_ADDRESS, config_address(bus, slot, func, off));
    uint16_t port = (uint16_t)(CONFIG_DATA + (off & 3));
    uint32_t v = width == 4 ? inl(port) : width == 2 ? inw(port) : inb(port);
    spin_unlock_irqrestore(&pci_lock, fl);
    return v;
}

static void config_write(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, int width, uint32_t v)
{
    uint64_t fl = spin_lock_irqsave(&pci_lock);
    outl(CONFIG_ADDRESS, config_address(bus, slot, func, off));
    uint16_t port = (uint16_t)(CONFIG_DATA + (off & 3));
    if (width == 4)
        outl(port, v);
    else if (width == 2)
        outw(port, (uint16_t)v);
    else
        outb(port, (uint8_t)v);
    spin_unlock_irqrestore(&pci_lock, fl);
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
    return (uint8_t)config_read(d->bus, d->slot, d->func, off, 1);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
    return (uint16_t)config_read(d->bus, d->slot, d->func, off, 2);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
    return config_read(d->bus, d->slot, d->func, off, 4);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
    config_write(d->bus, d->slot, d->func, off, 2, v);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
    config_write(d->bus, d->slot, d->func, off, 4, v);
}

/* ---- BARs ---- */

static int bar_count(const struct pci_dev *d)
{
    switch (d->header_type & 0x7F) {
    case 0: return 6;
    case 1: return 2;           /* a bridge: the rest of its header is windows */
    default: return 0;
    }
}

/* A BAR's size is found by writing all ones and reading back which address
 * bits stuck at zero (PCI Local Bus Spec 3.0, 6.2.5.1). */
static void size_bars(struct pci_dev *d)
{
    int n = bar_count(d);
    uint16_t cmd = pci_read16(d, REG_COMMAND);
    /* While it holds all ones a decoding BAR would claim the top of the
     * address space: turn decoding off for the duration, with interrupts
     * off so nothing runs in between. */
    uint64_t fl = irq_save();
    pci_write16(d, REG_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
    for (int i = 0; i < n; i++) {
        uint8_t reg = (uint8_t)(REG_BAR0 + 4 * i);
        uint32_t orig = pci_read32(d, reg);
        pci_write32(d, reg, 0xFFFFFFFF);
        uint32_t probe = pci_read32(d, reg);
        pci_write32(d, reg, orig);
        if (!probe)
            continue;                               /* not implemented */
        struct pci_bar *b = &d->bar[i];
        if (orig & BAR_IO) {
            b->io = true;
            b->base = orig & ~3u;
            /* Bits above 15 may read as zero: ports are 16 bits on a PC. */
            b->size = (~(uint64_t)(probe & ~3u) + 1) & 0xFFFF;
            continue;
        }
        uint64_t base = orig & ~0xFu, mask = probe & ~0xFu;
        b->prefetchable = orig & BAR_MEM_PREFETCH;
        if ((orig & 6) == BAR_MEM_TYPE_64 && i + 1 < n) {
            uint8_t hreg = (uint8_t)(reg + 4);
            uint32_t orig_hi = pci_read32(d, hreg);
            pci_write32(d, hreg, 0xFFFFFFFF);
            uint32_t probe_hi = pci_read32(d, hreg);
            pci_write32(d, hreg, orig_hi);
            base |= (uint64_t)orig_hi << 32;
            mask |= (uint64_t)probe_hi << 32;
            b->is64 = true;
        } else {
            mask |= 0xFFFFFFFF00000000ul;
        }
        b->base = base;
        b->size = ~mask + 1;
        if (b->is64)
            i++;                                    /* the upper half is not a BAR of its own */
    }
    pci_write16(d, REG_COMMAND, cmd);
    irq_restore(fl);
}

/* Memory BARs are kept a page apart so that mapping one never maps another. */
static uint64_t footprint(const struct pci_bar *b)
{
    return b->io ? b->size : ALIGN_UP(b->size, PAGE_SIZE);
}

/* If [at, at+len) overlaps an assigned BAR of the same kind, the end of
 * that BAR; else 0. */
static uint64_t overlapping_bar_end(uint64_t at, uint64_t len, bool io)
{
    for (int f = 0; f < nfunctions; f++)
        for (int i = 0; i < PCI_NBARS; i++) {
            const struct pci_bar *b = &functions[f].bar[i];
            if (!b->size || !b->base || b->io != io)
                continue;
            if (at < b->base + footprint(b) && b->base < at + len)
                return b->base + footprint(b);
        }
    return 0;
}

/* First-fit in the window, naturally aligned (BARs only decode aligned
 * addresses), around every BAR already placed. 0 when the window is full. */
static uint64_t place_bar(const struct pci_bar *b)
{
    uint64_t lo = b->io ? IO_WINDOW_START : MEM_WINDOW_START;
    uint64_t hi = b->io ? IO_WINDOW_END : MEM_WINDOW_END;
    uint64_t len = footprint(b), align = len;
    for (uint64_t at = ALIGN_UP(lo, align); at + len <= hi;) {
        uint64_t end = overlapping_bar_end(at, len, b->io);
        if (!end)
            return at;
        at = ALIGN_UP(end, align);
    }
    return 0;
}

static void write_bar(struct pci_dev *d, int i, uint64_t base)
{
    uint8_t reg = (uint8_t)(REG_BAR0 + 4 * i);
    pci_write32(d, reg, (uint32_t)base);
    if (d->bar[i].is64)
        pci_write32(d, (uint8_t)(reg + 4), (uint32_t)(base >> 32));
    d->bar[i].base = base;
}

bool pci_enable(struct pci_dev *d)
{
    bool has[2] = { false, false }, placed[2] = { true, true };   /* [0] memory, [1] I/O */
    for (int i = 0; i < PCI_NBARS; i++) {
        struct pci_bar *b = &d->bar[i];
        if (!b->size)
            continue;
        if (!b->base) {
            uint64_t at = place_bar(b);
            if (at) {
                write_bar(d, i, at);
                kprintf("pci: %02x:%02x.%x BAR%d %s 0x%lx+0x%lx (assigned)\n", d->bus, d->slot,
                        d->func, i, b->io ? "io" : "mem", at, b->size);
            }
        }
        has[b->io] = true;
        placed[b->io] &= b->base != 0;
    }
    /* A BAR still at 0 must not decode: I/O address 0 is the DMA
     * controller's, memory address 0 is RAM. */
    uint16_t cmd = pci_read16(d, REG_COMMAND) | PCI_CMD_BUS_MASTER;
    if (has[0])
        cmd = placed[0] ? cmd | PCI_CMD_MEMORY : cmd & ~PCI_CMD_MEMORY;
    if (has[1])
        cmd = placed[1] ? cmd | PCI_CMD_IO : cmd & ~PCI_CMD_IO;
    pci_write16(d, REG_COMMAND, cmd);
    return placed[0];
}

void *pci_map_bar(struct pci_dev *d, int i)
{
    if (i < 0 || i >= PCI_NBARS)
        return NULL;
    struct pci_bar *b = &d->bar[i];
    if (b->io || !b->size || !b->base)
        return NULL;
    if (!d->bar_va[i])
        d->bar_va[i] = vmm_map_mmio(b->base, b->size);
    return d->bar_va[i];
}

/* ---- capabilities ---- */

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after)
{
    if (!(pci_read16(d, REG_STATUS) & STATUS_CAP_LIST))
        return 0;
    uint8_t off;
    if (after)
        off = pci_read8(d, (uint8_t)(after + 1));
    else
        off = pci_read8(d, (d->header_type & 0x7F) == 2 ? REG_CARDBUS_CAP_PTR : REG_CAP_PTR);
    /* The list lives above the 64-byte header; a bound on the walk keeps a
     * device with a looping list from hanging the kernel. */
    for (int hops = 0; off >= 0x40 && hops < 48; hops++) {
        off &= 0xFC;
        if (pci_read8(d, off) == id)
            return off;
        off = pci_read8(d, (uint8_t)(off + 1));
    }
    return 0;
}

/* ---- message-signalled interrupts ---- */

int pci_alloc_vectors(int n)
{
    uint64_t fl = spin_lock_irqsave(&pci_lock);
    int v = -1;
    if (n > 0 && next_msi_vector + n <= VEC_TIMER) {
        v = next_msi_vector;
        next_msi_vector += n;
    }
    spin_unlock_irqrestore(&pci_lock, fl);
    return v;
}

static uint32_t msi_address(void)
{
    /* We run on the boot CPU while drivers initialise. */
    return MSI_ADDRESS_BASE | (lapic_id() & 0xFF) << 12;
}

static bool enable_msix(struct pci_dev *d, uint8_t cap, int vector, int count)
{
    uint16_t ctrl = pci_read16(d, (uint8_t)(cap + MSIX_CTRL));
    uint32_t table = pci_read32(d, (uint8_t)(cap + MSIX_TABLE));
    int bir = table & 7, n = MIN(count, (int)(ctrl & MSIX_CTRL_TABLE_SIZE) + 1);
    uint64_t offset = table & ~7u;
    uint8_t *bar = bir < PCI_NBARS ? pci_map_bar(d, bir) : NULL;
    if (!bar || offset + (uint64_t)n * MSIX_ENTRY_SIZE > d->bar[bir].size)
        return false;
    /* Turn MSI-X on with the whole function masked, so that no entry can
     * fire while half written; entries past n stay masked (their reset
     * state). */
    pci_write16(d, (uint8_t)(cap + MSIX_CTRL), ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FUNC_MASK);
    for (int i = 0; i < n; i++) {
        volatile uint32_t *entry = (volatile uint32_t *)(bar + offset + (uint64_t)i * MSIX_ENTRY_SIZE);
        entry[0] = msi_address();
        entry[1] = 0;                               /* upper address */
        entry[2] = (uint32_t)(vector + i);          /* data: the vector */
        entry[3] = 0;                               /* vector control: unmasked */
    }
    pci_write16(d, REG_COMMAND, pci_read16(d, REG_COMMAND) | PCI_CMD_INTX_OFF);
    pci_write16(d, (uint8_t)(cap + MSIX_CTRL), (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FUNC_MASK);
    return true;
}

static void enable_msi(struct pci_dev *d, uint8_t cap, int vector)
{
    uint16_t ctrl = pci_read16(d, (uint8_t)(cap + MSI_CTRL));
    bool is64 = ctrl & MSI_CTRL_64BIT;
    uint8_t data_reg = (uint8_t)(cap + (is64 ? 12 : 8));
    pci_write32(d, (uint8_t)(cap + 4), msi_address());
    if (is64)
        pci_write32(d, (uint8_t)(cap + 8), 0);
    pci_write16(d, data_reg, (uint16_t)vector);
    if (ctrl & MSI_CTRL_MASKABLE)                   /* mask bits follow the data (+ padding) */
        pci_write32(d, (uint8_t)(cap + (is64 ? 16 : 12)), 0);
    pci_write16(d, REG_COMMAND, pci_read16(d, REG_COMMAND) | PCI_CMD_INTX_OFF);
    /* One message only (multiple message enable = 0): one vector. */
    pci_write16(d, (uint8_t)(cap + MSI_CTRL), (ctrl & ~MSI_CTRL_MME_MASK) | MSI_CTRL_ENABLE);
}

enum pci_irq_mode pci_enable_msi(struct pci_dev *d, int vector, int count)
{
    uint8_t cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
    if (cap && enable_msix(d, cap, vector, count))
        return PCI_IRQ_MSIX;
    cap = pci_find_cap(d, PCI_CAP_MSI, 0);
    if (cap) {
        enable_msi(d, cap, vector);
        return PCI_IRQ_MSI;
    }
    return PCI_IRQ_NONE;
}

/* ---- the scan ---- */

static void add_function(uint8_t bus, uint8_t slot, uint8_t func)
{
    if (nfunctions == MAX_FUNCTIONS) {
        kprintf("pci: more than %d functions; ignoring %02x:%02x.%x\n", MAX_FUNCTIONS, bus, slot, func);
        return;
    }
    struct pci_dev *d = &functions[nfunctions++];
    d->bus = bus;
    d->slot = slot;
    d->func = func;
    d->vendor = pci_read16(d, REG_VENDOR);
    d->device = pci_read16(d, REG_DEVICE);
    d->revision = pci_read8(d, REG_REVISION);
    d->prog_if = pci_read8(d, REG_PROG_IF);
    d->subclass = pci_read8(d, REG_SUBCLASS);
    d->class_code = pci_read8(d, REG_CLASS);
    d->header_type = pci_read8(d, REG_HEADER_TYPE);
    if ((d->header_type & 0x7F) == 0) {
        d->subsys_vendor = pci_read16(d, REG_SUBSYS_VENDOR);
        d->subsys_id = pci_read16(d, REG_SUBSYS_ID);
    }
    size_bars(d);
    kprintf("pci: %02x:%02x.%x %04x:%04x class %02x.%02x\n", bus, slot, func,
            d->vendor, d->device, d->class_code, d->subclass);
}

void pci_init(void)
{
    if (scanned)
        return;
    scanned = true;
    /* Every bus number, not just those reachable through bridges: simple,
     * and a bus number that nothing answers on costs 32 reads. */
    for (int bus = 0; bus < 256; bus++)
        for (uint8_t slot = 0; slot < 32; slot++) {
            if (config_read((uint8_t)bus, slot, 0, REG_VENDOR, 2) == NO_DEVICE)
                continue;
            /* Functions 1-7 exist only on a multi-function device; on
             * others they may echo function 0. */
            uint8_t header = (uint8_t)config_read((uint8_t)bus, slot, 0, REG_HEADER_TYPE, 1);
            uint8_t nfunc = header & HEADER_MULTI_FUNC ? 8 : 1;
            for (uint8_t func = 0; func < nfunc; func++)
                if (config_read((uint8_t)bus, slot, func, REG_VENDOR, 2) != NO_DEVICE)
                    add_function((uint8_t)bus, slot, func);
        }
    kprintf("pci: %d function(s)\n", nfunctions);
}

int pci_count(void) { return nfunctions; }

struct pci_dev *pci_at(int i)
{
    return i >= 0 && i < nfunctions ? &functions[i] : NULL;
}

/* Index just past `from` in the table (0 for NULL). */
static int start_after(const struct pci_dev *from)
{
    return from ? (int)(from - functions) + 1 : 0;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *from)
{
    for (int i = start_after(from); i < nfunctions; i++)
        if (functions[i].vendor == vendor && functions[i].device == device)
            return &functions[i];
    return NULL;
}

struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, struct pci_dev *from)
{
    for (int i = start_after(from); i < nfunctions; i++)
        if (functions[i].class_code == class_code && functions[i].subclass == subclass)
            return &functions[i];
    return NULL;
}
