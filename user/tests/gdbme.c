/* gdbme - a small program for Debian's gdb to debug (tests/test_gdb.py),
 * built without optimisation (the Makefile says -O0) so that every line is
 * a place to stop and every variable can be printed: break at add_up, bt,
 * print, step into square, watch total (a hardware watchpoint: the debug
 * registers), continue to the exit. */
#include <stdio.h>

int total;

static int square(int x)
{
    int y = x * x;
    return y;
}

int add_up(int n)
{
    int sum = 0;
    for (int i = 1; i <= n; i++)
        sum += square(i);
    total = sum;
    return sum;
}

int main(void)
{
    int r = add_up(4);
    printf("gdbme: %d\n", r);
    total = r + 1;
    return 0;
}
