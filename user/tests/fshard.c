/* fshard: the file-system attacks of issue 14 that used to stop the
 * kernel, each a subcommand that prints what the calls returned:
 *   deeptrunc DIR  a 1-byte file at 0x106000000 (a triple-indirect block),
 *                  then truncate(path, 0) (the kernel stack overflowed);
 *   efbig DIR      ftruncate to 1<<62 (accepted), then to 0 (an endless
 *                  loop holding the kernel lock); also writes and seeks
 *                  past the file-size limit;
 *   mount          mount the disk on /mnt and say how it went (a corrupt
 *                  superblock page-faulted the kernel).
 * The test (tests/test_fs_hardening.py) judges the lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char *what, long r)
{
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
    fflush(stdout);
}

static int deeptrunc(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/deep", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    say("pwrite at 0x106000000", pwrite(fd, "x", 1, 0x106000000ll));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
    close(fd);
    say("truncate to 0", truncate(path, 0));
    stat(path, &st);
    printf("after: size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
    say("unlink", unlink(path));
    return 0;
}

static int efbig(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/huge", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    say("ftruncate to 1<<62", ftruncate(fd, 1ll << 62));
    say("ftruncate to 0", ftruncate(fd, 0));
    say("pwrite at 1<<62", pwrite(fd, "x", 1, 1ll << 62));
    /* Just under the limit is fine, and truncating it back is quick. */
    say("ftruncate to 1<<33", ftruncate(fd, 1ll << 33));
    say("pwrite at 1<<33", pwrite(fd, "x", 1, 1ll << 33));
    say("ftruncate back to 0", ftruncate(fd, 0));
    struct stat st;
    fstat(fd, &st);
    printf("after: size %lld blocks %lld\n", (long long)st.st_size, (long long)st.st_blocks);
    close(fd);
    say("unlink", unlink(path));
    return 0;
}

static int domount(void)
{
    long r = mount("/dev/vda", "/mnt", "ext3", 0, NULL);
    say("mount", r);
    if (r == 0) {
        struct stat st;
        say("stat /mnt", stat("/mnt", &st));
        say("umount", umount("/mnt"));
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "deeptrunc"))
        return deeptrunc(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "efbig"))
        return efbig(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "mount"))
        return domount();
    fprintf(stderr, "usage: fshard deeptrunc DIR | efbig DIR | mount\n");
    return 2;
}
