/* drivers/gpt.c - partitions: /dev/vdaN is entry N of the disk's GUID
 * partition table (UEFI specification, "GUID Partition Table (GPT) Disk
 * Layout"). Why Vigil has them: so one disk can carry many file systems
 * (`./vigil fsfuzz` puts a hundred mutated images on one disk and mounts
 * them in turn in one boot), and because that is how Linux names them.
 *
 * The table is data from the disk, so it is read as untrusted: the header
 * at LBA 1 must say "EFI PART", its entry array must lie on the disk with
 * entries of a sane size, and the entry's range must lie inside the usable
 * area the header declares. The CRCs are not checked (a bad table is
 * refused by its bounds; a good one with a stale CRC still mounts, as
 * Linux's `gpt=` forced mode would). */
#include "block.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../mm/mm.h"

#define GPT_ENTRIES_MAX 128

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get32le(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int block_partition(int n, uint64_t *first, uint64_t *count)
{
    if (n < 1 || n > GPT_ENTRIES_MAX)
        return -ENXIO;
    uint8_t *s = kmalloc(SECTOR_SIZE);
    if (!s)
        return -ENOMEM;
    uint64_t disk = block_sectors();
    int r = block_read(1, s, 1);
    if (r)
        goto out;
    r = -EINVAL;
    if (memcmp(s, "EFI PART", 8))
        goto out;
    uint64_t first_usable = get64(s + 40), last_usable = get64(s + 48);
    uint64_t array = get64(s + 72);
    uint32_t entries = get32le(s + 80), esize = get32le(s + 84);
    /* INVARIANT(kernel memory safety): every number from the header is
     * checked before it locates anything. */
    if (esize < 128 || esize > SECTOR_SIZE || SECTOR_SIZE % esize || last_usable >= disk ||
        first_usable > last_usable || array < 2 || array >= disk)
        goto out;
    if ((uint32_t)n > entries) {
        r = -ENXIO;
        goto out;
    }
    uint64_t byte = (uint64_t)(n - 1) * esize;
    if (array + byte / SECTOR_SIZE >= disk || (r = block_read(array + byte / SECTOR_SIZE, s, 1)))
        goto out;
    const uint8_t *e = s + byte % SECTOR_SIZE;
    static const uint8_t unused[16];
    uint64_t lo = get64(e + 32), hi = get64(e + 40);
    if (!memcmp(e, unused, 16)) {
        r = -ENXIO;                             /* an empty slot */
    } else if (lo < first_usable || hi > last_usable || lo > hi) {
        r = -EINVAL;
    } else {
        *first = lo;
        *count = hi - lo + 1;
        r = 0;
    }
out:
    kfree(s);
    return r;
}
