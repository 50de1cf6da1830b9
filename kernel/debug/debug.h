/* debug/debug.h - when things go wrong: panic, symbolised backtraces, and
 * the deliberate crashes (crash=NAME on the command line) that prove the
 * reporting works. */
#pragma once
#include "../lib/types.h"

__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define ASSERT(c) do { if (unlikely(!(c))) panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); } while (0)

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);
/* Print "BACKTRACE" and one line per frame, starting at rip, walking rbp. */
void backtrace_from(uintptr_t rip, uintptr_t rbp);
/* Run the crash named on the command line (never returns if it exists). */
void crash_run(const char *name);
