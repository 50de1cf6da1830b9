/* fs/file.c - reference-counted open files (the rule: file.h, "Lifetime"). */
#include "file.h"
#include "vfs.h"
#include "../lib/string.h"
#include "poll.h"
#include "../mm/mm.h"
#include "../lib/spinlock.h"
#include "../lib/abi.h"
#include "../proc/proc.h"
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
    ofd_locks_release(f);
    lease_release(f);
    if (f->flags & O_ASYNC)
        file_set_async(f, 0, false);
    if (f->inode && S_ISDIR(f->inode->mode))
        dnotify_file_gone(f);
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

/* ---- owners and signals: F_SETOWN(_EX), F_SETSIG, O_ASYNC (fcntl(2)) ----
 * An open file may name an owner to be told when I/O becomes possible
 * (O_ASYNC: pipes, fs/pipe.c) or a watched directory changes (dnotify,
 * fs/inotify.c): a process, a process group or one thread. The signal is
 * SIGIO unless F_SETSIG chose another; a chosen one carries si_code (why)
 * and si_fd, as Linux queues it. */

struct f_owner_ex_k {
    int type, pid;
};

static bool owner_exists(int type, int id)
{
    if (id == 0)
        return true;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    bool found = false;
    if (type == F_OWNER_PGRP) {
        for (int i = 0; i < sched_slots() && !found; i++) {
            struct proc *l = sched_proc_at(i);
            found = l && l->leader == l && l->state != P_UNUSED && l->pgid == id;
        }
    } else {
        found = proc_find_thread(id) != NULL;
    }
    spin_unlock_irqrestore(&sched_lock, fl);
    return found;
}

long file_fown_fcntl(struct file *f, int cmd, unsigned long arg)
{
    struct f_owner_ex_k o;
    switch (cmd) {
    case F_GETOWN:
        return f->owner_type == F_OWNER_PGRP ? -f->owner : f->owner;
    case F_SETOWN: {
        int id = (int)arg, type = id < 0 ? F_OWNER_PGRP : F_OWNER_PID;
        if (id == INT32_MIN)
            return -EINVAL;
        id = id < 0 ? -id : id;
        if (!owner_exists(type, id))
            return -ESRCH;
        f->owner = id;
        f->owner_type = type;
        return 0;
    }
    case F_GETOWN_EX:
        o = (struct f_owner_ex_k){ f->owner_type, f->owner };
        return copy_to_user((void *)arg, &o, sizeof(o)) ? -EFAULT : 0;
    case F_SETOWN_EX:
        if (copy_from_user(&o, (const void *)arg, sizeof(o)))
            return -EFAULT;
        if (o.type != F_OWNER_TID && o.type != F_OWNER_PID && o.type != F_OWNER_PGRP)
            return -EINVAL;
        if (o.pid < 0)
            return -EINVAL;
        if (!owner_exists(o.type, o.pid))
            return -ESRCH;
        f->owner = o.pid;
        f->owner_type = o.type;
        return 0;
    case F_GETSIG:
        return f->sig;
    case F_SETSIG:
        if (arg > NSIG)
            return -EINVAL;
        f->sig = (int)arg;
        return 0;
    }
    return -EINVAL;
}

void file_sigio(struct file *f, int fd, int code)
{
    if (!f->owner)
        return;
    int sig = f->sig ? f->sig : SIGIO;
    if (f->owner_type == F_OWNER_PGRP)
        proc_kill(-f->owner, sig);
    else if (f->owner_type == F_OWNER_TID)
        proc_tgkill(0, f->owner, sig);
    else if (f->sig)
        proc_sigqueue(f->owner, sig, code, (uint64_t)(uint32_t)fd);    /* si_fd sits where si_value does */
    else
        proc_kill(f->owner, sig);
}

/* The open files with O_ASYNC on (few: a list). */
struct async_ent {
    struct async_ent *next;
    struct file *f;
};
static struct async_ent *async_files;   /* [klock] */

void file_set_async(struct file *f, int fd, bool on)
{
    struct async_ent **pp = &async_files;
    while (*pp && (*pp)->f != f)
        pp = &(*pp)->next;
    if (on && !*pp) {
        struct async_ent *e = kzalloc(sizeof(*e));
        if (e) {
            e->f = f;
            e->next = async_files;
            async_files = e;
        }
    } else if (!on && *pp) {
        struct async_ent *e = *pp;
        *pp = e->next;
        kfree(e);
    }
    f->async_fd = fd;
}

void file_async_notify(const void *obj, bool readers, int code)
{
    for (struct async_ent *e = async_files, *next; e; e = next) {
        next = e->next;
        struct file *f = e->f;
        bool reads = (f->flags & O_ACCMODE) != O_WRONLY;
        if (f->priv == obj && (readers ? reads : (f->flags & O_ACCMODE) != O_RDONLY))
            file_sigio(f, f->async_fd, code);
    }
}
