/* demand: memory is given frames on first touch, not when mapped, and all
 * of it comes back at munmap. Reads the kernel's free-frame count from
 * /proc/meminfo (Vigil's VigilFreeFrames line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static long free_frames(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VigilFreeFrames:", 16))
            v = atol(line + 16);
    if (f)
        fclose(f);
    return v;
}

int main(void)
{
    const size_t len = 64 << 20, pages = len / 4096;
    free_frames();                                  /* warm stdio up */
    long start = free_frames();
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long mapped = free_frames();
    for (size_t i = 0; i < len; i += 4096 * 2)      /* touch every other page */
        m[i] = 1;
    long touched = free_frames();
    munmap(m, len);
    long unmapped = free_frames();
    printf("frames used by mapping 64 MiB: %ld\n", start - mapped);
    printf("frames used after touching %zu of %zu pages: %ld\n", pages / 2, pages, start - touched);
    printf("frames still used after munmap: %ld\n", start - unmapped);
    return 0;
}
