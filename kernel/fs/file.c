/* fs/file.c - reference-counted open files (the rule: file.h, "Lifetime"). */
#include "file.h"
#include "../lib/string.h"
#include "poll.h"
#include "../mm/mm.h"
#include "../lib/spinlock.h"
#include "../lib/abi.h"
#include "../debug/debug.h"

static struct spinlock file_lock = SPINLOCK_INIT("file");

struct file *file_alloc(const struct file_ops *ops, void *priv)
{
    struct file *f = kzalloc(sizeof(*f));
    if (f) {
        f->magic = FILE_MAGIC;
        f->ops = ops;
        f->refs = 1;
        f->priv = priv;
    }
    return f;
}

void file_check(struct file *f, const char *where)
{
    if (unlikely(f->magic != FILE_MAGIC || f->refs <= 0))
        panic("use-after-free: struct file %p used by %s after it was freed (magic %x refs %d)",
              (void *)f, where, f->magic, f->refs);
}

struct file *file_dup(struct file *f)
{
    uint64_t fl = spin_lock_irqsave(&file_lock);
    file_check(f, "file_dup");
    f->refs++;
    spin_unlock_irqrestore(&file_lock, fl);
    return f;
}

void file_close(struct file *f)
{
    uint64_t fl = spin_lock_irqsave(&file_lock);
    file_check(f, "file_close");
    bool last = --f->refs == 0;
    spin_unlock_irqrestore(&file_lock, fl);
    if (!last)
        return;
    if (f->inode)
        fsnotify_file(f, (f->flags & O_ACCMODE) ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
    if (f->epitems)
        epoll_file_gone(f);                 /* before the object it points at goes */
    if (f->flocked)
        flock_release(f);
    if (f->ops->release)
        f->ops->release(f);
    f->magic = 0;
    kfree(f->path);
    kfree(f);
}

int file_anon_stat(struct file *f, struct kstat *st)
{
    memset(st, 0, sizeof(*st));
    st->mode = 0600;
    st->nlink = 1;
    st->blksize = 4096;
    st->ino = (uint64_t)(uintptr_t)f->priv;
    return 0;
}
