/* auxinterp: a stand-in ELF interpreter (a static PIE, like user/pie.c) for
 * the PT_INTERP tests. A program whose PT_INTERP names /bin/auxinterp starts
 * here, not at its own entry, with the auxiliary vector a real dynamic
 * loader (Debian's ld.so) would read: this prints it, and what it points at,
 * so the test can check each value against the ELF files (lief) and
 * against what the host's Linux gives the same files. It never runs the
 * program itself. musl's rcrt1.o relocates this file using AT_BASE, so
 * reaching main at all says AT_BASE is where the kernel put it. */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <cpuid.h>

extern char **environ;

static const char *names[] = {
    [AT_PHDR] = "AT_PHDR", [AT_PHENT] = "AT_PHENT", [AT_PHNUM] = "AT_PHNUM",
    [AT_PAGESZ] = "AT_PAGESZ", [AT_BASE] = "AT_BASE", [AT_FLAGS] = "AT_FLAGS",
    [AT_ENTRY] = "AT_ENTRY", [AT_UID] = "AT_UID", [AT_EUID] = "AT_EUID", [AT_GID] = "AT_GID",
    [AT_EGID] = "AT_EGID", [AT_PLATFORM] = "AT_PLATFORM", [AT_HWCAP] = "AT_HWCAP",
    [AT_CLKTCK] = "AT_CLKTCK", [AT_SECURE] = "AT_SECURE", [AT_RANDOM] = "AT_RANDOM",
    [AT_HWCAP2] = "AT_HWCAP2", [AT_EXECFN] = "AT_EXECFN", [AT_SYSINFO_EHDR] = "AT_SYSINFO_EHDR",
    [51] = "AT_MINSIGSTKSZ", [27] = "AT_RSEQ_FEATURE_SIZE", [28] = "AT_RSEQ_ALIGN",
};

int main(int argc, char **argv)
{
    char **e = environ;
    while (*e)
        e++;
    const unsigned long *aux = (const unsigned long *)(e + 1);
    for (; aux[0] != AT_NULL; aux += 2) {
        const char *n = aux[0] < sizeof(names) / sizeof(names[0]) ? names[aux[0]] : NULL;
        if (n)
            printf("%s=0x%lx\n", n, aux[1]);
        else
            printf("AT_%lu=0x%lx\n", aux[0], aux[1]);
    }
    printf("execfn=%s\n", (const char *)getauxval(AT_EXECFN));
    printf("platform=%s\n", (const char *)getauxval(AT_PLATFORM));
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    printf("cpuid1.edx=0x%x\n", d);
    /* What AT_BASE and AT_PHDR point at. */
    const Elf64_Ehdr *me = (const void *)getauxval(AT_BASE);
    printf("base.magic=%s\nbase.type=%d\n", me && !memcmp(me->e_ident, ELFMAG, SELFMAG) ? "ELF" : "?",
           me ? me->e_type : -1);
    const Elf64_Phdr *ph = (const void *)getauxval(AT_PHDR);
    for (unsigned long i = 0; i < getauxval(AT_PHNUM); i++)
        printf("phdr[%lu]=%u 0x%lx\n", i, ph[i].p_type, ph[i].p_vaddr);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}
