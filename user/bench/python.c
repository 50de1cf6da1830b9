/* bench python: `python3 -c pass` from the Debian image (see spawn.h). */
#include "spawn.h"

static char *argv_[] = { "/usr/bin/python3", "-c", "pass", NULL };

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    BENCH_LOOP("python", a, 1, spawn_once(a.dir, argv_));
    return 0;
}
