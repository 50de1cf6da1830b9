/* perms DIR: Unix permissions, compared with Linux. As root, make files
 * and directories with various modes and owners; then, as uid 1000 / gid
 * 100 with supplementary groups 200 and 300, try to read, write, execute,
 * search, create, remove, truncate, link and rename (sticky directories
 * too), chmod and chown, and print what each attempt gives. (Hard links to
 * another user's files are left out: Linux's fs.protected_hardlinks is a
 * policy of the host, not a rule of the file system.) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, int r)
{
    int e = errno;
    printf("%-36s %s\n", what, r < 0 ? strerror(e) : "ok");
    errno = 0;
}

static int try_open(const char *p, int flags)
{
    int fd = open(p, flags);
    if (fd >= 0)
        close(fd);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) < 0)
        return 2;
    umask(0);
    close(open("mine", O_CREAT | O_WRONLY, 0600));
    chown("mine", 1000, 100);
    close(open("rootonly", O_CREAT | O_WRONLY, 0600));
    close(open("groupread", O_CREAT | O_WRONLY, 0640));
    chown("groupread", 0, 100);
    close(open("world", O_CREAT | O_WRONLY, 0666));
    mkdir("closed", 0700);
    close(open("closed/inside", O_CREAT | O_WRONLY, 0666));
    mkdir("open", 0777);
    mkdir("readonly", 0755);
    symlink("/bin/hello", "hello");
    close(open("grp200", O_CREAT | O_WRONLY, 0640));
    chown("grp200", 0, 200);
    close(open("grp300w", O_CREAT | O_WRONLY, 0660));
    chown("grp300w", 0, 300);
    close(open("rootread", O_CREAT | O_WRONLY, 0644));
    close(open("mine0", O_CREAT | O_WRONLY, 0644));
    chown("mine0", 1000, 0);
    mkdir("tmp", 01777);                        /* sticky, root's */
    close(open("tmp/rootfile", O_CREAT | O_WRONLY, 0666));
    close(open("tmp/userfile", O_CREAT | O_WRONLY, 0666));
    chown("tmp/userfile", 1000, 100);
    close(open("tmp/other", O_CREAT | O_WRONLY, 0666));
    chown("tmp/other", 2000, 100);
    mkdir("mytmp", 01777);                      /* sticky, the user's */
    chown("mytmp", 1000, 100);
    close(open("mytmp/rootfile", O_CREAT | O_WRONLY, 0666));
    mkdir("open/rootdir", 0755);
    mkdir("open2", 0777);
    const gid_t groups[] = { 200, 300 };

    pid_t pid = fork();
    if (pid == 0) {
        say("setgroups 200 300", setgroups(2, groups));
        say("setgid 100", setgid(100));
        say("setuid 1000", setuid(1000));
        printf("ids %d %d %d %d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
        say("setuid 0 (back to root)", setuid(0));
        say("read mine", try_open("mine", O_RDONLY));
        say("write mine", try_open("mine", O_WRONLY));
        say("read rootonly", try_open("rootonly", O_RDONLY));
        say("read groupread", try_open("groupread", O_RDONLY));
        say("write groupread", try_open("groupread", O_WRONLY));
        say("write world", try_open("world", O_WRONLY));
        say("open closed/inside (no search)", try_open("closed/inside", O_RDONLY));
        say("create in open", try_open("open/new", O_CREAT | O_WRONLY));
        say("create in readonly", try_open("readonly/new", O_CREAT | O_WRONLY));
        say("mkdir in readonly", mkdir("readonly/d", 0755));
        say("unlink rootonly (dir not ours)", unlink("rootonly"));
        say("chmod rootonly", chmod("rootonly", 0666));
        say("chmod mine", chmod("mine", 0644));
        say("chown mine", chown("mine", 0, 0));
        say("access rootonly R", access("rootonly", R_OK));
        say("access world W", access("world", W_OK));
        say("access hello X", access("hello", X_OK));
        gid_t got[8];
        int n = getgroups(8, got);
        printf("getgroups %d: %d %d\n", n, n > 0 ? (int)got[0] : -1, n > 1 ? (int)got[1] : -1);
        say("read grp200 (supplementary)", try_open("grp200", O_RDONLY));
        say("write grp200", try_open("grp200", O_WRONLY));
        say("write grp300w (supplementary)", try_open("grp300w", O_WRONLY));
        say("access grp200 R", access("grp200", R_OK));
        say("setgroups as a user", setgroups(0, NULL));

        say("truncate rootonly", truncate("rootonly", 0));
        say("truncate rootread", truncate("rootread", 0));
        say("truncate groupread", truncate("groupread", 0));
        say("truncate world", truncate("world", 1));
        say("truncate mine", truncate("mine", 0));
        say("truncate closed/inside (no search)", truncate("closed/inside", 0));
        say("truncate open (a directory)", truncate("open", 0));
        say("open rootread O_WRONLY|O_TRUNC", try_open("rootread", O_WRONLY | O_TRUNC));
        int rfd = open("world", O_RDONLY);
        say("ftruncate a read-only fd", ftruncate(rfd, 0));
        close(rfd);

        say("link mine into open", link("mine", "open/mine2"));
        say("link mine into readonly", link("mine", "readonly/mine2"));
        say("link world into open", link("world", "open/world2"));
        say("rename mine into readonly", rename("mine", "readonly/mine"));
        say("rename root's dir to another parent", rename("open/rootdir", "open2/rootdir"));
        say("rename root's dir in its parent", rename("open/rootdir", "open/rootdir2"));
        say("mkdir open/mydir", mkdir("open/mydir", 0755));
        say("rename own dir to another parent", rename("open/mydir", "open2/mydir"));
        say("rename world over rootonly", rename("open/world2", "rootonly"));
        /* Each refusal gives back the one reference it took on the parent
         * (a second iput freed the directory: LTP's symlink03 then panicked
         * in chmod). */
        for (int i = 0; i < 3; i++) {
            say("symlink into readonly", symlink("mine", "readonly/sym"));
            say("link into readonly again", link("mine", "readonly/mine3"));
            say("rename into readonly again", rename("mine", "readonly/mine"));
        }
        struct stat rst;
        say("stat readonly after the refusals", stat("readonly", &rst));
        say("chmod readonly after the refusals", chmod("readonly", 0777));

        say("create in sticky tmp", try_open("tmp/new", O_CREAT | O_WRONLY));
        say("unlink root's file in sticky tmp", unlink("tmp/rootfile"));
        say("unlink another user's in sticky tmp", unlink("tmp/other"));
        say("rename root's file in sticky tmp", rename("tmp/rootfile", "tmp/x"));
        say("rename own file over another's (tmp)", rename("tmp/userfile", "tmp/other"));
        say("write another's file in sticky tmp", try_open("tmp/other", O_WRONLY));
        say("unlink own file in sticky tmp", unlink("tmp/userfile"));
        say("unlink root's file in own sticky dir", unlink("mytmp/rootfile"));

        say("chown mine to group 200 (supplementary)", chown("mine", -1, 200));
        say("chown mine to group 100", chown("mine", -1, 100));
        say("chown mine to group 0", chown("mine", -1, 0));
        say("chown mine to uid 1000 (no change)", chown("mine", 1000, -1));
        say("chown mine to uid 2000", chown("mine", 2000, -1));
        say("chown rootonly -1 -1", chown("rootonly", -1, -1));
        say("chown rootonly to group 100", chown("rootonly", -1, 100));
        say("chmod mine0 02644 (group not ours)", chmod("mine0", 02644));
        struct stat st0;
        stat("mine0", &st0);
        printf("mine0 mode %o\n", (unsigned)st0.st_mode & 07777);
        say("chmod grp200 (not ours)", chmod("grp200", 0777));
        fflush(stdout);
        char *av[] = { "hello", NULL };
        execv("./hello", av);
        say("exec hello", -1);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));
    return 0;
}
