/* scribe: what `./vigil exec` promises a program on the Debian root: its
 * working directory and /tmp are writable. Prints the working directory,
 * then for each directory given (default: "." and "/tmp") writes a note
 * there, syncs it, reads it back and prints it. Exit 0 only if every note
 * came back as written; otherwise it names the step and the errno. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int note(const char *dir)
{
    char path[512], want[600], got[600];
    snprintf(path, sizeof(path), "%s/scribe-note", dir);
    int n = snprintf(want, sizeof(want), "scribe wrote %s\n", path);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || write(fd, want, n) != n || fsync(fd) < 0 || close(fd) < 0) {
        printf("scribe: writing %s: %s\n", path, strerror(errno));
        return 1;
    }
    fd = open(path, O_RDONLY);
    ssize_t r = fd < 0 ? -1 : read(fd, got, sizeof(got) - 1);
    if (r < 0) {
        printf("scribe: reading %s: %s\n", path, strerror(errno));
        return 1;
    }
    close(fd);
    got[r] = 0;
    printf("%s", got);
    return strcmp(got, want) != 0;
}

int main(int argc, char **argv)
{
    char cwd[256];
    printf("cwd %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : strerror(errno));
    int bad = 0;
    if (argc < 2) {
        bad |= note(".");
        bad |= note("/tmp");
    }
    for (int i = 1; i < argc; i++)
        bad |= note(argv[i]);
    return bad;
}
