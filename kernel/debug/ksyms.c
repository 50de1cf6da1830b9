/* debug/ksyms.c - address -> function name, from the table the build
 * generates out of the kernel's own symbol table (harness/ksyms.py). */
#include "debug.h"
#include "ksyms.h"
#include "../lib/kprintf.h"
#include "../mm/mm.h"

extern char _text[], _etext[];

const char *ksym_lookup(uintptr_t addr, uintptr_t *offset)
{
    if (addr < (uintptr_t)_text || addr >= (uintptr_t)_etext || ksyms_count == 0)
        return NULL;
    /* Binary search for the last symbol at or below addr. */
    unsigned long lo = 0, hi = ksyms_count;
    while (hi - lo > 1) {
        unsigned long mid = (lo + hi) / 2;
        if (ksyms_table[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_table[lo].addr > addr)
        return NULL;
    *offset = addr - ksyms_table[lo].addr;
    return ksyms_table[lo].name;
}

static void print_frame(int n, uintptr_t addr)
{
    uintptr_t off;
    const char *name = ksym_lookup(addr, &off);
    if (name)
        kprintf("  #%d 0x%016lx %s+0x%lx\n", n, addr, name, off);
    else
        kprintf("  #%d 0x%016lx ?\n", n, addr);
}

void backtrace_from(uintptr_t rip, uintptr_t rbp)
{
    kprintf("BACKTRACE\n");
    print_frame(0, rip);
    /* Each frame is [saved rbp][return address]; kernel code keeps frame
     * pointers (-fno-omit-frame-pointer). Check each step before following
     * it: a corrupt chain must not fault inside the fault report. */
    for (int n = 1; n < 24 && rbp; n++) {
        if ((rbp & 7) || !vmm_kernel_mapped(rbp) || !vmm_kernel_mapped(rbp + 8))
            break;
        uintptr_t *frame = (uintptr_t *)rbp;
        uintptr_t ret = frame[1];
        if (!ret)
            break;
        print_frame(n, ret);
        if (frame[0] <= rbp)     /* stacks grow down: callers live higher */
            break;
        rbp = frame[0];
    }
}
