/* drivers/pci_test.c - in-kernel tests of the PCI scan (suite pci), on the
 * machine the harness boots: QEMU's pc (i440FX host bridge at 00:00.0, the
 * multi-function PIIX3 at 00:01) with a virtio-blk disk attached. */
#include "pci.h"
#include "../ktest/ktest.h"

#define VIRTIO_VENDOR 0x1AF4

static struct pci_dev *virtio_blk(void)
{
    struct pci_dev *d = pci_find(VIRTIO_VENDOR, 0x1042, NULL);
    return d ? d : pci_find(VIRTIO_VENDOR, 0x1001, NULL);
}

KTEST(pci, host_bridge_first)
{
    pci_init();
    KT_ASSERT(t, pci_count() > 0);
    struct pci_dev *d = pci_at(0);
    KT_EXPECT(t, d->bus == 0 && d->slot == 0 && d->func == 0);
    KT_EXPECT(t, pci_find_class(0x06, 0x00, NULL) == d);  /* bridge, host */
    KT_EXPECT(t, pci_at(pci_count()) == NULL);
}

KTEST(pci, functions_past_zero_found)
{
    /* The PIIX3 is one device with several functions (ISA bridge, IDE,
     * power management): a scan that stops at function 0 misses them. */
    int beyond_zero = 0;
    for (int i = 0; i < pci_count(); i++)
        beyond_zero += pci_at(i)->func != 0;
    KT_EXPECT(t, beyond_zero >= 2);
    KT_EXPECT(t, pci_find_class(0x01, 0x01, NULL) != NULL);  /* its IDE function */
}

KTEST(pci, bars_sized_and_placed)
{
    struct pci_dev *d = virtio_blk();
    KT_ASSERT(t, d != NULL);
    int mem = 0, mem64 = 0;
    for (int i = 0; i < PCI_NBARS; i++) {
        const struct pci_bar *b = &d->bar[i];
        if (!b->size)
            continue;
        /* Sizes are powers of two, and a BAR decodes an aligned window. */
        KT_EXPECT_EQ(t, b->size & (b->size - 1), 0);
        KT_EXPECT(t, b->base != 0);                 /* the driver enabled it */
        KT_EXPECT_EQ(t, b->base & (b->size - 1), 0);
        mem += !b->io;
        mem64 += b->is64;
        if (b->is64)
            KT_EXPECT(t, i + 1 < PCI_NBARS && d->bar[i + 1].size == 0);  /* its upper half */
    }
    KT_EXPECT(t, mem >= 2);             /* the MSI-X table and the virtio registers */
    KT_EXPECT(t, mem64 >= 1);           /* QEMU puts the virtio registers in a 64-bit BAR */
    KT_EXPECT(t, pci_map_bar(d, 6) == NULL);
}

KTEST(pci, capability_list_walked)
{
    struct pci_dev *d = virtio_blk();
    KT_ASSERT(t, d != NULL);
    KT_EXPECT(t, pci_find_cap(d, PCI_CAP_MSIX, 0) != 0);
    /* virtio 1.x: one vendor capability per register block (common,
     * notify, ISR, device, PCI access). */
    int vendor = 0;
    for (uint8_t c = pci_find_cap(d, PCI_CAP_VENDOR, 0); c; c = pci_find_cap(d, PCI_CAP_VENDOR, c))
        vendor++;
    KT_EXPECT(t, vendor >= 4);
    KT_EXPECT_EQ(t, pci_find_cap(d, 0xEE, 0), 0);   /* no such capability */
}
