/* bench-run fs=TYPE ms=N NAME... - the first process of a benchmark boot,
 * the same program on Vigil (init=/bin/bench-run) and on Linux (the
 * initramfs's /init). It prints "bench-run: start" (the first user line:
 * the host times the boot by it), prepares what the kernel needs (on Linux:
 * /proc, /dev, and the modules listed in /lib/modules/bench/order, loaded
 * in that order), mounts the virtio disk /dev/vda on /mnt as TYPE, runs
 * /bin/bench-NAME MS /mnt for each NAME, one after the other, and powers
 * off through QEMU's isa-debug-exit port (Linux) or reboot(2) (Vigil, whose
 * power-off writes that port itself): the same exit status either way. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_MS (180 * 1000)            /* per benchmark */

static char *env[] = { "PATH=/bin:/sbin", "HOME=/", NULL };

static void console(void)
{
    if (fcntl(1, F_GETFD) >= 0)
        return;
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        return;
    dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
    if (fd > 2)
        close(fd);
}

/* Linux only: the modules, by finit_module(2), in the order the harness
 * worked out from their dependencies. */
static void load_modules(void)
{
    FILE *f = fopen("/lib/modules/bench/order", "r");
    if (!f)
        return;
    char name[256], path[300];
    while (fgets(name, sizeof(name), f)) {
        name[strcspn(name, "\n")] = 0;
        if (!name[0])
            continue;
        snprintf(path, sizeof(path), "/lib/modules/bench/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST))
            printf("bench-run: module %s: %s\n", name, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    fclose(f);
}

/* The disk may appear a little after its driver loads: try for 10 s. */
static int mount_disk(const char *fs)
{
    for (int i = 0; i < 1000; i++) {
        if (mount("/dev/vda", "/mnt", fs, 0, NULL) == 0)
            return 0;
        if (errno != ENOENT && errno != ENXIO && errno != ENODEV)
            break;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    printf("bench-run: mount /dev/vda on /mnt as %s: %s\n", fs, strerror(errno));
    return -1;
}

static void run_one(const char *name, const char *ms)
{
    char path[128];
    snprintf(path, sizeof(path), "/bin/bench-%s", name);
    char *argv[] = { path, (char *)ms, "/mnt", NULL };
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("bench %s error=fork errno=%d\n", name, errno);
        return;
    }
    if (pid == 0) {
        execve(path, argv, env);
        printf("bench %s error=execve errno=%d\n", name, errno);
        fflush(stdout);
        _exit(127);
    }
    /* Polled (Vigil has no alarm(2)), so that a benchmark that hangs is
     * reported and the rest still run: 20 wake-ups a second, the same on
     * both kernels. */
    int st = 0;
    for (int waited = 0;; waited += 50) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return;
        if (waited >= LIMIT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            printf("bench %s error=timeout-%ds\n", name, LIMIT_MS / 1000);
            return;
        }
        struct timespec ts = { 0, 50 * 1000000 };
        nanosleep(&ts, NULL);
    }
    if (WIFSIGNALED(st))
        printf("bench %s error=signal-%d\n", name, WTERMSIG(st));
}

static void power_off(void)
{
    fflush(stdout);
    sync();
    if (ioperm(0xf4, 4, 1) == 0)
        outl(0x10, 0xf4);                   /* QEMU exits with (0x10 << 1) | 1 */
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    console();
    printf("bench-run: start\n");
    fflush(stdout);
    const char *fs = "ext3", *ms = "300";
    int first = 1;
    for (; first < argc && strchr(argv[first], '='); first++) {
        if (!strncmp(argv[first], "fs=", 3))
            fs = argv[first] + 3;
        else if (!strncmp(argv[first], "ms=", 3))
            ms = argv[first] + 3;
    }
    if (getpid() == 1) {
        mount("proc", "/proc", "proc", 0, NULL);        /* Linux; Vigil says no */
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    }
    load_modules();
    int mounted = mount_disk(fs) == 0;
    for (int i = first; i < argc; i++)
        run_one(argv[i], ms);
    if (mounted) {
        sync();
        umount2("/mnt", 0);
    }
    printf("bench-run: done\n");
    if (getpid() == 1)
        power_off();
    return 0;
}
