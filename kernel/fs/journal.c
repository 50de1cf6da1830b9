/* fs/journal.c - JBD2 journaling, ordered mode, one transaction at a time.
 *
 * A commit (sync, fsync, or a transaction grown large):
 *   1. file data goes to its home blocks;
 *   2. (FLUSH, if the last commit's "journal empty" may not be on the
 *      disk yet: the space is about to be reused); a descriptor block,
 *      naming the metadata blocks, and copies of those blocks go into the
 *      journal, and the journal superblock says where the transaction
 *      starts;
 *   3. FLUSH; then the commit block; then FLUSH again;
 *   4. checkpoint: the metadata goes to its home blocks; FLUSH; the journal
 *      superblock is marked empty again.
 * A crash before the commit block is on the disk loses the transaction
 * whole; after it, recovery (here at mount, or e2fsck) replays it whole.
 * Everything is big-endian on disk, as in the JBD2 format. */
#include "journal.h"
#include "bcache.h"
#include "../drivers/block.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"

#define JBD2_MAGIC       0xC03B3998u
#define JT_DESCRIPTOR    1
#define JT_COMMIT        2
#define JT_SUPER_V1      3
#define JT_SUPER_V2      4
#define JT_REVOKE        5
#define TAG_ESCAPE       1
#define TAG_SAME_UUID    2
#define TAG_LAST         8
#define INCOMPAT_REVOKE  1
#define TAG_BYTES        8

static struct {
    bool active;
    journal_bmap_t bmap;
    uint32_t bsize, maxlen, first, sequence;
    uint8_t uuid[16];
    int outstanding;            /* changes in progress (journal_begin..end) */
    bool super_unflushed;       /* the superblock's "empty" may not be on the disk yet */
    bool committing;
    int replayed;
} j;

static inline uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static inline void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = (uint8_t)v; }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8, p[1] = (uint8_t)v; }
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

bool journal_active(void) { return j.active; }
int journal_replayed(void) { return j.replayed; }

/* The device FLUSH that makes a commit durable. The fsync-flush break
 * switch leaves it out: writes then sit in the disk's volatile cache. */
static int flush(void)
{
#ifdef BREAK_FSYNC_FLUSH
    return 0;
#else
    return block_flush();
#endif
}

/* Journal block lblk <-> the disk. */
static int jio(uint32_t lblk, void *buf, bool write)
{
    long pb = j.bmap(lblk);
    if (pb <= 0)
        return pb < 0 ? (int)pb : -EIO;
    uint64_t sector = (uint64_t)pb * (j.bsize / 512);
    return write ? block_write(sector, buf, j.bsize / 512) : block_read(sector, buf, j.bsize / 512);
}

static uint32_t jnext(uint32_t lblk) { return lblk + 1 >= j.maxlen ? j.first : lblk + 1; }

static int write_super(uint32_t start, uint32_t sequence)
{
    uint8_t *b = kmalloc(j.bsize);
    if (!b)
        return -ENOMEM;
    int r = jio(0, b, false);
    if (!r) {
        put32(b + 24, sequence);
        put32(b + 28, start);
        r = jio(0, b, true);
    }
    kfree(b);
    return r;
}

static __unused void header(uint8_t *b, uint32_t type, uint32_t seq)
{
    memset(b, 0, j.bsize);
    put32(b, JBD2_MAGIC);
    put32(b + 4, type);
    put32(b + 8, seq);
}

/* ---- recovery ----
 * As JBD2 does it, in two passes over the committed transactions: first
 * collect the revoke records (a block revoked in transaction T must not be
 * replayed from any transaction up to T), then replay the rest in order.
 * Vigil checkpoints every commit at once and so never writes revokes, but a
 * journal left by Linux may have them. */

struct replay {
    uint32_t home;
    uint32_t jblk;
    bool escaped;
};

#define MAX_REVOKES 4096

struct revoke {
    uint32_t block, seq;
};

static struct revoke *revokes;
static int nrevokes;

static void note_revoke(uint32_t block, uint32_t seq)
{
    for (int i = 0; i < nrevokes; i++)
        if (revokes[i].block == block) {
            if ((int32_t)(seq - revokes[i].seq) > 0)
                revokes[i].seq = seq;
            return;
        }
    if (nrevokes < MAX_REVOKES)
        revokes[nrevokes++] = (struct revoke){ block, seq };
}

static bool revoked(uint32_t block, uint32_t seq)
{
    for (int i = 0; i < nrevokes; i++)
        if (revokes[i].block == block && (int32_t)(revokes[i].seq - seq) >= 0)
            return true;
    return false;
}

/* One pass over the committed transactions from start: with replay false,
 * only collect revokes; with replay true, write the blocks home. Returns
 * the sequence number after the last committed transaction, or -errno. */
static long pass(uint32_t start, uint32_t seq, bool replay)
{
    uint8_t *b = kmalloc(j.bsize), *data = kmalloc(j.bsize);
    struct replay *list = kmalloc(sizeof(struct replay) * 1024);
    struct revoke *pending = kmalloc(sizeof(struct revoke) * 1024);
    int err = (!b || !data || !list || !pending) ? -ENOMEM : 0;
    uint32_t pos = start;
    while (!err) {
        int n = 0, npending = 0;
        bool committed = false, broken = false;
        uint32_t p = pos;
        for (int guard = 0; guard < (int)j.maxlen && !committed && !broken; guard++) {
            if ((err = jio(p, b, false)))
                break;
            if (get32(b) != JBD2_MAGIC || get32(b + 8) != seq) {
                broken = true;
                break;
            }
            uint32_t type = get32(b + 4);
            if (type == JT_COMMIT) {
                committed = true;
            } else if (type == JT_DESCRIPTOR) {
                uint32_t off = 12;
                while (off + TAG_BYTES <= j.bsize && n < 1024) {
                    uint16_t flags = get16(b + off + 6);
                    p = jnext(p);
                    list[n++] = (struct replay){ get32(b + off), p, flags & TAG_ESCAPE };
                    off += TAG_BYTES + ((flags & TAG_SAME_UUID) ? 0 : 16);
                    if (flags & TAG_LAST)
                        break;
                }
            } else if (type == JT_REVOKE) {
                uint32_t used = MIN(get32(b + 12), j.bsize);
                for (uint32_t off = 16; off + 4 <= used && npending < 1024; off += 4)
                    pending[npending++] = (struct revoke){ get32(b + off), seq };
            } else {
                broken = true;
            }
            p = jnext(p);
        }
        if (err || !committed)
            break;                              /* no commit block: it never happened */
        if (!replay) {
            for (int i = 0; i < npending; i++)
                note_revoke(pending[i].block, pending[i].seq);
        } else {
            for (int i = 0; i < n && !err; i++) {
                if (revoked(list[i].home, seq))
                    continue;
                if ((err = jio(list[i].jblk, data, false)))
                    break;
                if (list[i].escaped)
                    put32(data, JBD2_MAGIC);
                err = block_write((uint64_t)list[i].home * (j.bsize / 512), data, j.bsize / 512);
            }
            j.replayed++;
        }
        seq++;
        pos = p;
    }
    kfree(b);
    kfree(data);
    kfree(list);
    kfree(pending);
    return err ? err : (long)seq;
}

static int recover(uint32_t start, uint32_t seq)
{
    revokes = kmalloc(sizeof(struct revoke) * MAX_REVOKES);
    nrevokes = 0;
    if (!revokes)
        return -ENOMEM;
    long r = pass(start, seq, false);
    if (r >= 0)
        r = pass(start, seq, true);
    kfree(revokes);
    revokes = NULL;
    if (r < 0)
        return (int)r;
    j.sequence = (uint32_t)r;
    int f = block_flush();
    if (!f)
        j.super_unflushed = true;               /* see commit_one, step 2 */
    return f ? f : write_super(0, j.sequence);
}

int journal_open(journal_bmap_t bmap, uint64_t nblocks, uint32_t block_size)
{
    j.bmap = bmap;
    j.bsize = block_size;
    uint8_t *b = kmalloc(block_size);
    if (!b)
        return -ENOMEM;
    j.maxlen = (uint32_t)nblocks;
    int r = jio(0, b, false);
    if (r) {
        kfree(b);
        return r;
    }
    uint32_t type = get32(b + 4);
    if (get32(b) != JBD2_MAGIC || (type != JT_SUPER_V1 && type != JT_SUPER_V2) ||
        get32(b + 12) != block_size) {
        kfree(b);
        kprintf("journal: no valid JBD2 superblock\n");
        return -EINVAL;
    }
    j.maxlen = MIN(get32(b + 16), (uint32_t)nblocks);
    j.first = get32(b + 20);
    j.sequence = get32(b + 24);
    uint32_t start = get32(b + 28);
    uint32_t incompat = type == JT_SUPER_V2 ? get32(b + 40) : 0;
    memcpy(j.uuid, b + 48, 16);
    kfree(b);
    if (incompat & ~INCOMPAT_REVOKE) {
        kprintf("journal: unsupported JBD2 features 0x%x\n", incompat);
        return -EINVAL;
    }
    if (j.first < 1 || j.first >= j.maxlen) {
        kprintf("journal: bad layout (first %u, length %u)\n", j.first, j.maxlen);
        return -EINVAL;
    }
    if (start) {
        r = recover(start, j.sequence);
        kprintf("journal: recovery %s: %d transaction(s) replayed\n", r ? "FAILED" : "done", j.replayed);
        if (r)
            return r;
    }
    j.active = true;
    return 0;
}

/* ---- blocks freed by the running transaction ----
 * INVARIANT(crash consistency): a block freed by a transaction that has not
 * committed is not handed out again until it has. In ordered mode a new
 * owner's data goes home *before* the commit; if the transaction then never
 * commits, the old owner (an fsync'd file, a directory) still holds the
 * block in the recovered file system, now with someone else's bytes. (The
 * crash-state explorer found this: seq2's unlink+creat and truncate+append,
 * docs/invariants.md.) An open-addressing set of block numbers, emptied by
 * each commit; when it fills up, no freed block is reusable until then. */

#define FREED_SLOTS 16384

static uint32_t *freed;
static int nfreed;
static bool freed_full;

static uint32_t *freed_slot(uint64_t blk)
{
    uint32_t h = (uint32_t)(blk * 2654435761u) % FREED_SLOTS;
    while (freed[h] && freed[h] != (uint32_t)blk)
        h = (h + 1) % FREED_SLOTS;
    return &freed[h];
}

void journal_freed(uint64_t blk)
{
    if (!j.active || freed_full)
        return;
    if (!freed && !(freed = kzalloc(sizeof(uint32_t) * FREED_SLOTS))) {
        freed_full = true;
        return;
    }
    if (nfreed >= FREED_SLOTS * 3 / 4) {
        freed_full = true;
        return;
    }
    uint32_t *slot = freed_slot(blk);
    if (!*slot) {
        *slot = (uint32_t)blk;
        nfreed++;
    }
}

bool journal_reusable(uint64_t blk)
{
    if (freed_full)
        return false;
    return !nfreed || !*freed_slot(blk);
}

bool journal_freed_pending(void) { return nfreed || freed_full; }

/* After a commit: everything freed so far is free on the disk too. */
static void freed_committed(void)
{
    if (freed && nfreed)
        memset(freed, 0, sizeof(uint32_t) * FREED_SLOTS);
    nfreed = 0;
    freed_full = false;
}

/* ---- running transactions ---- */

static int max_blocks(void)
{
    /* One descriptor block's worth of tags, and room in the journal. */
    int tags = (int)((j.bsize - 12 - 16) / TAG_BYTES);
    int room = (int)(j.maxlen - j.first) - 2;
    return MIN(tags, room);
}

void journal_begin(void)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    for (;;) {
        while (j.committing)
            wait_locked(&j, &f);
        /* Keep transactions well inside one descriptor: before the first
         * change of a new batch, commit what has piled up. */
        if (j.active && j.outstanding == 0 && bcache_count_dirty_meta() > max_blocks() / 2) {
            spin_unlock_irqrestore(&sched_lock, f);
            journal_commit();
            f = spin_lock_irqsave(&sched_lock);
            continue;
        }
        break;
    }
    j.outstanding++;
    spin_unlock_irqrestore(&sched_lock, f);
}

void journal_end(void)
{
    uint64_t f = spin_lock_irqsave(&sched_lock);
    j.outstanding--;
    wakeup_locked(&j);
    spin_unlock_irqrestore(&sched_lock, f);
}

static int commit_one(bool *more)
{
    int cap = max_blocks(), err = 0;
    uint64_t *homes = kmalloc(sizeof(uint64_t) * (size_t)cap);
    uint8_t **copies = kzalloc(sizeof(uint8_t *) * (size_t)cap);
    uint8_t *blk = kmalloc(j.bsize);
    if (!homes || !copies || !blk)
        err = -ENOMEM;
    for (int i = 0; !err && i < cap; i++)
        if (!(copies[i] = kmalloc(j.bsize)))
            err = -ENOMEM;
    int n = 0;
    if (!err)
        err = bcache_write_dirty(false);                /* 1. ordered: data first */
    if (!err)
        n = bcache_dirty_meta(homes, copies, cap, more);
    if (!err && n > 0) {
#ifndef BREAK_JOURNAL
        /* 2. INVARIANT(crash consistency): the journal's space is reused
         * only once the superblock saying the last transaction is done
         * (step 4) is on the disk. Else a crash could leave the superblock
         * pointing at that old transaction, its descriptor and commit block
         * intact and some of its copies overwritten by this one's, and
         * recovery would write those into the old homes (the crash-state
         * explorer found this: a replayed bitmap or inode block put over
         * the superblock). */
        if (!err && j.super_unflushed)
            err = flush();
        if (!err)
            j.super_unflushed = false;
        /* descriptor and copies */
        uint32_t seq = j.sequence, p = j.first;
        header(blk, JT_DESCRIPTOR, seq);
        uint32_t off = 12;
        for (int i = 0; i < n; i++) {
            uint16_t flags = (uint16_t)((i ? TAG_SAME_UUID : 0) | (i == n - 1 ? TAG_LAST : 0));
            if (get32(copies[i]) == JBD2_MAGIC) {
                flags |= TAG_ESCAPE;                    /* looks like a journal block: hide it */
                put32(copies[i], 0);
            }
            put32(blk + off, (uint32_t)homes[i]);
            put16(blk + off + 6, flags);
            off += TAG_BYTES;
            if (!i) {
                memcpy(blk + off, j.uuid, 16);
                off += 16;
            }
        }
        err = jio(p, blk, true);
        for (int i = 0; i < n && !err; i++) {
            p = jnext(p);
            err = jio(p, copies[i], true);
        }
        if (!err)
            err = write_super(j.first, seq);
        /* 3. INVARIANT(crash consistency): the commit block goes to the disk
         * only after everything it vouches for is there. */
        if (!err)
            err = flush();
        if (!err) {
            header(blk, JT_COMMIT, seq);
            p = jnext(p);
            err = jio(p, blk, true);
        }
        if (!err)
            err = flush();
        /* Back in the escaped copies' place: the cache still holds the real data. */
#endif
        /* 4. checkpoint */
        if (!err)
            err = bcache_write_dirty(true);
        if (!err)
            err = flush();
#ifndef BREAK_JOURNAL
        if (!err)
            err = write_super(0, j.sequence + 1);
        if (!err) {
            j.sequence++;
            j.super_unflushed = true;
        }
#endif
    } else if (!err) {
        err = flush();
        if (!err)
            j.super_unflushed = false;
    }
    for (int i = 0; copies && i < cap; i++)
        kfree(copies[i]);
    kfree(copies);
    kfree(homes);
    kfree(blk);
    return err;
}

int journal_commit(void)
{
    if (!j.active)
        return bcache_sync();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    while (j.committing || j.outstanding)
        wait_locked(&j, &f);
    j.committing = true;
    spin_unlock_irqrestore(&sched_lock, f);
    bool more = true;
    int r = 0;
    while (more && !r)
        r = commit_one(&more);
    if (!r)
        freed_committed();
    f = spin_lock_irqsave(&sched_lock);
    j.committing = false;
    wakeup_locked(&j);
    spin_unlock_irqrestore(&sched_lock, f);
    if (r)
        kprintf("journal: commit failed (%d)\n", r);
    return r;
}

int journal_commit_pressure(void)
{
    if (!j.active || j.outstanding > 1 || j.committing)
        return -EBUSY;
    /* The one change in progress is ours: commit what came before it. It
     * may include part of this change; without room there is no better
     * choice (and the transaction limit makes this rare). */
    bool more = true;
    int r = 0;
    while (more && !r)
        r = commit_one(&more);
    if (!r)
        freed_committed();
    return r;
}
