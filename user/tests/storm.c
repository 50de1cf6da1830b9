/* storm N: fork/exec/exit N times (and fork-without-exec, a process that
 * maps and touches memory before dying, and one that makes a thread and a
 * pipe), then report the kernel's accounting before and after from
 * /proc/meminfo:
 *
 *   free frames before F after F
 *   heap bytes before B after B
 *   heap objects before 12 40 ... after 12 40 ...
 *
 * Frames count the kernel heap's cached pages as free (the heap keeps partly
 * used pages for reuse, which is not a leak); the heap's bytes and its
 * blocks in use per size class are exact, so one kmalloc that is never freed
 * shows. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "meminfo.h"


static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 30;
    struct snap before, after;
    take(&before);                  /* also warms up stdio's buffers */
    /* Round 0 warms up: the kernel heap's per-size caches and this process's
     * own stack and page tables settle. Round 1 is measured. */
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            take(&before);
        for (int i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                if (i % 4 == 0) {
                    char *av[] = { "/bin/hello", NULL };
                    execv(av[0], av);
                    _exit(127);
                }
                if (i % 4 == 1) {
                    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                    for (int k = 0; k < (1 << 20); k += 4096)
                        m[k] = 1;
                    sbrk(1 << 16);
                }
                if (i % 4 == 2) {
                    pthread_t t;
                    int fds[2];
                    if (pthread_create(&t, NULL, nothing, NULL) == 0)
                        pthread_join(t, NULL);
                    if (pipe(fds) == 0 && write(fds[1], "x", 1) == 1)
                        close(dup(fds[0]));
                }
                _exit(i % 256);
            }
            int st;
            waitpid(pid, &st, 0);
        }
    }
    take(&after);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
    return before.frames == after.frames && before.bytes == after.bytes &&
           !strcmp(before.objects, after.objects) ? 0 : 1;
}
