/* mounter: mount(2) and umount2(2) of the disk on /mnt, and their errors,
 * with the initrd as the root: files written through the mount point reach
 * the disk; ".." leads back out of it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, long r)
{
    int e = errno;
    printf("%-32s %s\n", what, r < 0 ? strerror(e) : "ok");
    errno = 0;
}

int main(void)
{
    say("mount bad type", mount("/dev/vda", "/mnt", "vfat", 0, NULL));
    say("mount on a file", mount("/dev/vda", "/bin/hello", "ext3", 0, NULL));
    say("mount /dev/vda on /mnt", mount("/dev/vda", "/mnt", "ext3", 0, NULL));
    say("mount it again", mount("/dev/vda", "/mnt", "ext3", 0, NULL));
    struct stat st;
    say("stat /mnt/scratch", stat("/mnt/scratch", &st));
    int fd = open("/mnt/scratch/note", O_CREAT | O_WRONLY, 0644);
    say("create /mnt/scratch/note", fd);
    say("write it", write(fd, "through a mount point\n", 22));
    say("fsync it", fsync(fd));
    say("umount while busy", umount("/mnt"));
    close(fd);
    say("chdir /mnt/scratch", chdir("/mnt/scratch"));
    say("stat ../../bin/hello", stat("../../bin/hello", &st));
    say("chdir /", chdir("/"));
    pid_t pid = fork();
    if (pid == 0) {
        setuid(1000);
        say("umount as a user", umount("/mnt"));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    say("umount /mnt", umount("/mnt"));
    say("stat /mnt/scratch after", stat("/mnt/scratch", &st));
    say("mount read-only", mount("/dev/vda", "/mnt", "ext2", MS_RDONLY, NULL));
    fd = open("/mnt/scratch/note", O_RDONLY);
    char buf[64] = { 0 };
    say("read back", read(fd, buf, sizeof(buf) - 1));
    printf("note: %s", buf);
    close(fd);
    say("write on read-only", open("/mnt/scratch/other", O_CREAT | O_WRONLY, 0644));
    say("remount ext2 read-write", mount("/dev/vda", "/mnt", "ext2", MS_REMOUNT, NULL));
    say("umount /mnt", umount("/mnt"));
    /* A tmpfs remounted read-only refuses every write and takes them
     * again once remounted read-write (how LTP makes its read-only file
     * systems). */
    say("mount tmpfs", mount("none", "/mnt", "tmpfs", 0, NULL));
    int t = open("/mnt/f", O_CREAT | O_WRONLY, 0644);
    say("create on tmpfs", t);
    close(t);                   /* (Linux refuses ro while a file is open for writing) */
    say("remount tmpfs ro", mount(NULL, "/mnt", "tmpfs", MS_REMOUNT | MS_RDONLY, NULL));
    say("create on ro tmpfs", open("/mnt/g", O_CREAT | O_WRONLY, 0644));
    say("open for writing on ro tmpfs", open("/mnt/f", O_WRONLY));
    say("mkdir on ro tmpfs", mkdir("/mnt/d", 0755));
    say("chmod on ro tmpfs", chmod("/mnt/f", 0600));
    say("unlink on ro tmpfs", unlink("/mnt/f"));
    say("remount tmpfs rw", mount(NULL, "/mnt", "tmpfs", MS_REMOUNT, NULL));
    say("create after rw", open("/mnt/g", O_CREAT | O_WRONLY, 0644));
    say("remount a non-mount point", mount(NULL, "/bin", "tmpfs", MS_REMOUNT, NULL));
    say("umount tmpfs", umount("/mnt"));
    return 0;
}
