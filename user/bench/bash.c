/* bench bash: `bash -c true` from the Debian image (see spawn.h). */
#include "spawn.h"

static char *argv_[] = { "/bin/bash", "-c", "true", NULL };

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    BENCH_LOOP("bash", a, 2, spawn_once(a.dir, argv_));
    return 0;
}
