/* proc/exec.c - replace a process's program with a static ELF64 executable
 * (ET_EXEC, or ET_DYN without an interpreter: static PIE), laying out the
 * initial stack exactly as Linux does (System V x86-64 ABI, 3.4.1), so that
 * musl's start-up code runs unchanged:
 *
 *   rsp -> argc, argv[0..argc-1], NULL, envp[...], NULL, auxv pairs, AT_NULL
 *          ... then (higher) the strings and AT_RANDOM's 16 bytes.
 *
 * Every field of the ELF is checked before use: a malformed file is ENOEXEC,
 * never a fault. */
#include "proc.h"
#include "../fs/file.h"
#include "../fs/vfs.h"
#include "../lib/string.h"
#include "../lib/abi.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"
#include "../arch/x86_64/cpu.h"

struct elf64_ehdr {
    uint8_t  ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define ET_EXEC 2
#define ET_DYN  3
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define EM_X86_64 62
#define PIE_BASE 0x0000555555554000ul   /* where Linux puts a PIE with ASLR off */

#define ARG_MAX_BYTES (128 * 1024)
#define MAX_ARGS 1024

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

static uint32_t prot_of(uint32_t pflags)
{
    return (pflags & PF_R ? VM_READ : 0) | (pflags & PF_W ? VM_WRITE : 0) | (pflags & PF_X ? VM_EXEC : 0);
}

/* Map the PT_LOAD segments into mm. Returns the load bias or -errno. */
static long load_segments(struct mm *mm, const uint8_t *img, size_t size,
                          const struct elf64_ehdr *eh, uintptr_t *brk_start)
{
    uintptr_t bias = eh->type == ET_DYN ? PIE_BASE : 0, top = 0;
    const struct elf64_phdr *ph = (const void *)(img + eh->phoff);
    for (int i = 0; i < eh->phnum; i++) {
        if (ph[i].type == PT_INTERP)
            return -ENOEXEC;            /* dynamic executables: no loader here */
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
            continue;
        const struct elf64_phdr *p = &ph[i];
        if (p->filesz > p->memsz || p->offset > size || p->filesz > size - p->offset)
            return -ENOEXEC;
        if ((p->vaddr & (PAGE_SIZE - 1)) != (p->offset & (PAGE_SIZE - 1)))
            return -ENOEXEC;
        uintptr_t va = p->vaddr + bias;
        if (va < p->vaddr || va >= USER_TOP || p->memsz > USER_TOP - va || va < 0x10000)
            return -ENOEXEC;
        uintptr_t start = ALIGN_DOWN(va, PAGE_SIZE), end = ALIGN_UP(va + p->memsz, PAGE_SIZE);
        uint32_t prot = prot_of(p->flags);
        /* Segments may share a boundary page (RELRO); widen instead of failing. */
        long r = mm_map(mm, start, end - start, prot);
        if (r == -EEXIST) {
            for (uintptr_t a = start; a < end && r != -ENOMEM; a += PAGE_SIZE)
                if ((r = mm_map(mm, a, PAGE_SIZE, prot)) == -EEXIST)
                    r = mm_protect(mm, a, PAGE_SIZE, prot | mm_prot_at(mm, a));
            if (r == -EEXIST)
                r = 0;
        }
        if (r)
            return r;
        /* File bytes are copied in now; the rest (bss) is demand-zero. */
        r = mm_write(mm, va, img + p->offset, p->filesz);
        if (r)
            return r;
        top = MAX(top, end);
    }
    if (!top)
        return -ENOEXEC;
    *brk_start = top;
    return (long)bias;
}

static bool header_ok(const struct elf64_ehdr *eh, size_t size)
{
    return size >= sizeof(*eh) && !memcmp(eh->ident, "\x7f" "ELF", 4) &&
           eh->ident[4] == 2 /* 64-bit */ && eh->ident[5] == 1 /* little endian */ &&
           eh->ident[6] == 1 && (eh->type == ET_EXEC || eh->type == ET_DYN) &&
           eh->machine == EM_X86_64 && eh->phentsize == sizeof(struct elf64_phdr) &&
           eh->phnum > 0 && eh->phnum <= 64 && eh->phoff <= size &&
           (uint64_t)eh->phnum * sizeof(struct elf64_phdr) <= size - eh->phoff &&
           (eh->phoff & 7) == 0;
}

/* Build the initial stack in mm; returns the user rsp or -errno. */
static long build_stack(struct mm *mm, struct strvec *args, struct strvec *envs,
                        const char *execfn, const struct elf64_ehdr *eh, uintptr_t bias,
                        uintptr_t phdr_va)
{
    if (mm_map(mm, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE, VM_READ | VM_WRITE))
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
    sp -= 7;
    uintptr_t platform_va = sp;
    mm_write(mm, sp, "x86_64", 7);
    sp = ALIGN_DOWN(sp, 16) - 16;
    uintptr_t random_va = sp;
    uint8_t rnd[16];
    uint64_t t = rdtsc();
    for (int i = 0; i < 16; i++) {                  /* not cryptographic; see getrandom */
        t = t * 6364136223846793005ul + 1442695040888963407ul;
        rnd[i] = (uint8_t)(t >> 56);
    }
    mm_write(mm, sp, rnd, 16);

    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    uint64_t auxv[] = {
        AT_PHDR, phdr_va, AT_PHENT, sizeof(struct elf64_phdr), AT_PHNUM, eh->phnum,
        AT_PAGESZ, PAGE_SIZE, AT_BASE, 0, AT_FLAGS, 0, AT_ENTRY, eh->entry + bias,
        AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_SECURE, 0,
        AT_HWCAP, d, AT_CLKTCK, 100, AT_RANDOM, random_va, AT_PLATFORM, platform_va,
        AT_EXECFN, execfn_va, AT_NULL, 0,
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
    long r = mm_write(mm, sp, vec, words * 8);
    kfree(vec);
    return r ? r : (long)sp;
}

long exec(const char *upath, char *const uargv[], char *const uenvp[], bool from_user)
{
    ASSERT_KLOCK();
    struct proc *p = current();
    char path[256];
    if (from_user) {
        long n = strncpy_from_user(path, upath, sizeof(path));
        if (n < 0)
            return n;
    } else {
        strlcpy(path, upath, sizeof(path));
    }
    struct inode *ino;
    long r = vfs_lookup(p->fs->cwd, path, LOOKUP_FOLLOW, &ino);
    if (r)
        return r;
    if (!S_ISREG(ino->mode) || vfs_permission(ino, MAY_EXEC)) {
        iput(ino);
        return -EACCES;                             /* a directory, or not executable by us */
    }
    uint8_t *img = NULL;
    long size = vfs_read_all(ino, &img, 256ul << 20);
    iput(ino);
    if (size < 0)
        return size;
    const struct elf64_ehdr *eh = (const void *)img;
    struct strvec args = { kmalloc(ARG_MAX_BYTES), 0, 0 }, envs = { kmalloc(ARG_MAX_BYTES), 0, 0 };
    struct mm *mm = NULL;
    r = -ENOEXEC;
    if (!header_ok(eh, (size_t)size))
        goto out;
    r = -ENOMEM;
    if (!args.buf || !envs.buf)
        goto out;
    if ((r = collect(&args, uargv, from_user)) < 0 || (r = collect(&envs, uenvp, from_user)) < 0)
        goto out;
    r = -ENOMEM;
    if (!(mm = mm_create()))
        goto out;
    uintptr_t brk_start = 0;
    long bias = load_segments(mm, img, (size_t)size, eh, &brk_start);
    if (bias < 0) {
        r = bias;
        goto out;
    }
    /* AT_PHDR: PT_PHDR if present, else the headers inside the first segment. */
    uintptr_t phdr_va = 0;
    const struct elf64_phdr *ph = (const void *)(img + eh->phoff);
    for (int i = 0; i < eh->phnum; i++) {
        if (ph[i].type == PT_PHDR)
            phdr_va = ph[i].vaddr + (uintptr_t)bias;
        else if (!phdr_va && ph[i].type == PT_LOAD && ph[i].offset <= eh->phoff &&
                 eh->phoff < ph[i].offset + ph[i].filesz)
            phdr_va = ph[i].vaddr + (eh->phoff - ph[i].offset) + (uintptr_t)bias;
    }
    long sp = build_stack(mm, &args, &envs, path, eh, (uintptr_t)bias, phdr_va);
    if (sp < 0) {
        r = sp;
        goto out;
    }
    mm->brk_start = mm->brk = brk_start;
    if (eh->entry + (uint64_t)bias >= USER_TOP) {
        r = -ENOEXEC;                               /* could never return to it */
        goto out;
    }

    /* A descriptor table shared by CLONE_FILES becomes our own first, as
     * on Linux: closing the close-on-exec descriptors must not close them
     * for the processes we shared it with. */
    if ((r = fdtable_unshare(p)))
        goto out;

    /* Point of no return: the old image goes. */
    proc_kill_other_threads();              /* Linux: exec leaves one thread */
    struct mm *old = p->mm;
    p->mm = mm;
    mm_activate(mm);
    if (old)
        mm_put(old);
    proc_vfork_release(p);
    mm = NULL;
    const char *base = strchr(path, '/') ? path + strlen(path) : path;
    while (base > path && base[-1] != '/')
        base--;
    strlcpy(p->name, base, sizeof(p->name));
    for (int fd = 0; fd < NOFILE && fd < 64; fd++)
        if ((p->fdt->cloexec >> fd) & 1 && p->fdt->fd[fd]) {
            file_close(p->fdt->fd[fd]);
            p->fdt->fd[fd] = NULL;
        }
    p->fdt->cloexec = 0;
    /* Handlers do not survive exec (the code is gone); ignored stays ignored. */
    for (int sig = 0; sig < NSIG; sig++)
        if (p->sh->actions[sig].handler > 1)
            p->sh->actions[sig] = (struct sigaction_k){ 0, 0, 0, 0 };
    p->fs_base = 0;
    wrmsr(MSR_FS_BASE, 0);
    fpu_init_state(&p->fpu);
    if (p == current() && p->state == P_RUNNING)
        fpu_restore(&p->fpu);

    struct trapframe *tf = p->tf;
    memset(tf, 0, sizeof(*tf));
    tf->rip = eh->entry + (uintptr_t)bias;
    tf->rsp = (uint64_t)sp;
    tf->cs = GDT_UCODE | 3;
    tf->ss = GDT_UDATA | 3;
    tf->rflags = 0x202;                             /* IF */
    r = 0;
out:
    if (mm)
        mm_destroy(mm);
    kfree(img);
    kfree(args.buf);
    kfree(envs.buf);
    return r;
}
