/* ipcs.c - System V IPC and POSIX message queues, as a program sees them
 * (tests/test_ipc.py runs it on Vigil and, for the deterministic parts, on
 * Linux to compare).
 *
 *   ipcs errors   bad ids, pointers, sizes, flags, commands: one line each
 *                 with the result and errno (the same on Linux, byte for byte)
 *   ipcs works    the calls doing their job: message order and types,
 *                 semaphore values, undo at exit, shared pages across fork
 *                 and between unrelated attachments, IPC_RMID waiting for the
 *                 last detach, queue priorities (also compared with Linux)
 *   ipcs wait     blocking calls: woken by the other side, EINTR on a
 *                 signal, still waiting after a stop and continue, EIDRM
 *                 when the object is removed, timeouts
 *   ipcs perm     root makes a 0600 queue, segment, set and POSIX queue
 *                 holding a secret; a uid-1000 child tries to read each
 *   ipcs leak N   N rounds of objects made and removed, with children killed
 *                 while blocked in them: frames and heap before and after */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <poll.h>
#include <pthread.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "meminfo.h"
#include "errname.h"

#define BAD ((void *)0x10)              /* never mapped */
#ifndef MSG_COPY
#define MSG_COPY 040000                 /* msgrcv(2); musl does not name it */
#endif

/* Print what a call returned: "ok" for 0, the value, or -1 and errno. */
static void show(const char *what, long r)
{
    if (r == -1)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
    fflush(stdout);
}
#define T(what, call) do { errno = 0; show(what, (long)(call)); } while (0)

struct mbuf {
    long type;
    char text[64];
};

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static long raw_semtimedop(int id, struct sembuf *s, size_t n, const struct timespec *t)
{
    return syscall(SYS_semtimedop, id, s, n, t);
}

static void errors(void)
{
    struct mbuf m = { 1, "hello" };
    int q = msgget(IPC_PRIVATE, 0600);
    T("msgget missing key", msgget(0x7a1b2c3d, 0600));
    int k = msgget(0x7a1b2c3e, IPC_CREAT | IPC_EXCL | 0600);
    T("msgget IPC_EXCL existing", msgget(0x7a1b2c3e, IPC_CREAT | IPC_EXCL | 0600));
    T("msgget existing", msgget(0x7a1b2c3e, 0600) == k);
    msgctl(k, IPC_RMID, NULL);
    T("msgsnd bad pointer", msgsnd(q, BAD, 5, 0));
    m.type = 0;
    T("msgsnd type 0", msgsnd(q, &m, 5, 0));
    m.type = 1;
    T("msgsnd over msgmax", msgsnd(q, &m, 9000, 0));
    T("msgsnd id -1", msgsnd(-1, &m, 5, 0));
    T("msgsnd unknown id", msgsnd(q + 32768 * 7 + 1000, &m, 5, 0));
    T("msgrcv empty IPC_NOWAIT", msgrcv(q, &m, 64, 0, IPC_NOWAIT));
    T("msgsnd 20 bytes", msgsnd(q, &m, 20, 0));
    T("msgrcv into 5 bytes", msgrcv(q, &m, 5, 0, IPC_NOWAIT));
    T("msgrcv MSG_COPY without IPC_NOWAIT", msgrcv(q, &m, 64, 0, MSG_COPY));
    T("msgrcv MSG_COPY index 5", msgrcv(q, &m, 64, 5, MSG_COPY | IPC_NOWAIT));
    T("msgrcv MSG_COPY index 0", msgrcv(q, &m, 64, 0, MSG_COPY | IPC_NOWAIT));
    T("msgrcv into a bad pointer", msgrcv(q, BAD, 64, 0, IPC_NOWAIT));
    T("msgrcv size -1", msgrcv(q, &m, (size_t)-1, 0, IPC_NOWAIT));
    T("msgctl command 99", msgctl(q, 99, NULL));
    T("msgctl IPC_STAT bad pointer", msgctl(q, IPC_STAT, BAD));
    T("msgctl IPC_SET bad pointer", msgctl(q, IPC_SET, BAD));
    T("msgctl IPC_RMID id -1", msgctl(-1, IPC_RMID, NULL));
    T("msgctl MSG_STAT index 32767", msgctl(32767, MSG_STAT, (struct msqid_ds *)&m));
    T("msgctl IPC_RMID", msgctl(q, IPC_RMID, NULL));
    T("msgctl IPC_RMID again", msgctl(q, IPC_RMID, NULL));

    T("semget 0 semaphores", semget(IPC_PRIVATE, 0, 0600));
    T("semget -1 semaphores", semget(IPC_PRIVATE, -1, 0600));
    T("semget 40000 semaphores", semget(IPC_PRIVATE, 40000, 0600));
    int s = semget(IPC_PRIVATE, 3, 0600);
    struct sembuf op = { 0, -1, IPC_NOWAIT };
    T("semop 0 operations", semop(s, &op, 0));
    T("semop 600 operations", semop(s, &op, 600));
    T("semop bad pointer", semop(s, BAD, 1));
    T("semop take from 0 IPC_NOWAIT", semop(s, &op, 1));
    struct sembuf big = { 5, 1, 0 };
    T("semop semaphore 5 of 3", semop(s, &big, 1));
    union semun u = { .val = 32767 };
    T("semctl SETVAL 32767", semctl(s, 1, SETVAL, u));
    struct sembuf up = { 1, 1, IPC_NOWAIT };
    T("semop past SEMVMX", semop(s, &up, 1));
    u.val = 40000;
    T("semctl SETVAL 40000", semctl(s, 1, SETVAL, u));
    u.val = -1;
    T("semctl SETVAL -1", semctl(s, 1, SETVAL, u));
    T("semctl GETVAL semaphore 7", semctl(s, 7, GETVAL));
    T("semctl command 99", semctl(s, 0, 99));
    u.array = BAD;
    T("semctl GETALL bad pointer", semctl(s, 0, GETALL, u));
    T("semctl SETALL bad pointer", semctl(s, 0, SETALL, u));
    struct timespec bad_ts = { 0, 1000000000 }, short_ts = { 0, 20000000 };
    op.sem_flg = 0;
    T("semtimedop bad timespec", raw_semtimedop(s, &op, 1, &bad_ts));
    T("semtimedop timeout pointer bad", raw_semtimedop(s, &op, 1, BAD));
    T("semtimedop times out", raw_semtimedop(s, &op, 1, &short_ts));
    T("semctl IPC_RMID", semctl(s, 0, IPC_RMID));
    T("semop on the removed set", semop(s, &op, 1));

    T("shmget size 0", shmget(IPC_PRIVATE, 0, 0600));
    int h = shmget(IPC_PRIVATE, 8192, 0600);
    T("shmat unknown id", (long)shmat(h + 32768 * 9 + 77, NULL, 0));
    T("shmat unaligned", (long)shmat(h, (void *)0x7f0000001001, 0));
    T("shmat SHM_REMAP without address", (long)shmat(h, NULL, SHM_REMAP));
    T("shmdt unaligned", shmdt((void *)0x1001));
    T("shmdt nothing attached", shmdt((void *)0x7f0000100000));
    T("shmctl IPC_STAT bad pointer", shmctl(h, IPC_STAT, BAD));
    T("shmctl command 99", shmctl(h, 99, NULL));
    char *ro = shmat(h, NULL, SHM_RDONLY);
    T("mprotect PROT_WRITE of SHM_RDONLY", mprotect(ro, 4096, PROT_READ | PROT_WRITE));
    T("shmdt", shmdt(ro));
    T("shmget bigger than the segment", shmget(0x7a1b2c3f, 4096, IPC_CREAT | 0600) >= 0);
    T("shmget bigger than the segment", shmget(0x7a1b2c3f, 8192, 0600));
    shmctl(shmget(0x7a1b2c3f, 0, 0600), IPC_RMID, NULL);
    T("shmctl IPC_RMID", shmctl(h, IPC_RMID, NULL));

    char name[64];
    snprintf(name, sizeof(name), "/ipcs-errors-%d", getpid());
    T("mq_open missing", mq_open(name, O_RDONLY));
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    longname[0] = '/';
    longname[299] = 0;
    T("mq_open name too long", mq_open(longname, O_RDONLY | O_CREAT, 0600, NULL));
    struct mq_attr a = { .mq_maxmsg = 0, .mq_msgsize = 16 };
    T("mq_open mq_maxmsg 0", mq_open(name, O_RDWR | O_CREAT, 0600, &a));
    a.mq_maxmsg = 2;
    mqd_t d = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    T("mq_open O_EXCL existing", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a));
    char buf[64] = "0123456789abcdefXYZ";
    T("mq_send 17 bytes into 16", mq_send(d, buf, 17, 0));
    T("mq_send priority 32768", mq_send(d, buf, 4, 32768));
    T("mq_send bad pointer", mq_send(d, BAD, 4, 0));
    T("mq_receive into 8 bytes", mq_receive(d, buf, 8, NULL));
    mqd_t nb = mq_open(name, O_RDONLY | O_NONBLOCK);
    T("mq_receive empty O_NONBLOCK", mq_receive(nb, buf, 64, NULL));
    T("mq_send on a read-only descriptor", mq_send(nb, buf, 4, 0));
    struct timespec past = { 1, 0 };
    T("mq_timedreceive past deadline", mq_timedreceive(d, buf, 64, NULL, &past));
    T("mq_timedreceive bad timeout", mq_timedreceive(d, buf, 64, NULL, &bad_ts));
    T("mq_send on a plain file descriptor", mq_send(1, buf, 4, 0));
    struct sigevent ev = { .sigev_notify = SIGEV_NONE };
    T("mq_notify", mq_notify(d, &ev));
    T("mq_notify twice", mq_notify(d, &ev));
    T("mq_notify bad descriptor", mq_notify(999, &ev));
    ev.sigev_notify = 77;
    T("mq_notify bad kind", mq_notify(d, &ev));
    struct mq_attr na = { .mq_flags = 1 }, oa;
    T("mq_setattr bad flags", syscall(SYS_mq_getsetattr, d, &na, &oa));
    T("mq_unlink", mq_unlink(name));
    T("mq_unlink again", mq_unlink(name));
    struct rlimit old, small;
    getrlimit(RLIMIT_MSGQUEUE, &old);
    small = (struct rlimit){ 1000, old.rlim_max };      /* the soft limit only */
    setrlimit(RLIMIT_MSGQUEUE, &small);
    a.mq_maxmsg = 10;
    a.mq_msgsize = 1024;
    T("mq_open over RLIMIT_MSGQUEUE", mq_open(name, O_RDWR | O_CREAT, 0600, &a));
    setrlimit(RLIMIT_MSGQUEUE, &old);
    mq_close(nb);
    mq_close(d);
}

static void *undo_thread(void *arg)
{
    struct sembuf op = { 0, -1, SEM_UNDO };
    semop(*(int *)arg, &op, 1);
    pause();
    return NULL;
}

static void works(void)
{
    /* messages: FIFO per type, type selection, MSG_EXCEPT, negative types */
    int q = msgget(IPC_PRIVATE, 0600);
    long types[] = { 3, 1, 2, 1, 5 };
    for (int i = 0; i < 5; i++) {
        struct mbuf m = { types[i], "" };
        snprintf(m.text, sizeof(m.text), "msg%d", i);
        msgsnd(q, &m, strlen(m.text) + 1, 0);
    }
    struct mbuf m;
    struct { long t; int f; } sel[] = { { 1, 0 }, { -2, 0 }, { 1, MSG_EXCEPT }, { 0, 0 }, { 0, 0 } };
    for (int i = 0; i < 5; i++) {
        long n = msgrcv(q, &m, sizeof(m.text), sel[i].t, sel[i].f | IPC_NOWAIT);
        printf("msgrcv type %ld%s: %ld bytes, type %ld, %s\n", sel[i].t,
               sel[i].f ? " MSG_EXCEPT" : "", n, m.type, n > 0 ? m.text : "-");
    }
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    printf("queue after: qnum %lu cbytes %lu lspid is me %d lrpid is me %d\n",
           (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           ds.msg_lspid == getpid(), ds.msg_lrpid == getpid());
    msgctl(q, IPC_RMID, NULL);

    /* semaphores: SETALL/GETALL, GETPID, undo at a child's exit */
    int s = semget(IPC_PRIVATE, 3, 0600);
    unsigned short vals[3] = { 5, 0, 7 }, out[3];
    semctl(s, 0, SETALL, vals);
    pid_t c = fork();
    if (!c) {
        struct sembuf ops[2] = { { 0, -2, SEM_UNDO }, { 1, 4, SEM_UNDO } };
        _exit(semop(s, ops, 2) ? 1 : 0);
    }
    int st;
    waitpid(c, &st, 0);
    semctl(s, 0, GETALL, out);
    printf("after a child's SEM_UNDO semop and exit: %u %u %u (child status %d, getpid is child %d)\n",
           out[0], out[1], out[2], WEXITSTATUS(st), semctl(s, 0, GETPID) == c);
    /* ... and of a two-thread child that exits (exit_group) while its other
     * thread, the one that made the operation, sleeps */
    c = fork();
    if (!c) {
        pthread_t t;
        pthread_create(&t, NULL, undo_thread, &s);
        while (semctl(s, 0, GETVAL) != 4)
            usleep(1000);
        exit(0);
    }
    waitpid(c, &st, 0);
    printf("after a two-thread child's exit: %d\n", semctl(s, 0, GETVAL));
    struct sembuf nu = { 2, -3, 0 };
    semop(s, &nu, 1);
    printf("without SEM_UNDO: %d\n", semctl(s, 2, GETVAL));
    semctl(s, 0, IPC_RMID);

    /* shared memory: inherited at fork, shared with a separate attachment,
     * nattch, IPC_RMID deferred to the last detach */
    int h = shmget(IPC_PRIVATE, 10000, 0600);
    char *p = shmat(h, NULL, 0);
    strcpy(p, "parent");
    c = fork();
    if (!c) {
        char *mine = shmat(h, NULL, 0);          /* a second attachment in the child */
        struct shmid_ds sd;
        shmctl(h, IPC_STAT, &sd);
        printf("child sees \"%s\" through both, nattch %lu\n", mine, (unsigned long)sd.shm_nattch);
        fflush(stdout);
        strcpy(mine + 9000, "from the child");
        strcpy(p, "child");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    struct shmid_ds sd;
    shmctl(h, IPC_STAT, &sd);
    printf("parent reads \"%s\" and \"%s\", nattch %lu, size %lu\n", p, p + 9000,
           (unsigned long)sd.shm_nattch, (unsigned long)sd.shm_segsz);
    shmctl(h, IPC_RMID, NULL);
    int r = shmctl(h, IPC_STAT, &sd);
    printf("after IPC_RMID while attached: stat %d, SHM_DEST %d, still readable \"%s\"\n", r,
           !!(sd.shm_perm.mode & SHM_DEST), p);
    shmdt(p);
    errno = 0;
    r = shmctl(h, IPC_STAT, &sd);
    printf("after the last detach: stat %d %s\n", r, ename(errno));

    /* POSIX queue: highest priority first, FIFO within a priority */
    char name[64], buf[64];
    snprintf(name, sizeof(name), "/ipcs-works-%d", getpid());
    struct mq_attr a = { .mq_maxmsg = 8, .mq_msgsize = 32 };
    mqd_t d = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    mq_send(d, "a", 2, 1);
    mq_send(d, "b", 2, 5);
    mq_send(d, "c", 2, 5);
    mq_send(d, "d", 2, 0);
    struct mq_attr got;
    mq_getattr(d, &got);
    printf("mq: maxmsg %ld msgsize %ld curmsgs %ld:", got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
    struct pollfd pf = { .fd = d, .events = POLLIN | POLLOUT };
    poll(&pf, 1, 0);
    printf(" poll %#x;", pf.revents);
    unsigned prio;
    while (mq_timedreceive(d, buf, sizeof(buf), &prio, &(struct timespec){ 0, 0 }) > 0)
        printf(" %s/%u", buf, prio);
    poll(&pf, 1, 0);
    printf("; poll %#x\n", pf.revents);
    mq_unlink(name);
    mq_close(d);
}

static void on_alarm(int sig) { (void)sig; }

/* Until process pid is in state st (S: asleep in the call the caller wants
 * to interrupt; T: stopped), by its /proc/PID/stat (without /proc, as in
 * the chroot the comparison runs in on the host, a pause long enough on
 * real hardware). */
static void wait_state(pid_t pid, char st)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    for (;;) {
        FILE *f = fopen(path, "r");
        if (!f) {
            usleep(300000);
            return;
        }
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        char *e = strrchr(buf, ')');
        if (e && e[1] == ' ' && e[2] == st)
            return;
        usleep(10000);
    }
}

static void wait_asleep(pid_t pid) { wait_state(pid, 'S'); }

static void waits(void)
{
    struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
    sigaction(SIGALRM, &sa, NULL);
    int q = msgget(IPC_PRIVATE, 0600);
    struct mbuf m = { 7, "wake" };
    pid_t c = fork();
    if (!c) {
        wait_asleep(getppid());
        msgsnd(q, &m, 5, 0);
        _exit(0);
    }
    long n = msgrcv(q, &m, 64, 7, 0);
    printf("msgrcv woken by a sender: %ld %s\n", n, m.text);
    waitpid(c, NULL, 0);
    alarm(1);
    errno = 0;
    n = msgrcv(q, &m, 64, 7, 0);
    printf("msgrcv and a signal (SA_RESTART): %ld %s\n", n, ename(errno));
    c = fork();
    if (!c) {
        struct mbuf r;
        long k = msgrcv(q, &r, 64, 9, 0);
        printf("msgrcv stopped and continued while it waits: %ld %s\n", k, k > 0 ? r.text : ename(errno));
        _exit(0);
    }
    wait_asleep(c);
    kill(c, SIGSTOP);
    wait_state(c, 'T');
    kill(c, SIGCONT);
    wait_asleep(c);
    struct mbuf nine = { 9, "nine" };
    msgsnd(q, &nine, 5, 0);
    waitpid(c, NULL, 0);
    c = fork();
    if (!c) {
        wait_asleep(getppid());
        msgctl(q, IPC_RMID, NULL);
        _exit(0);
    }
    errno = 0;
    n = msgrcv(q, &m, 64, 7, 0);
    printf("msgrcv and IPC_RMID: %ld %s\n", n, ename(errno));
    waitpid(c, NULL, 0);

    int s = semget(IPC_PRIVATE, 1, 0600);
    c = fork();
    if (!c) {
        wait_asleep(getppid());
        struct sembuf up = { 0, 2, 0 };
        semop(s, &up, 1);
        _exit(0);
    }
    struct sembuf down = { 0, -2, 0 };
    printf("semop woken by an increment: %d, value now %d\n", semop(s, &down, 1),
           semctl(s, 0, GETVAL));
    waitpid(c, NULL, 0);
    alarm(1);
    errno = 0;
    int r = semop(s, &down, 1);
    printf("semop and a signal (SA_RESTART): %d %s\n", r, ename(errno));
    c = fork();
    if (!c) {
        wait_asleep(getppid());
        semctl(s, 0, IPC_RMID);
        _exit(0);
    }
    errno = 0;
    r = semop(s, &down, 1);
    printf("semop and IPC_RMID: %d %s\n", r, ename(errno));
    waitpid(c, NULL, 0);

    char name[64], buf[64];
    snprintf(name, sizeof(name), "/ipcs-wait-%d", getpid());
    struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 16 };
    mqd_t d = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    c = fork();
    if (!c) {
        wait_asleep(getppid());
        mq_send(d, "late", 5, 3);
        _exit(0);
    }
    unsigned prio = 0;
    long k = mq_receive(d, buf, sizeof(buf), &prio);
    printf("mq_receive woken by a sender: %ld %s prio %u\n", k, buf, prio);
    waitpid(c, NULL, 0);
    mq_send(d, "full", 5, 0);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 50000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    errno = 0;
    r = mq_timedsend(d, "more", 5, 0, &t);
    printf("mq_timedsend to a full queue: %d %s\n", r, ename(errno));
    mq_unlink(name);
    mq_close(d);
}

/* Read what root put in each object, as uid 1000. */
static void perm(void)
{
    int q = msgget(IPC_PRIVATE, 0600);
    struct mbuf m = { 1, "secret-msg" };
    msgsnd(q, &m, sizeof(m.text), 0);
    int h = shmget(IPC_PRIVATE, 4096, 0600);
    char *p = shmat(h, NULL, 0);
    strcpy(p, "secret-shm");
    int s = semget(IPC_PRIVATE, 1, 0600);
    union semun u = { .val = 42 };
    semctl(s, 0, SETVAL, u);
    char name[64];
    snprintf(name, sizeof(name), "/ipcs-perm-%d", getpid());
    struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = 16 };
    mqd_t d = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    mq_send(d, "secret-mq", 10, 0);
    pid_t c = fork();
    if (!c) {
        if (setgid(1000) || setuid(1000))
            _exit(2);
        struct mbuf r = { 0, "" };
        errno = 0;
        long n = msgrcv(q, &r, sizeof(r.text), 0, IPC_NOWAIT);
        printf("uid 1000: msgrcv(0600 queue): %s\n", n > 0 ? r.text : ename(errno));
        errno = 0;
        char *x = shmat(h, NULL, SHM_RDONLY);
        printf("uid 1000: shmat(0600 segment): %s\n", x != (void *)-1 ? x : ename(errno));
        errno = 0;
        int v = semctl(s, 0, GETVAL);
        if (v >= 0)
            printf("uid 1000: semctl(0600 set, GETVAL): %d\n", v);
        else
            printf("uid 1000: semctl(0600 set, GETVAL): %s\n", ename(errno));
        errno = 0;
        mqd_t e = mq_open(name, O_RDONLY | O_NONBLOCK);
        char buf[32] = "";
        if (e != (mqd_t)-1 && mq_receive(e, buf, sizeof(buf), NULL) > 0)
            printf("uid 1000: mq_open(0600 queue): %s\n", buf);
        else
            printf("uid 1000: mq_open(0600 queue): %s\n", ename(errno));
        errno = 0;
        printf("uid 1000: msgctl(IPC_RMID) of root's queue: %s\n",
               msgctl(q, IPC_RMID, NULL) ? ename(errno) : "removed");
        errno = 0;
        printf("uid 1000: mq_unlink of root's queue: %s\n", mq_unlink(name) ? ename(errno) : "removed");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    msgctl(q, IPC_RMID, NULL);
    shmdt(p);
    shmctl(h, IPC_RMID, NULL);
    semctl(s, 0, IPC_RMID);
    mq_unlink(name);
    mq_close(d);
}

/* One round: every kind of object, children killed while blocked in each,
 * an attached segment killed with its process, then everything removed. */
static void round_trip(void)
{
    int q = msgget(IPC_PRIVATE, 0600);
    int s = semget(IPC_PRIVATE, 2, 0600);
    int h = shmget(IPC_PRIVATE, 3 * 4096, 0600);
    char name[64];
    snprintf(name, sizeof(name), "/ipcs-leak-%d", getpid());
    struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 64 };
    mqd_t d = mq_open(name, O_RDWR | O_CREAT, 0600, &a);
    mq_send(d, "x", 2, 0);
    struct mbuf m = { 1, "fill" };
    while (msgsnd(q, &m, 64, IPC_NOWAIT) == 0)
        ;
    pid_t kids[5];
    for (int i = 0; i < 5; i++) {
        if ((kids[i] = fork()) == 0) {
            struct sembuf down = { 0, -1, SEM_UNDO };
            struct sembuf up = { 1, 1, SEM_UNDO };
            char *p;
            switch (i) {
            case 0: msgsnd(q, &m, 64, 0); break;                /* full: waits */
            case 1: semop(s, &up, 1); semop(s, &down, 1); break; /* undo pending, waits */
            case 2: p = shmat(h, NULL, 0); p[5000] = 1; pause(); break;
            case 3: mq_send(d, "y", 2, 0); break;               /* full: waits */
            default: msgrcv(q, &m, 64, 99, 0); break;           /* no such type: waits */
            }
            _exit(0);
        }
    }
    for (int i = 0; i < 5; i++)
        wait_asleep(kids[i]);           /* each blocked in its call (or in pause) */
    for (int i = 0; i < 5; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < 5; i++)
        waitpid(kids[i], NULL, 0);
    msgctl(q, IPC_RMID, NULL);
    semctl(s, 0, IPC_RMID);
    shmctl(h, IPC_RMID, NULL);
    mq_close(d);
    mq_unlink(name);
}

static void leak(int n)
{
    struct snap before, after;
    take(&before);                      /* warms up stdio's buffers */
    round_trip();                       /* warm-up: tables, caches, the C library */
    usleep(100000);
    take(&before);
    for (int i = 0; i < n; i++)
        round_trip();
    usleep(100000);
    take(&after);
    printf("ipc rounds %d\n", n);
    printf("free frames before %ld after %ld\n", before.frames, after.frames);
    printf("heap bytes before %ld after %ld\n", before.bytes, after.bytes);
    printf("heap objects before %s after %s\n", before.objects, after.objects);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *what = argv[i];
        if (!strcmp(what, "errors"))
            errors();
        else if (!strcmp(what, "works"))
            works();
        else if (!strcmp(what, "wait"))
            waits();
        else if (!strcmp(what, "perm"))
            perm();
        else if (!strcmp(what, "leak"))
            leak(i + 1 < argc ? atoi(argv[++i]) : 3);
        else
            return 2;
        printf("ipcs %s done\n", what);
    }
    return 0;
}
