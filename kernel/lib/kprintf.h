/* lib/kprintf.h - formatted output to the console. Formats: %d %i %u %x %X
 * %p %s %c %%, with l/ll/z sizes, a width, and the '0' and '-' flags. */
#pragma once
#include "types.h"

int  kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int  vkprintf(const char *fmt, va_list ap);
int  snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int  vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void console_write(const char *s, size_t n);
void console_write_raw(const char *s, size_t n);    /* no "\r" before "\n" */
/* Panic only: drop the console lock whoever holds it, so the report gets out. */
void console_unlock_for_panic(void);

/* The kernel's log (syslog(2), /dev/kmsg-less dmesg): what kprintf printed,
 * the last KLOG_SIZE bytes. klog_take copies into out (at most n bytes)
 * as what says: KLOG_READ the unread bytes (consumed), KLOG_READ_ALL the
 * newest since the last clear, KLOG_READ_CLEAR the same and clear,
 * KLOG_CLEAR only clear, KLOG_UNREAD only count the unread. */
#define KLOG_SIZE 16384
enum { KLOG_READ, KLOG_READ_ALL, KLOG_READ_CLEAR, KLOG_CLEAR, KLOG_UNREAD };
size_t klog_take(char *out, size_t n, int what);
