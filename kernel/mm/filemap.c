/* mm/filemap.c - the page cache: the pages of files that are mapped into
 * address spaces (mmap of a file), and the rules that keep them one with
 * read() and write().
 *
 * Why a second cache. The buffer cache (fs/bcache.c) holds disk blocks: it
 * is what ext2 and the journal read and write, with the journal's ordering
 * (metadata journaled, data written home first). A mapping needs something
 * else: whole 4 KiB frames, one per file page, that a page table can point
 * at, shared by every process that maps the page. A block is 1 KiB on our
 * images and a file's blocks are scattered on disk, so the buffers cannot
 * be mapped themselves. So each inode that is mapped gets a page cache of
 * its own (ino->pcache): a radix tree, 512 slots a level like a page table,
 * from file page number to frame.
 *
 * How the two relate: the page cache sits above the file system, never
 * beside or below it. A page is filled through the inode's read op (for
 * ext2 that copies out of the buffer cache, reading the disk as needed) and
 * written back through its write op (for ext2 that dirties buffers, which
 * the journal commits in its order). The page cache never touches a block.
 * So the journal's promises hold for mapped writes as for write(): they
 * are write()s, made later.
 *
 * One content. A page may be in the page cache and, by other routes, in
 * the buffer cache too; the page cache is the truth for the pages it holds:
 *   - read() (filemap_read) copies a cached page from the cache (it may
 *     hold writes made through a MAP_SHARED mapping not yet written back),
 *     and only uncached pages from the file system;
 *   - write() (filemap_write) goes to the file system and then into the
 *     cached page, so a mapping sees it at once and a later write-back of
 *     that page writes the same bytes again.
 * Pages past the end of the file read as zeros (a fresh frame is zeroed
 * and only the file's bytes are read into it); a mapping's access to a
 * page wholly past the end is SIGBUS, as in Linux.
 *
 * Dirty pages. A MAP_SHARED page is mapped read-only first; the first
 * write faults and marks it dirty (filemap_set_dirty) before it becomes
 * writable, so a writable entry always means a dirty page. Write-back
 * (msync, munmap, exit, fsync, sync, power-off) first makes every writable
 * entry of the pages read-only again (mm_clean_file finds them through the
 * regions of every address space), then writes each dirty page through the
 * file system and marks it clean: a later write faults and dirties it
 * again. So each write-back writes what changed since the last one.
 *
 * MAP_PRIVATE. The cache's own reference makes every mapped cache frame
 * "mapped more than once", and uvm.c's rule for such frames (never
 * writable: the first write copies) is exactly copy-on-write over the file:
 * a private write lands in a private copy and never in the cache or file.
 *
 * Lifetime. The cache lives while the inode does: a mapping holds its
 * file, the file holds the inode, and the inode's last reference
 * (filemap_evict, from iput) frees the pages. So nothing stays cached after
 * a program exits and its files close: the frames go back (the leak tests
 * count them), and the buffer cache remains the only cache across time.
 * Everything here is [klock]. The file system's ops may sleep, which lets
 * the kernel lock go: whoever called checks kernel_lock_generation and
 * looks at its address space again if it changed. */
#include "mm.h"
#include "../fs/vfs.h"
#include "../fs/file.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/errno.h"
#include "../debug/debug.h"

#define FAN_SHIFT 9
#define FAN       (1u << FAN_SHIFT)     /* slots per node: one node is one 4 KiB block */
#define PC_DIRTY  1ul                   /* in a leaf slot, beside the frame address */
#define PC_REF    2ul                   /* ... found again since the clock hand last passed */

struct pcache {
    uint64_t *root;             /* NULL while empty */
    int height;                 /* levels: the tree covers FAN^height pages */
    uint64_t npages;
    struct inode *ino;          /* whose */
    uint64_t synced;            /* the filemap_writeback_all round that did it */
    uint64_t hand;              /* the reclaim clock's hand: the next page it looks at */
    struct pcache *prev, *next; /* every inode's cache (sync(2) writes them all) */
};

static uint64_t cached_frames;          /* [klock] over every inode */
static struct pcache *caches;           /* [klock] */

uint64_t filemap_pages(void) { return cached_frames; }

/* The leaf slot of page index (allocating the path if create), or NULL. */
static uint64_t *slot(struct pcache *pc, uint64_t index, bool create)
{
    while (!pc->root || (pc->height < 7 && index >> (FAN_SHIFT * pc->height))) {
        if (!create)
            return NULL;
        uint64_t *n = kzalloc(PAGE_SIZE);
        if (!n)
            return NULL;
        n[0] = (uint64_t)pc->root;      /* the old tree becomes the new root's first child */
        pc->root = n;
        pc->height++;
    }
    uint64_t *node = pc->root;
    for (int lvl = pc->height - 1; lvl > 0; lvl--) {
        uint64_t *s = &node[(index >> (FAN_SHIFT * lvl)) & (FAN - 1)];
        if (!*s) {
            if (!create)
                return NULL;
            if (!(*s = (uint64_t)kzalloc(PAGE_SIZE)))
                return NULL;
        }
        node = (uint64_t *)*s;
    }
    return &node[index & (FAN - 1)];
}

static uint64_t *lookup(struct inode *ino, uint64_t index)
{
    struct pcache *pc = ino->pcache;
    if (!pc)
        return NULL;
    uint64_t *e = slot(pc, index, false);
    return e && *e ? e : NULL;
}

bool filemap_cached(struct inode *ino, uint64_t index) { return lookup(ino, index) != NULL; }

bool filemap_peek(struct inode *ino, uint64_t index, uint64_t *pa)
{
    uint64_t *e = lookup(ino, index);
    if (e)
        *pa = *e & PTE_ADDR;
    return e != NULL;
}

void filemap_set_dirty(struct inode *ino, uint64_t index)
{
    uint64_t *e = lookup(ino, index);
    if (e)
        *e |= PC_DIRTY;
}

/* Call fn on each cached page at index >= first (no sleeping in fn). */
typedef void (*page_fn)(struct pcache *pc, uint64_t *e, uint64_t index, void *arg);
static void walk(struct pcache *pc, uint64_t *node, int lvl, uint64_t base, uint64_t first,
                 page_fn fn, void *arg)
{
    uint64_t span = 1ull << (FAN_SHIFT * lvl);
    for (unsigned i = 0; i < FAN; i++) {
        uint64_t lo = base + i * span;
        if (!node[i] || lo + span - 1 < first)
            continue;
        if (lvl == 0)
            fn(pc, &node[i], lo, arg);
        else
            walk(pc, (uint64_t *)node[i], lvl - 1, lo, first, fn, arg);
    }
}

static void drop_page(struct pcache *pc, uint64_t *e, uint64_t index, void *arg)
{
    (void)index, (void)arg;
    pmm_unref(*e & PTE_ADDR);           /* mappings keep their own references */
    *e = 0;
    pc->npages--;
    cached_frames--;
}

static void free_nodes(uint64_t *node, int lvl)
{
    if (lvl > 0)
        for (unsigned i = 0; i < FAN; i++)
            if (node[i])
                free_nodes((uint64_t *)node[i], lvl - 1);
    kfree(node);
}

void filemap_evict(struct inode *ino)
{
    struct pcache *pc = ino->pcache;
    if (!pc)
        return;
    /* The last mapping wrote its pages back when it went (munmap, exit);
     * what is left here is clean or could not be written (EIO). */
    if (pc->root) {
        walk(pc, pc->root, pc->height - 1, 0, 0, drop_page, NULL);
        free_nodes(pc->root, pc->height - 1);
    }
    if (pc->prev)
        pc->prev->next = pc->next;
    else
        caches = pc->next;
    if (pc->next)
        pc->next->prev = pc->prev;
    kfree(pc);
    ino->pcache = NULL;
}

/* ---- reclaim (the policy: mm/reclaim.c's essay) ----
 * A clock over each inode's cached pages, the inodes taken in turn: the
 * hand frees a page nobody maps (the cache's is the frame's only
 * reference), that is clean (its bytes are the file's: reading it again
 * gives them back) and whose reference bit is clear; a set bit is cleared
 * and the page passed over once (its second chance). MAP_SHARED anonymous
 * memory is no file's copy: its pages are never reclaimed (there is no
 * swap to put them in). */
static bool reclaimable(const struct inode *ino);

struct shrink {
    uint64_t want, freed;
    uint64_t limit;             /* look only below this index */
    bool stop;                  /* freed enough: the hand stays at stop_at */
    uint64_t stop_at;
};

static void shrink_page(struct pcache *pc, uint64_t *e, uint64_t index, void *arg)
{
    struct shrink *s = arg;
    if (s->stop || index >= s->limit)
        return;
    uint64_t pa = *e & PTE_ADDR;
    if (pmm_refcount(pa) != 1)
        return;                             /* mapped (or held by a write-back): not ours to free */
#ifndef BREAK_RECLAIM_DIRTY
    /* INVARIANT(memory under pressure): reclaim never drops a
     * dirty page: what a mapping wrote and the file has not is only here. */
    if (*e & PC_DIRTY)
        return;
#endif
    if (*e & PC_REF) {
        *e &= ~PC_REF;
        return;
    }
    drop_page(pc, e, index, NULL);
    if (++s->freed >= s->want) {
        s->stop = true;
        s->stop_at = index + 1;
    }
}

/* One turn of the clock over pc: from its hand to the end, then from the
 * start up to the hand. */
static void shrink_cache(struct pcache *pc, struct shrink *s)
{
    if (!pc->root)
        return;
    s->stop = false;
    s->limit = UINT64_MAX;
    walk(pc, pc->root, pc->height - 1, 0, pc->hand, shrink_page, s);
    if (!s->stop && pc->hand) {
        s->limit = pc->hand;
        walk(pc, pc->root, pc->height - 1, 0, 0, shrink_page, s);
    }
    if (s->stop)
        pc->hand = s->stop_at;
}

uint64_t filemap_shrink(uint64_t want)
{
    ASSERT_KLOCK();
    int n = 0;
    for (struct pcache *pc = caches; pc; pc = pc->next)
        n++;
    struct shrink s = { .want = want };
    /* Two turns each at most: the first may only clear reference bits. The
     * inode looked at goes to the end of the list, so the next call starts
     * with another (round robin: one big file does not shield the rest). */
    for (int i = 0; i < 2 * n && s.freed < want && caches; i++) {
        struct pcache *pc = caches;
        if (pc->next) {
            caches = pc->next;
            caches->prev = NULL;
            struct pcache *t = caches;
            while (t->next)
                t = t->next;
            t->next = pc;
            pc->prev = t;
            pc->next = NULL;
        }
        if (reclaimable(pc->ino))
            shrink_cache(pc, &s);
    }
    return s.freed;
}

int filemap_writeback_all(void)
{
    ASSERT_KLOCK();
    /* A write-back may sleep and caches come and go meanwhile: start over
     * after each inode, skipping those already done (by generation). */
    static uint64_t round;
    uint64_t me = ++round;
    int err = 0;
    for (;;) {
        struct pcache *pc = caches;
        while (pc && pc->synced == me)
            pc = pc->next;
        if (!pc)
            return err;
        pc->synced = me;
        int r = filemap_writeback(pc->ino, 0, UINT64_MAX);
        if (r && !err)
            err = r;
    }
}

/* Fill frame pa with file page index: the file's bytes, zeros past its end. */
static int read_page(struct inode *ino, uint64_t index, uint64_t pa)
{
    uint64_t off = index * PAGE_SIZE;
    size_t done = 0;
    while (off + done < ino->size && done < PAGE_SIZE) {
        size_t want = (size_t)MIN(PAGE_SIZE - done, ino->size - off - done);
        long r = ino->ops->read(ino, off + done, (uint8_t *)P2V(pa) + done, want);
        if (r < 0)
            return (int)r;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return 0;
}

/* ino's page cache, made (and put on the caches list) if it has none
 * yet; NULL without memory. [klock] */
static struct pcache *pcache_of(struct inode *ino)
{
    if (ino->pcache)
        return ino->pcache;
    struct pcache *pc = kzalloc(sizeof(*pc));
    if (!pc)
        return NULL;
    pc->ino = ino;
    pc->next = caches;
    if (caches)
        caches->prev = pc;
    caches = pc;
    ino->pcache = pc;
    return pc;
}

int filemap_get(struct inode *ino, uint64_t index, uint64_t *pa)
{
    ASSERT_KLOCK();
    uint64_t *e = lookup(ino, index);
    if (e) {
        *e |= PC_REF;                       /* used again: a second chance (reclaim) */
        *pa = *e & PTE_ADDR;
        return 0;
    }
    if (!ino->ops->read)
        return -ENODEV;
    uint64_t frame = pmm_alloc_user(true);
    if (!frame)
        return -ENOMEM;
    uint64_t gen = kernel_lock_generation();
    iget(ino);                              /* it stays while the read sleeps */
    int r = read_page(ino, index, frame);
    if (!r && !pcache_of(ino))
        r = -ENOMEM;
    if (!r) {
        /* Someone may have filled it while the read slept: theirs wins. */
        e = slot(ino->pcache, index, true);
        if (!e) {
            r = -ENOMEM;
        } else if (!*e) {
            *e = frame;
            frame = 0;
            ((struct pcache *)ino->pcache)->npages++;
            cached_frames++;
        }
    }
    if (frame)
        pmm_free(frame);
    if (!r)
        *pa = *e & PTE_ADDR;
    iput(ino);          /* never the last: the caller holds one (its file or mapping) */
    if (r)
        return r;
    return kernel_lock_generation() != gen ? 1 : 0;
}

int filemap_install(struct inode *ino, uint64_t index, uint64_t pa)
{
    ASSERT_KLOCK();
    if (!pcache_of(ino))
        return -ENOMEM;
    uint64_t *e = slot(ino->pcache, index, true);
    if (!e)
        return -ENOMEM;
    if (*e)
        return -EEXIST;
    *e = pa;
    ((struct pcache *)ino->pcache)->npages++;
    cached_frames++;
    return 0;
}

int filemap_fault_page(struct vma *v, uintptr_t va, uint64_t *pa)
{
    struct inode *ino = v->file->inode;
    uint64_t index = v->pgoff + (va - v->start) / PAGE_SIZE;
    /* A page wholly past the end of the file: SIGBUS, as Linux. */
    if (index >= ALIGN_UP(ino->size, PAGE_SIZE) / PAGE_SIZE)
        return -EIO;
    int r = filemap_get(ino, index, pa);
    return r == -ENODEV ? -EIO : r;
}

int filemap_writeback(struct inode *ino, uint64_t first, uint64_t last)
{
    ASSERT_KLOCK();
    if (!ino->pcache || !ino->ops->write)
        return 0;
    int err = 0;
    iget(ino);
    /* Every writable entry of these pages becomes read-only first: a write
     * after this point faults and marks its page dirty again, so clearing
     * the flag below loses nothing. */
    mm_clean_file(ino, first, last);
    for (uint64_t i = first; i <= last; i++) {
        struct pcache *pc = ino->pcache;
        if (!pc || i >= ALIGN_UP(ino->size, PAGE_SIZE) / PAGE_SIZE)
            break;
        uint64_t *e = slot(pc, i, false);
        if (!e || !(*e & PC_DIRTY))
            continue;
        uint64_t pa = *e & PTE_ADDR;
        *e &= ~PC_DIRTY;
        pmm_ref(pa);                        /* the frame outlives a truncate while we sleep */
        uint64_t off = i * PAGE_SIZE;
        size_t n = (size_t)MIN(PAGE_SIZE, ino->size - off);
        long r = ino->ops->write(ino, off, P2V(pa), n);
        if (r != (long)n) {
            if (!err)
                err = r < 0 ? (int)r : -EIO;
            if ((e = lookup(ino, i)) && (*e & PTE_ADDR) == pa)
                *e |= PC_DIRTY;             /* not written: try again next time */
        }
        pmm_unref(pa);
    }
    iput(ino);
    return err;
}

long filemap_read(struct inode *ino, uint64_t off, void *buf, size_t n)
{
    if (!ino->pcache)
        return ino->ops->read(ino, off, buf, n);
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done;
        if (pos >= ino->size)
            break;
        size_t k = (size_t)MIN(MIN(n - done, PAGE_SIZE - pos % PAGE_SIZE), ino->size - pos);
        uint64_t *e = lookup(ino, pos / PAGE_SIZE);
        long r;
        if (e) {
            *e |= PC_REF;
            /* The copy may fault on the user's buffer and sleep, and
             * reclaim or a truncate may drop the page meanwhile: held, it
             * is not freed under the copy. */
            uint64_t pa = *e & PTE_ADDR;
            pmm_ref(pa);
            memcpy((uint8_t *)buf + done, (uint8_t *)P2V(pa) + pos % PAGE_SIZE, k);
            pmm_unref(pa);
            r = (long)k;
        } else {
            r = ino->ops->read(ino, pos, (uint8_t *)buf + done, k);
        }
        if (r < 0)
            return done ? (long)done : r;
        done += (size_t)r;
        if ((size_t)r < k)
            break;
    }
    return (long)done;
}

/* Zeros in the cached page holding byte end, from end to the page's end. */
static void zero_tail(struct inode *ino, uint64_t end)
{
    uint64_t *e;
    if (end % PAGE_SIZE && (e = lookup(ino, end / PAGE_SIZE)))
        memset((uint8_t *)P2V(*e & PTE_ADDR) + end % PAGE_SIZE, 0, PAGE_SIZE - end % PAGE_SIZE);
}

long filemap_write(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
    uint64_t old_size = ino->size;
    long r = ino->ops->write(ino, off, buf, n);
    if (r <= 0 || !ino->pcache)
        return r;
    /* A write past the old end: what a mapping wrote beyond it, in the old
     * last page, is not the file's and must read as zeros (a hole). */
    uint64_t *e;
    if (off + (uint64_t)r > old_size)
        zero_tail(ino, old_size);
    for (size_t done = 0; done < (size_t)r;) {
        uint64_t pos = off + done;
        size_t k = MIN((size_t)r - done, PAGE_SIZE - pos % PAGE_SIZE);
        if ((e = lookup(ino, pos / PAGE_SIZE))) {
            uint64_t pa = *e & PTE_ADDR;        /* held across a fault on buf, as in read */
            pmm_ref(pa);
            memcpy((uint8_t *)P2V(pa) + pos % PAGE_SIZE, (const uint8_t *)buf + done, k);
            pmm_unref(pa);
        }
        done += k;
    }
    return r;
}

long filemap_zero_range(struct inode *ino, uint64_t off, uint64_t end)
{
    uint64_t stop = MIN(end, ino->size);
    if (off >= stop)
        return 0;
    uint8_t *zero = kzalloc(PAGE_SIZE);
    if (!zero)
        return -ENOMEM;
    long r = 0;
    for (uint64_t at = off; at < stop && r >= 0; at += (uint64_t)r) {
        r = filemap_write(ino, at, zero, MIN(stop - at, PAGE_SIZE - at % PAGE_SIZE));
        if (r == 0)
            r = -EIO;
    }
    kfree(zero);
    return r < 0 ? r : 0;
}

void filemap_truncate(struct inode *ino, uint64_t old_size, uint64_t size)
{
    struct pcache *pc = ino->pcache;
    if (size < old_size)
        mm_unmap_file_from(ino, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE);
    if (!pc || !pc->root)
        return;
    /* Pages wholly past the new end left every mapping (touching one
     * again is SIGBUS) and now leave the cache; past the smaller
     * end, the last page's tail becomes zeros: a file cut short or grown
     * must read zeros there, whatever a mapping wrote past its end. */
    walk(pc, pc->root, pc->height - 1, 0, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE, drop_page, NULL);
    zero_tail(ino, MIN(old_size, size));
}

/* ---- shared anonymous memory ----
 * MAP_SHARED | MAP_ANONYMOUS (and MAP_SHARED of /dev/zero) is a file with
 * no file system: an inode of the mapping's size whose pages are zeros
 * when first touched and live only in its page cache, shared by every
 * mapping of it (fork's children); its last mapping frees it. */
static uint64_t shm_next_ino;           /* [klock] */

static long shm_read(struct inode *ino, uint64_t off, void *buf, size_t n)
{
    (void)ino, (void)off;
    memset(buf, 0, n);
    return (long)n;
}

static long shm_write(struct inode *ino, uint64_t off, const void *buf, size_t n)
{
    (void)ino, (void)off, (void)buf;
    return (long)n;                     /* the cached pages are the memory itself */
}

static void shm_release(struct inode *ino) { kfree(ino); }
static const struct inode_ops shm_inode_ops = {
    .read = shm_read, .write = shm_write, .release = shm_release,
};

/* Can a clean page of ino be dropped and read again later? Not shared
 * anonymous memory's: its pages are the memory itself. */
static bool reclaimable(const struct inode *ino)
{
    return ino->ops != &shm_inode_ops && ino->ops->read;
}

bool filemap_reclaimable(const struct inode *ino) { return reclaimable(ino); }
bool filemap_is_memory(const struct inode *ino)
{
    return ino->ops == &shm_inode_ops || (ino->sb && ino->sb->type && !strcmp(ino->sb->type, "tmpfs"));
}
static void shm_file_release(struct file *f) { iput(f->inode); }
static const struct file_ops shm_file_ops = { .release = shm_file_release };

struct file *filemap_shared_anon(size_t len)
{
    struct inode *ino = kzalloc(sizeof(*ino));
    struct file *f = ino ? file_alloc(&shm_file_ops, NULL) : NULL;
    if (!f) {
        kfree(ino);
        return NULL;
    }
    *ino = (struct inode){ .ino = ++shm_next_ino, .mode = S_IFREG | 0600, .size = len,
                           .refs = 1, .ops = &shm_inode_ops };
    f->inode = ino;
    f->flags = O_RDWR;
    f->size = len;
    return f;
}
