/* fallockeep DIR - fallocate(2) around the end of a file, found by
 * `./vigil fuzz` (seed 2, docs/fuzz.md): FALLOC_FL_KEEP_SIZE with an offset
 * past the end of the file but in the same page as the end. Vigil clipped
 * the range to the file's size and then zeroed "to - from" bytes of its
 * page buffer, from the offset to the clipped end: a negative length, so
 * memset ran over the kernel's memory until it faulted (a panic, from an
 * unprivileged call). Linux: 0, and the size stays. Also the neighbouring
 * shapes (at the end, in a later page, across the end, without
 * KEEP_SIZE). Prints each call's result, the size, and whether the bytes
 * read back are the 100 written then zeros: what the host prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void try(int fd, int mode, off_t off, off_t len)
{
    int r = fallocate(fd, mode, off, len);
    struct stat st;
    fstat(fd, &st);
    char buf[8192];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    int ok = n == st.st_size;
    for (ssize_t i = 0; ok && i < n; i++)
        ok = buf[i] == (i < 100 ? 'a' + i % 26 : 0);
    printf("fallocate(%s, %lld, %lld) = %d%s%s; size %lld, contents %s\n",
           mode ? "KEEP_SIZE" : "0", (long long)off, (long long)len, r,
           r ? " " : "", r ? strerror(errno) : "", (long long)st.st_size, ok ? "ok" : "WRONG");
}

int main(int argc, char **argv)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/fallockeep", argc > 1 ? argv[1] : "/tmp");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    char data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (char)('a' + i % 26);
    if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
        perror("write");
        return 1;
    }
    try(fd, FALLOC_FL_KEEP_SIZE, 136, 4096);    /* the one that panicked */
    try(fd, FALLOC_FL_KEEP_SIZE, 100, 1);
    try(fd, FALLOC_FL_KEEP_SIZE, 4095, 1);
    try(fd, FALLOC_FL_KEEP_SIZE, 5000, 10);
    try(fd, FALLOC_FL_KEEP_SIZE, 50, 100);
    try(fd, 0, 136, 10);
    try(fd, FALLOC_FL_KEEP_SIZE, 4000, 200);
    close(fd);
    unlink(path);
    printf("fallockeep: done\n");
    return 0;
}
