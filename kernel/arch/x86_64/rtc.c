/* arch/x86_64/rtc.c - read the CMOS real-time clock once, at boot, to know
 * the date; the TSC measures time from there. */
#include "arch.h"
#include "cpu.h"

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static int bcd(uint8_t v, bool binary) { return binary ? v : (v & 15) + (v >> 4) * 10; }

uint64_t rtc_read_unix(void)
{
    /* Wait out an update in progress, then read; good to a second. */
    for (int i = 0; i < 100000 && (cmos(0x0A) & 0x80); i++)
        cpu_relax();
    bool binary = cmos(0x0B) & 4;
    int sec = bcd(cmos(0x00), binary), min = bcd(cmos(0x02), binary);
    int hour = bcd(cmos(0x04) & 0x7f, binary), day = bcd(cmos(0x07), binary);
    int mon = bcd(cmos(0x08), binary), year = bcd(cmos(0x09), binary) + 2000;
    /* Days from 1970-01-01 to the date (civil calendar arithmetic). */
    int y = year - (mon <= 2), era = y / 400, yoe = y - era * 400;
    int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    return (uint64_t)(days * 86400 + hour * 3600 + min * 60 + sec);
}
