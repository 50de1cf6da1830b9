/* fs/ext2.c - the ext2 on-disk format (as e2fsprogs writes it for
 * `mke2fs -t ext3`): superblock, group descriptors, block and inode
 * bitmaps, inodes, direct and (double, triple) indirect blocks, holes,
 * linear directories, symlinks, extended attributes (one attribute block
 * per file); reading and writing; files found by number for file handles.
 * Every block number read from disk is checked against the file system's
 * size before use: a corrupt image gives -EIO and a console message, never
 * a wild access.
 * (Layout: the ext4 disk-layout documentation.)
 *
 * Writes go to the buffer cache. On an ext3 image (one with a journal,
 * as `mke2fs -t ext3` makes) each change that must be atomic is bracketed
 * by journal_begin/journal_end and its metadata commits as a JBD2
 * transaction (journal.c, ordered mode: file data goes home first) at
 * sync/fsync, when a transaction grows large, or under memory pressure;
 * after a crash, recovery at mount (or e2fsck) replays what committed.
 * Without a journal (plain ext2) the cache reaches the disk at sync/fsync,
 * and a crash between two syncs can leave the file system needing e2fsck. */
#include "vfs.h"
#include "bcache.h"
#include "journal.h"
#include "ext2_internal.h"
#include "../proc/proc.h"
#include "../drivers/block.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../mm/mm.h"
#include "../sys/syscall.h"

#define EXT2_MAGIC          0xEF53
#define DIV_ROUND_UP(n, d)  (((n) + (d) - 1) / (d))
#define EXT2_ROOT_INO       2
#define INCOMPAT_FILETYPE   0x0002
#define INCOMPAT_RECOVER    0x0004
#define COMPAT_HAS_JOURNAL  0x0004
#define INCOMPAT_FLEX_BG    0x0200
#define STATE_ERROR_FS      0x0002      /* s_state: errors were detected */
#define SUPER_STATE_OFFSET  0x3A
#define INCOMPAT_SUPPORTED  (INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG)
/* sparse_super, large_file: layouts Vigil writes correctly. */
#define RO_COMPAT_SUPPORTED 0x0003

struct ext2_super {             /* the fields Vigil reads, at their offsets */
    uint32_t inodes_count, blocks_count, r_blocks_count, free_blocks, free_inodes;
    uint32_t first_data_block, log_block_size, log_cluster_size;
    uint32_t blocks_per_group, clusters_per_group, inodes_per_group;
    uint32_t mtime, wtime;
    uint16_t mnt_count, max_mnt_count, magic, state, errors, minor_rev;
    uint32_t lastcheck, checkinterval, creator_os, rev_level;
    uint16_t def_resuid, def_resgid;
    uint32_t first_ino;
    uint16_t inode_size, block_group_nr;
    uint32_t feature_compat, feature_incompat, feature_ro_compat;
} __packed;

struct ext2_group {
    uint32_t block_bitmap, inode_bitmap, inode_table;
    uint16_t free_blocks, free_inodes, used_dirs, flags;
    uint32_t reserved[3];
} __packed;

struct ext2_dinode {
    uint16_t mode, uid;
    uint32_t size, atime, ctime, mtime, dtime;
    uint16_t gid, links;
    uint32_t blocks, flags, osd1;
    uint32_t block[15];
    uint32_t generation, file_acl, size_high;
} __packed;

struct ext2_fs {
    struct super sb;
    struct ext2_super s;
    uint32_t bsize, ngroups;
    uint32_t journal_ino;       /* s_journal_inum (superblock offset 0xE0) */
    uint16_t reserved_gdt;      /* s_reserved_gdt_blocks (offset 0xCE): room to grow the descriptors */
    struct ext2_group *groups;
    uint32_t *block_hint, *inode_hint;  /* [group]: where take_bit looks first */
};

struct ext2_inode {             /* inode->priv */
    uint32_t block[15];
    uint32_t flags;
    uint32_t file_acl;          /* i_file_acl: its extended-attribute block, or 0 */
    struct inode *next_live;    /* the cache of inodes in use */
};

static struct ext2_fs fs;
static const struct inode_ops ext2_ops;
static struct inode *live;      /* one struct inode per inode in use */
static struct inode *journal_inode;
static bool mounted;
static bool writable;

static inline struct ext2_inode *E(struct inode *in) { return in->priv; }

static uint64_t ea_blocks(struct inode *in);

/* A number from the disk that cannot be right: -EIO, and a console line,
 * the first CORRUPT_REPORTS of them per mount (a garbage indirect block
 * holds a thousand bad numbers; a file can hold a million: reporting each
 * would keep the serial console busy for hours). */
#define CORRUPT_REPORTS 64
static unsigned corrupt_reports;

static int corrupt(const char *what, uint64_t value, uint64_t ino)
{
    if (corrupt_reports < CORRUPT_REPORTS)
        kprintf("ext2: corrupt file system: %s %lu (inode %lu)\n", what, value, ino);
    else if (corrupt_reports == CORRUPT_REPORTS)
        kprintf("ext2: corrupt file system: more reports suppressed until the next mount\n");
    corrupt_reports++;
    return -EIO;
}

static bool block_ok(uint64_t b) { return b >= fs.s.first_data_block && b < fs.s.blocks_count; }

/* A metadata block (inode table, bitmap, indirect block, directory,
 * descriptors) from the cache or the disk.
 * INVARIANT(durability and crash consistency): one the disk cannot read
 * fails its operation with EIO, and a writable file system goes read-only
 * (the journal aborts), as ext4 does with errors=remount-ro: an operation
 * cut off half-way has changed some blocks and not others, and such a
 * transaction must never commit. */
static struct buf *mread(uint64_t blk, int *err)
{
    struct buf *b = bread(blk, err);
    if (!b && *err == -EIO && writable && !journal_aborted()) {
        kprintf("ext2: cannot read metadata block %lu: aborting the journal\n", blk);
        journal_abort(-EIO);
    }
    return b;
}

/* Where inode ino lives: its table block and the offset in it. */
static int inode_location(uint32_t ino, uint64_t *blk, uint32_t *off)
{
    if (ino < 1 || ino > fs.s.inodes_count)
        return corrupt("inode number", ino, ino);
    uint32_t group = (ino - 1) / fs.s.inodes_per_group;
    uint64_t byte = (uint64_t)((ino - 1) % fs.s.inodes_per_group) * fs.s.inode_size;
    *blk = fs.groups[group].inode_table + byte / fs.bsize;
    *off = (uint32_t)(byte % fs.bsize);
    return block_ok(*blk) ? 0 : corrupt("inode table block", *blk, ino);
}

/* Inode ino's record as the table holds it (a copy). */
static int read_dinode(uint32_t ino, struct ext2_dinode *d)
{
    uint64_t blk;
    uint32_t off;
    int r = inode_location(ino, &blk, &off);
    if (r)
        return r;
    struct buf *b = mread(blk, &r);
    if (!b)
        return r;
    memcpy(d, b->data + off, sizeof(*d));
    brelse(b);
    return 0;
}

/* The live in-memory inode for ino, with a new reference, or NULL. */
static struct inode *find_live(uint32_t ino)
{
    for (struct inode *l = live; l; l = E(l)->next_live)
        if (l->ino == ino)
            return iget(l);     /* (its last iput takes it off this list before anything sleeps) */
    return NULL;
}

/* The in-memory inode for ino: the live one, or read from the table.
 * INVARIANT(durability and crash consistency): one in-memory inode per
 * disk inode. The table read may sleep, and another lookup of ino may
 * read it in meanwhile: the live list is asked again after the read, so
 * the two share that one (two copies would each write their own link
 * count and block map back, and the second would bring a freed inode
 * back). */
static int read_inode(uint32_t ino, struct inode **out)
{
    if ((*out = find_live(ino)))
        return 0;
    struct ext2_dinode d;
    int r = read_dinode(ino, &d);
    if (r)
        return r;
#ifndef BREAK_EXT2_ONE_INODE
    if ((*out = find_live(ino)))
        return 0;                               /* read in while this read slept */
#endif
    struct inode *in = kzalloc(sizeof(*in) + sizeof(struct ext2_inode));
    if (!in)
        return -ENOMEM;
    struct ext2_inode *e = (struct ext2_inode *)(in + 1);
    memcpy(e->block, d.block, sizeof(e->block));
    e->flags = d.flags;
    e->file_acl = d.file_acl;
    *in = (struct inode){
        .sb = &fs.sb, .ino = ino, .mode = d.mode, .uid = d.uid, .gid = d.gid,
        .nlink = d.links, .size = d.size | (S_ISREG(d.mode) ? (uint64_t)d.size_high << 32 : 0),
        .blocks = d.blocks, .atime = d.atime, .mtime = d.mtime, .ctime = d.ctime,
        .refs = 1, .ops = &ext2_ops, .priv = e, .gen = d.generation,
    };
    e->next_live = live;
    live = in;
    *out = in;
    return 0;
}

/* open_by_handle_at: inode ino if it is in use and still generation gen,
 * else ESTALE. A reserved inode (the journal's, the resize inode) is no
 * file to hand out, and a free one must never be read in: its last iput
 * would free it again. */
static int ext2_fh_to_inode(struct super *sb, uint32_t ino, uint32_t gen, struct inode **out)
{
    (void)sb;
    uint32_t first = fs.s.rev_level ? fs.s.first_ino : 11;
    if ((ino < first && ino != 2) || ino > fs.s.inodes_count)
        return -ESTALE;
    for (struct inode *l = live; l; l = E(l)->next_live)
        if (l->ino == ino) {
            if (l->nlink == 0 || l->gen != gen)
                return -ESTALE;
            *out = iget(l);
            return 0;
        }
    struct ext2_dinode d;
    int r = read_dinode(ino, &d);
    if (r)
        return r;
    if (d.links == 0 || d.mode == 0 || d.generation != gen)
        return -ESTALE;
    return read_inode(ino, out);
}

/* Write the in-memory inode back into its table block. */
static int write_inode(struct inode *in)
{
    uint64_t blk;
    uint32_t off;
    int r = inode_location((uint32_t)in->ino, &blk, &off);
    if (r)
        return r;
    struct buf *b = mread(blk, &r);
    if (!b)
        return r;
    struct ext2_dinode *d = (struct ext2_dinode *)(b->data + off);
    d->mode = (uint16_t)in->mode;
    d->uid = (uint16_t)in->uid;
    d->gid = (uint16_t)in->gid;
    d->links = (uint16_t)in->nlink;
    d->size = (uint32_t)in->size;
    d->size_high = S_ISREG(in->mode) ? (uint32_t)(in->size >> 32) : d->size_high;
    d->blocks = (uint32_t)in->blocks;
    d->atime = (uint32_t)in->atime;
    d->mtime = (uint32_t)in->mtime;
    d->ctime = (uint32_t)in->ctime;
    d->flags = E(in)->flags;
    d->file_acl = E(in)->file_acl;
    memcpy(d->block, E(in)->block, sizeof(d->block));
    bdirty(b);
    brelse(b);
    return 0;
}

static void free_inode_and_blocks(struct inode *in);

static void ext2_release(struct inode *in)
{
    struct inode **pp = &live;
    while (*pp && *pp != in)
        pp = &E(*pp)->next_live;
    if (*pp)
        *pp = E(in)->next_live;
    if (in->nlink == 0 && writable) {
        journal_begin();
        free_inode_and_blocks(in);          /* the last name and the last user are gone */
        journal_end();
    }
    kfree(in);
}

/* Entry idx of the block-pointer block blk (0 for a hole). */
static long indirect(uint64_t blk, uint64_t idx, uint64_t ino)
{
    if (blk == 0)
        return 0;
    if (!block_ok(blk))
        return corrupt("indirect block number", blk, ino);
    int r;
    struct buf *b = mread(blk, &r);
    if (!b)
        return r;
    long v = ((uint32_t *)b->data)[idx];
    brelse(b);
    return v;
}

int ext2_block_path(uint64_t lblk, uint64_t per, unsigned *slot, uint64_t idx[3])
{
    if (lblk < 12) {
        *slot = (unsigned)lblk;
        return 0;
    } else if ((lblk -= 12) < per) {
        *slot = 12, idx[0] = lblk;
        return 1;
    } else if ((lblk -= per) < per * per) {
        *slot = 13, idx[0] = lblk / per, idx[1] = lblk % per;
        return 2;
    } else if ((lblk -= per * per) < per * per * per) {
        *slot = 14, idx[0] = lblk / (per * per), idx[1] = lblk / per % per, idx[2] = lblk % per;
        return 3;
    }
    return -EFBIG;
}

/* The disk block holding logical block lblk of a file: 0 for a hole. */
static long bmap(struct inode *in, uint64_t lblk)
{
    struct ext2_inode *e = in->priv;
    unsigned slot;
    uint64_t idx[3];
    int depth = ext2_block_path(lblk, fs.bsize / 4, &slot, idx);
    if (depth < 0)
        return depth;
    long b = e->block[slot];
    for (int level = 0; level < depth && b > 0; level++)
        b = indirect((uint64_t)b, idx[level], in->ino);
    if (b > 0 && !block_ok((uint64_t)b))
        return corrupt("data block number", (uint64_t)b, in->ino);
    return b;
}

static long journal_bmap(uint64_t lblk) { return bmap(journal_inode, lblk); }

static long ext2_bmap_sector(struct inode *in, uint64_t off)
{
    long b = bmap(in, off / fs.bsize);
    if (b <= 0)
        return b < 0 ? b : -EINVAL;
    return b * (long)(fs.bsize / 512) + (long)(off % fs.bsize / 512);
}

static long ext2_read(struct inode *in, uint64_t off, void *dst, size_t n)
{
    if (off >= in->size)
        return 0;
    n = MIN(n, in->size - off);
    size_t done = 0;
    long err = 0;
    while (done < n) {
        uint64_t pos = off + done, in_blk = pos % fs.bsize;
        size_t k = MIN(n - done, fs.bsize - in_blk);
        long b = bmap(in, pos / fs.bsize);
        if (b < 0) {
            err = b;
            break;
        }
        if (b == 0) {
            memset((uint8_t *)dst + done, 0, k);        /* a hole reads as zeros */
        } else {
            int r;
            struct buf *bp = S_ISDIR(in->mode) ? mread((uint64_t)b, &r) : bread((uint64_t)b, &r);
            if (!bp) {
                err = r;
                break;
            }
            memcpy((uint8_t *)dst + done, bp->data + in_blk, k);
            brelse(bp);
        }
        done += k;
    }
    return done ? (long)done : err;
}

/* INVARIANT(kernel memory safety): a directory entry at byte at of a block,
 * its length rec and name length nlen read from the disk, lies inside the
 * block, its name inside the entry. */
bool ext2_dirent_ok(uint32_t bsize, uint32_t at, uint32_t rec, uint32_t nlen)
{
    return rec >= 8 && rec % 4 == 0 && at + rec <= bsize && nlen + 8 <= rec;
}

static bool dirent_ok(uint32_t at, uint32_t rec, uint32_t nlen) { return ext2_dirent_ok(fs.bsize, at, rec, nlen); }

/* Walk the directory's entries from byte *pos; call fn on each live one. */
typedef bool (*entry_fn)(void *ctx, const char *name, size_t len, uint32_t ino,
                         unsigned type, uint64_t next);

static int walk_dir(struct inode *dir, uint64_t *pos, entry_fn fn, void *ctx)
{
    uint8_t *buf = kmalloc(fs.bsize);
    if (!buf)
        return -ENOMEM;
    int ret = 0;
    while (*pos < dir->size && !ret) {
        uint64_t base = *pos - *pos % fs.bsize;
        long r = ext2_read(dir, base, buf, fs.bsize);
        if (r < (long)fs.bsize) {
            ret = r < 0 ? (int)r : corrupt("short directory", dir->size, dir->ino);
            break;
        }
        /* INVARIANT(kernel memory safety): the entries are walked from
         * the block's start: a position inside an entry (lseek on a
         * directory can set any number) resumes at the next whole entry,
         * as ext2 does on Linux, and nothing is read outside the block. */
        uint32_t from = (uint32_t)(*pos % fs.bsize), at = 0;
        while (at < fs.bsize) {
            uint32_t ino;
            uint16_t rec;
            if (at + 8 > fs.bsize) {
                ret = corrupt("directory entry at block end", at, dir->ino);
                break;
            }
            memcpy(&ino, buf + at, 4);
            memcpy(&rec, buf + at + 4, 2);
            uint8_t nlen = buf[at + 6], type = buf[at + 7];
            if (!dirent_ok(at, rec, nlen)) {
                ret = corrupt("directory entry length", rec, dir->ino);
                break;
            }
            uint64_t next = base + at + rec;
            if (at < from) {
                at += rec;                      /* before the position */
                continue;
            }
            if (ino && nlen) {
                static const uint8_t dtype[] = { 0, 8, 4, 2, 6, 1, 12, 10 };   /* ext2 -> DT_ */
                if (!fn(ctx, (const char *)buf + at + 8, nlen, ino, type < 8 ? dtype[type] : 0, next)) {
                    ret = 1;
                    break;
                }
            }
            *pos = next;
            at += rec;
        }
        if (!ret)
            *pos = base + fs.bsize;             /* the block is done (even if it had nothing past from) */
    }
    kfree(buf);
    return ret;
}

struct find_ctx {
    const char *name;
    size_t len;
    uint32_t ino;
};

static bool find_fn(void *arg, const char *name, size_t len, uint32_t ino, unsigned t, uint64_t n)
{
    struct find_ctx *c = arg;
    (void)t, (void)n;
    if (len == c->len && !memcmp(name, c->name, len)) {
        c->ino = ino;
        return false;
    }
    return true;
}

static int ext2_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    if (dir->nlink == 0)
        return -ENOENT;     /* removed: empty for good; its ".." is the VFS's (gone_parent) */
    struct find_ctx c = { name, len, 0 };
    uint64_t pos = 0;
    int r = walk_dir(dir, &pos, find_fn, &c);
    if (r < 0)
        return r;
    if (!c.ino)
        return -ENOENT;
    return read_inode(c.ino, out);
}

struct fill_ctx {
    filldir_t fill;
    void *ctx;
};

static bool fill_fn(void *arg, const char *name, size_t len, uint32_t ino, unsigned t, uint64_t n)
{
    struct fill_ctx *c = arg;
    return c->fill(c->ctx, name, len, ino, t, n);
}

static int ext2_readdir(struct inode *dir, uint64_t *pos, filldir_t fill, void *ctx)
{
    if (dir->nlink == 0)
        return -ENOENT;                         /* removed: not even "." and "..", as Linux */
    struct fill_ctx c = { fill, ctx };
    return walk_dir(dir, pos, fill_fn, &c);
}

static long ext2_readlink(struct inode *in, char *buf, size_t n)
{
    struct ext2_inode *e = in->priv;
    size_t len = MIN(in->size, n);
    if (in->size < 60 && in->blocks == ea_blocks(in)) { /* "fast" symlink: in the inode */
        memcpy(buf, e->block, len);
        return (long)len;
    }
    return ext2_read(in, 0, buf, len);
}


/* ================= writing ================= */

static int64_t now(void) { return (int64_t)(time_realtime_ns() / 1000000000ul); }

/* Superblock and group descriptors: updated in memory, copied into their
 * buffers whenever they change. */
static int write_super_and_groups(void)
{
    int r;
    uint64_t sb_blk = 1024 / fs.bsize, sb_off = 1024 % fs.bsize;
    struct buf *b = mread(sb_blk, &r);
    if (!b)
        return r;
    memcpy(b->data + sb_off, &fs.s, sizeof(fs.s));
    bdirty(b);
    brelse(b);
    size_t gd_bytes = (size_t)fs.ngroups * sizeof(struct ext2_group);
    for (size_t done = 0, i = 0; done < gd_bytes; done += fs.bsize, i++) {
        b = mread(fs.s.first_data_block + 1 + i, &r);
        if (!b)
            return r;
        memcpy(b->data, (uint8_t *)fs.groups + done, MIN(fs.bsize, gd_bytes - done));
        bdirty(b);
        brelse(b);
    }
    return 0;
}

/* Find a clear bit in a group's bitmap, set it: the index, or -ENOSPC.
 * Next-fit: the search starts at *hint (just past the last bit taken) and
 * wraps around, a 64-bit word at a time, so filling a group costs a word
 * or so per allocation instead of a scan from bit 0. For a block bitmap
 * (first: the group's first block), skip the blocks the journal says are
 * not reusable yet (see journal_reusable). */
static long take_bit(uint32_t bitmap_blk, uint32_t limit, long first, uint32_t *hint)
{
    int r;
    struct buf *b = mread(bitmap_blk, &r);
    if (!b)
        return r;
    uint64_t *w = (uint64_t *)b->data;
    uint32_t nwords = (limit + 63) / 64, start = *hint < limit ? *hint : 0;
    for (uint32_t k = 0; k <= nwords; k++) {
        uint32_t wi = (start / 64 + k) % nwords;
        uint64_t avail = ~w[wi];
        if (k == 0)
            avail &= ~0ull << (start % 64);     /* from the hint on */
        else if (k == nwords)
            avail &= (start % 64) ? ~(~0ull << (start % 64)) : 0;   /* wrapped: the bits before it */
        while (avail) {
            uint32_t i = wi * 64 + (uint32_t)__builtin_ctzll(avail);
            avail &= avail - 1;
            if (i >= limit)
                break;
            if (first >= 0 && !journal_reusable((uint64_t)first + i))
                continue;
            w[wi] |= 1ull << (i % 64);
            *hint = i + 1;
            bdirty(b);
            brelse(b);
            return i;
        }
    }
    brelse(b);
    return -ENOSPC;
}

static int clear_bit(uint32_t bitmap_blk, uint32_t i, const char *what, uint64_t n)
{
    int r;
    struct buf *b = mread(bitmap_blk, &r);
    if (!b)
        return r;
    if (!(b->data[i / 8] & (1 << (i % 8)))) {
        brelse(b);
        return corrupt(what, n, 0);             /* freeing what is free */
    }
    b->data[i / 8] &= (uint8_t)~(1 << (i % 8));
    bdirty(b);
    brelse(b);
    return 0;
}

/* Set when an allocation failed although the counts say blocks are free:
 * they are ones the running transaction freed, or ones the log still holds
 * copies of, and a commit and checkpoint make them reusable. The operation
 * fails with ENOSPC, ends, and its wrapper (RETRY_AFTER_RECLAIM) reclaims
 * and runs it again. [klock] */
static bool reclaim_wanted;

/* A zeroed block, preferably in group `near`: its number or -errno.
 * INVARIANT(durability and crash consistency): no commit in the middle of
 * a change. Committing here (as this once did, journal_reclaim inside the
 * operation) made a transaction of half a write: the bitmap with the new
 * blocks taken, the inode that would own them not yet written (write_inode
 * comes at the end), so a crash after that commit left blocks marked used
 * that no file owns (the explorer's reuse workload: "Block bitmap
 * differences -(8183--8185)"). */
static long alloc_block(uint32_t near)
{
    if (fs.s.free_blocks == 0)
        return -ENOSPC;
    for (int attempt = 0; attempt < 2; attempt++) {
        for (uint32_t k = 0; k < fs.ngroups; k++) {
            uint32_t g = (near + k) % fs.ngroups;
            if (!fs.groups[g].free_blocks)
                continue;
            uint32_t first = fs.s.first_data_block + g * fs.s.blocks_per_group;
            uint32_t count = MIN(fs.s.blocks_per_group, fs.s.blocks_count - first);
            long i = take_bit(fs.groups[g].block_bitmap, count, first, &fs.block_hint[g]);
            if (i == -ENOSPC)
                continue;
            if (i < 0)
                return i;
            fs.groups[g].free_blocks--;
            fs.s.free_blocks--;
            long blk = first + i;
            struct buf *b = bget_zero((uint64_t)blk);
            brelse(b);
            int r = write_super_and_groups();
            return r ? r : blk;
        }
        /* The only free blocks are ones this transaction freed, or ones
         * the log still holds copies of: once the operation has ended, a
         * commit and checkpoint free them for good (as ext4 retries an
         * allocation after forcing a commit, with its handle stopped). */
#ifdef BREAK_JOURNAL_RECLAIM
        if (journal_commit_pressure() == 0 && journal_checkpoint() == 0)
            continue;                           /* break switch: commit half the change */
#endif
        reclaim_wanted = true;
        break;
    }
    return -ENOSPC;
}

/* After an operation ended with ENOSPC: if freed or logged blocks could
 * make room, commit and checkpoint (no change of ours in progress now) and
 * say so; the caller runs the operation (or its rest) again. */
static bool reclaim_after(long r)
{
    if (r != -ENOSPC || !reclaim_wanted)
        return false;
    reclaim_wanted = false;
    return journal_reclaim() == 0;
}

static int free_block(uint64_t blk)
{
    if (!block_ok(blk))
        return corrupt("block to free", blk, 0);
    uint32_t g = (uint32_t)((blk - fs.s.first_data_block) / fs.s.blocks_per_group);
    uint32_t i = (uint32_t)((blk - fs.s.first_data_block) % fs.s.blocks_per_group);
    int r = clear_bit(fs.groups[g].block_bitmap, i, "free block", blk);
    if (r)
        return r;
    journal_freed(blk);
    fs.groups[g].free_blocks++;
    fs.s.free_blocks++;
    return write_super_and_groups();
}

/* Is blk marked in use in its group's bitmap? (false if unreadable) */
static bool block_in_use(uint64_t blk)
{
    uint32_t g = (uint32_t)((blk - fs.s.first_data_block) / fs.s.blocks_per_group);
    uint32_t i = (uint32_t)((blk - fs.s.first_data_block) % fs.s.blocks_per_group);
    int r;
    struct buf *b = mread(fs.groups[g].block_bitmap, &r);
    if (!b)
        return false;
    bool used = b->data[i / 8] & (1 << (i % 8));
    brelse(b);
    return used;
}

static long alloc_inode_number(uint32_t near, bool dir)
{
    if (fs.s.free_inodes == 0)
        return -ENOSPC;
    for (uint32_t k = 0; k < fs.ngroups; k++) {
        uint32_t g = (near + k) % fs.ngroups;
        if (!fs.groups[g].free_inodes)
            continue;
        long i = take_bit(fs.groups[g].inode_bitmap, fs.s.inodes_per_group, -1, &fs.inode_hint[g]);
        if (i == -ENOSPC)
            continue;
        if (i < 0)
            return i;
        long ino = (long)g * fs.s.inodes_per_group + i + 1;
        if (ino < (long)fs.s.first_ino) {       /* reserved: never hand out */
            k--;
            continue;
        }
        fs.groups[g].free_inodes--;
        fs.s.free_inodes--;
        if (dir)
            fs.groups[g].used_dirs++;
        int r = write_super_and_groups();
        return r ? r : ino;
    }
    return -ENOSPC;
}

static uint32_t group_of(uint64_t ino) { return (uint32_t)((ino - 1) / fs.s.inodes_per_group); }

/* The slot holding logical block lblk's pointer, allocating indirect
 * blocks on the way if create; *slot_buf is the buffer to dirty (NULL: the
 * inode itself). */
static int block_slot(struct inode *in, uint64_t lblk, bool create, uint32_t **slot, struct buf **slot_buf)
{
    unsigned first;
    uint64_t idx[3];
    int depth = ext2_block_path(lblk, fs.bsize / 4, &first, idx);
    if (depth < 0)
        return depth;
    uint32_t *ptr = &E(in)->block[first];
    if (depth == 0) {
        *slot = ptr;
        *slot_buf = NULL;
        return 0;
    }
    struct buf *holder = NULL;
    for (int level = 0; level < depth; level++) {
        if (*ptr == 0) {
            if (!create) {
                if (holder)
                    brelse(holder);
                *slot = NULL;
                return 0;
            }
            long nb = alloc_block(group_of(in->ino));
            if (nb < 0) {
                if (holder)
                    brelse(holder);
                return (int)nb;
            }
            *ptr = (uint32_t)nb;
            in->blocks += fs.bsize / 512;
            if (holder)
                bdirty(holder);
        }
        if (!block_ok(*ptr)) {
            if (holder)
                brelse(holder);
            return corrupt("indirect block number", *ptr, in->ino);
        }
        int r;
        struct buf *next = mread(*ptr, &r);
        if (holder)
            brelse(holder);
        if (!next)
            return r;
        holder = next;
        ptr = &((uint32_t *)holder->data)[idx[level]];
    }
    *slot = ptr;
    *slot_buf = holder;
    return 0;
}

/* The disk block of lblk, allocated (zeroed) if it is a hole. */
static long bmap_alloc(struct inode *in, uint64_t lblk)
{
    uint32_t *slot = NULL;
    struct buf *sb = NULL;
    int r = block_slot(in, lblk, true, &slot, &sb);
    if (r)
        return r;
    long blk = *slot;
    if (blk == 0) {
        blk = alloc_block(group_of(in->ino));
        if (blk >= 0) {
            *slot = (uint32_t)blk;
            in->blocks += fs.bsize / 512;
            if (sb)
                bdirty(sb);
        }
    } else if (!block_ok((uint64_t)blk)) {
        blk = corrupt("data block number", (uint64_t)blk, in->ino);
    }
    if (sb)
        brelse(sb);
    return blk;
}

static long ext2_write_op(struct inode *in, uint64_t off, const void *src, size_t n)
{
    if (!writable)
        return -EROFS;
    /* INVARIANT(kernel memory safety): no offset past the largest file the
     * format maps (s_maxbytes): Linux's EFBIG, and a short write up to it. */
    if (n && off >= fs.sb.maxbytes)
        return -EFBIG;
    n = MIN(n, fs.sb.maxbytes - off);
    size_t done = 0;
    long err = 0;
    while (done < n) {
        uint64_t pos = off + done, in_blk = pos % fs.bsize;
        size_t k = MIN(n - done, fs.bsize - in_blk);
        long blk = bmap_alloc(in, pos / fs.bsize);
        if (blk < 0) {
            err = blk;
            break;
        }
        int r;
        struct buf *b = bread((uint64_t)blk, &r);
        if (!b) {
            err = r;
            break;
        }
        memcpy(b->data + in_blk, (const uint8_t *)src + done, k);
        bdirty_data(b);                         /* file data: ordered, not journaled */
        brelse(b);
        done += k;
    }
    if (off + done > in->size)
        in->size = off + done;
    if (done)
        in->mtime = in->ctime = now();
    int r = write_inode(in);
    if (!done)
        return err ? err : r;
    return (long)done;
}

/* Free the blocks under *slot that map logical blocks >= keep, clearing
 * the pointers to what it frees (holder: the buffer *slot lives in, to
 * dirty; NULL: the inode). level: the levels of pointers in block *slot
 * (0: a data block); first: the logical block its first entry maps.
 * INVARIANT(kernel memory safety): the kernel stack is bounded whatever the
 * file: the recursion is at most 3 deep (the format's tree), each frame a
 * few words (the old version copied each 4 KiB indirect block onto the
 * stack and overflowed it). And the work is bounded by what the file holds,
 * not by its size: only allocated blocks are visited (holes are skipped an
 * entry at a time), so truncating a sparse file of any size is quick. */
static void trunc_tree(uint32_t *slot, struct buf *holder, int level, uint64_t first,
                       uint64_t keep, struct inode *in)
{
    uint32_t blk = *slot;
    if (!blk)
        return;
    if (!block_ok(blk)) {
        corrupt("block number to free", blk, in->ino);
        if (first >= keep) {
            *slot = 0;                          /* drop the bad pointer with the rest */
            if (holder)
                bdirty(holder);
        }
        return;
    }
    if (level > 0 && !block_in_use(blk)) {
        /* Free already: cross-linked (a block reached twice, a tree
         * pointing into itself) or never allocated. Not descended into
         * again, which is what bounds the work by the blocks in use. */
        corrupt("indirect block not in use", blk, in->ino);
        if (first >= keep) {
            *slot = 0;
            if (holder)
                bdirty(holder);
        }
        return;
    }
    if (level > 0) {
        uint64_t per = fs.bsize / 4, span = 1;
        for (int k = 1; k < level; k++)
            span *= per;
        int r;
        struct buf *b = mread(blk, &r);
        if (!b)
            return;                             /* unreadable: leave the tree as it is */
        uint32_t *p = (uint32_t *)b->data;
        for (uint64_t i = 0; i < per; i++)
            if (p[i] && first + (i + 1) * span > keep)
                trunc_tree(&p[i], b, level - 1, first + i * span, keep, in);
        brelse(b);
    }
    if (first >= keep) {
        free_block(blk);
        in->blocks -= MIN(in->blocks, (uint64_t)(fs.bsize / 512));
        *slot = 0;
        if (holder)
            bdirty(holder);
    }
}

static int ext2_truncate_op(struct inode *in, uint64_t size)
{
    if (!writable)
        return -EROFS;
    if (size > fs.sb.maxbytes)
        return -EFBIG;                          /* as Linux: past s_maxbytes */
    if (size < in->size) {
        /* Free the blocks past the new end. (Indirect blocks that still
         * hold some kept block stay.) */
        uint64_t keep = (size + fs.bsize - 1) / fs.bsize, per = fs.bsize / 4;
        struct ext2_inode *e = E(in);
        for (uint64_t l = keep; l < 12; l++)
            trunc_tree(&e->block[l], NULL, 0, l, keep, in);
        trunc_tree(&e->block[12], NULL, 1, 12, keep, in);
        trunc_tree(&e->block[13], NULL, 2, 12 + per, keep, in);
        trunc_tree(&e->block[14], NULL, 3, 12 + per + per * per, keep, in);
        /* Zero the tail of the last kept block, so growing again reads zeros. */
        if (size % fs.bsize) {
            long blk = bmap(in, size / fs.bsize);
            int r;
            struct buf *b = blk > 0 ? mread((uint64_t)blk, &r) : NULL;
            if (b) {
                memset(b->data + size % fs.bsize, 0, fs.bsize - size % fs.bsize);
                bdirty(b);
                brelse(b);
            }
        }
    }
    in->size = size;
    in->mtime = in->ctime = now();
    return write_inode(in);
}

static void ea_release(struct inode *in);

static void free_inode_and_blocks(struct inode *in)
{
    if (!S_ISLNK(in->mode) || in->blocks > ea_blocks(in))
        ext2_truncate_op(in, 0);
    ea_release(in);                             /* its attribute block, if it has one */
    uint32_t g = group_of(in->ino), i = (uint32_t)((in->ino - 1) % fs.s.inodes_per_group);
    in->mode = 0;
    struct ext2_dinode d;
    (void)d;
    /* dtime marks a deleted inode for e2fsck. */
    uint64_t blk;
    uint32_t off;
    int r;
    if (!inode_location((uint32_t)in->ino, &blk, &off)) {
        struct buf *b = mread(blk, &r);
        if (b) {
            struct ext2_dinode *dd = (struct ext2_dinode *)(b->data + off);
            dd->dtime = (uint32_t)now();
            dd->links = 0;
            bdirty(b);
            brelse(b);
        }
    }
    if (clear_bit(fs.groups[g].inode_bitmap, i, "free inode", in->ino) == 0) {
        fs.groups[g].free_inodes++;
        fs.s.free_inodes++;
        write_super_and_groups();
    }
}

static unsigned ftype_of(uint32_t mode)
{
    static const uint8_t by_type[16] = { [S_IFREG >> 12] = 1, [S_IFDIR >> 12] = 2, [S_IFCHR >> 12] = 3,
        [S_IFBLK >> 12] = 4, [S_IFIFO >> 12] = 5, [S_IFSOCK >> 12] = 6, [S_IFLNK >> 12] = 7 };
    return by_type[(mode & S_IFMT) >> 12];
}

uint32_t ext2_rec_len(size_t len) { return (uint32_t)ALIGN_UP(8 + len, 4); }

/* The entry at `at` in a directory block: its inode and record length, once
 * ext2_dirent_ok says the record fits the block (else -EIO, the bad length
 * in *bad_rec for the report). */
static int dirent_header(const uint8_t *blk, uint32_t bsize, uint32_t at, uint32_t *ino,
                         uint16_t *rec, uint16_t *bad_rec)
{
    const uint8_t *e = blk + at;
    memcpy(ino, e, 4);
    memcpy(rec, e + 4, 2);
    if (!ext2_dirent_ok(bsize, at, *rec, e[6])) {
        *bad_rec = *rec;
        return -EIO;
    }
    return 0;
}

int ext2_dirblock_add(uint8_t *blk, uint32_t bsize, const char *name, size_t len, uint32_t ino,
                      uint8_t ftype, uint16_t *bad_rec)
{
    uint32_t need = ext2_rec_len(len);
    for (uint32_t at = 0; at < bsize;) {
        uint8_t *e = blk + at;
        uint32_t eino;
        uint16_t rec;
        if (dirent_header(blk, bsize, at, &eino, &rec, bad_rec))
            return -EIO;
        uint32_t used = eino ? ext2_rec_len(e[6]) : 0;
        if (rec - used >= need) {
            uint8_t *ne = e + used;
            uint16_t nrec = (uint16_t)(rec - used);
            if (used) {
                uint16_t urec = (uint16_t)used;
                memcpy(e + 4, &urec, 2);
            }
            memcpy(ne, &ino, 4);
            memcpy(ne + 4, &nrec, 2);
            ne[6] = (uint8_t)len;
            ne[7] = ftype;
            memcpy(ne + 8, name, len);
            return 1;
        }
        at += rec;
    }
    return 0;
}

void ext2_dirblock_init(uint8_t *blk, uint32_t bsize, const char *name, size_t len, uint32_t ino,
                        uint8_t ftype)
{
    uint16_t rec = (uint16_t)bsize;
    memset(blk, 0, bsize);
    memcpy(blk, &ino, 4);
    memcpy(blk + 4, &rec, 2);
    blk[6] = (uint8_t)len;
    blk[7] = ftype;
    memcpy(blk + 8, name, len);
}

/* Add name -> ino to dir: into the slack of an entry, or a new block. */
static int dir_add(struct inode *dir, const char *name, size_t len, uint32_t ino, uint32_t mode)
{
    for (uint64_t base = 0; base < dir->size; base += fs.bsize) {
        long blk = bmap(dir, base / fs.bsize);
        if (blk <= 0)
            return blk < 0 ? (int)blk : corrupt("directory hole", base, dir->ino);
        int r;
        struct buf *b = mread((uint64_t)blk, &r);
        if (!b)
            return r;
        uint16_t bad;
        int added = ext2_dirblock_add(b->data, fs.bsize, name, len, ino, (uint8_t)ftype_of(mode), &bad);
        if (added < 0) {
            brelse(b);
            return corrupt("directory entry length", bad, dir->ino);
        }
        if (added) {
            bdirty(b);
            brelse(b);
            dir->mtime = dir->ctime = now();
            return write_inode(dir);
        }
        brelse(b);
    }
    /* No room: a new block holding just this entry. */
    long blk = bmap_alloc(dir, dir->size / fs.bsize);
    if (blk < 0)
        return (int)blk;
    int r;
    struct buf *b = mread((uint64_t)blk, &r);
    if (!b)
        return r;
    ext2_dirblock_init(b->data, fs.bsize, name, len, ino, (uint8_t)ftype_of(mode));
    bdirty(b);
    brelse(b);
    dir->size += fs.bsize;
    dir->mtime = dir->ctime = now();
    return write_inode(dir);
}

/* Remove name from dir (merging its space into the entry before it). */
int ext2_dirblock_remove(uint8_t *blk, uint32_t bsize, const char *name, size_t len, uint16_t *bad_rec)
{
    uint8_t *prev = NULL;
    for (uint32_t at = 0; at < bsize;) {
        uint8_t *e = blk + at;
        uint32_t eino;
        uint16_t rec;
        if (dirent_header(blk, bsize, at, &eino, &rec, bad_rec))
            return -EIO;
        if (eino && e[6] == len && !memcmp(e + 8, name, len)) {
            if (prev) {
                uint16_t prec;
                memcpy(&prec, prev + 4, 2);
                prec = (uint16_t)(prec + rec);
                memcpy(prev + 4, &prec, 2);
            } else {
                memset(e, 0, 4);                /* first in its block: just unused */
            }
            return 1;
        }
        prev = e;
        at += rec;
    }
    return 0;
}

static int dir_remove(struct inode *dir, const char *name, size_t len)
{
    for (uint64_t base = 0; base < dir->size; base += fs.bsize) {
        long blk = bmap(dir, base / fs.bsize);
        if (blk <= 0)
            return blk < 0 ? (int)blk : corrupt("directory hole", base, dir->ino);
        int r;
        struct buf *b = mread((uint64_t)blk, &r);
        if (!b)
            return r;
        uint16_t bad;
        int removed = ext2_dirblock_remove(b->data, fs.bsize, name, len, &bad);
        if (removed < 0) {
            brelse(b);
            return corrupt("directory entry length", bad, dir->ino);
        }
        if (removed) {
            bdirty(b);
            brelse(b);
            dir->mtime = dir->ctime = now();
            return write_inode(dir);
        }
        brelse(b);
    }
    return -ENOENT;
}

static bool name_exists(struct inode *dir, const char *name, size_t len)
{
    struct inode *x;
    if (ext2_lookup(dir, name, len, &x))
        return false;
    iput(x);
    return true;
}

/* INVARIANT(durability and crash consistency): a removed directory takes
 * no new entry (ENOENT, as Linux's IS_DEADDIR). A descriptor or a working
 * directory may hold it, or a racing call may have looked it up before
 * the rmdir; its blocks go with its last reference, and an entry made in
 * it meanwhile names a file no directory reaches (e2fsck: "Unconnected
 * directory inode", its ".." a deleted inode; pathfuzz found it). Checked
 * under ns_lock, which the rmdir held too. */
static bool dead_dir(const struct inode *dir)
{
#ifdef BREAK_DEAD_DIR
    return false;                               /* the break switch: entries in a removed directory */
#endif
    return dir->nlink == 0;
}

static int ext2_create_op(struct inode *dir, const char *name, size_t len, uint32_t mode,
                       const char *target, struct inode **out)
{
    if (!writable)
        return -EROFS;
    if (len > NAME_MAX)
        return -ENAMETOOLONG;
    if (dead_dir(dir))
        return -ENOENT;
    if (name_exists(dir, name, len))
        return -EEXIST;
    if (S_ISDIR(mode) && dir->nlink >= 65000)
        return -EMLINK;
    long ino = alloc_inode_number(group_of(dir->ino), S_ISDIR(mode));
    if (ino < 0)
        return (int)ino;
    /* A fresh on-disk inode: zero it, then fill the in-memory one. */
    uint64_t blk;
    uint32_t off;
    int r = inode_location((uint32_t)ino, &blk, &off);
    struct buf *b = r ? NULL : mread(blk, &r);
    if (!b)
        return r;
    memset(b->data + off, 0, fs.s.inode_size);
    if (fs.s.inode_size > 128) {
        uint16_t extra = 32;                    /* i_extra_isize, as mke2fs sets it */
        memcpy(b->data + off + 128, &extra, 2);
    }
    bdirty(b);
    brelse(b);
    struct inode *in;
    if ((r = read_inode((uint32_t)ino, &in)))
        return r;
    in->mode = mode;
    struct proc *cred = current();
    in->uid = cred ? cred->fsuid : 0;           /* the creator owns it (its fs ids) */
    in->gid = cred ? cred->fsgid : 0;
    in->nlink = S_ISDIR(mode) ? 2 : 1;
    in->atime = in->mtime = in->ctime = now();
    in->size = 0;
    in->blocks = 0;
    memset(E(in)->block, 0, sizeof(E(in)->block));
    if (S_ISDIR(mode)) {
        long db = bmap_alloc(in, 0);
        struct buf *d = db < 0 ? NULL : mread((uint64_t)db, &r);
        if (!d) {
            in->nlink = 0;
            iput(in);
            return db < 0 ? (int)db : r;
        }
        uint32_t self = (uint32_t)ino, parent = (uint32_t)dir->ino;
        uint16_t r1 = 12, r2 = (uint16_t)(fs.bsize - 12);
        memcpy(d->data, &self, 4);
        memcpy(d->data + 4, &r1, 2);
        d->data[6] = 1, d->data[7] = 2, d->data[8] = '.';
        memcpy(d->data + 12, &parent, 4);
        memcpy(d->data + 16, &r2, 2);
        d->data[18] = 2, d->data[19] = 2, d->data[20] = '.', d->data[21] = '.';
        bdirty(d);
        brelse(d);
        in->size = fs.bsize;
        dir->nlink++;
    } else if (S_ISLNK(mode)) {
        size_t tlen = strlen(target);
        if (tlen < 60) {
            memcpy(E(in)->block, target, tlen);     /* fast symlink */
            in->size = tlen;
        } else {
            r = (int)ext2_write_op(in, 0, target, tlen);
            if (r < 0) {
                in->nlink = 0;
                iput(in);
                return r;
            }
        }
    }
    if ((r = write_inode(in)) || (r = dir_add(dir, name, len, (uint32_t)ino, mode))) {
        in->nlink = 0;
        iput(in);
        return r;
    }
    if (out)
        *out = in;
    else
        iput(in);
    return 0;
}

static int ext2_link_op(struct inode *dir, const char *name, size_t len, struct inode *in)
{
    if (!writable)
        return -EROFS;
    if (S_ISDIR(in->mode))
        return -EPERM;
    if (dead_dir(dir))
        return -ENOENT;
    if (name_exists(dir, name, len))
        return -EEXIST;
    if (in->nlink >= 65000)
        return -EMLINK;
    int r = dir_add(dir, name, len, (uint32_t)in->ino, in->mode);
    if (r)
        return r;
    in->nlink++;
    in->ctime = now();
    return write_inode(in);
}

static bool not_dot(void *arg, const char *name, size_t len, uint32_t ino, unsigned t, uint64_t n)
{
    (void)ino, (void)t, (void)n;
    bool dot = (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
    if (!dot)
        *(bool *)arg = false;
    return dot;                                 /* stop at the first real entry */
}

/* Only "." and ".." left? (An unreadable directory counts as not empty.) */
static bool dir_empty(struct inode *dir)
{
    bool empty = true;
    uint64_t pos = 0;
    return walk_dir(dir, &pos, not_dot, &empty) >= 0 && empty;
}

static int ext2_unlink_op(struct inode *dir, const char *name, size_t len, bool dir_ok)
{
    if (!writable)
        return -EROFS;
    struct inode *in;
    int r = ext2_lookup(dir, name, len, &in);
    if (r)
        return r;
    if (S_ISDIR(in->mode)) {
        if (!dir_ok)
            r = -EISDIR;
        else if (!dir_empty(in))
            r = -ENOTEMPTY;
    } else if (dir_ok) {
        r = -ENOTDIR;
    }
    if (!r)
        r = dir_remove(dir, name, len);
    if (!r) {
        if (S_ISDIR(in->mode)) {
            in->nlink = 0;
            in->gone_parent = iget(dir);        /* its ".." (the VFS's from now on) */
            dir->nlink--;
            write_inode(dir);
            fs.groups[group_of(in->ino)].used_dirs--;
            write_super_and_groups();
        } else {
            in->nlink--;
        }
        in->ctime = now();
        write_inode(in);
    }
    iput(in);                                   /* frees it if that was the last */
    return r;
}

static int ext2_rename_op(struct inode *odir, const char *oname, size_t olen,
                       struct inode *ndir, const char *nname, size_t nlen)
{
    if (!writable)
        return -EROFS;
    struct inode *in, *old = NULL;
    if (dead_dir(ndir))
        return -ENOENT;
    int r = ext2_lookup(odir, oname, olen, &in);
    if (r)
        return r;
    if (S_ISDIR(in->mode)) {
        /* A directory cannot move into its own subtree: walk up from the
         * destination to the root looking for it. */
        struct inode *up = iget(ndir);
        while (!r && up->ino != EXT2_ROOT_INO) {
            struct inode *parent;
            if (up->ino == in->ino)
                r = -EINVAL;
            else if ((r = ext2_lookup(up, "..", 2, &parent)) == 0) {
                iput(up);
                up = parent;
            }
        }
        iput(up);
        if (r) {
            iput(in);
            return r;
        }
    }
    if (ext2_lookup(ndir, nname, nlen, &old) == 0) {
        if (old == in) {                        /* same file: nothing to do */
            iput(old);
            iput(in);
            return 0;
        }
        if (S_ISDIR(old->mode) != S_ISDIR(in->mode))
            r = S_ISDIR(old->mode) ? -EISDIR : -ENOTDIR;
        else if (S_ISDIR(old->mode) && !dir_empty(old))
            r = -ENOTEMPTY;
        iput(old);
        /* Replace: drop the old name first (not atomic without the journal). */
        if (!r)
            r = ext2_unlink_op(ndir, nname, nlen, S_ISDIR(in->mode));
    }
    if (!r)
        r = dir_add(ndir, nname, nlen, (uint32_t)in->ino, in->mode);
    if (!r)
        r = dir_remove(odir, oname, olen);
    if (!r && S_ISDIR(in->mode) && odir != ndir) {
        /* Its ".." now names the new parent. */
        dir_remove(in, "..", 2);
        dir_add(in, "..", 2, (uint32_t)ndir->ino, S_IFDIR);
        odir->nlink--;
        ndir->nlink++;
        write_inode(odir);
        write_inode(ndir);
    }
    iput(in);
    return r;
}

static int ext2_setattr_op(struct inode *in)
{
    if (!writable)
        return -EROFS;
    in->ctime = now();
    return write_inode(in);
}

/* The superblock and group descriptors reach their buffers with every
 * change to them (write_super_and_groups), so a sync is a commit. After
 * the journal aborted nothing is durable any more: EIO (Linux reports the
 * error to the files whose write-back failed; Vigil to every fsync, which
 * can only be stricter). */
static int ext2_sync(struct super *sb)
{
    (void)sb;
    if (journal_aborted())
        return -EIO;
    if (!writable)
        return 0;
    return journal_commit();
}

/* The journal aborted (a disk error in a commit or checkpoint): what ext4
 * does with errors=remount-ro. Read-only from now on (writes EROFS), and
 * the superblock's state says the file system has errors, written straight
 * to its sectors, not through the cache: the superblock's buffer may hold
 * changes of a transaction that will never commit. (Recovery at the next
 * mount may replay an older copy over it; the journal's own s_errno says
 * it again, and ext2_mount takes it over.) */
static void ext2_journal_aborted(int err)
{
    (void)err;
    writable = false;
    fs.sb.read_only = true;
    fs.s.state |= STATE_ERROR_FS;
    uint8_t *raw = kmalloc(1024);
    if (raw && !block_read(2, raw, 2)) {
        uint16_t state;
        memcpy(&state, raw + SUPER_STATE_OFFSET, 2);
        state |= STATE_ERROR_FS;
        memcpy(raw + SUPER_STATE_OFFSET, &state, 2);
        if (!block_write(2, raw, 2))
            block_flush();
    }
    kfree(raw);
}

/* The superblock's flags changed (mount, unmount): journal it, and sync. */
static int ext2_sync_super(struct super *sb)
{
    journal_begin();
    int r = write_super_and_groups();
    journal_end();
    return r ? r : ext2_sync(sb);
}

/* Does group g hold a copy of the superblock? With sparse_super only
 * groups 0, 1 and powers of 3, 5 and 7 do. */
static bool group_has_super(uint32_t g)
{
    if (g <= 1 || !(fs.s.feature_ro_compat & 1))
        return true;
    for (uint32_t b = 3; b <= 7; b += 2) {
        uint32_t n = b;
        while (n < g)
            n *= b;
        if (n == g)
            return true;
    }
    return false;
}

/* statfs(2): Linux's ext2/ext4 answer. f_blocks leaves out the overhead
 * (superblock copies, descriptors and their reserve, bitmaps, inode tables,
 * the journal) as Linux's default "bsddf" accounting does; f_bavail keeps
 * the reserved blocks for root. */
static void ext2_statfs(struct super *sb, struct kstatfs *st)
{
    (void)sb;
    uint64_t gdt = ((uint64_t)fs.ngroups * sizeof(struct ext2_group) + fs.bsize - 1) / fs.bsize;
    uint64_t itable = ((uint64_t)fs.s.inodes_per_group * fs.s.inode_size + fs.bsize - 1) / fs.bsize;
    uint64_t overhead = fs.s.first_data_block;
    for (uint32_t g = 0; g < fs.ngroups; g++)
        overhead += 2 + itable + (group_has_super(g) ? 1 + gdt + fs.reserved_gdt : 0);
    if (journal_inode)
        overhead += journal_inode->blocks * 512 / fs.bsize;
    st->bsize = st->frsize = fs.bsize;
    st->blocks = fs.s.blocks_count > overhead ? fs.s.blocks_count - overhead : 0;
    st->bfree = fs.s.free_blocks;
    st->bavail = fs.s.free_blocks > fs.s.r_blocks_count ? fs.s.free_blocks - fs.s.r_blocks_count : 0;
    st->files = fs.s.inodes_count;
    st->ffree = fs.s.free_inodes;
}

/* Power-off: commit, and mark the file system clean (no recovery needed). */
static int ext2_shutdown(struct super *sb)
{
    mounted = false;
    if (journal_aborted()) {
        /* Nothing more is written: the log stays for the next mount, and
         * the superblock goes on saying it needs recovery. */
        journal_close();
        return -EIO;
    }
    if (!writable)
        return 0;
    fs.s.feature_incompat &= ~INCOMPAT_RECOVER;
    int r = ext2_sync_super(sb);
    /* Everything home, the journal empty: clean, as the flag now says. */
    if (!r)
        r = journal_checkpoint();
    journal_close();
    return r;
}


static long ext2_write(struct inode *in, uint64_t off, const void *src, size_t n)
{
    size_t done = 0;
    long r;
    reclaim_wanted = false;
    for (int tries = 0;; tries++) {
        journal_begin();
        r = ext2_write_op(in, off + done, (const uint8_t *)src + done, n - done);
        journal_end();
        if (r > 0)
            done += (size_t)r;
        /* A short write that ran out of blocks reports no error: ask again
         * for the rest, which fails with ENOSPC at once if still full. */
        if (r > 0 && done < n && reclaim_wanted)
            continue;
        if (tries >= 3 || !reclaim_after(r))
            break;
    }
    return done ? (long)done : r;
}


static int ext2_truncate(struct inode *in, uint64_t size)
{
    journal_begin();
    int r = ext2_truncate_op(in, size);
    journal_end();
    return r;
}


/* The namespace: every change of directory entries (create, link,
 * unlink, rename) runs under this one sleeping lock. Each sleeps on the
 * disk, and two could interleave: a rename's check that a directory does
 * not move into its own subtree, another rename, then the move (a loop cut
 * off from the root: e2fsck's "Unattached inode"), or an rmdir that found
 * a directory empty while a rename put an entry into it. (Linux: the
 * parents' i_rwsem and s_vfs_rename_mutex.) Lookups do not take it; it
 * is taken before the journal's transaction. No test reaches either
 * window yet (two processes renaming directories into each other with
 * the caches dropped all the time: no loop in 800 moves without it), so
 * it has no break switch: it is here because the windows are there. (A
 * third window it closes has one: an rmdir between a create's lookup of
 * its parent and the create; dead_dir, checked under this lock.) */
static struct mutex ns_lock = MUTEX_INIT("ext2 namespace");

static void ns_enter(void) { mutex_lock(&ns_lock); }
static void ns_leave(void) { mutex_unlock(&ns_lock); }

static int ext2_create(struct inode *dir, const char *name, size_t len, uint32_t mode,
                       const char *target, struct inode **out)
{
    int r;
    reclaim_wanted = false;
    for (int tries = 0;; tries++) {
        ns_enter();
        journal_begin();
        r = ext2_create_op(dir, name, len, mode, target, out);
        journal_end();
        ns_leave();
        if (tries >= 3 || !reclaim_after(r))
            break;
    }
    return r;
}


static int ext2_link(struct inode *dir, const char *name, size_t len, struct inode *in)
{
    int r;
    reclaim_wanted = false;
    for (int tries = 0;; tries++) {
        ns_enter();
        journal_begin();
        r = ext2_link_op(dir, name, len, in);
        journal_end();
        ns_leave();
        if (tries >= 3 || !reclaim_after(r))
            break;
    }
    return r;
}


static int ext2_unlink(struct inode *dir, const char *name, size_t len, bool dir_ok)
{
    ns_enter();
    journal_begin();
    int r = ext2_unlink_op(dir, name, len, dir_ok);
    journal_end();
    ns_leave();
    return r;
}


static int ext2_rename(struct inode *odir, const char *oname, size_t olen,
                       struct inode *ndir, const char *nname, size_t nlen)
{
    int r;
    reclaim_wanted = false;
    for (int tries = 0;; tries++) {
        ns_enter();
        journal_begin();
        r = ext2_rename_op(odir, oname, olen, ndir, nname, nlen);
        journal_end();
        ns_leave();
        if (tries >= 3 || !reclaim_after(r))
            break;
    }
    return r;
}


static int ext2_setattr(struct inode *in)
{
    journal_begin();
    int r = ext2_setattr_op(in);
    journal_end();
    return r;
}

/* ---- extended attributes ----
 *
 * ext2's own format (the ext4 disk-layout document, "Extended
 * Attributes"): a file's attributes live in one block its inode names
 * (i_file_acl), a 32-byte header (magic 0xEA020000, a reference count, a
 * hash), then the entries (name index, name without its prefix, where the
 * value lies, a hash of name and value), ending with four zero bytes, and
 * the values packed from the block's end down. Vigil writes only
 * unshared blocks (one file's own; a block mke2fs or Linux shared is
 * copied before it changes), keeps the entries sorted as Linux's ext2
 * does, and computes the entry hashes e2fsck checks. The block is
 * metadata: every change is one journaled operation with the inode.
 * Attributes inside a large inode's spare bytes are not read. */

#define EA_MAGIC 0xEA020000u
#define EA_HEADER 32

struct ea_entry_d {             /* on the disk, then the name */
    uint8_t name_len, name_index;
    uint16_t value_offs;
    uint32_t value_inum, value_size, hash;
} __packed;

static const struct { uint8_t index; const char *prefix; } ea_names[] = {
    { 1, "user." }, { 4, "trusted." }, { 6, "security." },
};

static uint64_t ea_blocks(struct inode *in) { return E(in)->file_acl ? fs.bsize / 512 : 0; }

/* name ("user.x") as ext2 stores it: its index and the rest. */
static int ea_split(const char *name, uint8_t *index, const char **rest)
{
    for (size_t i = 0; i < ARRAY_SIZE(ea_names); i++) {
        size_t n = strlen(ea_names[i].prefix);
        if (!strncmp(name, ea_names[i].prefix, n)) {
            *index = ea_names[i].index;
            *rest = name + n;
            return 0;
        }
    }
    return -EOPNOTSUPP;                         /* system.posix_acl_*: no ACLs here */
}

uint32_t ext2_xattr_hash(const char *name, size_t nlen, const uint8_t *value, uint32_t size)
{
    uint32_t h = 0;
    for (size_t i = 0; i < nlen; i++)           /* (signed chars, as e2fsprogs reads them) */
        h = (h << 5) ^ (h >> 27) ^ (uint32_t)(int32_t)(int8_t)name[i];
    for (uint32_t at = 0; at < size; at += 4) {
        uint32_t w = 0;
        memcpy(&w, value + at, MIN(4u, size - at));
        h = (h << 16) ^ (h >> 16) ^ w;
    }
    return h;
}

/* INVARIANT(kernel memory safety): an attribute block from the disk is
 * believed only if every entry, name and value lies inside the block and
 * the values lie past the entries: else EIO, never a read outside it. */
int ext2_xattr_parse(const uint8_t *blk, uint32_t bsize, struct ea *list, int max)
{
    uint32_t magic, nblocks;
    memcpy(&magic, blk, 4);
    memcpy(&nblocks, blk + 8, 4);
    if (magic != EA_MAGIC || nblocks != 1)
        return -EIO;
    uint32_t at = EA_HEADER;
    int n = 0;
    for (;;) {
        uint32_t first;
        if (at + 4 > bsize)
            return -EIO;
        memcpy(&first, blk + at, 4);
        if (first == 0)
            break;
        struct ea_entry_d e;
        if (at + sizeof(e) > bsize || n >= max)
            return -EIO;
        memcpy(&e, blk + at, sizeof(e));
        uint32_t esize = ALIGN_UP((uint32_t)sizeof(e) + e.name_len, 4);
        if (e.name_len == 0 || at + esize + 4 > bsize || e.value_inum ||
            e.value_size > bsize || e.value_offs + e.value_size > bsize)
            return -EIO;
        list[n++] = (struct ea){ e.name_index, e.name_len, (const char *)blk + at + sizeof(e),
                                 blk + e.value_offs, e.value_size };
        at += esize;
    }
    for (int i = 0; i < n; i++)
        if (list[i].size && (uint32_t)(list[i].value - blk) < at + 4)
            return -EIO;                        /* a value over the entries */
    return n;
}

/* The block for list (n entries, sorted), into blk (bsize bytes); -ENOSPC
 * if it does not fit. */
static int ea_build(uint8_t *blk, uint32_t bsize, struct ea *list, int n)
{
    uint32_t need = EA_HEADER + 4;
    for (int i = 0; i < n; i++)
        need += ALIGN_UP((uint32_t)sizeof(struct ea_entry_d) + list[i].nlen, 4) + ALIGN_UP(list[i].size, 4);
    if (need > bsize)
        return -ENOSPC;
    uint8_t *out = kzalloc(bsize);
    if (!out)
        return -ENOMEM;
    uint32_t hdr[8] = { EA_MAGIC, 1, 1, 0, 0, 0, 0, 0 }, at = EA_HEADER, end = bsize, bhash = 0;
    for (int i = 0; i < n; i++) {
        struct ea_entry_d e = { list[i].nlen, list[i].index, 0, 0, list[i].size, 0 };
        if (list[i].size) {
            end -= ALIGN_UP(list[i].size, 4);
            e.value_offs = (uint16_t)end;
            memcpy(out + end, list[i].value, list[i].size);
        }
        e.hash = ext2_xattr_hash(list[i].name, list[i].nlen, out + e.value_offs, list[i].size);
        memcpy(out + at, &e, sizeof(e));
        memcpy(out + at + sizeof(e), list[i].name, list[i].nlen);
        at += ALIGN_UP((uint32_t)sizeof(e) + list[i].nlen, 4);
        bhash = (bhash << 16) ^ (bhash >> 16) ^ e.hash;
    }
    hdr[3] = bhash;
    memcpy(out, hdr, sizeof(hdr));
    memcpy(blk, out, bsize);
    kfree(out);
    return 0;
}

/* The inode's attributes: a private copy of its block (*copy, kfree'd by
 * the caller) and the entries in it (*list, kfree'd too); *n 0 and both
 * NULL when it has none. */
static int ea_load(struct inode *in, uint8_t **copy, struct ea **list, int *n)
{
    *copy = NULL;
    *list = NULL;
    *n = 0;
    uint32_t blkno = E(in)->file_acl;
    if (!blkno)
        return 0;
    if (!block_ok(blkno))
        return corrupt("extended attribute block", blkno, in->ino);
    int r, max = (int)(fs.bsize / 16);
    struct buf *b = mread(blkno, &r);
    if (!b)
        return r;
    *copy = kmalloc(fs.bsize);
    *list = kmalloc(sizeof(struct ea) * (size_t)max);
    if (!*copy || !*list) {
        brelse(b);
        kfree(*copy);
        kfree(*list);
        *copy = NULL, *list = NULL;
        return -ENOMEM;
    }
    memcpy(*copy, b->data, fs.bsize);
    brelse(b);
    if ((*n = ext2_xattr_parse(*copy, fs.bsize, *list, max)) < 0) {
        kfree(*copy);
        kfree(*list);
        *copy = NULL, *list = NULL;
        *n = 0;
        return corrupt("extended attribute block", blkno, in->ino);
    }
    return 0;
}

static int ea_find(struct ea *list, int n, uint8_t index, const char *name, size_t nlen)
{
    for (int i = 0; i < n; i++)
        if (list[i].index == index && list[i].nlen == nlen && !memcmp(list[i].name, name, nlen))
            return i;
    return -1;
}

static long ext2_getxattr(struct inode *in, const char *name, void *buf, size_t size)
{
    uint8_t index;
    const char *rest;
    if (ea_split(name, &index, &rest))
        return -ENODATA;
    uint8_t *copy;
    struct ea *list;
    int n, r = ea_load(in, &copy, &list, &n);
    if (r)
        return r;
    int i = ea_find(list, n, index, rest, strlen(rest));
    long ret = i < 0 ? -ENODATA : size == 0 ? (long)list[i].size : size < list[i].size ? -ERANGE
                     : (memcpy(buf, list[i].value, list[i].size), (long)list[i].size);
    kfree(copy);
    kfree(list);
    return ret;
}

static long ext2_listxattr(struct inode *in, char *buf, size_t size)
{
    uint8_t *copy;
    struct ea *list;
    int n, r = ea_load(in, &copy, &list, &n);
    if (r)
        return r;
    size_t total = 0;
    long ret = 0;
    for (int i = 0; i < n && !ret; i++) {
        const char *prefix = NULL;
        for (size_t k = 0; k < ARRAY_SIZE(ea_names); k++)
            if (ea_names[k].index == list[i].index)
                prefix = ea_names[k].prefix;
        if (!prefix || (list[i].index == 4 && current()->euid != 0))
            continue;                           /* an index Vigil does not know; trusted.*: root's */
        size_t pl = strlen(prefix), len = pl + list[i].nlen + 1;
        if (size && total + len > size)
            ret = -ERANGE;
        else if (size) {
            memcpy(buf + total, prefix, pl);
            memcpy(buf + total + pl, list[i].name, list[i].nlen);
            buf[total + len - 1] = 0;
        }
        total += len;
    }
    kfree(copy);
    kfree(list);
    return ret ? ret : (long)total;
}

/* Sorted as Linux's ext2 keeps them: by index, name length, name. */
static int ea_cmp(const struct ea *a, const struct ea *b)
{
    if (a->index != b->index)
        return a->index - b->index;
    if (a->nlen != b->nlen)
        return a->nlen - b->nlen;
    return memcmp(a->name, b->name, a->nlen);
}

/* Let go of the inode's attribute block (shared: one reference less). */
static void ea_release(struct inode *in)
{
    uint32_t blkno = E(in)->file_acl;
    if (!blkno || !block_ok(blkno))
        return;
    int r;
    struct buf *b = mread(blkno, &r);
    uint32_t refs = 1;
    if (b)
        memcpy(&refs, b->data + 4, 4);
    if (b && refs > 1) {
        refs--;
        memcpy(b->data + 4, &refs, 4);
        bdirty(b);
    }
    if (b)
        brelse(b);
    if (refs <= 1)
        free_block(blkno);
    E(in)->file_acl = 0;
    in->blocks -= MIN(in->blocks, (uint64_t)(fs.bsize / 512));
}

static int ext2_setxattr_op(struct inode *in, const char *name, const void *value, size_t size, int flags)
{
    uint8_t index;
    const char *rest;
    int r = ea_split(name, &index, &rest);
    if (r)
        return r;
    size_t nlen = strlen(rest);
    if (nlen > 255 || size > fs.bsize)
        return -ERANGE;                         /* as Linux's ext2 */
    uint8_t *copy;
    struct ea *list;
    int n;
    if ((r = ea_load(in, &copy, &list, &n)))
        return r;
    if (!list && !(list = kmalloc(sizeof(struct ea) * (fs.bsize / 16)))) {
        return -ENOMEM;
    }
    int i = ea_find(list, n, index, rest, nlen);
    if (i >= 0 && (flags & XATTR_CREATE))
        r = -EEXIST;
    else if (i < 0 && ((flags & XATTR_REPLACE) || !value))
        r = -ENODATA;
    else if (i >= 0 && !value)
        list[i] = list[--n];                    /* removed */
    else if (i >= 0)
        list[i].value = value, list[i].size = (uint32_t)size;
    else if (n >= (int)(fs.bsize / 16))
        r = -ENOSPC;
    else
        list[n++] = (struct ea){ index, (uint8_t)nlen, rest, value, (uint32_t)size };
    for (int a = 1; a < n && !r; a++)           /* sorted again (insertion: a handful) */
        for (int b = a; b > 0 && ea_cmp(&list[b - 1], &list[b]) > 0; b--) {
            struct ea t = list[b];
            list[b] = list[b - 1];
            list[b - 1] = t;
        }
    uint8_t *blk = r ? NULL : kmalloc(fs.bsize);
    if (!r && !blk)
        r = -ENOMEM;
    if (!r && n)
        r = ea_build(blk, fs.bsize, list, n);
    if (!r && n == 0) {
        ea_release(in);                         /* the last one went: the block goes */
    } else if (!r) {
        /* Rewrite our own block in place; a shared one (or none) is left
         * for a new block of our own. */
        uint32_t old = E(in)->file_acl, refs = 0;
        if (old) {
            struct buf *ob = mread(old, &r);
            if (ob) {
                memcpy(&refs, ob->data + 4, 4);
                brelse(ob);
            }
        }
        long blkno = old && refs == 1 ? (long)old : r ? r : alloc_block(group_of(in->ino));
        struct buf *b = blkno > 0 ? mread((uint64_t)blkno, &r) : NULL;
        if (blkno < 0)
            r = (int)blkno;
        if (b) {
            memcpy(b->data, blk, fs.bsize);
            bdirty(b);
            brelse(b);
            if (blkno != (long)old) {
                if (old)
                    ea_release(in);             /* the shared one: a reference less */
                E(in)->file_acl = (uint32_t)blkno;
                in->blocks += fs.bsize / 512;
            }
        }
    }
    if (!r) {
        in->ctime = now();
        r = write_inode(in);
    }
    kfree(blk);
    kfree(copy);
    kfree(list);
    return r;
}

static int ext2_setxattr(struct inode *in, const char *name, const void *value, size_t size, int flags)
{
    if (!writable)
        return -EROFS;
    journal_begin();
    int r = ext2_setxattr_op(in, name, value, size, flags);
    journal_end();
    return r;
}

static const struct inode_ops ext2_ops = {
    .lookup = ext2_lookup, .read = ext2_read, .readdir = ext2_readdir,
    .readlink = ext2_readlink, .release = ext2_release,
    .write = ext2_write, .truncate = ext2_truncate, .create = ext2_create, .link = ext2_link,
    .unlink = ext2_unlink, .rename = ext2_rename, .setattr = ext2_setattr, .sync = ext2_sync,
    .bmap = ext2_bmap_sector, .getxattr = ext2_getxattr, .listxattr = ext2_listxattr,
    .setxattr = ext2_setxattr,
};

/* INVARIANT(kernel memory safety): no umount while an inode of the file
 * system is in use, the root included (a cwd or an open descriptor there).
 * The root's references while nothing uses it: never released. */
#define ROOT_REFS (1 << 30)

bool ext2_busy(void)
{
    if (fs.sb.root && fs.sb.root->refs > ROOT_REFS)
        return true;                            /* a cwd or an open descriptor on the root */
    for (struct inode *l = live; l; l = E(l)->next_live)
        if (l != fs.sb.root && l != journal_inode)
            return true;                        /* a file or directory still in use */
    return false;
}

/* Indirect blocks needed to map n data blocks from logical block 0. */
static uint64_t indirect_blocks_for(uint64_t n, uint64_t per)
{
    if (n <= 12)
        return 0;
    n -= 12;
    if (n <= per)
        return 1;
    n -= per;
    if (n <= per * per)
        return 1 + 1 + DIV_ROUND_UP(n, per);
    n -= per * per;
    return 1 + (1 + per) + 1 + DIV_ROUND_UP(n, per * per) + DIV_ROUND_UP(n, per);
}

/* s_maxbytes for a block-mapped file without huge_file, as Linux computes
 * it: the tree maps 12 + per + per^2 + per^3 blocks, and i_blocks (32 bits
 * of 512-byte sectors) must count the data and the indirect blocks. */
static uint64_t max_file_size(uint32_t bsize)
{
    uint64_t per = bsize / 4, tree = 12 + per + per * per + per * per * per;
    uint64_t limit = 0xffffffffull / (bsize / 512);
    uint64_t blocks = tree + indirect_blocks_for(tree, per) <= limit
                          ? tree : limit - indirect_blocks_for(limit, per);
    return MIN(blocks * bsize, 0x7fffffffffffffffull);     /* and Linux's MAX_LFS_FILESIZE */
}

/* ---- mounting an untrusted disk ----
 * INVARIANT(kernel memory safety): a disk is data from outside. Every number
 * in the superblock and the group descriptors that later indexes memory or
 * the disk is checked here, before use, against the disk and against the
 * others (ext4 documentation's disk layout; Linux's ext4 refuses the same
 * things): what fails is refused with EINVAL ("not a file system I can
 * use", as ext4_fill_super says for a bad superblock) or EUCLEAN (Linux's
 * EFSCORRUPTED, for group descriptors that point outside their group, as
 * ext4_check_descriptors does). Afterwards the numbers that remain
 * unchecked — inode numbers in directories, block numbers in inodes and
 * indirect blocks, directory entry lengths — are checked where they are
 * read (block_ok, inode_location, walk_dir): -EIO and a console line. */

static int refuse(int err, const char *why, uint64_t v)
{
    kprintf("ext2: %s (%lu); not mounting\n", why, v);
    return err;
}

/* The break switch disk-checks trusts the disk (as the kernel before issue
 * 14 did): the refusals below, and check_group's, are left out. */
#ifdef BREAK_DISK_CHECKS
#define REFUSE_IF(cond, why, v) do { (void)sizeof(cond); (void)(v); } while (0)
#else
#define REFUSE_IF(cond, why, v) do { if (cond) return refuse(-EINVAL, why, v); } while (0)
#endif

/* The superblock in fs.s against itself and the disk (of disk_kib 1 KiB
 * units); sets fs.bsize and fs.ngroups. */
static __attribute__((noinline)) int check_super(uint64_t disk_kib)
{
    struct ext2_super *s = &fs.s;
    if (s->magic != EXT2_MAGIC) {
        kprintf("ext2: no ext2 file system on the disk (magic 0x%x)\n", s->magic);
        return -EINVAL;
    }
    if (s->log_block_size > 2)
        return refuse(-EINVAL, "block size not 1, 2 or 4 KiB: log", s->log_block_size);
    fs.bsize = 1024u << s->log_block_size;
    REFUSE_IF(s->rev_level > 1, "unknown revision", s->rev_level);
    if (s->rev_level == 0) {
        s->inode_size = 128;
        s->first_ino = 11;
    }
    REFUSE_IF(s->inode_size < 128 || s->inode_size > fs.bsize || (s->inode_size & (s->inode_size - 1)),
              "bad inode size", s->inode_size);
    REFUSE_IF(s->blocks_count == 0 || (uint64_t)s->blocks_count * (fs.bsize / 1024) > disk_kib,
              "block count beyond the disk", s->blocks_count);
    REFUSE_IF(s->first_data_block != (fs.bsize == 1024 ? 1u : 0u),
              "bad first data block", s->first_data_block);
    REFUSE_IF(s->blocks_per_group < 8 || s->blocks_per_group > 8 * fs.bsize,
              "bad blocks per group", s->blocks_per_group);
    uint32_t per_block = fs.bsize / s->inode_size;
    REFUSE_IF(s->inodes_per_group < per_block || s->inodes_per_group > 8 * fs.bsize ||
              s->inodes_per_group % per_block, "bad inodes per group", s->inodes_per_group);
    REFUSE_IF(s->blocks_count <= s->first_data_block,
              "no blocks past the first", s->blocks_count);
    uint64_t ngroups = ((uint64_t)s->blocks_count - s->first_data_block + s->blocks_per_group - 1) /
                       s->blocks_per_group;
    REFUSE_IF(ngroups * s->inodes_per_group != s->inodes_count,
              "inode count not groups x inodes per group", s->inodes_count);
    fs.ngroups = (uint32_t)ngroups;
    uint64_t gd_blocks = DIV_ROUND_UP(ngroups * sizeof(struct ext2_group), fs.bsize);
    REFUSE_IF(s->first_data_block + 1 + gd_blocks > s->blocks_count,
              "group descriptors beyond the end", gd_blocks);
    REFUSE_IF(s->first_ino < 11 || s->first_ino > s->inodes_count,
              "bad first inode", s->first_ino);
    return 0;
}

/* Group g's descriptor: its bitmaps and inode table inside the file system
 * (inside the group without flex_bg), clear of the superblock and the
 * descriptors. */
static __attribute__((noinline)) int check_group(uint32_t g)
{
#ifdef BREAK_DISK_CHECKS
    return 0;
#endif
    struct ext2_group *gd = &fs.groups[g];
    uint64_t meta_end = fs.s.first_data_block + 1 +
                        DIV_ROUND_UP((uint64_t)fs.ngroups * sizeof(struct ext2_group), fs.bsize);
    uint64_t lo = meta_end, hi = fs.s.blocks_count;
    if (!(fs.s.feature_incompat & INCOMPAT_FLEX_BG)) {
        lo = MAX(lo, fs.s.first_data_block + (uint64_t)g * fs.s.blocks_per_group);
        hi = MIN(hi, fs.s.first_data_block + (uint64_t)(g + 1) * fs.s.blocks_per_group);
    }
    uint64_t itable = (uint64_t)fs.s.inodes_per_group * fs.s.inode_size / fs.bsize;
    const char *bad = gd->block_bitmap < lo || gd->block_bitmap >= hi ? "block bitmap"
                    : gd->inode_bitmap < lo || gd->inode_bitmap >= hi ? "inode bitmap"
                    : gd->inode_table < lo || gd->inode_table + itable > hi ? "inode table" : NULL;
    if (!bad)
        return 0;
    kprintf("ext2: group %u's %s is outside its blocks [%lu, %lu); not mounting\n", g, bad, lo, hi);
    return -EUCLEAN;
}

/* Read and check the superblock and the group descriptors (at mount, and
 * again after recovery, which may have rewritten them). */
static int load_super_and_groups(void)
{
    uint8_t *raw = kmalloc(1024);
    int r = raw ? block_read(2, raw, 2) : -ENOMEM;
    if (!r) {
        memcpy(&fs.s, raw, sizeof(fs.s));
        memcpy(&fs.journal_ino, raw + 0xE0, 4);
        memcpy(&fs.reserved_gdt, raw + 0xCE, 2);
    }
    kfree(raw);
    if (r)
        return r == -ENOMEM ? r : -EIO;
    r = check_super(block_sectors() / 2);
    if (r)
        return r;
    bcache_init(fs.bsize);
    size_t gd_bytes = ALIGN_UP((size_t)fs.ngroups * sizeof(struct ext2_group), fs.bsize);
    kfree(fs.groups);
    kfree(fs.block_hint);
    kfree(fs.inode_hint);
    fs.groups = kmalloc(gd_bytes);
    fs.block_hint = kzalloc(sizeof(uint32_t) * fs.ngroups);
    fs.inode_hint = kzalloc(sizeof(uint32_t) * fs.ngroups);
    if (!fs.groups || !fs.block_hint || !fs.inode_hint)
        return -ENOMEM;
    for (size_t i = 0; i < gd_bytes / fs.bsize; i++) {
        struct buf *b = bread(fs.s.first_data_block + 1 + i, &r);
        if (!b)
            return r;
        memcpy((uint8_t *)fs.groups + i * fs.bsize, b->data, fs.bsize);
        brelse(b);
    }
    for (uint32_t g = 0; g < fs.ngroups; g++)
        if ((r = check_group(g)))
            return r;
    return 0;
}

/* The journal inode: a regular file in use, by a number the superblock
 * may name. */
static int open_journal_inode(uint32_t ino)
{
    if (ino < 1 || ino >= fs.s.first_ino || ino == EXT2_ROOT_INO)
        return corrupt("journal inode number", ino, ino);
    int r = read_inode(ino, &journal_inode);
    if (r)
        return r;
    journal_inode->refs = 1 << 30;
    if (!S_ISREG(journal_inode->mode) || !journal_inode->nlink)
        return corrupt("journal inode mode", journal_inode->mode, ino);
    return 0;
}

struct super *ext2_mount(int part, bool ro, int *err)
{
    *err = -ENODEV;
    if (!block_present())
        return NULL;
    *err = -EBUSY;
    if (mounted)
        return NULL;                            /* one file system at a time */
    live = NULL;
    journal_inode = NULL;
    corrupt_reports = 0;
    journal_close();                            /* nothing of the last one's log */
    /* The whole disk, or partition part of it, and nothing else. */
    block_set_window(0, 0);
    if (part) {
        uint64_t first, count;
        if ((*err = block_partition(part, &first, &count)) || (*err = block_set_window(first, count)))
            return NULL;
    }
    if ((*err = load_super_and_groups()))
        return NULL;
    struct ext2_super *s = &fs.s;
    bool journaled = s->feature_compat & COMPAT_HAS_JOURNAL;
    if (s->feature_incompat & ~(INCOMPAT_SUPPORTED | (journaled ? INCOMPAT_RECOVER : 0))) {
        kprintf("ext2: unsupported features 0x%x%s; not mounting\n",
                s->feature_incompat & ~INCOMPAT_SUPPORTED,
                s->feature_incompat & INCOMPAT_RECOVER ? " (the journal needs recovery)" : "");
        *err = -EINVAL;
        return NULL;
    }
    /* The journal first: replaying it may change everything read so far. */
    bool ok_rw = !ro && !(s->feature_ro_compat & ~RO_COMPAT_SUPPORTED);
    if (journaled && ok_rw) {
        int jr = open_journal_inode(fs.journal_ino);
        if (!jr)
            jr = journal_open(journal_bmap, journal_inode->size / fs.bsize, fs.bsize, s->blocks_count);
        if (jr) {
            kprintf("ext2: journal unusable (%d); mounting read-only\n", jr);
            ro = true;
        } else if (journal_replayed()) {
            /* Re-read (and re-check) what recovery may have rewritten. */
            live = NULL;
            journal_inode = NULL;
            if ((*err = load_super_and_groups()) || (*err = open_journal_inode(fs.journal_ino)))
                return NULL;
        }
    } else if (!ro && !journaled) {
        kprintf("ext2: no journal: a crash can leave the file system needing e2fsck\n");
    }
    if (journaled && !ro) {
        journal_on_abort(ext2_journal_aborted);
        if (journal_error_at_open()) {
            /* An earlier mount's journal aborted: the file system has
             * errors (ext4 moves s_errno into its superblock the same way). */
            s->state |= STATE_ERROR_FS;
            journal_clear_error();
        }
    }
    if (s->state & STATE_ERROR_FS)
        kprintf("ext2: mounting a file system with errors recorded; e2fsck is recommended\n");
    struct inode *root;
    if ((*err = read_inode(EXT2_ROOT_INO, &root)) || !S_ISDIR(root->mode)) {
        kprintf("ext2: no root directory; not mounting\n");
        *err = -EINVAL;
        return NULL;
    }
    root->refs = ROOT_REFS;                             /* the root is never released */
    fs.sb = (struct super){ .root = root, .dev = 0xfe00, .type = "ext2",
                            .maxbytes = max_file_size(fs.bsize) };
    /* Read-only if asked, or if it has features whose rules we would break. */
    writable = !ro && !(s->feature_ro_compat & ~RO_COMPAT_SUPPORTED);
    fs.sb.read_only = !writable;
    fs.sb.shutdown = ext2_shutdown;
    fs.sb.statfs = ext2_statfs;
    fs.sb.fh_to_inode = ext2_fh_to_inode;
    if (writable && journaled) {
        /* While mounted, tell e2fsck (and Linux) that the journal may need
         * replaying; cleared at a clean power-off. */
        fs.s.feature_incompat |= INCOMPAT_RECOVER;
        if ((*err = ext2_sync_super(&fs.sb)))
            return NULL;
    }
    mounted = true;
    *err = 0;
    kprintf("ext2: mounted %s: %u blocks of %u bytes, %u inodes, %u groups\n",
            writable ? "read-write" : "read-only", s->blocks_count, fs.bsize, s->inodes_count,
            fs.ngroups);
    return &fs.sb;
}
