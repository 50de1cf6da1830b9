/* fs/bcache.h - the buffer cache: disk blocks kept in memory, shared by
 * every user of a block, written back when synced. One holder at a time
 * (a buffer is locked between bread and brelse); a holder that changed the
 * data marks it dirty. */
#pragma once
#include "../lib/types.h"

/* Guards (as in proc/proc.h): [sched_lock], the cache's lists and each
 * buffer's bookkeeping; [busy], the thread that holds the buffer busy
 * (locked: from bread or bget_zero until brelse), its own sleeping lock;
 * [const], set when the buffer is carved, never changed. bcache_init
 * resets everything at mount, when nobody holds a buffer. */
struct buf {
    /* [sched_lock]; blockno and meta are stable while the buffer is busy,
     * so its holder reads them without the lock. */
    uint64_t blockno;
    bool dirty;
    bool locked;                /* busy: one holder at a time */
    bool meta;                  /* file-system metadata (journaled), not file data */
    bool hashed;                /* has a block number (in the hash table) */
    int refs;
    int waiters;                /* sleeping in get_busy for this buffer */
    struct buf *hnext;          /* hash chain (valid or claimed buffers) */
    struct buf *lprev, *lnext;  /* LRU list: least recently used first */
    struct buf *dprev, *dnext;  /* the dirty list of its kind */
    /* [busy] (claim clears valid under sched_lock, before anyone holds it). */
    bool valid;                 /* data holds the block */
    uint8_t *data;              /* [const] the pointer; block_size bytes, [busy] */
};

void        bcache_init(size_t block_size);
size_t      bcache_block_size(void);
/* The block, read from the disk if not cached, locked for the caller; NULL
 * and *err on a disk error. */
struct buf *bread(uint64_t blockno, int *err);
/* The block without reading it (the caller overwrites all of it). */
struct buf *bget_zero(uint64_t blockno);
void        bdirty(struct buf *b);          /* changed metadata */
void        bdirty_data(struct buf *b);     /* changed file data */
void        brelse(struct buf *b);
/* Write every dirty block, then flush the device's cache: 0 or -EIO.
 * INVARIANT(durability and crash consistency): callers (fsync, sync) rely on the flush. */
int         bcache_sync(void);
/* For the journal: write the dirty buffers of one kind home (no flush). */
int         bcache_write_dirty(bool meta);
/* For the journal's commit: copy the dirty metadata blocks out (number,
 * data) and mark them clean (the journal now owns getting them home): how
 * many (at most max; -ENOMEM if no heap for the batch); *more says some
 * did not fit. */
int         bcache_take_dirty_meta(uint64_t *blocknos, uint8_t **copies, int max, bool *more);
int         bcache_count_dirty_meta(void);
/* Buffers that exist whatever memory is left (made at mount): the journal
 * keeps a transaction's metadata well under them, so uncommitted
 * metadata, which cannot be evicted, never fills the cache. */
int         bcache_guaranteed(void);
/* drop_caches: clean buffers nobody holds forget their blocks; how many. */
uint64_t    bcache_drop_clean(void);
uint64_t    bcache_frames(void);            /* frames holding buffers (/proc/meminfo's Buffers) */
/* How many times a buffer has been marked dirty since boot: a commit that
 * began at generation g made every change up to g durable. */
uint64_t    bcache_dirty_gen(void);
