/* lib/cmdline.h - the kernel command line: space-separated words, each a
 * flag ("exit") or key=value ("ktest=pmm.*"). */
#pragma once
#include "types.h"

void        cmdline_set(const char *line);
const char *cmdline_line(void);                /* the whole line (/proc/cmdline) */
bool        cmdline_has(const char *flag);
/* Copy the value of key into buf; false if the key is absent. */
bool        cmdline_get(const char *key, char *buf, size_t size);
