/* fs/journal_test.c - in-kernel tests of the journal's pure parts (suites
 * jbd2 and jfreed), through journal_internal.h.
 *
 * The expected bytes are written out by hand from the JBD2 format as the
 * ext4 disk-layout documentation gives it, not computed with the code's own
 * helpers, so a test fails when the code and the format part: e2fsck and
 * Linux replay what Vigil writes, and Vigil replays what Linux leaves.
 *   block header:  be32 magic 0xC03B3998, be32 block type, be32 sequence;
 *   block types:   1 descriptor, 2 commit, 3 superblock v1, 4 superblock
 *                  v2, 5 revoke;
 *   block tag:     be32 home block, be16 checksum, be16 flags (without the
 *                  64bit and csum features: 8 bytes), then the 16-byte
 *                  UUID unless the flags say "same UUID";
 *   tag flags:     1 escaped, 2 same UUID, 4 deleted, 8 last tag;
 *   revoke block:  header, be32 bytes used (header included), be32 blocks;
 *   the log:       blocks s_first .. s_maxlen-1 of the journal, circular
 *                  (block 0 is the journal superblock). */
#include "journal_internal.h"
#include "../ktest/ktest.h"
#include "../lib/string.h"
#include "../mm/mm.h"

#define BS 1024

static const uint8_t uuid[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                  0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- jbd2: the on-disk encoding and the log ---- */

KTEST(jbd2, header_is_big_endian_magic_type_sequence)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    memset(b, 0xee, BS);
    jbd2_header(b, BS, JT_DESCRIPTOR, 0x01020304);
    static const uint8_t desc[12] = { 0xc0, 0x3b, 0x39, 0x98, 0, 0, 0, 1, 1, 2, 3, 4 };
    KT_EXPECT(t, memcmp(b, desc, 12) == 0);
    KT_EXPECT(t, all_zero(b + 12, BS - 12));    /* the rest of the block is cleared */
    jbd2_header(b, BS, JT_COMMIT, 0xfffffffe);
    static const uint8_t commit[12] = { 0xc0, 0x3b, 0x39, 0x98, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe };
    KT_EXPECT(t, memcmp(b, commit, 12) == 0);
    jbd2_header(b, BS, JT_REVOKE, 9);
    KT_EXPECT_EQ(t, b[7], 5);
    jbd2_header(b, BS, JT_SUPER_V2, 9);
    KT_EXPECT_EQ(t, b[7], 4);
    jbd2_header(b, BS, JT_SUPER_V1, 9);
    KT_EXPECT_EQ(t, b[7], 3);
    kfree(b);
}

KTEST(jbd2, tag_flags_follow_the_format)
{
    /* One tag: the first (UUID follows) and the last. */
    KT_EXPECT_EQ(t, jbd2_tag_flags(0, 1, false), 0x8);
    /* Three: first, middle, last. */
    KT_EXPECT_EQ(t, jbd2_tag_flags(0, 3, false), 0x0);
    KT_EXPECT_EQ(t, jbd2_tag_flags(1, 3, false), 0x2);
    KT_EXPECT_EQ(t, jbd2_tag_flags(2, 3, false), 0xa);
    /* An escaped copy says so, wherever it is. */
    KT_EXPECT_EQ(t, jbd2_tag_flags(0, 3, true), 0x1);
    KT_EXPECT_EQ(t, jbd2_tag_flags(1, 3, true), 0x3);
    KT_EXPECT_EQ(t, jbd2_tag_flags(2, 3, true), 0xb);
}

KTEST(jbd2, descriptor_tags_are_byte_exact)
{
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    jbd2_header(b, BS, JT_DESCRIPTOR, 7);
    /* Three tags as a commit writes them: homes 0x1234, 0xc0ffee (escaped),
     * 0xdeadbeef. */
    uint32_t off = 12;
    off = jbd2_put_tag(b, off, 0x1234, jbd2_tag_flags(0, 3, false), uuid);
    KT_EXPECT_EQ(t, off, 12 + 8 + 16);
    off = jbd2_put_tag(b, off, 0xc0ffee, jbd2_tag_flags(1, 3, true), uuid);
    KT_EXPECT_EQ(t, off, 12 + 8 + 16 + 8);
    off = jbd2_put_tag(b, off, 0xdeadbeef, jbd2_tag_flags(2, 3, false), uuid);
    KT_EXPECT_EQ(t, off, 12 + 8 + 16 + 8 + 8);
    static const uint8_t want[12 + 8 + 16 + 8 + 8] = {
        0xc0, 0x3b, 0x39, 0x98, 0, 0, 0, 1, 0, 0, 0, 7,                 /* header */
        0x00, 0x00, 0x12, 0x34, 0, 0, 0x00, 0x00,                       /* tag 1 */
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,                 /*   its UUID */
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
        0x00, 0xc0, 0xff, 0xee, 0, 0, 0x00, 0x03,                       /* tag 2: same UUID, escaped */
        0xde, 0xad, 0xbe, 0xef, 0, 0, 0x00, 0x0a,                       /* tag 3: same UUID, last */
    };
    for (size_t i = 0; i < sizeof(want); i++)
        if (b[i] != want[i]) {
            ktest_fail(t, __FILE__, __LINE__, "descriptor byte %lu is 0x%x, want 0x%x", i, b[i], want[i]);
            break;
        }
    KT_EXPECT(t, all_zero(b + sizeof(want), BS - sizeof(want)));

    /* And back: what recovery reads from it. */
    uint32_t home;
    uint16_t flags;
    off = jbd2_get_tag(b, 12, &home, &flags);
    KT_EXPECT_EQ(t, home, 0x1234);
    KT_EXPECT_EQ(t, flags, 0x0);
    KT_EXPECT_EQ(t, off, 36);
    off = jbd2_get_tag(b, off, &home, &flags);
    KT_EXPECT_EQ(t, home, 0xc0ffee);
    KT_EXPECT_EQ(t, flags, 0x3);
    KT_EXPECT_EQ(t, off, 44);
    off = jbd2_get_tag(b, off, &home, &flags);
    KT_EXPECT_EQ(t, home, 0xdeadbeef);
    KT_EXPECT_EQ(t, flags, 0xa);
    KT_EXPECT_EQ(t, off, 52);
    kfree(b);
}

KTEST(jbd2, tags_written_by_another_journal_are_read)
{
    /* As Linux may write them: every tag with its own UUID (no "same
     * UUID" flag), a deleted flag, big block numbers. */
    uint8_t *b = kzalloc(BS);
    KT_ASSERT(t, b != NULL);
    static const uint8_t desc[] = {
        0xc0, 0x3b, 0x39, 0x98, 0, 0, 0, 1, 0, 0, 0, 42,
        0x80, 0x00, 0x00, 0x01, 0xab, 0xcd, 0x00, 0x04,                 /* deleted */
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x09,                 /* escaped, last */
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        0x00, 0x00, 0x00, 0x99, 0x00, 0x00, 0x00, 0x02,                 /* after the last: not read */
    };
    memcpy(b, desc, sizeof(desc));
    struct jbd2_replay list[8];
    int n = 0;
    uint32_t pos = 5;
    jbd2_read_tags(b, BS, 1, 64, &pos, list, &n, 8);
    KT_ASSERT(t, n == 2);
    KT_EXPECT_EQ(t, list[0].home, 0x80000001);
    KT_EXPECT_EQ(t, list[0].jblk, 6);
    KT_EXPECT(t, !list[0].escaped);
    KT_EXPECT_EQ(t, list[1].home, 0x200);
    KT_EXPECT_EQ(t, list[1].jblk, 7);
    KT_EXPECT(t, list[1].escaped);
    KT_EXPECT_EQ(t, pos, 7);
    kfree(b);
}

KTEST(jbd2, log_wraps_from_its_end_to_first)
{
    /* A 16-block journal whose log starts at block 1. */
    KT_EXPECT_EQ(t, jbd2_log_next(1, 1, 16), 2);
    KT_EXPECT_EQ(t, jbd2_log_next(14, 1, 16), 15);
    KT_EXPECT_EQ(t, jbd2_log_next(15, 1, 16), 1);
    /* The log may start further in: it never wraps to the superblock. */
    KT_EXPECT_EQ(t, jbd2_log_next(7, 3, 8), 3);
    KT_EXPECT_EQ(t, jbd2_log_next(3, 3, 8), 4);
}

KTEST(jbd2, transaction_crossing_the_log_end_is_found_in_place)
{
    /* A 16-block journal (log: blocks 1-15), a descriptor in block 14 with
     * three tags: the copies are in 15, then (wrapping) 1 and 2, and the
     * commit block is expected in 3. */
    uint8_t *b = kmalloc(BS);
    KT_ASSERT(t, b != NULL);
    jbd2_header(b, BS, JT_DESCRIPTOR, 100);
    uint32_t off = 12;
    uint32_t homes[3] = { 500, 501, 77 };
    for (int i = 0; i < 3; i++)
        off = jbd2_put_tag(b, off, homes[i], jbd2_tag_flags(i, 3, i == 1), uuid);
    struct jbd2_replay list[4];
    int n = 0;
    uint32_t pos = 14;
    jbd2_read_tags(b, BS, 1, 16, &pos, list, &n, 4);
    KT_ASSERT(t, n == 3);
    static const uint32_t jblk[3] = { 15, 1, 2 };
    for (int i = 0; i < 3; i++) {
        KT_EXPECT_EQ(t, list[i].home, homes[i]);
        KT_EXPECT_EQ(t, list[i].jblk, jblk[i]);
        KT_EXPECT_EQ(t, list[i].escaped, i == 1);
    }
    KT_EXPECT_EQ(t, pos, 2);
    KT_EXPECT_EQ(t, jbd2_log_next(pos, 1, 16), 3);
    /* A descriptor in the last block: its first copy is already wrapped. */
    n = 0;
    pos = 15;
    jbd2_read_tags(b, BS, 1, 16, &pos, list, &n, 4);
    KT_ASSERT(t, n == 3);
    KT_EXPECT_EQ(t, list[0].jblk, 1);
    KT_EXPECT_EQ(t, list[2].jblk, 3);
    kfree(b);
}

KTEST(jbd2, a_full_descriptor_stops_at_the_block_end)
{
    /* Tags with "same UUID" and no "last" flag fill the block: (1024 - 12)
     * / 8 = 126 of them, and none is read past the end. */
    uint8_t *b = kmalloc(BS + 64);
    KT_ASSERT(t, b != NULL);
    jbd2_header(b, BS, JT_DESCRIPTOR, 1);
    memset(b + BS, 0xff, 64);                   /* beyond the block: must not be read */
    for (uint32_t off = 12, i = 0; off + 8 <= BS; off += 8, i++)
        jbd2_put_tag(b, off, 1000 + i, 0x2, uuid);
    struct jbd2_replay *list = kmalloc(sizeof(*list) * 200);
    KT_ASSERT(t, list != NULL);
    int n = 0;
    uint32_t pos = 1;
    jbd2_read_tags(b, BS, 1, 1024, &pos, list, &n, 200);
    KT_EXPECT_EQ(t, n, 126);
    KT_EXPECT_EQ(t, list[125].home, 1125);
    KT_EXPECT_EQ(t, list[125].jblk, 127);
    /* The caller's list bounds it too. */
    n = 0;
    pos = 1;
    jbd2_read_tags(b, BS, 1, 1024, &pos, list, &n, 10);
    KT_EXPECT_EQ(t, n, 10);
    KT_EXPECT_EQ(t, pos, 11);
    kfree(list);
    kfree(b);
}

KTEST(jbd2, revoke_records_are_read_up_to_their_count)
{
    uint8_t *b = kzalloc(BS);
    KT_ASSERT(t, b != NULL);
    static const uint8_t rev[] = {
        0xc0, 0x3b, 0x39, 0x98, 0, 0, 0, 5, 0, 0, 0, 3,
        0x00, 0x00, 0x00, 0x1c,                         /* 28 bytes used: three blocks */
        0x00, 0x00, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78, 0xff, 0xff, 0xff, 0xff,
        0x00, 0x00, 0x00, 0x07,                         /* past the count: not a record */
    };
    memcpy(b, rev, sizeof(rev));
    uint32_t out[16];
    KT_ASSERT(t, jbd2_read_revokes(b, BS, out, 16) == 3);
    KT_EXPECT_EQ(t, out[0], 0x100);
    KT_EXPECT_EQ(t, out[1], 0x12345678);
    KT_EXPECT_EQ(t, out[2], 0xffffffff);
    KT_EXPECT_EQ(t, jbd2_read_revokes(b, BS, out, 2), 2);       /* the caller's room */
    b[15] = 0x12;                                   /* 18 bytes: no whole record */
    KT_EXPECT_EQ(t, jbd2_read_revokes(b, BS, out, 8), 0);
    b[15] = 0x08;                                   /* less than the header */
    KT_EXPECT_EQ(t, jbd2_read_revokes(b, BS, out, 8), 0);
    b[12] = 0x7f;                                   /* a count past the block: the block */
    KT_EXPECT_EQ(t, jbd2_read_revokes(b, 64, out, 16), (64 - 16) / 4);
    kfree(b);
}

/* ---- jfreed: blocks freed by the running transaction ---- */

KTEST(jfreed, freed_blocks_are_held_until_the_commit_clears_them)
{
    struct freed_set s = { 0 };
    KT_EXPECT(t, !freed_set_holds(&s, 5));      /* empty (and not even allocated) */
    freed_set_add(&s, 5);
    freed_set_add(&s, 7);
    freed_set_add(&s, 0xfffffff0u);
    KT_ASSERT(t, s.slots != NULL);
    KT_EXPECT(t, freed_set_holds(&s, 5));
    KT_EXPECT(t, freed_set_holds(&s, 7));
    KT_EXPECT(t, freed_set_holds(&s, 0xfffffff0u));
    KT_EXPECT(t, !freed_set_holds(&s, 6));
    KT_EXPECT(t, !freed_set_holds(&s, 8));
    KT_EXPECT_EQ(t, s.n, 3);
    freed_set_add(&s, 7);                       /* freed twice: one entry */
    KT_EXPECT_EQ(t, s.n, 3);
    freed_set_clear(&s);
    KT_EXPECT_EQ(t, s.n, 0);
    KT_EXPECT(t, !freed_set_holds(&s, 5));
    KT_EXPECT(t, !freed_set_holds(&s, 7));
    KT_EXPECT(t, !freed_set_holds(&s, 0xfffffff0u));
    freed_set_add(&s, 7);                       /* the next transaction's */
    KT_EXPECT(t, freed_set_holds(&s, 7));
    KT_EXPECT(t, !freed_set_holds(&s, 5));
    kfree(s.slots);
}

KTEST(jfreed, colliding_blocks_are_told_apart)
{
    /* Blocks FREED_SLOTS apart land in the same slot (the hash is
     * multiplicative mod 2^32, then mod FREED_SLOTS): probing must go on
     * past the neighbour, and stop at the first empty slot. */
    struct freed_set s = { 0 };
    uint64_t a = 1234, b = a + FREED_SLOTS, c = a + 2 * FREED_SLOTS, d = a + 3 * FREED_SLOTS;
    freed_set_add(&s, a);
    freed_set_add(&s, b);
    freed_set_add(&s, c);
    KT_ASSERT(t, s.slots != NULL);
    KT_EXPECT(t, freed_set_holds(&s, a));
    KT_EXPECT(t, freed_set_holds(&s, b));
    KT_EXPECT(t, freed_set_holds(&s, c));
    KT_EXPECT(t, !freed_set_holds(&s, d));
    KT_EXPECT_EQ(t, s.n, 3);
    kfree(s.slots);
}

KTEST(jfreed, a_full_set_holds_every_block_until_cleared)
{
    /* At 3/4 of its slots the set is full: nothing freed is reusable until
     * the commit, even blocks it could not record. */
    struct freed_set s = { 0 };
    for (uint64_t blk = 1; blk <= FREED_SLOTS * 3 / 4; blk++)
        freed_set_add(&s, blk);
    KT_ASSERT(t, s.slots != NULL);
    KT_EXPECT_EQ(t, s.n, FREED_SLOTS * 3 / 4);
    KT_EXPECT(t, !s.full);
    KT_EXPECT(t, !freed_set_holds(&s, 999999));
    freed_set_add(&s, 999999);
    KT_EXPECT(t, s.full);
    KT_EXPECT(t, freed_set_holds(&s, 999999));
    KT_EXPECT(t, freed_set_holds(&s, 888888));  /* never freed, but who can tell now */
    freed_set_clear(&s);
    KT_EXPECT(t, !s.full);
    KT_EXPECT(t, !freed_set_holds(&s, 999999));
    KT_EXPECT(t, !freed_set_holds(&s, 1));
    kfree(s.slots);
}
