/* fdlist - /proc/self/fd of a process with many descriptors open, found by
 * `./vigil fuzz` (docs/fuzz.md): the listing collected the numbers in an
 * array sized for processes (NPROC, 256), not descriptors (NOFILE, 1024),
 * so a process with more than 256 files open wrote past it into the
 * kernel heap (trinity's children open hundreds; the free list's next
 * block was overwritten with descriptor numbers, and the next kmalloc
 * of that size faulted). Opens up to 1000 descriptors, lists the directory
 * again and again (each listing allocates anew), and prints what it saw:
 * what the host prints. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static int count(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0, top = -1;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            n++;
            if (atoi(e->d_name) > top)
                top = atoi(e->d_name);
        }
    if (d)
        closedir(d);
    return n * 10000 + top;
}

int main(void)
{
    struct rlimit rl = { 1024, 1024 };
    setrlimit(RLIMIT_NOFILE, &rl);
    for (int want = 200; want <= 1000; want += 200) {
        int fd;
        do
            fd = dup(0);
        while (fd >= 0 && fd < want - 1);
        int seen = 0;
        for (int i = 0; i < 50; i++)
            seen = count();
        printf("fdlist: ~%d open: %d entries (the directory's own among them), highest %d\n",
               want, seen / 10000, seen % 10000);
    }
    printf("fdlist: done\n");
    return 0;
}
