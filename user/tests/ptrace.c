/* ptrace - ptrace(2)'s contract, printed so the same program on the host
 * Linux prints the same lines (tests/test_ptrace.py compares them).
 *
 * A child asks to be traced (TRACEME) and execs itself ("child" mode); the
 * parent sees exec's SIGTRAP, steps it syscall by syscall (TRACESYSGOOD),
 * reads its registers and memory, turns its getppid into a skipped call
 * (-1: the result the tracer leaves), rewrites a write's argument, POKEs a
 * read-only text byte (Linux writes it through a private copy), and checks
 * the errors: attach to self, to pid 1 as non-root, to a nonexistent pid,
 * bad requests. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static const char secret[] = "text-ro";
static char buf[32] = "tracee-data";

static int child(void)
{
    /* getppid is skipped by the tracer: it answers 4242 */
    long r = syscall(SYS_getppid);
    char line[64];
    int n = snprintf(line, sizeof(line), "child: getppid -> %ld\n", r);
    (void)!write(1, line, (size_t)n);
    (void)!write(1, "child: AAAA\n", 12);       /* the tracer makes it BBBB */
    printf("child: secret now %s\n", secret);
    fflush(stdout);
    return 7;
}

static const char *errname(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EIO: return "EIO";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

static void expect_err(const char *what, long r)
{
    printf("%s: %s\n", what, r == -1 ? errname(errno) : "ok");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child();
    setvbuf(stdout, NULL, _IONBF, 0);
    expect_err("attach self", ptrace(PTRACE_ATTACH, getpid(), 0, 0));
    expect_err("attach nonexistent", ptrace(PTRACE_ATTACH, 999999, 0, 0));
    expect_err("cont not traced", ptrace(PTRACE_CONT, 1, 0, 0));
    if (getuid() != 0)
        expect_err("attach init", ptrace(PTRACE_ATTACH, 1, 0, 0));
    else
        printf("attach init: EPERM\n");          /* what a non-root caller gets */

    /* The promise: a process traces only what it owns. A root process
     * holds a secret; a uid-1000 process may neither attach nor read it. */
    {
        int ready[2];
        if (pipe(ready))
            return 2;
        pid_t root = fork();
        if (root == 0) {
            strcpy(buf, "root-secret");
            close(ready[0]);
            (void)!write(ready[1], "x", 1);
            for (;;)
                pause();
        }
        close(ready[1]);
        char c;
        (void)!read(ready[0], &c, 1);
        pid_t u = fork();
        if (u == 0) {
            if (setresgid(100, 100, 100) || setresuid(1000, 1000, 1000))
                _exit(4);
            expect_err("uid 1000: attach root", ptrace(PTRACE_ATTACH, root, 0, 0));
            expect_err("uid 1000: seize root", ptrace(PTRACE_SEIZE, root, 0, 0));
            char got[16] = { 0 };
            struct iovec l = { got, 11 }, r = { buf, 11 };
            ssize_t n = process_vm_readv(root, &l, 1, &r, 1, 0);
            if (n > 0)
                printf("uid 1000: read root's memory: %s\n", got);
            else
                expect_err("uid 1000: process_vm_readv root", n);
            _exit(0);
        }
        waitpid(u, NULL, 0);
        kill(root, SIGKILL);
        waitpid(root, NULL, 0);
    }

    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execl(argv[0], argv[0], "child", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("exec stop: stopped=%d sig=%s\n", WIFSTOPPED(st), WSTOPSIG(st) == SIGTRAP ? "SIGTRAP" : "?");
    {
        char path[64], line[128];
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
            if (strncmp(line, "TracerPid:", 10) == 0)
                printf("TracerPid is parent: %d\n", atoi(line + 10) == getpid());
        if (f)
            fclose(f);
    }
    expect_err("bad request", ptrace(0x7777, pid, 0, 0));
    expect_err("peek bad address", ptrace(PTRACE_PEEKDATA, pid, (void *)8, 0));
    expect_err("peekuser unaligned", ptrace(PTRACE_PEEKUSER, pid, (void *)3, 0));
    expect_err("setoptions", ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));

    /* memory: the tracee's copy of buf (same address: the same binary, no PIE) */
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, buf, 0);
    printf("peekdata: %.8s errno=%d\n", (char *)&w, errno);
    long tw = ptrace(PTRACE_PEEKDATA, pid, secret, 0);
    memcpy(&tw, "TEXT-RW", 8);
    expect_err("poke text", ptrace(PTRACE_POKEDATA, pid, secret, tw));
    char rb[12] = { 0 };
    struct iovec lio = { rb, 11 }, rio = { buf, 11 };
    printf("process_vm_readv: %zd %s\n", process_vm_readv(pid, &lio, 1, &rio, 1, 0), rb);

    int nsys = 0, sysgood = 1, skipped = 0, rewrote = 0, exited = 0;
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
            break;
        if (waitpid(pid, &st, __WALL) < 0)
            break;
        if (WIFEXITED(st)) {
            exited = WEXITSTATUS(st);
            break;
        }
        if (!WIFSTOPPED(st))
            break;
        if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
            sysgood = 0;
            continue;
        }
        struct user_regs_struct r;
        ptrace(PTRACE_GETREGS, pid, 0, &r);
        nsys++;
        /* entry stops have rax == -ENOSYS */
        if (r.orig_rax == SYS_getppid && (long)r.rax == -ENOSYS) {
            r.orig_rax = -1;
            r.rax = 4242;
            ptrace(PTRACE_SETREGS, pid, 0, &r);
            skipped++;
            ptrace(PTRACE_SYSCALL, pid, 0, 0);
            waitpid(pid, &st, __WALL);           /* the exit stop */
            ptrace(PTRACE_GETREGS, pid, 0, &r);
            if ((long)r.rax == -ENOSYS) {        /* as Linux, rax at exit is what was left */
                r.rax = 4242;
                ptrace(PTRACE_SETREGS, pid, 0, &r);
            }
        } else if (r.orig_rax == SYS_write && (long)r.rax == -ENOSYS && r.rdx == 12) {
            long word = ptrace(PTRACE_PEEKDATA, pid, (void *)r.rsi, 0);
            if (memcmp(&word, "child: A", 8) == 0) {
                memcpy((char *)&word + 7, "B", 1);
                ptrace(PTRACE_POKEDATA, pid, (void *)r.rsi, word);
                word = ptrace(PTRACE_PEEKDATA, pid, (void *)r.rsi + 8, 0);
                memcpy(&word, "BBB", 3);
                ptrace(PTRACE_POKEDATA, pid, (void *)r.rsi + 8, word);
                rewrote++;
            }
        }
    }
    printf("syscall stops seen: %s, sysgood %d, skipped %d, rewrote %d, exit %d\n",
           nsys > 6 ? "many" : "few", sysgood, skipped, rewrote, exited);
    printf("parent secret still %s\n", secret);

    /* A tracee killed while stopped: its tracer's wait says SIGKILL. */
    pid_t k = fork();
    if (k == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        for (;;)
            getppid();
    }
    waitpid(k, &st, 0);
    ptrace(PTRACE_SYSCALL, k, 0, 0);
    waitpid(k, &st, 0);                          /* a syscall stop */
    kill(k, SIGKILL);
    waitpid(k, &st, 0);
    printf("tracee killed in a stop: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));

    /* A tracer killed while its tracee is stopped: EXITKILL takes the
     * tracee with it (without it the tracee would run on detached). */
    int p2[2];
    if (pipe(p2))
        return 2;
    pid_t tracer = fork();
    if (tracer == 0) {
        pid_t victim = fork();
        if (victim == 0) {
            for (;;)
                pause();
        }
        ptrace(PTRACE_SEIZE, victim, 0, PTRACE_O_EXITKILL);
        ptrace(PTRACE_INTERRUPT, victim, 0, 0);
        waitpid(victim, &st, __WALL);
        (void)!write(p2[1], &victim, sizeof(victim));
        for (;;)
            pause();
    }
    pid_t victim;
    (void)!read(p2[0], &victim, sizeof(victim));
    kill(tracer, SIGKILL);
    waitpid(tracer, NULL, 0);
    int gone = 0;
    for (int i = 0; i < 20000 && !gone; i++) {   /* reaped by init, which adopted it */
        gone = kill(victim, 0) < 0 && errno == ESRCH;
        if (!gone)
            usleep(1000);
    }
    printf("tracer killed: EXITKILL tracee gone %d\n", gone);
    return 0;
}
