/* execbad PATH...: execve each path and print the errno it fails with. The
 * harness puts malformed ELF files in the initrd; none may hurt the kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *av[] = { argv[i], NULL };
        execv(argv[i], av);
        int e = errno;
        printf("%s: %s\n", argv[i], e == ENOEXEC ? "ENOEXEC" : strerror(e));
    }
    return 0;
}
