/* crashcheck: the crash-state explorer's program inside Vigil (see
 * harness/crashexplore.py and docs/invariants.md).
 *
 *   crashcheck run PROG ARGS...   mount /dev/vda on /mnt, then become PROG
 *                                 (with VIGIL_CRASH_ACK=1: the workload waits
 *                                 for a line on stdin after each checkpoint,
 *                                 so the harness can note where in the write
 *                                 log the checkpoint falls)
 *   crashcheck exec PROG ARGS...  the same with the disk already the root
 *                                 file system (root=/dev/vda): so sync(2)
 *                                 reaches it
 *   crashcheck check EXPECT       mount /dev/vda on /mnt (Vigil's journal
 *                                 recovery runs), check every directory entry
 *                                 and the promises in EXPECT, unmount
 *   crashcheck mount              mount /dev/vda on /mnt, then run the shell
 *                                 (to look at a crash state by hand)
 *
 * EXPECT, written by the harness, has one line per promised path, relative
 * to /mnt/w:   P PATH STATE_A STATE_B [EARLIER...]
 * where a state is "-" (absent), "d" (a directory), "l:TARGET" (a symlink)
 * or "f:SIZE:FNV1A64:NLINK" (a regular file with exactly those bytes). A path
 * must be in state A (its state at the last checkpoint the crash state has
 * passed) or B (at the next one); and the paths whose A and B differ must be
 * all in A or all in B: the change between two checkpoints is one journal
 * transaction, all or nothing (that is what makes a rename atomic).
 * A path in neither is reported by what it is instead: absent, or as it
 * was at an EARLIER checkpoint (up to HISTORY of them, newest first), is
 * "fsync'd name missing" / "fsync'd bytes missing" (an acknowledged
 * persistence call lost: a missing FLUSH looks like this); anything else
 * holds bytes the path never had at a checkpoint (garbage: a commit block
 * that vouched for blocks not yet written, a block reused too early).
 * Whatever the promises, no directory entry may lead to a free inode (a
 * mode that is no file type, or a link count of zero), and every file must
 * read back in full. The last line says "crashcheck: ok" or "crashcheck:
 * FAILED". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT "/mnt/w"

static int bad, entries;
static unsigned char buf[65536];

static uint64_t fnv_file(const char *path, long long *size)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    *size = -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    long long n = 0;
    for (;;) {
        ssize_t k = read(fd, buf, sizeof(buf));
        if (k < 0) {
            close(fd);
            return 0;
        }
        if (k == 0)
            break;
        for (ssize_t i = 0; i < k; i++) {
            h ^= buf[i];
            h *= 0x100000001b3ULL;
        }
        n += k;
    }
    close(fd);
    *size = n;
    return h;
}

/* The state of path, in the EXPECT notation. */
static void state_of(const char *path, char *out, size_t len)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        snprintf(out, len, errno == ENOENT ? "-" : "?lstat:%d", errno);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(out, len, "d");
    } else if (S_ISLNK(st.st_mode)) {
        char t[80];
        ssize_t n = readlink(path, t, sizeof(t) - 1);
        t[n > 0 ? n : 0] = 0;
        snprintf(out, len, "l:%.79s", t);
    } else if (S_ISREG(st.st_mode)) {
        long long size;
        uint64_t h = fnv_file(path, &size);
        snprintf(out, len, "f:%lld:%016llx:%lu", size, (unsigned long long)h,
                 (unsigned long)st.st_nlink);
    } else {
        snprintf(out, len, "?mode:%o", (unsigned)st.st_mode);
    }
}

/* Every entry under dir: a real file type, a link count, readable whole. */
static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("crashcheck: cannot open directory %s: %s\n", dir, strerror(errno));
        bad = 1;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        entries++;
        struct stat st;
        if (lstat(path, &st) < 0) {
            printf("crashcheck: entry %s: lstat: %s\n", path, strerror(errno));
            bad = 1;
            continue;
        }
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
            printf("crashcheck: entry %s points at inode %lu with mode %o (free?)\n", path,
                   (unsigned long)st.st_ino, (unsigned)st.st_mode);
            bad = 1;
            continue;
        }
        if (st.st_nlink == 0) {
            printf("crashcheck: entry %s points at inode %lu with no links (free)\n", path,
                   (unsigned long)st.st_ino);
            bad = 1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(path);
        } else if (S_ISREG(st.st_mode)) {
            long long size;
            fnv_file(path, &size);
            if (size != (long long)st.st_size) {
                printf("crashcheck: %s: read %lld bytes of %lld\n", path, size,
                       (long long)st.st_size);
                bad = 1;
            }
        }
    }
    closedir(d);
}

#define MAXP 4096
#define HISTORY 4

/* How a promised path differs from its promise (see the top). */
static void report(const char *path, const char *got, const char *a, const char *b,
                   char earlier[][96], int nearlier, int k)
{
    int j = 0;
    while (j < nearlier && strcmp(got, earlier[j]))
        j++;
    if (!strcmp(got, "-"))
        printf("crashcheck: fsync'd name missing: %s is absent after checkpoint %d; "
               "promised %s (or %s in flight)\n", path, k, a, b);
    else if (j < nearlier)
        printf("crashcheck: fsync'd bytes missing: %s is %s, as before checkpoint %d "
               "(%d state(s) back); promised %s (or %s in flight)\n", path, got, k, j + 1, a, b);
    else
        printf("crashcheck: %s is %s, never its state at a checkpoint (garbage); promised %s "
               "(or %s in flight)\n", path, got, a, b);
}

static int check(const char *expect)
{
    static char paths[MAXP][256], a[MAXP][96], b[MAXP][96], got[MAXP][96];
    static char earlier[MAXP][HISTORY][96];
    static int nearlier[MAXP];
    FILE *f = fopen(expect, "r");
    if (!f) {
        printf("crashcheck: cannot read %s\n", expect);
        return 2;
    }
    if (mount("/dev/vda", "/mnt", "ext3", 0, NULL) < 0) {
        printf("crashcheck: mount: %s\ncrashcheck: FAILED\n", strerror(errno));
        return 1;
    }
    walk("/mnt");
    static char line[2048];
    int n = 0, k = -1;
    while (n < MAXP && fgets(line, sizeof(line), f)) {
        sscanf(line, "# last checkpoint passed: %d", &k);
        int used;
        if (sscanf(line, "P %255s %95s %95s%n", paths[n], a[n], b[n], &used) != 3)
            continue;
        nearlier[n] = 0;
        for (char *p = line + used; nearlier[n] < HISTORY;) {
            int len;
            if (sscanf(p, " %95s%n", earlier[n][nearlier[n]], &len) != 1)
                break;
            nearlier[n]++;
            p += len;
        }
        n++;
    }
    fclose(f);
    int in_a = 1, in_b = 1, changed = 0;
    for (int i = 0; i < n; i++) {
        char full[300];
        snprintf(full, sizeof(full), ROOT "/%.255s", paths[i]);
        state_of(full, got[i], sizeof(got[i]));
        int ma = !strcmp(got[i], a[i]), mb = !strcmp(got[i], b[i]);
        if (!ma && !mb) {
            report(paths[i], got[i], a[i], b[i], earlier[i], nearlier[i], k);
            bad = 1;
        }
        if (strcmp(a[i], b[i])) {
            changed++;
            in_a &= ma;
            in_b &= mb;
        }
    }
    if (changed && !in_a && !in_b && !bad) {
        printf("crashcheck: not all-or-nothing: of the %d paths the transaction changes, some "
               "are old and some new:\n", changed);
        for (int i = 0; i < n; i++)
            if (strcmp(a[i], b[i]))
                printf("crashcheck:   %s is %s (%s)\n", paths[i], got[i],
                       !strcmp(got[i], a[i]) ? "old" : "new");
        bad = 1;
    }
    if (umount2("/mnt", 0) < 0) {
        printf("crashcheck: umount: %s\n", strerror(errno));
        bad = 1;
    }
    printf("crashcheck: %s (%d entries, %d promises, %d changing; %s)\n", bad ? "FAILED" : "ok",
           entries, n, changed, changed ? (in_a ? "old" : in_b ? "new" : "mixed") : "none in flight");
    return bad;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "exec"))) {
        if (!strcmp(argv[1], "run") && mount("/dev/vda", "/mnt", "ext3", 0, NULL) < 0) {
            printf("crashcheck: mount: %s\n", strerror(errno));
            return 1;
        }
        setenv("VIGIL_CRASH_ACK", "1", 1);
        execv(argv[2], argv + 2);
        printf("crashcheck: cannot run %s: %s\n", argv[2], strerror(errno));
        return 127;
    }
    if (argc == 2 && !strcmp(argv[1], "mount")) {
        if (mount("/dev/vda", "/mnt", "ext3", 0, NULL) < 0)
            printf("crashcheck: mount: %s\n", strerror(errno));
        else
            printf("crashcheck: the crash state is on /mnt (recovered); the workload's files are in /mnt/w\n");
        fflush(stdout);
        char *sh[] = { "/bin/sh", NULL };
        execv(sh[0], sh);
        return 127;
    }
    if (argc == 3 && !strcmp(argv[1], "check"))
        return check(argv[2]);
    fprintf(stderr, "usage: crashcheck run|exec PROG ARGS... | check EXPECT | mount\n");
    return 2;
}
