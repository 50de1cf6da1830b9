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
