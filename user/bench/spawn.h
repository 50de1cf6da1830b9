/* user/bench/spawn.h - a Debian program started and waited for, from the
 * Debian root image mounted at DIR (the bench disk of a "debian" boot): the
 * child chroots there, so the program's interpreter and libraries are the
 * image's, on Vigil and on Linux alike. One op = fork + chroot + execve of
 * a dynamic ELF (ld.so, its mmaps, the program's start-up) + exit + wait. */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"

static char *spawn_env[] = { "PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8", NULL };

static int spawn_once(const char *dir, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (chroot(dir) == 0 && chdir("/") == 0)
            execve(argv[0], argv, spawn_env);
        _exit(127);
    }
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

#endif
