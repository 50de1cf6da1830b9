/* proc/exec.c - replace a process's program with an ELF64 executable, as
 * Linux's execve(2) does, laying out the initial stack exactly as Linux does
 * (System V x86-64 ABI, 3.4.1), so that musl's and glibc's start-up code
 * run unchanged:
 *
 *   rsp -> argc, argv[0..argc-1], NULL, envp[...], NULL, auxv pairs, AT_NULL
 *          ... then (higher) the strings and AT_RANDOM's 16 bytes.
 *
 * Three kinds of file run:
 *  - a static ELF (ET_EXEC, or ET_DYN without PT_INTERP: a static PIE, put
 *    at PIE_BASE as Linux does with ASLR off);
 *  - a dynamic ELF (with PT_INTERP, e.g. Debian's /lib64/ld-linux-x86-64.so.2):
 *    the program goes at its own address (ET_EXEC) or PIE_BASE (ET_DYN), the
 *    interpreter where the first mmap of its size would go (just below
 *    USER_MMAP_BASE: Vigil has no ASLR, so always the same place), and the
 *    process starts at the interpreter's entry with AT_BASE, AT_PHDR, AT_ENTRY
 *    telling it where everything is. The break starts after the program's
 *    end, not the interpreter's.
 *  - a "#!" script: the interpreter named on its first line runs instead,
 *    with argv rewritten as Linux does (interpreter, the optional argument,
 *    the script's path, then the original argv[1..]); interpreters may be
 *    scripts themselves, five deep, then ELOOP.
 *
 * execveat(2) starts the lookup at a directory fd, or takes the file an fd
 * is open on (AT_EMPTY_PATH: fexecve); the program is then told its name is
 * "/dev/fd/N[/path]", and a script reached through a close-on-exec fd is
 * ENOENT (its interpreter could never open that name), as on Linux.
 *
 * Errors follow Linux's order, which has a point of no return: what Linux
 * checks before it (the headers, PT_INTERP, finding the interpreter and
 * reading its headers) fails execve with Linux's errno: ENOEXEC for a file
 * that is neither ELF nor "#!", ENOENT/EACCES for an interpreter not found or
 * not executable, EIO for a header cut short, ELIBBAD for an interpreter that
 * is not an x86-64 ELF. Past it (mapping the segments: a PT_LOAD past the
 * user range or past the end of the file, an unusable interpreter type) the
 * old image is already gone on Linux and the process dies by SIGSEGV; Vigil
 * builds the new image first and could return, but kills the process the
 * same way, so a program sees one behaviour on both (tests/test_exec.py runs
 * the same bad files on the host and compares). Like Linux, an interpreter's
 * own PT_INTERP is not looked at: it is loaded and run as it is. Every field
 * is checked before use: a malformed file never faults the kernel.
 *
 * Nothing is read whole: the headers are read where they lie, and each
 * PT_LOAD is a private mapping of the file (mm/filemap.c: its pages come
 * from the page cache and are copied only when written), so exec of a 7 MB
 * python3 touches only the pages it runs. The last file page of a segment
 * with a bss has its tail zeroed to the page's end, as Linux does (that
 * write makes it a private copy), the
 * bss beyond is anonymous demand-zero memory; a segment that shares a page
 * with one mapped before it is copied in instead. */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../arch/x86_64/cpu.h"
#include "../lib/random.h"
#include "../sys/syscall.h"

#define PIE_BASE 0x0000555555554000ul   /* where Linux puts a PIE with ASLR off */

#define ARG_MAX_BYTES (128 * 1024)
#define MAX_ARGS 1024
#define PATH_MAX_LINUX 4096         /* PT_INTERP's limit (Linux's PATH_MAX) */
#define SCRIPT_BUF 256              /* the bytes of a file Linux looks at for "#!" */
#define MAX_INTERP_DEPTH 5          /* interpreters that may be scripts, then ELOOP */
#define PHDRS_MAX_BYTES 65536       /* Linux refuses larger program header tables */

struct strvec {
    char *buf;                  /* all strings, NUL-separated */
    size_t len;
    int count;
};

/* Gather argv or envp (a user or kernel array of string pointers). */
static long collect(struct strvec *v, char *const arr[], bool from_user)
{
    v->count = 0;
    if (!arr)
        return 0;
    for (;;) {
        char *s;
        if (v->count >= MAX_ARGS)
            return -E2BIG;
        if (from_user) {
            if (copy_from_user(&s, &arr[v->count], sizeof(s)))
                return -EFAULT;
        } else {
            s = arr[v->count];
        }
        if (!s)
            return 0;
        size_t room = ARG_MAX_BYTES - v->len;
        long n;
        if (from_user) {
            n = strncpy_from_user(v->buf + v->len, s, room);
            if (n == -ENAMETOOLONG)
                return -E2BIG;
            if (n < 0)
                return n;
        } else {
            n = (long)strlen(s);
            if ((size_t)n >= room)
                return -E2BIG;
            memcpy(v->buf + v->len, s, (size_t)n + 1);
        }
        v->len += (size_t)n + 1;
        v->count++;
    }
}

/* Put s in front of v's strings. */
static long strvec_push_front(struct strvec *v, const char *s)
{
    size_t n = strlen(s) + 1;
    if (v->count >= MAX_ARGS || n > ARG_MAX_BYTES - v->len)
        return -E2BIG;
    memmove(v->buf + n, v->buf, v->len);
    memcpy(v->buf, s, n);
    v->len += n;
    v->count++;
    return 0;
}

static void strvec_drop_front(struct strvec *v)
{
    if (!v->count)
        return;
    size_t n = strlen(v->buf) + 1;
    memmove(v->buf, v->buf + n, v->len - n);
    v->len -= n;
    v->count--;
}

/* One executable file: its inode (a reference), its ELF header and an
 * aligned copy of its program headers once they are read. Nothing is read
 * whole: the headers are read where they are, the segments are mapped. */
struct exec_file {
    struct inode *ino;
    char *name;                 /* its absolute path (vfs_abspath), what maps shows */
    size_t size;
    struct elf64_ehdr eh;
    struct elf64_phdr *ph;
    bool denied;                /* holds a denial of writing (vfs_deny_write_access) */
};

/* What exec has in hand, and the paths it follows. */
struct exec_state {
    char path[256];             /* the file being looked at (script, interpreter...) */
    char execfn[256];           /* the path execve was given: AT_EXECFN, the name */
    char script_interp[SCRIPT_BUF], script_arg[SCRIPT_BUF];
    char elf_interp[256];       /* PT_INTERP's path */
    uint8_t head[SCRIPT_BUF];   /* the first bytes of the file (for "#!") */
    /* execveat: where the first lookup starts (NULL: the cwd), or the file
     * itself (AT_EMPTY_PATH); lookup flags; and whether the /dev/fd/N name
     * the program gets dies with the exec (its fd is close-on-exec). */
    struct inode *start_dir, *start_file;
    int lookup_flags;
    bool path_inaccessible;
    struct exec_file prog, interp;
    struct strvec args, envs;
    uint32_t euid, egid;        /* the new program's effective ids (exec_creds) */
    bool secure;                /* ... and whether its file is set-ID for it (AT_SECURE) */
};

/* Up to n bytes of ino from off: the count (short only at the end of the
 * file) or -errno. */
static long read_at(struct inode *ino, uint64_t off, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n && off + done < ino->size) {
        long r = filemap_read(ino, off + done, (uint8_t *)buf + done, n - done);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (long)done;
}

/* Find the executable file at path (from dir, NULL: the cwd): -ENOENT...,
 * -ELOOP for a symlink not to be followed, -EACCES if it is not a regular
 * file we may execute. */
static long open_exec_file(struct inode *dir, const char *path, int lookup_flags,
                           struct exec_file *f)
{
    struct inode *ino;
    long r = vfs_lookup(dir ? dir : current()->fs->cwd, path, lookup_flags, &ino);
    if (r)
        return r;
    if (S_ISLNK(ino->mode)) {
        iput(ino);
        return -ELOOP;                              /* AT_SYMLINK_NOFOLLOW */
    }
    if (!S_ISREG(ino->mode) || vfs_permission(ino, MAY_EXEC)) {
        iput(ino);
        return -EACCES;                             /* a directory, or not executable by us */
    }
    if ((r = vfs_deny_write_access(ino))) {
        iput(ino);
        return r;                                   /* ETXTBSY: open for writing */
    }
    f->denied = true;
    f->ino = ino;
    f->size = ino->size;
    f->name = vfs_abspath(current()->fs->cwd_path, path);
    return 0;
}

static void exec_file_drop(struct exec_file *f)
{
    if (f->ino && f->denied)
        vfs_allow_write_access(f->ino);
    if (f->ino)
        iput(f->ino);
    kfree(f->name);
    kfree(f->ph);
    memset(f, 0, sizeof(*f));
}

/* Read f's program header table (whole, inside the file, at most Linux's
 * 64 KiB) into f->ph: 0, or false if it cannot be. */
static bool read_phdrs(struct exec_file *f)
{
    size_t bytes = (size_t)f->eh.phnum * sizeof(struct elf64_phdr);
    if (f->eh.phentsize != sizeof(struct elf64_phdr) || f->eh.phnum == 0 ||
        bytes > PHDRS_MAX_BYTES || f->eh.phoff > f->size || bytes > f->size - f->eh.phoff)
        return false;
    if (!(f->ph = kmalloc(bytes)))
        return false;
    return read_at(f->ino, f->eh.phoff, f->ph, bytes) == (long)bytes;
}

static bool space_or_tab(char c) { return c == ' ' || c == '\t'; }

/* The "#!" line, as execve(2) describes it: "#!interpreter [optional-arg]",
 * within the first SCRIPT_BUF bytes; everything after the interpreter's name
 * (trimmed) is the one optional argument. A line cut short by the limit is
 * fine unless the interpreter's name itself is cut. 0 or -ENOEXEC. */
static long parse_script(const uint8_t *img, size_t size, char *interp, char *arg)
{
    char line[SCRIPT_BUF + 1];
    memset(line, 0, sizeof(line));
    memcpy(line, img, MIN(size, (size_t)SCRIPT_BUF));
    size_t last = SCRIPT_BUF - 1;                   /* the last byte used, as Linux */
    size_t end = 2;
    while (end < last && line[end] != '\n')
        end++;
    if (line[end] != '\n') {
        /* No end of line in sight: the name must end inside the buffer. */
        size_t i = 2;
        while (i < last && space_or_tab(line[i]))
            i++;
        if (i >= last)
            return -ENOEXEC;
        while (i < last && line[i] && !space_or_tab(line[i]))
            i++;
        if (i >= last)
            return -ENOEXEC;
        end = last;
    }
    line[end] = 0;
    while (end > 2 && space_or_tab(line[end - 1]))
        line[--end] = 0;
    size_t i = 2;
    while (space_or_tab(line[i]))
        i++;
    if (!line[i])
        return -ENOEXEC;
    size_t name = i;
    while (line[i] && !space_or_tab(line[i]))
        i++;
    size_t name_end = i;
    while (line[i] && space_or_tab(line[i]))
        i++;
    strlcpy(arg, line + i, SCRIPT_BUF);
    line[name_end] = 0;
    strlcpy(interp, line + name, SCRIPT_BUF);
    return 0;
}

static uint32_t prot_of(uint32_t pflags)
{
    return (pflags & PF_R ? VM_READ : 0) | (pflags & PF_W ? VM_WRITE : 0) | (pflags & PF_X ? VM_EXEC : 0);
}

/* The checks Linux makes before its point of no return: the magic, the type,
 * the machine, and a program header table that can be read (EI_CLASS and
 * friends are not looked at, by Linux either). */
static bool header_ok(struct exec_file *f)
{
    const struct elf64_ehdr *eh = &f->eh;
    if (read_at(f->ino, 0, &f->eh, sizeof(f->eh)) != sizeof(f->eh) ||
        memcmp(eh->ident, "\x7f" "ELF", 4) || (eh->type != ET_EXEC && eh->type != ET_DYN) ||
        eh->machine != EM_X86_64)
        return false;
    return read_phdrs(f);
}

/* The span [lo, hi) of an ELF's PT_LOAD segments, page aligned; false if
 * there are none or they wrap around. */
static bool load_span(const struct elf64_ehdr *eh, const struct elf64_phdr *ph,
                      uintptr_t *lo, uintptr_t *hi)
{
    *lo = ~(uintptr_t)0;
    *hi = 0;
    for (int i = 0; i < eh->phnum; i++) {
        if (ph[i].type != PT_LOAD)
            continue;
        if (ph[i].vaddr + ph[i].memsz < ph[i].vaddr || ph[i].vaddr + ph[i].memsz > USER_TOP)
            return false;
        *lo = MIN(*lo, ALIGN_DOWN(ph[i].vaddr, PAGE_SIZE));
        *hi = MAX(*hi, ALIGN_UP(ph[i].vaddr + ph[i].memsz, PAGE_SIZE));
    }
    return *hi > *lo;
}

/* Anonymous memory over [start, end): segments may share a boundary page
 * (RELRO), so a page already there is widened to prot instead. */
static long map_anon(struct mm *mm, uintptr_t start, uintptr_t end, uint32_t prot)
{
    long r = mm_map(mm, start, end - start, prot);
    if (r == -EEXIST) {
        for (uintptr_t a = start; a < end && r != -ENOMEM; a += PAGE_SIZE)
            if ((r = mm_map(mm, a, PAGE_SIZE, prot)) == -EEXIST)
                r = mm_protect(mm, a, PAGE_SIZE, prot | mm_prot_at(mm, a));
        if (r == -EEXIST)
            r = 0;
    }
    return r;
}

/* The file's bytes [off, off+n) into mm at va, copied. */
static long copy_in(struct mm *mm, struct inode *ino, uintptr_t va, uint64_t off, size_t n)
{
    uint8_t *buf = kmalloc(PAGE_SIZE);
    if (!buf)
        return -ENOMEM;
    long r = 0;
    while (n && !r) {
        size_t chunk = MIN(n, PAGE_SIZE);
        r = read_at(ino, off, buf, chunk);
        if (r >= 0)
            r = r == (long)chunk ? mm_write(mm, va, buf, chunk) : -EIO;
        va += chunk, off += chunk, n -= chunk;
    }
    kfree(buf);
    return r;
}

static const uint8_t zero_page[PAGE_SIZE];

/* One PT_LOAD at va: its file bytes as a private mapping of the file (its
 * pages come from the page cache and are copied only when written), the
 * rest of the last file page zeroed (it holds the next bytes of the file),
 * and anonymous demand-zero memory for the bss beyond. A segment sharing a
 * page with one mapped before is copied instead. */
static long map_segment(struct mm *mm, struct exec_file *f, const struct elf64_phdr *p,
                        uintptr_t va, uint32_t prot)
{
    uintptr_t start = ALIGN_DOWN(va, PAGE_SIZE), end = ALIGN_UP(va + p->memsz, PAGE_SIZE);
    uintptr_t fend = p->filesz ? ALIGN_UP(va + p->filesz, PAGE_SIZE) : start;
    long r = 0;
    if (p->filesz) {
        struct file *file = vfs_open(iget(f->ino), O_RDONLY);
        if (!file) {
            iput(f->ino);
            return -ENOMEM;
        }
        if (f->name)
            file->path = vfs_abspath("/", f->name);     /* (a copy the file owns) */
        r = mm_map_file(mm, start, fend - start, prot, 0, file,
                        ALIGN_DOWN(p->offset, PAGE_SIZE) / PAGE_SIZE);
        file_close(file);
        if (r == -EEXIST) {
            if ((r = map_anon(mm, start, fend, prot)) ||
                (r = copy_in(mm, f->ino, va, p->offset, p->filesz)))
                return r;
        } else if (r) {
            return r;
        } else if (p->memsz > p->filesz && ((va + p->filesz) & (PAGE_SIZE - 1))) {
            /* To the end of the page, as Linux: ld.so's first allocations
             * take the rest of the page after its bss and expect zeros. */
            uintptr_t z = va + p->filesz;
            if ((r = mm_write(mm, z, zero_page, fend - z)))
                return r;
        }
    }
    return end > fend ? map_anon(mm, fend, end, prot) : 0;
}

/* Map the PT_LOAD segments into mm at bias. 0 and *top (the end of the
 * highest segment), or -errno. */
static long load_segments(struct mm *mm, struct exec_file *f, uintptr_t bias, uintptr_t *top_out)
{
    uintptr_t top = 0;
    for (int i = 0; i < f->eh.phnum; i++) {
        const struct elf64_phdr *p = &f->ph[i];
        if (p->type != PT_LOAD || p->memsz == 0)
            continue;
        if (p->filesz > p->memsz || p->offset > f->size || p->filesz > f->size - p->offset)
            return -ENOEXEC;
        if ((p->vaddr & (PAGE_SIZE - 1)) != (p->offset & (PAGE_SIZE - 1)))
            return -ENOEXEC;
        uintptr_t va = p->vaddr + bias;
        if (va < p->vaddr || va >= USER_TOP || p->memsz > USER_TOP - va || va < 0x10000)
            return -ENOEXEC;
        long r = map_segment(mm, f, p, va, prot_of(p->flags));
        if (r)
            return r;
        top = MAX(top, ALIGN_UP(va + p->memsz, PAGE_SIZE));
    }
    if (!top)
        return -ENOEXEC;
    *top_out = top;
    return 0;
}

/* Where the program headers are in memory: PT_PHDR if present, else inside
 * the segment that holds them in the file. */
static uintptr_t phdr_address(const struct elf64_ehdr *eh, const struct elf64_phdr *ph, uintptr_t bias)
{
    uintptr_t phdr_va = 0;
    for (int i = 0; i < eh->phnum; i++) {
        if (ph[i].type == PT_PHDR)
            return ph[i].vaddr + bias;
        if (!phdr_va && ph[i].type == PT_LOAD && ph[i].offset <= eh->phoff &&
            eh->phoff < ph[i].offset + ph[i].filesz)
            phdr_va = ph[i].vaddr + (eh->phoff - ph[i].offset) + bias;
    }
    return phdr_va;
}

/* What the auxiliary vector tells the program about where things are. */
struct image_info {
    uintptr_t phdr, entry, base;
    uint16_t phnum;
    uint32_t euid, egid;        /* the credentials the program will run with */
    bool secure;                /* AT_SECURE */
    uintptr_t vdso;             /* AT_SYSINFO_EHDR: where the vDSO's ELF header is */
};

/* Build the initial stack in mm; returns the user rsp or -errno. */
static long build_stack(struct mm *mm, struct strvec *args, struct strvec *envs,
                        const char *execfn, const struct image_info *ii)
{
    size_t stack = exec_stack_size();               /* RLIMIT_STACK */
    if (mm_map(mm, USER_STACK_TOP - stack, stack, VM_READ | VM_WRITE))
        return -ENOMEM;
    uintptr_t sp = USER_STACK_TOP;
    size_t fnlen = strlen(execfn) + 1;
    sp -= 8;                                        /* Linux leaves a NULL word on top */
    sp -= fnlen;
    uintptr_t execfn_va = sp;
    mm_write(mm, sp, execfn, fnlen);
    sp -= envs->len;
    uintptr_t env_va = sp;
    mm_write(mm, sp, envs->buf, envs->len);
    sp -= args->len;
    uintptr_t arg_va = sp;
    mm_write(mm, sp, args->buf, args->len);
    mm->arg_start = arg_va, mm->arg_end = arg_va + args->len;      /* for /proc/PID/cmdline */
    mm->env_start = env_va, mm->env_end = env_va + envs->len;      /* ... and environ */
    sp -= 7;
    uintptr_t platform_va = sp;
    mm_write(mm, sp, "x86_64", 7);
    sp = ALIGN_DOWN(sp, 16) - 16;
    uintptr_t random_va = sp;
    uint8_t rnd[16];
    random_bytes(rnd, sizeof(rnd));
    mm_write(mm, sp, rnd, 16);

    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    struct proc *p = current();
    /* Linux's order. AT_HWCAP2's bits (ring-3 MWAIT, FSGSBASE) are
     * features Vigil does not enable. */
    uint64_t auxv[] = {
        AT_SYSINFO_EHDR, ii->vdso, AT_MINSIGSTKSZ, signal_frame_bytes(), AT_HWCAP, d, AT_PAGESZ, PAGE_SIZE,
        AT_CLKTCK, 100, AT_PHDR, ii->phdr, AT_PHENT, sizeof(struct elf64_phdr),
        AT_PHNUM, ii->phnum, AT_BASE, ii->base, AT_FLAGS, 0, AT_ENTRY, ii->entry,
        AT_UID, p->uid, AT_EUID, ii->euid, AT_GID, p->gid, AT_EGID, ii->egid,
        AT_SECURE, ii->secure,
        AT_RANDOM, random_va, AT_HWCAP2, 0, AT_EXECFN, execfn_va, AT_PLATFORM, platform_va,
        AT_NULL, 0,
    };
    size_t words = 1 + (size_t)args->count + 1 + (size_t)envs->count + 1 + ARRAY_SIZE(auxv);
    sp -= words * 8;
    sp = ALIGN_DOWN(sp, 16);                        /* rsp is 16-aligned at argc */
    uint64_t *vec = kmalloc(words * 8);
    if (!vec)
        return -ENOMEM;
    size_t k = 0;
    vec[k++] = (uint64_t)args->count;
    for (int i = 0, off = 0; i < args->count; i++) {
        vec[k++] = arg_va + (uintptr_t)off;
        off += (int)strlen(args->buf + off) + 1;
    }
    vec[k++] = 0;
    for (int i = 0, off = 0; i < envs->count; i++) {
        vec[k++] = env_va + (uintptr_t)off;
        off += (int)strlen(envs->buf + off) + 1;
    }
    vec[k++] = 0;
    memcpy(&vec[k], auxv, sizeof(auxv));
    mm->auxv_start = sp + k * 8, mm->auxv_end = mm->auxv_start + sizeof(auxv);   /* /proc/PID/auxv */
    long r = mm_write(mm, sp, vec, words * 8);
    kfree(vec);
    return r ? r : (long)sp;
}

/* Find the file to run, following "#!" lines: on return x->prog is an ELF
 * file whose headers passed header_ok, x->args is rewritten for the scripts
 * on the way. 0 or -errno (nothing changed yet). */
static long find_elf(struct exec_state *x, char *const uargv[], char *const uenvp[], bool from_user)
{
    for (int depth = 0;; depth++) {
        long r;
        if (depth == 0 && x->start_file) {
            x->prog.ino = x->start_file;            /* execveat(fd, "", AT_EMPTY_PATH) */
            x->prog.size = x->start_file->size;
            x->start_file = NULL;
            r = !S_ISREG(x->prog.ino->mode) || vfs_permission(x->prog.ino, MAY_EXEC) ? -EACCES : 0;
            if (!r && !(r = vfs_deny_write_access(x->prog.ino)))
                x->prog.denied = true;
        } else {
            r = depth ? open_exec_file(NULL, x->path, LOOKUP_FOLLOW, &x->prog)
                      : open_exec_file(x->start_dir, x->path, x->lookup_flags, &x->prog);
        }
        if (r)
            return r;
        if (depth == 0) {
            /* Linux opens the file before it looks at argv and envp. */
            if ((r = collect(&x->args, uargv, from_user)) < 0 ||
                (r = collect(&x->envs, uenvp, from_user)) < 0)
                return r;
            if (x->args.count == 0 && (r = strvec_push_front(&x->args, "")))
                return r;                           /* Linux: argv[0] is never missing */
        }
        if (depth > MAX_INTERP_DEPTH)
            return -ELOOP;
        long n = read_at(x->prog.ino, 0, x->head, sizeof(x->head));
        if (n < 0)
            return n;
        if (n < 2 || x->head[0] != '#' || x->head[1] != '!')
            return header_ok(&x->prog) ? 0 : -ENOEXEC;
        if ((r = parse_script(x->head, (size_t)n, x->script_interp, x->script_arg)))
            return r;
        if (depth == 0 && x->path_inaccessible)
            return -ENOENT;                         /* the interpreter could never open it */
        strvec_drop_front(&x->args);
        if ((r = strvec_push_front(&x->args, depth ? x->path : x->execfn)) ||
            (x->script_arg[0] && (r = strvec_push_front(&x->args, x->script_arg))) ||
            (r = strvec_push_front(&x->args, x->script_interp)))
            return r;
        if (strlcpy(x->path, x->script_interp, sizeof(x->path)) >= sizeof(x->path))
            return -ENAMETOOLONG;
        exec_file_drop(&x->prog);
    }
}

/* PT_INTERP, if the program has one: its interpreter found (x->interp) and
 * its headers checked as Linux does before the point of no return. */
static long find_interpreter(struct exec_state *x)
{
    const struct elf64_phdr *pi = NULL;
    for (int i = 0; i < x->prog.eh.phnum && !pi; i++)
        if (x->prog.ph[i].type == PT_INTERP)
            pi = &x->prog.ph[i];                    /* the first one counts */
    if (!pi)
        return 0;
    if (pi->filesz < 2 || pi->filesz > PATH_MAX_LINUX)
        return -ENOEXEC;
    char *s = kmalloc(pi->filesz);
    if (!s)
        return -ENOMEM;
    long r = read_at(x->prog.ino, pi->offset, s, pi->filesz);
    if (r >= 0)
        r = r != (long)pi->filesz ? -EIO                     /* Linux: a short read */
          : s[pi->filesz - 1] ? -ENOEXEC
          : strlen(s) >= sizeof(x->elf_interp) ? -ENAMETOOLONG : 0;
    if (!r)
        strlcpy(x->elf_interp, s, sizeof(x->elf_interp));
    kfree(s);
    if (r || (r = open_exec_file(NULL, x->elf_interp, LOOKUP_FOLLOW, &x->interp)))
        return r;
    struct exec_file *f = &x->interp;
    if (read_at(f->ino, 0, &f->eh, sizeof(f->eh)) != sizeof(f->eh))
        return -EIO;
    if (memcmp(f->eh.ident, "\x7f" "ELF", 4) || f->eh.machine != EM_X86_64)
        return -ELIBBAD;
    /* The type is checked after the point of no return, as Linux does. */
    return read_phdrs(f) ? 0 : -ELIBBAD;
}

/* Lay the program (and its interpreter) out in mm, and the stack: the work
 * Linux does after its point of no return. 0 with *rip, *rsp, *brk; or
 * -errno. */
static long build_image(struct exec_state *x, struct mm *mm, uintptr_t *rip, uintptr_t *rsp,
                        uintptr_t *brk)
{
    const struct elf64_ehdr *eh = &x->prog.eh;
    uintptr_t bias = eh->type == ET_DYN ? PIE_BASE : 0, top;
    long r = load_segments(mm, &x->prog, bias, &top);
    if (r)
        return r;
    struct image_info ii = { phdr_address(eh, x->prog.ph, bias), eh->entry + bias, 0, eh->phnum,
                             x->euid, x->egid, x->secure, 0 };
    const struct elf64_phdr *ph = x->prog.ph;
    for (int i = 0; i < eh->phnum; i++)             /* the program's span, for /proc/PID/stat */
        if (ph[i].type == PT_LOAD && ph[i].memsz) {
            uintptr_t va = ph[i].vaddr + bias;
            if (!mm->start_code || ALIGN_DOWN(va, PAGE_SIZE) < mm->start_code)
                mm->start_code = ALIGN_DOWN(va, PAGE_SIZE);
            if (ph[i].flags & PF_X)
                mm->end_code = MAX(mm->end_code, va + ph[i].filesz);
        }
    *brk = top;
    *rip = ii.entry;
    if (x->interp.ino) {
        const struct elf64_ehdr *ie = &x->interp.eh;
        uintptr_t ibias = 0, lo, hi, itop;
        if (ie->type != ET_EXEC && ie->type != ET_DYN)
            return -EINVAL;
        if (!load_span(ie, x->interp.ph, &lo, &hi))
            return -EINVAL;
        if (ie->type == ET_DYN) {
            uintptr_t at = mm_find_free(mm, hi - lo);
            if (!at)
                return -ENOMEM;
            ibias = at - lo;
        }
        if ((r = load_segments(mm, &x->interp, ibias, &itop)))
            return r;
        ii.base = ibias;
        *rip = ie->entry + ibias;
    }
    if (*rip >= USER_TOP)
        return -ENOEXEC;                            /* could never return to it */
    /* [vvar] and [vdso], just above the mmap area (mm/vdso.c). */
    if (!(ii.vdso = vdso_map(mm)))
        return -ENOMEM;
    long sp = build_stack(mm, &x->args, &x->envs, x->execfn, &ii);
    if (sp < 0)
        return sp;
    *rsp = (uintptr_t)sp;
    mm->start_stack = (uintptr_t)sp;                /* argc */
    return 0;
}

/* The effective ids the program runs with (Linux's bprm_fill_uid and
 * cap_bprm_creds_from_file): a set-user-ID file runs as its owner, a
 * set-group-ID and group-executable one as its group; not under
 * no_new_privs. A script's bits count for nothing: x->prog is the ELF that
 * runs. The saved ids become the effective ones at every exec. */
__attribute__((noinline)) static void exec_creds(struct exec_state *x)
{
    struct proc *p = current();
    const struct inode *ino = x->prog.ino;
    x->euid = p->euid, x->egid = p->egid;
    if (p->no_new_privs)
        return;
    if (ino->mode & S_ISUID)
        x->euid = ino->uid;
    if ((ino->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
        x->egid = ino->gid;
    bool setid = x->euid != p->uid || x->egid != p->gid;
    x->secure = setid;                          /* AT_SECURE, even if dropped below */
    /* INVARIANT(privilege separation): a traced program gains no privilege
     * through its file's set-ID bits unless its tracer could have had it
     * anyway (root): else it would run privileged code under the control of
     * an unprivileged process. As Linux: the ids fall back to the real ones
     * unless the caller is root itself. */
#ifndef BREAK_PTRACE_SETID                       /* the break switch: no drop */
    if (setid && !ptrace_tracer_privileged(p) && p->euid != 0)
        x->euid = p->uid, x->egid = p->gid;
#endif
}

static void exec_state_free(struct exec_state *x)
{
    if (x->start_dir)
        iput(x->start_dir);
    if (x->start_file)
        iput(x->start_file);
    exec_file_drop(&x->prog);
    exec_file_drop(&x->interp);
    kfree(x->args.buf);
    kfree(x->envs.buf);
    kfree(x);
}

/* execveat(2)'s part: where the path starts (dirfd), AT_EMPTY_PATH (the
 * file dirfd is open on), AT_SYMLINK_NOFOLLOW; the name the program is
 * given (AT_EXECFN, a script's argv) is then "/dev/fd/N[/path]" as on Linux. */
static long exec_start(struct exec_state *x, int dirfd, int flags)
{
    if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return -EINVAL;
    x->lookup_flags = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (x->path[0] == '/' || dirfd == AT_FDCWD) {
        if (!x->path[0] && !(flags & AT_EMPTY_PATH))
            return -ENOENT;
        if (!x->path[0])
            strlcpy(x->path, ".", sizeof(x->path));     /* the cwd itself: EACCES */
        strlcpy(x->execfn, x->path, sizeof(x->execfn));
        return 0;
    }
    struct file *f = fd_get_raw(dirfd);
    if (!f)
        return -EBADF;
    struct proc *p = current();
    x->path_inaccessible = fd_cloexec(p->fdt, dirfd);
    if (!x->path[0]) {
        if (!(flags & AT_EMPTY_PATH))
            return -ENOENT;
        if (!f->inode)
            return -EACCES;                         /* a pipe, a socket... */
        x->start_file = iget(f->inode);
        snprintf(x->execfn, sizeof(x->execfn), "/dev/fd/%d", dirfd);
        return 0;
    }
    if (!f->inode || !S_ISDIR(f->inode->mode))
        return -ENOTDIR;
    x->start_dir = iget(f->inode);
    if (snprintf(x->execfn, sizeof(x->execfn), "/dev/fd/%d/%s", dirfd, x->path) >=
        (int)sizeof(x->execfn))
        return -ENAMETOOLONG;
    return 0;
}

long exec(const char *upath, char *const uargv[], char *const uenvp[], bool from_user)
{
    return exec_at(AT_FDCWD, upath, uargv, uenvp, 0, from_user);
}

long exec_at(int dirfd, const char *upath, char *const uargv[], char *const uenvp[], int flags,
             bool from_user)
{
    ASSERT_KLOCK();
    struct proc *p = current();
    struct exec_state *x = kzalloc(sizeof(*x));
    if (!x)
        return -ENOMEM;
    long r;
    if (from_user) {
        if ((r = strncpy_from_user(x->path, upath, sizeof(x->path))) < 0) {
            kfree(x);
            return r;
        }
    } else {
        strlcpy(x->path, upath, sizeof(x->path));
    }
    struct mm *mm = NULL;
    if ((r = exec_start(x, dirfd, flags)))
        goto out;
    x->args.buf = kmalloc(ARG_MAX_BYTES);
    x->envs.buf = kmalloc(ARG_MAX_BYTES);
    r = -ENOMEM;
    if (!x->args.buf || !x->envs.buf)
        goto out;
    if ((r = find_elf(x, uargv, uenvp, from_user)) || (r = find_interpreter(x)))
        goto out;
    exec_creds(x);
    r = -ENOMEM;
    if (!(mm = mm_create()))
        goto out;
    if (p->mm)
        mm->coredump_filter = p->mm->coredump_filter;  /* kept across execve (core(5)) */
    /* /proc/PID/exe: the real path of the ELF file that runs (a script's
     * interpreter, a dynamic program itself), resolved now, while a path
     * through /proc/self/exe still means the old image's file. */
    char *exe = vfs_abspath(p->fs->cwd_path, x->path);
    if (exe)
        vfs_realpath(exe, mm->exe_path, sizeof(mm->exe_path));
    else
        strlcpy(mm->exe_path, x->path, sizeof(mm->exe_path));
    kfree(exe);
    /* The program's file stays unwritable while this address space runs
     * it (ETXTBSY); x->prog's own denial holds, so this one cannot fail. */
    if (!vfs_deny_write_access(x->prog.ino))
        mm->exe_ino = iget(x->prog.ino);

    /* A descriptor table shared by CLONE_FILES becomes our own first, as
     * on Linux: closing the close-on-exec descriptors must not close them
     * for the processes we shared it with. */
    if ((r = fdtable_unshare(p, INT32_MAX)))
        goto out;

    uintptr_t rip = 0, rsp = 0, brk = 0;
    bool doomed = build_image(x, mm, &rip, &rsp, &brk) != 0;

    /* Point of no return: the old image goes. */
    proc_kill_other_threads();              /* Linux: exec leaves one thread */
    struct mm *old = p->mm;
    p->mm = mm;
    mm_activate(mm);
    if (old)
        mm_put(old);
    proc_vfork_release(p);
    mm = NULL;
    if (doomed) {
        /* Linux has dropped the old image before it maps the new one, and a
         * mapping that fails kills the process: so here too. */
        kprintf("vigil: pid %d (%s) killed by SIGSEGV: exec of %s failed after the point of no return\n",
                p->pid, p->name, x->execfn);
        exec_state_free(x);
        proc_exit_group(SIGSEGV);
    }
    /* The new credentials (exec_creds); a program that runs with ids
     * other than its real ones is not dumpable (no core, no ptrace attach
     * by its unprivileged user, /proc's private files root's), as on Linux. */
    p->euid = p->suid = p->fsuid = x->euid;
    p->egid = p->sgid = p->fsgid = x->egid;
    p->leader->dumpable = p->euid == p->uid && p->egid == p->gid;
    {
        uint64_t f = spin_lock_irqsave(&sched_lock);
        p->leader->execed = true;               /* setpgid by its parent: EACCES from now */
        spin_unlock_irqrestore(&sched_lock, f);
    }
    const char *base = x->execfn + strlen(x->execfn);
    while (base > x->execfn && base[-1] != '/')
        base--;
    strlcpy(p->name, base, sizeof(p->name));
    schedtrace_name(p);
    /* (The table is ours alone now; each slot is emptied before its file
     * is closed, and the table read again after, as a close may sleep.) */
    for (int fd = 0; fd < p->fdt->max; fd++)
        if (fd_cloexec(p->fdt, fd)) {
            struct file *f = p->fdt->fd[fd];
            p->fdt->fd[fd] = NULL;
            fd_set_cloexec(p->fdt, fd, false);
            if (f)
                file_close(f);
        }
    p->sas_sp = p->sas_size = 0;                    /* nor does the alternate signal stack */
    p->sas_flags = SS_DISABLE;
    if (p->leader->ptimers)
        ptimer_release(p->leader);                  /* nor do POSIX timers */
    /* Handlers do not survive exec (the code is gone); ignored stays ignored. */
    for (int sig = 0; sig < NSIG; sig++)
        if (p->sh->actions[sig].handler > 1)
            p->sh->actions[sig] = (struct sigaction_k){ 0, 0, 0, 0 };
    p->fs_base = 0;
    wrmsr(MSR_FS_BASE, 0);
    fpu_init_state(&p->fpu);
    p->pkru = PKRU_INIT;                            /* keys 1-15 access-disabled, as Linux */
    if (p == current() && p->state == P_RUNNING) {
        fpu_restore(&p->fpu);
        if (cpu_pku)
            wrpkru(p->pkru);
    }
    ptrace_exec_reset(p);                         /* nor do debug registers */
    p->mm->brk_start = p->mm->brk = brk;

    struct trapframe *tf = p->tf;
    memset(tf, 0, sizeof(*tf));
    tf->rip = rip;
    tf->rsp = rsp;
    tf->cs = GDT_UCODE | 3;
    tf->ss = GDT_UDATA | 3;
    tf->rflags = 0x202;                             /* IF */
    r = 0;
out:
    if (mm)
        mm_destroy(mm);
    exec_state_free(x);
    return r;
}
