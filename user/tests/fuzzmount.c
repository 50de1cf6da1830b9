/* fuzzmount FIRST LAST: for each partition /dev/vdaN, N = FIRST..LAST (a
 * mutated ext3 image each, `./vigil fsfuzz`), mount it on /mnt, walk the
 * whole tree (stat, read every file, readlink every link), write (mkdir,
 * create, write across indirect blocks, truncate, rename, unlink, rmdir,
 * fsync), unmount. Any answer is fine — a refusal, EIO, ENOSPC — as long as
 * the kernel gives one: the harness judges the kernel (no panic, no hang,
 * every image reaches its "done" line), not these results. Work per image
 * is bounded (entries, depth, bytes read), whatever the image says. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 400
#define MAX_DEPTH   6
#define READ_MAX    (256 << 10)

static int entries, errors;
static char buf[64 << 10];

static void walk(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        errors++;
        return;
    }
    struct dirent *e;
    while (entries < MAX_ENTRIES && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        entries++;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st)) {
            errors++;
            continue;
        }
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
            walk(path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            int fd = open(path, O_RDONLY);
            if (fd < 0) {
                errors++;
                continue;
            }
            long got = 0, r;
            while (got < READ_MAX && (r = read(fd, buf, sizeof(buf))) > 0)
                got += r;
            if (r < 0)
                errors++;
            close(fd);
        } else if (S_ISLNK(st.st_mode)) {
            if (readlink(path, buf, sizeof(buf)) < 0)
                errors++;
        }
    }
    closedir(d);
}

/* Changes of every kind; returns how many calls failed. */
static int writes(void)
{
    int bad = 0;
    bad += mkdir("/mnt/fz", 0755) < 0;
    int fd = open("/mnt/fz/f", O_CREAT | O_RDWR, 0644);
    if (fd >= 0) {
        memset(buf, 'w', sizeof(buf));
        bad += write(fd, buf, 20000) != 20000;
        bad += pwrite(fd, "x", 1, 5 << 20) != 1;        /* past the direct blocks */
        bad += fsync(fd) < 0;
        bad += ftruncate(fd, 1000) < 0;
        close(fd);
    } else {
        bad++;
    }
    bad += rename("/mnt/fz/f", "/mnt/fz/g") < 0;
    bad += symlink("g", "/mnt/fz/l") < 0;
    bad += unlink("/mnt/fz/l") < 0;
    bad += unlink("/mnt/fz/g") < 0;
    bad += rmdir("/mnt/fz") < 0;
    fd = open("/mnt/top", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
        bad += write(fd, "top\n", 4) != 4;
        close(fd);
        bad += unlink("/mnt/top") < 0;
    } else {
        bad++;
    }
    sync();
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fuzzmount FIRST LAST\n");
        return 2;
    }
    int first = atoi(argv[1]), last = atoi(argv[2]);
    for (int n = first; n <= last; n++) {
        char dev[32];
        snprintf(dev, sizeof(dev), "/dev/vda%d", n);
        printf("image %d: start\n", n);
        fflush(stdout);
        entries = errors = 0;
        if (mount(dev, "/mnt", "ext3", 0, NULL) < 0) {
            printf("image %d: done: mount refused: errno %d (%s)\n", n, errno, strerror(errno));
            fflush(stdout);
            continue;
        }
        walk("/mnt", 0);
        int bad = writes();
        const char *um = umount("/mnt") < 0 ? strerror(errno) : "ok";
        printf("image %d: done: mounted, %d entries, %d read errors, %d failed writes, umount %s\n",
               n, entries, errors, bad, um);
        fflush(stdout);
    }
    printf("fuzzmount: finished\n");
    return 0;
}
