/* inotifier: inotify(7) compared with Linux: the events a watched
 * directory and file report for create, open, write, read, close, chmod,
 * link, rename, unlink, mkdir and rmdir; IN_ONESHOT, IN_MASK_ADD,
 * IN_MASK_CREATE, IN_ONLYDIR, IN_EXCL_UNLINK; the queue (merging, FIONREAD,
 * poll, a read too small); and every bad argument's errno. Each line is an
 * event ("wd mask name", cookies shown as paired or not) or a result. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "errname.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld\n", what, r);
}

static int base_wd;

/* Every queued event, wds relative to the first watch. */
static void drain(int in, const char *when)
{
    char buf[4096] __attribute__((aligned(8)));
    uint32_t last_cookie = 0;
    printf("-- %s\n", when);
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            const char *pair = "";
            if (e->cookie && e->cookie == last_cookie)
                pair = " (cookie pairs)";
            else if (e->cookie)
                pair = " (cookie)";
            last_cookie = e->cookie;
            printf("wd %d mask %#x name '%s'%s\n", e->wd < 0 ? -1 : e->wd - base_wd, e->mask,
                   e->len ? e->name : "", pair);
            p += sizeof(*e) + e->len;
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/inotifierXXXXXX";
    mkdtemp(dir);
    chdir(dir);
    close(creat("old", 0644));
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    base_wd = inotify_add_watch(in, ".", IN_ALL_EVENTS);
    int wf = inotify_add_watch(in, "old", IN_ALL_EVENTS);
    printf("wds: %d %d\n", base_wd - base_wd, wf - base_wd);
    show("read empty, nonblocking", read(in, (char[64]){0}, 64));

    int fd = open("new", O_CREAT | O_RDWR, 0600);
    write(fd, "hello", 5);
    write(fd, "again", 5);                      /* merged with the first */
    pread(fd, (char[8]){0}, 4, 0);
    close(fd);
    drain(in, "create, write twice, read, close");

    chmod("old", 0600);
    link("old", "hard");
    rename("hard", "moved");
    unlink("moved");
    drain(in, "chmod, link, rename, unlink of a second name");

    utimes("old", NULL);
    mkfifo("fifo", 0600);
    truncate("old", 0);
    unlink("fifo");
    drain(in, "utimes, mkfifo, truncate, unlink of the fifo");

    mkdir("sub", 0700);
    rmdir("sub");
    fd = open("old", O_RDONLY);
    int q = -1;
    ioctl(in, FIONREAD, &q);
    printf("FIONREAD: %d\n", q);
    struct pollfd pf = { in, POLLIN, 0 };
    show("poll", poll(&pf, 1, 0));
    printf("revents %#x\n", pf.revents);
    show("read too small", read(in, (char[8]){0}, 8));
    close(fd);
    drain(in, "mkdir, rmdir, open and close of the watched file");

    unlink("old");
    drain(in, "unlink of the watched file");

    /* oneshot, mask_add, mask_create, excl_unlink */
    close(creat("f", 0644));
    int w1 = inotify_add_watch(in, "f", IN_MODIFY | IN_ONESHOT);
    fd = open("f", O_WRONLY);
    write(fd, "1", 1);
    write(fd, "2", 1);
    close(fd);
    drain(in, "oneshot");
    w1 = inotify_add_watch(in, "f", IN_ATTRIB);
    show("mask_add same wd", inotify_add_watch(in, "f", IN_CLOSE_WRITE | IN_MASK_ADD) == w1);
    show("mask_create on a watched file", inotify_add_watch(in, "f", IN_OPEN | IN_MASK_CREATE));
    chmod("f", 0600);
    close(open("f", O_WRONLY));
    show("rm_watch", inotify_rm_watch(in, w1));
    show("rm_watch again", inotify_rm_watch(in, w1));
    drain(in, "mask_add, rm_watch");

    inotify_rm_watch(in, base_wd);
    int wx = inotify_add_watch(in, ".", IN_MODIFY | IN_EXCL_UNLINK);
    base_wd = wx;
    fd = open("f", O_WRONLY);
    write(fd, "a", 1);
    unlink("f");
    write(fd, "b", 1);
    close(fd);
    drain(in, "excl_unlink");

    /* errnos */
    show("init1 bad flags", inotify_init1(1));
    show("add bad fd", inotify_add_watch(99, ".", IN_ALL_EVENTS));
    show("add to a non-inotify fd", inotify_add_watch(0, ".", IN_ALL_EVENTS));
    show("add mask 0", inotify_add_watch(in, ".", 0));
    show("add only flags", inotify_add_watch(in, ".", IN_ONESHOT));
    show("add unknown bit", inotify_add_watch(in, ".", IN_MODIFY | 0x00010000));
    show("add mask_add|mask_create", inotify_add_watch(in, ".", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
    show("add missing path", inotify_add_watch(in, "nothere", IN_MODIFY));
    show("add bad path pointer", inotify_add_watch(in, (char *)8, IN_MODIFY));
    close(creat("plain", 0644));
    show("add onlydir on a file", inotify_add_watch(in, "plain", IN_MODIFY | IN_ONLYDIR));
    show("rm bad fd", inotify_rm_watch(99, 1));
    show("rm non-inotify fd", inotify_rm_watch(0, 1));
    show("rm unknown wd", inotify_rm_watch(in, 12345));
    show("rm negative wd", inotify_rm_watch(in, -1));
    unlink("plain");
    drain(in, "errnos (nothing queued but the unlink)");
    close(in);
    chdir("/");
    rmdir(dir);
    return 0;
}
