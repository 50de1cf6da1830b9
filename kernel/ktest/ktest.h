/* ktest/ktest.h - in-kernel unit tests, reported in KTAP (the format Linux's
 * KUnit prints). A test is a function declared with KTEST(suite, name); the
 * command line ktest=GLOB runs the ones whose "suite.name" matches.
 *
 *     KTEST(pmm, free_restores_count) {
 *         uint64_t before = pmm_free_frames();
 *         ...
 *         KT_EXPECT_EQ(t, pmm_free_frames(), before);
 *     }
 *
 * The function's symbol is ktest__<suite>__<name>: the harness reads the
 * list of cases from the kernel's symbol table. */
#pragma once
#include "../lib/types.h"

struct ktest_ctx {
    bool failed;
    const char *skip_reason;
};

struct ktest {
    const char *suite;
    const char *name;
    void (*fn)(struct ktest_ctx *t);
};

#define KTEST(suite, name)                                                          \
    void ktest__##suite##__##name(struct ktest_ctx *t);                             \
    static const struct ktest ktest_desc__##suite##__##name                         \
        __attribute__((used, section(".ktests"), aligned(8))) =                      \
        { #suite, #name, ktest__##suite##__##name };                                \
    __attribute__((noinline)) void ktest__##suite##__##name(struct ktest_ctx *t)

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* EXPECT records a failure and goes on; ASSERT also ends the test. */
#define KT_EXPECT(t, c) \
    do { if (!(c)) ktest_fail(t, __FILE__, __LINE__, "expected %s", #c); } while (0)
#define KT_ASSERT(t, c) \
    do { if (!(c)) { ktest_fail(t, __FILE__, __LINE__, "expected %s", #c); return; } } while (0)
#define KT_EXPECT_EQ(t, a, b)                                                         \
    do {                                                                              \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                              \
        if (_a != _b)                                                                 \
            ktest_fail(t, __FILE__, __LINE__, "expected %s == %s (0x%lx != 0x%lx)",   \
                       #a, #b, _a, _b);                                               \
    } while (0)
#define KT_SKIP(t, why) do { (t)->skip_reason = (why); return; } while (0)

/* Run the tests matching glob; true if none failed. */
bool ktest_run(const char *glob);
