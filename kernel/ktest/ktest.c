/* ktest/ktest.c - run the selected in-kernel tests and print KTAP v1:
 * one subtest per suite, one result line per case. */
#include "ktest.h"
#include "../lib/kprintf.h"
#include "../lib/string.h"

extern const struct ktest __ktests_start[], __ktests_end[];

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kprintf("    # %s:%d: %s\n", file, line, msg);
    t->failed = true;
}

static bool selected(const struct ktest *k, const char *glob)
{
    char id[96];
    snprintf(id, sizeof(id), "%s.%s", k->suite, k->name);
    return !strcmp(glob, "all") || glob_match(glob, id);
}

/* Cases of one suite are contiguous: KTEST() bodies of a suite live in one file. */
static const struct ktest *suite_end(const struct ktest *k)
{
    const struct ktest *e = k;
    while (e < __ktests_end && !strcmp(e->suite, k->suite))
        e++;
    return e;
}

bool ktest_run(const char *glob)
{
    int nsuites = 0;
    for (const struct ktest *k = __ktests_start; k < __ktests_end; k = suite_end(k)) {
        for (const struct ktest *c = k; c < suite_end(k); c++)
            if (selected(c, glob)) {
                nsuites++;
                break;
            }
    }

    kprintf("KTAP version 1\n1..%d\n", nsuites);
    int suite_no = 0;
    bool all_ok = true;
    for (const struct ktest *k = __ktests_start; k < __ktests_end; k = suite_end(k)) {
        const struct ktest *end = suite_end(k);
        int ncases = 0;
        for (const struct ktest *c = k; c < end; c++)
            ncases += selected(c, glob);
        if (!ncases)
            continue;
        kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", k->suite, ncases);
        bool suite_ok = true;
        int case_no = 0;
        for (const struct ktest *c = k; c < end; c++) {
            if (!selected(c, glob))
                continue;
            struct ktest_ctx t = { false, NULL };
            c->fn(&t);
            case_no++;
            if (t.skip_reason)
                kprintf("    ok %d %s # SKIP %s\n", case_no, c->name, t.skip_reason);
            else
                kprintf("    %s %d %s\n", t.failed ? "not ok" : "ok", case_no, c->name);
            suite_ok &= !t.failed;
        }
        kprintf("%s %d %s\n", suite_ok ? "ok" : "not ok", ++suite_no, k->suite);
        all_ok &= suite_ok;
    }
    return all_ok;
}
