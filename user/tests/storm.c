/* storm N: fork/exec/exit N times (and fork-without-exec, and a process
 * that maps and touches memory before dying), printing the kernel's free
 * frame count before and after (from /proc/meminfo). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

/* Frames not in use, counting the kernel heap's cached pages as free: the
 * heap keeps partly used pages for reuse, which is not a leak. */
static long free_frames(void)
{
    return meminfo("VigilFreeFrames") + meminfo("VigilHeapPages");
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 30;
    long before = free_frames();    /* also warms up stdio's buffers */
    /* Round 0 warms up: the kernel heap's per-size caches and this process's
     * own stack and page tables settle. Round 1 is measured. */
    for (int round = 0; round < 2; round++) {
    if (round == 1)
        before = free_frames();
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (i % 3 == 0) {
                char *av[] = { "/bin/hello", NULL };
                execv(av[0], av);
                _exit(127);
            }
            if (i % 3 == 1) {
                char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                for (int k = 0; k < (1 << 20); k += 4096)
                    m[k] = 1;
                sbrk(1 << 16);
            }
            _exit(i % 256);
        }
        int st;
        waitpid(pid, &st, 0);
    }
    }
    long after = free_frames();
    printf("free frames before %ld after %ld\n", before, after);
    return before == after ? 0 : 1;
}
