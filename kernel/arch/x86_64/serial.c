/* arch/x86_64/serial.c - COM1 (16550 UART) console. Polled output so it
 * works before interrupts exist and from a panic. */
#include "arch.h"
#include "cpu.h"

#define COM1 0x3F8

void serial_init(void)
{
    outb(COM1 + 1, 0x00);   /* no UART interrupts yet */
    outb(COM1 + 3, 0x80);   /* DLAB on: set the divisor */
    outb(COM1 + 0, 0x01);   /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1, DLAB off */
    outb(COM1 + 2, 0xC7);   /* FIFO on, cleared, 14-byte threshold */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

void serial_putc(char c)
{
    /* Wait for the transmit holding register to empty. Bounded: a UART that
     * never drains must not hang a panic. */
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

/* A break puts a NUL in the receive FIFO behind what came before it, while
 * the line status says "break" at once (QEMU's 16550 does not tie the bit
 * to the byte): the next NUL read after a break is the break's, not input.
 * [called from the console's interrupt, under sched_lock] */
static bool break_nul;

int serial_getc_nonblock(void)
{
    for (;;) {
        uint8_t lsr = inb(COM1 + 5);        /* (reading it clears the break bit) */
        if (lsr & 0x10) {                   /* a break: the line held low */
            break_nul = true;
            return SERIAL_BREAK;
        }
        if (!(lsr & 0x01))
            return -1;
        uint8_t c = inb(COM1);
        if (c == 0 && break_nul) {
            break_nul = false;
            continue;
        }
        return c;
    }
}

void serial_enable_rx_irq(void)
{
    outb(COM1 + 4, 0x0B);   /* DTR, RTS, OUT2 (gates the IRQ line) */
    /* Interrupt on received data and on a line status change: a break
     * raises only the latter (QEMU arms no FIFO timeout for it). */
    outb(COM1 + 1, 0x05);
}
