/* drivers/blk_test.c - in-kernel tests of the disk (suite blk), through
 * block.h only. The harness always attaches a disk and says its size on
 * the command line (blk_sectors=N): without either, every case fails.
 *
 * The cases write a known pattern (pattern_byte) to fixed sectors, and
 * nowhere else, so that tests/test_virtio_blk.py can check the image file
 * afterwards. Sectors written: 64-72, 300-315, 320-321, 4096-6143, and the
 * last one. */
#include "block.h"
#include "../ktest/ktest.h"
#include "../lib/cmdline.h"
#include "../lib/errno.h"
#include "../lib/string.h"
#include "../mm/mm.h"

#define FLUSHED_FIRST   64      /* 8 sectors written, then flushed ... */
#define FLUSHED_COUNT   8
#define AFTER_FLUSH     72      /* ... then this one: the write log must show the FLUSH between */
#define CROSSING_FIRST  300     /* 16 sectors from a buffer spanning three pages */
#define STACK_FIRST     320     /* 2 sectors from a kernel-stack buffer */
#define LARGE_FIRST     4096    /* 2048 sectors (1 MiB) in one call */
#define LARGE_COUNT     2048

/* Byte i of sector s as these tests write it (the harness computes the
 * same): the sector number, a tag, then bytes that differ per sector. */
static uint8_t pattern_byte(uint64_t s, unsigned i)
{
    if (i < 8)
        return (uint8_t)(s >> (8 * i));
    if (i < 16)
        return (uint8_t)"vigilblk"[i - 8];
    return (uint8_t)(s * 151 + i * 7 + (i >> 8) * 3 + 0x5A);
}

static void fill_pattern(uint8_t *buf, uint64_t first, size_t count)
{
    for (size_t s = 0; s < count; s++)
        for (unsigned i = 0; i < SECTOR_SIZE; i++)
            buf[s * SECTOR_SIZE + i] = pattern_byte(first + s, i);
}

/* The first sector in [first, first+count) whose bytes in buf differ from
 * the pattern, or -1. */
static int64_t first_mismatch(const uint8_t *buf, uint64_t first, size_t count)
{
    for (size_t s = 0; s < count; s++)
        for (unsigned i = 0; i < SECTOR_SIZE; i++)
            if (buf[s * SECTOR_SIZE + i] != pattern_byte(first + s, i))
                return (int64_t)(first + s);
    return -1;
}

/* The capacity the harness announced, or 0. */
static uint64_t announced_sectors(void)
{
    char arg[24];
    uint64_t n = 0;
    if (!cmdline_get("blk_sectors", arg, sizeof(arg)))
        return 0;
    for (const char *p = arg; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    return n;
}

KTEST(blk, capacity_matches_cmdline)
{
    uint64_t want = announced_sectors();
    KT_ASSERT(t, want != 0);                   /* the harness passes blk_sectors=N */
    KT_ASSERT(t, block_present());
    KT_EXPECT_EQ(t, block_sectors(), want);
}

KTEST(blk, write_flush_read_back)
{
    KT_ASSERT(t, block_present());
    uint8_t *buf = kmalloc((FLUSHED_COUNT + 1) * SECTOR_SIZE);
    KT_ASSERT(t, buf != NULL);
    struct block_stats before, after;
    block_get_stats(&before);

    fill_pattern(buf, FLUSHED_FIRST, FLUSHED_COUNT);
    KT_EXPECT_EQ(t, block_write(FLUSHED_FIRST, buf, FLUSHED_COUNT), 0);
    KT_EXPECT_EQ(t, block_flush(), 0);
    fill_pattern(buf, AFTER_FLUSH, 1);
    KT_EXPECT_EQ(t, block_write(AFTER_FLUSH, buf, 1), 0);

    memset(buf, 0, (FLUSHED_COUNT + 1) * SECTOR_SIZE);
    KT_EXPECT_EQ(t, block_read(FLUSHED_FIRST, buf, FLUSHED_COUNT + 1), 0);
    KT_EXPECT_EQ(t, first_mismatch(buf, FLUSHED_FIRST, FLUSHED_COUNT + 1), -1);

    block_get_stats(&after);
    KT_EXPECT_EQ(t, after.flushes, before.flushes + 1);
    KT_EXPECT_EQ(t, after.errors, before.errors);
    kfree(buf);
}

KTEST(blk, request_crossing_pages)
{
    KT_ASSERT(t, block_present());
    /* 16 sectors (8 KiB) starting 1000 bytes before a page ends: three
     * pages, and not even sector aligned in memory. */
    uint64_t pa = pmm_alloc_contig(3), pb = pmm_alloc_contig(3);
    KT_ASSERT(t, pa && pb);
    uint8_t *out = (uint8_t *)P2V(pa) + PAGE_SIZE - 1000;
    uint8_t *in = (uint8_t *)P2V(pb) + PAGE_SIZE - 1000;
    fill_pattern(out, CROSSING_FIRST, 16);
    memset(in, 0, 16 * SECTOR_SIZE);
    KT_EXPECT_EQ(t, block_write(CROSSING_FIRST, out, 16), 0);
    KT_EXPECT_EQ(t, block_read(CROSSING_FIRST, in, 16), 0);
    KT_EXPECT_EQ(t, first_mismatch(in, CROSSING_FIRST, 16), -1);
    pmm_free_contig(pa, 3);
    pmm_free_contig(pb, 3);
}

KTEST(blk, stack_buffers)
{
    KT_ASSERT(t, block_present());
    /* Kernel stacks are not in the direct map (V2P of them is wrong): the
     * driver must translate through the page tables. */
    uint8_t out[2 * SECTOR_SIZE], in[2 * SECTOR_SIZE];
    fill_pattern(out, STACK_FIRST, 2);
    memset(in, 0, sizeof(in));
    KT_EXPECT_EQ(t, block_write(STACK_FIRST, out, 2), 0);
    KT_EXPECT_EQ(t, block_read(STACK_FIRST, in, 2), 0);
    KT_EXPECT_EQ(t, first_mismatch(in, STACK_FIRST, 2), -1);
}

KTEST(blk, large_request_keeps_several_in_flight)
{
    KT_ASSERT(t, block_present());
    KT_ASSERT(t, block_sectors() >= LARGE_FIRST + LARGE_COUNT);
    size_t pages = LARGE_COUNT * SECTOR_SIZE / PAGE_SIZE;
    uint64_t pa = pmm_alloc_contig(pages), pb = pmm_alloc_contig(pages);
    KT_ASSERT(t, pa && pb);
    uint8_t *out = P2V(pa), *in = P2V(pb);
    fill_pattern(out, LARGE_FIRST, LARGE_COUNT);
    memset(in, 0, LARGE_COUNT * SECTOR_SIZE);
    struct block_stats before, after;
    block_get_stats(&before);
    KT_EXPECT_EQ(t, block_write(LARGE_FIRST, out, LARGE_COUNT), 0);
    KT_EXPECT_EQ(t, block_read(LARGE_FIRST, in, LARGE_COUNT), 0);
    /* out holds the pattern; memcmp is the cheaper check (this test is
     * slow where the kernel's instructions are emulated, as under PVM). */
    KT_EXPECT(t, memcmp(in, out, LARGE_COUNT * SECTOR_SIZE) == 0);
    block_get_stats(&after);
    /* 1 MiB is more than one request (256 page pieces, 32 to a request),
     * and 8 requests in flight need more descriptors than the ring has:
     * split, submitted together, completed by interrupts. */
    KT_EXPECT(t, after.requests - before.requests > 2);
    KT_EXPECT(t, after.max_in_flight > 1);
    KT_EXPECT(t, after.interrupts > before.interrupts);
    KT_EXPECT_EQ(t, after.completions - before.completions, after.requests - before.requests);
    pmm_free_contig(pa, pages);
    pmm_free_contig(pb, pages);
}

KTEST(blk, last_sector_and_past_the_end)
{
    KT_ASSERT(t, block_present());
    uint64_t last = block_sectors() - 1;
    uint8_t *buf = kmalloc(2 * SECTOR_SIZE);
    KT_ASSERT(t, buf != NULL);
    fill_pattern(buf, last, 1);
    KT_EXPECT_EQ(t, block_write(last, buf, 1), 0);
    memset(buf, 0, 2 * SECTOR_SIZE);
    KT_EXPECT_EQ(t, block_read(last, buf, 1), 0);
    KT_EXPECT_EQ(t, first_mismatch(buf, last, 1), -1);

    KT_EXPECT_EQ(t, block_read(last + 1, buf, 1), -EINVAL);
    KT_EXPECT_EQ(t, block_read(last, buf, 2), -EINVAL);
    KT_EXPECT_EQ(t, block_write(last + 1, buf, 1), -EINVAL);
    KT_EXPECT_EQ(t, block_write(last, buf, 2), -EINVAL);
    KT_EXPECT_EQ(t, block_read(~0ul, buf, 1), -EINVAL);
    KT_EXPECT_EQ(t, block_read(1, buf, ~0ul), -EINVAL);   /* count * 512 would wrap */
    kfree(buf);
}

KTEST(blk, bad_arguments_are_refused)
{
    KT_ASSERT(t, block_present());
    uint8_t *buf = kmalloc(SECTOR_SIZE);
    KT_ASSERT(t, buf != NULL);
    struct block_stats before, after;
    block_get_stats(&before);
    KT_EXPECT_EQ(t, block_read(0, NULL, 1), -EINVAL);
    KT_EXPECT_EQ(t, block_write(0, NULL, 1), -EINVAL);
    KT_EXPECT_EQ(t, block_read(0, buf, 0), -EINVAL);
    KT_EXPECT_EQ(t, block_write(0, buf, 0), -EINVAL);
    /* Not kernel RAM: a user address, the MMIO area, read-only kernel text. */
    KT_EXPECT_EQ(t, block_read(0, (void *)0x400000, 1), -EFAULT);
    KT_EXPECT_EQ(t, block_write(0, (void *)0x400000, 1), -EFAULT);
    KT_EXPECT_EQ(t, block_read(0, (void *)MMIO_BASE, 1), -EFAULT);
    KT_EXPECT_EQ(t, block_read(0, (void *)(uintptr_t)pattern_byte, 1), -EFAULT);
    /* A buffer running off the end of the address space. */
    KT_EXPECT_EQ(t, block_read(0, (void *)(~0ul - 100), 1), -EFAULT);
    block_get_stats(&after);
    KT_EXPECT_EQ(t, after.requests, before.requests);      /* nothing reached the device */
    kfree(buf);
}
