/* fs/ext2.c - the ext2 on-disk format (as e2fsprogs writes it for
 * `mke2fs -t ext3`), read side: superblock, group descriptors, inodes,
 * direct and (double, triple) indirect blocks, holes, linear directories,
 * symlinks. Every block number read from disk is checked against the file
 * system's size before use: a corrupt image gives -EIO and a console
 * message, never a wild read. (Layout: the ext4 disk-layout documentation.) */
#include "vfs.h"
#include "bcache.h"
#include "../drivers/block.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"

#define EXT2_MAGIC          0xEF53
#define EXT2_ROOT_INO       2
#define INCOMPAT_FILETYPE   0x0002
#define INCOMPAT_RECOVER    0x0004
#define INCOMPAT_FLEX_BG    0x0200
#define INCOMPAT_SUPPORTED  (INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG)

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
    struct ext2_group *groups;
};

struct ext2_inode {             /* inode->priv */
    uint32_t block[15];
    uint32_t flags;
};

static struct ext2_fs fs;
static const struct inode_ops ext2_ops;

static int corrupt(const char *what, uint64_t value, uint64_t ino)
{
    kprintf("ext2: corrupt file system: %s %lu (inode %lu)\n", what, value, ino);
    return -EIO;
}

static bool block_ok(uint64_t b) { return b >= fs.s.first_data_block && b < fs.s.blocks_count; }

/* Read an inode from the table into a fresh in-memory inode. */
static int read_inode(uint32_t ino, struct inode **out)
{
    if (ino < 1 || ino > fs.s.inodes_count)
        return corrupt("inode number", ino, ino);
    uint32_t group = (ino - 1) / fs.s.inodes_per_group;
    uint32_t index = (ino - 1) % fs.s.inodes_per_group;
    uint64_t off = (uint64_t)index * fs.s.inode_size;
    uint64_t blk = fs.groups[group].inode_table + off / fs.bsize;
    if (!block_ok(blk))
        return corrupt("inode table block", blk, ino);
    uint8_t *buf = kmalloc(fs.bsize);
    if (!buf)
        return -ENOMEM;
    int r = bread(blk, buf);
    struct ext2_dinode d;
    memcpy(&d, buf + off % fs.bsize, sizeof(d));
    kfree(buf);
    if (r)
        return r;
    struct inode *in = kzalloc(sizeof(*in) + sizeof(struct ext2_inode));
    if (!in)
        return -ENOMEM;
    struct ext2_inode *e = (struct ext2_inode *)(in + 1);
    memcpy(e->block, d.block, sizeof(e->block));
    e->flags = d.flags;
    *in = (struct inode){
        .sb = &fs.sb, .ino = ino, .mode = d.mode, .uid = d.uid, .gid = d.gid,
        .nlink = d.links, .size = d.size | (S_ISREG(d.mode) ? (uint64_t)d.size_high << 32 : 0),
        .blocks = d.blocks, .atime = d.atime, .mtime = d.mtime, .ctime = d.ctime,
        .refs = 1, .ops = &ext2_ops, .priv = e,
    };
    *out = in;
    return 0;
}

static void ext2_release(struct inode *in) { kfree(in); }

/* Entry idx of the block-pointer block blk (0 for a hole). */
static long indirect(uint64_t blk, uint64_t idx, uint64_t ino)
{
    if (blk == 0)
        return 0;
    if (!block_ok(blk))
        return corrupt("indirect block number", blk, ino);
    uint32_t *buf = kmalloc(fs.bsize);
    if (!buf)
        return -ENOMEM;
    int r = bread(blk, buf);
    long v = r ? r : (long)buf[idx];
    kfree(buf);
    return v;
}

/* The disk block holding logical block lblk of a file: 0 for a hole. */
static long bmap(struct inode *in, uint64_t lblk)
{
    struct ext2_inode *e = in->priv;
    uint64_t per = fs.bsize / 4;
    long b;
    if (lblk < 12) {
        b = e->block[lblk];
    } else if ((lblk -= 12) < per) {
        b = indirect(e->block[12], lblk, in->ino);
    } else if ((lblk -= per) < per * per) {
        long mid = indirect(e->block[13], lblk / per, in->ino);
        b = mid <= 0 ? mid : indirect((uint64_t)mid, lblk % per, in->ino);
    } else if ((lblk -= per * per) < per * per * per) {
        long l1 = indirect(e->block[14], lblk / (per * per), in->ino);
        long l2 = l1 <= 0 ? l1 : indirect((uint64_t)l1, lblk / per % per, in->ino);
        b = l2 <= 0 ? l2 : indirect((uint64_t)l2, lblk % per, in->ino);
    } else {
        return -EFBIG;
    }
    if (b > 0 && !block_ok((uint64_t)b))
        return corrupt("data block number", (uint64_t)b, in->ino);
    return b;
}

static long ext2_read(struct inode *in, uint64_t off, void *dst, size_t n)
{
    if (off >= in->size)
        return 0;
    n = MIN(n, in->size - off);
    uint8_t *buf = kmalloc(fs.bsize);
    if (!buf)
        return -ENOMEM;
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
            int r = bread((uint64_t)b, buf);
            if (r) {
                err = r;
                break;
            }
            memcpy((uint8_t *)dst + done, buf + in_blk, k);
        }
        done += k;
    }
    kfree(buf);
    return done ? (long)done : err;
}

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
        uint32_t at = (uint32_t)(*pos % fs.bsize);
        while (at < fs.bsize) {
            uint32_t ino;
            uint16_t rec;
            memcpy(&ino, buf + at, 4);
            memcpy(&rec, buf + at + 4, 2);
            uint8_t nlen = buf[at + 6], type = buf[at + 7];
            if (rec < 8 || rec % 4 || at + rec > fs.bsize || (uint32_t)nlen + 8 > rec) {
                ret = corrupt("directory entry length", rec, dir->ino);
                break;
            }
            uint64_t next = base + at + rec;
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
    struct fill_ctx c = { fill, ctx };
    return walk_dir(dir, pos, fill_fn, &c);
}

static long ext2_readlink(struct inode *in, char *buf, size_t n)
{
    struct ext2_inode *e = in->priv;
    size_t len = MIN(in->size, n);
    if (in->size < 60 && in->blocks == 0) {             /* "fast" symlink: in the inode */
        memcpy(buf, e->block, len);
        return (long)len;
    }
    return ext2_read(in, 0, buf, len);
}

static const struct inode_ops ext2_ops = {
    .lookup = ext2_lookup, .read = ext2_read, .readdir = ext2_readdir,
    .readlink = ext2_readlink, .release = ext2_release,
};

struct super *ext2_mount(void)
{
    if (!block_present())
        return NULL;
    uint8_t raw[1024];
    if (block_read(2, raw, 2))
        return NULL;
    memcpy(&fs.s, raw, sizeof(fs.s));
    struct ext2_super *s = &fs.s;
    if (s->magic != EXT2_MAGIC) {
        kprintf("ext2: no ext2 file system on the disk (magic 0x%x)\n", s->magic);
        return NULL;
    }
    if (s->log_block_size > 2 || !s->inodes_per_group || !s->blocks_per_group ||
        s->inodes_count == 0 || (s->rev_level && (s->inode_size < 128 || s->inode_size > 1024)) ||
        s->blocks_count > block_sectors() / 2) {
        kprintf("ext2: corrupt superblock; not mounting\n");
        return NULL;
    }
    if (s->rev_level == 0)
        s->inode_size = 128;
    if (s->feature_incompat & ~INCOMPAT_SUPPORTED) {
        kprintf("ext2: unsupported features 0x%x%s; not mounting\n",
                s->feature_incompat & ~INCOMPAT_SUPPORTED,
                s->feature_incompat & INCOMPAT_RECOVER ? " (the journal needs recovery)" : "");
        return NULL;
    }
    fs.bsize = 1024u << s->log_block_size;
    fs.ngroups = (s->blocks_count - s->first_data_block + s->blocks_per_group - 1) / s->blocks_per_group;
    bcache_init(fs.bsize);
    size_t gd_bytes = ALIGN_UP((size_t)fs.ngroups * sizeof(struct ext2_group), fs.bsize);
    fs.groups = kmalloc(gd_bytes);
    uint8_t *tmp = kmalloc(fs.bsize);
    if (!fs.groups || !tmp)
        return NULL;
    for (size_t i = 0; i < gd_bytes / fs.bsize; i++) {
        if (bread(s->first_data_block + 1 + i, tmp))
            return NULL;
        memcpy((uint8_t *)fs.groups + i * fs.bsize, tmp, fs.bsize);
    }
    kfree(tmp);
    for (uint32_t g = 0; g < fs.ngroups; g++)
        if (!block_ok(fs.groups[g].inode_table)) {
            kprintf("ext2: group %u's inode table is outside the file system; not mounting\n", g);
            return NULL;
        }
    struct inode *root;
    if (read_inode(EXT2_ROOT_INO, &root) || !S_ISDIR(root->mode)) {
        kprintf("ext2: no root directory; not mounting\n");
        return NULL;
    }
    root->refs = 1 << 30;                               /* the root is never released */
    fs.sb = (struct super){ .root = root, .dev = 0xfe00, .type = "ext2" };
    kprintf("ext2: mounted read-only: %u blocks of %u bytes, %u inodes, %u groups\n",
            s->blocks_count, fs.bsize, s->inodes_count, fs.ngroups);
    return &fs.sb;
}
