/* drivers/block.h - the disk, as the rest of the kernel sees it: an array
 * of 512-byte sectors that can be read, written and flushed.
 *
 * Behind it is one virtio-blk device (virtio_blk.c). Any number of callers
 * may have requests outstanding at once; each call returns when its own
 * requests are complete. A process waits asleep (uninterruptibly: the
 * device may still be transferring into its buffer); code running before
 * processes exist, or the idle thread, waits with interrupts on.
 *
 * Durability: a write that has returned is in the device's cache, which
 * may lose it on power failure; after block_flush() returns 0, every write
 * that had returned before block_flush() was called is on stable storage.
 *
 * Buffers are kernel virtual addresses (the direct map, the kernel image,
 * kernel stacks), any alignment, and need not be physically contiguous;
 * they must stay mapped until the call returns. */
#pragma once
#include "../lib/types.h"

#define SECTOR_SIZE 512

/* Find and set up the disk; prints one "blk: ..." line saying what it found. */
void     block_init(void);
bool     block_present(void);
uint64_t block_sectors(void);           /* capacity (of the window); 0 without a disk */
/* From now on, sector s means the disk's sector first + s, and only count
 * sectors exist (a partition, for the file system mounted from it); count
 * 0: the whole disk again. Only with no request in flight. 0 or -EINVAL. */
int      block_set_window(uint64_t first, uint64_t count);
/* Partition n (1-128) of the GUID partition table on the whole disk (UEFI
 * spec 2.x, 5.3): its first sector and sector count; -ENXIO if there is
 * no such partition, -EINVAL for a table that does not hold together. */
int      block_partition(int n, uint64_t *first, uint64_t *count);

/* 0 on success; -EINVAL for a NULL buffer, count 0 or sectors past the
 * end, -EFAULT for a buffer that is not mapped kernel memory (or, for a
 * read, not writable), -ENODEV without a disk, -EROFS writing a read-only
 * disk, -EIO if the device failed the request. Nothing is transferred
 * when the arguments are refused. */
int      block_read(uint64_t sector, void *buf, size_t count);
int      block_write(uint64_t sector, const void *buf, size_t count);
/* Many transfers of one kind in one call: each ios[i] moves count sectors
 * between sector and buf. They are all in flight together (so they are
 * unordered with respect to each other, like the requests of concurrent
 * callers), blocks adjacent on the disk merged into one request; the call
 * returns when every request sent is complete: 0, or the first error (after
 * which the rest are not sent). The array is sorted by sector in place. Arguments are
 * checked as for block_read/block_write, all before anything is sent. */
struct block_io {
    uint64_t sector;
    void *buf;
    size_t count;
};
int      block_read_batch(struct block_io *ios, int n);
int      block_write_batch(struct block_io *ios, int n);
/* Returns once the device has reported the cache flush complete: 0, or
 * -EIO (-ENODEV without a disk). */
int      block_flush(void);

/* Counters since boot, for tests and diagnostics. */
struct block_stats {
    uint64_t requests;          /* submitted to the device (a large call is split) */
    uint64_t completions;       /* taken off the used ring by the interrupt handler */
    uint64_t interrupts;
    uint64_t flushes;
    uint64_t errors;            /* requests the device failed */
    uint64_t max_in_flight;     /* most requests outstanding at once */
};
void     block_get_stats(struct block_stats *st);
