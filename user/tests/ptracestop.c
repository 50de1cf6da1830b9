/* ptracestop - what a tracer and a parent hear, and what a traced exec of a
 * set-user-ID program may do; printed so the host Linux prints the same
 * lines (tests/test_ptrace_stops.py compares them).
 *
 *   sigchld   SIGCHLD's siginfo for each kind of event, read with
 *             sigwaitinfo after waitpid saw the event: CLD_STOPPED and
 *             CLD_CONTINUED (job control), CLD_EXITED, CLD_KILLED,
 *             CLD_TRAPPED (a signal-delivery stop, a syscall stop, exec's
 *             SIGTRAP), CLD_STOPPED for a PTRACE_INTERRUPT's event stop,
 *             si_status and whether si_pid is the child.
 *   exitkill  a tracer that exits (normally, not killed) while its SEIZEd
 *             EXITKILL tracee runs takes it along: SIGKILL.
 *   setuid    a copy of this program made set-user-ID root in /tmp, run by
 *             uid 1000: untraced it runs as euid 0; traced through its own
 *             TRACEME (a uid-1000 link, whoever the parent) as euid 1000:
 *             the privilege is dropped, as Linux does; SEIZEd by root as
 *             euid 0. AT_SECURE is 1 in all four (the file is set-ID).
 * Must start as root (it makes the set-user-ID file and drops to 1000). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUID_COPY "/tmp/ptracestop-suid"

static sigset_t chld_set;

static const char *code_name(int c)
{
    switch (c) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case CLD_TRAPPED: return "CLD_TRAPPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    case SI_USER: return "SI_USER";
    default: return "other";
    }
}

/* The SIGCHLD the event just seen by waitpid queued. */
static void chld(const char *what, pid_t child)
{
    siginfo_t si;
    struct timespec ts = { 5, 0 };             /* (only so a missing one cannot hang us) */
    if (sigtimedwait(&chld_set, &si, &ts) != SIGCHLD) {
        printf("%s: no SIGCHLD\n", what);
        return;
    }
    printf("%s: %s status %d pid is child %d\n", what, code_name(si.si_code), si.si_status,
           si.si_pid == child);
}

static void sigchld(void)
{
    int st;
    /* Job control: stop, continue, exit (only once the continue's SIGCHLD
     * was taken: two pending SIGCHLDs would be one). */
    int go[2];
    if (pipe(go))
        return;
    pid_t c = fork();
    if (c == 0) {
        char x;
        close(go[1]);
        raise(SIGSTOP);
        _exit(read(go[0], &x, 1) == 0 ? 5 : 6);
    }
    close(go[0]);
    waitpid(c, &st, WUNTRACED);
    chld("group stop", c);
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    chld("continued", c);
    close(go[1]);
    waitpid(c, &st, 0);
    chld("exited", c);

    c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    chld("killed", c);

    /* TRACEME: a signal-delivery stop, syscall stops, the exit. */
    c = fork();
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGUSR1);
        getppid();
        _exit(3);
    }
    waitpid(c, &st, 0);
    chld("signal-delivery stop", c);
    ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
    ptrace(PTRACE_SYSCALL, c, 0, 0);            /* the SIGUSR1 is suppressed */
    waitpid(c, &st, 0);
    chld("syscall stop", c);
    printf("syscall stop status 0x%x\n", WSTOPSIG(st));
    ptrace(PTRACE_CONT, c, 0, 0);
    waitpid(c, &st, 0);
    chld("traced exit", c);
    printf("traced exit status %d\n", WEXITSTATUS(st));

    /* exec's SIGTRAP. */
    c = fork();
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execl("/proc/self/exe", "ptracestop", "nothing", (char *)NULL);
        _exit(127);
    }
    waitpid(c, &st, 0);
    chld("exec stop", c);
    printf("exec stop signal %d\n", WSTOPSIG(st));
    ptrace(PTRACE_CONT, c, 0, 0);
    waitpid(c, &st, 0);
    chld("exec'd exit", c);

    /* SEIZE and INTERRUPT: an event stop, CLD_STOPPED with SIGTRAP. */
    c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    ptrace(PTRACE_SEIZE, c, 0, 0);
    ptrace(PTRACE_INTERRUPT, c, 0, 0);
    waitpid(c, &st, 0);
    chld("interrupt stop", c);
    printf("interrupt stop event %d signal %d\n", st >> 16, WSTOPSIG(st));
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    chld("seized killed", c);
}

static void exitkill(void)
{
    /* We reap what the tracer leaves behind. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    int go[2];
    if (pipe(go))
        return;
    pid_t tracer = fork();
    if (tracer == 0) {
        pid_t c = fork();
        if (c == 0) {
            for (;;)
                pause();
        }
        ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_EXITKILL);
        _exit(0);                               /* the tracee runs on: EXITKILL ends it */
    }
    int st, exited = 0, killed = 0;
    for (int i = 0; i < 2; i++) {
        pid_t w = waitpid(-1, &st, 0);
        if (w == tracer && WIFEXITED(st))
            exited++;
        else if (w > 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
            killed++;
    }
    printf("exitkill: tracer exited %d, tracee killed by SIGKILL %d\n", exited, killed);
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[8192];
    ssize_t n;
    if (in < 0 || out < 0)
        return -1;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            return -1;
    close(in);
    return close(out);
}

static void drop_to_1000(void)
{
    if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000)) {
        printf("cannot become uid 1000\n");
        _exit(1);
    }
}

/* Run the set-user-ID copy as uid 1000: untraced; traced (TRACEME) with a
 * uid-1000 parent; traced (TRACEME, after dropping to 1000) with a root
 * parent; SEIZEd by a root tracer. Linux decides by the credentials the
 * link was made with: TRACEME's are the tracee's own, ATTACH/SEIZE's the
 * tracer's. */
static void setuid_run(const char *how)
{
    bool root_parent = !strcmp(how, "traceme, root parent") || !strcmp(how, "seized by root");
    bool seize = !strcmp(how, "seized by root");
    fflush(stdout);
    pid_t tracer = fork();
    if (tracer == 0) {
        if (!root_parent)
            drop_to_1000();
        int go[2];
        if (pipe(go))
            _exit(1);
        pid_t c = fork();
        if (c == 0) {
            drop_to_1000();
            if (strcmp(how, "untraced") && !seize)
                ptrace(PTRACE_TRACEME, 0, 0, 0);
            char x;
            close(go[1]);
            if (read(go[0], &x, 1) != 0)        /* until the tracer is ready */
                _exit(126);
            execl(SUID_COPY, "ptracestop", "ids", how, (char *)NULL);
            _exit(127);
        }
        close(go[0]);
        if (seize)
            ptrace(PTRACE_SEIZE, c, 0, 0);
        close(go[1]);
        int st;
        waitpid(c, &st, 0);
        if (WIFSTOPPED(st)) {                   /* exec's SIGTRAP */
            ptrace(PTRACE_CONT, c, 0, 0);
            waitpid(c, &st, 0);
        }
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128);
    }
    int st;
    waitpid(tracer, &st, 0);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "ids")) {
        printf("setuid program, %s: uid %d euid %d AT_SECURE %lu\n", argv[2], (int)getuid(),
               (int)geteuid(), getauxval(AT_SECURE));
        return 0;
    }
    if (argc > 1)
        return 0;                               /* "nothing": exec'd only to be traced */
    setvbuf(stdout, NULL, _IONBF, 0);
    sigemptyset(&chld_set);
    sigaddset(&chld_set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld_set, NULL);
    sigchld();
    exitkill();
    sigprocmask(SIG_UNBLOCK, &chld_set, NULL);

    if (copy_file("/proc/self/exe", SUID_COPY) || chown(SUID_COPY, 0, 0) ||
        chmod(SUID_COPY, 04755)) {
        printf("cannot make %s: %s\n", SUID_COPY, strerror(errno));
        return 1;
    }
    setuid_run("untraced");
    setuid_run("traceme, uid-1000 parent");
    setuid_run("traceme, root parent");
    setuid_run("seized by root");
    unlink(SUID_COPY);
    printf("done\n");
    return 0;
}
