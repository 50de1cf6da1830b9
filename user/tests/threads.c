/* threads [basic|exit|exitgroup|fault]: what a thread is, and how threads
 * and their process end. Output is the same on any Linux (no ids printed).
 *
 *   basic      pthread_create/join with return values; gettid() differs
 *              from getpid() in a thread and getpid() is the same; a raw
 *              clone(CLONE_THREAD) thread that ends with the exit syscall
 *              (SYS_exit) ends alone: the kernel clears its child-tid word
 *              and wakes it (CLONE_CHILD_CLEARTID) and the process goes on.
 *              Exit status 0.
 *   exit       main calls pthread_exit while another thread still runs; the
 *              process lives until that thread returns, status 0 (the last
 *              thread's exit ends the process).
 *   exitgroup  a thread calls _exit(42) (exit_group) while main is blocked
 *              in pthread_join and a third thread sleeps: the whole process
 *              ends at once with status 42.
 *   fault      a thread writes to address 16 while main is blocked in
 *              pthread_join: the whole process dies of SIGSEGV. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FUTEX_WAIT 0    /* <linux/futex.h> is not in musl's headers */

static long gettid_raw(void) { return syscall(SYS_gettid); }

static pid_t main_pid;

struct info {
    int index;
    long tid;
    pid_t pid;
};

static void *report(void *arg)
{
    struct info *in = arg;
    in->tid = gettid_raw();
    in->pid = getpid();
    return (void *)(intptr_t)(in->index * in->index + 1);
}

/* The raw thread: no libc state of its own, so only raw syscalls. */
static volatile long raw_tid_seen;
static volatile int raw_ctid = -1;

static int raw_thread(void *arg)
{
    raw_tid_seen = syscall(SYS_gettid);
    /* clone()'s wrapper would call SYS_exit with this value on return;
     * call it directly so the point is explicit. */
    syscall(SYS_exit, 0);
    return 0;
}

static int basic(void)
{
    printf("main: gettid() == getpid(): %s\n", gettid_raw() == getpid() ? "yes" : "no");
    enum { N = 4 };
    pthread_t t[N];
    struct info in[N];
    for (int i = 0; i < N; i++) {
        in[i] = (struct info){ .index = i };
        if (pthread_create(&t[i], NULL, report, &in[i])) {
            printf("pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < N; i++) {
        void *ret;
        int e = pthread_join(t[i], &ret);
        printf("thread %d: joined %s, returned %ld, pid same as main: %s, "
               "tid differs from pid: %s\n",
               i, e ? strerror(e) : "ok", (long)(intptr_t)ret, in[i].pid == main_pid ? "yes" : "no",
               in[i].tid != main_pid && in[i].tid > 0 ? "yes" : "no");
    }
    int distinct = 1;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (in[i].tid == in[j].tid)
                distinct = 0;
    printf("thread ids distinct: %s\n", distinct ? "yes" : "no");

    /* A thread made by clone() directly, ending with SYS_exit. */
    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    int ptid = 0;
    int ret = clone(raw_thread, stack + stack_size, flags, NULL, &ptid, NULL, &raw_ctid);
    if (ret < 0) {
        printf("clone: %s\n", strerror(errno));
        return 1;
    }
    /* raw_ctid was -1; CLONE_CHILD_CLEARTID makes the kernel store 0 there
     * and FUTEX_WAKE it when the thread ends. CLONE_PARENT_SETTID put the
     * new tid in ptid before clone returned. */
    int v;
    while ((v = __atomic_load_n(&raw_ctid, __ATOMIC_ACQUIRE)) != 0)
        syscall(SYS_futex, &raw_ctid, FUTEX_WAIT, v, NULL, NULL, 0);
    printf("raw clone thread: returned tid == parent-set tid: %s, tid seen by the thread: %s, "
           "tid differs from pid: %s\n",
           ret == ptid ? "yes" : "no", raw_tid_seen == ret ? "same" : "different",
           ret != main_pid ? "yes" : "no");
    printf("raw clone thread: ended with SYS_exit, child tid cleared and woken: yes\n");
    munmap(stack, stack_size);
    printf("main: still running after the thread's exit: yes\n");
    return 0;
}

static void *slow_finisher(void *arg)
{
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    printf("second thread: finishing after main's pthread_exit\n");
    fflush(stdout);
    return NULL;
}

static void start(pthread_t *t, void *(*fn)(void *))
{
    int e = pthread_create(t, NULL, fn, NULL);
    if (e) {
        printf("pthread_create: %s\n", strerror(e));
        exit(1);
    }
}

static void *sleeper(void *arg)
{
    for (;;)
        pause();
    return NULL;
}

static void *exiter(void *arg)
{
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);   /* main is most likely blocked in pthread_join by now */
    printf("exiter: calling _exit(42)\n");
    fflush(stdout);
    _exit(42);
}

static void *faulter(void *arg)
{
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    printf("faulter: writing to address 16\n");
    fflush(stdout);
    volatile uintptr_t addr = 16;
    *(volatile int *)addr = 1;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "basic";
    main_pid = getpid();
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t a, b;
    if (!strcmp(mode, "basic"))
        return basic();
    if (!strcmp(mode, "exit")) {
        printf("main: pthread_exit\n");
        start(&a, slow_finisher);
        pthread_exit(NULL);
    }
    if (!strcmp(mode, "exitgroup")) {
        printf("main: joining a thread that never ends\n");
        start(&a, sleeper);
        start(&b, exiter);
        pthread_join(a, NULL);
        printf("main: join returned (wrong)\n");
        return 1;
    }
    if (!strcmp(mode, "fault")) {
        printf("main: joining a thread that never ends\n");
        start(&a, sleeper);
        start(&b, faulter);
        pthread_join(a, NULL);
        printf("main: join returned (wrong)\n");
        return 1;
    }
    fprintf(stderr, "usage: threads [basic|exit|exitgroup|fault]\n");
    return 2;
}
