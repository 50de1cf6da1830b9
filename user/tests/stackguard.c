/* stackguard: unbounded recursion must end in SIGSEGV when the stack runs
 * into the unmapped gap below it, not in silent corruption of whatever is
 * mapped lower. */
#include <stdio.h>

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int depth(volatile int n)
{
    volatile char pad[4096];
    pad[0] = (char)n;
    return depth(n + 1) + pad[0];
}

int main(void)
{
    printf("recursing\n");
    fflush(stdout);
    return depth(0);
}
