/* pipes: pipe semantics, compared with Linux. Ping-pong between two
 * processes, end of file, EPIPE/SIGPIPE, a large transfer, O_NONBLOCK,
 * and atomic writes of up to PIPE_BUF bytes from several writers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void pingpong(void)
{
    int a[2], b[2];
    pipe(a);
    pipe(b);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        for (int i = 0; i < 1000; i++) {
            read(a[0], &c, 1);
            c++;
            write(b[1], &c, 1);
        }
        _exit(0);
    }
    char c = 0;
    for (int i = 0; i < 1000; i++) {
        write(a[1], &c, 1);
        read(b[0], &c, 1);
    }
    waitpid(pid, NULL, 0);
    printf("ping-pong: 1000 round trips, value %d\n", (unsigned char)c);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

static void eof_and_epipe(void)
{
    int p[2];
    pipe(p);
    close(p[1]);
    char buf[4];
    printf("read with no writers: %zd\n", read(p[0], buf, sizeof(buf)));
    close(p[0]);

    pipe(p);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t r = write(p[1], "x", 1);
    printf("write with no readers: %zd %s\n", r, errno == EPIPE ? "EPIPE" : strerror(errno));
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);

    pipe(p);
    int go[2];                               /* the child writes once the parent has closed */
    pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        close(go[1]);
        char c;
        read(go[0], &c, 1);                  /* EOF: the parent's ends are closed */
        write(p[1], "x", 1);                 /* SIGPIPE kills: default action */
        _exit(0);
    }
    close(p[0]);
    close(p[1]);
    close(go[0]);
    close(go[1]);
    int st;
    waitpid(pid, &st, 0);
    printf("writer to a closed pipe: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void bulk(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        static unsigned char buf[100000];
        for (int round = 0; round < 20; round++) {
            for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (unsigned char)(i * 31 + round);
            write(p[1], buf, sizeof(buf));
        }
        _exit(0);
    }
    close(p[1]);
    unsigned long sum = 0, n = 0;
    unsigned char buf[7000];
    ssize_t k;
    while ((k = read(p[0], buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < k; i++)
            sum = sum * 33 + buf[i], n++;
    waitpid(pid, NULL, 0);
    printf("bulk: %lu bytes, hash %lu\n", n, sum);
    close(p[0]);
}

static void nonblock(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    char c;
    errno = 0;
    ssize_t r = read(p[0], &c, 1);
    printf("empty nonblocking read: %zd %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");
    static char big[1 << 20];
    ssize_t total = 0, k;
    while ((k = write(p[1], big, sizeof(big))) > 0)
        total += k;
    printf("nonblocking fill stopped with %s after some bytes: %s\n",
           errno == EAGAIN ? "EAGAIN" : "?", total > 0 ? "yes" : "no");
    close(p[0]);
    close(p[1]);
}

static void atomic(void)
{
    int p[2];
    pipe(p);
    for (int w = 0; w < 4; w++)
        if (fork() == 0) {
            char rec[PIPE_BUF];
            memset(rec, 'a' + w, sizeof(rec));
            for (int i = 0; i < 16; i++)
                write(p[1], rec, sizeof(rec));
            _exit(0);
        }
    close(p[1]);
    char rec[PIPE_BUF];
    int records = 0, torn = 0;
    for (;;) {
        size_t got = 0;
        ssize_t k;
        while (got < sizeof(rec) && (k = read(p[0], rec + got, sizeof(rec) - got)) > 0)
            got += (size_t)k;
        if (got < sizeof(rec))
            break;
        records++;
        for (size_t i = 1; i < sizeof(rec); i++)
            torn += rec[i] != rec[0];
    }
    while (wait(NULL) > 0)
        ;
    printf("atomic writes: %d records, torn bytes %d\n", records, torn);
}

int main(void)
{
    pingpong();
    eof_and_epipe();
    bulk();
    nonblock();
    atomic();
    return 0;
}
