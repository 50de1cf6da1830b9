/* fs/file.c - reference-counted open files. */
#include "file.h"
#include "../mm/mm.h"
#include "../lib/spinlock.h"

static struct spinlock file_lock = SPINLOCK_INIT("file");

struct file *file_alloc(const struct file_ops *ops, void *priv)
{
    struct file *f = kzalloc(sizeof(*f));
    if (f) {
        f->ops = ops;
        f->refs = 1;
        f->priv = priv;
    }
    return f;
}

struct file *file_dup(struct file *f)
{
    uint64_t fl = spin_lock_irqsave(&file_lock);
    f->refs++;
    spin_unlock_irqrestore(&file_lock, fl);
    return f;
}

void file_close(struct file *f)
{
    uint64_t fl = spin_lock_irqsave(&file_lock);
    bool last = --f->refs == 0;
    spin_unlock_irqrestore(&file_lock, fl);
    if (!last)
        return;
    if (f->ops->release)
        f->ops->release(f);
    kfree(f);
}
