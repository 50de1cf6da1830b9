/* drivers/pci.h - the PCI bus: what a device driver may ask of it.
 *
 * pci_init() scans every bus, device and function once through
 * configuration mechanism #1 (I/O ports 0xCF8/0xCFC) and keeps a table of
 * the functions it found, with their base address registers (BARs) sized.
 * A driver then finds its device, calls pci_enable() (which gives any BAR
 * the firmware left unassigned an address, then turns on decoding and bus
 * mastering), maps the memory BARs it needs, and asks for its interrupts
 * to arrive as messages (MSI-X, else MSI) on a vector of its own. */
#pragma once
#include "../lib/types.h"

/* Command register bits (PCI Local Bus Spec 3.0, 6.2.2). */
#define PCI_CMD_IO          (1u << 0)
#define PCI_CMD_MEMORY      (1u << 1)
#define PCI_CMD_BUS_MASTER  (1u << 2)
#define PCI_CMD_INTX_OFF    (1u << 10)

/* Capability IDs (PCI Local Bus Spec 3.0, appendix H). */
#define PCI_CAP_MSI         0x05
#define PCI_CAP_VENDOR      0x09
#define PCI_CAP_MSIX        0x11

#define PCI_NBARS 6

struct pci_bar {
    uint64_t base;              /* bus (= physical) address or I/O port; 0: unassigned */
    uint64_t size;              /* 0: the BAR is not implemented */
    bool io;                    /* I/O space, else memory space */
    bool is64;                  /* a 64-bit memory BAR (it uses the next slot too) */
    bool prefetchable;
};

struct pci_dev {
    uint8_t bus, slot, func;
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;        /* 0: device, 1: PCI-to-PCI bridge, 2: CardBus bridge */
    struct pci_bar bar[PCI_NBARS];
    void *bar_va[PCI_NBARS];    /* memory BARs already mapped by pci_map_bar() */
};

/* Scan the buses (only the first call does anything). */
void pci_init(void);
int  pci_count(void);
struct pci_dev *pci_at(int i);
/* The next function after `from` (NULL: the first) matching vendor:device,
 * or class/subclass; NULL when there is none. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *from);
struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, struct pci_dev *from);

/* Configuration space of one function; off is a byte offset (< 256),
 * naturally aligned for its width. */
uint8_t  pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void     pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void     pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Give unassigned BARs an address, then enable memory and I/O decoding
 * (each only if every BAR of that kind has an address) and bus mastering.
 * False if a memory BAR could not be placed. */
bool pci_enable(struct pci_dev *d);
/* A memory BAR mapped uncached into the kernel's MMIO area (mapped once,
 * later calls return the same address); NULL for an I/O, unimplemented or
 * unassigned BAR. */
void *pci_map_bar(struct pci_dev *d, int i);

/* Offset in configuration space of the first capability with this ID
 * after the one at `after` (0: from the start of the list); 0 if none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after);

/* Interrupt vectors for message-signalled interrupts come from
 * [VEC_MSI_BASE, VEC_TIMER); -1 when they have run out. */
int pci_alloc_vectors(int n);

enum pci_irq_mode { PCI_IRQ_NONE, PCI_IRQ_MSI, PCI_IRQ_MSIX };
/* Have the device signal its interrupts to the boot CPU's local APIC.
 * MSI-X (preferred): table entries 0..n-1 deliver vectors vector..vector+n-1,
 * n = min(count, table size). MSI: one message, delivering `vector`. Legacy
 * INTx is turned off once either is on. Register the handlers with
 * trap_register() first. PCI_IRQ_NONE: the device has neither capability
 * (or its MSI-X table is unreachable); nothing was changed. */
enum pci_irq_mode pci_enable_msi(struct pci_dev *d, int vector, int count);
