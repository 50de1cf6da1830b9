/* fs/procfs.c - /proc: the kernel's view of processes and of itself, as
 * text files in Linux's formats (man 5 proc).
 *
 * Why: Debian's programs learn about the system by reading /proc, not by
 * asking the kernel: ps and top read every /proc/PID/stat, free reads
 * meminfo, a C library finds its own path in /proc/self/exe, python counts
 * CPUs in /proc/cpuinfo or /sys, and shells reopen /proc/self/fd/N. Their
 * parsers are picky (the command in parentheses, exact field counts, tabs),
 * so each file follows Linux's layout field for field, and every number is
 * one Vigil really keeps: RSS and its peak are counted where pages are
 * mapped (mm_rss_add), times in clock ticks from the scheduler's accounts,
 * the load average from the run queue.
 *
 * Shape: one small generator per file, each reading a process only through
 * proc.h's public view (struct proc_view, proc_get_klocked) or its struct
 * mm under the kernel lock, never sleeping while it holds a process; the
 * inodes, directories and per-open buffers are pseudofs.c's. Paths (exe,
 * cwd, fd/N, maps) are the names the VFS recorded when the file was opened
 * or the program executed (vfs_abspath), with symlinks resolved
 * (vfs_realpath): Vigil's VFS keeps no names of its own.
 *
 * fd/N and cwd are magic links as on Linux: opening /proc/PID/fd/N opens
 * that file itself (a pipe's own inode for pipes), whatever its name now;
 * /dev/fd, /dev/stdin... lead here, so bash's <(...) works.
 *
 * Not here yet: /proc/PID/io, ns/; the t and D states (no
 * tracing, no uninterruptible sleep to report); fd/N's text is the name the
 * file was opened by (a later rename is not seen; opening it still reaches
 * the file). */
#include "pseudofs.h"
#include "vfs.h"
#include "file.h"
#include "bcache.h"
#include "../proc/proc.h"
#include "../mm/mm.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../ipc/ipc.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../debug/debug.h"
#include "../lib/cmdline.h"
#include "../lib/random.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"

#define USER_HZ 100                 /* what clock ticks mean to user space (sysconf(_SC_CLK_TCK)) */

static uint64_t to_user_hz(uint64_t ticks) { return ticks * USER_HZ / timer_hz(); }
static uint64_t kb(uint64_t pages) { return pages * (PAGE_SIZE / 1024); }

/* ---- a process's memory ---- */

/* Copy [va, va+n) out of mm without faulting anything in: stops at the
 * first page not present. The bytes copied. */
static size_t mm_peek(struct mm *mm, uintptr_t va, char *dst, size_t n)
{
    size_t done = 0;
    while (done < n) {
        uint64_t pa, flags;
        if (!vmm_translate(mm->root, va + done, &pa, &flags) || !(flags & PTE_U))
            break;
        size_t off = (va + done) & (PAGE_SIZE - 1), k = MIN(n - done, PAGE_SIZE - off);
        memcpy(dst + done, (uint8_t *)P2V(ALIGN_DOWN(pa, PAGE_SIZE)) + off, k);
        done += k;
    }
    return done;
}

struct mm_counts {
    uint64_t total, rss, hwm, peak, data, stack, exe, swap;     /* pages */
    uint64_t locked, anon, file, shmem;                         /* (status only) */
};

static void mm_count(struct mm *mm, struct mm_counts *m)
{
    memset(m, 0, sizeof(*m));
    if (!mm)
        return;
    m->total = mm_total_vm(mm);
    m->rss = mm->resident;
    m->swap = mm->swapped;
    m->hwm = MAX(mm->hiwater_rss, mm->resident);
    m->peak = MAX(mm->hiwater_vm, m->total);
    m->exe = (ALIGN_UP(mm->end_code, PAGE_SIZE) - mm->start_code) / PAGE_SIZE;
    for (struct vma *v = mm->vmas; v; v = v->next) {
        uint64_t pages = (v->end - v->start) / PAGE_SIZE;
        if (v->start <= mm->start_stack && mm->start_stack < v->end)
            m->stack += pages;
        else if ((v->prot & VM_WRITE) && !(v->flags & VMA_SHARED))
            m->data += pages;                   /* Linux's VmData: private writable, not stack */
    }
}

static struct mm *mm_of(const struct pctx *c)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    return p ? p->mm : NULL;
}

/* ---- /proc/PID files ---- */

static const char *state_name(char s)
{
    switch (s) {
    case 'R': return "R (running)";
    case 'Z': return "Z (zombie)";
    case 'T': return "T (stopped)";
    case 't': return "t (tracing stop)";
    case 'D': return "D (disk sleep)";
    default:  return "S (sleeping)";
    }
}

/* Linux's encoding of a device number in stat's tty_nr. */
static int tty_nr(uint64_t dev)
{
    unsigned major = (unsigned)(dev >> 8), minor = (unsigned)(dev & 0xff);
    return (int)((minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12));
}

static int gen_stat(struct sbuf *s, const struct pctx *c)
{
    struct proc_view v;
    if (proc_view(c->tid, !c->thread, &v))
        return -ESRCH;
    struct mm *mm = mm_of(c);
    struct mm_counts m;
    mm_count(mm, &m);
    int priority = v.rt_priority ? -1 - v.rt_priority : 20 + v.nice;
    sb_printf(s, "%d (%s) %c %d %d %d %d %d %u %lu %lu %lu %lu %lu %lu %lu %lu %d %d %d %d %lu %lu %lu "
                 "%lu %lu %lu %lu %lu %lu ",
              v.pid, v.name, v.state, v.ppid, v.pgid, v.sid, tty_nr(v.tty_nr), v.tpgid,
              0u /* flags */, 0ul, 0ul, 0ul, 0ul /* faults: not counted */,
              to_user_hz(v.utime), to_user_hz(v.stime), to_user_hz(v.cutime), to_user_hz(v.cstime),
              priority, v.nice, v.nthreads, 0, to_user_hz(v.start_tick),
              m.total * PAGE_SIZE, m.rss, (uint64_t)-1 /* rsslim: unlimited */,
              mm ? mm->start_code : 0, mm ? mm->end_code : 0, mm ? mm->start_stack : 0,
              0ul, 0ul /* kstkesp, kstkeip: Linux shows 0 too */);
    sb_printf(s, "%lu %lu %lu %lu 0 0 0 %d %d %d %d 0 0 0 %lu %lu %lu %lu %lu %lu %lu %d\n",
              v.sig_pending, v.sig_blocked, v.sig_ignored, v.sig_caught,
              c->thread && v.pid != v.tgid ? -1 : SIGCHLD, v.cpu, v.rt_priority, v.policy,
              0ul, 0ul /* start_data, end_data */, mm ? mm->brk_start : 0,
              mm ? mm->arg_start : 0, mm ? mm->arg_end : 0, mm ? mm->env_start : 0,
              mm ? mm->env_end : 0, 0 /* exit_code */);
    return 0;
}

static int gen_statm(struct sbuf *s, const struct pctx *c)
{
    struct mm_counts m;
    mm_count(mm_of(c), &m);
    sb_printf(s, "%lu %lu 0 %lu 0 %lu 0\n", m.total, m.rss, m.exe, m.data + m.stack);
    return 0;
}

static void sig_line(struct sbuf *s, const char *name, uint64_t v)
{
    sb_printf(s, "%s:\t%016lx\n", name, v);
}

static void cpu_list(struct sbuf *s, uint64_t mask)
{
    int n = cpu_count();
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (!(mask >> i & 1) || (i > 0 && mask >> (i - 1) & 1))
            continue;
        int j = i;
        while (j + 1 < n && mask >> (j + 1) & 1)
            j++;
        sb_printf(s, j > i ? "%s%d-%d" : "%s%d", first ? "" : ",", i, j);
        first = false;
    }
    sb_write(s, "\n", 1);
}

static int gen_status(struct sbuf *s, const struct pctx *c)
{
    struct proc_view v;
    if (proc_view(c->tid, !c->thread, &v))
        return -ESRCH;
    struct mm *mm = mm_of(c);
    sb_printf(s, "Name:\t%s\nUmask:\t", v.name);
    sb_octal(s, v.umask, 4);
    sb_printf(s, "\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t%d\n"
                 "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%d\nGroups:\t",
              state_name(v.state), v.tgid, v.pid, v.ppid, v.tracer_pid, v.uid, v.euid, v.suid, v.fsuid,
              v.gid, v.egid, v.sgid, v.fsgid, v.fdsize);
    for (int i = 0; i < v.ngroups; i++)
        sb_printf(s, "%u ", v.groups[i]);
    sb_printf(s, "\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", v.tgid, v.pid, v.pgid, v.sid);
    if (mm && v.state != 'Z') {
        struct mm_counts m;
        mm_count(mm, &m);
        m.locked = mm_locked_pages(mm);
        mm_rss_split3(mm, &m.anon, &m.file, &m.shmem);
        sb_printf(s, "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t%8lu kB\nVmPin:\t%8lu kB\n"
                     "VmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\nRssFile:\t%8lu kB\n"
                     "RssShmem:\t%8lu kB\nVmData:\t%8lu kB\nVmStk:\t%8lu kB\nVmExe:\t%8lu kB\n"
                     "VmLib:\t%8lu kB\nVmPTE:\t%8lu kB\nVmSwap:\t%8lu kB\nHugetlbPages:\t%8lu kB\n"
                     "CoreDumping:\t0\nTHP_enabled:\t0\n",
                  kb(m.peak), kb(m.total), kb(m.locked), 0ul, kb(m.hwm), kb(m.rss), kb(m.anon),
                  kb(m.file), kb(m.shmem),
                  kb(m.data), kb(m.stack), kb(m.exe), 0ul, 0ul, kb(m.swap), 0ul);
    }
    uint64_t caps = v.euid == 0 ? 0x1fffffffffful : 0;     /* root has every capability */
    sb_printf(s, "Threads:\t%d\nSigQ:\t%d/%lu\n", v.nthreads, v.sigq_user, v.sigq_limit);
    sig_line(s, "SigPnd", v.sig_pending);
    sig_line(s, "ShdPnd", 0);
    sig_line(s, "SigBlk", v.sig_blocked);
    sig_line(s, "SigIgn", v.sig_ignored);
    sig_line(s, "SigCgt", v.sig_caught);
    sig_line(s, "CapInh", 0);
    sig_line(s, "CapPrm", caps);
    sig_line(s, "CapEff", caps);
    sig_line(s, "CapBnd", 0x1fffffffffful);
    sig_line(s, "CapAmb", 0);
    sb_printf(s, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nCpus_allowed:\t%lx\nCpus_allowed_list:\t",
              v.affinity & ((1ul << cpu_count()) - 1));
    cpu_list(s, v.affinity);
    sb_printf(s, "Mems_allowed:\t1\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t%lu\n"
                 "nonvoluntary_ctxt_switches:\t%lu\n", v.nvcsw, v.nivcsw);
    return 0;
}

/* cmdline and environ: the strings exec put on the stack, from the
 * process's memory (as it may have changed them since). */
static int gen_strings(struct sbuf *s, const struct pctx *c, bool env)
{
    struct mm *mm = mm_of(c);
    if (!mm)
        return 0;                               /* a zombie: empty, as Linux */
    uintptr_t a = env ? mm->env_start : mm->arg_start, b = env ? mm->env_end : mm->arg_end;
    if (b <= a || b - a > (1ul << 20))
        return 0;
    char *tmp = kmalloc(b - a);
    if (!tmp)
        return -ENOMEM;
    size_t n = mm_peek(mm, a, tmp, b - a);
    sb_write(s, tmp, n);
    kfree(tmp);
    return 0;
}

static int gen_cmdline(struct sbuf *s, const struct pctx *c) { return gen_strings(s, c, false); }

/* auxv: the auxiliary vector exec gave the program, pairs up to AT_NULL
 * (gdb finds the dynamic loader by its AT_BASE, and the entry by AT_ENTRY). */
static int gen_auxv(struct sbuf *s, const struct pctx *c)
{
    struct mm *mm = mm_of(c);
    if (!mm || mm->auxv_end <= mm->auxv_start || mm->auxv_end - mm->auxv_start > 1024)
        return 0;
    char tmp[1024];
    size_t n = mm_peek(mm, mm->auxv_start, tmp, mm->auxv_end - mm->auxv_start);
    sb_write(s, tmp, n);
    return 0;
}
static int gen_environ(struct sbuf *s, const struct pctx *c) { return gen_strings(s, c, true); }

static int gen_comm(struct sbuf *s, const struct pctx *c)
{
    struct proc_view v;
    if (proc_view(c->tid, !c->thread, &v))
        return -ESRCH;
    sb_printf(s, "%s\n", v.name);
    return 0;
}

/* Writable by the process's own threads (Linux: the same thread group). */
static long write_comm(const struct pctx *c, const char *buf, size_t n)
{
    if (current()->tgid != c->tgid)
        return -EINVAL;
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    if (!p)
        return -ESRCH;
    size_t len = MIN(n, sizeof(p->name) - 1);   /* as Linux: a newline is kept */
    memcpy(p->name, buf, len);
    p->name[len] = 0;
    return (long)n;
}

/* One maps line: start-end perms offset dev inode, the name in column 74. */
static void maps_line(struct sbuf *s, uintptr_t a, uintptr_t b, uint32_t prot, bool shared,
                      uint64_t off, uint64_t dev, uint64_t ino, const char *name)
{
    size_t at = s->len;
    sb_printf(s, "%08lx-%08lx %c%c%c%c %08lx %02lx:%02lx %lu ", a, b,
              prot & VM_READ ? 'r' : '-', prot & VM_WRITE ? 'w' : '-', prot & VM_EXEC ? 'x' : '-',
              shared ? 's' : 'p', off, dev >> 8, dev & 0xff, ino);
    if (name) {
        while (s->len - at < 73 && !s->oom)
            sb_write(s, " ", 1);
        sb_printf(s, "%s", name);
    }
    sb_write(s, "\n", 1);
}

/* The regions, copied out of the address space first (mm_for_each_vma),
 * then printed with each file's real path (which may sleep: by then
 * nothing of the process is held). Anonymous memory at the break is
 * [heap], the stack's region [stack], each split out of a neighbour with
 * the same protection it was merged with. */
struct map_ent {
    struct vma_info vi;
    char *path;                 /* kmalloc'd copy, or NULL */
};

struct map_list {
    struct map_ent *e;
    int n, cap;
    bool oom;
};

static bool map_collect(const struct vma_info *vi, void *arg)
{
    struct map_list *l = arg;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 32;
        struct map_ent *e = kmalloc((size_t)cap * sizeof(*e));
        if (!e) {
            l->oom = true;
            return false;
        }
        if (l->n)
            memcpy(e, l->e, (size_t)l->n * sizeof(*e));
        kfree(l->e);
        l->e = e;
        l->cap = cap;
    }
    struct map_ent *m = &l->e[l->n++];
    m->vi = *vi;
    m->vi.inode = NULL;
    m->vi.path = NULL;
    m->path = NULL;
    if (vi->path && (m->path = kmalloc(strlen(vi->path) + 1)))
        strlcpy(m->path, vi->path, strlen(vi->path) + 1);
    return true;
}

/* /proc/PID/mem: the process's memory at the file offset, as a debugger
 * reads and writes it (gdb does, before PEEKTEXT). Only one who may trace
 * the process opens it (PE_PTRACE); a write to a read-only page (a
 * breakpoint in text) goes through a private copy, as ptrace's POKETEXT.
 * An address nothing maps is EIO, past the first page done a short count. */
static long rw_mem(const struct pctx *c, uint64_t off, void *ubuf, size_t n, bool write)
{
    struct mm *mm = mm_of(c);
    if (!mm)
        return 0;                               /* a zombie has no memory: EOF */
    uint8_t *buf = proc_scratch_page();
    if (!buf)
        return -ENOMEM;
    mm_get(mm);                                 /* a copy may sleep; the process may exit */
    long done = 0;
    while ((size_t)done < n) {
        uint64_t va = off + (uint64_t)done;
        size_t k = MIN(n - (size_t)done, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        long r = 0;
        if (!user_range_ok(va, k) || !mm_prot_at(mm, va))
            r = -EIO;
        else if (write)
            r = copy_from_user(buf, (uint8_t *)ubuf + done, k) ? -EFAULT
                : mm_write(mm, va, buf, k) ? -EIO : 0;
        else
            r = mm_read(mm, va, buf, k) ? -EIO
                : copy_to_user((uint8_t *)ubuf + done, buf, k) ? -EFAULT : 0;
        if (r) {
            if (!done)
                done = r;
            break;
        }
        done += (long)k;
    }
    mm_put(mm);
    return done;
}

/* The next place a maps line ends after at, within region v: anonymous
 * memory is cut where the heap and the stack begin and end. */
static uintptr_t piece_end(const struct map_ent *e, uintptr_t at, const uintptr_t cuts[4])
{
    uintptr_t next = e->vi.end;
    if (e->path || e->vi.ino)
        return next;
    for (int k = 0; k < 4; k++)
        if (cuts[k] > at && cuts[k] < next)
            next = cuts[k];
    return next;
}

/* smaps' figures for one line, in kB (PSS figures carry 12 more bits). */
static void smaps_fields(struct sbuf *s, const struct vma_stats *st, bool rollup)
{
    sb_printf(s, "Rss:            %8lu kB\nPss:            %8lu kB\nPss_Dirty:      %8lu kB\n",
              st->rss >> 10, st->pss >> 22, st->pss_dirty >> 22);
    if (rollup)
        sb_printf(s, "Pss_Anon:       %8lu kB\nPss_File:       %8lu kB\nPss_Shmem:      %8lu kB\n",
                  st->pss_anon >> 22, st->pss_file >> 22, st->pss_shmem >> 22);
    sb_printf(s, "Shared_Clean:   %8lu kB\nShared_Dirty:   %8lu kB\nPrivate_Clean:  %8lu kB\n"
                 "Private_Dirty:  %8lu kB\nReferenced:     %8lu kB\nAnonymous:      %8lu kB\n"
                 "KSM:                   0 kB\nLazyFree:              0 kB\n"
                 "AnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\n"
                 "FilePmdMapped:         0 kB\nShared_Hugetlb:        0 kB\n"
                 "Private_Hugetlb:       0 kB\nSwap:           %8lu kB\nSwapPss:        %8lu kB\n"
                 "Locked:         %8lu kB\n",
              st->shared_clean >> 10, st->shared_dirty >> 10, st->private_clean >> 10,
              st->private_dirty >> 10, st->referenced >> 10, st->anonymous >> 10, st->swap >> 10,
              st->swap_pss >> 22, st->pss_locked >> 22);
}

/* smaps' last line: the region's flags by Linux's two-letter names. */
static void vmflags_line(struct sbuf *s, const struct vma_info *v, bool stack)
{
    sb_printf(s, "THPeligible:           0\n");
    if (cpu_pku)                        /* Linux prints it when the CPU has the keys */
        sb_printf(s, "ProtectionKey:  %8u\n", v->pkey);
    sb_printf(s, "VmFlags:");
    if (v->prot & VM_READ)
        sb_printf(s, " rd");
    if (v->prot & VM_WRITE)
        sb_printf(s, " wr");
    if (v->prot & VM_EXEC)
        sb_printf(s, " ex");
    if (v->shared)
        sb_printf(s, " sh");
    sb_printf(s, " mr");
    if (!v->shared || (v->flags & VMA_MAYWRITE) || !v->ino)
        sb_printf(s, " mw");
    sb_printf(s, " me");
    if (v->shared)
        sb_printf(s, " ms");
    if (stack)
        sb_printf(s, " gd");
    if (v->flags & VMA_LOCKED)
        sb_printf(s, " lo");
    if (v->flags & VMA_DONTDUMP)
        sb_printf(s, " dd");
    if (!v->ino && !v->shared)
        sb_printf(s, " ac");
    sb_printf(s, "\n");
}

enum maps_kind { MAPS, SMAPS, SMAPS_ROLLUP };

static int gen_maps_kind(struct sbuf *s, const struct pctx *c, enum maps_kind kind)
{
    struct mm *mm = mm_of(c);
    if (!mm)
        return 0;
    uintptr_t heap_a = mm->brk_start, heap_b = ALIGN_UP(mm->brk, PAGE_SIZE);
    uintptr_t stack_a = USER_STACK_TOP - USER_STACK_SIZE, stack_b = USER_STACK_TOP;
    uintptr_t cuts[4] = { heap_a, heap_b, stack_a, stack_b };
    struct map_list l = { NULL, 0, 0, false };
    mm_for_each_vma(mm, map_collect, &l);
    /* smaps: every line's figures now, while the process is surely there
     * (nothing has slept since the regions were copied). */
    struct vma_stats *st = NULL, total;
    int nst = 0;
    if (kind == SMAPS_ROLLUP) {
        mm_range_stats(mm, 0, USER_TOP, &total);
    } else if (kind == SMAPS && !l.oom) {
        for (int i = 0; i < l.n; i++)
            for (uintptr_t at = l.e[i].vi.start; at < l.e[i].vi.end; nst++)
                at = piece_end(&l.e[i], at, cuts);
        st = kmalloc((size_t)(nst ? nst : 1) * sizeof(*st));
        nst = 0;
        for (int i = 0; st && i < l.n; i++)
            for (uintptr_t at = l.e[i].vi.start, next; at < l.e[i].vi.end; at = next) {
                next = piece_end(&l.e[i], at, cuts);
                mm_range_stats(mm, at, next, &st[nst++]);
            }
    }
    mm = NULL;                                  /* from here on the process may go */
    char *real = kmalloc(PATH_MAX);
    int r = l.oom || !real || (kind == SMAPS && !st) ? -ENOMEM : 0;
    if (!r && kind == SMAPS_ROLLUP) {
        uintptr_t lo = l.n ? l.e[0].vi.start : 0, hi = l.n ? l.e[l.n - 1].vi.end : 0;
        maps_line(s, lo, hi, 0, false, 0, 0, 0, "[rollup]");
        smaps_fields(s, &total, true);
    }
    for (int i = 0, k = 0; i < l.n && !r && kind != SMAPS_ROLLUP; i++) {
        const struct vma_info *v = &l.e[i].vi;
        for (uintptr_t at = v->start, next; at < v->end; at = next) {
            next = piece_end(&l.e[i], at, cuts);
            const char *name = NULL;
            if (v->special) {
                name = v->special;
            } else if (l.e[i].path) {
                vfs_realpath(l.e[i].path, real, PATH_MAX);
                name = real;
            } else if (!v->ino) {
                name = at >= heap_a && next <= heap_b && heap_b > heap_a ? "[heap]" :
                       at >= stack_a && next <= stack_b ? "[stack]" : NULL;
            }
            maps_line(s, at, next, v->prot, v->shared, v->offset, v->dev, v->ino, name);
            if (kind != SMAPS)
                continue;
            sb_printf(s, "Size:           %8lu kB\nKernelPageSize:        4 kB\n"
                         "MMUPageSize:           4 kB\n", (next - at) >> 10);
            smaps_fields(s, &st[k++], false);
            vmflags_line(s, v, at >= stack_a && next <= stack_b);
        }
    }
    for (int i = 0; i < l.n; i++)
        kfree(l.e[i].path);
    kfree(l.e);
    kfree(st);
    kfree(real);
    return r;
}

static int gen_maps(struct sbuf *s, const struct pctx *c) { return gen_maps_kind(s, c, MAPS); }
static int gen_smaps(struct sbuf *s, const struct pctx *c) { return gen_maps_kind(s, c, SMAPS); }
static int gen_smaps_rollup(struct sbuf *s, const struct pctx *c)
{
    return gen_maps_kind(s, c, SMAPS_ROLLUP);
}

/* /proc/PID/pagemap (pagemap(5)): 8 bytes per virtual page, at offset
 * page number * 8; reads and their offsets in whole entries (EINVAL
 * otherwise, as Linux). */
static long rw_pagemap(const struct pctx *c, uint64_t off, void *ubuf, size_t n, bool write)
{
    if (write)
        return -EINVAL;
    if ((off | n) & 7)
        return -EINVAL;
    struct mm *mm = mm_of(c);
    if (!mm)
        return 0;
    uint64_t *buf = proc_scratch_page();
    if (!buf)
        return -ENOMEM;
    uint64_t first = off / 8, last = USER_TOP / PAGE_SIZE;
    long done = 0;
    mm_get(mm);                                 /* a copy may sleep; the process may exit */
    while ((size_t)done < n && first < last) {
        size_t k = MIN(MIN((n - (size_t)done) / 8, PAGE_SIZE / 8), last - first);
        mm_pagemap(mm, first * PAGE_SIZE, buf, k);
        if (copy_to_user((uint8_t *)ubuf + done, buf, k * 8)) {
            if (!done)
                done = -EFAULT;
            break;
        }
        done += (long)(k * 8);
        first += k;
    }
    mm_put(mm);
    return done;
}

/* The name of an open file, as fd/N and maps show it. */
static void file_name(struct file *f, char *buf, size_t n)
{
    if (f->path)
        strlcpy(buf, f->path, n);
    else if (f->ops->dname)
        f->ops->dname(f, buf, n);
    else
        snprintf(buf, n, "anon_inode:[%s]", "unknown");
}

static long copy_link(const char *target, char *buf, size_t n)
{
    size_t len = strlen(target);
    len = MIN(len, n);
    memcpy(buf, target, len);
    return (long)len;
}

/* The target resolved (it may sleep: the caller holds no process). */
static long real_link(char *abs, char *buf, size_t n)
{
    char *real = kmalloc(PATH_MAX);
    if (!real) {
        kfree(abs);
        return -ENOMEM;
    }
    if (abs[0] == '/')
        vfs_realpath(abs, real, PATH_MAX);
    else
        strlcpy(real, abs, PATH_MAX);
    long r = copy_link(real, buf, n);
    kfree(real);
    kfree(abs);
    return r;
}

/* A file unlinked (or a directory removed) while held: its last name and
 * " (deleted)", as Linux says. */
static long deleted_link(char *name, char *buf, size_t n)
{
    size_t len = strlen(name);
    strlcpy(name + len, " (deleted)", PATH_MAX - len);
    long r = copy_link(name, buf, n);
    kfree(name);
    return r;
}

static long link_fd(const struct pctx *c, char *buf, size_t n)
{
    struct file *f = NULL;
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    if (p)
        f = fdt_file(p->fdt, c->fd);
    char *name = f ? kmalloc(PATH_MAX) : NULL;
    if (!f)
        return -ENOENT;
    if (!name)
        return -ENOMEM;
    file_name(f, name, PATH_MAX);               /* copied before anything sleeps */
    if (f->inode && f->inode->nlink == 0)
        return deleted_link(name, buf, n);
    return real_link(name, buf, n);
}

/* Opening fd/N opens the file itself, not whatever its name leads to now
 * (it may be a pipe, or renamed, or gone). */
static struct inode *follow_fd(const struct pctx *c)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    struct file *f = p ? fdt_file(p->fdt, c->fd) : NULL;
    if (!f)
        return NULL;
    if (f->inode)
        return iget(f->inode);
    return f->ops->inode_of ? f->ops->inode_of(f) : NULL;
}

/* exe leads to the program's own file (renamed or not): a magic link. */
static struct inode *follow_exe(const struct pctx *c)
{
    struct mm *mm = mm_of(c);
    return mm && mm->exe_ino ? iget(mm->exe_ino) : NULL;
}

static struct inode *follow_cwd(const struct pctx *c)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    return p && p->fs && p->fs->cwd ? iget(p->fs->cwd) : NULL;
}

static long link_exe(const struct pctx *c, char *buf, size_t n)
{
    struct mm *mm = mm_of(c);
    if (!mm || !mm->exe_path[0])
        return -ENOENT;
    return copy_link(mm->exe_path, buf, n);     /* resolved at exec */
}

static long link_cwd(const struct pctx *c, char *buf, size_t n)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    if (!p || !p->fs)
        return -ENOENT;
    char *cwd = kmalloc(PATH_MAX);
    if (!cwd)
        return -ENOMEM;
    strlcpy(cwd, p->fs->cwd_path, PATH_MAX);
    if (p->fs->cwd->nlink == 0)
        return deleted_link(cwd, buf, n);
    return real_link(cwd, buf, n);
}

static long link_root(const struct pctx *c, char *buf, size_t n) { (void)c; return copy_link("/", buf, n); }

static int gen_fdinfo(struct sbuf *s, const struct pctx *c)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    struct file *f = p ? fdt_file(p->fdt, c->fd) : NULL;
    if (!f)
        return -ENOENT;
    int flags = f->flags | (fd_cloexec(p->fdt, c->fd) ? O_CLOEXEC : 0);
    sb_printf(s, "pos:\t%lu\nflags:\t0", f->off);
    sb_octal(s, (uint64_t)(uint32_t)flags, 7);
    sb_printf(s, "\nmnt_id:\t%d\nino:\t%lu\n", f->inode ? vfs_mnt_id(f->inode->sb) : 0,
              f->inode ? f->inode->ino : 0ul);
    inotify_fdinfo(f, s);
    return 0;
}

/* Mounts, as /proc/PID/mounts and mountinfo (every process sees the same). */
static const char *source_of(struct super *sb)
{
    if (!strcmp(sb->type, "ext2") || !strcmp(sb->type, "ext3"))
        return "/dev/vda";
    if (!strcmp(sb->type, "initrd"))
        return "rootfs";
    return sb->type;
}

static int gen_mounts(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct super *sb;
    const char *path;
    for (int i = 0; vfs_mount_at(i, &sb, &path); i++)
        if (sb)
            sb_printf(s, "%s %s %s %s,relatime 0 0\n", source_of(sb), path, sb->type,
                      sb->read_only ? "ro" : "rw");
    return 0;
}

static int gen_mountinfo(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct super *sb, *other;
    const char *path, *opath;
    for (int i = 0; vfs_mount_at(i, &sb, &path); i++) {
        if (!sb)
            continue;
        /* The parent: the mount with the longest path that is a prefix. */
        int parent = 1;
        size_t best = 0;
        for (int j = 0; vfs_mount_at(j, &other, &opath); j++) {
            size_t l = other ? strlen(opath) : 0;
            if (other && j != i && l > best && !strncmp(opath, path, l) &&
                (l == 1 || path[l] == '/' || path[l] == 0) && strcmp(opath, path)) {
                best = l;
                parent = j + 1;
            }
        }
        sb_printf(s, "%d %d %lu:%lu / %s %s,relatime - %s %s %s\n", i + 1, i ? parent : 1,
                  sb->dev >> 8, sb->dev & 0xff, path, sb->read_only ? "ro" : "rw", sb->type,
                  source_of(sb), sb->read_only ? "ro" : "rw");
    }
    return 0;
}

static int gen_limits(struct sbuf *s, const struct pctx *c)
{
    static const char *const names[16][2] = {
        { "Max cpu time", "seconds" }, { "Max file size", "bytes" }, { "Max data size", "bytes" },
        { "Max stack size", "bytes" }, { "Max core file size", "bytes" },
        { "Max resident set", "bytes" }, { "Max processes", "processes" },
        { "Max open files", "files" }, { "Max locked memory", "bytes" },
        { "Max address space", "bytes" }, { "Max file locks", "locks" },
        { "Max pending signals", "signals" }, { "Max msgqueue size", "bytes" },
        { "Max nice priority", "" }, { "Max realtime priority", "" },
        { "Max realtime timeout", "us" },
    };
    sb_printf(s, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (int i = 0; i < 16; i++) {
        uint64_t r[2];
        rlimit_of(c->tgid, i, r);
        char v[2][24];
        for (int k = 0; k < 2; k++) {
            if (r[k] == RLIM_INFINITY)
                strlcpy(v[k], "unlimited", sizeof(v[k]));
            else
                snprintf(v[k], sizeof(v[k]), "%lu", r[k]);
        }
        sb_printf(s, "%-25s %-20s %-20s %-10s\n", names[i][0], v[0], v[1], names[i][1]);
    }
    return 0;
}

static int gen_oom_adj(struct sbuf *s, const struct pctx *c)
{
    struct proc_view v;
    if (proc_view(c->tid, true, &v))
        return -ESRCH;
    sb_printf(s, "%d\n", v.oom_score_adj);
    return 0;
}

static long write_oom_adj(const struct pctx *c, const char *buf, size_t n)
{
    long v = 0;
    bool neg = buf[0] == '-', digits = false;
    for (const char *p = buf + neg; *p && *p != '\n'; p++) {
        if (*p < '0' || *p > '9' || v > 100000)
            return -EINVAL;
        v = v * 10 + (*p - '0');
        digits = true;
    }
    v = neg ? -v : v;
    if (!digits || v < -1000 || v > 1000)
        return -EINVAL;
    struct proc *p = proc_get_klocked(c->tgid, c->tgid);
    struct proc *me = current();
    if (!p)
        return -ESRCH;
    if (me->euid != 0 && (me->euid != p->uid || v < p->leader->oom_score_adj))
        return -EACCES;                         /* lowering it is root's */
    p->leader->oom_score_adj = (int)v;
    return (long)n;
}

/* timerslack_ns: the thread's PR_SET_TIMERSLACK value; writing another
 * process's is root's (Linux: CAP_SYS_NICE), 0 puts the default back. */
static int gen_timerslack(struct sbuf *s, const struct pctx *c)
{
    struct proc *p = proc_get_klocked(c->tgid, c->tid);
    if (!p)
        return -ESRCH;
    sb_printf(s, "%lu\n", p->timer_slack);
    return 0;
}

static long write_timerslack(const struct pctx *c, const char *buf, size_t n)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (v > UINT64_MAX / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(buf[i] - '0');
    }
    if (!i || (i < n && buf[i] != '\n'))
        return -EINVAL;
    struct proc *p = proc_get_klocked(c->tgid, c->tid), *me = current();
    if (!p)
        return -ESRCH;
    if (p->tgid != me->tgid && me->euid != 0)
        return -EPERM;
    p->timer_slack = v ? v : p->timer_slack_default;
    return (long)n;
}

static int gen_oom_score(struct sbuf *s, const struct pctx *c)
{
    /* The OOM killer's own figure (mm/reclaim.c: resident pages and
     * oom_score_adj thousandths of RAM), as a share of RAM in thousandths,
     * as Linux shows it: 0 for a process it never chooses. */
    long b = oom_badness(proc_get_klocked(c->tgid, c->tgid));
    sb_printf(s, "%lu\n", (uint64_t)b * 1000 / MAX(pmm_total_frames(), 1ul));
    return 0;
}

static int gen_cgroup(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "0::/\n"); return 0; }

static int gen_wchan(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "0"); return 0; }

/* syscall: the call the thread sleeps or stops in, its arguments, stack
 * and instruction pointers; "-1 sp pc" outside a call; "running" if it
 * runs (proc(5)). */
static int gen_syscall(struct sbuf *s, const struct pctx *c)
{
    struct syscall_view v;
    if (proc_syscall_view(c->tid, &v))
        return -ESRCH;
    if (v.running)
        sb_printf(s, "running\n");
    else if (v.nr < 0)
        sb_printf(s, "%ld 0x%lx 0x%lx\n", v.nr, v.sp, v.pc);
    else
        sb_printf(s, "%ld 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx\n", v.nr, v.args[0],
                  v.args[1], v.args[2], v.args[3], v.args[4], v.args[5], v.sp, v.pc);
    return 0;
}

/* ---- global files ---- */

static int gen_meminfo(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    /* The heap's counts are taken now, with this file's buffer allocated:
     * the same for every read, so a leak test's before and after agree. */
    uint64_t obj[KHEAP_NCOUNTS];
    kheap_object_counts(obj);
    uint64_t total = pmm_total_frames(), free = pmm_free_frames();
    uint64_t heap = kheap_pages_in_use(), bytes = kheap_bytes_in_use();
    uint64_t buffers = bcache_frames(), cached = filemap_pages();
    int procs = proc_count();
    /* What is neither free nor a cache's nor the heap's: user memory, page
     * tables, kernel stacks (Vigil keeps no finer count: AnonPages is that). */
    uint64_t used = total - free, rest = used > heap + buffers + cached ? used - heap - buffers - cached : 0;
    sb_printf(s, "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
                 "Buffers:        %8lu kB\nCached:         %8lu kB\nSwapCached:     %8lu kB\n"
                 "Active:         %8lu kB\nInactive:       %8lu kB\nUnevictable:    %8lu kB\n"
                 "Mlocked:        %8lu kB\n",
              kb(total), kb(free), kb(free), kb(buffers), kb(cached), 0ul, kb(rest + cached), 0ul,
              kb(mm_mlocked_all()), kb(mm_mlocked_all()));
    uint64_t swap_total, swap_free, swap_in, swap_out;
    swap_counts(&swap_total, &swap_free, &swap_in, &swap_out);
    sb_printf(s, "SwapTotal:      %8lu kB\nSwapFree:       %8lu kB\nDirty:          %8lu kB\n"
                 "Writeback:      %8lu kB\nAnonPages:      %8lu kB\nMapped:         %8lu kB\n"
                 "Shmem:          %8lu kB\nSlab:           %8lu kB\nSReclaimable:   %8lu kB\n"
                 "SUnreclaim:     %8lu kB\nKernelStack:    %8lu kB\nPageTables:     %8lu kB\n",
              kb(swap_total), kb(swap_free), 0ul, 0ul, kb(rest), 0ul, 0ul, kb(heap), 0ul, kb(heap),
              (uint64_t)procs * KSTACK_PAGES * 4, 0ul);
    sb_printf(s, "CommitLimit:    %8lu kB\nCommitted_AS:   %8lu kB\nVmallocTotal:   %8lu kB\n"
                 "VmallocUsed:    %8lu kB\nVmallocChunk:   %8lu kB\nHugePages_Total:       0\n"
                 "HugePages_Free:        0\nHugepagesize:       2048 kB\n",
              kb(total), kb(used), 0ul, 0ul, 0ul);
    /* Vigil's own exact counters (user/tests/meminfo.h and the leak tests
     * read them): free frames, the heap's pages, bytes and blocks per size
     * class, then large blocks. */
    sb_printf(s, "VigilFreeFrames: %lu\nVigilHeapPages: %lu\nVigilHeapBytes: %lu\nVigilProcs: %d\n"
                 "VigilHeapObjects: %lu %lu %lu %lu %lu %lu %lu %lu %lu\n",
              free, heap, bytes, procs, obj[0], obj[1], obj[2], obj[3], obj[4], obj[5], obj[6],
              obj[7], obj[8]);
    sb_printf(s, "VigilReclaimed: %lu\n", mm_reclaimed_total());   /* frames reclaim freed */
    return 0;
}

/* The counters of /proc/vmstat Vigil keeps (vmstat reads the file): pages
 * swapped in and out since boot (mm/swap.c). */
static int gen_vmstat(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    uint64_t total = pmm_total_frames(), free = pmm_free_frames(), heap = kheap_pages_in_use();
    uint64_t buffers = bcache_frames(), cached = filemap_pages(), used = total - free;
    uint64_t rest = used > heap + buffers + cached ? used - heap - buffers - cached : 0;
    uint64_t swap_total, swap_free, swap_in, swap_out;
    swap_counts(&swap_total, &swap_free, &swap_in, &swap_out);
    sb_printf(s, "nr_free_pages %lu\nnr_anon_pages %lu\nnr_file_pages %lu\nnr_slab_unreclaimable %lu\n"
                 "nr_kernel_stack %lu\npswpin %lu\npswpout %lu\n",
              free, rest, cached + buffers, heap, (uint64_t)proc_count() * KSTACK_PAGES * 4,
              swap_in, swap_out);
    return 0;
}

/* CPUID feature bits and their names in /proc/cpuinfo: leaf 1 EDX, leaf 1
 * ECX, leaf 7 EBX, leaf 0x80000001 EDX and ECX (Intel SDM vol. 2A, CPUID). */
static const char *const feat_1d[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL, "sep", "mtrr",
    "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL, "dts", "acpi", "mmx", "fxsr",
    "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
};
static const char *const feat_1c[32] = {
    "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3",
    "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca", "sse4_1", "sse4_2",
    "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", NULL, "avx", "f16c",
    "rdrand", "hypervisor",
};
static const char *const feat_7b[32] = {
    "fsgsbase", NULL, "sgx", "bmi1", "hle", "avx2", NULL, "smep", "bmi2", "erms", "invpcid",
    "rtm", NULL, NULL, "mpx", NULL, "avx512f", "avx512dq", "rdseed", "adx", "smap", NULL, NULL,
    "clflushopt", "clwb", NULL, NULL, NULL, NULL, "sha_ni", NULL, NULL,
};
static const char *const feat_81d[32] = {
    [11] = "syscall", [20] = "nx", [22] = "mmxext", [25] = "fxsr_opt", [26] = "pdpe1gb",
    [27] = "rdtscp", [29] = "lm",
};
static const char *const feat_81c[32] = {
    [0] = "lahf_lm", [1] = "cmp_legacy", [2] = "svm", [5] = "abm", [6] = "sse4a",
    [8] = "3dnowprefetch", [11] = "xop", [16] = "fma4",
};

static void flags_of(struct sbuf *s, const char *const names[32], uint32_t bits)
{
    for (int i = 0; i < 32; i++)
        if ((bits >> i & 1) && names[i])
            sb_printf(s, " %s", names[i]);
}

static int gen_cpuinfo(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    uint32_t a, b, cx, d, max, ext;
    char vendor[13], model[49];
    cpuid(0, 0, &max, &b, &cx, &d);
    memcpy(vendor, &b, 4), memcpy(vendor + 4, &d, 4), memcpy(vendor + 8, &cx, 4);
    vendor[12] = 0;
    cpuid(0x80000000, 0, &ext, &b, &cx, &d);
    strlcpy(model, "unknown", sizeof(model));
    if (ext >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            uint32_t r[4];
            cpuid(0x80000002 + i, 0, &r[0], &r[1], &r[2], &r[3]);
            memcpy(model + 16 * i, r, 16);
        }
        model[48] = 0;
    }
    const char *m = model;
    while (*m == ' ')
        m++;
    uint32_t sig, misc, f1c, f1d, f7b = 0, f81c = 0, f81d = 0;
    cpuid(1, 0, &sig, &misc, &f1c, &f1d);
    if (max >= 7)
        cpuid(7, 0, &a, &f7b, &cx, &d);
    if (ext >= 0x80000001)
        cpuid(0x80000001, 0, &a, &b, &f81c, &f81d);
    unsigned family = (sig >> 8) & 0xf, modelno = (sig >> 4) & 0xf;
    if (family == 0xf)
        family += (sig >> 20) & 0xff;
    if (family >= 6)
        modelno |= ((sig >> 16) & 0xf) << 4;
    uint64_t khz = tsc_hz() / 1000;
    int n = cpu_count();
    for (int i = 0; i < n; i++) {
        struct cpu *cp = cpu_get(i);
        sb_printf(s, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                     "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: %lu.%03lu\ncache size\t: 512 KB\n"
                     "physical id\t: 0\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\n"
                     "apicid\t\t: %u\ninitial apicid\t: %u\nfpu\t\t: yes\nfpu_exception\t: yes\n"
                     "cpuid level\t: %u\nwp\t\t: yes\nflags\t\t:",
                  i, vendor, family, modelno, m, sig & 0xf, khz / 1000, khz % 1000, n, i, n,
                  cp ? cp->apic_id : 0u, cp ? cp->apic_id : 0u, max);
        flags_of(s, feat_1d, f1d);
        flags_of(s, feat_81d, f81d);
        flags_of(s, feat_1c, f1c);
        flags_of(s, feat_81c, f81c);
        flags_of(s, feat_7b, f7b);
        sb_printf(s, "\nbugs\t\t:\nbogomips\t: %lu.%02lu\nclflush size\t: %u\ncache_alignment\t: %u\n"
                     "address sizes\t: 40 bits physical, 48 bits virtual\npower management:\n\n",
                  khz * 2 / 1000, (khz * 2 / 10) % 100, ((misc >> 8) & 0xff) * 8, 64u);
    }
    return 0;
}

static int gen_uptime(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct sched_stats st;
    sched_get_stats(&st);
    uint64_t up = time_monotonic_ns() / 10000000ul, idle = 0;   /* hundredths */
    for (int i = 0; i < MAX_CPUS; i++)
        idle += st.idle[i];
    idle = idle * 100 / timer_hz();
    sb_printf(s, "%lu.%02lu %lu.%02lu\n", up / 100, up % 100, idle / 100, idle % 100);
    return 0;
}

static int gen_loadavg(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct sched_stats st;
    sched_get_stats(&st);
    for (int i = 0; i < 3; i++) {
        uint64_t v = st.avenrun[i] + LOAD_FIXED_1 / 200;            /* rounded to 0.01 */
        sb_printf(s, "%lu.%02lu ", v >> LOAD_FSHIFT, ((v & (LOAD_FIXED_1 - 1)) * 100) >> LOAD_FSHIFT);
    }
    sb_printf(s, "%d/%d %d\n", st.running, proc_count(), proc_last_pid());
    return 0;
}

static int gen_stat_global(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct sched_stats st;
    sched_get_stats(&st);
    uint64_t u = 0, sy = 0, id = 0, intr = 0;
    for (int i = 0; i < st.ncpu; i++) {
        u += st.user[i], sy += st.system[i], id += st.idle[i];
        intr += st.user[i] + st.system[i] + st.idle[i];
    }
    sb_printf(s, "cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n", to_user_hz(u), to_user_hz(sy), to_user_hz(id));
    for (int i = 0; i < st.ncpu; i++)
        sb_printf(s, "cpu%d %lu 0 %lu %lu 0 0 0 0 0 0\n", i, to_user_hz(st.user[i]),
                  to_user_hz(st.system[i]), to_user_hz(st.idle[i]));
    uint64_t btime = (time_realtime_ns() - time_monotonic_ns()) / 1000000000ul;
    sb_printf(s, "intr %lu\nctxt %lu\nbtime %lu\nprocesses %d\nprocs_running %d\nprocs_blocked %d\n"
                 "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
              intr, st.ctxt, btime, proc_last_pid(), st.running, st.blocked);
    return 0;
}

static int gen_version(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct utsname_k u;
    uts_get(&u);
    sb_printf(s, "%s version %s (vigil@vigil) (gcc) %s\n", u.sysname, u.release, u.version);
    return 0;
}

static int gen_cmdline_k(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%s\n", cmdline_line()); return 0; }

/* No swap space (swapon --show reads this). */
static int gen_swaps(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    char line[320];
    swap_describe(line, sizeof(line));
    sb_printf(s, "%s", line);
    return 0;
}

/* The device numbers the kernel's drivers answer to. */
static int gen_devices(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "Character devices:\n  1 mem\n  4 ttyS\n  5 /dev/tty\n  5 /dev/console\n"
                 "  5 /dev/ptmx\n136 pts\n\nBlock devices:\n254 virtblk\n");
    return 0;
}

/* vigil/schedtrace: the scheduler's event ring, binary (proc/schedtrace.c
 * says what is in it); a write of "clear", "1" or "0" clears it or turns
 * it on or off. */
static int gen_schedtrace(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    size_t cap = schedtrace_max_bytes();
    void *snap = kmalloc(cap);
    if (!snap)
        return -ENOMEM;
    sb_write(s, snap, schedtrace_snapshot(snap, cap));
    kfree(snap);
    return 0;
}

static long write_schedtrace(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    return schedtrace_control(buf, n);
}

/* vigil/kheap: the heap tracer (mm/kheap.c). "mark" starts it; a read
 * lists the blocks handed out since and still live, by allocation site:
 * "COUNT x SIZE bytes: SITE <- CALLER <- ITS CALLER". */
static int gen_kheap(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    enum { MAX = 256 };
    struct kheap_site *v = kmalloc(MAX * sizeof(*v));
    if (!v)
        return -ENOMEM;
    uint64_t untracked;
    size_t n = kheap_trace_report(v, MAX, &untracked);
    sb_printf(s, "kheap: %zu allocation sites live since the mark, %lu allocations untracked\n", n, untracked);
    for (size_t i = 0; i < n; i++) {
        sb_printf(s, "%u x %u bytes:", v[i].count, v[i].size);
        for (int j = 0; j < 3 && v[i].site[j]; j++) {
            uintptr_t off;
            const char *name = ksym_lookup(v[i].site[j], &off);
            sb_printf(s, "%s %s+0x%lx", j ? " <-" : "", name ? name : "?", name ? off : v[i].site[j]);
        }
        sb_printf(s, "\n");
    }
    kfree(v);
    return 0;
}

static long write_kheap(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    return kheap_trace_control(buf, n);
}

static int gen_filesystems(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    bool nodev;
    const char *name;
    for (int i = 0; (name = fs_type_at(i, &nodev)); i++)
        sb_printf(s, "%s\t%s\n", nodev ? "nodev" : "", name);
    return 0;
}

/* sys/kernel */
static int gen_hostname(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct utsname_k u;
    uts_get(&u);
    sb_printf(s, "%s\n", u.nodename);
    return 0;
}

static long write_hostname(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    size_t len = n;
    if (len && buf[len - 1] == '\n')
        len--;
    long r = uts_set_nodename(buf, len);
    return r ? r : (long)n;
}

static int gen_domainname(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct utsname_k u;
    uts_get(&u);
    sb_printf(s, "%s\n", u.domainname);
    return 0;
}

static long write_domainname(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    size_t len = n;
    if (len && buf[len - 1] == '\n')
        len--;
    long r = uts_set_domainname(buf, len);
    return r ? r : (long)n;
}

/* /proc/sys/kernel/core_pattern and core_uses_pid (core(5); root writes:
 * the files are 0644), and /proc/PID/coredump_filter (hex bits). */
static int gen_core_pattern(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%s\n", coredump_pattern());
    return 0;
}

static long write_core_pattern(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    size_t len = n;
    if (len && buf[len - 1] == '\n')
        len--;
    long r = coredump_set_pattern(buf, len);
    return r ? r : (long)n;
}

static int gen_core_uses_pid(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%d\n", coredump_uses_pid());
    return 0;
}

/* A number in base 10 or 16 (an optional 0x), an optional newline after. */
static bool parse_long(const char *buf, size_t n, int base, long *out)
{
    size_t len = n && buf[n - 1] == '\n' ? n - 1 : n, i = 0;
    if (base == 16 && len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
        i = 2;
    if (i >= len || len - i > 15)
        return false;
    long v = 0;
    for (; i < len; i++) {
        char ch = buf[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
                ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : 99;
        if (d >= base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static long write_core_uses_pid(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    long v;
    if (!parse_long(buf, n, 10, &v))
        return -EINVAL;
    coredump_set_uses_pid(v != 0);
    return (long)n;
}

static int gen_coredump_filter(struct sbuf *s, const struct pctx *c)
{
    struct mm *mm = mm_of(c);
    if (!mm)
        return -ESRCH;
    sb_printf(s, "%08x\n", mm->coredump_filter);
    return 0;
}

static long write_coredump_filter(const struct pctx *c, const char *buf, size_t n)
{
    long v;
    if (!parse_long(buf, n, 16, &v) || v < 0 || v > 0xffffffffl)
        return -EINVAL;
    struct mm *mm = mm_of(c);
    if (!mm)
        return -ESRCH;
    mm->coredump_filter = (uint32_t)v & 0x1ff;      /* the bits Linux knows */
    return (long)n;
}

static int gen_osrelease(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct utsname_k u;
    uts_get(&u);
    sb_printf(s, "%s\n", u.release);
    return 0;
}

static int gen_ostype(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct utsname_k u;
    uts_get(&u);
    sb_printf(s, "%s\n", u.sysname);
    return 0;
}

static int gen_kversion(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    struct utsname_k u;
    uts_get(&u);
    sb_printf(s, "%s\n", u.version);
    return 0;
}

static int gen_pid_max(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%d\n", PID_MAX_VIGIL); return 0; }
/* printk: syslog(2)'s console levels (sys_misc.c): console, default,
 * minimum, default console. Root writes one to four of them. */
extern int printk_levels[4];
static int gen_printk(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%d\t%d\t%d\t%d\n", printk_levels[0], printk_levels[1], printk_levels[2],
              printk_levels[3]);
    return 0;
}

static long write_printk(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    int v[4], k = 0;
    size_t i = 0;
    while (k < 4) {
        while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        if (i >= n || buf[i] < '0' || buf[i] > '9')
            break;
        int x = 0;
        for (; i < n && buf[i] >= '0' && buf[i] <= '9' && x < 1000; i++)
            x = x * 10 + (buf[i] - '0');
        v[k++] = x;
    }
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n'))
        i++;
    if (!k || i < n)
        return -EINVAL;
    for (int j = 0; j < k; j++)
        printk_levels[j] = v[j];
    return (long)n;
}

/* ns_last_pid: the pid handed out last; root writes it to choose the next
 * one (checkpoint/restore tools, and LTP's pid-reuse tests). */
static int gen_last_pid(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%d\n", proc_last_pid()); return 0; }
static long write_last_pid(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    long v = 0;
    size_t i = 0;
    for (; i < n && buf[i] >= '0' && buf[i] <= '9' && v <= 4194304; i++)
        v = v * 10 + (buf[i] - '0');
    if (!i || (i < n && buf[i] != '\n'))
        return -EINVAL;
    long r = proc_set_last_pid(v);
    return r ? r : (long)n;
}
/* Linux's taint flags: none (LTP reads them before and after a test). */
static int gen_tainted(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "0\n"); return 0; }
static int gen_threads_max(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%d\n", proc_threads_max()); return 0; }
static int gen_file_max(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "9223372036854775807\n"); return 0; }
static int gen_overcommit(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "0\n"); return 0; }

static void uuid_text(struct sbuf *s, const uint8_t r[16])
{
    for (int i = 0; i < 16; i++)
        sb_printf(s, "%02x%s", r[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
    sb_write(s, "\n", 1);
}

static void uuid_random(uint8_t r[16])
{
    random_bytes(r, 16);
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);         /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);         /* variant 1 */
}

static int gen_boot_id(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    static uint8_t id[16];                          /* [klock] one per boot */
    static bool made;
    if (!made) {
        uuid_random(id);
        made = true;
    }
    uuid_text(s, id);
    return 0;
}

static int gen_uuid(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    uint8_t r[16];
    uuid_random(r);
    uuid_text(s, r);
    return 0;
}

static int gen_entropy(struct sbuf *s, const struct pctx *c) { (void)c; sb_printf(s, "%d\n", RANDOM_ENTROPY_BITS); return 0; }

/* ---- links ---- */

static long link_self(const struct pctx *c, char *buf, size_t n)
{
    (void)c;
    char t[16];
    snprintf(t, sizeof(t), "%d", current()->tgid);
    return copy_link(t, buf, n);
}

static long link_thread_self(const struct pctx *c, char *buf, size_t n)
{
    (void)c;
    char t[32];
    snprintf(t, sizeof(t), "%d/task/%d", current()->tgid, current()->pid);
    return copy_link(t, buf, n);
}

static long link_mounts(const struct pctx *c, char *buf, size_t n) { (void)c; return copy_link("self/mounts", buf, n); }

/* ---- the tables ---- */

#define FILE(nm, g) { .name = nm, .mode = S_IFREG | 0444, .gen = g }
#define RWFILE(nm, g, w) { .name = nm, .mode = S_IFREG | 0644, .gen = g, .write = w }
#define LINK(nm, l, fl) { .name = nm, .mode = S_IFLNK | 0777, .link = l, .flags = fl }
#define DIR(nm, s) { .name = nm, .mode = S_IFDIR | 0555, .kind = PD_TABLE, .sub = s }

static const struct pent fd_link = { .name = "fd", .mode = S_IFLNK | 0700, .link = link_fd,
                                     .follow = follow_fd, .flags = PE_PTRACE };
static const struct pent fdinfo_file = { .name = "fdinfo", .mode = S_IFREG | 0400, .gen = gen_fdinfo, .flags = PE_PTRACE };
extern const struct pent proc_pid_dir, proc_task_dir;

static const struct pent pid_ents[] = {
    FILE("stat", gen_stat),
    FILE("statm", gen_statm),
    FILE("status", gen_status),
    FILE("cmdline", gen_cmdline),
#ifdef BREAK_PROC_PERM
    { .name = "environ", .mode = S_IFREG | 0444, .gen = gen_environ, .flags = PE_PTRACE },
#else
    { .name = "environ", .mode = S_IFREG | 0400, .gen = gen_environ, .flags = PE_PTRACE },
#endif
    RWFILE("comm", gen_comm, write_comm),
    FILE("maps", gen_maps),
    { .name = "smaps", .mode = S_IFREG | 0444, .gen = gen_smaps, .flags = PE_PTRACE },
    { .name = "smaps_rollup", .mode = S_IFREG | 0444, .gen = gen_smaps_rollup, .flags = PE_PTRACE },
    { .name = "pagemap", .mode = S_IFREG | 0400, .rw = rw_pagemap, .flags = PE_PTRACE },
    { .name = "auxv", .mode = S_IFREG | 0400, .gen = gen_auxv, .flags = PE_PTRACE },
    { .name = "mem", .mode = S_IFREG | 0600, .rw = rw_mem, .flags = PE_PTRACE },
    { .name = "fd", .mode = S_IFDIR | 0500, .kind = PD_FDS, .child = &fd_link },
    { .name = "fdinfo", .mode = S_IFDIR | 0500, .kind = PD_FDINFOS, .child = &fdinfo_file },
    { .name = "exe", .mode = S_IFLNK | 0777, .link = link_exe, .follow = follow_exe, .flags = PE_PTRACE },
    { .name = "cwd", .mode = S_IFLNK | 0777, .link = link_cwd, .follow = follow_cwd, .flags = PE_PTRACE },
    LINK("root", link_root, PE_PTRACE),
    { .name = "mounts", .mode = S_IFREG | 0444, .gen = gen_mounts, .flags = PE_MOUNTS },
    { .name = "mountinfo", .mode = S_IFREG | 0444, .gen = gen_mountinfo, .flags = PE_MOUNTS },
    FILE("limits", gen_limits),
    RWFILE("oom_score_adj", gen_oom_adj, write_oom_adj),
    { .name = "coredump_filter", .mode = S_IFREG | 0644, .gen = gen_coredump_filter,
      .write = write_coredump_filter, .flags = PE_PROCESS },
    { .name = "timerslack_ns", .mode = S_IFREG | 0666, .gen = gen_timerslack, .write = write_timerslack,
      .flags = PE_PTRACE },
    FILE("oom_score", gen_oom_score),
    FILE("cgroup", gen_cgroup),
    FILE("wchan", gen_wchan),
    { .name = "syscall", .mode = S_IFREG | 0400, .gen = gen_syscall, .flags = PE_PTRACE },
    { .name = "task", .mode = S_IFDIR | 0555, .kind = PD_TASKS, .child = &proc_task_dir, .flags = PE_PROCESS },
    { .name = NULL },
};

const struct pent proc_pid_dir = { .name = "pid", .mode = S_IFDIR | 0555, .kind = PD_TABLE, .sub = pid_ents };
const struct pent proc_task_dir = { .name = "tid", .mode = S_IFDIR | 0555, .kind = PD_TABLE, .sub = pid_ents };

static const struct pent random_ents[] = {
    FILE("boot_id", gen_boot_id), FILE("uuid", gen_uuid), FILE("entropy_avail", gen_entropy),
    FILE("poolsize", gen_entropy), { .name = NULL },
};
static const struct pent kernel_ents[] = {
    RWFILE("hostname", gen_hostname, write_hostname), FILE("osrelease", gen_osrelease),
    RWFILE("domainname", gen_domainname, write_domainname),
    RWFILE("core_pattern", gen_core_pattern, write_core_pattern),
    RWFILE("core_uses_pid", gen_core_uses_pid, write_core_uses_pid),
    FILE("ostype", gen_ostype), FILE("version", gen_kversion), FILE("pid_max", gen_pid_max),
    RWFILE("printk", gen_printk, write_printk),
    { .name = "ns_last_pid", .mode = S_IFREG | 0666, .gen = gen_last_pid, .write = write_last_pid },
    FILE("tainted", gen_tainted),
    FILE("threads-max", gen_threads_max), DIR("random", random_ents), IPC_KERNEL_SYSCTLS,
    { .name = NULL },
};
static const struct pent inotify_ents[] = {
    RWFILE("max_queued_events", inotify_gen_queued, inotify_write_queued),
    RWFILE("max_user_instances", inotify_gen_instances, inotify_write_instances),
    RWFILE("max_user_watches", inotify_gen_watches, inotify_write_watches),
    { .name = NULL },
};
static const struct pent fs_ents[] = {
    FILE("file-max", gen_file_max), RWFILE("nr_open", fdtable_gen_nr_open, fdtable_write_nr_open),
    DIR("inotify", inotify_ents), DIR("mqueue", ipc_mqueue_ents),
    RWFILE("lease-break-time", lease_gen_break_time, lease_write_break_time),
    RWFILE("pipe-max-size", pipe_gen_max_size, pipe_write_max_size),
    RWFILE("pipe-user-pages-hard", pipe_gen_pages_hard, pipe_write_pages_hard),
    RWFILE("pipe-user-pages-soft", pipe_gen_pages_soft, pipe_write_pages_soft),
    { .name = NULL },
};
/* /proc/sys/vm/max_map_count: how many regions an address space may have. */
static int gen_max_map_count(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%d\n", vm_max_map_count);
    return 0;
}

static long write_max_map_count(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    long v;
    if (!parse_long(buf, n, 10, &v) || v > 0x7fffffffl)
        return -EINVAL;
    vm_max_map_count = (int)v;
    return (long)n;
}

/* /proc/sys/vm/mmap_min_addr: the lowest address anyone but root may map. */
static int gen_mmap_min_addr(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "%lu\n", vm_mmap_min_addr);
    return 0;
}

static long write_mmap_min_addr(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    long v;
    if (!parse_long(buf, n, 10, &v) || v < 0)
        return -EINVAL;
    vm_mmap_min_addr = ALIGN_UP((unsigned long)v, PAGE_SIZE);   /* as Linux rounds it */
    return (long)n;
}

/* /proc/sys/vm/drop_caches (write-only, root): 1 frees the clean page
 * cache (file pages nobody maps) and the clean buffers, 2 the unused
 * inodes (Vigil keeps none: an inode goes with its last reference), 3
 * both; 4 silences the console line that says who asked (Linux's
 * values and its line). Nothing dirty is dropped: run sync first. */
static bool drop_caches_quiet;          /* [klock] 4 was written */

static int gen_drop_caches(struct sbuf *s, const struct pctx *c)
{
    (void)s, (void)c;
    return -EACCES;                     /* as Linux: mode 0200, not even root reads it */
}

static long write_drop_caches(const struct pctx *c, const char *buf, size_t n)
{
    (void)c;
    long v;
    if (!parse_long(buf, n, 10, &v) || v < 1 || v > 4)
        return -EINVAL;
    if (v & 1) {
        filemap_shrink(UINT64_MAX);
        bcache_drop_clean();
    }
    if (v & 4)
        drop_caches_quiet = true;
    if (!drop_caches_quiet)
        kprintf("%s (%d): drop_caches: %ld\n", current()->name, current()->tgid, v);
    return (long)n;
}

static const struct pent vm_ents[] = {
    FILE("overcommit_memory", gen_overcommit),
    RWFILE("max_map_count", gen_max_map_count, write_max_map_count),
    RWFILE("mmap_min_addr", gen_mmap_min_addr, write_mmap_min_addr),
    { .name = "drop_caches", .mode = S_IFREG | 0200, .gen = gen_drop_caches, .write = write_drop_caches },
    { .name = NULL },
};
static const struct pent vigil_ents[] = {
    { .name = "schedtrace", .mode = S_IFREG | 0600, .gen = gen_schedtrace, .write = write_schedtrace },
    { .name = "kheap", .mode = S_IFREG | 0600, .gen = gen_kheap, .write = write_kheap },
    { .name = NULL },
};
static const struct pent sys_ents[] = {
    DIR("kernel", kernel_ents), DIR("fs", fs_ents), DIR("vm", vm_ents), { .name = NULL },
};

static const struct pent root_ents[] = {
    LINK("self", link_self, 0),
    LINK("thread-self", link_thread_self, 0),
    LINK("mounts", link_mounts, 0),
    { .name = "meminfo", .mode = S_IFREG | 0444, .gen = gen_meminfo, .flags = PE_AT_OPEN },
    FILE("cpuinfo", gen_cpuinfo),
    FILE("vmstat", gen_vmstat),
    FILE("uptime", gen_uptime),
    FILE("loadavg", gen_loadavg),
    FILE("stat", gen_stat_global),
    FILE("version", gen_version),
    FILE("cmdline", gen_cmdline_k),
    FILE("filesystems", gen_filesystems),
    FILE("swaps", gen_swaps),
    FILE("devices", gen_devices),
    DIR("sys", sys_ents),
    DIR("sysvipc", ipc_sysvipc_ents),
    DIR("vigil", vigil_ents),
    { .name = NULL },
};

static const struct pent proc_root = {
    .name = "/", .mode = S_IFDIR | 0555, .kind = PD_PROCS, .sub = root_ents, .child = &proc_pid_dir,
};

struct super *procfs_super(void)
{
    static struct super *sb;
    if (!sb)
        sb = pseudofs_new("proc", 0x4, &proc_root);
    return sb;
}

static void mount_on(const char *path, struct super *sb)
{
    struct inode *dir;
    int r = sb ? vfs_lookup(NULL, path, LOOKUP_FOLLOW, &dir) : -ENOMEM;
    if (!r) {
        r = vfs_mount(sb, dir, path);
        iput(dir);
    }
    if (r)
        kprintf("vigil: no %s (error %d)\n", path, r);
}

void procfs_mount_boot(void)
{
    mount_on("/proc", procfs_super());
    mount_on("/sys", sysfs_super());
}
