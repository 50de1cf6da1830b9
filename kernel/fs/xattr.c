/* fs/xattr.c - extended attributes kept in memory, for the file systems
 * whose inodes live in memory (tmpfs).
 *
 * Why a list: a file has a handful of attributes at most (a security
 * label, a capability set, a few user.* notes), so a list in the order
 * they were set is both the simplest store and the order listxattr(2)
 * gives, as Linux's simple_xattr list does for tmpfs.
 *
 * What is here is the store only: names are whole ("security.selinux"),
 * values are bytes (possibly none). Who may read or write which namespace,
 * and the copying to and from the user, are the syscalls' (sys_fsinfo.c);
 * how much memory a file system lets its files spend on attributes is the
 * file system's (it is told each attribute's cost, xattr_cost). */
#include "vfs.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../mm/mm.h"
#include "../proc/proc.h"

struct xattr {
    struct xattr *next;
    size_t size;                /* of the value */
    char *value;
    char name[];
};

size_t xattr_cost(const char *name, size_t size)
{
    return ALIGN_UP(sizeof(struct xattr) + strlen(name) + 1 + size, PAGE_SIZE) / PAGE_SIZE;
}

static struct xattr **find(struct xattr **list, const char *name)
{
    for (struct xattr **x = list; *x; x = &(*x)->next)
        if (!strcmp((*x)->name, name))
            return x;
    return NULL;
}

long xattr_get(struct xattr **list, const char *name, void *buf, size_t size)
{
    struct xattr **x = find(list, name);
    if (!x)
        return -ENODATA;
    if (size == 0)
        return (long)(*x)->size;                /* how big a buffer it needs */
    if (size < (*x)->size)
        return -ERANGE;
    memcpy(buf, (*x)->value, (*x)->size);
    return (long)(*x)->size;
}

/* The trusted.* names only for root (Linux: CAP_SYS_ADMIN); every other
 * name for everyone. */
static bool listable(const char *name)
{
    struct proc *p = current();
    return strncmp(name, "trusted.", 8) || !p || p->euid == 0;
}

long xattr_list(struct xattr **list, char *buf, size_t size)
{
    size_t total = 0;
    for (struct xattr *x = *list; x; x = x->next) {
        if (!listable(x->name))
            continue;
        size_t n = strlen(x->name) + 1;
        if (size && total + n > size)
            return -ERANGE;
        if (size)
            memcpy(buf + total, x->name, n);
        total += n;
    }
    return (long)total;
}

long xattr_set(struct xattr **list, const char *name, const void *value, size_t size, int flags,
               long *cost_delta)
{
    struct xattr **old = find(list, name);
    *cost_delta = 0;
    if (old && (flags & XATTR_CREATE))
        return -EEXIST;
    if (!old && (flags & XATTR_REPLACE))
        return -ENODATA;
    size_t nlen = strlen(name);
    struct xattr *x = kmalloc(sizeof(*x) + nlen + 1);
    char *v = kmalloc(size ? size : 1);
    if (!x || !v) {
        kfree(x);
        kfree(v);
        return -ENOMEM;
    }
    memcpy(x->name, name, nlen + 1);
    memcpy(v, value, size);
    x->value = v;
    x->size = size;
    *cost_delta = (long)xattr_cost(name, size);
    if (old) {                                  /* replaced in place: the list keeps its order */
        struct xattr *gone = *old;
        x->next = gone->next;
        *old = x;
        *cost_delta -= (long)xattr_cost(gone->name, gone->size);
        kfree(gone->value);
        kfree(gone);
    } else {
        struct xattr **end = list;
        while (*end)
            end = &(*end)->next;
        x->next = NULL;
        *end = x;
    }
    return 0;
}

long xattr_remove(struct xattr **list, const char *name, long *cost_delta)
{
    struct xattr **x = find(list, name);
    *cost_delta = 0;
    if (!x)
        return -ENODATA;
    struct xattr *gone = *x;
    *x = gone->next;
    *cost_delta = -(long)xattr_cost(gone->name, gone->size);
    kfree(gone->value);
    kfree(gone);
    return 0;
}

size_t xattr_free_all(struct xattr **list)
{
    size_t cost = 0;
    while (*list) {
        struct xattr *x = *list;
        *list = x->next;
        cost += xattr_cost(x->name, x->size);
        kfree(x->value);
        kfree(x);
    }
    return cost;
}
