/* fs/bcache.c - a small read-through cache of disk blocks, least recently
 * used out first. Callers get copies, so a cached block is never changed
 * under anyone's feet. */
#include "bcache.h"
#include "../drivers/block.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/spinlock.h"
#include "../mm/mm.h"

#define NBUF 128

struct buf {
    uint64_t blockno;
    uint64_t last_use;
    bool valid;
    uint8_t *data;
};

static struct buf bufs[NBUF];
static size_t bsize;
static uint64_t clock;
static struct spinlock lock = SPINLOCK_INIT("bcache");

void bcache_init(size_t block_size)
{
    bsize = block_size;
    for (int i = 0; i < NBUF; i++) {
        kfree(bufs[i].data);
        bufs[i] = (struct buf){ 0, 0, false, NULL };
    }
}

int bread(uint64_t blockno, void *dst)
{
    uint64_t f = spin_lock_irqsave(&lock);
    for (int i = 0; i < NBUF; i++)
        if (bufs[i].valid && bufs[i].blockno == blockno) {
            memcpy(dst, bufs[i].data, bsize);
            bufs[i].last_use = ++clock;
            spin_unlock_irqrestore(&lock, f);
            return 0;
        }
    spin_unlock_irqrestore(&lock, f);

    /* Miss: read outside the lock (the read sleeps), then remember it. */
    int r = block_read(blockno * (bsize / 512), dst, bsize / 512);
    if (r)
        return r;
    uint8_t *copy = kmalloc(bsize);
    if (!copy)
        return 0;
    memcpy(copy, dst, bsize);
    f = spin_lock_irqsave(&lock);
    struct buf *victim = &bufs[0];
    for (int i = 0; i < NBUF; i++) {
        if (bufs[i].valid && bufs[i].blockno == blockno) {
            victim = NULL;                          /* someone cached it meanwhile */
            break;
        }
        if (!bufs[i].valid || bufs[i].last_use < victim->last_use)
            victim = &bufs[i];
        if (!bufs[i].valid)
            break;
    }
    uint8_t *old = NULL;
    if (victim) {
        old = victim->data;
        *victim = (struct buf){ blockno, ++clock, true, copy };
        copy = NULL;
    }
    spin_unlock_irqrestore(&lock, f);
    kfree(old);
    kfree(copy);
    return 0;
}
