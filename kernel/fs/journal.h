/* fs/journal.h - a JBD2 journal (the format ext3/ext4 use, so e2fsck and
 * Linux can replay it), used in ordered mode: file data reaches its home
 * before the metadata that points at it commits.
 *
 * File-system code brackets each change that must be atomic with
 * journal_begin/journal_end; its metadata buffers are marked with bdirty.
 * journal_commit makes everything so far durable as one transaction. */
#pragma once
#include "../lib/types.h"

/* The journal lives in the file system's journal inode: lblk -> disk block. */
typedef long (*journal_bmap_t)(uint64_t lblk);

/* Load the journal superblock and replay committed transactions left by a
 * crash: 0, or -errno (then the file system must stay read-only). */
int  journal_open(journal_bmap_t bmap, uint64_t nblocks, uint32_t block_size, uint64_t fs_blocks);
/* Forget the journal (unmount, or before the next file system's): after a
 * checkpoint, or when nothing it holds matters any more. */
void journal_close(void);
bool journal_active(void);
/* The journal aborted (a write or FLUSH of a commit or checkpoint failed,
 * or journal_abort): the -errno, else 0. From then on nothing is committed,
 * journal_commit and journal_checkpoint fail with it, and the log stays on
 * the disk as it is for the next mount to replay. */
int  journal_aborted(void);
/* Abort now (a write-back of the file system's failed outside a commit). */
void journal_abort(int err);
/* The file system's hook, called once at the abort (with the commit lock
 * held; it may do block I/O, not journal operations): go read-only. */
void journal_on_abort(void (*fn)(int err));
/* s_errno as journal_open found it: an earlier mount aborted (-errno), or
 * 0. journal_clear_error forgets it (the next superblock write drops it)
 * once the file system has recorded the error itself. */
int  journal_error_at_open(void);
void journal_clear_error(void);
#ifdef BREAK_FDATASYNC_FLUSH
extern bool journal_break_fdatasync;   /* the break switch: set around fdatasync's commit */
#endif
void journal_begin(void);
void journal_end(void);
/* Commit the running transaction; flushes the device: durable on return. */
int  journal_commit(void);
/* The cache is full of uncommitted metadata: commit if no change is half
 * done, else fail. */
int  journal_commit_pressure(void);
/* A block the running transaction freed. Until that transaction commits,
 * journal_reusable says no for it: reused, it would be written home (as
 * file data, which goes home before the commit) while the last committed
 * state still has its old owner using it. journal_freed_pending: are there
 * such blocks (then a commit makes them reusable)? */
void journal_freed(uint64_t blk);
/* Also no for a block with a committed copy in the log (until the next
 * checkpoint): replaying that copy would overwrite its new owner's data. */
bool journal_reusable(uint64_t blk);
bool journal_freed_pending(void);
/* How many transactions recovery replayed at mount. */
int  journal_replayed(void);
/* A metadata block the journal holds a committed copy of that is not home
 * yet (no checkpoint since): copy it into dst and say true. The buffer
 * cache asks before reading a block from the disk. */
bool journal_read_copy(uint64_t blk, void *dst);
/* Write every committed copy home and empty the log (unmount). */
int  journal_checkpoint(void);
/* Allocation found nothing: with no change of the caller's in progress
 * (never inside journal_begin..end: that would commit half a change),
 * commit and checkpoint, so blocks freed or held by the log become
 * reusable. */
int  journal_reclaim(void);
