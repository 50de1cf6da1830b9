/* fs/ext2_internal.h - the pure parts of ext2.c, out where a test can
 * reach them (ext2_test.c) and nobody else needs them: the arithmetic of
 * the block map (i_block's direct, indirect, double and triple indirect
 * pointers) and the packing of directory entries in a block, both as the
 * ext4 disk-layout documentation describes them. They touch no disk and no
 * mounted file system: ext2.c calls them with its block size and buffers,
 * the tests with theirs. */
#pragma once
#include "../lib/types.h"

/* The path to logical block lblk of a file, per block pointers to a block
 * (block size / 4): the slot in i_block (0-11 direct, 12 indirect, 13
 * double, 14 triple indirect) and, for each level of pointer blocks below
 * it, the index in that block. Returns the number of levels (0-3), or
 * -EFBIG past the end of the triple-indirect tree. */
int ext2_block_path(uint64_t lblk, uint64_t per, unsigned *slot, uint64_t idx[3]);

/* Does the directory entry at byte at of a block of bsize bytes, its
 * rec_len rec and name_len nlen as the disk says, lie inside the block
 * (rec a multiple of 4, at least the header), its name inside the entry? */
bool ext2_dirent_ok(uint32_t bsize, uint32_t at, uint32_t rec, uint32_t nlen);
/* A directory entry's size for a name of len bytes: the 8-byte header and
 * the name, rounded up to 4. */
uint32_t ext2_rec_len(size_t len);
/* Put the entry name -> ino (file type ftype) into directory block blk:
 * into an unused entry, or the slack after a used one's name (which then
 * shrinks to its own size, the new one taking the rest of its record).
 * 1: done; 0: no room in this block; -EIO: an entry is corrupt (not
 * ext2_dirent_ok; *bad_rec says its rec_len). */
int ext2_dirblock_add(uint8_t *blk, uint32_t bsize, const char *name, size_t len, uint32_t ino,
                      uint8_t ftype, uint16_t *bad_rec);
/* Take the entry name out of directory block blk: its record joins the
 * one before it, or, first in the block, stays as an unused entry (inode
 * 0). 1: done; 0: not in this block; -EIO as for ext2_dirblock_add. */
int ext2_dirblock_remove(uint8_t *blk, uint32_t bsize, const char *name, size_t len, uint16_t *bad_rec);
/* A fresh directory block holding only that entry, its record reaching the
 * block's end. */
void ext2_dirblock_init(uint8_t *blk, uint32_t bsize, const char *name, size_t len, uint32_t ino,
                        uint8_t ftype);

/* Extended attributes (ext2's attribute block): the hash of an entry
 * (name without its prefix, and value), as e2fsck checks it; and the
 * entries of block blk parsed into list (at most max): their count, or
 * -EIO if anything lies outside the block. */
struct ea {                     /* one attribute, in memory */
    uint8_t index, nlen;        /* the name's index (1 user., 4 trusted., 6 security.) */
    const char *name;           /* without its prefix; not NUL-ended */
    const uint8_t *value;
    uint32_t size;
};
uint32_t ext2_xattr_hash(const char *name, size_t nlen, const uint8_t *value, uint32_t size);
int      ext2_xattr_parse(const uint8_t *blk, uint32_t bsize, struct ea *list, int max);
