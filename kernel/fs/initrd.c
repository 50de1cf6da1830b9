/* fs/initrd.c - the initial RAM disk as a read-only file system: a cpio
 * archive in the "newc" format (what `cpio -H newc` and Linux's initramfs
 * use), handed over by the boot loader as a Multiboot module and turned
 * into a tree of inodes at mount. File data stays where the loader put it. */
#include "vfs.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"

struct node {
    struct inode inode;
    char name[NAME_MAX + 1];
    const uint8_t *data;
    struct node *parent, *children, *next;
};

static const struct inode_ops initrd_ops;
static struct super initrd_sb = { .type = "initrd", .dev = 1, .read_only = true };
static uint64_t next_ino = 1;

static struct node *new_node(struct node *parent, const char *name, size_t len, uint32_t mode)
{
    struct node *n = kzalloc(sizeof(*n));
    if (!n)
        return NULL;
    memcpy(n->name, name, MIN(len, (size_t)NAME_MAX));
    n->inode = (struct inode){ .sb = &initrd_sb, .ino = next_ino++, .mode = mode, .nlink = 1,
                               .refs = 1, .ops = &initrd_ops, .priv = n };
    n->parent = parent ? parent : n;
    if (parent) {
        n->next = parent->children;
        parent->children = n;
    }
    return n;
}

static struct node *child(struct node *dir, const char *name, size_t len)
{
    for (struct node *c = dir->children; c; c = c->next)
        if (strlen(c->name) == len && !memcmp(c->name, name, len))
            return c;
    return NULL;
}

static size_t strspn_slash(const char *p)
{
    size_t n = 0;
    while (p[n] == '/')
        n++;
    return n;
}

/* Find or make the node for path (directories along the way implied). */
static struct node *place(struct node *root, const char *path, uint32_t mode)
{
    struct node *cur = root;
    const char *name;
    size_t len;
    for (const char *p = path_next(path, &name, &len); len; p = path_next(p, &name, &len)) {
        bool last = !*p || !p[strspn_slash(p)];
        if (len == 1 && *name == '.')
            continue;
        struct node *c = child(cur, name, len);
        if (!c && !(c = new_node(cur, name, len, last ? mode : (S_IFDIR | 0755))))
            return NULL;
        if (last)
            c->inode.mode = mode;
        cur = c;
    }
    return cur;
}

static uint32_t hex8(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p[i];
        v = v * 16 + (c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
    }
    return v;
}

struct super *initrd_mount(const void *archive, size_t size)
{
    struct node *root = new_node(NULL, "", 0, S_IFDIR | 0755);
    if (!root)
        return NULL;
    initrd_sb.root = &root->inode;
    const uint8_t *a = archive;
    size_t off = 0, files = 0;
    while (off + 110 <= size) {
        const uint8_t *h = a + off;
        if (memcmp(h, "070701", 6) && memcmp(h, "070702", 6)) {
            kprintf("initrd: bad cpio header at offset %lu; ignoring the rest\n", off);
            break;
        }
        uint32_t mode = hex8(h + 14), fsize = hex8(h + 54), nsize = hex8(h + 94);
        size_t name_off = off + 110, data_off = ALIGN_UP(name_off + nsize, 4);
        if (nsize == 0 || data_off > size || fsize > size - data_off || a[name_off + nsize - 1]) {
            kprintf("initrd: truncated cpio entry at offset %lu\n", off);
            break;
        }
        const char *name = (const char *)a + name_off;
        if (!strcmp(name, "TRAILER!!!"))
            break;
        struct node *n = place(root, name, mode);
        if (n && n != root) {
            n->data = a + data_off;
            n->inode.size = fsize;
            n->inode.blocks = ALIGN_UP(fsize, 512) / 512;
            files++;
        }
        off = ALIGN_UP(data_off + fsize, 4);
    }
    kprintf("initrd: %lu entries\n", files);
    return &initrd_sb;
}

static int ird_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
    struct node *d = dir->priv, *c;
    if (len == 2 && name[0] == '.' && name[1] == '.')
        c = d->parent;
    else if (!(c = child(d, name, len)))
        return -ENOENT;
    *out = iget(&c->inode);
    return 0;
}

static long ird_read(struct inode *ino, uint64_t off, void *buf, size_t n)
{
    struct node *f = ino->priv;
    if (off >= ino->size)
        return 0;
    size_t k = MIN(n, ino->size - off);
    memcpy(buf, f->data + off, k);
    return (long)k;
}

static int ird_readdir(struct inode *dir, uint64_t *pos, filldir_t fill, void *ctx)
{
    struct node *d = dir->priv;
    uint64_t i = 0;
    if (*pos == 0) {
        if (!fill(ctx, ".", 1, d->inode.ino, 4, 1))
            return 1;
        *pos = 1;
    }
    if (*pos == 1) {
        if (!fill(ctx, "..", 2, d->parent->inode.ino, 4, 2))
            return 1;
        *pos = 2;
    }
    for (struct node *c = d->children; c; c = c->next, i++) {
        if (i + 2 < *pos)
            continue;
        unsigned type = IFTODT(c->inode.mode);
        if (!fill(ctx, c->name, strlen(c->name), c->inode.ino, type, i + 3))
            return 1;
        *pos = i + 3;
    }
    return 0;
}

static long ird_readlink(struct inode *ino, char *buf, size_t n)
{
    return ird_read(ino, 0, buf, n);
}

static const struct inode_ops initrd_ops = {
    .lookup = ird_lookup, .read = ird_read, .readdir = ird_readdir, .readlink = ird_readlink,
};
