/* mqfs.c - the POSIX message queue file system (mount -t mqueue), as a
 * program sees it; tests/test_ipc.py runs it on Vigil and on Linux and
 * compares the output line for line.
 *
 * Root mounts it on a directory of its own, makes queues with mq_open and
 * with open(O_CREAT) there, and checks what ls, stat, cat, statfs and rm
 * see: the names, the modes and owners, the status line, the magic number,
 * that rm is mq_unlink (an open descriptor keeps the queue), that a
 * directory or a link cannot be made there, and that in the sticky root
 * another user can neither remove root's queue nor read a 0600 one. Only
 * names beginning "mqfs-" are printed: other programs' queues on the host
 * are not ours. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "errname.h"

#define DIR_ "/tmp/mqfs.d"

static void say(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, ename(errno));
    else
        printf("%s: ok\n", what);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(void)
{
    DIR *d = opendir(DIR_);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64)
        if (!strncmp(e->d_name, "mqfs-", 5))
            names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof(names[0]), by_name);
    printf("ls:");
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

static void show(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), DIR_ "/%s", name);
    struct stat st;
    if (stat(path, &st)) {
        printf("stat %s: %s\n", name, ename(errno));
        return;
    }
    printf("stat %s: mode %o uid %u gid %u nlink %lu size %lld\n", name, st.st_mode, st.st_uid, st.st_gid,
           (unsigned long)st.st_nlink, (long long)st.st_size);
    char line[160] = "";
    int fd = open(path, O_RDONLY);
    ssize_t k = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
    if (k < 0)
        printf("cat %s: %s\n", name, ename(errno));
    else
        line[k] = 0, printf("cat %s: %s", name, line);
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    mq_unlink("/mqfs-a"), mq_unlink("/mqfs-b"), mq_unlink("/mqfs-c");
    mkdir(DIR_, 0755);
    if (mount("none", DIR_, "mqueue", 0, NULL)) {
        printf("mount: %s\n", ename(errno));
        return 1;
    }
    struct statfs sf;
    if (!statfs(DIR_, &sf))
        printf("statfs: type %lx\n", (unsigned long)sf.f_type);
    struct stat st;
    if (!stat(DIR_, &st))   /* (its size counts every queue, the host's others too) */
        printf("root: mode %o uid %u\n", st.st_mode, st.st_uid);

    struct mq_attr at = { .mq_maxmsg = 4, .mq_msgsize = 16 };
    mqd_t a = mq_open("/mqfs-a", O_CREAT | O_RDWR, 0640, &at);
    mqd_t b = mq_open("/mqfs-b", O_CREAT | O_RDWR, 0600, NULL);
    say("mq_open a", a);
    say("mq_open b", b);
    say("mq_send a", mq_send(a, "hello", 5, 3));
    say("mq_send a", mq_send(a, "worlds", 6, 1));
    list();
    show("mqfs-a");
    show("mqfs-b");

    /* A queue made as a file: the default sizes. */
    int c = open(DIR_ "/mqfs-c", O_CREAT | O_RDWR | O_EXCL, 0644);
    say("open(O_CREAT) c", c);
    say("open(O_CREAT|O_EXCL) c again", open(DIR_ "/mqfs-c", O_CREAT | O_RDWR | O_EXCL, 0644));
    mqd_t cq = mq_open("/mqfs-c", O_RDONLY);
    say("mq_open c", cq);
    struct mq_attr ca;
    if (cq >= 0 && !mq_getattr(cq, &ca))
        printf("c: maxmsg %ld msgsize %ld curmsgs %ld\n", ca.mq_maxmsg, ca.mq_msgsize, ca.mq_curmsgs);
    show("mqfs-c");
    list();

    say("mkdir", mkdir(DIR_ "/mqfs-d", 0755));
    say("symlink", symlink("mqfs-a", DIR_ "/mqfs-l"));
    say("open missing", open(DIR_ "/mqfs-none", O_RDONLY));

    /* Another user in the sticky root: no removing root's, no reading 0600. */
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(2);
        say("uid 1000: rm b", unlink(DIR_ "/mqfs-b"));
        say("uid 1000: cat b (0600)", open(DIR_ "/mqfs-b", O_RDONLY));
        say("uid 1000: cat a (0640)", open(DIR_ "/mqfs-a", O_RDONLY));
        _exit(0);
    }
    int ws;
    waitpid(pid, &ws, 0);

    /* rm is mq_unlink: the name goes, the open descriptor keeps the queue. */
    say("rm a", unlink(DIR_ "/mqfs-a"));
    say("rm a again", unlink(DIR_ "/mqfs-a"));
    say("mq_open a after rm", mq_open("/mqfs-a", O_RDONLY));
    char buf[16];
    unsigned prio;
    ssize_t k = mq_receive(a, buf, sizeof(buf), &prio);
    if (k >= 0)
        printf("receive from the removed a: %.*s prio %u\n", (int)k, buf, prio);
    else
        printf("receive from the removed a: %s\n", ename(errno));
    say("mq_unlink b", mq_unlink("/mqfs-b"));
    list();
    say("rm c", unlink(DIR_ "/mqfs-c"));
    list();
    mq_close(a), mq_close(b), mq_close(cq), close(c);
    say("umount", umount(DIR_));
    rmdir(DIR_);
    printf("mqfs done\n");
    return 0;
}
