/* fs/ext2_test.c - in-kernel tests of ext2's pure parts (suites ext2map,
 * ext2dir and ext2xattr), through ext2_internal.h: no disk, no mounted
 * file system.
 *
 * The expectations come from the ext2 layout as the ext4 disk-layout
 * documentation describes it, written out here rather than computed with
 * the code's own helpers:
 *   i_block[0..11] point at the first 12 blocks of a file; i_block[12] at a
 *   block of B/4 pointers (B: the block size) to the next B/4; i_block[13]
 *   at a block of pointers to such blocks ((B/4)^2 more); i_block[14] one
 *   level deeper ((B/4)^3 more); nothing beyond.
 *   A directory entry: le32 inode, le16 rec_len, u8 name_len, u8 file type,
 *   the name; rec_len a multiple of 4, the records of a block chained by
 *   rec_len from its start to its very end. */
#include "ext2_internal.h"
#include "../ktest/ktest.h"
#include "../lib/errno.h"
#include "../lib/string.h"
#include "../mm/mm.h"

/* ---- ext2map: logical block -> the path through i_block ---- */

struct path_case {
    uint64_t lblk;
    int depth;                  /* or -EFBIG */
    unsigned slot;
    uint64_t idx[3];
};

static void check_paths(struct ktest_ctx *t, uint64_t per, const struct path_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned slot = 99;
        uint64_t idx[3] = { ~0ul, ~0ul, ~0ul };
        int depth = ext2_block_path(c[i].lblk, per, &slot, idx);
        bool ok = depth == c[i].depth && (depth < 0 || slot == c[i].slot);
        for (int l = 0; ok && l < depth; l++)
            ok = idx[l] == c[i].idx[l];
        if (!ok)
            ktest_fail(t, __FILE__, __LINE__,
                       "%lu pointers a block, block %lu: depth %d slot %u [%lu %lu %lu], want depth %d slot %u [%lu %lu %lu]",
                       per, c[i].lblk, depth, slot, depth > 0 ? idx[0] : 0, depth > 1 ? idx[1] : 0,
                       depth > 2 ? idx[2] : 0, c[i].depth, c[i].slot, c[i].idx[0], c[i].idx[1], c[i].idx[2]);
    }
}

KTEST(ext2map, boundaries_with_1k_blocks)
{
    /* 256 pointers a block: direct 0-11, indirect 12-267, double 268-65803,
     * triple 65804-16843019. */
    static const struct path_case c[] = {
        { 0, 0, 0, { 0 } },
        { 11, 0, 11, { 0 } },
        { 12, 1, 12, { 0 } },
        { 12 + 255, 1, 12, { 255 } },
        { 12 + 256, 2, 13, { 0, 0 } },
        { 12 + 256 + 255, 2, 13, { 0, 255 } },
        { 12 + 256 + 256, 2, 13, { 1, 0 } },
        { 12 + 256 + 65536 - 1, 2, 13, { 255, 255 } },
        { 12 + 256 + 65536, 3, 14, { 0, 0, 0 } },
        { 12 + 256 + 65536 + 255, 3, 14, { 0, 0, 255 } },
        { 12 + 256 + 65536 + 256, 3, 14, { 0, 1, 0 } },
        { 12 + 256 + 65536 + 65536, 3, 14, { 1, 0, 0 } },
        { 12 + 256 + 65536 + 16777216 - 1, 3, 14, { 255, 255, 255 } },
        { 12 + 256 + 65536 + 16777216, -EFBIG, 0, { 0 } },
        { 1ul << 40, -EFBIG, 0, { 0 } },
        { ~0ul, -EFBIG, 0, { 0 } },
    };
    check_paths(t, 256, c, ARRAY_SIZE(c));
}

KTEST(ext2map, boundaries_with_4k_blocks)
{
    /* 1024 pointers a block: indirect 12-1035, double 1036-1049611, triple
     * 1049612-1074791435. */
    static const struct path_case c[] = {
        { 11, 0, 11, { 0 } },
        { 12, 1, 12, { 0 } },
        { 12 + 1023, 1, 12, { 1023 } },
        { 12 + 1024, 2, 13, { 0, 0 } },
        { 12 + 1024 + 1024, 2, 13, { 1, 0 } },
        { 12 + 1024 + 1048576 - 1, 2, 13, { 1023, 1023 } },
        { 12 + 1024 + 1048576, 3, 14, { 0, 0, 0 } },
        { 12 + 1024 + 1048576 + 1024, 3, 14, { 0, 1, 0 } },
        { 12 + 1024 + 1048576 + 1048576, 3, 14, { 1, 0, 0 } },
        { 12 + 1024 + 1048576 + 1073741824ul - 1, 3, 14, { 1023, 1023, 1023 } },
        { 12 + 1024 + 1048576 + 1073741824ul, -EFBIG, 0, { 0 } },
    };
    check_paths(t, 1024, c, ARRAY_SIZE(c));
}

KTEST(ext2map, every_block_has_its_own_path)
{
    /* With a small tree (4 pointers a block, as if blocks were 16 bytes),
     * walk every block the tree can hold: each path is new, and the paths
     * come in order (slot, then the indices: as lblk counts up). */
    uint64_t per = 4, last = 12 + 4 + 16 + 64;
    unsigned pslot = 0;
    uint64_t pidx[3] = { 0 };
    int pdepth = -1;
    for (uint64_t lblk = 0; lblk < last; lblk++) {
        unsigned slot;
        uint64_t idx[3];
        int depth = ext2_block_path(lblk, per, &slot, idx);
        KT_ASSERT(t, depth >= 0 && depth <= 3);
        KT_EXPECT_EQ(t, slot, depth == 0 ? lblk : 11u + (unsigned)depth);
        for (int l = 0; l < depth; l++)
            KT_EXPECT(t, idx[l] < per);
        if (lblk) {
            /* Strictly after the previous path, compared as (depth, slot, idx...). */
            bool after = depth > pdepth || (depth == pdepth && slot > pslot);
            if (depth == pdepth && slot == pslot)
                for (int l = 0; l < depth; l++)
                    if (idx[l] != pidx[l]) {
                        after = idx[l] > pidx[l];
                        break;
                    }
            KT_EXPECT(t, after);
        }
        pdepth = depth, pslot = slot;
        memcpy(pidx, idx, sizeof(pidx));
    }
    unsigned slot;
    uint64_t idx[3];
    KT_EXPECT_EQ(t, ext2_block_path(last, per, &slot, idx), -EFBIG);
}

/* ---- ext2dir: directory entries in a block ---- */

#define BS 1024

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The records of a block chain from its start to its very end. */
static int chain_ok(const uint8_t *b, uint32_t bsize)
{
    uint32_t at = 0;
    int n = 0;
    while (at < bsize) {
        uint16_t rec = le16(b + at + 4);
        if (rec < 8 || rec % 4 || at + rec > bsize || b[at + 6] + 8u > rec)
            return -1;
        at += rec;
        n++;
    }
    return at == bsize ? n : -1;
}

/* A block as mkdir makes it: "." (12 bytes) and ".." (the rest). */
static void dot_dotdot(uint8_t *b, uint32_t self, uint32_t parent)
{
    memset(b, 0, BS);
    uint16_t r1 = 12, r2 = BS - 12;
    memcpy(b, &self, 4);
    memcpy(b + 4, &r1, 2);
    b[6] = 1, b[7] = 2, b[8] = '.';
    memcpy(b + 12, &parent, 4);
    memcpy(b + 16, &r2, 2);
    b[18] = 2, b[19] = 2, b[20] = '.', b[21] = '.';
}

KTEST(ext2dir, rec_len_is_header_and_name_rounded_to_4)
{
    KT_EXPECT_EQ(t, ext2_rec_len(1), 12);
    KT_EXPECT_EQ(t, ext2_rec_len(2), 12);
    KT_EXPECT_EQ(t, ext2_rec_len(4), 12);
    KT_EXPECT_EQ(t, ext2_rec_len(5), 16);
    KT_EXPECT_EQ(t, ext2_rec_len(8), 16);
    KT_EXPECT_EQ(t, ext2_rec_len(9), 20);
    KT_EXPECT_EQ(t, ext2_rec_len(255), 264);
}

KTEST(ext2dir, a_new_block_holds_one_entry_to_its_end)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    memset(b, 0xee, BS);
    ext2_dirblock_init(b, BS, "hello", 5, 0x01020304, 1);
    static const uint8_t want[13] = { 0x04, 0x03, 0x02, 0x01, 0x00, 0x04, 5, 1, 'h', 'e', 'l', 'l', 'o' };
    KT_EXPECT(t, memcmp(b, want, sizeof(want)) == 0);
    bool rest_zero = true;
    for (int i = sizeof(want); i < BS; i++)
        rest_zero &= b[i] == 0;
    KT_EXPECT(t, rest_zero);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 1);
    kfree(b);
}

KTEST(ext2dir, an_entry_goes_into_the_slack_of_the_last)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    dot_dotdot(b, 11, 2);
    uint16_t bad = 0;
    /* ".." shrinks to its 12 bytes; the new entry takes the other 1000. */
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "hello", 5, 0x01020304, 1, &bad), 1);
    KT_EXPECT_EQ(t, le16(b + 4), 12);           /* "." untouched */
    KT_EXPECT_EQ(t, le32(b + 12), 2);
    KT_EXPECT_EQ(t, le16(b + 16), 12);
    static const uint8_t want[13] = { 0x04, 0x03, 0x02, 0x01, 0xe8, 0x03, 5, 1, 'h', 'e', 'l', 'l', 'o' };
    KT_EXPECT(t, memcmp(b + 24, want, sizeof(want)) == 0);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 3);
    /* Next: "hello" shrinks to 16, "dir" (a directory, type 2) gets 984. */
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "dir", 3, 77, 2, &bad), 1);
    KT_EXPECT_EQ(t, le16(b + 24 + 4), 16);
    KT_EXPECT_EQ(t, le32(b + 40), 77);
    KT_EXPECT_EQ(t, le16(b + 44), 984);
    KT_EXPECT_EQ(t, b[46], 3);
    KT_EXPECT_EQ(t, b[47], 2);
    KT_EXPECT(t, memcmp(b + 48, "dir", 3) == 0);
    KT_EXPECT_EQ(t, 40 + le16(b + 44), BS);     /* the last record reaches the end */
    KT_EXPECT_EQ(t, chain_ok(b, BS), 4);
    kfree(b);
}

KTEST(ext2dir, a_block_fills_exactly_then_refuses)
{
    /* 8-byte names need 16 bytes: 64 of them fill 1 KiB exactly, the last
     * one in a record of exactly its size; the 65th finds no room and the
     * block is left as it was. */
    uint8_t *b = kmalloc(BS), *copy = kmalloc(BS);
    KT_ASSERT(t, b && copy);
    char name[9] = "name0000";
    ext2_dirblock_init(b, BS, name, 8, 100, 1);
    uint16_t bad;
    for (int i = 1; i < 64; i++) {
        name[6] = (char)('0' + i / 10), name[7] = (char)('0' + i % 10);
        KT_ASSERT(t, ext2_dirblock_add(b, BS, name, 8, 100 + (uint32_t)i, 1, &bad) == 1);
    }
    KT_EXPECT_EQ(t, chain_ok(b, BS), 64);
    for (int i = 0; i < 64; i++) {
        KT_EXPECT_EQ(t, le16(b + 16 * i + 4), 16);
        KT_EXPECT_EQ(t, le32(b + 16 * i), 100 + (uint32_t)i);
    }
    memcpy(copy, b, BS);
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "x", 1, 999, 1, &bad), 0);
    KT_EXPECT(t, memcmp(copy, b, BS) == 0);
    kfree(b);
    kfree(copy);
}

KTEST(ext2dir, an_unused_record_is_taken_whole)
{
    /* A removed first entry keeps its record with inode 0: a name that fits
     * takes the whole record (nothing before it to keep), and the entries
     * after it stay. */
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    ext2_dirblock_init(b, BS, "a", 1, 5, 1);
    uint16_t bad;
    KT_ASSERT(t, ext2_dirblock_add(b, BS, "bb", 2, 6, 1, &bad) == 1);     /* "a" 12, "bb" 1012 */
    uint16_t r24 = 24;
    memcpy(b + 4, &r24, 2);                     /* "a" removed, its record 24 bytes ... */
    memset(b, 0, 4);
    uint16_t r1000 = 1000;                      /* ... "bb" moved to 24 */
    memmove(b + 24, b + 12, 12);
    memcpy(b + 28, &r1000, 2);
    KT_ASSERT(t, chain_ok(b, BS) == 2);
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "ccccc", 5, 7, 1, &bad), 1);  /* needs 16 of the 24 */
    KT_EXPECT_EQ(t, le32(b), 7);
    KT_EXPECT_EQ(t, le16(b + 4), 24);
    KT_EXPECT_EQ(t, b[6], 5);
    KT_EXPECT(t, memcmp(b + 8, "ccccc", 5) == 0);
    KT_EXPECT_EQ(t, le32(b + 24), 6);
    KT_EXPECT_EQ(t, le16(b + 28), 1000);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 2);
    kfree(b);
}

KTEST(ext2dir, too_little_slack_is_passed_over)
{
    /* "a" (needs 12) in a 24-byte record has 12 spare: not enough for a
     * 5-byte name (16), which goes to the roomy last record instead. */
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    ext2_dirblock_init(b, BS, "a", 1, 5, 1);
    uint16_t bad;
    KT_ASSERT(t, ext2_dirblock_add(b, BS, "bb", 2, 6, 1, &bad) == 1);
    uint16_t r24 = 24, r1000 = 1000;
    memcpy(b + 4, &r24, 2);
    memmove(b + 24, b + 12, 12);
    memset(b + 12, 0, 12);
    memcpy(b + 28, &r1000, 2);
    KT_ASSERT(t, chain_ok(b, BS) == 2);
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "ccccc", 5, 7, 1, &bad), 1);
    KT_EXPECT_EQ(t, le16(b + 4), 24);           /* "a" keeps its record */
    KT_EXPECT_EQ(t, le16(b + 28), 12);          /* "bb" shrinks */
    KT_EXPECT_EQ(t, le32(b + 36), 7);
    KT_EXPECT_EQ(t, le16(b + 40), 988);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 3);
    /* 4 bytes names fit the 12 spare bytes exactly. */
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "dddd", 4, 8, 1, &bad), 1);
    KT_EXPECT_EQ(t, le16(b + 4), 12);
    KT_EXPECT_EQ(t, le32(b + 12), 8);
    KT_EXPECT_EQ(t, le16(b + 16), 12);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 4);
    kfree(b);
}

KTEST(ext2dir, a_corrupt_rec_len_is_refused)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    uint16_t bad = 0;
    /* Shorter than the header, not a multiple of 4, past the block. */
    static const uint16_t wrong[] = { 0, 4, 7, 10, BS - 12 + 4 };
    for (size_t i = 0; i < ARRAY_SIZE(wrong); i++) {
        dot_dotdot(b, 11, 2);
        memcpy(b + 16, &wrong[i], 2);           /* ".." */
        bad = 0xffff;
        KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "name", 4, 9, 1, &bad), -EIO);
        KT_EXPECT_EQ(t, bad, wrong[i]);
    }
    /* A name longer than its record. */
    dot_dotdot(b, 11, 2);
    uint16_t r12 = 12;
    memcpy(b + 16, &r12, 2);
    b[18] = 5;
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "name", 4, 9, 1, &bad), -EIO);
    KT_EXPECT_EQ(t, bad, 12);
    KT_EXPECT(t, ext2_dirent_ok(BS, 12, 12, 4));
    KT_EXPECT(t, !ext2_dirent_ok(BS, 12, 12, 5));
    KT_EXPECT(t, ext2_dirent_ok(BS, BS - 12, 12, 1));
    KT_EXPECT(t, !ext2_dirent_ok(BS, BS - 8, 12, 1));
    kfree(b);
}

/* A block of four entries: "one" 12, "two" 12, "three" 16, "four" the rest. */
static void four_entries(uint8_t *b)
{
    uint16_t bad;
    ext2_dirblock_init(b, BS, "one", 3, 21, 1);
    ext2_dirblock_add(b, BS, "two", 3, 22, 1, &bad);
    ext2_dirblock_add(b, BS, "three", 5, 23, 1, &bad);
    ext2_dirblock_add(b, BS, "four", 4, 24, 2, &bad);
}

KTEST(ext2dir, a_removed_entry_joins_the_record_before_it)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    four_entries(b);
    KT_ASSERT(t, chain_ok(b, BS) == 4);
    KT_ASSERT(t, le16(b + 28) == 16 && le16(b + 44) == BS - 40);
    uint16_t bad;
    /* In the middle: "two" (at 12) grows over "three"'s 16 bytes. */
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "three", 5, &bad), 1);
    KT_EXPECT_EQ(t, le16(b + 16), 12 + 16);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 3);
    KT_EXPECT_EQ(t, le32(b + 40), 24);          /* "four" where it was */
    /* The last: "two" now reaches the block's end. */
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "four", 4, &bad), 1);
    KT_EXPECT_EQ(t, 12 + le16(b + 16), BS);
    KT_EXPECT_EQ(t, chain_ok(b, BS), 2);
    /* Gone means gone: a second remove finds nothing. */
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "four", 4, &bad), 0);
    kfree(b);
}

KTEST(ext2dir, the_first_entry_removed_stays_as_an_unused_record)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    four_entries(b);
    uint16_t bad;
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "one", 3, &bad), 1);
    KT_EXPECT_EQ(t, le32(b), 0);                /* inode 0: unused */
    KT_EXPECT_EQ(t, le16(b + 4), 12);           /* the record stays, the block still chains */
    KT_EXPECT_EQ(t, chain_ok(b, BS), 4);
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "one", 3, &bad), 0);   /* not matched again */
    /* and a name that fits takes it back */
    KT_EXPECT_EQ(t, ext2_dirblock_add(b, BS, "uno", 3, 31, 1, &bad), 1);
    KT_EXPECT_EQ(t, le32(b), 31);
    KT_EXPECT_EQ(t, le16(b + 4), 12);
    kfree(b);
}

KTEST(ext2dir, remove_matches_the_whole_name_only)
{
    uint8_t *b = kmalloc(BS), *copy = kmalloc(BS);
    KT_ASSERT(t, b && copy);
    four_entries(b);
    memcpy(copy, b, BS);
    uint16_t bad;
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "thre", 4, &bad), 0);  /* a prefix */
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "threex", 6, &bad), 0);
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "fou", 3, &bad), 0);
    KT_EXPECT(t, memcmp(copy, b, BS) == 0);
    uint16_t r10 = 10;
    memcpy(b + 16, &r10, 2);                    /* "two"'s rec_len not a multiple of 4 */
    KT_EXPECT_EQ(t, ext2_dirblock_remove(b, BS, "four", 4, &bad), -EIO);
    KT_EXPECT_EQ(t, bad, 10);
    kfree(b);
    kfree(copy);
}

/* ---- ext2xattr: the attribute block ----
 * Header: le32 magic 0xEA020000, refcount, blocks (1), hash, 16 reserved
 * bytes; entries from byte 32: u8 name_len, u8 name_index, le16
 * value_offs, le32 value_inum (0), le32 value_size, le32 hash, the name,
 * padded to 4; four zero bytes end them; values lie at value_offs. */

static void one_attribute(uint8_t *b)
{
    memset(b, 0, BS);
    uint32_t hdr[4] = { 0xEA020000u, 1, 1, 0 };
    memcpy(b, hdr, sizeof(hdr));
    uint8_t e[20] = { 1, 1 };                   /* "user.a" */
    uint16_t offs = BS - 4;
    uint32_t size = 1, hash = 0x610076;         /* 'a' = 0x61, then the word 0x76 ('v') */
    memcpy(e + 2, &offs, 2);
    memcpy(e + 8, &size, 4);
    memcpy(e + 12, &hash, 4);
    e[16] = 'a';
    memcpy(b + 32, e, sizeof(e));
    b[BS - 4] = 'v';
}

KTEST(ext2xattr, the_hash_is_the_documented_one)
{
    KT_EXPECT_EQ(t, ext2_xattr_hash("a", 1, (const uint8_t *)"v", 1), 0x610076);
    /* Two name bytes: (0x61 << 5) ^ 0x62; no value, no value words. */
    KT_EXPECT_EQ(t, ext2_xattr_hash("ab", 2, NULL, 0), (0x61u << 5) ^ 0x62u);
}

KTEST(ext2xattr, a_good_block_parses)
{
    uint8_t *b = kmalloc(BS);
    struct ea list[4];
    KT_ASSERT(t, b != NULL);
    one_attribute(b);
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 4), 1);
    KT_EXPECT_EQ(t, list[0].index, 1);
    KT_EXPECT_EQ(t, list[0].nlen, 1);
    KT_EXPECT_EQ(t, list[0].size, 1);
    KT_EXPECT(t, list[0].value == b + BS - 4 && list[0].name == (const char *)b + 48);
    kfree(b);
}

KTEST(ext2xattr, a_corrupt_block_is_refused)
{
    uint8_t *b = kmalloc(BS);
    struct ea list[4];
    KT_ASSERT(t, b != NULL);
    one_attribute(b);
    b[0] ^= 1;                                  /* the magic */
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 4), -EIO);
    one_attribute(b);
    uint16_t offs = BS - 2;                     /* the value past the block's end */
    uint32_t size = 4;
    memcpy(b + 34, &offs, 2);
    memcpy(b + 40, &size, 4);
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 4), -EIO);
    one_attribute(b);
    offs = 36;                                  /* the value over the entries */
    memcpy(b + 34, &offs, 2);
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 4), -EIO);
    one_attribute(b);
    b[36] = 1;                                  /* a value in another inode */
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 4), -EIO);
    memset(b + 32, 0x01, BS - 32);              /* no end to the entries */
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 4), -EIO);
    one_attribute(b);
    KT_EXPECT_EQ(t, ext2_xattr_parse(b, BS, list, 0), -EIO);    /* more entries than room */
    kfree(b);
}
