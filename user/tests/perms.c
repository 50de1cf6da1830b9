/* perms DIR: Unix permissions, compared with Linux. As root, make files
 * and directories with various modes and owners; then, as uid 1000 / gid
 * 100, try to read, write, execute, search, create and remove, and print
 * what each attempt gives. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

    pid_t pid = fork();
    if (pid == 0) {
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
