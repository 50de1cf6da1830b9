/* mm/reclaim.c - memory as a resource: which pages stay in RAM, which are
 * given back when frames run short, and what happens when a program asks
 * for more than there is.
 *
 * Where frames go. Every frame is free, the kernel's (its image, page
 * tables, heap, kernel stacks, the buffer cache's blocks), a program's
 * anonymous memory, or the page cache's (file pages, filemap.c). The page
 * cache holds frames it can give back without losing anything: a clean
 * cached page is a copy of bytes the file has, and can be read again. So
 * that is what reclaim frees first; anonymous memory can go only to a swap
 * area (swap.c), when one is on; the buffer cache keeps to its own budget
 * (bcache.c).
 *
 * When. User pages (a demand-zero page, a copy-on-write copy, a page-cache
 * fill) may not take the last pmm_reserve_frames() frames: those are the
 * kernel's, so page tables, buffers and the heap still find frames while
 * programs compete for the rest. A user fault that finds free frames below
 * twice the reserve reclaims first (a batch, so it is not every fault), and
 * one whose allocation failed reclaims and tries again (mm_fault_reclaim).
 *
 * The policy: a clock with a second chance (CLOCK, an approximation of
 * LRU), in two places, since a page is either mapped or not:
 *   1. The page cache's own clock (filemap_shrink): each inode's pages in
 *      turn, from where its hand stopped last. A page nobody maps and that
 *      is clean is freed unless its reference bit (PC_REF: read() or a
 *      fault found it in the cache since the hand passed) is set; then the
 *      bit is cleared and the page passed over once.
 *   2. Mapped file pages (mm_age_file_pages), address space by address
 *      space: the hardware's accessed bit in the page table is the
 *      reference bit. Set: cleared. Clear: the entry goes (a TLB shootdown
 *      with it, flush_mm), the page stays cached, and pass 1 may free it
 *      once no table maps it. The next touch faults it back in: from the
 *      cache if it is still there, else from the file.
 *   3. With swap on, anonymous pages (mm_swap_out, swapscan_leaf), by the
 *      same clock per address space (its hand: mm->swap_hand): a page
 *      whose accessed bit is clear is made read-only, written to a swap
 *      slot with the rest of its batch, and, if nobody wrote to it
 *      meanwhile, its entry becomes a swap entry and its frame is freed.
 *      Only from a fault where disk I/O is safe (user mode, or a syscall
 *      outside a journal operation). A frame shared after fork goes out
 *      from one address space at a time (refcounts: the other keeps it).
 * A page used between two passes survives both; a file read once streams
 * through (its pages are never found twice). Dirty pages are never freed: a
 * MAP_SHARED page written through its mapping stays mapped and cached
 * until a write-back (msync, munmap, exit, fsync) has made it clean; a
 * private copy is anonymous memory. MAP_SHARED anonymous memory (no file
 * behind it) is never reclaimed, and nor is anything in a locked region
 * (mlock, mlockall, MAP_LOCKED): both clocks pass it by.
 *
 * Out of memory. When reclaim frees nothing and the allocation still
 * fails, oom_kill chooses a victim as Linux's OOM killer does: the process
 * with the most resident pages, plus oom_score_adj thousandths of all RAM
 * (/proc/PID/oom_score_adj, -1000 exempts; /proc/PID/oom_score shows the
 * figure), never init. It gets SIGKILL and the console one line ("Out of
 * memory: Killed process N (name) total-vm:... anon-rss:..."). The thread
 * that wanted the frame waits a tick and tries again, until the victim's
 * memory is back; while a victim is dying nobody else is chosen. If no
 * process may be chosen, the one asking dies instead: never a panic. */
#include "mm.h"
#include "../proc/proc.h"
#include "../lib/kprintf.h"
#include "../lib/errno.h"
#include "../lib/abi.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"

#define RECLAIM_BATCH   1024            /* frames a reclaim tries to free (4 MiB) */
#define OOM_WAIT_TICKS  500             /* a victim slower to die than this is chosen again */

static uint64_t reclaimed_total;        /* [klock] frames reclaim freed since boot (/proc/vmstat) */

uint64_t mm_reclaimed_total(void) { return reclaimed_total; }

uint64_t mm_reclaim(uint64_t want, bool may_swap)
{
    ASSERT_KLOCK();
    uint64_t freed = filemap_shrink(want);
    /* Unmapped pages first: they cost nothing to let go. Then mapped ones:
     * the first look may only clear accessed bits, the next takes out what
     * was not used since; each round frees what left the tables. */
    for (int round = 0; round < 3 && freed < want; round++) {
        uint64_t out = mm_age_file_pages(want - freed);
        freed += filemap_shrink(want - freed);
        if (!out && round > 0)
            break;
    }
    /* Then anonymous memory, if there is swap and the caller may do disk
     * I/O here (not inside a file system's own work). */
    if (freed < want && may_swap)
        freed += mm_swap_out(want - freed);
    reclaimed_total += freed;
    return freed;
}

/* ---- the OOM killer ---- */

static int victim_tgid;                 /* [klock] the process killed last, while it dies */
static uint64_t victim_at;              /* [klock] the tick it was chosen */

/* A live thread of process tgid that still has its address space: its
 * memory is not back yet. */
static struct proc *with_mm(int tgid)
{
    struct proc *p = proc_get_klocked(tgid, tgid);
    return p && p->mm ? p : NULL;
}

/* Linux's badness, in pages: resident pages, plus adj thousandths of RAM. */
static long badness(struct proc *p)
{
    int adj = p->leader->oom_score_adj;
#ifdef BREAK_OOM_ADJ
    adj = 0;                                /* the break switch: memory alone decides */
#endif
    return (long)p->mm->resident + (long)adj * (long)pmm_total_frames() / 1000;
}

long oom_badness(struct proc *p)
{
    if (!p || !p->mm || p->tgid == 1 || p->leader->oom_score_adj == -1000)
        return 0;
    long b = badness(p);
    return b > 0 ? b : 1;
}

static void report(struct proc *p)
{
    uint64_t anon, file;
    mm_rss_split(p->mm, &anon, &file);
    kprintf("Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, "
            "file-rss:%lukB, shmem-rss:0kB, UID:%u oom_score_adj:%d\n",
            p->tgid, p->leader->name, mm_total_vm(p->mm) * 4, anon * 4, file * 4, p->uid,
            p->leader->oom_score_adj);
}

bool oom_kill(void)
{
    ASSERT_KLOCK();
    /* One victim at a time: the frames of the last one come back when it
     * has exited; choosing another meanwhile would kill two for one. */
    if (victim_tgid && with_mm(victim_tgid) && timer_ticks() - victim_at < OOM_WAIT_TICKS)
        return true;
    victim_tgid = 0;
    static int ids[NPROC];                  /* [klock] */
    int n = proc_list_tgids(ids, NPROC);
    struct proc *best = NULL;
    long best_score = 0;
    for (int i = 0; i < n; i++) {
        /* INVARIANT(memory under pressure): init is never the victim, nor
         * a process whose oom_score_adj is -1000. */
        if (ids[i] == 1)
            continue;
        struct proc *p = with_mm(ids[i]);
        if (!p)
            continue;
#ifndef BREAK_OOM_ADJ
        if (p->leader->oom_score_adj == -1000)
            continue;
#endif
        long score = badness(p);
        if (!best || score > best_score) {
            best = p;
            best_score = score;
        }
    }
    if (!best)
        return false;
    report(best);
    victim_tgid = best->tgid;
    victim_at = timer_ticks();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    signal_send_locked(best, SIGKILL, 0);
    spin_unlock_irqrestore(&sched_lock, f);
    return true;
}

int mm_fault_reclaim(struct mm *mm, uintptr_t addr, bool write, bool exec, bool user)
{
    ASSERT_KLOCK();
    /* Swap I/O is safe from a fault in user mode, or in a syscall's
     * uaccess outside a journal operation. */
    bool may_swap = user || current()->journal_depth == 0;
    if (pmm_free_frames() < 2 * pmm_reserve_frames())
        mm_reclaim(RECLAIM_BATCH, may_swap);
    for (int tries = 0;; tries++) {
        int r = mm_fault(mm, addr, write, exec);
        if (r != -ENOMEM || proc_fatal_signal_pending())
            return r;
        if (tries < 8 && mm_reclaim(RECLAIM_BATCH, may_swap))
            continue;
        if (!oom_kill()) {
            struct proc *me = current();
            kprintf("Out of memory: no process may be chosen: killing %d (%s), which asked\n",
                    me->tgid, me->leader->name);
            uint64_t f = spin_lock_irqsave(&sched_lock);
            signal_send_locked(me, SIGKILL, 0);
            spin_unlock_irqrestore(&sched_lock, f);
            return r;
        }
        /* The victim may be this process; a signal to handle first returns
         * too (the access is tried again after it). Either way the kernel
         * lock is let go, which the victim needs to exit. */
        if (proc_signal_pending())
            return r;
        sleep_ticks(1);                         /* the victim's exit gives its frames back */
        tries = 0;
    }
}
