/* cowprot: copy-on-write must hold for every page fork shared, whatever its
 * protection was at the time, and for every write the kernel makes on a
 * process's behalf.
 *  - mprotect: the parent maps a page, writes "parent", makes it PROT_READ
 *    and forks; the child makes it writable again and writes "child". The
 *    parent must still read "parent" (and, the other way round, a child
 *    must not see the parent's write after the parent does the same);
 *  - settid: clone(CLONE_CHILD_SETTID|SIGCHLD) with ctid pointing at a word
 *    of the parent's: the child's copy holds the child's tid, the parent's
 *    word stays 0 (glibc's fork does exactly this).
 * Each line is the same on Linux. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *page(void)
{
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        _exit(2);
    }
    return p;
}

/* The child reprotects a page fork shared read-only, and writes it. */
static void child_writes_after_mprotect(void)
{
    char *p = page();
    strcpy(p, "parent");
    mprotect(p, 4096, PROT_READ);
    pid_t pid = fork();
    if (pid == 0) {
        if (mprotect(p, 4096, PROT_READ | PROT_WRITE))
            _exit(3);
        strcpy(p, "child");
        _exit(strcmp(p, "child") ? 4 : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("mprotect: child status %d; parent reads \"%s\"\n", WEXITSTATUS(st), p);
}

/* The parent reprotects and writes; a child forked before must not see it. */
static void parent_writes_after_mprotect(void)
{
    char *p = page();
    strcpy(p, "before");
    mprotect(p, 4096, PROT_READ);
    int go[2];
    if (pipe(go))
        _exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        printf("mprotect: child reads \"%s\" after the parent's write\n", p);
        fflush(stdout);
        _exit(0);
    }
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    strcpy(p, "after!");
    if (write(go[1], "x", 1) != 1)
        _exit(2);
    int st;
    waitpid(pid, &st, 0);
}

static int settid_word;

static void clone_child_settid(void)
{
    settid_word = 0;
    long pid = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, &settid_word, 0);
    if (pid == 0) {
        long me = syscall(SYS_getpid);
        printf("settid: the child's word is its pid: %s\n", settid_word == me ? "yes" : "no");
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid((pid_t)pid, &st, 0);
    printf("settid: the parent's word after the clone: %d\n", settid_word);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    child_writes_after_mprotect();
    parent_writes_after_mprotect();
    clone_child_settid();
    return 0;
}
