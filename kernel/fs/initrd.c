/* fs/initrd.c - the initial RAM disk: a cpio archive in the "newc" format
 * (what `cpio -H newc` and Linux's initramfs use), passed by the boot
 * loader as a Multiboot module. Read-only. */
#include "file.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../arch/x86_64/arch.h"
#include "../mm/mm.h"

static const uint8_t *archive;
static size_t archive_size;

void initrd_init(const void *data, size_t size)
{
    archive = data;
    archive_size = size;
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

/* Compare an archive name ("bin/sh", "./bin/sh") with a path ("/bin/sh"). */
static bool same_path(const char *name, const char *path)
{
    while (*name == '.' && name[1] == '/')
        name += 2;
    while (*name == '/')
        name++;
    while (*path == '/')
        path++;
    return !strcmp(name, path);
}

bool initrd_lookup(const char *path, const uint8_t **data, size_t *size, uint32_t *mode)
{
    size_t off = 0;
    while (archive && off + 110 <= archive_size) {
        const uint8_t *h = archive + off;
        if (memcmp(h, "070701", 6) && memcmp(h, "070702", 6))
            return false;                       /* not newc: stop, don't guess */
        uint32_t m = hex8(h + 14), fsize = hex8(h + 54), nsize = hex8(h + 94);
        size_t name_off = off + 110, data_off = ALIGN_UP(name_off + nsize, 4);
        if (data_off > archive_size || fsize > archive_size - data_off || nsize == 0)
            return false;
        const char *name = (const char *)archive + name_off;
        if (name[nsize - 1] != 0)
            return false;
        if (!strcmp(name, "TRAILER!!!"))
            return false;
        if (same_path(name, path)) {
            *data = archive + data_off;
            *size = fsize;
            *mode = m;
            return true;
        }
        off = ALIGN_UP(data_off + fsize, 4);
    }
    return false;
}

struct initrd_file {
    const uint8_t *data;
    uint32_t mode;
};

static long ird_read(struct file *f, void *ubuf, size_t n)
{
    struct initrd_file *rf = f->priv;
    if (f->off >= f->size)
        return 0;
    size_t k = MIN(n, f->size - f->off);
    if (copy_to_user(ubuf, rf->data + f->off, k))
        return -EFAULT;
    f->off += k;
    return (long)k;
}

static int ird_stat(struct file *f, struct kstat *st)
{
    struct initrd_file *rf = f->priv;
    memset(st, 0, sizeof(*st));
    st->mode = rf->mode;
    st->size = (int64_t)f->size;
    st->nlink = 1;
    st->blksize = 4096;
    st->blocks = (int64_t)ALIGN_UP(f->size, 512) / 512;
    st->ino = (uint64_t)(rf->data - archive);
    return 0;
}

static void ird_release(struct file *f)
{
    kfree(f->priv);
}

static const struct file_ops initrd_ops = {
    .read = ird_read, .stat = ird_stat, .release = ird_release, .seekable = true,
};

struct file *initrd_open(const char *path, int *err)
{
    const uint8_t *data;
    size_t size;
    uint32_t mode;
    if (!initrd_lookup(path, &data, &size, &mode)) {
        *err = -ENOENT;
        return NULL;
    }
    struct initrd_file *rf = kmalloc(sizeof(*rf));
    struct file *f = rf ? file_alloc(&initrd_ops, rf) : NULL;
    if (!f) {
        kfree(rf);
        *err = -ENOMEM;
        return NULL;
    }
    rf->data = data;
    rf->mode = mode;
    f->size = size;
    return f;
}
