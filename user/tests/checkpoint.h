/* checkpoint.h - the crash explorer's checkpoint protocol, for workloads
 * (see harness/crashexplore.py and README "invoke crash").
 *
 * After each persistence call returns, a workload prints
 *     checkpoint K: CALL of PATH returned
 * and, when VIGIL_CRASH_ACK is set, waits for one line on stdin: the
 * harness answers once it has noted the checkpoint's place in the disk's
 * write log (on the host: once it has snapshotted the tree). */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int checkpoint_ack, checkpoint_count;

static void checkpoint_init(void)
{
    checkpoint_ack = getenv("VIGIL_CRASH_ACK") != NULL;
}

static void checkpoint(const char *call, const char *path)
{
    printf("checkpoint %d: %s of %s returned\n", checkpoint_count++, call, path);
    fflush(stdout);
    if (checkpoint_ack) {
        char c;
        while (read(0, &c, 1) == 1 && c != '\n')
            ;
    }
}
