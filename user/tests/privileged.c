/* privileged: things ring 3 must not do. `privileged NAME` does one of them
 * (and should die); `privileged syscalls` hands kernel addresses to
 * syscalls (each must fail with EFAULT). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Kernel addresses to poke at; the harness passes real ones (from the
 * kernel's symbol table) as a second argument. */
static uintptr_t KERNEL_TEXT = 0xffffffff80100000ul;
static uintptr_t KERNEL_DATA = 0xffff800000100000ul;

static void attempt(const char *what)
{
    if (!strcmp(what, "cli"))
        __asm__ volatile("cli");
    else if (!strcmp(what, "hlt"))
        __asm__ volatile("hlt");
    else if (!strcmp(what, "in"))
        __asm__ volatile("inb $0x60, %%al" ::: "eax");
    else if (!strcmp(what, "out"))
        __asm__ volatile("outb %%al, $0x80" ::"a"(0));
    else if (!strcmp(what, "rdmsr"))
        __asm__ volatile("rdmsr" ::"c"(0xC0000080) : "eax", "edx");
    else if (!strcmp(what, "wrmsr"))
        __asm__ volatile("wrmsr" ::"c"(0xC0000080), "a"(0), "d"(0));
    else if (!strcmp(what, "movcr3"))
        __asm__ volatile("mov %%cr3, %%rax" ::: "rax");
    else if (!strcmp(what, "lgdt")) {
        struct { uint16_t l; uint64_t b; } __attribute__((packed)) g = { 0, 0 };
        __asm__ volatile("lgdt %0" ::"m"(g));
    } else if (!strcmp(what, "readkernel"))
        printf("read %d\n", *(volatile uint8_t *)KERNEL_TEXT);
    else if (!strcmp(what, "readdirectmap"))
        printf("read %d\n", *(volatile uint8_t *)KERNEL_DATA);
    else if (!strcmp(what, "writekernel"))
        *(volatile uint8_t *)KERNEL_DATA = 1;
    else if (!strcmp(what, "sgdt") || !strcmp(what, "sidt")) {
        /* UMIP: where the kernel keeps its descriptor tables is not ring 3's. */
        struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = { 0, 0 };
        if (what[1] == 'g')
            __asm__ volatile("sgdt %0" : "=m"(d));
        else
            __asm__ volatile("sidt %0" : "=m"(d));
        printf("%s: base 0x%lx limit %u\n", what, (unsigned long)d.base, d.limit);
    } else if (!strcmp(what, "jumpkernel"))
        ((void (*)(void))KERNEL_TEXT)();
    else if (!strcmp(what, "execstack")) {
        /* NX: data is not code. A `ret` on the stack, then call it. */
        volatile uint8_t code[16] = { 0xc3 };
        ((void (*)(void))(uintptr_t)code)();
    } else if (!strcmp(what, "execheap")) {
        uint8_t *code = malloc(64);
        code[0] = 0xc3;
        ((void (*)(void))code)();
    } else {
        printf("unknown %s\n", what);
        return;
    }
    printf("%s: still alive\n", what);
}

static void report(const char *what, long r)
{
    /* errno read after the call (argument order is unspecified). */
    int e = errno;
    printf("%s: %ld %s\n", what, r, r < 0 ? strerror(e) : "ok");
    errno = 0;
}

static void syscalls(void)
{
    const void *k = (const void *)KERNEL_TEXT;
    report("write(kernel buf)", write(1, k, 16));
    /* From a pipe that holds 16 bytes: without the check the read lands in
     * kernel data at once, rather than waiting on the console. */
    int p[2];
    if (pipe(p) == 0 && write(p[1], "0123456789abcdef", 16) == 16)
        report("read(into kernel)", read(p[0], (void *)KERNEL_DATA, 16));
    report("uname(kernel)", uname((struct utsname *)KERNEL_DATA));
    report("stat(kernel path)", stat((const char *)KERNEL_TEXT, (struct stat *)0));
    report("write(bad user ptr)", write(1, (void *)0x10, 16));
    report("write(non-canonical)", write(1, (void *)0x8000000000000000ul, 16));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (argc > 2)
        KERNEL_TEXT = strtoul(argv[2], NULL, 0);
    if (argc > 3)
        KERNEL_DATA = strtoul(argv[3], NULL, 0);
    if (!strcmp(argv[1], "syscalls"))
        syscalls();
    else
        attempt(argv[1]);
    return 0;
}
