/* mkfiles DIR: write a known tree into DIR: files of awkward sizes (0, 1,
 * a block less one, a block, past the direct blocks, past the single
 * indirect ones), a sparse file, nested directories, symlinks, a hard
 * link. The host can then compare what the disk holds with what the same
 * program writes on Linux. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void file_of(const char *path, size_t size, unsigned seed)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    static unsigned char buf[65536];
    size_t done = 0;
    while (done < size) {
        size_t k = size - done < sizeof(buf) ? size - done : sizeof(buf);
        for (size_t i = 0; i < k; i++)
            buf[i] = (unsigned char)((done + i) * 2654435761u >> 13 ^ seed);
        write(fd, buf, k);
        done += k;
    }
    fsync(fd);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) < 0)
        return 2;
    size_t sizes[] = { 0, 1, 4095, 4096, 4097, 12 * 4096 + 1, 70000, 5 << 20 };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "size-%zu", sizes[i]);
        file_of(name, sizes[i], i);
    }
    mkdir("dir", 0755);
    mkdir("dir/sub", 0750);
    file_of("dir/sub/leaf", 123, 9);
    int fd = open("sparse", O_CREAT | O_WRONLY, 0600);
    pwrite(fd, "tail", 4, 3 << 20);
    close(fd);
    symlink("dir/sub/leaf", "short-link");
    symlink("dir/sub/../sub/./leaf-with-a-target-name-long-enough-to-need-its-own-block-xxxxxx",
            "long-link");
    link("size-1", "hard-link");
    for (int i = 0; i < 100; i++) {             /* a directory past one block */
        char name[64];
        snprintf(name, sizeof(name), "dir/entry-with-a-fairly-long-name-%03d", i);
        file_of(name, (size_t)i, (unsigned)i);
    }
    for (int i = 0; i < 100; i += 2) {          /* and holes in it */
        char name[64];
        snprintf(name, sizeof(name), "dir/entry-with-a-fairly-long-name-%03d", i);
        unlink(name);
    }
    sync();
    printf("mkfiles: done\n");
    return 0;
}
