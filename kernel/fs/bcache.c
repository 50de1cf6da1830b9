/* fs/bcache.c - the buffer cache. A fixed set of buffers, least recently
 * used out first (never a dirty or held one: dirty blocks are written back
 * first). Locking is a "busy" flag per buffer and the scheduler's
 * sleep/wakeup, so a process waiting for a block another is reading sleeps. */
#include "bcache.h"
#include "../drivers/block.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "journal.h"
#include "../mm/mm.h"

#define NBUF 256

static struct buf bufs[NBUF];
static size_t bsize;
static uint64_t clock;

void bcache_init(size_t block_size)
{
    bsize = block_size;
    for (int i = 0; i < NBUF; i++) {
        kfree(bufs[i].data);
        bufs[i] = (struct buf){ .data = kmalloc(block_size) };
        if (!bufs[i].data)
            panic("bcache: out of memory");
    }
}

size_t bcache_block_size(void) { return bsize; }

static inline uint64_t sectors_of(uint64_t blockno) { return blockno * (bsize / 512); }

static int write_back(struct buf *b)
{
    int r = block_write(sectors_of(b->blockno), b->data, bsize / 512);
    if (!r)
        b->dirty = false;
    return r;
}

/* Find or claim a buffer for blockno, locked; with sched_lock held. */
static struct buf *get_locked(uint64_t blockno, uint64_t *flags)
{
    for (;;) {
        struct buf *victim = NULL;
        for (int i = 0; i < NBUF; i++) {
            struct buf *b = &bufs[i];
            if (b->refs && b->blockno == blockno) {
                if (b->locked) {
                    wait_locked(b, flags);      /* someone else has it */
                    victim = (struct buf *)-1;
                    break;
                }
                b->refs++;
                b->locked = true;
                return b;
            }
            if (b->valid && b->blockno == blockno && !b->locked) {
                b->refs++;
                b->locked = true;
                return b;
            }
        }
        if (victim)
            continue;
        for (int i = 0; i < NBUF; i++) {
            struct buf *b = &bufs[i];
            if (b->refs || b->locked)
                continue;
            if (!victim || !b->valid || (victim->valid && b->last_use < victim->last_use))
                victim = b;
        }
        if (!victim) {
            /* Everything is held or awaits a commit: commit now. */
            spin_unlock_irqrestore(&sched_lock, *flags);
            int r = journal_commit_pressure();
            *flags = spin_lock_irqsave(&sched_lock);
            if (r)
                panic("bcache: every buffer is in use and the journal cannot commit (%d)", r);
            continue;
        }
        if (victim->dirty) {
            /* Write it back before reusing it (outside the lock: it sleeps). */
            victim->locked = true;
            victim->refs++;
            spin_unlock_irqrestore(&sched_lock, *flags);
            int r = write_back(victim);
            *flags = spin_lock_irqsave(&sched_lock);
            victim->refs--;
            victim->locked = false;
            wakeup_locked(victim);
            if (r)
                kprintf("bcache: write-back of block %lu failed (%d)\n", victim->blockno, r);
            continue;
        }
        victim->blockno = blockno;
        victim->valid = false;
        victim->dirty = false;
        victim->refs = 1;
        victim->locked = true;
        return victim;
    }
}

struct buf *bread(uint64_t blockno, int *err)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct buf *b = get_locked(blockno, &f);
    spin_unlock_irqrestore(&sched_lock, f);
    if (!b->valid) {
        int r = block_read(sectors_of(blockno), b->data, bsize / 512);
        if (r) {
            *err = r;
            brelse(b);
            return NULL;
        }
        b->valid = true;
    }
    return b;
}

struct buf *bget_zero(uint64_t blockno)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    struct buf *b = get_locked(blockno, &f);
    spin_unlock_irqrestore(&sched_lock, f);
    memset(b->data, 0, bsize);
    b->valid = true;
    b->dirty = true;
    b->meta = false;
    return b;
}

void bdirty(struct buf *b) { b->dirty = true; b->meta = true; }
void bdirty_data(struct buf *b) { b->dirty = true; b->meta = false; }

void brelse(struct buf *b)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    b->last_use = ++clock;
    b->locked = false;
    b->refs--;
    wakeup_locked(b);
    spin_unlock_irqrestore(&sched_lock, f);
}

int bcache_write_dirty(bool meta)
{
    int err = 0;
    for (int i = 0; i < NBUF; i++) {
        struct buf *b = &bufs[i];
        if (!b->valid || !b->dirty || b->meta != meta)
            continue;
        uint64_t f = spin_lock_irqsave(&sched_lock);
        struct buf *held = get_locked(b->blockno, &f);
        spin_unlock_irqrestore(&sched_lock, f);
        if (held->dirty && held->meta == meta) {
            int r = write_back(held);
            if (r && !err)
                err = r;
        }
        brelse(held);
    }
    return err;
}

int bcache_count_dirty_meta(void)
{
    int n = 0;
    for (int i = 0; i < NBUF; i++)
        n += bufs[i].valid && bufs[i].dirty && bufs[i].meta;
    return n;
}

int bcache_dirty_meta(uint64_t *blocknos, uint8_t **copies, int max, bool *more)
{
    int n = 0;
    *more = false;
    for (int i = 0; i < NBUF; i++) {
        struct buf *b = &bufs[i];
        if (!b->valid || !b->dirty || !b->meta)
            continue;
        if (n == max) {
            *more = true;
            break;
        }
        uint64_t f = spin_lock_irqsave(&sched_lock);
        struct buf *held = get_locked(b->blockno, &f);
        spin_unlock_irqrestore(&sched_lock, f);
        blocknos[n] = held->blockno;
        memcpy(copies[n], held->data, bsize);
        brelse(held);
        n++;
    }
    return n;
}

int bcache_sync(void)
{
    int err = bcache_write_dirty(false);
    int r = bcache_write_dirty(true);
    if (r && !err)
        err = r;
    /* INVARIANT(durability): nothing is "synced" until the device says its
     * cache reached stable storage. */
#ifdef BREAK_FSYNC_FLUSH
    r = 0;
#else
    r = block_flush();
#endif
    return err ? err : r;
}
