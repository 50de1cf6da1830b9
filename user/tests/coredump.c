/* coredump: a process killed by a "core" signal leaves a core file, named
 * by /proc/sys/kernel/core_pattern, within RLIMIT_CORE, and its parent's
 * wait status says so (WCOREDUMP; waitid's CLD_DUMPED).
 *
 * Why: the file is only worth something if an outside reader makes sense
 * of it, so this program only makes the crashes and says what the parent
 * saw; the test copies the cores off the disk and hands them to the host's
 * gdb and readelf. Mode:
 *   run DIR      mount /dev/vda on DIR; then, each in a forked child:
 *                a NULL write in crash_here() (SIGSEGV), with a marker
 *                string in the heap and another in a MADV_DONTDUMP region;
 *                abort(); SIGQUIT from the parent; SIGTERM (no core); with
 *                RLIMIT_CORE 0, 1, and a limit smaller than the core (cut
 *                short there, still dumped, as Linux 6.x); a
 *                pipe pattern (not supported: no core); waitid's si_code.
 *                One line each: the status bits and the files left. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

static void set_pattern(const char *p)
{
    int fd = open("/proc/sys/kernel/core_pattern", O_WRONLY);
    if (fd < 0 || write(fd, p, strlen(p)) != (ssize_t)strlen(p))
        printf("core_pattern %s: %s\n", p, strerror(errno));
    if (fd >= 0)
        close(fd);
}

static void core_limit(rlim_t v)
{
    struct rlimit rl = { v, RLIM_INFINITY };
    setrlimit(RLIMIT_CORE, &rl);
}

/* The files in dir whose name starts with prefix: how many, and the size
 * of the last. */
static int files(const char *prefix, long *size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    *size = 0;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            char path[512];
            struct stat st;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (!stat(path, &st))
                *size = (long)st.st_size;
            n++;
        }
    if (d)
        closedir(d);
    return n;
}

__attribute__((noinline)) void crash_here(volatile int *p)
{
    *p = 42;                                    /* SIGSEGV: the frame gdb must show */
}

static char *heap_marker;

static void segv_child(void)
{
    heap_marker = malloc(64);
    strcpy(heap_marker, "HEAP-MARKER-kept-in-the-core");
    char *hidden = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(hidden, "HIDDEN-MARKER-madv-dontdump");
    if (madvise(hidden, 4096, MADV_DONTDUMP))
        printf("madvise(MADV_DONTDUMP): %s\n", strerror(errno));
    crash_here(NULL);
}

/* Fork, let the child die as fn says (or be killed by sig), and report. */
static void case_(const char *what, const char *prefix, void (*fn)(void), int sig)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        if (fn)
            fn();
        for (;;)
            pause();
    }
    if (sig) {
        usleep(100000);
        kill(c, sig);
    }
    int st;
    waitpid(c, &st, 0);
    long size;
    int n = files(prefix, &size);
    printf("%s: pid %d, signal %d, WCOREDUMP %d, files %d, size %s\n", what, c,
           WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFSIGNALED(st) ? !!WCOREDUMP(st) : 0, n,
           size > 0 ? "nonzero" : "zero");
    printf("%s: bytes %ld\n", what, size);
}

static void do_abort(void) { abort(); }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3 || strcmp(argv[1], "run"))
        return fprintf(stderr, "usage: coredump run DIR\n"), 2;
    dir = argv[2];
    printf("mount: %s\n", mount("/dev/vda", dir, "ext3", 0, NULL) ? strerror(errno) : "0");
    if (chdir(dir))
        return 1;
    char pat[256];
    snprintf(pat, sizeof(pat), "%s/core.%%e.%%p.%%s", dir);
    set_pattern(pat);
    core_limit(RLIM_INFINITY);
    case_("segv", "core.coredump.", segv_child, 0);
    snprintf(pat, sizeof(pat), "%s/abort-%%p", dir);
    set_pattern(pat);
    case_("abort", "abort-", do_abort, 0);
    snprintf(pat, sizeof(pat), "%s/quit-%%p", dir);
    set_pattern(pat);
    case_("quit", "quit-", NULL, SIGQUIT);
    snprintf(pat, sizeof(pat), "%s/term-%%p", dir);
    set_pattern(pat);
    case_("term", "term-", NULL, SIGTERM);
    snprintf(pat, sizeof(pat), "%s/nolimit-%%p", dir);
    set_pattern(pat);
    core_limit(0);
    case_("RLIMIT_CORE 0", "nolimit-", do_abort, 0);
    core_limit(1);
    case_("RLIMIT_CORE 1", "nolimit-", do_abort, 0);
    snprintf(pat, sizeof(pat), "%s/small-%%p", dir);
    set_pattern(pat);
    core_limit(8192);
    case_("RLIMIT_CORE 8192", "small-", do_abort, 0);
    core_limit(RLIM_INFINITY);
    /* A plain name: the dying process's working directory. */
    set_pattern("plain");
    case_("relative name", "plain", do_abort, 0);
    set_pattern("|/bin/cat");
    case_("pipe pattern", "|", do_abort, 0);
    set_pattern("core");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
        raise(SIGFPE);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    waitid(P_PID, (id_t)c, &si, WEXITED);
    printf("waitid: si_code %s, si_status %d\n", si.si_code == CLD_DUMPED ? "CLD_DUMPED" :
           si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", si.si_status);
    char buf[64] = "";
    int fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);
    buf[fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0] = 0;
    printf("core_pattern reads back: %s", buf);
    if (chdir("/"))
        return 1;
    printf("umount: %s\n", umount(dir) ? strerror(errno) : "0");
    return 0;
}
