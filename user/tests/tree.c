/* tree [DIR]: every entry under DIR (default /), sorted, one per line:
 * type, permission bits, size, and a CRC-32 of the contents (files) or the
 * target (symlinks). The same program on the host, over the same tree, must
 * print the same lines. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: cannot open\n", dir);
        return;
    }
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", names[i]);
        struct stat st;
        if (lstat(path, &st)) {
            printf("%s: lstat failed\n", path);
            continue;
        }
        uint32_t crc = 0;
        char kind = '?';
        if (S_ISREG(st.st_mode)) {
            kind = 'f';
            int fd = open(path, O_RDONLY);
            static unsigned char buf[65536];
            ssize_t k;
            while (fd >= 0 && (k = read(fd, buf, sizeof(buf))) > 0)
                crc = crc32(crc, buf, (size_t)k);
            close(fd);
        } else if (S_ISLNK(st.st_mode)) {
            kind = 'l';
            char target[4096];
            ssize_t k = readlink(path, target, sizeof(target));
            crc = crc32(0, (unsigned char *)target, k > 0 ? (size_t)k : 0);
        } else if (S_ISDIR(st.st_mode)) {
            kind = 'd';
        }
        printf("%c %04o %10lld %08x %s\n", kind, st.st_mode & 07777,
               kind == 'd' ? 0LL : (long long)st.st_size, crc, path);
        /* /proc and /sys are the kernel's views, not files on a disk: not
         * descended into (some of their files, /proc/PID/pagemap, run as far
         * as the address space does: 256 GiB of reading, on Linux as here). */
        if (kind == 'd' && strcmp(path, "/proc") && strcmp(path, "/sys"))
            walk(path);
        free(names[i]);
    }
}

int main(int argc, char **argv)
{
    walk(argc > 1 ? argv[1] : "/");
    return 0;
}
