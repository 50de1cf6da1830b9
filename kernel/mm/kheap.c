/* mm/kheap.c - kmalloc/kfree.
 *
 * Small requests (up to 2 KiB) come from pages cut into equal slots of one
 * size class, each page starting with a header that says which class it
 * holds and chains its free slots. Larger requests take whole contiguous
 * frames with the same header in front. Either way kfree finds the header
 * by rounding the pointer down to its page (or, for large blocks, reading
 * it from the page the block starts in).
 *
 * Who holds what (the tracer at the end). A leak check says a class has
 * three more blocks than it had; it cannot say whose. Once root writes
 * "mark" to /proc/vigil/kheap, every block handed out from then on is
 * recorded with its size and the three return addresses above kmalloc,
 * until it is freed; reading the file groups the recorded blocks still
 * live by those sites. fuzzrun marks before its baseline and prints the
 * file when a count did not come back: a leak then names its allocator.
 * Tracing costs nothing until the first mark.
 *
 * Who freed what (the quarantine, also at the end). A use after free
 * shows up far from its cause: the block was handed to someone else, who
 * zeroed it, and a stale pointer reads their fields. While the tracer
 * records, a freed block of 64 bytes or more keeps kfree's three callers
 * in its last 32 bytes under the poison; after "quarantine" is written, a
 * freed block also waits in a queue of QUARANTINE blocks before it can be
 * handed out again, so a stale pointer meets poison, and a crash report
 * names the block's freer (kheap_whois). A second kfree of a block still
 * waiting is caught as a double free. */
#include "mm.h"
#include "../lib/string.h"
#include "../lib/spinlock.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

#define SLAB_MAGIC  0x534c4142u     /* "SLAB" */
#define LARGE_MAGIC 0x4c415247u     /* "LARG" */
#define POISON      0x6b

struct free_slot {
    struct free_slot *next;
};

struct page_hdr {
    uint32_t magic;
    uint16_t cls;                   /* size-class index (slab pages) */
    uint16_t nfree;                 /* free slots in this page */
    uint64_t npages;                /* large blocks: frames in the block */
    struct free_slot *free;
    struct page_hdr *next;          /* next page of this class with free slots */
};

#define HDR_SIZE ALIGN_UP(sizeof(struct page_hdr), 16)

#define TRACE_SITES 3                   /* callers recorded per block */
#define FREED_MAGIC 0xf4eedb10cc0ffee5ull

/* A freed block's last 32 bytes, while the tracer records (64 bytes and up). */
struct freed_tail {
    uint64_t magic;
    uintptr_t site[TRACE_SITES];
};

static const uint32_t class_size[] = { 16, 32, 64, 128, 256, 512, 1024, 2016 };
#define NCLASSES ARRAY_SIZE(class_size)

static struct page_hdr *partial[NCLASSES];   /* pages with at least one free slot */
static uint64_t pages_in_use, bytes_in_use;
static uint64_t objects_in_use[NCLASSES + 1];  /* [heap_lock] per class, then large */
static struct spinlock heap_lock = SPINLOCK_INIT("kheap");

static inline __attribute__((always_inline)) void trace_alloc_locked(void *p, size_t n);
static void trace_free_locked(void *p);
static inline __attribute__((always_inline)) void poison_locked(void *p, int cls);
static inline struct freed_tail *tail_of(void *p, int cls);
static void *quarantine_locked(void *p);
static void slot_free_locked(struct page_hdr *h, void *p, uint64_t flags);

static inline int slots_per_page(int cls) { return (int)((PAGE_SIZE - HDR_SIZE) / class_size[cls]); }

static struct page_hdr *new_slab(int cls)
{
    uint64_t pa = pmm_alloc();
    if (!pa)
        return NULL;
    struct page_hdr *h = P2V(pa);
    h->magic = SLAB_MAGIC;
    h->cls = (uint16_t)cls;
    h->npages = 1;
    h->free = NULL;
    h->next = NULL;
    int n = slots_per_page(cls);
    h->nfree = (uint16_t)n;
    uint8_t *base = (uint8_t *)h + HDR_SIZE;
    for (int i = n - 1; i >= 0; i--) {
        struct free_slot *s = (struct free_slot *)(base + (size_t)i * class_size[cls]);
        s->next = h->free;
        h->free = s;
    }
    pages_in_use++;
    return h;
}

/* A free slot's link: nowhere, or a slot of the same page. */
static bool in_slab(const struct page_hdr *h, const struct free_slot *s)
{
    return !s || ((uintptr_t)s & ~(uintptr_t)(PAGE_SIZE - 1)) == (uintptr_t)h;
}

void *kmalloc(size_t n)
{
    if (n == 0)
        n = 1;
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    void *p = NULL;
    int cls = -1;
    for (int i = 0; i < (int)NCLASSES; i++)
        if (n <= class_size[i]) {
            cls = i;
            break;
        }
    if (cls >= 0) {
        struct page_hdr *h = partial[cls];
        if (!h) {
            h = new_slab(cls);
            partial[cls] = h;
        }
        if (h) {
            struct free_slot *s = h->free;
            /* A free slot's link leads into its own page or nowhere: else
             * something wrote past a block's end or after its free, and
             * following it would spread the damage far from its cause.
             * The slot after this one is checked too: a block that
             * overflows writes into its neighbour, which is usually next. */
            struct free_slot *bad = !in_slab(h, s->next) ? s
                                  : s->next && !in_slab(h, s->next->next) ? s->next : NULL;
            if (bad)
                panic("kheap: the free list of the %u-byte class is corrupt at %p (next %p): "
                      "a write past a block's end or after a free", class_size[cls], (void *)bad,
                      (void *)bad->next);
            h->free = s->next;
            if (--h->nfree == 0)
                partial[cls] = h->next;   /* full: off the partial list */
            bytes_in_use += class_size[cls];
            objects_in_use[cls]++;
            p = s;
            if (class_size[cls] >= 64)
                tail_of(p, cls)->magic = 0;     /* live: nobody's freed block (poison_locked) */
        }
    } else {
        size_t np = ALIGN_UP(n + HDR_SIZE, PAGE_SIZE) / PAGE_SIZE;
        uint64_t pa = pmm_alloc_contig(np);
        if (pa) {
            struct page_hdr *h = P2V(pa);
            h->magic = LARGE_MAGIC;
            h->npages = np;
            pages_in_use += np;
            bytes_in_use += np * PAGE_SIZE;
            objects_in_use[NCLASSES]++;
            p = (uint8_t *)h + HDR_SIZE;
        }
    }
    if (p)
        trace_alloc_locked(p, n);
    spin_unlock_irqrestore(&heap_lock, flags);
    return p;
}

void *kzalloc(size_t n)
{
    void *p = kmalloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void kfree(void *p)
{
    if (!p)
        return;
    struct page_hdr *h = (struct page_hdr *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    trace_free_locked(p);
    if (h->magic == LARGE_MAGIC && (uint8_t *)p == (uint8_t *)h + HDR_SIZE) {
        uint64_t np = h->npages;
        h->magic = 0;
        pages_in_use -= np;
        bytes_in_use -= np * PAGE_SIZE;
        objects_in_use[NCLASSES]--;
        spin_unlock_irqrestore(&heap_lock, flags);
        pmm_free_contig(V2P(h), np);
        return;
    }
    if (h->magic != SLAB_MAGIC)
        panic("kfree: %p was not allocated by kmalloc", p);
    int cls = h->cls;
    uint8_t *base = (uint8_t *)h + HDR_SIZE;
    if (((uint8_t *)p - base) % class_size[cls])
        panic("kfree: %p is not the start of a block", p);
    bytes_in_use -= class_size[cls];
    objects_in_use[cls]--;
    /* Poison freed memory so a use after free reads garbage, not stale
     * data; in quarantine it waits, and an older block leaves instead. */
    poison_locked(p, cls);
    if (!(p = quarantine_locked(p))) {
        spin_unlock_irqrestore(&heap_lock, flags);
        return;
    }
    slot_free_locked((struct page_hdr *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE), p, flags);
}

/* Put block p back on its page's free list; heap_lock is held and is
 * released here (flags: as it was taken). */
static void slot_free_locked(struct page_hdr *h, void *p, uint64_t flags)
{
    int cls = h->cls;
    struct free_slot *s = p;
    s->next = h->free;
    h->free = s;
    if (++h->nfree == 1) {
        h->next = partial[cls];                       /* was full: back on the list */
        partial[cls] = h;
    } else if (h->nfree == slots_per_page(cls) && (partial[cls] != h || h->next)) {
        /* Entirely free: return the frame, unless it is the class's only
         * page with room (keeps one page per class from ping-ponging). */
        struct page_hdr **pp = &partial[cls];
        while (*pp != h)
            pp = &(*pp)->next;
        *pp = h->next;
        h->magic = 0;
        pages_in_use--;
        spin_unlock_irqrestore(&heap_lock, flags);
        pmm_free(V2P(h));
        return;
    }
    spin_unlock_irqrestore(&heap_lock, flags);
}

uint64_t kheap_pages_in_use(void) { return pages_in_use; }
uint64_t kheap_bytes_in_use(void) { return bytes_in_use; }

void kheap_object_counts(uint64_t out[KHEAP_NCOUNTS])
{
    _Static_assert(KHEAP_NCOUNTS == NCLASSES + 1, "one count per class, then large");
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    memcpy(out, objects_in_use, sizeof(objects_in_use));
    spin_unlock_irqrestore(&heap_lock, flags);
}

/* ---- the tracer ([heap_lock]) ---- */

#define TRACE_POOL    1024              /* frames of records, taken at the first mark */
#define TRACE_BUCKETS 8192              /* heads in TRACE_BUCKETS * 8 / PAGE_SIZE frames */

struct trace_rec {
    struct trace_rec *next;             /* [heap_lock] in its bucket, or the free list */
    void *p;
    uintptr_t site[TRACE_SITES];
    uint32_t size;
};

static struct trace_rec **trace_bucket; /* [heap_lock] NULL: never marked */
static struct trace_rec *trace_free;    /* [heap_lock] */
static uint64_t trace_untracked;        /* [heap_lock] allocations with no record to spare */

static inline size_t trace_hash(const void *p) { return ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 51; }

_Static_assert(TRACE_BUCKETS == 1 << 13, "trace_hash yields 13 bits");

/* Inlined, so that its frame is kmalloc's. */
static inline __attribute__((always_inline)) void trace_alloc_locked(void *p, size_t n)
{
    if (!trace_bucket)
        return;
    struct trace_rec *r = trace_free;
    if (!r) {
        trace_untracked++;
        return;
    }
    trace_free = r->next;
    *r = (struct trace_rec){ .p = p, .size = (uint32_t)(n > 0xffffffffu ? 0xffffffffu : n) };
    stack_callers(r->site, TRACE_SITES);
    size_t b = trace_hash(p);
    r->next = trace_bucket[b];
    trace_bucket[b] = r;
}

static void trace_free_locked(void *p)
{
    if (!trace_bucket)
        return;
    for (struct trace_rec **pp = &trace_bucket[trace_hash(p)]; *pp; pp = &(*pp)->next)
        if ((*pp)->p == p) {
            struct trace_rec *r = *pp;
            *pp = r->next;
            r->next = trace_free;
            trace_free = r;
            return;
        }
}

/* ---- the quarantine ([heap_lock]) ---- */

#define QUARANTINE  4096                /* blocks that wait before reuse */

static void *quarantined[QUARANTINE];   /* [heap_lock] a ring; NULL: an empty place */
static size_t quarantine_next;          /* [heap_lock] its oldest place */
static bool quarantine_on;              /* [heap_lock] */

static inline struct freed_tail *tail_of(void *p, int cls)
{
    return (struct freed_tail *)((uint8_t *)p + class_size[cls] - sizeof(struct freed_tail));
}

static inline __attribute__((always_inline)) void poison_locked(void *p, int cls)
{
    struct freed_tail *t = tail_of(p, cls);
    /* A block that is poisoned and signed already is waiting in the
     * quarantine: this kfree is its second. */
    if (quarantine_on && class_size[cls] >= 64 && t->magic == FREED_MAGIC &&
        ((uint64_t *)p)[1] == 0x6b6b6b6b6b6b6b6bull) {
        kheap_whois("block", (uintptr_t)p);
        panic("kfree: double free of %p", p);
    }
    memset(p, POISON, class_size[cls]);
    if (trace_bucket && class_size[cls] >= 64) {
        *t = (struct freed_tail){ .magic = FREED_MAGIC };
        stack_callers(t->site, TRACE_SITES);
    }
}

/* Park p (poisoned); the block that leaves for the free list instead, or
 * NULL. Without the quarantine, p itself. */
static void *quarantine_locked(void *p)
{
    if (!quarantine_on)
        return p;
    void *out = quarantined[quarantine_next];
    quarantined[quarantine_next] = p;
    quarantine_next = (quarantine_next + 1) % QUARANTINE;
    return out;
}

/* "noquarantine": every waiting block goes to its free list. */
static void quarantine_stop(void)
{
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    quarantine_on = false;
    for (size_t i = 0; i < QUARANTINE; i++) {
        void *p = quarantined[i];
        if (!p)
            continue;
        quarantined[i] = NULL;
        slot_free_locked((struct page_hdr *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE), p, flags);
        flags = spin_lock_irqsave(&heap_lock);
    }
    spin_unlock_irqrestore(&heap_lock, flags);
}

bool kheap_freed_by(const void *block, uintptr_t site[TRACE_SITES])
{
    uintptr_t page = ALIGN_DOWN((uintptr_t)block, PAGE_SIZE);
    const struct page_hdr *h = (const struct page_hdr *)page;
    if (h->magic != SLAB_MAGIC || h->cls >= NCLASSES || class_size[h->cls] < 64)
        return false;
    const struct freed_tail *t = tail_of((void *)block, h->cls);
    if (t->magic != FREED_MAGIC || ((const uint64_t *)block)[1] != 0x6b6b6b6b6b6b6b6bull)
        return false;
    memcpy(site, t->site, sizeof(t->site));
    return true;
}

/* Start (or restart) recording: what was recorded is forgotten. */
static long trace_mark(void)
{
    size_t bucket_frames = TRACE_BUCKETS * sizeof(void *) / PAGE_SIZE;
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    bool first = !trace_bucket;
    spin_unlock_irqrestore(&heap_lock, flags);
    struct trace_rec **buckets = NULL, *pool = NULL;
    if (first) {
        uint64_t pa = pmm_alloc_contig(bucket_frames);
        if (!pa)
            return -ENOMEM;
        buckets = P2V(pa);
        memset(buckets, 0, bucket_frames * PAGE_SIZE);
        for (int i = 0; i < TRACE_POOL; i++) {
            uint64_t f = pmm_alloc();
            if (!f)
                break;
            struct trace_rec *rec = P2V(f);
            for (size_t j = 0; j < PAGE_SIZE / sizeof(*rec); j++) {
                rec[j].next = pool;
                pool = &rec[j];
            }
        }
    }
    flags = spin_lock_irqsave(&heap_lock);
    if (first && trace_bucket) {            /* another mark won the race: ours goes back */
        spin_unlock_irqrestore(&heap_lock, flags);
        pmm_free_contig(V2P(buckets), bucket_frames);
        while (pool) {                      /* (each frame's first record is its lowest) */
            struct trace_rec *r = pool;
            pool = pool->next;
            if (!((uintptr_t)r & (PAGE_SIZE - 1)))
                pmm_free(V2P(r));
        }
        return 0;
    }
    if (first) {
        trace_bucket = buckets;
        trace_free = pool;
    }
    for (size_t b = 0; b < TRACE_BUCKETS; b++)
        while (trace_bucket[b]) {
            struct trace_rec *r = trace_bucket[b];
            trace_bucket[b] = r->next;
            r->next = trace_free;
            trace_free = r;
        }
    trace_untracked = 0;
    spin_unlock_irqrestore(&heap_lock, flags);
    return 0;
}

long kheap_trace_control(const char *buf, size_t n)
{
    if (n >= 4 && !memcmp(buf, "mark", 4) && (n == 4 || buf[4] == '\n'))
        return trace_mark() ?: (long)n;
    if (n >= 10 && !memcmp(buf, "quarantine", 10) && (n == 10 || buf[10] == '\n')) {
        uint64_t flags = spin_lock_irqsave(&heap_lock);
        quarantine_on = true;
        spin_unlock_irqrestore(&heap_lock, flags);
        return (long)n;
    }
    if (n >= 12 && !memcmp(buf, "noquarantine", 12) && (n == 12 || buf[12] == '\n')) {
        quarantine_stop();
        return (long)n;
    }
    return -EINVAL;
}

/* The live blocks recorded since the mark, grouped by their sites. */
size_t kheap_trace_report(struct kheap_site *out, size_t max, uint64_t *untracked)
{
    size_t used = 0;
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    for (size_t b = 0; trace_bucket && b < TRACE_BUCKETS; b++)
        for (struct trace_rec *r = trace_bucket[b]; r; r = r->next) {
            size_t i = 0;
            while (i < used && (out[i].size != r->size || memcmp(out[i].site, r->site, sizeof(r->site))))
                i++;
            if (i == used) {
                if (used == max)
                    continue;
                out[used++] = (struct kheap_site){ .size = r->size };
                memcpy(out[i].site, r->site, sizeof(r->site));
            }
            out[i].count++;
        }
    *untracked = trace_untracked;
    spin_unlock_irqrestore(&heap_lock, flags);
    return used;
}

/* For a crash report: what block of the heap addr lies in, and who
 * allocated it if the tracer recorded it. Reads without heap_lock (the
 * crashing CPU may hold it): a best effort, as a report is. */
void kheap_whois(const char *reg, uintptr_t addr)
{
    uintptr_t page = ALIGN_DOWN(addr, PAGE_SIZE);
    if (!vmm_kernel_mapped(page) || !vmm_kernel_mapped(page + HDR_SIZE))
        return;
    const struct page_hdr *h = (const struct page_hdr *)page;
    if (h->magic != SLAB_MAGIC || h->cls >= NCLASSES || addr < page + HDR_SIZE)
        return;
    uint32_t size = class_size[h->cls];
    uintptr_t block = page + HDR_SIZE + (addr - page - HDR_SIZE) / size * size;
    kprintf("  heap: %s 0x%lx is +0x%lx in the %u-byte block 0x%lx", reg, addr, addr - block, size, block);
    const struct trace_rec *r = NULL;
    for (r = trace_bucket ? trace_bucket[trace_hash((void *)block)] : NULL; r; r = r->next)
        if ((uintptr_t)r->p == block)
            break;
    if (r) {
        kprintf(", allocated (%u bytes) by", r->size);
        for (int j = 0; j < TRACE_SITES && r->site[j]; j++) {
            uintptr_t off;
            const char *name = ksym_lookup(r->site[j], &off);
            kprintf("%s %s+0x%lx", j ? " <-" : "", name ? name : "?", name ? off : r->site[j]);
        }
        kprintf("\n");
    } else {
        bool poisoned = size >= 16 && ((const uint64_t *)block)[1] == 0x6b6b6b6b6b6b6b6bull;
        uintptr_t site[TRACE_SITES];
        if (poisoned && kheap_freed_by((const void *)block, site)) {
            kprintf(": free (poisoned), freed by");
            for (int j = 0; j < TRACE_SITES && site[j]; j++) {
                uintptr_t off;
                const char *name = ksym_lookup(site[j], &off);
                kprintf("%s %s+0x%lx", j ? " <-" : "", name ? name : "?", name ? off : site[j]);
            }
            kprintf("\n");
            return;
        }
        kprintf(": %s\n", poisoned ? "free (poisoned)" : trace_bucket ? "allocated before the tracer's mark"
                                                                     : "(no tracer: /proc/vigil/kheap)");
    }
}
