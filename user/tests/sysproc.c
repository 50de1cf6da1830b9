/* sysproc: the process syscalls Debian's programs need beside fork, exec
 * and wait4 (issue 15), with good and bad input, printing only what must
 * be the same on Linux and on Vigil: prctl (names, no_new_privs, dumpable,
 * pdeath signal, child subreaper), resource limits and their enforcement
 * (NOFILE, STACK, AS, FSIZE, NPROC; only root raises a hard limit),
 * sysinfo, getcpu, waitid, sigaltstack, rt_sigtimedwait, rt_sigqueueinfo,
 * clone3. tests/test_syscalls_procs.py runs it on both and compares.
 *
 * "sysproc recurse KB" is the helper the stack test execs: it uses KB
 * kilobytes of stack and exits 0, or dies of SIGSEGV trying; "sysproc
 * limits" runs only the RLIMIT_NOFILE and hard-limit checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BAD ((void *)1)

static const char *en(int e)
{
    static const struct { int e; const char *n; } t[] = {
        { 0, "0" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" }, { EINTR, "EINTR" },
        { EBADF, "EBADF" }, { ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
        { EFBIG, "EFBIG" }, { ENOSYS, "ENOSYS" }, { E2BIG, "E2BIG" },
    };
    static char buf[16];
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].e == e)
            return t[i].n;
    snprintf(buf, sizeof(buf), "errno %d", e);
    return buf;
}

static const char *res(long r)
{
    static char buf[4][32];
    static int k;
    char *b = buf[k++ % 4];
    if (r == -1)
        return en(errno);
    snprintf(b, 32, "%ld", r);
    return b;
}

#define TRY(label, call) do { errno = 0; long r_ = (long)(call); printf("%s: %s\n", label, res(r_)); } while (0)

static const char *how(int status)
{
    static char b[48];
    if (WIFEXITED(status))
        snprintf(b, sizeof(b), "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(b, sizeof(b), "killed by signal %d", WTERMSIG(status));
    else
        snprintf(b, sizeof(b), "status 0x%x", status);
    return b;
}

static const char *self;            /* argv[0], for the exec of "recurse" */

/* Run fn in a child; report how it ended. */
static void in_child(const char *label, void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: %s\n", label, how(st));
}

/* ---- prctl ---- */
static volatile sig_atomic_t got_sig;
static void on_sig(int s) { got_sig = s; }

static void nnp(void)
{
    TRY("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    TRY("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    TRY("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    TRY("PR_SET_NO_NEW_PRIVS extra arg", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
    TRY("PR_GET_NO_NEW_PRIVS extra arg", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
    pid_t pid = fork();
    if (pid == 0)
        _exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    int st;
    waitpid(pid, &st, 0);
    printf("no_new_privs inherited by fork: %d\n", WEXITSTATUS(st));
}

/* The grandchild asks for SIGUSR1 when its parent dies; the parent dies;
 * we, a child subreaper, inherit the grandchild and reap it. */
static void t_pdeath(void)
{
    TRY("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    int v = -1;
    TRY("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
    printf("subreaper: %d\n", v);
    int ready[2], report[2];
    pipe(ready);
    pipe(report);
    pid_t me = getpid();
    fflush(stdout);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t gc = fork();
        if (gc == 0) {
            sigset_t all, none;
            sigemptyset(&all);
            sigaddset(&all, SIGUSR1);
            sigprocmask(SIG_BLOCK, &all, &none);
            signal(SIGUSR1, on_sig);
            prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
            write(ready[1], "r", 1);
            while (!got_sig)
                sigsuspend(&none);
            char line[64];
            int n = snprintf(line, sizeof(line), "signal %d, new parent is the subreaper %d\n",
                             (int)got_sig, getppid() == me);
            write(report[1], line, (size_t)n);
            _exit(5);
        }
        char ch;
        read(ready[0], &ch, 1);
        _exit(0);
    }
    int st;
    waitpid(mid, &st, 0);
    char line[64] = "";
    ssize_t n = read(report[0], line, sizeof(line) - 1);
    if (n > 0)
        line[n] = 0;
    printf("orphan got %s", line);
    pid_t r = wait(&st);
    printf("subreaper reaped the orphan: %d, %s\n", r > 0 && r != mid, how(st));
    close(ready[0]), close(ready[1]), close(report[0]), close(report[1]);
}

static void t_prctl(void)
{
    char name[32] = "";
    TRY("PR_SET_NAME", prctl(PR_SET_NAME, "a-name-longer-than-sixteen", 0, 0, 0));
    TRY("PR_GET_NAME", prctl(PR_GET_NAME, name, 0, 0, 0));
    printf("name: %s\n", name);
    TRY("PR_GET_NAME bad pointer", prctl(PR_GET_NAME, BAD, 0, 0, 0));
    TRY("PR_SET_NAME bad pointer", prctl(PR_SET_NAME, BAD, 0, 0, 0));
    TRY("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    TRY("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
    TRY("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    TRY("PR_GET_DUMPABLE after", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    TRY("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    TRY("PR_CAPBSET_READ 0", prctl(PR_CAPBSET_READ, 0, 0, 0, 0));
    TRY("PR_CAPBSET_READ 1000", prctl(PR_CAPBSET_READ, 1000, 0, 0, 0));
    TRY("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    TRY("PR_SET_PDEATHSIG 99", prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0));
    int sig = -1;
    TRY("PR_SET_PDEATHSIG SIGUSR2", prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0));
    TRY("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0));
    printf("pdeathsig: %d\n", sig);
    TRY("PR_GET_PDEATHSIG bad pointer", prctl(PR_GET_PDEATHSIG, BAD, 0, 0, 0));
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    TRY("prctl unknown option", prctl(9999, 0, 0, 0, 0));
    in_child("no_new_privs child", nnp);
    in_child("pdeath child", t_pdeath);
}

/* ---- resource limits ---- */
static void nofile(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 16;
    TRY("setrlimit NOFILE 16", setrlimit(RLIMIT_NOFILE, &rl));
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    printf("opened up to fd %d, then %s\n", last, en(errno));
    int p[2];
    TRY("pipe at the limit", pipe(p));
    TRY("dup at the limit", dup(0));
    TRY("dup2 to fd 16", dup2(0, 16));
    TRY("F_DUPFD from 16", fcntl(0, F_DUPFD, 16));
    close(15);
    TRY("dup2 to fd 15", dup2(0, 15));
    rl.rlim_cur = rl.rlim_max;
    TRY("raise the soft limit back", setrlimit(RLIMIT_NOFILE, &rl));
    TRY("open again", open("/dev/null", O_RDONLY) > 15);
}

static void unprivileged(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t hard = rl.rlim_max;
    if (setuid(4243))
        printf("setuid failed\n");
    rl.rlim_max = hard - 1;
    rl.rlim_cur = 100;
    TRY("uid 4243 lowers its hard limit", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_max = hard;
    TRY("uid 4243 raises its hard limit again", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_max = hard - 1;
    rl.rlim_cur = hard - 1;
    TRY("uid 4243 raises its soft limit to the hard one", setrlimit(RLIMIT_NOFILE, &rl));
    TRY("uid 4243 changes root's limits", prlimit(1, RLIMIT_NOFILE, &rl, NULL));
}

static void stack_child(long kb, rlim_t limit)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { limit, RLIM_INFINITY };
        setrlimit(RLIMIT_STACK, &rl);
        char arg[32];
        snprintf(arg, sizeof(arg), "%ld", kb);
        execl(self, "sysproc", "recurse", arg, (char *)NULL);
        _exit(99);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("stack limit %lu KiB, using %ld KiB: %s\n", (unsigned long)(limit >> 10), kb, how(st));
}

static void address_space(void)
{
    struct rlimit rl = { 64ul << 20, 64ul << 20 };
    TRY("setrlimit AS 64M", setrlimit(RLIMIT_AS, &rl));
    void *a = mmap(NULL, 128ul << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 128M: %s\n", a == MAP_FAILED ? en(errno) : "mapped");
    void *b = mmap(NULL, 1ul << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 1M: %s\n", b == MAP_FAILED ? en(errno) : "mapped");
    void *cur = sbrk(0);
    errno = 0;
    void *c = sbrk(128l << 20);
    printf("sbrk 128M: %s, break unmoved %d\n", c == (void *)-1 ? en(errno) : "moved", sbrk(0) == cur);
}

static void file_size(void)
{
    struct rlimit rl = { 1000, RLIM_INFINITY };
    setrlimit(RLIMIT_FSIZE, &rl);
    signal(SIGXFSZ, SIG_IGN);
    char path[] = "/tmp/sysproc-fsizeXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    static char buf[2000];
    TRY("write 2000 bytes under a 1000-byte limit", write(fd, buf, sizeof(buf)));
    TRY("write at the limit", write(fd, buf, 10));
    TRY("pwrite below the limit", pwrite(fd, buf, 10, 100));
    TRY("ftruncate past the limit", ftruncate(fd, 5000));
    TRY("ftruncate to the limit", ftruncate(fd, 1000));
    signal(SIGXFSZ, SIG_DFL);
    fflush(stdout);
    write(fd, buf, 10);
    printf("survived SIGXFSZ\n");
}

static void nproc(void)
{
    struct rlimit rl = { 2, 2 };
    setrlimit(RLIMIT_NPROC, &rl);
    if (setuid(4244))
        printf("setuid failed\n");
    int p[2];
    pipe(p);
    pid_t a = fork();
    if (a == 0) {
        char ch;
        read(p[0], &ch, 1);
        _exit(0);
    }
    printf("uid 4244 forks under NPROC 2: %s\n", a > 0 ? "ok" : en(errno));
    errno = 0;
    pid_t b = fork();
    if (b == 0)
        _exit(0);
    printf("and again: %s\n", b > 0 ? "ok" : en(errno));
    write(p[1], "x", 1);
    while (wait(NULL) > 0)
        ;
}

static void t_limits(void)
{
    struct rlimit a, b;
    TRY("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &a));
    TRY("prlimit self NOFILE", prlimit(0, RLIMIT_NOFILE, NULL, &b));
    printf("the same: %d\n", a.rlim_cur == b.rlim_cur && a.rlim_max == b.rlim_max);
    TRY("prlimit by pid", prlimit(getpid(), RLIMIT_NOFILE, NULL, &b));
    TRY("prlimit no such pid", prlimit(999999, RLIMIT_NOFILE, NULL, &b));
    TRY("getrlimit 99", syscall(SYS_getrlimit, 99, &a));
    TRY("getrlimit bad pointer", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD));
    TRY("setrlimit 99 bad pointer", syscall(SYS_setrlimit, 99, BAD));
    TRY("prlimit64 99", syscall(SYS_prlimit64, 0, 99, NULL, &a));
    TRY("prlimit64 bad new", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, BAD, NULL));
    a.rlim_cur = a.rlim_max + 1;
    TRY("soft above hard", setrlimit(RLIMIT_NOFILE, &a));
    TRY("getrlimit CORE", getrlimit(RLIMIT_CORE, &a));
    in_child("nofile child", nofile);
    in_child("unprivileged child", unprivileged);
    stack_child(4096, 1ul << 20);
    stack_child(4096, 16ul << 20);
    in_child("address space child", address_space);
    in_child("file size child", file_size);
    in_child("nproc child", nproc);
    /* Inherited over fork and exec: the child sees the limit set here. */
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { 33, 4096 };
        setrlimit(RLIMIT_NOFILE, &rl);
        execl(self, "sysproc", "showlimit", (char *)NULL);
        _exit(99);
    }
    int st;
    waitpid(pid, &st, 0);
    /* And prlimit on another process, as root. */
    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        char ch;
        read(p[0], &ch, 1);
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        printf("child sees the limit its parent set: %lu\n", (unsigned long)rl.rlim_cur);
        fflush(stdout);
        _exit(0);
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 77;
    TRY("prlimit on a child", prlimit(pid, RLIMIT_NOFILE, &rl, NULL));
    fflush(stdout);
    write(p[1], "x", 1);
    waitpid(pid, &st, 0);
    close(p[0]);
    close(p[1]);
}

/* ---- sysinfo, getcpu ---- */
static void t_info(void)
{
    struct sysinfo si;
    TRY("sysinfo", sysinfo(&si));
    printf("sysinfo sane: uptime %d ram %d procs %d unit %u\n", si.uptime > 0,
           si.totalram >= si.freeram && si.freeram > 0, si.procs >= 1, si.mem_unit);
    TRY("sysinfo bad pointer", syscall(SYS_sysinfo, BAD));
    unsigned cpu = 999, node = 999;
    TRY("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    printf("cpu in range %d node %u\n", cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN), node);
    TRY("getcpu NULLs", syscall(SYS_getcpu, NULL, NULL, NULL));
    TRY("getcpu bad pointer", syscall(SYS_getcpu, BAD, NULL, NULL));
    struct utsname u;
    uname(&u);
    int major = 0, minor = 0;
    sscanf(u.release, "%d.%d", &major, &minor);
    printf("uname: %s %s, release at least 3.2 %d\n", u.sysname, u.machine,
           major > 3 || (major == 3 && minor >= 2));
}

/* ---- waitid ---- */
static void show_si(const char *label, long r, const siginfo_t *si, pid_t pid)
{
    printf("%s: %s signo %d code %d status %d pid %d\n", label, res(r), si->si_signo, si->si_code,
           si->si_status, si->si_pid == pid);
}

static void t_waitid(void)
{
    siginfo_t si;
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    memset(&si, 0x55, sizeof(si));
    errno = 0;
    long r = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
    show_si("waitid WNOWAIT", r, &si, pid);
    errno = 0;
    r = waitid(P_ALL, 0, &si, WEXITED);
    show_si("waitid P_ALL", r, &si, pid);
    TRY("waitid again", waitid(P_PID, pid, &si, WEXITED));
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    memset(&si, 0x55, sizeof(si));
    errno = 0;
    r = waitid(P_PID, pid, &si, WEXITED | WNOHANG);
    printf("waitid WNOHANG, still running: %s signo %d pid %d\n", res(r), si.si_signo, si.si_pid);
    kill(pid, SIGTERM);
    errno = 0;
    r = waitid(P_PGID, 0, &si, WEXITED);
    show_si("waitid P_PGID 0 after SIGTERM", r, &si, pid);
    pid = fork();
    if (pid == 0)
        _exit(3);
    struct rusage ru;
    TRY("waitid with rusage", syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru));
    TRY("waitid no options", waitid(P_ALL, 0, &si, 0));
    TRY("waitid unknown option", waitid(P_ALL, 0, &si, WEXITED | 0x4000));
    TRY("waitid bad idtype", waitid((idtype_t)9, 0, &si, WEXITED));
    TRY("waitid P_PID 0", waitid(P_PID, 0, &si, WEXITED));
    TRY("waitid P_PGID -1", syscall(SYS_waitid, P_PGID, -1, &si, WEXITED, NULL));
    TRY("waitid no children", waitid(P_ALL, 0, &si, WEXITED));
    TRY("waitid no children, bad siginfo", syscall(SYS_waitid, P_ALL, 0, BAD, WEXITED, NULL));
    TRY("waitid NULL siginfo", syscall(SYS_waitid, P_ALL, 0, NULL, WEXITED, NULL));
}

/* ---- sigaltstack ---- */
static char *alt;
static volatile int on_alt, nested_ss_flags, nested_change;

static void alt_handler(int s)
{
    char here;
    on_alt = &here >= alt && &here < alt + 65536;
    stack_t o;
    sigaltstack(NULL, &o);
    nested_ss_flags = o.ss_flags;
    stack_t n = { .ss_sp = alt, .ss_size = 65536, .ss_flags = 0 };
    nested_change = sigaltstack(&n, NULL) ? errno : 0;
}

static void overflow_handler(int s)
{
    char here;
    static const char yes[] = "caught the overflow on the alternate stack\n";
    static const char no[] = "caught the overflow elsewhere\n";
    int ok = &here >= alt && &here < alt + 65536;
    write(1, ok ? yes : no, ok ? sizeof(yes) - 1 : sizeof(no) - 1);
    _exit(0);
}

static int deep(int n)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    return n ? deep(n - 1) + pad[0] : 0;
}

static void overflow(void)
{
    stack_t ss = { .ss_sp = alt, .ss_size = 65536, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { .sa_handler = overflow_handler, .sa_flags = SA_ONSTACK };
    sigaction(SIGSEGV, &sa, NULL);
    printf("%d\n", deep(1 << 30));
}

static void t_sigaltstack(void)
{
    alt = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t o, ss;
    TRY("sigaltstack query", sigaltstack(NULL, &o));
    printf("none yet: flags %d size %lu\n", o.ss_flags, (unsigned long)o.ss_size);
    ss = (stack_t){ .ss_sp = alt, .ss_size = 1024, .ss_flags = 0 };
    TRY("sigaltstack too small", syscall(SYS_sigaltstack, &ss, NULL));
    ss.ss_size = 65536;
    ss.ss_flags = 99;
    TRY("sigaltstack bad flags", syscall(SYS_sigaltstack, &ss, NULL));
    ss.ss_flags = SS_ONSTACK;
    TRY("sigaltstack SS_ONSTACK", syscall(SYS_sigaltstack, &ss, NULL));
    syscall(SYS_sigaltstack, NULL, &o);
    printf("SS_ONSTACK set it: flags %d size %lu\n", o.ss_flags, (unsigned long)o.ss_size);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    TRY("sigaltstack bad pointer", syscall(SYS_sigaltstack, BAD, NULL));
    ss.ss_flags = 0;
    TRY("sigaltstack set", sigaltstack(&ss, NULL));
    TRY("sigaltstack bad old pointer", syscall(SYS_sigaltstack, NULL, BAD));
    sigaltstack(NULL, &o);
    printf("set: flags %d size %lu sp %d\n", o.ss_flags, (unsigned long)o.ss_size, o.ss_sp == alt);
    struct sigaction sa = { .sa_handler = alt_handler, .sa_flags = SA_ONSTACK };
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SA_ONSTACK handler: on it %d, sees SS_ONSTACK %d, change while on it %s\n", on_alt,
           nested_ss_flags == SS_ONSTACK, en(nested_change));
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("plain handler: on it %d, flags %d\n", on_alt, nested_ss_flags);
    ss.ss_flags = SS_AUTODISARM;
    TRY("sigaltstack SS_AUTODISARM", sigaltstack(&ss, NULL));
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("autodisarm handler: on it %d, sees flags %d, change %s\n", on_alt, nested_ss_flags,
           en(nested_change));
    sigaltstack(NULL, &o);
    printf("after it: flags 0x%x size %lu\n", (unsigned)o.ss_flags, (unsigned long)o.ss_size);
    ss.ss_flags = SS_DISABLE;
    TRY("sigaltstack SS_DISABLE", sigaltstack(&ss, NULL));
    sigaltstack(NULL, &o);
    printf("disabled: flags %d size %lu\n", o.ss_flags, (unsigned long)o.ss_size);
    in_child("stack overflow child", overflow);
}

/* ---- rt_sigtimedwait, rt_sigqueueinfo ---- */
static void t_sigwait(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t si;
    struct timespec zero = { 0, 0 }, short_ = { 0, 20000000 };
    kill(getpid(), SIGUSR1);
    memset(&si, 0, sizeof(si));
    TRY("sigtimedwait pending", sigtimedwait(&set, &si, &zero));
    printf("info: signo %d code %d from me %d\n", si.si_signo, si.si_code, si.si_pid == getpid());
    TRY("sigtimedwait none, zero timeout", sigtimedwait(&set, &si, &zero));
    TRY("sigtimedwait none, 20 ms", sigtimedwait(&set, &si, &short_));
    TRY("sigtimedwait size 4", syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 4));
    TRY("sigtimedwait bad set", syscall(SYS_rt_sigtimedwait, BAD, &si, &zero, 8));
    struct timespec bad = { 0, 1000000000 };
    TRY("sigtimedwait bad timeout", sigtimedwait(&set, &si, &bad));
    pid_t pid = fork();
    if (pid == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    memset(&si, 0, sizeof(si));
    TRY("sigwaitinfo for the child's signal", sigwaitinfo(&set, &si));
    printf("from the child %d\n", si.si_pid == pid);
    waitpid(pid, NULL, 0);
    siginfo_t q;
    memset(&q, 0, sizeof(q));
    q.si_code = SI_QUEUE;
    q.si_pid = getpid();
    q.si_uid = getuid();
    q.si_value.sival_int = 42;
    TRY("rt_sigqueueinfo SI_QUEUE to self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &q));
    memset(&si, 0, sizeof(si));
    TRY("sigtimedwait queued", sigtimedwait(&set, &si, &zero));
    printf("queued info: code %d value %d\n", si.si_code, si.si_value.sival_int);
    q.si_code = SI_USER;
    TRY("rt_sigqueueinfo SI_USER to self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &q));
    sigtimedwait(&set, &si, &zero);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    TRY("rt_sigqueueinfo SI_USER to another", syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &q));
    q.si_code = SI_QUEUE;
    TRY("rt_sigqueueinfo SI_QUEUE to another", syscall(SYS_rt_sigqueueinfo, pid, SIGTERM, &q));
    waitpid(pid, NULL, 0);
    TRY("rt_sigqueueinfo bad signal", syscall(SYS_rt_sigqueueinfo, getpid(), 99, &q));
    TRY("rt_sigqueueinfo bad pointer", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, BAD));
    TRY("rt_sigqueueinfo no such pid", syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &q));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- clone3 ---- */
struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

static long clone3(struct clone_args *a, size_t size) { return syscall(SYS_clone3, a, size); }

/* clone3 as glibc's pthread_create uses it: a thread on a stack of its
 * own. The child calls fn on that stack and exits (no C frame of ours is
 * there to return to); the parent goes on. */
static long clone3_run(struct clone_args *a, void (*fn)(void))
{
    long r;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "call *%%rdx\n\t"
                     "mov $60, %%eax\n\t"           /* exit(0): this thread only */
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "1:"
                     : "=a"(r)
                     : "0"((long)SYS_clone3), "D"(a), "S"(sizeof(*a)), "d"(fn)
                     : "rcx", "r11", "memory");
    return r;
}

static volatile int thread_ran;
static char *thread_stack;

static void thread_fn(void)
{
    char here;
    thread_ran = &here >= thread_stack && &here < thread_stack + 65536 ? 1 : 2;
}

static void t_clone3(void)
{
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    a.exit_signal = SIGCHLD;
    TRY("clone3 size 10", clone3(&a, 10));
    TRY("clone3 size 8192", clone3(&a, 8192));
    TRY("clone3 bad pointer", clone3(BAD, sizeof(a)));
    a.flags = 0x11;
    TRY("clone3 signal in flags", clone3(&a, sizeof(a)));
    a.flags = 0;
    a.exit_signal = 99;
    TRY("clone3 exit_signal 99", clone3(&a, sizeof(a)));
    a.exit_signal = SIGCHLD;
    a.stack = 0x1000;
    TRY("clone3 stack without size", clone3(&a, sizeof(a)));
    a.stack = 0;
    a.flags = CLONE_THREAD;
    TRY("clone3 thread without VM", clone3(&a, sizeof(a)));
    a.flags = 0;
    static unsigned char big[128];
    memset(big, 0, sizeof(big));
    memcpy(big, &a, sizeof(a));
    big[100] = 1;
    TRY("clone3 nonzero tail", clone3((struct clone_args *)big, sizeof(big)));
    big[100] = 0;
    fflush(stdout);
    long pid = clone3((struct clone_args *)big, sizeof(big));
    if (pid == 0)
        _exit(3);
    int st;
    waitpid((pid_t)pid, &st, 0);
    printf("clone3 with a zero tail: %s\n", how(st));
    int ptid = 0;
    a.flags = CLONE_PARENT_SETTID;
    a.parent_tid = (uint64_t)(uintptr_t)&ptid;
    fflush(stdout);
    pid = clone3(&a, 64);
    if (pid == 0)
        _exit(4);
    waitpid((pid_t)pid, &st, 0);
    printf("clone3 size 64, CLONE_PARENT_SETTID: %s, tid written %d\n", how(st), ptid == pid);
    /* A thread, the way glibc makes one: shared everything, its own stack,
     * its tid cleared and futex-woken at exit (pthread_join). */
    thread_stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static volatile int ctid;
    memset(&a, 0, sizeof(a));
    a.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
              CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    a.parent_tid = a.child_tid = (uint64_t)(uintptr_t)&ctid;
    a.stack = (uint64_t)(uintptr_t)thread_stack;
    a.stack_size = 65536;
    long tid = clone3_run(&a, thread_fn);
    while (tid > 0 && ctid == tid)
        syscall(SYS_futex, &ctid, 0 /* FUTEX_WAIT */, (int)tid, NULL, NULL, 0);
    printf("clone3 thread: created %d, ran on its own stack %d, joined %d\n", tid > 0,
           thread_ran == 1, ctid == 0);
    a.exit_signal = SIGCHLD;
    TRY("clone3 thread with an exit signal", clone3(&a, sizeof(a)));
}

/* ---- futexes in shared memory, across processes ----
 * Two semaphores in MAP_SHARED memory ping-pong between a parent and its
 * child (so both wait in the kernel); the second pair lives in a file in
 * /dev/shm that the child maps again at an address of its own. A lost
 * wakeup shows as a timed-out wait. */
static int pingpong(sem_t *a, sem_t *b, int rounds)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < rounds; i++) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 60;
            if (sem_timedwait(a, &ts))
                _exit(1);
            sem_post(b);
        }
        _exit(0);
    }
    int lost = 0;
    for (int i = 0; i < rounds && !lost; i++) {
        sem_post(a);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 60;
        lost = sem_timedwait(b, &ts) != 0;
    }
    int st;
    waitpid(pid, &st, 0);
    return lost || !WIFEXITED(st) || WEXITSTATUS(st);
}

static void t_shared_futex(void)
{
    sem_t *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sem_init(&s[0], 1, 0);
    sem_init(&s[1], 1, 0);
    printf("semaphores in shared anonymous memory, 300 rounds: %s\n",
           pingpong(&s[0], &s[1], 300) ? "a wakeup was lost" : "ok");
    int fd = open("/dev/shm/sysproc-sem", O_RDWR | O_CREAT | O_TRUNC, 0600);
    ftruncate(fd, 4096);
    unlink("/dev/shm/sysproc-sem");
    sem_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    sem_init(&m[0], 1, 0);
    sem_init(&m[1], 1, 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* The same file page at another address: the keys must still meet. */
        sem_t *c = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        munmap(m, 4096);
        for (int i = 0; i < 300; i++) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 60;
            if (sem_timedwait(&c[0], &ts))
                _exit(1);
            sem_post(&c[1]);
        }
        _exit(0);
    }
    int lost = 0;
    for (int i = 0; i < 300 && !lost; i++) {
        sem_post(&m[0]);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 60;
        lost = sem_timedwait(&m[1], &ts) != 0;
    }
    int st;
    waitpid(pid, &st, 0);
    printf("semaphores in a shared file mapped at two addresses, 300 rounds: %s\n",
           lost || !WIFEXITED(st) || WEXITSTATUS(st) ? "a wakeup was lost" : "ok");
    close(fd);
}


/* ---- POSIX timers, ioprio ---- */
static void t_timers(void)
{
    timer_t id;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    TRY("timer_create MONOTONIC default event", syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &id));
    TRY("timer_delete it", syscall(SYS_timer_delete, id));
    TRY("timer_delete again", syscall(SYS_timer_delete, id));
    TRY("timer_create bad clock", syscall(SYS_timer_create, 99, NULL, &id));
    TRY("timer_create bad event pointer", syscall(SYS_timer_create, CLOCK_MONOTONIC, BAD, &id));
    ev.sigev_notify = 99;
    TRY("timer_create bad notify", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 0;
    TRY("timer_create signal 0", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
    ev.sigev_notify = 4;                        /* SIGEV_THREAD_ID */
    ev.sigev_signo = SIGUSR1;
    ev.sigev_notify_thread_id = 999999;
    TRY("timer_create no such thread", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
    ev.sigev_notify = SIGEV_SIGNAL;
    TRY("timer_create bad id pointer", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, BAD));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    ev.sigev_value.sival_int = 77;
    int tid = -1;
    TRY("timer_create SIGUSR1 value 77", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid));
    struct itimerspec its = { { 0, 0 }, { 0, 10000000 } }, cur;
    TRY("timer_settime 10 ms", syscall(SYS_timer_settime, tid, 0, &its, NULL));
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    TRY("waited for it", sigwaitinfo(&set, &si));
    printf("timer signal: code %d value %d timerid %d\n", si.si_code, si.si_value.sival_int,
           si.si_timerid == tid);
    TRY("timer_gettime after it fired", syscall(SYS_timer_gettime, tid, &cur));
    printf("disarmed: %d\n", !cur.it_value.tv_sec && !cur.it_value.tv_nsec);
    its.it_interval.tv_nsec = 10000000;
    syscall(SYS_timer_settime, tid, 0, &its, NULL);
    int n = 0;
    for (int i = 0; i < 3; i++)
        n += sigwaitinfo(&set, &si) == SIGUSR1;
    printf("periodic signals: %d\n", n);
    struct timespec hundred = { 0, 100000000 };
    nanosleep(&hundred, NULL);
    sigwaitinfo(&set, &si);
    printf("overruns after 100 ms of a 10 ms timer: %d\n", (int)syscall(SYS_timer_getoverrun, tid) >= 1);
    its = (struct itimerspec){ { 0, 0 }, { 0, 0 } };
    syscall(SYS_timer_settime, tid, 0, &its, NULL);
    sigtimedwait(&set, &si, &(struct timespec){ 0, 0 });       /* a last one, if any */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    its.it_value.tv_sec = now.tv_sec + (now.tv_nsec + 20000000) / 1000000000;
    its.it_value.tv_nsec = (now.tv_nsec + 20000000) % 1000000000;
    int rt = -1;
    syscall(SYS_timer_create, CLOCK_REALTIME, &ev, &rt);
    TRY("timer_settime TIMER_ABSTIME", syscall(SYS_timer_settime, rt, TIMER_ABSTIME, &its, NULL));
    TRY("absolute timer fired", sigwaitinfo(&set, &si));
    its = (struct itimerspec){ { 0, 0 }, { 0, 1000000000 } };
    TRY("timer_settime nsec 1e9", syscall(SYS_timer_settime, tid, 0, &its, NULL));
    TRY("timer_settime NULL", syscall(SYS_timer_settime, tid, 0, NULL, NULL));
    TRY("timer_settime bad id", syscall(SYS_timer_settime, 4000, 0, &cur, NULL));
    TRY("timer_settime bad pointer", syscall(SYS_timer_settime, tid, 0, BAD, NULL));
    TRY("timer_gettime bad id", syscall(SYS_timer_gettime, 4000, &cur));
    TRY("timer_gettime bad pointer", syscall(SYS_timer_gettime, tid, BAD));
    TRY("timer_getoverrun bad id", syscall(SYS_timer_getoverrun, 4000));
    ev.sigev_notify = SIGEV_NONE;
    int none = -1;
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &none);
    its = (struct itimerspec){ { 0, 0 }, { 1, 0 } };
    syscall(SYS_timer_settime, none, 0, &its, NULL);
    syscall(SYS_timer_gettime, none, &cur);
    long left = cur.it_value.tv_sec * 1000 + cur.it_value.tv_nsec / 1000000;
    printf("SIGEV_NONE timer counts down: %d\n", left > 500 && left <= 1000);
    syscall(SYS_timer_delete, none);
    syscall(SYS_timer_delete, rt);
    syscall(SYS_timer_delete, tid);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    /* ioprio: kept and checked (the process's own; groups and users depend
     * on who else runs on the host). */
    TRY("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
    TRY("ioprio_set idle", syscall(SYS_ioprio_set, 1, 0, 3 << 13));
    TRY("ioprio_get after", syscall(SYS_ioprio_get, 1, 0));
    TRY("ioprio_set best-effort 7", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 7));
    TRY("ioprio_get after", syscall(SYS_ioprio_get, 1, getpid()));
    TRY("ioprio_set none with a level", syscall(SYS_ioprio_set, 1, 0, 3));
    TRY("ioprio_set class 5", syscall(SYS_ioprio_set, 1, 0, 5 << 13));
    TRY("ioprio_set bad which", syscall(SYS_ioprio_set, 9, 0, 0));
    TRY("ioprio_get bad which", syscall(SYS_ioprio_get, 9, 0));
    TRY("ioprio_get no such process", syscall(SYS_ioprio_get, 1, 999999));
    TRY("ioprio_set back to none", syscall(SYS_ioprio_set, 1, 0, 0));
    pid_t pid = fork();
    if (pid == 0) {
        setuid(4242);
        TRY("uid 4242 ioprio_set real-time", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 1));
        TRY("uid 4242 ioprio_set init's", syscall(SYS_ioprio_set, 1, 1, (2 << 13) | 1));
        TRY("uid 4242 ioprio_set its own", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 1));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

/* RLIMIT_CPU: SIGXCPU (default: death) at the soft limit of CPU seconds.
 * The loop ends by itself after 5 s of CPU, so a limit not kept shows as
 * an exit, not a hang. */
static void cpu_hog(void)
{
    struct rlimit rl = { 1, 4 };
    setrlimit(RLIMIT_CPU, &rl);
    struct timespec ts;
    do
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    while (ts.tv_sec < 5);
}


/* ---- mlock family, personality, sched_rr_get_interval, getrusage,
 * getpriority/setpriority on groups and users, setting the clock ---- */
static void prio_group(void)
{
    setpgid(0, 0);
    TRY("setpriority own group to 5", setpriority(PRIO_PGRP, 0, 5));
    TRY("getpriority own group", syscall(SYS_getpriority, PRIO_PGRP, 0));
    if (setuid(4245))
        printf("setuid failed\n");
    TRY("setpriority own user to 7", setpriority(PRIO_USER, 0, 7));
    TRY("getpriority user 4245", syscall(SYS_getpriority, PRIO_USER, 4245));
    TRY("setpriority own user back to 0", setpriority(PRIO_USER, 0, 0));
}

static void unprivileged_time(void)
{
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_MEMLOCK, &rl);
    if (setuid(4246))
        printf("setuid failed\n");
    static char buf[8192] __attribute__((aligned(4096)));
    TRY("uid 4246 mlock with RLIMIT_MEMLOCK 0", mlock(buf, 4096));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    TRY("uid 4246 clock_settime", clock_settime(CLOCK_REALTIME, &now));
    struct timeval tv = { now.tv_sec, 0 };
    TRY("uid 4246 settimeofday", settimeofday(&tv, NULL));
}

static void small_memlock(void)
{
    struct rlimit rl = { 4096, 4096 };
    setrlimit(RLIMIT_MEMLOCK, &rl);
    if (setuid(4247))
        printf("setuid failed\n");
    static char buf[16384] __attribute__((aligned(4096)));
    TRY("uid 4247 mlock 4096 under a 4096 limit", mlock(buf, 4096));
    munlock(buf, 4096);
    TRY("uid 4247 mlock 8192 under a 4096 limit", mlock(buf + 4096, 8192));
}

static void t_misc(void)
{
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TRY("mlock", mlock(m, 8192));
    TRY("munlock", munlock(m, 8192));
    TRY("mlock unaligned", mlock(m + 100, 100));
    munmap(m + 4096, 4096);
    TRY("mlock over a hole", mlock(m, 8192));
    TRY("mlock2 bad flags", syscall(SYS_mlock2, m, 4096, 2));
    TRY("mlock2 MLOCK_ONFAULT", syscall(SYS_mlock2, m, 4096, 1));
    TRY("mlockall 0", mlockall(0));
    TRY("mlockall MCL_ONFAULT alone", mlockall(MCL_ONFAULT));
    TRY("mlockall bad flag", mlockall(8));
    TRY("munlockall", munlockall());
    in_child("small memlock child", small_memlock);
    TRY("personality query", personality(0xffffffff));
    TRY("personality ADDR_NO_RANDOMIZE", personality(0x0040000));
    TRY("personality query again", personality(0xffffffff));
    personality(0);
    struct timespec ts;
    TRY("sched_rr_get_interval self", sched_rr_get_interval(0, &ts));
    TRY("sched_rr_get_interval -1", sched_rr_get_interval(-1, &ts));
    TRY("sched_rr_get_interval no such", sched_rr_get_interval(999999, &ts));
    TRY("sched_rr_get_interval bad pointer", syscall(SYS_sched_rr_get_interval, 0, BAD));
    struct rusage ru;
    TRY("getrusage RUSAGE_THREAD", getrusage(RUSAGE_THREAD, &ru));
    TRY("getrusage 7", getrusage(7, &ru));
    TRY("getpriority bad which", syscall(SYS_getpriority, 5, 0));
    TRY("getpriority no such group", syscall(SYS_getpriority, PRIO_PGRP, 999999));
    TRY("setpriority no such user", setpriority(PRIO_USER, 999999, 0));
    in_child("priority child", prio_group);
    TRY("clock_settime MONOTONIC", clock_settime(CLOCK_MONOTONIC, &ts));
    TRY("clock_settime bad pointer", syscall(SYS_clock_settime, CLOCK_REALTIME, BAD));
    ts = (struct timespec){ 1, 1000000000 };
    TRY("clock_settime nsec 1e9", clock_settime(CLOCK_REALTIME, &ts));
    struct timeval bad = { 1, -1 };
    TRY("settimeofday usec -1", settimeofday(&bad, NULL));
    in_child("unprivileged time child", unprivileged_time);
}


/* ---- sched_setattr, sched_getattr ---- */
struct sched_attr_u {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

static void sched_attr_child(void)
{
    struct sched_attr_u a;
    memset(&a, 0, sizeof(a));
    TRY("sched_getattr self", syscall(SYS_sched_getattr, 0, &a, 48, 0));
    printf("attr: size %u policy %u nice %d priority %u\n", a.size, a.policy, a.nice, a.priority);
    memset(&a, 0, sizeof(a));
    a.size = 48;
    a.policy = SCHED_OTHER;
    a.nice = 6;
    TRY("sched_setattr nice 6", syscall(SYS_sched_setattr, 0, &a, 0));
    TRY("getpriority after it", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    a.size = 0;
    a.policy = SCHED_BATCH;
    TRY("sched_setattr size 0 (the first size), SCHED_BATCH", syscall(SYS_sched_setattr, 0, &a, 0));
    TRY("sched_getscheduler after it", syscall(SYS_sched_getscheduler, 0));
    a.size = 10;
    TRY("sched_setattr size 10", syscall(SYS_sched_setattr, 0, &a, 0));
    printf("size written back is at least 48: %d\n", a.size >= 48);
    a.size = 48;
    a.policy = 99;
    TRY("sched_setattr policy 99", syscall(SYS_sched_setattr, 0, &a, 0));
    a.policy = SCHED_OTHER;
    a.priority = 5;
    TRY("sched_setattr priority for SCHED_OTHER", syscall(SYS_sched_setattr, 0, &a, 0));
    a.priority = 0;
    TRY("sched_setattr flags 1", syscall(SYS_sched_setattr, 0, &a, 1));
    TRY("sched_setattr NULL", syscall(SYS_sched_setattr, 0, NULL, 0));
    TRY("sched_setattr bad pointer", syscall(SYS_sched_setattr, 0, BAD, 0));
    TRY("sched_setattr no such", syscall(SYS_sched_setattr, 999999, &a, 0));
    TRY("sched_getattr size 10", syscall(SYS_sched_getattr, 0, &a, 10, 0));
    TRY("sched_getattr flags", syscall(SYS_sched_getattr, 0, &a, 48, 1));
    TRY("sched_getattr pid -1", syscall(SYS_sched_getattr, -1, &a, 48, 0));
    TRY("sched_getattr no such", syscall(SYS_sched_getattr, 999999, &a, 48, 0));
    TRY("sched_getattr bad pointer", syscall(SYS_sched_getattr, 0, BAD, 48, 0));
    if (setuid(4248))
        printf("setuid failed\n");
    a.policy = SCHED_OTHER;
    a.nice = 0;
    TRY("uid 4248 sched_setattr lowers nice", syscall(SYS_sched_setattr, 0, &a, 0));
    a.policy = SCHED_FIFO;
    a.priority = 10;
    TRY("uid 4248 sched_setattr SCHED_FIFO", syscall(SYS_sched_setattr, 0, &a, 0));
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc == 3 && !strcmp(argv[1], "recurse")) {
        printf("%d\n", deep((int)atol(argv[2])) == -1);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "settime")) {      /* (Vigil only: it sets the clock) */
        struct timespec m0, m1, set = { 1900000000, 0 }, now;
        clock_gettime(CLOCK_MONOTONIC, &m0);
        long r = clock_settime(CLOCK_REALTIME, &set);
        clock_gettime(CLOCK_REALTIME, &now);
        clock_gettime(CLOCK_MONOTONIC, &m1);
        struct timeval tv;
        gettimeofday(&tv, NULL);
        printf("settime: %ld, realtime now %ld, gettimeofday %ld, monotonic moved %ld s\n", r,
               (long)now.tv_sec, (long)tv.tv_sec, (long)(m1.tv_sec - m0.tv_sec));
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "showlimit")) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        printf("after exec: NOFILE %lu %lu\n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && !strcmp(argv[1], "limits")) {      /* the matrix rows' short run */
        in_child("nofile child", nofile);
        in_child("unprivileged child", unprivileged);
        return 0;
    }
    t_prctl();
    t_limits();
    t_info();
    t_waitid();
    t_sigaltstack();
    t_sigwait();
    t_clone3();
    t_shared_futex();
    t_timers();
    in_child("cpu limit child", cpu_hog);
    t_misc();
    in_child("sched_attr child", sched_attr_child);
    printf("sysproc: done\n");
    return 0;
}
