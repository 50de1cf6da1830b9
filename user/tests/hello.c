/* hello: the smallest musl program (execve, arch_prctl, set_tid_address,
 * ioctl, writev, exit_group). */
#include <stdio.h>

int main(void)
{
    printf("hello, world\n");
    return 0;
}
