/* user/bench/seqio.h - the 64 MiB file the sequential benchmarks use. */
#ifndef SEQIO_H
#define SEQIO_H

#include <fcntl.h>
#include <unistd.h>
#include "bench.h"

#define SEQ_SIZE (64ul << 20)
#define SEQ_CHUNK (64ul << 10)

static char seq_buf[SEQ_CHUNK];

/* Write the whole file in SEQ_CHUNK pieces and fsync it; 0 on success. */
static inline int seq_write_file(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    memset(seq_buf, 's', sizeof(seq_buf));
    for (unsigned long done = 0; done < SEQ_SIZE; done += SEQ_CHUNK)
        if (write(fd, seq_buf, SEQ_CHUNK) != (ssize_t)SEQ_CHUNK)
            return close(fd), -1;
    if (fsync(fd))
        return close(fd), -1;
    return close(fd);
}

/* One op is one MiB; the line carries MB/s too. */
static inline void seq_report(const char *name, uint64_t el_ns)
{
    char extra[64];
    double mib = (double)(SEQ_SIZE >> 20);
    snprintf(extra, sizeof(extra), " mib_per_s=%.1f", mib * 1e9 / (double)el_ns);
    bench_report(name, (double)el_ns / mib, SEQ_SIZE >> 20, extra);
}

#endif
