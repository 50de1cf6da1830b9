/* drivers/virtio_blk.c - the disk: a virtio-blk device over the virtio 1.x
 * PCI transport (Virtual I/O Device spec 1.1: 2.6 split virtqueues, 4.1
 * PCI transport, 5.2 block device).
 *
 * Modern transport, not legacy: the device's registers are found through
 * vendor capabilities and live in a memory BAR, so there is no I/O-port
 * protocol to follow, 64-bit ring addresses, and the feature bits the
 * driver needs (VERSION_1, FLUSH) are negotiated explicitly.
 *
 * One virtqueue. A request is a descriptor chain: a 16-byte header the
 * device reads, the data (one descriptor per piece of the caller's buffer
 * that lies in one page, so any kernel buffer works, contiguous or not),
 * and one status byte the device writes. The device reports completion
 * through the used ring and an MSI-X interrupt; the handler marks the
 * request done and wakes whoever waits for it. Several requests may be in
 * flight, from one caller (a large transfer is split and its pieces
 * submitted together) or from several processes. */
#include "block.h"
#include "pci.h"
#include "../lib/kprintf.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/cmdline.h"
#include "../lib/spinlock.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../mm/mm.h"
#include "../proc/proc.h"

/* ---- what the specification fixes ---- */

#define VIRTIO_VENDOR                0x1AF4
#define VIRTIO_DEV_BLK_TRANSITIONAL  0x1001     /* also answers the legacy protocol */
#define VIRTIO_DEV_BLK_MODERN        0x1042     /* 0x1040 + device type 2 */

/* struct virtio_pci_cap (4.1.4): where in which BAR each register block is. */
#define CAP_CFG_TYPE            3
#define CAP_BAR                 4
#define CAP_OFFSET              8
#define CAP_LENGTH              12
#define CAP_NOTIFY_MULTIPLIER   16
#define CFG_COMMON              1
#define CFG_NOTIFY              2
#define CFG_DEVICE              4

/* device_status (2.1). */
#define STATUS_ACKNOWLEDGE      1
#define STATUS_DRIVER           2
#define STATUS_DRIVER_OK        4
#define STATUS_FEATURES_OK      8
#define STATUS_FAILED           128

#define VIRTIO_BLK_F_RO         (1ul << 5)
#define VIRTIO_BLK_F_FLUSH      (1ul << 9)
#define VIRTIO_F_VERSION_1      (1ul << 32)

#define VIRTIO_MSI_NO_VECTOR    0xFFFF

/* The common configuration block (4.1.4.3). */
struct virtio_pci_common_cfg {
    uint32_t device_feature_select;
    uint32_t device_feature;
    uint32_t driver_feature_select;
    uint32_t driver_feature;
    uint16_t msix_config;
    uint16_t num_queues;
    uint8_t  device_status;
    uint8_t  config_generation;
    uint16_t queue_select;
    uint16_t queue_size;
    uint16_t queue_msix_vector;
    uint16_t queue_enable;
    uint16_t queue_notify_off;
    /* 64-bit fields, written as two 32-bit halves (4.1.3.1 allows it). */
    uint32_t queue_desc_lo, queue_desc_hi;
    uint32_t queue_driver_lo, queue_driver_hi;
    uint32_t queue_device_lo, queue_device_hi;
};
_Static_assert(__builtin_offsetof(struct virtio_pci_common_cfg, queue_select) == 0x16, "layout");
_Static_assert(__builtin_offsetof(struct virtio_pci_common_cfg, queue_desc_lo) == 0x20, "layout");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 0x38, "layout");

/* Split virtqueue (2.6): descriptor table, driver ("available") ring,
 * device ("used") ring. */
#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2               /* the device writes this buffer */

struct virtq_desc {
    uint64_t addr;                              /* physical */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;                               /* where the driver puts the next entry */
    uint16_t ring[];
};
struct virtq_used_elem {
    uint32_t id;                                /* head of the completed chain */
    uint32_t len;
};
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/* Block requests (5.2.6). */
#define VIRTIO_BLK_T_IN         0
#define VIRTIO_BLK_T_OUT        1
#define VIRTIO_BLK_T_FLUSH      4
#define VIRTIO_BLK_S_OK         0
#define VIRTIO_BLK_S_IOERR      1       /* the device failed the request */
#define VIRTIO_BLK_S_UNSUPP     2       /* a request type it does not know */

struct virtio_blk_req_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* ---- the driver's own limits ---- */

#define QUEUE_SIZE_MAX      256     /* ring and per-descriptor arrays are sized for this */
/* Data descriptors in one request: bounded so that several requests fit in
 * the ring at once (32 page pieces = at least 124 KiB). */
#define SEGS_PER_REQUEST    32
#define REQUESTS_PER_CALL   8       /* pieces of one call outstanding at once */
/* Status byte value before the device writes one: a device that completes
 * a request without writing its status must not look like success. */
#define STATUS_UNWRITTEN    0xFF
#define RESET_SPINS         1000000

/* One request handed to the device. It lives on the stack of the call that
 * submitted it, which does not return before the handler marks it done. */
struct blk_request {
    volatile bool done;
    int result;                     /* 0 or -EIO, once done */
};

/* A piece of a buffer: physically contiguous, within one page. */
struct segment {
    uint64_t pa;
    uint32_t len;
};

/* The one disk. Ring state is guarded by blk_lock; the interrupt handler
 * takes it too (it is an irqsave lock, so it never spins against its own
 * CPU). Lock order: blk_lock, then sched_lock (the handler wakes waiters
 * while holding blk_lock); a waiter holds only sched_lock while it checks. */
static struct disk {
    bool present;
    bool read_only;
    uint64_t sectors;
    struct pci_dev *pci;
    volatile struct virtio_pci_common_cfg *common;
    volatile uint8_t *device_cfg;
    volatile uint8_t *notify_base;
    uint32_t notify_multiplier;
    uint32_t notify_len;
    volatile uint16_t *doorbell;    /* queue 0's notification address */
    int vector;

    /* The virtqueue and the per-chain header and status slots, in one run
     * of frames from the allocator (so V2P of any part is its bus address). */
    uint16_t qsize;
    struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    struct virtio_blk_req_header *headers;      /* [i]: header of the chain headed by descriptor i */
    volatile uint8_t *status;                   /* [i]: its status byte */
    struct blk_request *in_flight[QUEUE_SIZE_MAX];  /* [i]: who waits for chain i */
    uint16_t free_head, nfree;      /* free descriptors, linked through .next */
    uint16_t avail_idx;             /* our copy of avail->idx */
    uint16_t last_used;             /* used ring entries consumed so far (mod 2^16) */
    uint64_t outstanding;
    struct block_stats stats;
} disk;

static struct spinlock blk_lock = SPINLOCK_INIT("blk");

/* The window the callers see (block_set_window): sectors [first, first +
 * count) of the disk, numbered from 0. Set only while no request is in
 * flight (a mount, an unmount); count 0: the whole disk. */
static struct {
    uint64_t first, count;
} win;

static uint64_t win_sectors(void) { return win.count ? win.count : disk.sectors; }

/* ---- waiting ---- */

/* Block until cond(arg) holds; whoever makes it true calls wakeup(chan)
 * afterwards. A running process sleeps (the check and the sleep happen
 * under sched_lock, so the wakeup cannot slip in between). Before
 * processes exist, in the idle thread, or in a process still being built
 * (exec of init borrows it before it has a pid or can be scheduled), there
 * is nothing to switch to: halt with interrupts on until the completion
 * interrupt (or a timer tick) arrives, checking with interrupts off so
 * sti;hlt cannot miss it. */
static void wait_until(bool (*cond)(const void *arg), const void *arg, void *chan)
{
    struct proc *p = current();
    if (p && p->pid > 0 && p->state == P_RUNNING) {
        uint64_t fl = spin_lock_irqsave(&sched_lock);
        while (!cond(arg))
            sleep_uninterruptible_locked(chan);
        spin_unlock_irqrestore(&sched_lock, fl);
        return;
    }
    uint64_t fl = irq_save();
    while (!cond(arg)) {
        sti_hlt();
        cli();
    }
    irq_restore(fl);
}

static bool request_done(const void *arg)
{
    return ((const struct blk_request *)arg)->done;
}

static bool descriptors_free(const void *arg)
{
    return disk.nfree >= *(const uint16_t *)arg;
}

/* ---- completions ---- */

static void free_chain(uint16_t head)
{
    uint16_t i = head;
    for (;;) {
        bool more = disk.desc[i].flags & VIRTQ_DESC_F_NEXT;
        uint16_t next = disk.desc[i].next;
        disk.desc[i].next = disk.free_head;
        disk.free_head = i;
        disk.nfree++;
        if (!more)
            break;
        i = next;
    }
}

/* MSI-X interrupt: the device has moved chains to the used ring. */
static bool blk_irq(struct trapframe *tf)
{
    (void)tf;
    uint64_t fl = spin_lock_irqsave(&blk_lock);
    disk.stats.interrupts++;
    bool freed = false;
    /* The acquire load orders the entry reads after the index that covers them. */
    while (disk.last_used != __atomic_load_n(&disk.used->idx, __ATOMIC_ACQUIRE)) {
        volatile struct virtq_used_elem *e = &disk.used->ring[disk.last_used % disk.qsize];
        uint32_t head = e->id;
        disk.last_used++;
        struct blk_request *r = head < disk.qsize ? disk.in_flight[head] : NULL;
        if (!r) {
            kprintf("blk: device completed descriptor %u, which is not a request in flight\n", head);
            continue;
        }
        /* VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP, or a status the device
         * never wrote (STATUS_UNWRITTEN): the caller's -EIO, whatever the
         * request was (a read, a write of a batch, a FLUSH). Every path
         * up (transfer, batch, block_flush) returns the first failure of
         * its requests, after all of them have completed. */
        r->result = disk.status[head] == VIRTIO_BLK_S_OK ? 0 : -EIO;
        disk.stats.errors += r->result != 0;
        disk.stats.completions++;
        disk.in_flight[head] = NULL;
        disk.outstanding--;
        free_chain((uint16_t)head);
        freed = true;
        /* The submitter may return as soon as it sees done: everything it
         * reads must be written first, and r is only a channel after this. */
        __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
        wakeup(r);
    }
    if (freed)
        wakeup(&disk.nfree);
    spin_unlock_irqrestore(&blk_lock, fl);
    return true;
}

/* ---- submission ---- */

/* The bus address of kernel virtual address va, if a device may transfer
 * to (device_writes) or from it: RAM the kernel owns (the direct map,
 * kernel stacks, the kernel image; for device writes only writable pages).
 * Never user memory (its pages belong to a process and may change under
 * the transfer) or MMIO. */
static bool dma_address(uintptr_t va, bool device_writes, uint64_t *pa)
{
    if (va < PHYS_MAP_BASE || (va >= MMIO_BASE && va < KERNEL_VMA))
        return false;
    uint64_t flags;
    if (!vmm_translate(vmm_kernel_root(), va, pa, &flags))
        return false;
    return !device_writes || (flags & PTE_W);
}

static int check_buffer(const void *buf, size_t bytes, bool device_writes)
{
    uintptr_t start = (uintptr_t)buf, end = start + bytes;
    if (end < start)
        return -EFAULT;
    uint64_t pa;
    for (uintptr_t va = ALIGN_DOWN(start, PAGE_SIZE); va < end; va += PAGE_SIZE)
        if (!dma_address(va, device_writes, &pa))
            return -EFAULT;
    return 0;
}

/* Cut the start of buf into at most SEGS_PER_REQUEST page pieces, a whole
 * number of sectors in all (at most `bytes`). Returns the piece count (the
 * bytes covered go to *covered), or -EFAULT if a page was unmapped since
 * check_buffer() looked: a device must never be sent to a made-up address. */
static int gather_segments(const uint8_t *buf, size_t bytes, bool device_writes,
                           struct segment *segs, int max, size_t *covered)
{
    int n = 0;
    size_t total = 0;
    while (total < bytes && n < max) {
        uintptr_t va = (uintptr_t)buf + total;
        size_t piece = MIN(PAGE_SIZE - (va & (PAGE_SIZE - 1)), bytes - total);
        uint64_t pa;
        if (!dma_address(va, device_writes, &pa))
            return -EFAULT;
        segs[n++] = (struct segment){ pa, (uint32_t)piece };
        total += piece;
    }
    /* A request moves whole sectors; the buffer need not be sector aligned,
     * so give back the tail past the last whole sector (the next request
     * starts there). With 32 pieces, 31 of them whole pages, it is never
     * everything. */
    size_t excess = total % SECTOR_SIZE;
    total -= excess;
    while (excess) {
        struct segment *last = &segs[n - 1];
        if (last->len > excess) {
            last->len -= (uint32_t)excess;
            excess = 0;
        } else {
            excess -= last->len;
            n--;
        }
    }
    *covered = total;
    return n;
}

/* Put one request on the ring: header, the data segments, status. Waits
 * (without blk_lock) while the ring lacks the descriptors it needs. */
static void submit(uint32_t type, uint64_t sector, const struct segment *segs, int nsegs,
                   struct blk_request *r)
{
    uint16_t need = (uint16_t)(nsegs + 2);
    uint64_t fl = spin_lock_irqsave(&blk_lock);
    while (disk.nfree < need) {
        spin_unlock_irqrestore(&blk_lock, fl);
        wait_until(descriptors_free, &need, &disk.nfree);
        fl = spin_lock_irqsave(&blk_lock);
    }

    uint16_t chain[SEGS_PER_REQUEST + 2];
    for (int i = 0; i < need; i++) {
        chain[i] = disk.free_head;
        disk.free_head = disk.desc[chain[i]].next;
    }
    disk.nfree -= need;
    uint16_t head = chain[0];
    disk.headers[head] = (struct virtio_blk_req_header){ type, 0, sector };
    disk.status[head] = STATUS_UNWRITTEN;
    uint16_t data_flags = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
    for (int i = 0; i < need; i++) {
        struct virtq_desc *d = &disk.desc[chain[i]];
        if (i == 0)
            *d = (struct virtq_desc){ V2P(&disk.headers[head]), sizeof(struct virtio_blk_req_header), 0, 0 };
        else if (i == need - 1)
            *d = (struct virtq_desc){ V2P(&disk.status[head]), 1, VIRTQ_DESC_F_WRITE, 0 };
        else
            *d = (struct virtq_desc){ segs[i - 1].pa, segs[i - 1].len, data_flags, 0 };
        if (i < need - 1) {
            d->flags |= VIRTQ_DESC_F_NEXT;
            d->next = chain[i + 1];
        }
    }

    r->done = false;
    r->result = 0;
    disk.in_flight[head] = r;
    disk.outstanding++;
    disk.stats.requests++;
    disk.stats.max_in_flight = MAX(disk.stats.max_in_flight, disk.outstanding);

    /* Publish: the chain and the ring slot must be visible before the new
     * index, and the index before the doorbell. (x86 keeps stores in order;
     * the fences keep the compiler from reordering them and document it.) */
    disk.avail->ring[disk.avail_idx % disk.qsize] = head;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    disk.avail_idx++;
    __atomic_store_n(&disk.avail->idx, disk.avail_idx, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* Always ring: skipping it when the device says it does not need one
     * (used->flags) is an optimisation this driver does without. */
    *disk.doorbell = 0;                         /* queue index */
    spin_unlock_irqrestore(&blk_lock, fl);
}

/* Move count sectors between the disk and buf, in requests of at most
 * SEGS_PER_REQUEST pieces, up to REQUESTS_PER_CALL of them in flight. */
static int transfer(uint32_t type, uint64_t sector, uint8_t *buf, size_t count)
{
    bool device_writes = type == VIRTIO_BLK_T_IN;
    struct blk_request reqs[REQUESTS_PER_CALL];
    struct segment segs[SEGS_PER_REQUEST];
    size_t bytes = count * SECTOR_SIZE, done = 0;
    int submitted = 0, result = 0;
    while (done < bytes && !result) {
        /* Reuse the oldest slot once its request is complete. */
        struct blk_request *r = &reqs[submitted % REQUESTS_PER_CALL];
        if (submitted >= REQUESTS_PER_CALL) {
            wait_until(request_done, r, r);
            result = r->result;
            if (result)
                break;                          /* stop issuing; the rest finish below */
        }
        size_t covered;
        int nsegs = gather_segments(buf + done, bytes - done, device_writes, segs, SEGS_PER_REQUEST, &covered);
        if (nsegs < 0) {
            result = nsegs;
            break;
        }
        submit(type, win.first + sector + done / SECTOR_SIZE, segs, nsegs, r);
        done += covered;
        submitted++;
    }
    for (int i = 0; i < MIN(submitted, REQUESTS_PER_CALL); i++) {
        wait_until(request_done, &reqs[i], &reqs[i]);
        if (!result)
            result = reqs[i].result;
    }
    return result;
}

/* Sort ios by sector (heapsort: no recursion, no allocation). */
static bool io_before(const struct block_io *a, const struct block_io *b) { return a->sector < b->sector; }

static void sift(struct block_io *a, int i, int n)
{
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && io_before(&a[c], &a[c + 1]))
            c++;
        if (!io_before(&a[i], &a[c]))
            return;
        struct block_io t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void sort_ios(struct block_io *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        struct block_io t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

/* Several transfers of one kind at once (block.h, block_read_batch). The
 * ios are sorted by sector; neighbours on the disk travel in one request
 * (up to SEGS_PER_REQUEST pieces), and up to BATCH_IN_FLIGHT requests are
 * outstanding at a time: one doorbell and one interrupt per run of blocks,
 * not per block, and no wait between them. */
#define BATCH_IN_FLIGHT 16
static int check_args(uint64_t sector, const void *buf, size_t count, bool device_writes);

static int batch(uint32_t type, struct block_io *ios, int n)
{
    bool device_writes = type == VIRTIO_BLK_T_IN;
    if (n < 0)
        return -EINVAL;
    for (int k = 0; k < n; k++) {
        int err = check_args(ios[k].sector, ios[k].buf, ios[k].count, device_writes);
        if (err)
            return err;
    }
    if (!device_writes && disk.read_only)
        return -EROFS;
    sort_ios(ios, n);
    struct blk_request reqs[BATCH_IN_FLIGHT];
    struct segment segs[SEGS_PER_REQUEST];
    int submitted = 0, result = 0, i = 0;
    size_t off = 0;                             /* bytes of ios[i] already sent */
    while (i < n && !result) {
        struct blk_request *r = &reqs[submitted % BATCH_IN_FLIGHT];
        if (submitted >= BATCH_IN_FLIGHT) {
            wait_until(request_done, r, r);
            if ((result = r->result))
                break;
        }
        uint64_t sector = ios[i].sector + off / SECTOR_SIZE, next = sector;
        int nsegs = 0;
        while (i < n && nsegs < SEGS_PER_REQUEST && ios[i].sector + off / SECTOR_SIZE == next) {
            size_t bytes = ios[i].count * SECTOR_SIZE, covered;
            int k = gather_segments((const uint8_t *)ios[i].buf + off, bytes - off, device_writes,
                                    segs + nsegs, SEGS_PER_REQUEST - nsegs, &covered);
            if (k < 0) {
                result = k;
                break;
            }
            if (!covered)
                break;                          /* no room for a whole sector: next request */
            nsegs += k;
            next += covered / SECTOR_SIZE;
            off += covered;
            if (off < bytes)
                break;                          /* out of pieces */
            i++;
            off = 0;
        }
        if (result)
            break;
        submit(type, win.first + sector, segs, nsegs, r);
        submitted++;
    }
    for (int k = 0; k < MIN(submitted, BATCH_IN_FLIGHT); k++) {
        wait_until(request_done, &reqs[k], &reqs[k]);
        if (!result)
            result = reqs[k].result;
    }
    return result;
}

/* ---- the interface (block.h) ---- */

int block_read_batch(struct block_io *ios, int n) { return batch(VIRTIO_BLK_T_IN, ios, n); }
int block_write_batch(struct block_io *ios, int n) { return batch(VIRTIO_BLK_T_OUT, ios, n); }

static int check_args(uint64_t sector, const void *buf, size_t count, bool device_writes)
{
    if (!disk.present)
        return -ENODEV;
    /* INVARIANT(kernel memory safety): nothing outside the window (the
     * partition a file system was mounted from) is ever read or written. */
    uint64_t n = win_sectors();
    if (!buf || !count || count > n || sector > n - count)
        return -EINVAL;
    return check_buffer(buf, count * SECTOR_SIZE, device_writes);
}

int block_read(uint64_t sector, void *buf, size_t count)
{
    int err = check_args(sector, buf, count, true);
    return err ? err : transfer(VIRTIO_BLK_T_IN, sector, buf, count);
}

int block_write(uint64_t sector, const void *buf, size_t count)
{
    int err = check_args(sector, buf, count, false);
    if (!err && disk.read_only)
        err = -EROFS;
    /* The device only reads the buffer; transfer() takes one pointer type. */
    return err ? err : transfer(VIRTIO_BLK_T_OUT, sector, (uint8_t *)(uintptr_t)buf, count);
}

int block_flush(void)
{
    if (!disk.present)
        return -ENODEV;
    /* INVARIANT(durability and crash consistency): block_flush returns 0 only once the device has
     * completed a FLUSH request, which (virtio 1.1, 5.2.6.2) puts every
     * write it completed before on stable storage; every block_write that
     * returned had been completed. FLUSH was negotiated at setup, or there
     * is no disk. */
#ifdef BREAK_FLUSH_WAIT
    /* The break switch: submit the FLUSH and return without waiting for
     * it (the requests live in a static ring, so a late completion lands
     * somewhere harmless). */
    static struct blk_request nowait[64];
    static unsigned nowait_next;
    struct blk_request *q = &nowait[nowait_next++ % 64];
    *q = (struct blk_request){ 0 };
    submit(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, q);
    return 0;
#endif
    struct blk_request r;
    submit(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &r);
    wait_until(request_done, &r, &r);
    uint64_t fl = spin_lock_irqsave(&blk_lock);
    disk.stats.flushes++;
    spin_unlock_irqrestore(&blk_lock, fl);
    return r.result;
}

bool block_present(void) { return disk.present; }
uint64_t block_sectors(void) { return disk.present ? win_sectors() : 0; }

int block_set_window(uint64_t first, uint64_t count)
{
    if (!disk.present)
        return -ENODEV;
    if (count > disk.sectors || first > disk.sectors - count)
        return -EINVAL;
    win.first = count ? first : 0;
    win.count = count;
    return 0;
}

void block_get_stats(struct block_stats *st)
{
    uint64_t fl = spin_lock_irqsave(&blk_lock);
    *st = disk.stats;
    spin_unlock_irqrestore(&blk_lock, fl);
}

/* ---- setup (virtio 1.1, 3.1.1: the driver initialisation sequence) ---- */

/* Find the register blocks: the first capability of each kind (4.1.4 says
 * to prefer the first), in a BAR that could be mapped, large enough. */
static const char *find_registers(struct pci_dev *d)
{
    for (uint8_t cap = pci_find_cap(d, PCI_CAP_VENDOR, 0); cap; cap = pci_find_cap(d, PCI_CAP_VENDOR, cap)) {
        uint8_t type = pci_read8(d, (uint8_t)(cap + CAP_CFG_TYPE));
        uint8_t bar = pci_read8(d, (uint8_t)(cap + CAP_BAR));
        uint32_t off = pci_read32(d, (uint8_t)(cap + CAP_OFFSET));
        uint32_t len = pci_read32(d, (uint8_t)(cap + CAP_LENGTH));
        if (type != CFG_COMMON && type != CFG_NOTIFY && type != CFG_DEVICE)
            continue;
        uint8_t *base = pci_map_bar(d, bar);
        if (!base || (uint64_t)off + len > d->bar[bar].size)
            continue;
        if (type == CFG_COMMON && !disk.common && len >= sizeof(struct virtio_pci_common_cfg))
            disk.common = (volatile struct virtio_pci_common_cfg *)(base + off);
        if (type == CFG_DEVICE && !disk.device_cfg && len >= 8)
            disk.device_cfg = base + off;
        if (type == CFG_NOTIFY && !disk.notify_base) {
            disk.notify_base = base + off;
            disk.notify_len = len;
            disk.notify_multiplier = pci_read32(d, (uint8_t)(cap + CAP_NOTIFY_MULTIPLIER));
        }
    }
    if (!disk.common || !disk.device_cfg || !disk.notify_base)
        return "no virtio 1.x register capabilities (a legacy-only device)";
    return NULL;
}

static uint64_t device_features(void)
{
    disk.common->device_feature_select = 0;
    uint64_t lo = disk.common->device_feature;
    disk.common->device_feature_select = 1;
    return lo | (uint64_t)disk.common->device_feature << 32;
}

static void set_driver_features(uint64_t f)
{
    disk.common->driver_feature_select = 0;
    disk.common->driver_feature = (uint32_t)f;
    disk.common->driver_feature_select = 1;
    disk.common->driver_feature = (uint32_t)(f >> 32);
}

/* Device configuration may change under a multi-word read; the generation
 * counter says whether it did (4.1.4.3.1). */
static uint64_t read_capacity(void)
{
    volatile uint32_t *cfg = (volatile uint32_t *)disk.device_cfg;
    uint8_t gen;
    uint64_t cap;
    do {
        gen = disk.common->config_generation;
        cap = cfg[0] | (uint64_t)cfg[1] << 32;
    } while (gen != disk.common->config_generation);
    return cap;
}

/* Queue 0: its size, the three rings (each page aligned, well beyond the
 * 16/2/4-byte alignment 2.6 asks for), header and status slots. */
static const char *setup_queue(void)
{
    disk.common->queue_select = 0;
    uint16_t max = disk.common->queue_size;
    if (!max)
        return "no virtqueue 0";
    uint16_t q = QUEUE_SIZE_MAX;
    while (q > max)
        q >>= 1;                                /* split ring sizes are powers of 2 */
    if (q < 4)
        return "virtqueue too small";
    disk.qsize = q;
    disk.common->queue_size = q;

    size_t off_avail = ALIGN_UP(sizeof(struct virtq_desc) * q, PAGE_SIZE);
    size_t off_used = off_avail + ALIGN_UP(6 + 2ul * q, PAGE_SIZE);
    size_t off_headers = off_used + ALIGN_UP(6 + sizeof(struct virtq_used_elem) * q, PAGE_SIZE);
    size_t off_status = off_headers + ALIGN_UP(sizeof(struct virtio_blk_req_header) * q, PAGE_SIZE);
    size_t pages = (off_status + ALIGN_UP(q, PAGE_SIZE)) / PAGE_SIZE;
    uint64_t pa = pmm_alloc_contig(pages);
    if (!pa)
        return "out of memory for the virtqueue";
    uint8_t *va = P2V(pa);
    memset(va, 0, pages * PAGE_SIZE);
    disk.desc = (struct virtq_desc *)va;
    disk.avail = (volatile struct virtq_avail *)(va + off_avail);
    disk.used = (volatile struct virtq_used *)(va + off_used);
    disk.headers = (struct virtio_blk_req_header *)(va + off_headers);
    disk.status = va + off_status;
    for (uint16_t i = 0; i < q; i++)
        disk.desc[i].next = (uint16_t)(i + 1);
    disk.free_head = 0;
    disk.nfree = q;

    disk.common->queue_desc_lo = (uint32_t)pa;
    disk.common->queue_desc_hi = (uint32_t)(pa >> 32);
    disk.common->queue_driver_lo = (uint32_t)(pa + off_avail);
    disk.common->queue_driver_hi = (uint32_t)((pa + off_avail) >> 32);
    disk.common->queue_device_lo = (uint32_t)(pa + off_used);
    disk.common->queue_device_hi = (uint32_t)((pa + off_used) >> 32);

    uint64_t notify_at = (uint64_t)disk.common->queue_notify_off * disk.notify_multiplier;
    if (notify_at + 2 > disk.notify_len)
        return "queue notification address outside its capability";
    disk.doorbell = (volatile uint16_t *)(disk.notify_base + notify_at);
    return NULL;
}

/* virtio delivers queue interrupts as MSI-X messages or as legacy INTx (no
 * plain MSI); INTx would need the IOAPIC's PCI routing, so MSI-X it is. */
static const char *setup_interrupts(void)
{
    disk.vector = pci_alloc_vectors(1);
    if (disk.vector < 0)
        return "no interrupt vector left";
    trap_register(disk.vector, blk_irq);
    if (pci_enable_msi(disk.pci, disk.vector, 1) != PCI_IRQ_MSIX)
        return "no MSI-X";
    disk.common->msix_config = VIRTIO_MSI_NO_VECTOR;    /* no configuration-change interrupts */
    disk.common->queue_select = 0;
    disk.common->queue_msix_vector = 0;                 /* MSI-X table entry 0 */
    if (disk.common->queue_msix_vector != 0)
        return "device refused an MSI-X vector for the queue";
    return NULL;
}

static const char *setup_device(void)
{
    if (!pci_enable(disk.pci))
        return "a memory BAR could not be given an address";
    const char *why = find_registers(disk.pci);
    if (why)
        return why;

    volatile struct virtio_pci_common_cfg *c = disk.common;
    c->device_status = 0;                               /* reset */
    for (int spins = 0; c->device_status != 0; spins++) {
        if (spins == RESET_SPINS)
            return "device does not finish its reset";
        cpu_relax();
    }
    c->device_status = STATUS_ACKNOWLEDGE;
    c->device_status = STATUS_ACKNOWLEDGE | STATUS_DRIVER;

    uint64_t offered = device_features();
    if (!(offered & VIRTIO_F_VERSION_1))
        return "no VIRTIO_F_VERSION_1";
    /* Durability depends on it: without FLUSH a completed write may sit in
     * a volatile cache forever, and block_flush could promise nothing. */
    if (!(offered & VIRTIO_BLK_F_FLUSH))
        return "no VIRTIO_BLK_F_FLUSH, so writes could not be made durable";
    uint64_t wanted = VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH | (offered & VIRTIO_BLK_F_RO);
    set_driver_features(wanted);
    c->device_status |= STATUS_FEATURES_OK;
    if (!(c->device_status & STATUS_FEATURES_OK))
        return "device refused the features negotiated";
    disk.read_only = wanted & VIRTIO_BLK_F_RO;
    disk.sectors = read_capacity();

    why = setup_queue();
    if (!why)
        why = setup_interrupts();
    if (why)
        return why;
    c->queue_enable = 1;
    c->device_status |= STATUS_DRIVER_OK;
    return NULL;
}

static struct pci_dev *find_device(void)
{
    struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_DEV_BLK_MODERN, NULL);
    return d ? d : pci_find(VIRTIO_VENDOR, VIRTIO_DEV_BLK_TRANSITIONAL, NULL);
}

/* ---- blkdump=SECTOR[,COUNT]: print sectors in hex (for the harness) ---- */

static const char *parse_u64(const char *s, uint64_t *v)
{
    *v = 0;
    if (*s < '0' || *s > '9')
        return NULL;
    while (*s >= '0' && *s <= '9')
        *v = *v * 10 + (uint64_t)(*s++ - '0');
    return s;
}

static void dump_sectors(void)
{
    char arg[48];
    uint64_t first, count = 1;
    if (!cmdline_get("blkdump", arg, sizeof(arg)))
        return;
    const char *p = parse_u64(arg, &first);
    if (p && *p == ',')
        p = parse_u64(p + 1, &count);
    if (!p || *p || count > 16) {
        kprintf("blkdump: bad argument \"%s\" (SECTOR[,COUNT], COUNT <= 16)\n", arg);
        return;
    }
    uint8_t *buf = kmalloc(SECTOR_SIZE * count);
    int err = buf ? block_read(first, buf, count) : -ENOMEM;
    if (err) {
        kprintf("blkdump: read of %lu sector(s) at %lu failed: %d\n", count, first, err);
    } else {
        /* One line per 32 bytes: "blkdump SECTOR OFFSET HEX". */
        for (uint64_t s = 0; s < count; s++)
            for (int off = 0; off < SECTOR_SIZE; off += 32) {
                char hex[65];
                for (int i = 0; i < 32; i++)
                    snprintf(hex + 2 * i, 3, "%02x", buf[s * SECTOR_SIZE + (uint64_t)off + (uint64_t)i]);
                kprintf("blkdump %lu %03x %s\n", first + s, off, hex);
            }
    }
    kfree(buf);
}

void block_init(void)
{
    pci_init();
    struct pci_dev *d = find_device();
    if (!d) {
        kprintf("blk: no disk\n");
        return;
    }
    disk.pci = d;
    const char *why = setup_device();
    if (why) {
        /* Tell the device too (it may stop using anything we gave it). */
        if (disk.common)
            disk.common->device_status |= STATUS_FAILED;
        kprintf("blk: virtio-blk at %02x:%02x.%x unusable: %s; no disk\n", d->bus, d->slot, d->func, why);
        return;
    }
    disk.present = true;
    kprintf("blk: virtio-blk %lu sectors, flush supported%s (queue %u, MSI-X vector 0x%x)\n",
            disk.sectors, disk.read_only ? ", read-only" : "", disk.qsize, disk.vector);
    dump_sectors();
}
