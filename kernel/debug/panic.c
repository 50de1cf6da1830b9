/* debug/panic.c - stop everything, say why, and end the QEMU run with a
 * code the harness recognises. */
#include "debug.h"
#include "../lib/kprintf.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"

static volatile int panicking;

void panic(const char *fmt, ...)
{
    cli();
    if (panicking++)            /* a fault inside panic: just stop */
        qemu_exit(EXIT_PANIC);
    console_unlock_for_panic();
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!trap_dumped()) {
        uintptr_t *fp = __builtin_frame_address(0);   /* [caller's rbp][return address] */
        backtrace_from(fp[1], fp[0]);
    }
    kprintf("PANIC: %s\n", msg);
    qemu_exit(EXIT_PANIC);
}
