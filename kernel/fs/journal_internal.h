/* fs/journal_internal.h - the pure parts of journal.c, out where a test can
 * reach them (journal_test.c) and nobody else needs them: the JBD2 on-disk
 * encoding (big-endian block headers, descriptor tags, revoke records, as
 * the ext4 disk-layout documentation describes the journal), the log's
 * circular arithmetic, and the set of blocks freed by the running
 * transaction. None of it touches the disk or the journal's own state:
 * journal.c calls these with its geometry and buffers, the tests with
 * theirs. */
#pragma once
#include "../lib/types.h"

#define JBD2_MAGIC       0xC03B3998u
#define JT_DESCRIPTOR    1
#define JT_COMMIT        2
#define JT_SUPER_V1      3
#define JT_SUPER_V2      4
#define JT_REVOKE        5
#define TAG_ESCAPE       1
#define TAG_SAME_UUID    2
#define TAG_LAST         8
#define TAG_BYTES        8

/* A block header (magic, type, sequence) at the start of a zeroed block. */
void jbd2_header(uint8_t *b, uint32_t bsize, uint32_t type, uint32_t seq);

/* The flags of tag i of a descriptor holding n: every tag but the first
 * says "same UUID" (the first is followed by the UUID), the last says so,
 * and an escaped copy (its first word was the JBD2 magic, zeroed in the
 * log) says that. */
uint16_t jbd2_tag_flags(int i, int n, bool escaped);
/* Write a tag at byte off of a descriptor block: the home block, a zero
 * checksum, the flags, then the UUID unless flags say "same UUID".
 * Returns the offset of the next tag. */
uint32_t jbd2_put_tag(uint8_t *desc, uint32_t off, uint32_t home, uint16_t flags,
                      const uint8_t uuid[16]);
/* Read the tag at byte off: its home block and flags; returns the offset
 * of the next tag. */
uint32_t jbd2_get_tag(const uint8_t *desc, uint32_t off, uint32_t *home, uint16_t *flags);

/* The log block after lblk. Journal blocks [first, maxlen) are a circle
 * (block 0 is the journal superblock): after maxlen - 1 comes first. */
uint32_t jbd2_log_next(uint32_t lblk, uint32_t first, uint32_t maxlen);

/* A copy recovery will write home: its home block, the journal block that
 * holds it, and whether its first word must get the magic back. */
struct jbd2_replay {
    uint32_t home;
    uint32_t jblk;
    bool escaped;
};
/* The tags of descriptor block b, which sits at log block *pos: the copy
 * a tag names is in the log block after the previous one (after the
 * descriptor, for the first), wrapping as jbd2_log_next says. Appends to
 * list[*n..max) and leaves *pos at the last copy. */
void jbd2_read_tags(const uint8_t *b, uint32_t bsize, uint32_t first, uint32_t maxlen,
                    uint32_t *pos, struct jbd2_replay *list, int *n, int max);

/* The block numbers in revoke block b (32-bit ones: the journal has no
 * 64-bit feature), at most max of them into out; returns how many. Its
 * count (bytes used, header included) is believed only up to bsize. */
int jbd2_read_revokes(const uint8_t *b, uint32_t bsize, uint32_t *out, int max);

/* ---- blocks freed by the running transaction (see journal_freed) ----
 * An open-addressing set of block numbers (0 marks an empty slot: block 0
 * is never freed), emptied by each commit; when it fills up to 3/4, or its
 * table cannot be allocated, it is "full" and holds every block until the
 * commit empties it. */
#define FREED_SLOTS 16384

struct freed_set {
    uint32_t *slots;            /* [FREED_SLOTS], allocated at the first add */
    int n;                      /* slots in use */
    bool full;
};

void freed_set_add(struct freed_set *s, uint64_t blk);
/* Was blk added since the last clear (always yes when full)? */
bool freed_set_holds(struct freed_set *s, uint64_t blk);
void freed_set_clear(struct freed_set *s);
