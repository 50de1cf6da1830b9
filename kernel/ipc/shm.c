/* ipc/shm.c - System V shared memory (shmget, shmat, shmdt, shmctl).
 *
 * A segment is the same thing as MAP_SHARED|MAP_ANONYMOUS memory: a file
 * with no file system whose pages live only in its page cache
 * (filemap_shared_anon, mm/filemap.c), so every process that attaches it
 * maps the very same frames, and fork, exec, exit, munmap and mremap treat
 * an attachment as the shared file mapping it is (fork's child inherits
 * it, exec and exit drop it). Nothing in mm/ knows about System V.
 *
 * Attachments are counted by the file's references: the segment holds one
 * while it exists, and every region mapping it holds one (a region split
 * by mprotect or munmap counts twice, as Linux counts it), so shm_nattch is
 * refs - 1. IPC_RMID marks the segment SHM_DEST, makes its key private and
 * drops the segment's own reference; the last region's unmapping then
 * drops the file's last one, and its release (shm_release below) takes the
 * segment out of the table and frees it: removal waits for the last detach
 * whatever way the detach happens (shmdt, munmap, exec, exit, a kill). */
#include "ipc.h"
#include "../sys/sys.h"
#include "../proc/proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../fs/pseudofs.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"

struct shm_seg {
    struct kipc_perm perm;      /* first: the table holds &perm */
    size_t size;
    struct file *file;          /* its pages; the segment's own reference until SHM_DEST */
    int64_t atime, dtime, ctime;
    int cpid, lpid;
};

struct shmid64_u {
    struct ipc64_perm_u perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch;
    uint64_t unused4, unused5;
};

struct shminfo64_u {
    uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused1, unused2, unused3, unused4;
};

struct shm_info_u {
    int32_t used_ids;
    uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

static uint64_t shm_tot;        /* [klock] pages of all segments */

static void shm_release(struct file *f);
static const struct file_ops sysv_shm_ops = { .release = shm_release };

static struct shm_seg *find(int id) { return (struct shm_seg *)ipc_find(&shm_ids, id); }
static uint64_t pages_of(size_t size) { return (size + PAGE_SIZE - 1) / PAGE_SIZE; }

static uint64_t nattch(struct shm_seg *s)
{
    int refs = s->file->refs - ((s->perm.mode & SHM_DEST) ? 0 : 1);
    return refs > 0 ? (uint64_t)refs : 0;
}

/* The file's last reference: the segment was removed and is now detached
 * everywhere. */
static void shm_release(struct file *f)
{
    struct shm_seg *s = f->priv;
    if (s) {
        ipc_remove(&shm_ids, &s->perm);
        shm_tot -= pages_of(s->size);
        kfree(s);
    }
    iput(f->inode);
}

long sys_shmget(int key, size_t size, int flg)
{
    struct shm_seg *s = key == IPC_PRIVATE ? NULL : (struct shm_seg *)ipc_find_key(&shm_ids, key);
    if (s) {
        int r = ipc_get_existing(&s->perm, flg);
        if (r)
            return r;
        if (size > s->size)
            return -EINVAL;
        return s->perm.id;
    }
    if (key != IPC_PRIVATE && !(flg & IPC_CREAT))
        return -ENOENT;
    if (size < SHMMIN || size > ipc_lim.shmmax)
        return -EINVAL;
    uint64_t pages = pages_of(size);
    if (pages < size / PAGE_SIZE)
        return -ENOSPC;                 /* the rounding wrapped */
    if (shm_tot + pages < shm_tot || shm_tot + pages > ipc_lim.shmall)
        return -ENOSPC;
    if (shm_ids.in_use >= ipc_lim.shmmni)
        return -ENOSPC;
    s = kzalloc(sizeof(*s));
    struct file *f = s ? filemap_shared_anon(size) : NULL;
    if (!f) {
        kfree(s);
        return -ENOMEM;
    }
    int r = ipc_add(&shm_ids, &s->perm, key, flg, (int)ipc_lim.shmmni);
    if (r) {
        file_close(f);
        kfree(s);
        return r;
    }
    /* Its own release, so the last detach of a removed segment frees it;
     * the pages stay filemap's shared anonymous memory. */
    f->ops = &sysv_shm_ops;
    f->priv = s;
    char name[32];
    snprintf(name, sizeof(name), "/SYSV%08x (deleted)", (unsigned)key);   /* /proc/PID/maps, as Linux */
    f->path = kmalloc(strlen(name) + 1);
    if (f->path)
        memcpy(f->path, name, strlen(name) + 1);
    s->file = f;
    s->size = size;
    s->cpid = current()->tgid;
    s->ctime = ipc_now();
    shm_tot += pages;
    return s->perm.id;
}

static bool range_free(struct mm *mm, uintptr_t addr, size_t len)
{
    for (struct vma *v = mm->vmas; v && v->start < addr + len; v = v->next)
        if (v->end > addr)
            return false;
    return true;
}

bool shm_file_gone(struct file *f)
{
    if (f->ops != &sysv_shm_ops || !f->priv)
        return false;
    struct shm_seg *s = f->priv;
    return (s->perm.mode & SHM_DEST) && f->refs == 1;
}

long sys_shmat(int id, uintptr_t addr, int flg)
{
    if (id < 0)
        return -EINVAL;
    bool fixed = addr != 0;                     /* an address given: that one, or nothing */
    if (addr) {
        if (addr & (SHMLBA - 1)) {
            if (!(flg & SHM_RND))
                return -EINVAL;
            addr &= ~(uintptr_t)(SHMLBA - 1);
            if (!addr && (flg & SHM_REMAP))
                return -EINVAL;
        }
    } else if (flg & SHM_REMAP) {
        return -EINVAL;
    }
    uint32_t prot = VM_READ, want = 4;
    if (!(flg & SHM_RDONLY)) {
        prot |= VM_WRITE;
        want |= 2;
    }
    if (flg & SHM_EXEC) {
        prot |= VM_EXEC;
        want |= 1;
    }
    struct shm_seg *s = find(id);
    if (!s)
        return -EINVAL;
    long r = ipc_perm_check(&s->perm, (int)want);
    if (r)
        return r;
    struct mm *mm = current()->mm;
    size_t len = ALIGN_UP(s->size, PAGE_SIZE);
    if (fixed && mm_min_addr_check(addr))
        return -EPERM;                          /* below vm.mmap_min_addr (SHM_RND to 0 too) */
    if (fixed) {
        if (addr >= USER_TOP || len > USER_TOP - addr)
            return -EINVAL;
        if (!(flg & SHM_REMAP) && !range_free(mm, addr, len))
            return -EINVAL;
        if (!rlimit_as_allows(mm, addr, len, len))
            return -ENOMEM;
        mm_unmap(mm, addr, len);
    } else {
        if (!rlimit_as_allows(mm, 0, 0, len))
            return -ENOMEM;
        if (!(addr = mm_find_free(mm, len)))
            return -ENOMEM;
    }
    r = mm_map_file(mm, addr, len, prot, VMA_SHARED | (flg & SHM_RDONLY ? 0 : VMA_MAYWRITE),
                    s->file, 0);
    if (r)
        return r;
    s->atime = ipc_now();
    s->lpid = current()->tgid;
    return (long)addr;
}

long sys_shmdt(uintptr_t addr)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    struct mm *mm = current()->mm;
    struct file *f = NULL;
    uintptr_t end = 0;
    /* The first attachment at or after addr whose start is addr plus its
     * offset into the segment (as Linux), then every region of that
     * segment inside [addr, addr + size). */
    for (struct vma *v = mm->vmas; v; v = v->next) {
        if (v->start < addr || !v->file || v->file->ops != &sysv_shm_ops)
            continue;
        if ((v->start - addr) / PAGE_SIZE != v->pgoff)
            continue;
        f = v->file;
        struct shm_seg *s = f->priv;
        end = addr + ALIGN_UP(s->size, PAGE_SIZE);
        break;
    }
    if (!f)
        return -EINVAL;
    struct shm_seg *s = f->priv;
    s->dtime = ipc_now();
    s->lpid = current()->tgid;
    for (;;) {
        struct vma *v = mm->vmas;
        while (v && !(v->file == f && v->start >= addr && v->end <= end))
            v = v->next;
        if (!v)
            break;
        mm_unmap(mm, v->start, v->end - v->start);  /* may free s and f: looked at no more */
    }
    return 0;
}

static void stat_out(struct shm_seg *s, struct shmid64_u *u)
{
    memset(u, 0, sizeof(*u));
    ipc_perm_out(&s->perm, &u->perm);
    u->segsz = s->size;
    u->atime = s->atime;
    u->dtime = s->dtime;
    u->ctime = s->ctime;
    u->cpid = s->cpid;
    u->lpid = s->lpid;
    u->nattch = nattch(s);
}

long sys_shmctl(int id, int cmd, void *buf)
{
    if (id < 0 || cmd < 0)
        return -EINVAL;
    struct shm_seg *s;
    struct shmid64_u u;
    long r;
    switch (cmd) {
    case IPC_INFO: {
        struct shminfo64_u i = {
            .shmmax = ipc_lim.shmmax, .shmmin = SHMMIN, .shmmni = (uint64_t)ipc_lim.shmmni,
            .shmseg = (uint64_t)ipc_lim.shmmni, .shmall = ipc_lim.shmall,
        };
        if (copy_to_user(buf, &i, sizeof(i)))
            return -EFAULT;
        return ipc_max_index(&shm_ids);
    }
    case SHM_INFO: {
        struct shm_info_u i = { .used_ids = shm_ids.in_use, .shm_tot = shm_tot };
        for (int k = 0; k <= ipc_max_index(&shm_ids); k++) {
            struct shm_seg *t = (struct shm_seg *)ipc_find_index(&shm_ids, k);
            for (uint64_t pg = 0; t && pg < pages_of(t->size); pg++)
                i.shm_rss += filemap_cached(t->file->inode, pg);
        }
        if (copy_to_user(buf, &i, sizeof(i)))
            return -EFAULT;
        return ipc_max_index(&shm_ids);
    }
    case SHM_STAT:
    case SHM_STAT_ANY:
    case IPC_STAT:
        s = cmd == IPC_STAT ? find(id) : (struct shm_seg *)ipc_find_index(&shm_ids, id);
        if (!s)
            return -EINVAL;
        if (cmd != SHM_STAT_ANY && (r = ipc_perm_check(&s->perm, 4)))
            return r;
        stat_out(s, &u);
        if (copy_to_user(buf, &u, sizeof(u)))
            return -EFAULT;
        return cmd == IPC_STAT ? 0 : s->perm.id;
    case SHM_LOCK:
    case SHM_UNLOCK: {
        s = find(id);
        if (!s)
            return -EINVAL;
        struct proc *me = current();
        if (me->euid != 0) {
            if (me->euid != s->perm.uid && me->euid != s->perm.cuid)
                return -EPERM;
            if (cmd == SHM_LOCK && me->leader->rlim[RLIMIT_MEMLOCK].cur == 0)
                return -EPERM;
        }
        if (cmd == SHM_LOCK)
            s->perm.mode |= SHM_LOCKED;
        else
            s->perm.mode &= ~(uint32_t)SHM_LOCKED;
        return 0;
    }
    case IPC_SET:
        if (copy_from_user(&u, buf, sizeof(u)))
            return -EFAULT;
        /* fall through */
    case IPC_RMID:
        s = find(id);
        if (!s)
            return -EINVAL;
        if (!ipc_owner(&s->perm))
            return -EPERM;
        if (cmd == IPC_SET) {
            ipc_perm_set(&s->perm, &u.perm);
            s->ctime = ipc_now();
            return 0;
        }
        if (!(s->perm.mode & SHM_DEST)) {
            s->perm.mode |= SHM_DEST;
            s->perm.key = IPC_PRIVATE;
            file_close(s->file);        /* the segment's own: gone now if nothing is attached */
        }
        return 0;
    default:
        return -EINVAL;
    }
}

void shm_proc_lines(struct sbuf *sb)
{
    for (int i = 0; i <= ipc_max_index(&shm_ids); i++) {
        struct shm_seg *s = (struct shm_seg *)ipc_find_index(&shm_ids, i);
        char oct[12];
        if (s)
            sb_printf(sb, "%10d %10d  %4s %21lu %5d %5d  %5lu %5u %5u %5u %5u %10ld %10ld %10ld"
                          " %21lu %21lu\n",
                      s->perm.key, s->perm.id, ipc_octal(oct, s->perm.mode & 0777), (unsigned long)s->size,
                      s->cpid, s->lpid, (unsigned long)nattch(s), s->perm.uid, s->perm.gid,
                      s->perm.cuid, s->perm.cgid, (long)s->atime, (long)s->dtime,
                      (long)s->ctime, 0ul, 0ul);
    }
}
