/* user/bench/bench.h - what every micro-benchmark shares: a clock, a loop
 * that runs batches until a minimum time has passed, and the one
 * machine-readable line each program prints:
 *
 *   bench NAME ns_per_op=F ops=N [key=value ...]
 *
 * (harness/bench.py parses it). Lower ns_per_op is better. A benchmark
 * that cannot run reports `bench NAME error=WORD` and exits 1, so the
 * table can say why rather than the run dying.
 *
 * Arguments, all optional: MS (minimum measured time, default 300) and DIR
 * (where file benchmarks work, default /mnt). */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct bench_args {
    uint64_t min_ns;
    const char *dir;
};

static inline struct bench_args bench_args(int argc, char **argv)
{
    struct bench_args a = { 300 * 1000000ull, "/mnt" };
    if (argc > 1 && atoi(argv[1]) > 0)
        a.min_ns = (uint64_t)atoi(argv[1]) * 1000000ull;
    if (argc > 2)
        a.dir = argv[2];
    return a;
}

/* The result line. extra: "" or " key=value..." */
static inline void bench_report(const char *name, double ns_per_op, uint64_t ops,
                                const char *extra)
{
    printf("bench %s ns_per_op=%.1f ops=%llu%s\n", name, ns_per_op,
           (unsigned long long)ops, extra);
    fflush(stdout);
}

static inline int bench_fail(const char *name, const char *what)
{
    printf("bench %s error=%s errno=%d\n", name, what, errno);
    fflush(stdout);
    return 1;
}

/* Run op first_batch times untimed (a warm-up: under TCG, code runs slowly
 * the first time, while QEMU translates it), then in growing batches until
 * min_ns has passed; report. op returns 0 on success. */
#define BENCH_LOOP(name, args, first_batch, op)                                \
    do {                                                                       \
        for (uint64_t _i = 0; _i < (first_batch); _i++)                        \
            if (op)                                                            \
                return bench_fail(name, #op);                                  \
        uint64_t _ops = 0, _batch = (first_batch), _t0 = now_ns(), _el = 0;    \
        while (_el < (args).min_ns) {                                          \
            for (uint64_t _i = 0; _i < _batch; _i++)                           \
                if (op)                                                        \
                    return bench_fail(name, #op);                              \
            _ops += _batch;                                                    \
            _el = now_ns() - _t0;                                              \
            if (_el < (args).min_ns / 8)                                       \
                _batch *= 2;                                                   \
        }                                                                      \
        bench_report(name, (double)_el / (double)_ops, _ops, "");              \
    } while (0)

#endif
