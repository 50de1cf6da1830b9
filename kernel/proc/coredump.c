/* proc/coredump.c - a process killed by a signal whose default action is
 * "core" leaves an ELF core file behind (core(5)).
 *
 * Why: a core file is the one record of a crash a developer gets after
 * the fact. gdb loads it beside the program (`gdb PROG core`, then `bt`),
 * and to do that it needs what Linux writes: an ELF file of type ET_CORE
 * whose PT_NOTE segment holds the registers (NT_PRSTATUS, NT_PRFPREG), who
 * the process was (NT_PRPSINFO, NT_SIGINFO), its auxiliary vector (NT_AUXV:
 * how gdb finds the dynamic loader's r_debug and so the libraries) and the
 * files it had mapped (NT_FILE), then one PT_LOAD per region with its
 * bytes. And the parent learns that a core was written: the 0x80 bit of
 * the wait status (WCOREDUMP), CLD_DUMPED for waitid.
 *
 * What is written follows Linux's rules, so the same program leaves the
 * same file on both:
 *   - only if the process is dumpable (not after exec of set-id programs:
 *     prctl PR_GET_DUMPABLE) and RLIMIT_CORE is at least a page; the file
 *     stops where the next write would pass RLIMIT_CORE (bytes written:
 *     pages never touched are holes and cost nothing) and still counts as
 *     dumped, as on Linux 6.x; a write that fails means no WCOREDUMP;
 *   - the name is /proc/sys/kernel/core_pattern with its % specifiers
 *     (%p %P %i %I %u %g %s %t %h %e %E %c %d %%), ".PID" appended when
 *     core_uses_pid is set and the pattern has no %p; relative to the
 *     dying process's working directory; an existing file of that name is
 *     replaced, and the new one is the process's (0600). A pattern that
 *     starts with '|' (a pipe to a program) is not supported: no core;
 *   - which regions have bytes (/proc/PID/coredump_filter, 0x33 by
 *     default): anonymous private memory, shared anonymous memory, private
 *     file mappings written to (a private copy), the first page of an ELF
 *     file mapped from offset 0 (gdb checks build ids); never a region
 *     marked MADV_DONTDUMP. The others get a PT_LOAD with no file bytes.
 * Only the thread that took the signal is described (one NT_PRSTATUS): its
 * siblings are killed first, as Linux's zap_threads does, and their
 * registers are not kept. */
#include "proc.h"
#include "../mm/mm.h"
#include "../fs/vfs.h"
#include "../fs/file.h"
#include "../sys/sys.h"
#include "../sys/syscall.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/errno.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/arch.h"

/* ---- the knobs: /proc/sys/kernel/core_pattern, core_uses_pid ---- */

static char core_pattern[128] = "core";     /* [klock] */
static int core_uses_pid;                   /* [klock] */

const char *coredump_pattern(void) { return core_pattern; }
int coredump_uses_pid(void) { return core_uses_pid; }

int coredump_set_pattern(const char *s, size_t n)
{
    if (n >= sizeof(core_pattern))
        return -EINVAL;
    memcpy(core_pattern, s, n);
    core_pattern[n] = 0;
    return 0;
}

void coredump_set_uses_pid(int v) { core_uses_pid = v; }

/* ---- ELF (the System V gABI, and Linux's elf.h for the notes: lib/abi.h) ---- */

/* struct elf_prstatus of x86-64 (336 bytes). */
struct prstatus {
    int32_t si_signo, si_code, si_errno;
    int16_t cursig;
    uint16_t pad0;
    uint64_t sigpend, sighold;
    int32_t pid, ppid, pgrp, sid;
    uint64_t utime[2], stime[2], cutime[2], cstime[2];     /* timevals */
    uint64_t reg[27];                                       /* struct user_regs_struct */
    int32_t fpvalid;
    uint32_t pad1;
};
_Static_assert(sizeof(struct prstatus) == 336, "elf_prstatus is 336 bytes on x86-64");

/* struct elf_prpsinfo of x86-64 (136 bytes). */
struct prpsinfo {
    char state, sname, zomb, nice;
    uint32_t pad0;
    uint64_t flag;
    uint32_t uid, gid;
    int32_t pid, ppid, pgrp, sid;
    char fname[16];
    char psargs[80];
};
_Static_assert(sizeof(struct prpsinfo) == 136, "elf_prpsinfo is 136 bytes on x86-64");

/* ---- what to dump of each region ---- */

struct region {
    uintptr_t start, end;
    uint32_t prot;
    uint64_t pgoff;
    uint64_t dump;              /* bytes of it in the file: 0, a page, or all */
    bool file;                  /* read absent pages from the file (not holes) */
    char *path;                 /* NT_FILE's name (kmalloc'd) or NULL */
};

struct has_copy_arg {
    struct vma *v;
    bool found;
};

/* A private copy in a private file mapping: the region was written to. */
static void has_copy_leaf(pte_t *pte, uintptr_t va, void *arg)
{
    struct has_copy_arg *a = arg;
    uint64_t cached;
    if (is_swap_entry(*pte) ||
        !filemap_peek(a->v->file->inode, a->v->pgoff + (va - a->v->start) / PAGE_SIZE, &cached) ||
        cached != (*pte & PTE_ADDR))
        a->found = true;
}

static bool elf_at_start(struct mm *mm, struct vma *v)
{
    uint8_t magic[4];
    return v->pgoff == 0 && (v->prot & VM_READ) && v->file->inode->size >= 4 &&
           !mm_read(mm, v->start, magic, 4) && !memcmp(magic, "\177ELF", 4);
}

/* Linux's vma_dump_size, by coredump_filter's bits: 0 anonymous private,
 * 1 anonymous shared, 2 file private, 3 file shared, 4 ELF headers. */
static uint64_t dump_size(struct mm *mm, struct vma *v, uint32_t filter)
{
    uint64_t whole = v->end - v->start;
    if (v->flags & VMA_DONTDUMP)
        return 0;
    if (!v->file)
        return (filter & 1) ? whole : 0;
    bool shm = !filemap_reclaimable(v->file->inode);
    if (v->flags & VMA_SHARED)
        return (filter & (shm ? 2 : 8)) ? whole : 0;
    struct has_copy_arg a = { v, false };
    vmm_range_walk_all(mm->root, v->start, v->end, has_copy_leaf, &a);
    if ((a.found && (filter & 1)) || (filter & 4))
        return whole;
    if ((filter & 16) && elf_at_start(mm, v))
        return PAGE_SIZE;
    return 0;
}

/* ---- the notes ---- */

struct notes {
    uint8_t *buf;
    size_t len, cap;
};

static void note(struct notes *n, uint32_t type, const void *desc, size_t size)
{
    size_t need = 12 + 8 + ALIGN_UP(size, 4);
    if (n->len + need > n->cap)
        return;                                 /* sized beforehand: cannot happen */
    uint32_t hdr[3] = { 5, (uint32_t)size, type };
    memcpy(n->buf + n->len, hdr, 12);
    memcpy(n->buf + n->len + 12, "CORE\0\0\0\0", 8);
    memcpy(n->buf + n->len + 20, desc, size);
    memset(n->buf + n->len + 20 + size, 0, ALIGN_UP(size, 4) - size);
    n->len += need;
}

/* ---- the name ---- */

static void put(char *out, size_t *at, size_t cap, const char *s)
{
    while (*s && *at + 1 < cap)
        out[(*at)++] = *s++;
}

static void put_num(char *out, size_t *at, size_t cap, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof(tmp), "%lu", v);
    put(out, at, cap, tmp);
}

static void expand_pattern(char *out, size_t cap, const struct proc_view *v, int sig,
                           const struct mm *mm, uint64_t limit)
{
    size_t at = 0;
    bool had_pid = false;
    for (const char *s = core_pattern; *s; s++) {
        if (*s != '%') {
            if (at + 1 < cap)
                out[at++] = *s;
            continue;
        }
        switch (*++s) {
        case 0: s--; break;
        case '%': put(out, &at, cap, "%"); break;
        case 'p': case 'P': put_num(out, &at, cap, (uint64_t)v->tgid); had_pid = true; break;
        case 'i': case 'I': put_num(out, &at, cap, (uint64_t)v->pid); break;
        case 'u': put_num(out, &at, cap, v->uid); break;
        case 'g': put_num(out, &at, cap, v->gid); break;
        case 's': put_num(out, &at, cap, (uint64_t)sig); break;
        case 't': put_num(out, &at, cap, time_realtime_ns() / 1000000000ull); break;
        case 'c': put_num(out, &at, cap, limit); break;
        case 'd': put_num(out, &at, cap, 1); break;
        case 'h': {
            struct utsname_k u;
            uts_get(&u);
            put(out, &at, cap, u.nodename);
            break;
        }
        case 'e': {
            char name[17];
            memcpy(name, v->name, 16);
            name[16] = 0;
            for (char *c = name; *c; c++)
                if (*c == '/')
                    *c = '!';
            put(out, &at, cap, name);
            break;
        }
        case 'E':
            for (const char *c = mm->exe_path; *c && at + 1 < cap; c++)
                out[at++] = *c == '/' ? '!' : *c;
            break;
        default: break;                         /* an unknown specifier: dropped, as Linux */
        }
    }
    if (core_uses_pid && !had_pid) {
        put(out, &at, cap, ".");
        put_num(out, &at, cap, (uint64_t)v->tgid);
    }
    out[at] = 0;
}

/* ---- the file ---- */

struct out {
    struct inode *ino;
    uint64_t pos, written, limit;
    bool failed;                /* a write failed: no core after all */
    bool full;                  /* RLIMIT_CORE reached: the rest is left out */
};

static void emit(struct out *o, const void *buf, size_t n)
{
    if (o->failed || o->full || !n)
        return;
    if (o->written + n > o->limit) {
        /* As Linux 6.x: the core stops here, cut short, and still counts
         * as dumped (WCOREDUMP). */
        o->full = true;
        return;
    }
    long r = filemap_write(o->ino, o->pos, buf, n);
    if (r != (long)n) {
        o->failed = true;
        return;
    }
    o->pos += n;
    o->written += n;
}

/* Replace dir's entry name with a new regular file of the process's, 0600. */
static struct inode *create_core(const char *path)
{
    struct inode *dir = NULL, *ino = NULL;
    const char *name;
    size_t len;
    if (parent_for_change(AT_FDCWD, path, &dir, &name, &len) || !len) {
        iput(dir);
        return NULL;
    }
    if (dir->ops->unlink && !sb_ro(dir))
        dir->ops->unlink(dir, name, len, false);
    if (!dir->ops->create || sb_ro(dir) ||
        dir->ops->create(dir, name, len, S_IFREG | 0600, NULL, &ino))
        ino = NULL;
    iput(dir);
    if (ino && (!S_ISREG(ino->mode) || !ino->ops->write)) {
        iput(ino);
        ino = NULL;
    }
    return ino;
}

/* The regions of mm, copied (the dump sleeps in writes: the list may
 * change meanwhile, the copy does not); NULL if out of memory. */
static struct region *regions_of(struct mm *mm, uint32_t filter, int *n)
{
    int count = 0;
    for (struct vma *v = mm->vmas; v; v = v->next)
        count++;
    struct region *r = kzalloc((size_t)(count ? count : 1) * sizeof(*r));
    if (!r)
        return NULL;
    int i = 0;
    for (struct vma *v = mm->vmas; v && i < count; v = v->next, i++) {
        r[i] = (struct region){ .start = v->start, .end = v->end, .prot = v->prot,
                                .pgoff = v->pgoff, .file = v->file != NULL };
        if (v->file && v->file->path) {
            size_t len = strlen(v->file->path) + 1;
            if ((r[i].path = kmalloc(len)))
                memcpy(r[i].path, v->file->path, len);
        }
    }
    /* Decided after the copy: dump_size may read a page, which may sleep. */
    for (int k = 0; k < i; k++) {
        struct vma *v = mm->vmas;
        while (v && v->end <= r[k].start)
            v = v->next;
        if (v && v->start == r[k].start && v->end == r[k].end)
            r[k].dump = dump_size(mm, v, filter);
    }
    *n = i;
    return r;
}

static void write_region(struct out *o, struct mm *mm, const struct region *r, uint8_t *page)
{
    for (uintptr_t va = r->start; va < r->start + r->dump && !o->failed && !o->full;
         va += PAGE_SIZE) {
        pte_t *pte = vmm_walk(mm->root, va, false);
        bool there = pte && ((*pte & PTE_P) || is_swap_entry(*pte));
        /* A page never touched is a hole (a zero page, as Linux skips it);
         * a file page not mapped is read from the file. */
        if ((!there && !r->file) || mm_read(mm, va, page, PAGE_SIZE)) {
            o->pos += PAGE_SIZE;
            continue;
        }
        emit(o, page, PAGE_SIZE);
    }
}

void ptrace_user_regs(struct proc *t, uint64_t out[27]);

bool coredump_write(int sig, int code, uint64_t addr)
{
    struct proc *p = current();
    struct mm *mm = p->mm;
    uint64_t limit = p->leader->rlim[RLIMIT_CORE].cur;
#ifdef BREAK_CORE_LIMIT
    limit = RLIM_INFINITY;                      /* the break switch: RLIMIT_CORE ignored */
#endif
    /* INVARIANT(privilege separation): a process's core file stays within
     * its RLIMIT_CORE (under a page: none at all), and a process made
     * undumpable (set-id exec) leaves none. */
    if (!mm || !p->leader->dumpable || limit < PAGE_SIZE || core_pattern[0] == '|' ||
        !core_pattern[0] || p->tgid == 1)
        return false;
    struct proc_view v;
    if (proc_view(p->pid, true, &v))
        return false;
    /* The registers first: the FPU's are live only until this thread sleeps. */
    struct scratch {
        struct fpu_state fpu;
        struct prstatus st;
        struct prpsinfo ps;
        uint8_t aux[1024];
    } *k = kzalloc(sizeof(*k));
    if (!k)
        return false;
    fpu_save(&k->fpu);
    k->st = (struct prstatus){
        .si_signo = sig, .cursig = (int16_t)sig, .sigpend = v.sig_pending,
        .sighold = p->sig_blocked, .pid = p->pid, .ppid = v.ppid, .pgrp = v.pgid, .sid = v.sid,
        .fpvalid = 1,
    };
    uint64_t hz = timer_hz() ? timer_hz() : 100;
    k->st.utime[0] = v.utime / hz, k->st.utime[1] = v.utime % hz * 1000000 / hz;
    k->st.stime[0] = v.stime / hz, k->st.stime[1] = v.stime % hz * 1000000 / hz;
    ptrace_user_regs(p, k->st.reg);

    char *name = kmalloc(PATH_MAX);
    uint8_t *page = kmalloc(PAGE_SIZE);
    int n = 0;
    struct region *r = name && page ? regions_of(mm, mm->coredump_filter, &n) : NULL;
    struct notes nb = { 0 };
    bool ok = false;
    if (!r)
        goto out;

    /* The notes, sized first. */
    size_t files = 0, names = 0;
    for (int i = 0; i < n; i++)
        if (r[i].path) {
            files++;
            names += strlen(r[i].path) + 1;
        }
    size_t auxv_len = mm->auxv_end > mm->auxv_start ? MIN(mm->auxv_end - mm->auxv_start, 1024ul) : 0;
    size_t file_len = 16 + files * 24 + names;
    nb.cap = 6 * 20 + sizeof(k->st) + 512 + sizeof(struct prpsinfo) + 128 + ALIGN_UP(auxv_len, 4) +
             ALIGN_UP(file_len, 4) + 64;
    if (!(nb.buf = kzalloc(nb.cap)))
        goto out;
    note(&nb, NT_PRSTATUS, &k->st, sizeof(k->st));
    struct prpsinfo *ps = &k->ps;
    *ps = (struct prpsinfo){ .state = 0, .sname = 'R', .nice = (char)v.nice, .uid = v.uid,
                           .gid = v.gid, .pid = v.tgid, .ppid = v.ppid, .pgrp = v.pgid,
                           .sid = v.sid };
    memcpy(ps->fname, v.name, sizeof(ps->fname));
    if (mm->arg_end > mm->arg_start) {
        size_t len = MIN(mm->arg_end - mm->arg_start, sizeof(ps->psargs) - 1);
        if (!mm_read(mm, mm->arg_start, ps->psargs, len))
            for (size_t i = 0; i + 1 < len; i++)
                if (!ps->psargs[i])
                    ps->psargs[i] = ' ';        /* argv joined by spaces, as ps shows it */
    }
    note(&nb, NT_PRPSINFO, ps, sizeof(*ps));
    int32_t si[32] = { sig, 0, code };          /* siginfo_t: signo, errno, code, ... */
    memcpy(&si[4], &addr, 8);                   /* si_addr (faults) */
    note(&nb, NT_SIGINFO, si, sizeof(si));
    if (auxv_len) {
        if (!mm_read(mm, mm->auxv_start, k->aux, auxv_len))
            note(&nb, NT_AUXV, k->aux, auxv_len);
    }
    if (files) {
        uint8_t *f = kzalloc(file_len);
        if (f) {
            uint64_t *w = (uint64_t *)f;
            w[0] = files, w[1] = PAGE_SIZE;
            size_t j = 0, at = 16 + files * 24;
            for (int i = 0; i < n; i++) {
                if (!r[i].path)
                    continue;
                w[2 + j * 3] = r[i].start, w[3 + j * 3] = r[i].end, w[4 + j * 3] = r[i].pgoff;
                j++;
                size_t len = strlen(r[i].path) + 1;
                memcpy(f + at, r[i].path, len);
                at += len;
            }
            note(&nb, NT_FILE, f, file_len);
            kfree(f);
        }
    }
    note(&nb, NT_PRFPREG, k->fpu.bytes, sizeof(k->fpu.bytes));

    expand_pattern(name, PATH_MAX, &v, sig, mm, limit);
    struct out o = { .ino = create_core(name), .limit = limit };
    if (!o.ino)
        goto out;
    /* ELF header, program headers (the notes, then a PT_LOAD per region),
     * the notes, then the regions' bytes from the next page on. */
    size_t hdrs = sizeof(struct elf64_ehdr) + (size_t)(n + 1) * sizeof(struct elf64_phdr);
    struct elf64_ehdr eh = {
        .ident = { 0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* current */ },
        .type = ET_CORE, .machine = EM_X86_64, .version = 1, .phoff = sizeof(eh),
        .ehsize = sizeof(eh), .phentsize = sizeof(struct elf64_phdr), .phnum = (uint16_t)(n + 1),
    };
    emit(&o, &eh, sizeof(eh));
    struct elf64_phdr ph = { .type = PT_NOTE, .offset = hdrs, .filesz = nb.len, .align = 4 };
    emit(&o, &ph, sizeof(ph));
    uint64_t off = ALIGN_UP(hdrs + nb.len, PAGE_SIZE);
    for (int i = 0; i < n; i++) {
        ph = (struct elf64_phdr){
            .type = PT_LOAD, .offset = off, .vaddr = r[i].start, .filesz = r[i].dump,
            .memsz = r[i].end - r[i].start, .align = PAGE_SIZE,
            .flags = (r[i].prot & VM_READ ? PF_R : 0) | (r[i].prot & VM_WRITE ? PF_W : 0) |
                     (r[i].prot & VM_EXEC ? PF_X : 0),
        };
        emit(&o, &ph, sizeof(ph));
        off += r[i].dump;
    }
    emit(&o, nb.buf, nb.len);
    o.pos = ALIGN_UP(hdrs + nb.len, PAGE_SIZE);
    for (int i = 0; i < n && !o.failed && !o.full; i++)
        write_region(&o, mm, &r[i], page);
    /* A file that ends in holes still has its whole size. */
    if (!o.failed && !o.full && o.ino->size < off && vfs_truncate(o.ino, off))
        o.failed = true;
    ok = !o.failed;
    iput(o.ino);
out:
    for (int i = 0; r && i < n; i++)
        kfree(r[i].path);
    kfree(r);
    kfree(nb.buf);
    kfree(page);
    kfree(name);
    kfree(k);
    return ok;
}
