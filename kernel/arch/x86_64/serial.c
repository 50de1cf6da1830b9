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

int serial_getc_nonblock(void)
{
    if (inb(COM1 + 5) & 0x01)
        return inb(COM1);
    return -1;
}

void serial_enable_rx_irq(void)
{
    outb(COM1 + 4, 0x0B);   /* DTR, RTS, OUT2 (gates the IRQ line) */
    outb(COM1 + 1, 0x01);   /* interrupt on received data */
}
