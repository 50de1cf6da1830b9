/* fs/dev.c - character devices and the /dev the kernel makes at boot.
 *
 * Why this shape: Linux programs find devices by path (/dev/null,
 * /dev/urandom, /dev/tty) and check them with stat (S_IFCHR, st_rdev). As
 * Linux's devtmpfs does, the kernel mounts a tmpfs on /dev at boot and
 * makes the device nodes in it; opening a character-device inode on any
 * file system goes to the driver its device number names (dev_open), so a
 * node made elsewhere works too. The numbers are Linux's (devices.txt):
 * 1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom, 5:0 tty,
 * 5:1 console, 5:2 ptmx, 4:64 ttyS0 (the serial console), 136:N the
 * pseudo-terminal slaves, which appear in /dev/pts (a tmpfs the kernel
 * mounts there and fills as ptmx makes pairs: Vigil's devpts).
 *
 * At boot the kernel also mounts a tmpfs on /tmp, /run and /dev/shm, where
 * the root file system has those directories. */
#include "vfs.h"
#include "file.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../lib/abi.h"
#include "../lib/random.h"
#include "../proc/proc.h"
#include "../sys/syscall.h"
#include "../mm/mm.h"
#include "../arch/x86_64/arch.h"

enum { MEM_NULL = 3, MEM_ZERO = 5, MEM_FULL = 7, MEM_RANDOM = 8, MEM_URANDOM = 9 };

static unsigned minor_of(struct file *f) { return (unsigned)(f->inode->rdev & 0xff); }

static long zeros_to_user(void *ubuf, size_t n)
{
    static const uint8_t zero[256];
    size_t done = 0;
    while (done < n) {
        size_t k = MIN(n - done, sizeof(zero));
        if (copy_to_user((uint8_t *)ubuf + done, zero, k))
            return done ? (long)done : -EFAULT;
        done += k;
    }
    return (long)done;
}

static long mem_read(struct file *f, void *ubuf, size_t n)
{
    switch (minor_of(f)) {
    case MEM_NULL:
        return 0;
    case MEM_RANDOM:
    case MEM_URANDOM:
        return random_read_user(ubuf, n);
    default:                                    /* zero, full */
        return zeros_to_user(ubuf, n);
    }
}

/* Writes vanish (null, zero; random and urandom take them as Linux does
 * without counting them as entropy); /dev/full is always full. */
static long mem_write(struct file *f, const void *ubuf, size_t n)
{
    (void)ubuf;
    return minor_of(f) == MEM_FULL ? -ENOSPC : (long)n;
}

static int mem_stat(struct file *f, struct kstat *st)
{
    vfs_stat(f->inode, st);
    return 0;
}

static void mem_release(struct file *f) { iput(f->inode); }

/* random(4)'s ioctls on /dev/random and /dev/urandom: the entropy count
 * (what /proc/sys/kernel/random/entropy_avail says: the generator is
 * always seeded), and the pool's root-only controls, which have nothing to
 * do here. Other devices: ENOTTY. */
static long mem_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    if (minor_of(f) != MEM_RANDOM && minor_of(f) != MEM_URANDOM)
        return -ENOTTY;
    switch (cmd) {
    case RNDGETENTCNT: {
        int n = RANDOM_ENTROPY_BITS;
        return copy_to_user((void *)arg, &n, sizeof(n)) ? -EFAULT : 0;
    }
    case RNDADDTOENTCNT: case RNDADDENTROPY: case RNDZAPENTCNT: case RNDCLEARPOOL:
    case RNDRESEEDCRNG:
        return current()->euid != 0 ? -EPERM : 0;       /* CAP_SYS_ADMIN */
    default:
        return -ENOTTY;
    }
}

static const struct file_ops mem_ops = {
    .read = mem_read, .write = mem_write, .stat = mem_stat, .release = mem_release, .ioctl = mem_ioctl,
    .seekable = true,                           /* lseek succeeds and changes nothing */
};

/* /dev/random alone has a poll operation on Linux (readable once the
 * generator is seeded, which Vigil's is from boot), so epoll takes it;
 * null, zero, full and urandom have none: poll says ready, epoll_ctl says
 * EPERM (fs/poll.h). */
static uint32_t random_poll(struct file *f, struct poll_table *pt)
{
    (void)f, (void)pt;                          /* never changes: nothing to wait on */
    return POLLIN | POLLRDNORM;                 /* Linux: readable once seeded, no POLLOUT */
}

static const struct file_ops random_ops = {
    .read = mem_read, .write = mem_write, .stat = mem_stat, .release = mem_release,
    .seekable = true, .poll = random_poll, .ioctl = mem_ioctl,
};

struct file *dev_open(struct inode *ino, int flags, int *err)
{
    unsigned major = (unsigned)(ino->rdev >> 8), minor = (unsigned)(ino->rdev & 0xff);
    struct file *f = NULL;
    *err = -ENOMEM;
    if (major == 1 && (minor == MEM_NULL || minor == MEM_ZERO || minor == MEM_FULL ||
                       minor == MEM_RANDOM || minor == MEM_URANDOM)) {
        if ((f = file_alloc(minor == MEM_RANDOM ? &random_ops : &mem_ops, NULL))) {
            f->inode = ino;                     /* the caller's reference */
            f->flags = flags;
        }
        return f;
    }
    if ((major == 5 && minor <= 2) || (major == 4 && minor == 64) || major == 136)
        return tty_dev_open(ino, major, minor, flags, err);     /* terminals: tty.c */
    *err = -ENXIO;                              /* no such device */
    return NULL;
}

/* ---- the boot-time mounts ---- */

static struct inode *mount_tmpfs_on(const char *path, const char *opts)
{
    struct inode *dir;
    if (vfs_lookup(NULL, path, LOOKUP_FOLLOW, &dir))
        return NULL;                            /* no such directory on this root */
    int err;
    struct super *sb = S_ISDIR(dir->mode) ? tmpfs_new(opts, &err) : NULL;
    if (sb && (err = vfs_mount(sb, dir, path))) {
        tmpfs_kill(sb);
        sb = NULL;
    }
    iput(dir);
    if (!sb) {
        kprintf("vigil: no tmpfs on %s\n", path);
        return NULL;
    }
    return sb->root;
}

void dev_mount_boot(void)
{
    static const struct { const char *name; uint32_t mode; unsigned major, minor; } nodes[] = {
        { "null", 0666, 1, MEM_NULL }, { "zero", 0666, 1, MEM_ZERO }, { "full", 0666, 1, MEM_FULL },
        { "random", 0666, 1, MEM_RANDOM }, { "urandom", 0666, 1, MEM_URANDOM },
        { "tty", 0666, 5, 0 }, { "console", 0600, 5, 1 }, { "ptmx", 0666, 5, 2 },
        { "ttyS0", 0660, 4, 64 },
    };
    struct inode *dev = mount_tmpfs_on("/dev", "size=1m,mode=0755");
    if (dev) {
        for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
            int r = tmpfs_mknod(dev, nodes[i].name, S_IFCHR | nodes[i].mode,
                                MKDEV(nodes[i].major, nodes[i].minor));
            if (r)
                kprintf("vigil: no /dev/%s (error %d)\n", nodes[i].name, r);
        }
        struct inode *pts;
        int r = dev->ops->create(dev, "pts", 3, S_IFDIR | 0755, NULL, &pts);
        if (!r) {
            iput(pts);
            tty_set_pts_dir(mount_tmpfs_on("/dev/pts", "mode=0755"));
        } else {
            kprintf("vigil: no /dev/pts (error %d)\n", r);
        }
        /* /dev/fd and the standard streams, through /proc (Linux's udev
         * makes the same links): bash's <(...) opens /dev/fd/63. */
        static const char *const links[][2] = {
            { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
            { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
        };
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
            struct inode *l;
            int e = dev->ops->create(dev, links[i][0], strlen(links[i][0]), S_IFLNK | 0777,
                                     links[i][1], &l);
            if (e)
                kprintf("vigil: no /dev/%s (error %d)\n", links[i][0], e);
            else
                iput(l);
        }
        struct inode *shm;
        r = dev->ops->create(dev, "shm", 3, S_IFDIR | 01777, NULL, &shm);
        if (!r) {
            iput(shm);
            mount_tmpfs_on("/dev/shm", NULL);
        } else {
            kprintf("vigil: no /dev/shm (error %d)\n", r);
        }
    }
    mount_tmpfs_on("/tmp", NULL);
    mount_tmpfs_on("/run", "mode=0755");
}
