/* meminfo.h - the kernel's memory counters, as a leak test reads them from
 * /proc/meminfo: free frames plus the heap's pages (a frame the heap took
 * and gave back counts the same), the heap's bytes in use and its objects
 * per size class. Shared by storm.c and tmpdev.c. */
#ifndef VIGIL_MEMINFO_H
#define VIGIL_MEMINFO_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct snap {
    long frames, bytes;
    char objects[160];
};

static inline void take(struct snap *s)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[160];
    long free_frames = -1, heap_pages = -1;
    s->bytes = -1;
    strcpy(s->objects, "?");
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "VigilFreeFrames:", 16))
            free_frames = atol(line + 16);
        else if (!strncmp(line, "VigilHeapPages:", 15))
            heap_pages = atol(line + 15);
        else if (!strncmp(line, "VigilHeapBytes:", 15))
            s->bytes = atol(line + 15);
        else if (!strncmp(line, "VigilHeapObjects:", 17))
            snprintf(s->objects, sizeof(s->objects), "%s", line + 18);
    }
    if (f)
        fclose(f);
    s->frames = free_frames + heap_pages;
}

#endif
