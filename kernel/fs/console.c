/* fs/console.c - the serial console's device side: the UART's receive
 * interrupt hands each byte to the line discipline (tty.c), which echoes
 * and writes back through console_write_raw. Everything a terminal does
 * (termios, lines, signals, job control) is tty.c's, shared with the
 * pseudo-terminals. */
#include "file.h"
#include "../arch/x86_64/arch.h"
#include "../arch/x86_64/cpu.h"
#include "../proc/proc.h"
#include "../debug/debug.h"

static bool console_irq(struct trapframe *tf)
{
    (void)tf;
    int c;
    uint64_t fl = spin_lock_irqsave(&sched_lock);
    while ((c = serial_getc_nonblock()) != -1)
        if (c == SERIAL_BREAK)
            watchdog_request_dump();            /* Linux's SysRq-t, without the key */
        else
            tty_input_locked(console_tty, c);
    spin_unlock_irqrestore(&sched_lock, fl);
    return true;
}

void console_init(void)
{
    tty_init();
    trap_register(VEC_IOAPIC + 4, console_irq);
    ioapic_route(4, VEC_IOAPIC + 4);
    serial_enable_rx_irq();
}
