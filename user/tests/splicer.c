/* splicer: pipe capacity (F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD), packet
 * pipes (pipe2 O_DIRECT), and splice/tee/vmsplice with good and bad
 * arguments, compared with Linux: every line is a result or an errno, so
 * the host and Vigil print the same text. (Only what does not depend on
 * privilege or the host's sysctls: the pipe-max-size rules for users are
 * tests/test_pipes.py's, on Vigil.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
}

static int tmpfile_with(const char *text)
{
    char name[] = "/tmp/splicerXXXXXX";
    int fd = mkstemp(name);
    unlink(name);
    if (text)
        write(fd, text, strlen(text));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void capacity(void)
{
    int p[2];
    pipe(p);
    show("default size", fcntl(p[1], F_GETPIPE_SZ));
    show("set 0", fcntl(p[0], F_SETPIPE_SZ, 0));
    show("set 5000", fcntl(p[0], F_SETPIPE_SZ, 5000));
    show("get from other end", fcntl(p[1], F_GETPIPE_SZ));
    show("set 2^31+1", fcntl(p[0], F_SETPIPE_SZ, (1u << 31) + 1));
    show("set -1", fcntl(p[0], F_SETPIPE_SZ, -1));
    char buf[8192];
    memset(buf, 'a', sizeof(buf));
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    show("fill", write(p[1], buf, sizeof(buf)));
    show("write to full", write(p[1], "x", 1));
    int n = -1;
    ioctl(p[0], FIONREAD, &n);
    printf("FIONREAD: %d\n", n);
    show("shrink below data", fcntl(p[0], F_SETPIPE_SZ, 4096));
    show("grow with data", fcntl(p[0], F_SETPIPE_SZ, 65536));
    show("read back", read(p[0], buf, sizeof(buf)));
    show("shrink when empty", fcntl(p[0], F_SETPIPE_SZ, 4096));
    close(p[0]), close(p[1]);
    int f = tmpfile_with(NULL);
    show("GETPIPE_SZ on a file", fcntl(f, F_GETPIPE_SZ));
    show("SETPIPE_SZ on a file", fcntl(f, F_SETPIPE_SZ, 4096));
    close(f);
}

static void packets(void)
{
    int p[2];
    show("pipe2 O_DIRECT", pipe2(p, O_DIRECT));
    show("write end has O_DIRECT", !!(fcntl(p[1], F_GETFL) & O_DIRECT));
    write(p[1], "hello", 5);
    write(p[1], "world!", 6);
    char buf[64] = "";
    show("read one packet", read(p[0], buf, sizeof(buf)));
    show("short read drops the rest", read(p[0], buf, 3));
    write(p[1], "again", 5);
    show("next packet whole", read(p[0], buf, sizeof(buf)));
    printf("bytes: %.5s\n", buf);
    show("pipe2 bad flag", pipe2(p, O_APPEND));
    close(p[0]), close(p[1]);
}

static void splicing(void)
{
    int p[2], q[2];
    pipe(p);
    pipe(q);
    int in = tmpfile_with("0123456789abcdef");
    int out = tmpfile_with(NULL);
    loff_t off = 4;
    show("file to pipe at offset", splice(in, &off, p[1], NULL, 6, 0));
    printf("offset now %lld, file offset %lld\n", (long long)off, (long long)lseek(in, 0, SEEK_CUR));
    show("file to pipe at file offset", splice(in, NULL, p[1], NULL, 3, 0));
    printf("file offset %lld\n", (long long)lseek(in, 0, SEEK_CUR));
    show("tee", tee(p[0], q[1], 100, 0));
    show("pipe to pipe", splice(q[0], NULL, q[1], NULL, 4, 0));
    show("pipe to file", splice(p[0], NULL, out, NULL, 100, 0));
    char buf[64] = "";
    pread(out, buf, sizeof(buf), 0);
    printf("file holds: %s\n", buf);
    memset(buf, 0, sizeof(buf));
    show("tee'd bytes still readable", read(q[0], buf, sizeof(buf)));
    printf("tee'd: %s\n", buf);
    /* errnos */
    show("len 0 with bad fds", splice(-1, NULL, -1, NULL, 0, 0));
    show("bad flags", splice(p[0], NULL, q[1], NULL, 1, 0x10));
    show("bad in fd", splice(99, NULL, p[1], NULL, 1, 0));
    show("bad out fd", splice(p[0], NULL, 99, NULL, 1, 0));
    show("offset on a pipe", splice(p[0], &off, out, NULL, 1, 0));
    show("same pipe", splice(p[0], NULL, p[1], NULL, 1, 0));
    show("two files", splice(in, NULL, out, NULL, 1, 0));
    show("read end as target", splice(in, NULL, p[0], NULL, 1, 0));
    int app = tmpfile_with(NULL);
    fcntl(app, F_SETFL, O_APPEND);
    write(p[1], "z", 1);
    show("O_APPEND target", splice(p[0], NULL, app, NULL, 1, 0));
    off = -1;
    show("negative offset", splice(in, &off, p[1], NULL, 1, 0));
    show("nonblocking on empty", splice(q[0], NULL, out, NULL, 1, SPLICE_F_NONBLOCK));
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY), ev = eventfd(1, 0);
    show("from a directory", splice(dir, NULL, p[1], NULL, 1, 0));
    show("from an eventfd", splice(ev, NULL, p[1], NULL, 8, 0));
    show("into an eventfd", splice(p[0], NULL, ev, NULL, 8, 0));
    close(dir), close(ev);
    show("tee same pipe", tee(p[0], p[1], 1, 0));
    show("tee from a file", tee(in, p[1], 1, 0));
    show("tee bad flags", tee(p[0], q[1], 1, 0x20));
    show("tee len 0", tee(p[0], q[1], 0, 0));
    signal(SIGPIPE, SIG_IGN);
    int r[2];
    pipe(r);
    close(r[0]);
    lseek(in, 0, SEEK_SET);
    show("no reader", splice(in, NULL, r[1], NULL, 4, 0));
    close(r[1]);
    pipe(r);
    close(r[1]);
    show("no writer, empty", splice(r[0], NULL, out, NULL, 4, 0));
    close(r[0]);
    close(in), close(out), close(app);
    close(p[0]), close(p[1]), close(q[0]), close(q[1]);
}

static void vmsplicing(void)
{
    int p[2];
    pipe(p);
    char a[] = "vector", b[] = "splice";
    struct iovec v[2] = { { a, 6 }, { b, 6 } };
    show("vmsplice in", vmsplice(p[1], v, 2, 0));
    char x[5] = "", y[20] = "";
    struct iovec w[2] = { { x, 4 }, { y, 20 } };
    show("vmsplice out", vmsplice(p[0], w, 2, 0));
    printf("got: %.4s|%s\n", x, y);
    show("vmsplice nothing", vmsplice(p[1], v, 0, 0));
    show("too many segments", vmsplice(p[1], v, IOV_MAX + 1, 0));
    show("bad fd", vmsplice(77, v, 1, 0));
    show("bad flags", vmsplice(p[1], v, 1, 0x40));
    int f = tmpfile_with(NULL);
    show("not a pipe", vmsplice(f, v, 1, 0));
    show("bad iovec", vmsplice(p[1], (struct iovec *)8, 1, 0));
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    static char big[4096] __attribute__((aligned(4096)));
    memset(big, 'b', sizeof(big));
    struct iovec g = { big, sizeof(big) };
    show("fill", vmsplice(p[1], &g, 1, 0));
    show("full, nonblocking", vmsplice(p[1], &g, 1, SPLICE_F_NONBLOCK));
    close(f), close(p[0]), close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    capacity();
    packets();
    splicing();
    vmsplicing();
    return 0;
}
