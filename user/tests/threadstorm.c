/* threadstorm [THREADS [ROUNDS]]: THREADS threads (default 8) each run
 * ROUNDS rounds (default 25) of work that goes through the kernel's shared
 * structures at once from every CPU: the process table and the address
 * space (fork, exit, wait of a child; mmap, touch, munmap), the frame
 * allocator, and the file tables (open, read, dup, close; pipe).
 * Every result is checked:
 *
 *   fork    the child writes a pattern over a fresh page and exits with a
 *           status made of the thread and round numbers; the thread waits
 *           for that very pid and checks the status
 *   mmap    16 pages, each page written with its own pattern and read back,
 *           then munmap
 *   files   open /bin/threadstorm, read its ELF magic, dup the descriptor,
 *           read again through the copy, close both
 *   pipe    write a word into a new pipe, read it back, close both ends
 *
 *   threadstorm: 8 threads x 25 rounds: forks 200 ok, maps 200 ok,
 *   files 200 ok, pipes 200 ok, errors 0
 *
 * (one line). Any failure is printed as it happens and counted in errors;
 * the exit status is 0 only when there are none. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define MAP_PAGES 16

static int rounds;
static long forks_ok, maps_ok, files_ok, pipes_ok, errors;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(int thread, int round, const char *what, int e)
{
    pthread_mutex_lock(&print_lock);
    printf("threadstorm: thread %d round %d: %s%s%s\n", thread, round, what, e ? ": " : "",
           e ? strerror(e) : "");
    pthread_mutex_unlock(&print_lock);
    __atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
}

static int do_fork(int me, int r)
{
    int want = (me * 31 + r) % 200 + 1;
    pid_t pid = fork();
    if (pid < 0) {
        fail(me, r, "fork", errno);
        return 0;
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls (it has one thread). */
        char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(255);
        memset(p, want, PAGE);
        for (int i = 0; i < PAGE; i++)
            if (p[i] != (char)want)
                _exit(254);
        _exit(want);
    }
    int st;
    pid_t got;
    while ((got = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (got != pid) {
        fail(me, r, "waitpid", got < 0 ? errno : 0);
        return 0;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
        char msg[96];
        snprintf(msg, sizeof(msg), "child status 0x%x, wanted exit %d", st, want);
        fail(me, r, msg, 0);
        return 0;
    }
    return 1;
}

static int do_mmap(int me, int r)
{
    size_t len = MAP_PAGES * PAGE;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fail(me, r, "mmap", errno);
        return 0;
    }
    for (int pg = 0; pg < MAP_PAGES; pg++)
        for (int i = 0; i < PAGE; i += 64)
            p[pg * PAGE + i] = (unsigned char)(me * 7 + r * 3 + pg + i / 64);
    int ok = 1;
    for (int pg = 0; pg < MAP_PAGES && ok; pg++)
        for (int i = 0; i < PAGE; i++) {
            unsigned char want = i % 64 ? 0 : (unsigned char)(me * 7 + r * 3 + pg + i / 64);
            if (p[pg * PAGE + i] != want) {
                fail(me, r, "mmap: page contents changed under us", 0);
                ok = 0;
                break;
            }
        }
    if (munmap(p, len)) {
        fail(me, r, "munmap", errno);
        ok = 0;
    }
    return ok;
}

static int do_files(int me, int r)
{
    int fd = open("/bin/threadstorm", O_RDONLY);
    if (fd < 0) {
        fail(me, r, "open /bin/threadstorm", errno);
        return 0;
    }
    char buf[4];
    int ok = 1;
    if (read(fd, buf, 4) != 4 || memcmp(buf, "\177ELF", 4)) {
        fail(me, r, "read through the descriptor", errno);
        ok = 0;
    }
    int fd2 = dup(fd);
    if (fd2 < 0) {
        fail(me, r, "dup", errno);
        ok = 0;
    } else {
        /* The copy shares the file offset: read from 0 again with pread. */
        if (pread(fd2, buf, 4, 0) != 4 || memcmp(buf, "\177ELF", 4)) {
            fail(me, r, "pread through the copy", errno);
            ok = 0;
        }
        if (close(fd2)) {
            fail(me, r, "close the copy", errno);
            ok = 0;
        }
    }
    if (close(fd)) {
        fail(me, r, "close", errno);
        ok = 0;
    }
    return ok;
}

static int do_pipe(int me, int r)
{
    int p[2];
    if (pipe(p)) {
        fail(me, r, "pipe", errno);
        return 0;
    }
    int v = me * 1000 + r, got = -1, ok = 1;
    if (write(p[1], &v, sizeof v) != sizeof v || read(p[0], &got, sizeof got) != sizeof got ||
        got != v) {
        fail(me, r, "pipe round trip", errno);
        ok = 0;
    }
    if (close(p[0]) || close(p[1])) {
        fail(me, r, "close pipe", errno);
        ok = 0;
    }
    return ok;
}

static void *storm(void *arg)
{
    int me = (int)(long)arg;
    for (int r = 0; r < rounds; r++) {
        __atomic_fetch_add(&forks_ok, do_fork(me, r), __ATOMIC_RELAXED);
        __atomic_fetch_add(&maps_ok, do_mmap(me, r), __ATOMIC_RELAXED);
        __atomic_fetch_add(&files_ok, do_files(me, r), __ATOMIC_RELAXED);
        __atomic_fetch_add(&pipes_ok, do_pipe(me, r), __ATOMIC_RELAXED);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    rounds = argc > 2 ? atoi(argv[2]) : 25;
    if (n < 1 || n > 64 || rounds < 1) {
        fprintf(stderr, "usage: threadstorm [THREADS [ROUNDS]]\n");
        return 2;
    }
    pthread_t t[64];
    for (long i = 0; i < n; i++) {
        int e = pthread_create(&t[i], NULL, storm, (void *)i);
        if (e) {
            printf("threadstorm: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("threadstorm: %d threads x %d rounds: forks %ld ok, maps %ld ok, files %ld ok, "
           "pipes %ld ok, errors %ld\n", n, rounds, forks_ok, maps_ok, files_ok, pipes_ok, errors);
    return errors ? 1 : 0;
}
