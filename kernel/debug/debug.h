/* debug/debug.h - when things go wrong: panic, symbolised backtraces, and
 * the deliberate crashes (crash=NAME on the command line) that prove the
 * reporting works. */
#pragma once
#include "../lib/types.h"

__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define ASSERT(c) do { if (unlikely(!(c))) panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); } while (0)

/* Lock rules, checked where they are relied on (docs/architecture.md,
 * "Locking rules"). ASSERT_HELD(&lock): the caller holds this spinlock (this
 * CPU) or mutex (this thread); ASSERT_KLOCK(): the running thread holds the
 * kernel lock. One goes on the first line of every function whose contract
 * is "caller holds X" (every *_locked function, and the helpers documented
 * "with sched_lock held"). They compare an owner field, nothing more (no
 * lock-order walk), so they are on by default; -DVIGIL_NO_LOCK_ASSERTS
 * compiles them out. The spinlock break switch has no owners worth
 * checking (nobody waits, so holders overwrite each other): there they are
 * off, and that kernel fails with the symptom its promise names. */
struct spinlock;
struct mutex;
bool spin_held(struct spinlock *l);         /* lib/spinlock.c: by this CPU */
bool mutex_held(struct mutex *m);           /* proc/sync.c: by this thread */
bool kernel_lock_held(void);                /* proc/sync.c: by this thread */
#define lock_held(l) _Generic((l), struct spinlock *: spin_held, struct mutex *: mutex_held)(l)
#if defined(VIGIL_NO_LOCK_ASSERTS) || defined(BREAK_SPINLOCK)
#define ASSERT_HELD(l) ((void)0)
#define ASSERT_KLOCK() ((void)0)
#else
#define ASSERT_HELD(l) do { if (unlikely(!lock_held(l))) \
        panic("lock rule: %s() needs %s held (%s:%d)", __func__, #l, __FILE__, __LINE__); } while (0)
#define ASSERT_KLOCK() do { if (unlikely(!kernel_lock_held())) \
        panic("lock rule: %s() needs the kernel lock (%s:%d)", __func__, __FILE__, __LINE__); } while (0)
#endif

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);
/* The return addresses of the n functions above the one this is inlined
 * into, read from the frame-pointer chain (0 where it ends). A frame is
 * followed only on this kernel stack: 8-aligned, above this one, within
 * 16 KiB. Always inlined: the first is where the function it is inlined
 * into was called from. */
static inline __attribute__((always_inline)) void stack_callers(uintptr_t *site, int n)
{
    uintptr_t *fp = __builtin_frame_address(0), here = (uintptr_t)&site;
    for (int i = 0; i < n; i++) {
        uintptr_t f = (uintptr_t)fp;
        bool ok = fp && !(f & 7) && f >= here && f - here <= 16384;
        site[i] = ok ? fp[1] : 0;
        fp = ok ? (uintptr_t *)fp[0] : NULL;
    }
}
/* Print "BACKTRACE" and one line per frame, starting at rip, walking rbp. */
void backtrace_from(uintptr_t rip, uintptr_t rbp);
/* The stall watchdog (watchdog.c): init after the timer; tick from every
 * CPU's timer interrupt. */
struct trapframe;
void watchdog_init(void);
void watchdog_tick(struct trapframe *tf);
/* The stall threshold in timer ticks (0: the watchdog is off). */
uint32_t watchdog_limit_ticks(void);
/* Print every thread (state, syscall, wait channel, kernel backtrace of a
 * sleeper, user rip) at CPU 0's next tick: a break on the serial line asks
 * for it (console.c), so a harness can see inside a machine gone quiet. */
void watchdog_request_dump(void);
/* crash=stall-irq: interrupts off for ever, once the other CPUs run. */
void crash_stall_irq(void);
/* crash=hung: armed at boot; the first sync(2) then calls crash_hung,
 * which sleeps in D state for ever (the hung-task watchdog's test). */
extern bool crash_hung_armed;
void crash_hung(void);
/* Run the crash named on the command line (never returns if it exists). */
void crash_run(const char *name);
