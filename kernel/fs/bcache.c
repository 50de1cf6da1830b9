/* fs/bcache.c - the buffer cache. Buffers are found through a hash table
 * of block numbers; they are created as needed, up to a share of memory
 * (CACHE_SHARE of RAM, at most CACHE_MAX_BYTES, and past MIN_BUFS never
 * while less than a quarter of RAM is free; the first MIN_BUFS are made at
 * mount, so they exist however short memory gets), and after that the least recently used one
 * that is not held and not uncommitted metadata is reused (dirty file data
 * is written back first, in one batch with the other oldest dirty data).
 * Dirty buffers sit on one list per kind (data, metadata), so writing them
 * back or counting them never scans the cache. Locking is a "busy" flag
 * per buffer and the scheduler's sleep/wakeup, so a process waiting for a
 * block another is reading sleeps; a release wakes only when someone waits.
 * The lists and the hash are changed with sched_lock held.
 *
 * A disk that fails: a read error is the reader's -EIO (a readahead that
 * fails takes the block asked for down with it only if that block fails
 * alone too). A write-back that fails when a buffer is evicted aborts the
 * journal (journal.c: the file system goes read-only); after an abort a
 * dirty buffer is dropped, never written (its change was never committed
 * and never will be), so eviction cannot spin on a disk that refuses
 * writes. Without a journal the failure is kept for the next sync to
 * report, as Linux keeps a write-back error for fsync. */
#include "bcache.h"
#include "../drivers/block.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "journal.h"
#include "../mm/mm.h"

#define NHASH            16384          /* power of two */
#define CACHE_SHARE      4              /* at most 1/CACHE_SHARE of RAM */
#define CACHE_MAX_BYTES  (96ul << 20)
#define MIN_BUFS         512            /* made at mount: see bcache_guaranteed() */
#define WRITE_CHUNK      256            /* buffers written back per batch */

static struct buf *bufs;                /* [nmax], the first nbufs in use */
static int nbufs, nmax;
static struct buf *hash[NHASH];
static struct buf lru;                  /* sentinel: lru.lnext is the least recently used */
static struct buf dirty[2];             /* sentinels: [0] file data, [1] metadata */
static int ndirty[2];
static size_t bsize;
static uint64_t *pages;                 /* frames carved into buffers */
static int npages;
static uint8_t *carve;
static size_t carve_left;
/* A write-back batch: the buffers it locked and their writes. Each caller
 * has its own (kmalloc'd: 8 KiB is too big for a kernel stack): a batch
 * lives across the sleep of its I/O, while other threads evict, commit and
 * collect batches of their own. */
struct batch {
    struct buf *bufs[WRITE_CHUNK];
    struct block_io ios[WRITE_CHUNK];
};

static inline uint64_t sectors_of(uint64_t blockno) { return blockno * (bsize / 512); }
static inline unsigned hash_of(uint64_t blockno) { return (unsigned)(blockno * 0x9E3779B97F4A7C15ull >> 40) & (NHASH - 1); }

static void list_remove(struct buf *b, bool dirty_list)
{
    struct buf **prev_next = dirty_list ? &b->dprev->dnext : &b->lprev->lnext;
    struct buf **next_prev = dirty_list ? &b->dnext->dprev : &b->lnext->lprev;
    *prev_next = dirty_list ? b->dnext : b->lnext;
    *next_prev = dirty_list ? b->dprev : b->lprev;
}

static void lru_append(struct buf *b)
{
    b->lprev = lru.lprev;
    b->lnext = &lru;
    lru.lprev->lnext = b;
    lru.lprev = b;
}

static void dirty_append(struct buf *b, int kind)
{
    struct buf *head = &dirty[kind];
    b->dprev = head->dprev;
    b->dnext = head;
    head->dprev->dnext = b;
    head->dprev = b;
    ndirty[kind]++;
}

static void dirty_remove(struct buf *b)
{
    list_remove(b, true);
    ndirty[b->meta]--;
}

static struct buf *lookup(uint64_t blockno)
{
    for (struct buf *b = hash[hash_of(blockno)]; b; b = b->hnext)
        if (b->blockno == blockno)
            return b;
    return NULL;
}

static void hash_remove(struct buf *b)
{
    struct buf **pp = &hash[hash_of(b->blockno)];
    while (*pp && *pp != b)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = b->hnext;
    b->hnext = NULL;
}

static void hash_insert(struct buf *b)
{
    unsigned h = hash_of(b->blockno);
    b->hnext = hash[h];
    hash[h] = b;
}

static struct buf *grow(void);

static void free_pages(void)
{
    for (int i = 0; i < npages; i++)
        pmm_free(pages[i]);
    npages = 0;
    carve_left = 0;
}

void bcache_init(size_t block_size)
{
    if (block_size != bsize || !bufs) {
        /* New geometry: start over (nobody holds a buffer at mount). */
        free_pages();
        kfree(bufs);
        kfree(pages);
        bsize = block_size;
        size_t cap = MIN(pmm_total_frames() * PAGE_SIZE / CACHE_SHARE, CACHE_MAX_BYTES);
        nmax = (int)MAX((size_t)MIN_BUFS, cap / bsize);
        bufs = kzalloc(sizeof(struct buf) * (size_t)nmax);
        pages = kzalloc(sizeof(uint64_t) * ((size_t)nmax * bsize / PAGE_SIZE + 1));
        if (!bufs || !pages)
            panic("bcache: out of memory");
        nbufs = 0;
    }
    memset(hash, 0, sizeof(hash));
    lru.lprev = lru.lnext = &lru;
    for (int k = 0; k < 2; k++) {
        dirty[k].dprev = dirty[k].dnext = &dirty[k];
        ndirty[k] = 0;
    }
    for (int i = 0; i < nbufs; i++) {
        uint8_t *data = bufs[i].data;
        bufs[i] = (struct buf){ .data = data };
        lru_append(&bufs[i]);
    }
    while (nbufs < MIN_BUFS)
        if (!grow())
            panic("bcache: no memory for the %d buffers the journal counts on", MIN_BUFS);
}

int bcache_guaranteed(void) { return MIN_BUFS; }

size_t bcache_block_size(void) { return bsize; }
uint64_t bcache_frames(void) { return (uint64_t)npages; }

/* drop_caches: every clean buffer nobody holds forgets its block, so the
 * next bread reads it from the disk again. Dirty ones stay (their bytes
 * are not on the disk yet), as on Linux. How many were dropped. */
uint64_t bcache_drop_clean(void)
{
    uint64_t n = 0;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (struct buf *c = lru.lnext; c != &lru; c = c->lnext)
        if (c->hashed && !c->refs && !c->locked && !c->dirty) {
            hash_remove(c);
            c->hashed = false;
            c->valid = false;
            n++;
        }
    spin_unlock_irqrestore(&sched_lock, f);
    return n;
}

/* One more buffer, if the cache may grow: memory is plentiful. */
static struct buf *grow(void)
{
    if (nbufs >= nmax || (nbufs >= MIN_BUFS && pmm_free_frames() < pmm_total_frames() / 4))
        return NULL;
    if (carve_left < bsize) {
        uint64_t pa = pmm_alloc();
        if (!pa)
            return NULL;
        pages[npages++] = pa;
        carve = P2V(pa);
        carve_left = PAGE_SIZE;
    }
    struct buf *b = &bufs[nbufs++];
    *b = (struct buf){ .data = carve };
    carve += bsize;
    carve_left -= bsize;
    lru_append(b);
    return b;
}

static uint64_t dirty_gen;              /* dirtyings since boot */
static int writeback_err;               /* [sched_lock] a failed eviction's -errno, for bcache_sync */

uint64_t bcache_dirty_gen(void) { return dirty_gen; }

static void set_dirty(struct buf *b, bool meta)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    dirty_gen++;
    if (b->dirty && b->meta != meta)
        dirty_remove(b);
    if (!b->dirty || b->meta != meta) {
        b->dirty = true;
        b->meta = meta;
        dirty_append(b, meta);
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

static void sleep_on(struct buf *b, uint64_t *flags)
{
    ASSERT_HELD(&sched_lock);
    b->waiters++;
    wait_locked(b, flags);
    b->waiters--;
}

/* Lock up to max dirty buffers of one kind, oldest first, into bt;
 * with sched_lock held. With wait, a list holding only locked buffers is
 * waited for (then 0 means the list is empty). */
static int collect(struct batch *bt, int kind, int max, bool wait, uint64_t *flags)
{
    ASSERT_HELD(&sched_lock);
    for (;;) {
        int n = 0;
        struct buf *first_busy = NULL;
        for (struct buf *b = dirty[kind].dnext; b != &dirty[kind] && n < max; b = b->dnext) {
            if (b->locked) {
                first_busy = first_busy ? first_busy : b;
                continue;
            }
            b->locked = true;
            b->refs++;
            bt->bufs[n++] = b;
        }
        if (n || !first_busy || !wait)
            return n;
        sleep_on(first_busy, flags);
    }
}

static void unlock_collected(struct batch *bt, int n, bool written, int kind)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (int i = 0; i < n; i++) {
        struct buf *b = bt->bufs[i];
        if (written && b->dirty && b->meta == kind) {
            dirty_remove(b);
            b->dirty = false;
        }
        b->locked = false;
        b->refs--;
        if (b->waiters)
            wakeup_locked(b);
    }
    spin_unlock_irqrestore(&sched_lock, f);
}

/* Write up to WRITE_CHUNK locked, collected buffers home in one batch. */
static int write_collected(struct batch *bt, int n, int kind)
{
    for (int i = 0; i < n; i++)
        bt->ios[i] = (struct block_io){ sectors_of(bt->bufs[i]->blockno), bt->bufs[i]->data, bsize / 512 };
    int r = block_write_batch(bt->ios, n);
    unlock_collected(bt, n, r == 0, kind);
    return r;
}

/* Give buffer v (not held, clean) to blockno, locked; with sched_lock held. */
static struct buf *claim(struct buf *v, uint64_t blockno)
{
    ASSERT_HELD(&sched_lock);
    if (v->hashed)
        hash_remove(v);
    v->blockno = blockno;
    v->hashed = true;
    hash_insert(v);
    v->valid = false;
    v->dirty = false;
    v->refs = 1;
    v->locked = true;
    return v;
}

/* Find or claim a buffer for blockno and return it busy (b->locked: this
 * caller's until brelse); with sched_lock held. (noinline: the matrix names it.) */
static __attribute__((noinline)) struct buf *get_busy(uint64_t blockno, uint64_t *flags)
{
    ASSERT_HELD(&sched_lock);
    for (;;) {
        struct buf *b = lookup(blockno);
        if (b) {
            if (b->locked) {
                sleep_on(b, flags);             /* someone else has it */
                continue;
            }
            b->refs++;
            b->locked = true;
            return b;
        }
        struct buf *victim = grow();
        bool aborted = journal_aborted() != 0;  /* nothing more goes to the disk */
        for (struct buf *c = lru.lnext; !victim && c != &lru; c = c->lnext) {
            if (c->refs || c->locked)
                continue;
            /* INVARIANT(durability and crash consistency): metadata changed by a
             * transaction that has not committed never goes home (the
             * journal writes it after the commit). */
#ifndef BREAK_EVICT_ORDER
            if (c->dirty && c->meta && !aborted)
                continue;
#endif
            victim = c;
        }
        if (victim && victim->dirty && aborted) {
            dirty_remove(victim);               /* dropped: its change never commits */
            victim->dirty = false;
        }
        if (!victim) {
            /* Everything is held or awaits a commit: commit now, or, while
             * other changes are in progress or committing, give them a tick
             * to end and release what they hold. */
            spin_unlock_irqrestore(&sched_lock, *flags);
            if (journal_commit_pressure())
                sleep_ticks(1);
            *flags = spin_lock_irqsave(&sched_lock);
            continue;
        }
        if (victim->dirty) {
            /* File data: write it back, with the other oldest dirty data,
             * before reusing it (outside the lock: it sleeps). */
            int kind = 0;
#ifdef BREAK_EVICT_ORDER
            kind = victim->meta;                /* break switch: uncommitted metadata goes home */
#endif
            spin_unlock_irqrestore(&sched_lock, *flags);
            struct batch *bt = kmalloc(sizeof(*bt));
            *flags = spin_lock_irqsave(&sched_lock);
            if (!bt) {
                spin_unlock_irqrestore(&sched_lock, *flags);
                sleep_ticks(1);                 /* no heap for a batch just now */
                *flags = spin_lock_irqsave(&sched_lock);
                continue;
            }
            int n = collect(bt, kind, WRITE_CHUNK, false, flags);
            spin_unlock_irqrestore(&sched_lock, *flags);
            int r = n ? write_collected(bt, n, kind) : 0;
            if (r)
                journal_abort(r);               /* a journaled file system: read-only now */
            if (r && !journal_aborted())
                kprintf("bcache: write-back failed (%d); the data is dropped\n", r);
            *flags = spin_lock_irqsave(&sched_lock);
            if (r && !journal_aborted()) {
                /* No journal to abort (or the break switch kept it going):
                 * drop the batch rather than try it for ever, and let the
                 * next sync say what was lost. */
                writeback_err = r;
                for (int i = 0; i < n; i++) {
                    struct buf *b = bt->bufs[i];
                    if (b->dirty && !b->locked && b->meta == kind) {
                        dirty_remove(b);
                        b->dirty = false;
                    }
                }
            }
            spin_unlock_irqrestore(&sched_lock, *flags);
            kfree(bt);
            *flags = spin_lock_irqsave(&sched_lock);
            continue;
        }
        return claim(victim, blockno);
    }
}

/* For readahead: a buffer for blockno, locked, if that takes no sleep (a
 * new buffer or a clean, unheld one near the LRU end); NULL if the block
 * is cached or being read already, or nothing is free. */
static struct buf *claim_nowait(uint64_t blockno)
{
    ASSERT_HELD(&sched_lock);
    if (sectors_of(blockno + 1) > block_sectors() || lookup(blockno))
        return NULL;
    struct buf *v = grow();
    int looked = 0;
    for (struct buf *c = lru.lnext; !v && c != &lru && looked < 64; c = c->lnext, looked++)
        if (!c->refs && !c->locked && !c->dirty)
            v = c;
    return v ? claim(v, blockno) : NULL;
}

/* Readahead: a miss right after the window the last miss read (a
 * sequential reader) reads the next READAHEAD-1 blocks too, into buffers
 * claimed without sleeping, in one request. */
#define READAHEAD 32
static uint64_t last_read = ~0ull;      /* the last block the last miss read */

struct buf *bread(uint64_t blockno, int *err)
{
    struct buf *ra[READAHEAD];
    int n = 0;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct buf *b = get_busy(blockno, &f);
    if (!b->valid) {
        if (blockno == last_read + 1)
            while (n < READAHEAD - 1 && (ra[n] = claim_nowait(blockno + 1 + (uint64_t)n)))
                n++;
        last_read = blockno + (uint64_t)n;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    if (b->valid)
        return b;
    /* Committed metadata not yet checkpointed: the journal's copy is at
     * least as new as the home block. */
    bool copied = journal_read_copy(blockno, b->data);
    /* The batch on the heap when there is readahead: 32 of them on the
     * stack is more than a kernel frame may take (-Wframe-larger-than). */
    struct block_io one, *ios = n ? kmalloc(sizeof(*ios) * (size_t)(n + 1)) : &one;
    if (!ios) {
        for (int i = 0; i < n; i++)
            brelse(ra[i]);                      /* no memory: no readahead */
        n = 0;
        ios = &one;
    }
    int nio = 0;
    if (!copied)
        ios[nio++] = (struct block_io){ sectors_of(blockno), b->data, bsize / 512 };
    for (int i = 0; i < n; i++)
        ios[nio++] = (struct block_io){ sectors_of(ra[i]->blockno), ra[i]->data, bsize / 512 };
    int r = nio ? block_read_batch(ios, nio) : 0;
    if (ios != &one)
        kfree(ios);
    for (int i = 0; i < n; i++) {
        if (!r) {
            journal_read_copy(ra[i]->blockno, ra[i]->data);
            ra[i]->valid = true;
        }
        brelse(ra[i]);
    }
    /* A failed batch with readahead: the error may be a neighbour's. The
     * block asked for, alone. */
    if (r && n && !copied)
        r = block_read(sectors_of(blockno), b->data, bsize / 512);
    if (r) {
        *err = r;
        brelse(b);
        return NULL;
    }
    b->valid = true;
    return b;
}

struct buf *bget_zero(uint64_t blockno)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct buf *b = get_busy(blockno, &f);
    spin_unlock_irqrestore(&sched_lock, f);
    memset(b->data, 0, bsize);
    b->valid = true;
    set_dirty(b, false);
    return b;
}

void bdirty(struct buf *b) { set_dirty(b, true); }
void bdirty_data(struct buf *b) { set_dirty(b, false); }

void brelse(struct buf *b)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    b->locked = false;
    b->refs--;
    list_remove(b, false);                      /* now the most recently used */
    lru_append(b);
    if (b->waiters)
        wakeup_locked(b);
    spin_unlock_irqrestore(&sched_lock, f);
}

int bcache_write_dirty(bool meta)
{
    int kind = meta, err = 0;
    if (!bufs)
        return 0;                               /* never set up: nothing mounted */
    struct batch *bt = kmalloc(sizeof(*bt));
    if (!bt)
        return -ENOMEM;
    for (;;) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        int n = collect(bt, kind, WRITE_CHUNK, true, &f);
        spin_unlock_irqrestore(&sched_lock, f);
        if (!n)
            break;
        if ((err = write_collected(bt, n, kind)))
            break;
    }
    kfree(bt);
    return err;
}

int bcache_count_dirty_meta(void) { return ndirty[1]; }

int bcache_take_dirty_meta(uint64_t *blocknos, uint8_t **copies, int max, bool *more)
{
    int n = 0;
    *more = false;
    struct batch *bt = kmalloc(sizeof(*bt));
    if (!bt)
        return -ENOMEM;
    while (n < max) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        int k = collect(bt, 1, MIN(max - n, WRITE_CHUNK), true, &f);
        spin_unlock_irqrestore(&sched_lock, f);
        if (!k)
            break;
        for (int i = 0; i < k; i++) {
            blocknos[n + i] = bt->bufs[i]->blockno;
            memcpy(copies[n + i], bt->bufs[i]->data, bsize);
        }
        unlock_collected(bt, k, true, 1);
        n += k;
    }
    kfree(bt);
    *more = ndirty[1] > 0;
    return n;
}

int bcache_sync(void)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    int err = writeback_err;                    /* an eviction's failure, reported once */
    writeback_err = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    int w = bcache_write_dirty(false);
    err = err ? err : w;
    int r = bcache_write_dirty(true);
    if (r && !err)
        err = r;
    /* INVARIANT(durability and crash consistency): nothing is "synced" until the device says its
     * cache reached stable storage. */
#ifdef BREAK_FSYNC_FLUSH
    r = 0;
#else
    r = block_flush();
#endif
    return err ? err : r;
}
