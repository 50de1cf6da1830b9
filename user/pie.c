/* pie: a static position-independent executable (ET_DYN, no interpreter):
 * it relocates itself at start-up (musl's rcrt1.o), so it only works if the
 * kernel loaded it whole and told it where (AT_PHDR, AT_ENTRY). */
#include <stdio.h>

static const char *greeting = "hello from a static PIE";   /* needs a relocation */

int main(int argc, char **argv)
{
    printf("%s, argc=%d, main is %s the first 4 GiB\n", greeting, argc,
           (unsigned long)main > 0xffffffffUL ? "above" : "below");
    return 0;
}
