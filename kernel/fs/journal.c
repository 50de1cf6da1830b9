/* fs/journal.c - JBD2 journaling, ordered mode, one transaction at a time.
 *
 * A commit (sync, fsync, or a transaction grown large):
 *   1. file data goes to its home blocks;
 *   2. a descriptor block, naming the metadata blocks, and copies of those
 *      blocks go into the journal after the transactions already there
 *      (and, if it was empty, the journal superblock says where the log
 *      starts), all submitted at once;
 *   3. FLUSH; then the commit block; then FLUSH again (a FUA write, in
 *      effect): two flushes per commit, as ext4's jbd2 does;
 *   4. no checkpoint yet: the metadata goes home later, all of it at once,
 *      when the log is full or at unmount (checkpoint_locked: home writes,
 *      FLUSH, superblock "empty", FLUSH).
 * A crash before the commit block is on the disk loses the transaction
 * whole; after it, recovery (here at mount, or e2fsck) replays it whole.
 * Everything is big-endian on disk, as in the JBD2 format.
 *
 * A disk that fails (an I/O error on a write or a FLUSH of a commit or a
 * checkpoint) aborts the journal, as JBD2 does and as ext4 mounted with
 * errors=remount-ro reacts: no commit after the failed one (the one that
 * failed is never reported durable), no more writes at all but the error
 * itself (s_errno in the journal superblock; the file system's own state,
 * by its owner's hook), and the file system read-only from then on. What
 * earlier commits made durable stays in the log untouched, so the next
 * mount replays it; the log is never declared empty after an abort. */
#include "journal.h"
#include "journal_internal.h"
#include "bcache.h"
#include "../drivers/block.h"
#include "../proc/proc.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../mm/mm.h"

#define INCOMPAT_REVOKE  1

/* Guards (as in proc/proc.h, and as jbd2.h tags its journal_t):
 *   [const]        set by journal_open at mount (with nobody else in the
 *                  file system), never changed while mounted;
 *   [commit_mutex] written by a commit or checkpoint, which hold
 *                  commit_mutex (and the kernel lock, except while asleep
 *                  in block I/O); read under either;
 *   [sched_lock]   the count of changes in progress, which sleepers wait
 *                  on;
 *   [klock]        written and read by file-system code under the kernel
 *                  lock (the commit holds it too). */
static struct {
    bool active;                /* [const] */
    journal_bmap_t bmap;        /* [const] */
    uint32_t bsize, maxlen, first;  /* [const] */
    uint32_t sequence;          /* [commit_mutex] the next transaction's id */
    uint64_t fs_blocks;         /* [const] the file system's size: no home block at or past it */
    uint8_t uuid[16];           /* [const] */
    int outstanding;            /* [sched_lock] changes in progress (journal_begin..end);
                                 * read without it as a hint, rechecked under it */
    int replayed;               /* [const] */
    int aborted;                /* [commit_mutex] 0, or the -errno that aborted the journal;
                                 * read without it (a flag that only ever goes up) */
    int errno_at_open;          /* [const] s_errno an earlier mount left in the superblock */
    void (*on_abort)(int err);  /* [const] the file system's hook: go read-only */
} j;

static inline uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static inline void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = (uint8_t)v; }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8, p[1] = (uint8_t)v; }
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

bool journal_active(void) { return j.active; }
int journal_aborted(void) { return __atomic_load_n(&j.aborted, __ATOMIC_ACQUIRE); }
void journal_on_abort(void (*fn)(int err)) { j.on_abort = fn; }
int journal_error_at_open(void) { return j.errno_at_open; }
#ifdef BREAK_FDATASYNC_FLUSH
bool journal_break_fdatasync;
#endif
int journal_replayed(void) { return j.replayed; }

/* The device FLUSH that makes a commit durable (the one after the commit
 * block). The fsync-flush break switch leaves it out: the commit block
 * then sits in the disk's volatile cache. (The flush before the commit
 * block orders the commit; it stays.) */
static int durable_flush(void)
{
#ifdef BREAK_FDATASYNC_FLUSH
    if (journal_break_fdatasync)
        return 0;                               /* break switch: fdatasync's commit skips it */
#endif
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

uint32_t jbd2_log_next(uint32_t lblk, uint32_t first, uint32_t maxlen)
{
    return lblk + 1 >= maxlen ? first : lblk + 1;
}

static uint32_t jnext(uint32_t lblk) { return jbd2_log_next(lblk, j.first, j.maxlen); }

void jbd2_header(uint8_t *b, uint32_t bsize, uint32_t type, uint32_t seq)
{
    memset(b, 0, bsize);
    put32(b, JBD2_MAGIC);
    put32(b + 4, type);
    put32(b + 8, seq);
}

static __unused void header(uint8_t *b, uint32_t type, uint32_t seq) { jbd2_header(b, j.bsize, type, seq); }

/* A descriptor block's tags (8 bytes each: no 64-bit block numbers, no
 * checksums), the first followed by the journal's UUID. */
uint16_t jbd2_tag_flags(int i, int n, bool escaped)
{
    return (uint16_t)((i ? TAG_SAME_UUID : 0) | (i == n - 1 ? TAG_LAST : 0) | (escaped ? TAG_ESCAPE : 0));
}

uint32_t jbd2_put_tag(uint8_t *desc, uint32_t off, uint32_t home, uint16_t flags, const uint8_t uuid[16])
{
    put32(desc + off, home);
    put16(desc + off + 4, 0);
    put16(desc + off + 6, flags);
    off += TAG_BYTES;
    if (!(flags & TAG_SAME_UUID)) {
        memcpy(desc + off, uuid, 16);
        off += 16;
    }
    return off;
}

uint32_t jbd2_get_tag(const uint8_t *desc, uint32_t off, uint32_t *home, uint16_t *flags)
{
    *home = get32(desc + off);
    *flags = get16(desc + off + 6);
    return off + TAG_BYTES + ((*flags & TAG_SAME_UUID) ? 0 : 16);
}

void jbd2_read_tags(const uint8_t *b, uint32_t bsize, uint32_t first, uint32_t maxlen,
                    uint32_t *pos, struct jbd2_replay *list, int *n, int max)
{
    uint32_t off = 12;
    while (off + TAG_BYTES <= bsize && *n < max) {
        uint32_t home;
        uint16_t flags;
        uint32_t next = jbd2_get_tag(b, off, &home, &flags);
        *pos = jbd2_log_next(*pos, first, maxlen);
        list[(*n)++] = (struct jbd2_replay){ home, *pos, flags & TAG_ESCAPE };
        off = next;
        if (flags & TAG_LAST)
            break;
    }
}

int jbd2_read_revokes(const uint8_t *b, uint32_t bsize, uint32_t *out, int max)
{
    uint32_t used = MIN(get32(b + 12), bsize);
    int n = 0;
    for (uint32_t off = 16; off + 4 <= used && n < max; off += 4)
        out[n++] = get32(b + off);
    return n;
}

/* ---- the log ----
 * Committed transactions stay in the journal, one after the other from
 * j.first, until a checkpoint writes their blocks home; only then is the
 * space reused, from j.first again (the log never wraps, so it never
 * needs a tail to chase). Each copy in the log is mirrored in memory
 * (j.mirror, by journal block), and a map from home block to the newest
 * copy serves three purposes: a checkpoint writes each home once, from
 * memory; a read of a block the cache has let go finds the committed copy
 * (the home block on the disk is older); and a block with a copy in the
 * log is not reused until the checkpoint (journal_reusable), which is why
 * Vigil needs no revoke records: JBD2 revokes a freed metadata block so
 * that replaying an old copy cannot clobber the block's new owner; here
 * there is no new owner while an old copy can still be replayed. */

#define LOG_MAX_BYTES (16u << 20)       /* memory for the mirror, at most */

/* All [commit_mutex], except that the lookups of journal_read_copy (a cache
 * miss) and journal_reusable (allocation) read the map under the kernel lock
 * alone: a commit changes the map only between its sleeps, which are where
 * it lets the kernel lock go, so a reader sees it before or after a change.
 * limit and the arrays' addresses are [const] after log_init. */
static struct {
    uint32_t limit;             /* log blocks used: [first, limit) */
    uint32_t head;              /* the next free log block (first: empty log) */
    uint8_t **mirror;           /* [lblk]: the copy journal block lblk holds */
    long *pb;                   /* [lblk]: its disk block */
    uint32_t *map_home, *map_pos;
    uint32_t map_slots, map_n;
    struct block_io *ios;       /* [limit]: a batch of writes */
    uint64_t *homes;            /* [tags]: this commit's home blocks */
    uint8_t *desc, *sb;         /* descriptor (and commit) block; the journal superblock */
    bool rewrite;               /* some copies may not have been written home */
} lg;

static struct mutex commit_mutex = MUTEX_INIT("journal commit");

static uint32_t *map_slot(uint64_t home)
{
    uint32_t h = (uint32_t)(home * 2654435761u) & (lg.map_slots - 1);
    while (lg.map_home[h] && lg.map_home[h] != (uint32_t)home)
        h = (h + 1) & (lg.map_slots - 1);
    return &lg.map_home[h];
}

static bool map_find(uint64_t home, uint32_t *pos)
{
    if (!lg.map_n || !home)
        return false;
    uint32_t *slot = map_slot(home);
    if (!*slot)
        return false;
    *pos = lg.map_pos[slot - lg.map_home];
    return true;
}

static __unused void map_set(uint64_t home, uint32_t pos)
{
    uint32_t *slot = map_slot(home);
    if (!*slot) {
        *slot = (uint32_t)home;
        lg.map_n++;
    }
    lg.map_pos[slot - lg.map_home] = pos;
}

bool journal_read_copy(uint64_t blk, void *dst)
{
    uint32_t pos;
    if (!j.active || !map_find(blk, &pos))
        return false;
    memcpy(dst, lg.mirror[pos], j.bsize);
    return true;
}

static void log_free(void)
{
    if (lg.mirror)
        for (uint32_t i = 0; i < lg.limit; i++)
            kfree(lg.mirror[i]);
    kfree(lg.mirror);
    kfree(lg.pb);
    kfree(lg.map_home);
    kfree(lg.map_pos);
    kfree(lg.ios);
    kfree(lg.homes);
    kfree(lg.desc);
    kfree(lg.sb);
    lg = (typeof(lg)){ 0 };
}

static int max_tags(void) { return (int)((j.bsize - 12 - 16) / TAG_BYTES); }

/* The most blocks one transaction may journal: one descriptor's worth of
 * tags, and room in the log (with its descriptor and commit block). */
static int tx_max(void) { return MIN(max_tags(), (int)(lg.limit - j.first) - 2); }

/* Room for the log and its bookkeeping, once per mount. */
static int log_init(void)
{
    log_free();
    lg.limit = MIN(j.maxlen, j.first + LOG_MAX_BYTES / j.bsize);
    lg.head = j.first;
    lg.map_slots = 1;
    while (lg.map_slots < 2 * lg.limit)
        lg.map_slots <<= 1;
    lg.mirror = kzalloc(sizeof(uint8_t *) * lg.limit);
    lg.pb = kzalloc(sizeof(long) * lg.limit);
    lg.map_home = kzalloc(sizeof(uint32_t) * lg.map_slots);
    lg.map_pos = kzalloc(sizeof(uint32_t) * lg.map_slots);
    lg.ios = kzalloc(sizeof(struct block_io) * lg.limit);
    lg.homes = kzalloc(sizeof(uint64_t) * (size_t)max_tags());
    lg.desc = kmalloc(j.bsize);
    lg.sb = kmalloc(j.bsize);
    if (!lg.mirror || !lg.pb || !lg.map_home || !lg.map_pos || !lg.ios || !lg.homes || !lg.desc || !lg.sb)
        return -ENOMEM;
    /* Where each log block is, looked up now: the commit must not read
     * the journal inode's indirect blocks through the cache. */
    for (uint32_t i = 0; i < lg.limit; i++) {
        lg.pb[i] = j.bmap(i);
        if (lg.pb[i] <= 0)
            return lg.pb[i] < 0 ? (int)lg.pb[i] : -EIO;
    }
    return jio(0, lg.sb, false);
}

static struct block_io log_io(uint32_t lblk, void *buf)
{
    return (struct block_io){ (uint64_t)lg.pb[lblk] * (j.bsize / 512), buf, j.bsize / 512 };
}

/* The journal superblock says where the log starts (0: empty) and the
 * sequence number of its first transaction. */
static void set_super(uint32_t start, uint32_t sequence)
{
    put32(lg.sb + 24, sequence);
    put32(lg.sb + 28, start);
}

/* ---- recovery ----
 * As JBD2 does it, in two passes over the committed transactions: first
 * collect the revoke records (a block revoked in transaction T must not be
 * replayed from any transaction up to T), then replay the rest in order.
 * Vigil checkpoints every commit at once and so never writes revokes, but a
 * journal left by Linux may have them. */

#define MAX_REVOKES 4096

struct revoke {
    uint32_t block, seq;
};

static struct revoke *revokes;  /* [const]: recovery's scratch, at mount */
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
    struct jbd2_replay *list = kmalloc(sizeof(struct jbd2_replay) * 1024);
    uint32_t *pending = kmalloc(sizeof(uint32_t) * 1024);   /* this transaction's revokes */
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
                jbd2_read_tags(b, j.bsize, j.first, j.maxlen, &p, list, &n, 1024);
            } else if (type == JT_REVOKE) {
                npending += jbd2_read_revokes(b, j.bsize, pending + npending, 1024 - npending);
            } else {
                broken = true;
            }
            p = jnext(p);
        }
        if (err || !committed)
            break;                              /* no commit block: it never happened */
        if (!replay) {
            for (int i = 0; i < npending; i++)
                note_revoke(pending[i], seq);
        } else {
            for (int i = 0; i < n && !err; i++) {
                if (revoked(list[i].home, seq))
                    continue;
                /* INVARIANT(kernel memory safety): a tag's home comes from
                 * the disk: inside the file system, or recovery fails. */
                if (list[i].home >= j.fs_blocks) {
                    kprintf("journal: corrupt: a tag's home block %u is past the end (%lu)\n",
                            list[i].home, j.fs_blocks);
                    err = -EUCLEAN;
                    break;
                }
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
    /* Everything replayed is on stable storage before the log is declared
     * empty, and that before the log is reused (see checkpoint_locked). */
    int f = block_flush();
    if (!f) {
        put32(lg.sb + 24, j.sequence);
        put32(lg.sb + 28, 0);
        f = jio(0, lg.sb, true);
    }
    return f ? f : block_flush();
}

void journal_close(void)
{
    j.active = false;
    j.aborted = 0;
    j.errno_at_open = 0;
    log_free();
}

void journal_clear_error(void)
{
    /* The file system has taken the error over (its superblock's state):
     * the next write of the journal superblock drops it, as ext4 clears
     * s_errno once it has moved it into its own superblock. */
    if (lg.sb)
        put32(lg.sb + 32, 0);
    j.errno_at_open = 0;
}

int journal_open(journal_bmap_t bmap, uint64_t nblocks, uint32_t block_size, uint64_t fs_blocks)
{
    j.active = false;
    j.fs_blocks = fs_blocks;
    j.replayed = 0;
    j.bmap = bmap;
    j.bsize = block_size;
    uint8_t *b = kmalloc(block_size);
    if (!b)
        return -ENOMEM;
    j.maxlen = (uint32_t)MIN(nblocks, 0xffffffffu);
    int r = j.maxlen ? jio(0, b, false) : -EINVAL;
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
    j.maxlen = MIN(get32(b + 16), j.maxlen);
    j.first = get32(b + 20);
    j.sequence = get32(b + 24);
    uint32_t start = get32(b + 28);
    j.errno_at_open = (int32_t)get32(b + 32);   /* s_errno: an earlier mount aborted */
    j.aborted = 0;
    uint32_t incompat = type == JT_SUPER_V2 ? get32(b + 40) : 0;
    memcpy(j.uuid, b + 48, 16);
    kfree(b);
    if (incompat & ~INCOMPAT_REVOKE) {
        kprintf("journal: unsupported JBD2 features 0x%x\n", incompat);
        return -EINVAL;
    }
    /* INVARIANT(kernel memory safety): the log's bounds come from the
     * disk: room for a transaction (a descriptor, a copy, a commit block),
     * and a start inside the log. */
    if (j.first < 1 || j.first >= j.maxlen || j.maxlen - j.first < 4 ||
        (start && (start < j.first || start >= j.maxlen))) {
        kprintf("journal: bad layout (first %u, length %u, start %u)\n", j.first, j.maxlen, start);
        return -EINVAL;
    }
    if ((r = log_init()))
        return r;
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
 * INVARIANT(durability and crash consistency): a block freed by a transaction that has not
 * committed is not handed out again until it has. In ordered mode a new
 * owner's data goes home *before* the commit; if the transaction then never
 * commits, the old owner (an fsync'd file, a directory) still holds the
 * block in the recovered file system, now with someone else's bytes. (The
 * crash-state explorer found this: seq2's unlink+creat and truncate+append,
 * docs/invariants.md.) An open-addressing set of block numbers, emptied by
 * each commit; when it fills up, no freed block is reusable until then
 * (struct freed_set, journal_internal.h). */

static struct freed_set freed;  /* [klock] all of it */

static uint32_t *freed_slot(struct freed_set *s, uint64_t blk)
{
    uint32_t h = (uint32_t)(blk * 2654435761u) % FREED_SLOTS;
    while (s->slots[h] && s->slots[h] != (uint32_t)blk)
        h = (h + 1) % FREED_SLOTS;
    return &s->slots[h];
}

void freed_set_add(struct freed_set *s, uint64_t blk)
{
    if (s->full)
        return;
    if (!s->slots && !(s->slots = kzalloc(sizeof(uint32_t) * FREED_SLOTS))) {
        s->full = true;
        return;
    }
    if (s->n >= FREED_SLOTS * 3 / 4) {
        s->full = true;
        return;
    }
    uint32_t *slot = freed_slot(s, blk);
    if (!*slot) {
        *slot = (uint32_t)blk;
        s->n++;
    }
}

bool freed_set_holds(struct freed_set *s, uint64_t blk)
{
    return s->full || (s->n && *freed_slot(s, blk));
}

void freed_set_clear(struct freed_set *s)
{
    if (s->slots && s->n)
        memset(s->slots, 0, sizeof(uint32_t) * FREED_SLOTS);
    s->n = 0;
    s->full = false;
}

void journal_freed(uint64_t blk)
{
    if (j.active)
        freed_set_add(&freed, blk);
}

bool journal_reusable(uint64_t blk)
{
    uint32_t pos;
    if (map_find(blk, &pos))
        return false;                           /* a copy in the log could be replayed over it */
#ifdef BREAK_JOURNAL_REUSE
    return true;                                /* break switch: freed blocks reused at once */
#endif
    return !freed_set_holds(&freed, blk);
}

bool journal_freed_pending(void) { return freed.n || freed.full; }

/* After a commit: everything freed so far is free on the disk too. */
static void freed_committed(void) { freed_set_clear(&freed); }

/* ---- abort ----
 * INVARIANT(durability and crash consistency): after a write or FLUSH of a
 * commit or a checkpoint fails, nothing is ever reported durable again and
 * nothing more is committed. The transaction that failed may be partly on
 * the disk; the log before it is intact, and only recovery at the next
 * mount (or e2fsck) decides, by its commit blocks, what happened. A commit
 * after a failed one would start where the failed one did, over blocks the
 * disk may or may not hold, and the metadata the failed one took from the
 * cache would be lost from every later one. */
static void abort_locked(int err)
{
    ASSERT_HELD(&commit_mutex);
    if (j.aborted)
        return;
    __atomic_store_n(&j.aborted, err < 0 ? err : -EIO, __ATOMIC_RELEASE);
    kprintf("journal: aborted by an I/O error (%d): no more commits, the file system is read-only\n", err);
    /* Say so in the journal superblock (s_errno), leaving where the log
     * starts as the disk last heard it: recovery still replays every
     * committed transaction. Best effort: the disk may refuse this too. */
    if (lg.sb) {
        put32(lg.sb + 32, (uint32_t)j.aborted);
        struct block_io io = log_io(0, lg.sb);
        if (!block_write_batch(&io, 1))
            block_flush();
    }
    if (j.on_abort)
        j.on_abort(j.aborted);
}

void journal_abort(int err)
{
    if (!j.active || journal_aborted())
        return;
    mutex_lock(&commit_mutex);
    abort_locked(err);
    mutex_unlock(&commit_mutex);
}

/* What a commit or checkpoint that failed with r leaves: an aborted
 * journal (the break switch journal-abort ignores the failure: later
 * commits go on, and the caller hears of success). (noinline: the matrix
 * names it.) */
static __attribute__((noinline)) int failed_locked(int r)
{
    if (!r)
        return 0;
#ifdef BREAK_JOURNAL_ABORT
    kprintf("journal: commit or checkpoint failed (%d); going on\n", r);
    return 0;                                   /* break switch: the failure is forgotten */
#else
    abort_locked(r);
    return r;
#endif
}

/* Checkpoint: every committed copy is home on stable storage, then the log
 * is empty. (Each commit already wrote its copies home, unflushed.) With
 * commit_mutex held. */
static int checkpoint_locked(void)
{
    ASSERT_HELD(&commit_mutex);
    if (j.aborted)
        return j.aborted;                       /* the log stays as it is: the next mount replays it */
    if (lg.head == j.first)
        return 0;
    int n = 0, err = 0;
    if (lg.rewrite) {
        /* Some commit's home writes failed: every newest copy again. */
        for (uint32_t s = 0; s < lg.map_slots; s++)
            if (lg.map_home[s])
                lg.ios[n++] = (struct block_io){ (uint64_t)lg.map_home[s] * (j.bsize / 512),
                                                 lg.mirror[lg.map_pos[s]], j.bsize / 512 };
        err = block_write_batch(lg.ios, n);
        if (!err)
            lg.rewrite = false;
    }
    /* INVARIANT(durability and crash consistency): the log is declared empty only once
     * everything it held is home on stable storage, and its space is
     * reused only once that declaration is (else a crash could leave the
     * superblock naming an old transaction whose blocks a new one has
     * partly overwritten, and recovery would write those home). */
    if (!err)
        err = block_flush();
    if (!err) {
        set_super(0, j.sequence);
        struct block_io io = log_io(0, lg.sb);
        err = block_write_batch(&io, 1);
    }
    if (!err)
        err = block_flush();
    if (!err) {
        memset(lg.map_home, 0, sizeof(uint32_t) * lg.map_slots);
        lg.map_n = 0;
        lg.head = j.first;
    }
    return failed_locked(err);
}

/* Commit the dirty metadata as one or more transactions; commit_mutex
 * held, no change in progress but the caller's own (under pressure). */
static int commit_locked(void)
{
    ASSERT_HELD(&commit_mutex);
    int err = 0;
    bool more = true;
    while (!err && more) {
        /* Aborted, before this commit or by the last transaction's home
         * writes: the rest of the changes never become durable. */
        if ((err = j.aborted))
            break;
        /* 1. ordered mode: file data goes home first. */
        if ((err = bcache_write_dirty(false)))
            break;
#ifdef BREAK_JOURNAL
        /* No journal: the metadata is written in place (plain ext2). */
        if (!(err = bcache_write_dirty(true)))
            err = durable_flush();
        break;
#else
        int want = MIN(bcache_count_dirty_meta(), tx_max());
        if (want == 0) {
            err = durable_flush();              /* the data, at least */
            break;
        }
        /* Room for a descriptor, the copies and a commit block? */
        if (lg.head + (uint32_t)want + 2 > lg.limit && (err = checkpoint_locked()))
            break;
        int cap = MIN(tx_max(), (int)(lg.limit - lg.head) - 2);
        if (cap <= 0) {
            err = -ENOSPC;
            break;
        }
        uint32_t d = lg.head, seq = j.sequence;
        for (int i = 0; i < cap; i++)
            if (!lg.mirror[d + 1 + i] && !(lg.mirror[d + 1 + i] = kmalloc(j.bsize))) {
                err = -ENOMEM;
                break;
            }
        if (err)
            break;
        /* 2. the copies: into the mirror, then the log. The buffers are
         * clean from here on; the map finds the copies. */
        int n = bcache_take_dirty_meta(lg.homes, &lg.mirror[d + 1], cap, &more);
        if (n < 0) {
            err = n;
            break;
        }
        if (n == 0) {
            err = durable_flush();
            break;
        }
        for (int i = 0; i < n; i++)
            map_set(lg.homes[i], d + 1 + (uint32_t)i);
        header(lg.desc, JT_DESCRIPTOR, seq);
        uint32_t off = 12;
        int nio = 0;
        for (int i = 0; i < n; i++) {
            uint8_t *copy = lg.mirror[d + 1 + i];
            bool escape = get32(copy) == JBD2_MAGIC;
            if (escape) {
                /* Looks like a journal block: hide it (written alone, from
                 * a scratch copy; the mirror keeps the real data). */
                uint8_t *tmp = kmalloc(j.bsize);
                if (!tmp) {
                    err = -ENOMEM;
                    break;
                }
                memcpy(tmp, copy, j.bsize);
                put32(tmp, 0);
                struct block_io io = log_io(d + 1 + (uint32_t)i, tmp);
                err = block_write_batch(&io, 1);
                kfree(tmp);
                if (err)
                    break;
            } else {
                lg.ios[nio++] = log_io(d + 1 + (uint32_t)i, copy);
            }
            off = jbd2_put_tag(lg.desc, off, (uint32_t)lg.homes[i], jbd2_tag_flags(i, n, escape), j.uuid);
        }
        if (err)
            break;
        lg.ios[nio++] = log_io(d, lg.desc);
        if (d == j.first) {
            /* An empty log starts here: the superblock says so. */
            set_super(j.first, seq);
            lg.ios[nio++] = log_io(0, lg.sb);
        }
        /* Descriptor, copies (and superblock) all at once. */
        err = block_write_batch(lg.ios, nio);
        /* 3. INVARIANT(durability and crash consistency): the commit block goes to the
         * disk only after everything it vouches for is there. */
#ifndef BREAK_COMMIT_ORDER
        if (!err)
            err = block_flush();
#endif
        if (!err) {
            header(lg.desc, JT_COMMIT, seq);
            struct block_io io = log_io(d + 1 + (uint32_t)n, lg.desc);
            err = block_write_batch(&io, 1);
        }
        /* 4. the commit block itself on stable storage: now it is durable. */
        if (!err)
            err = durable_flush();
        if (!err) {
            lg.head = d + (uint32_t)n + 2;
            j.sequence++;
        }
        /* 5. The copies go home now, but unflushed and with the log left as
         * it is: a crash either finds them home or replays them. Only the
         * checkpoint (when the log is full, or at unmount) flushes them and
         * empties the log; until then a read finds them home (or in the
         * mirror), and tools that do not replay the journal (debugfs) see
         * what an fsync wrote once the device's cache has it. */
        if (!err) {
            nio = 0;
            for (int i = 0; i < n; i++)
                lg.ios[nio++] = (struct block_io){ lg.homes[i] * (j.bsize / 512), lg.mirror[d + 1 + i],
                                                   j.bsize / 512 };
            int home = block_write_batch(lg.ios, nio);
            if (home) {
                /* The commit is durable; the disk failed after it. As a
                 * checkpoint's failure: abort (the log keeps the copies). */
                lg.rewrite = true;              /* the checkpoint writes them again */
                failed_locked(home);
            }
        }
#endif
    }
    return err;
}

/* The most metadata blocks a transaction gathers before the next change
 * waits for it to commit: within one descriptor and the log (tx_max), and
 * well within the buffers the cache always has, since uncommitted
 * metadata cannot be evicted: changes in progress must still find room. */
static int tx_limit(void) { return MIN(tx_max(), bcache_guaranteed()) / 2; }

/* INVARIANT(durability and crash consistency): a transaction holds whole
 * changes only. A change begins (journal_begin) only while the running
 * transaction has room; when it is full, new changes wait - as JBD2's
 * start_this_handle waits on a locked transaction - until the changes in
 * progress have ended, and the first of them commits it. A change nested
 * in one of the same thread's (an iput ending the last use of an inode
 * inside an unlink) is part of that one and never waits. */
void journal_begin(void)
{
    struct proc *me = current();
    if (me->journal_depth++ > 0) {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        j.outstanding++;
        spin_unlock_irqrestore(&sched_lock, f);
        return;
    }
    for (;;) {
        /* Wait out a commit in progress. */
        mutex_lock(&commit_mutex);
        uint64_t f = spin_lock_irqsave(&sched_lock);
        bool full = j.active && !j.aborted && bcache_count_dirty_meta() > tx_limit();
        if (!full) {
            j.outstanding++;
            spin_unlock_irqrestore(&sched_lock, f);
            mutex_unlock(&commit_mutex);
            return;
        }
        if (j.outstanding == 0) {
            spin_unlock_irqrestore(&sched_lock, f);
            mutex_unlock(&commit_mutex);
            journal_commit();
            continue;
        }
        /* Full with changes in progress: let them end, start none. */
        spin_unlock_irqrestore(&sched_lock, f);
        mutex_unlock(&commit_mutex);
        f = spin_lock_irqsave(&sched_lock);
        while (j.outstanding)
            wait_locked(&j, &f);
        spin_unlock_irqrestore(&sched_lock, f);
    }
}

void journal_end(void)
{
    current()->journal_depth--;
    uint64_t f = spin_lock_irqsave(&sched_lock);
    j.outstanding--;
    if (!j.outstanding)
        wakeup_locked(&j);
    spin_unlock_irqrestore(&sched_lock, f);
}

/* Every change up to this bcache_dirty_gen() is durable: a commit that
 * began there has finished. */
static uint64_t durable_gen;    /* [commit_mutex] */

static int commit_done(int r, uint64_t began)
{
    ASSERT_HELD(&commit_mutex);
    r = failed_locked(r);
    if (!r) {
        freed_committed();
        durable_gen = MAX(durable_gen, began);
    }
    return r;
}

int journal_commit(void)
{
    if (!j.active)
        return bcache_sync();
    /* Group commit: concurrent fsyncs queue here, and one whose changes a
     * commit that began after them has made durable returns at once (the
     * first fsync's commit took everyone's changes along). */
    uint64_t mine = bcache_dirty_gen();
    for (;;) {
        mutex_lock(&commit_mutex);
        if (!j.outstanding)
            break;
        /* Changes are in progress: wait for them without the mutex (one
         * of them may open a nested change, and journal_begin takes it). */
        mutex_unlock(&commit_mutex);
        uint64_t f = spin_lock_irqsave(&sched_lock);
        while (j.outstanding)
            wait_locked(&j, &f);
        spin_unlock_irqrestore(&sched_lock, f);
    }
    int r = 0;
    if (j.aborted) {
#ifndef BREAK_JOURNAL_ABORT
        r = j.aborted;                          /* never "durable" after an abort */
#endif
    } else if (durable_gen < mine) {
        uint64_t began = bcache_dirty_gen();
        r = commit_done(commit_locked(), began);
    }
    mutex_unlock(&commit_mutex);
    return r;
}

int journal_commit_pressure(void)
{
    if (!j.active || j.outstanding > 1 || commit_mutex.locked)
        return -EBUSY;
    if (journal_aborted())
        return journal_aborted();
    /* The one change in progress is ours: commit what came before it. It
     * may include part of this change; without room there is no better
     * choice. journal_begin keeps a transaction under half the buffers the
     * cache always has, so only one change pinning the other half gets
     * here. */
    mutex_lock(&commit_mutex);
    uint64_t began = bcache_dirty_gen();
    int r = commit_done(commit_locked(), began);
    mutex_unlock(&commit_mutex);
    return r;
}

int journal_reclaim(void)
{
    if (!j.active)
        return -EBUSY;
    /* Called between operations: the commit waits out the changes in
     * progress, so the transaction holds only whole ones. */
    int r = journal_commit();
    if (r)
        return r;
    mutex_lock(&commit_mutex);
    r = checkpoint_locked();
    mutex_unlock(&commit_mutex);
    return r;
}

int journal_checkpoint(void)
{
    if (!j.active)
        return 0;
    if (journal_aborted())
        return journal_aborted();
    mutex_lock(&commit_mutex);
    int r = checkpoint_locked();
    mutex_unlock(&commit_mutex);
    return r;
}
