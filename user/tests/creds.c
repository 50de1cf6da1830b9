/* creds: the set*id rules (setuid(2), seteuid(2), setreuid(2), setresuid(2)
 * and the gid and group calls), compared with Linux. Each case starts, in a
 * child of root, from chosen real/effective/saved uids (gids 100/100/100),
 * makes one call and prints what it returned and the ids afterwards:
 *
 *   from 1000/1000/1000: setuid(0): EPERM -> uid 1000/1000/1000 gid 100/100/100
 *
 * An unprivileged process moves only among its own ids (and setreuid's
 * real uid only to the real or effective one); root may set anything. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum op { SETUID, SETEUID, SETREUID, SETRESUID, SETGID, SETEGID, SETREGID, SETRESGID, SETGROUPS };
static const char *names[] = { "setuid", "seteuid", "setreuid", "setresuid", "setgid", "setegid",
                               "setregid", "setresgid", "setgroups" };

struct cas {
    uid_t r, e, s;              /* where the child starts */
    enum op op;
    long a, b, c;
};

static const struct cas cases[] = {
    { 1000, 1000, 1000, SETUID, 0, 0, 0 },
    { 1000, 1000, 1000, SETEUID, 0, 0, 0 },
    { 1000, 1000, 1000, SETREUID, 0, -1, 0 },
    { 1000, 1000, 1000, SETREUID, -1, 0, 0 },
    { 1000, 1000, 1000, SETRESUID, -1, -1, 0 },
    { 1000, 1000, 1000, SETRESUID, 0, 0, 0 },
    { 1000, 1000, 1000, SETUID, 1000, 0, 0 },
    { 1000, 1000, 1000, SETGID, 0, 0, 0 },
    { 1000, 1000, 1000, SETEGID, 0, 0, 0 },
    { 1000, 1000, 1000, SETREGID, 0, 0, 0 },
    { 1000, 1000, 1000, SETRESGID, 0, 0, 0 },
    { 1000, 1000, 1000, SETGROUPS, 0, 0, 0 },
    { 1000, 1000, 2000, SETREUID, 2000, -1, 0 },
    { 1000, 1000, 2000, SETREUID, -1, 2000, 0 },
    { 1000, 1000, 2000, SETEUID, 2000, 0, 0 },
    { 1000, 1000, 2000, SETUID, 2000, 0, 0 },
    { 1000, 2000, 1000, SETREUID, 2000, 1000, 0 },
    { 1000, 2000, 0, SETEUID, 0, 0, 0 },
    { 1000, 2000, 0, SETUID, 0, 0, 0 },
    { 1000, 0, 1000, SETUID, 2000, 0, 0 },
    { 1000, 0, 1000, SETRESUID, 3000, 4000, 5000 },
    { 1000, 0, 1000, SETREUID, 3000, -1, 0 },
    { 1000, 0, 1000, SETREUID, -1, 3000, 0 },
    { 0, 1000, 1000, SETUID, 0, 0, 0 },
    { 0, 1000, 1000, SETREUID, -1, 0, 0 },
    { 1000, 1000, 1000, SETRESUID, 2000, -1, -1 },
};
#define NCASES (int)(sizeof(cases) / sizeof(cases[0]))

static long call(const struct cas *c)
{
    gid_t none[1];
    switch (c->op) {
    case SETUID: return setuid((uid_t)c->a);
    case SETEUID: return seteuid((uid_t)c->a);
    case SETREUID: return setreuid((uid_t)c->a, (uid_t)c->b);
    case SETRESUID: return setresuid((uid_t)c->a, (uid_t)c->b, (uid_t)c->c);
    case SETGID: return setgid((gid_t)c->a);
    case SETEGID: return setegid((gid_t)c->a);
    case SETREGID: return setregid((gid_t)c->a, (gid_t)c->b);
    case SETRESGID: return setresgid((gid_t)c->a, (gid_t)c->b, (gid_t)c->c);
    case SETGROUPS: return setgroups(0, none);
    }
    return -1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < NCASES; i++) {
        const struct cas *c = &cases[i];
        pid_t pid = fork();
        if (pid == 0) {
            if (setgroups(0, NULL) || setresgid(100, 100, 100) || setresuid(c->r, c->e, c->s))
                _exit(3);
            long r = call(c);
            int e = errno;
            uid_t u[3];
            gid_t g[3];
            getresuid(&u[0], &u[1], &u[2]);
            getresgid(&g[0], &g[1], &g[2]);
            printf("from %u/%u/%u: %s(%ld, %ld, %ld): %s -> uid %u/%u/%u gid %u/%u/%u\n",
                   c->r, c->e, c->s, names[c->op], c->a, c->b, c->c,
                   r == 0 ? "ok" : e == EPERM ? "EPERM" : strerror(e),
                   u[0], u[1], u[2], g[0], g[1], g[2]);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            printf("case %d: setup failed\n", i);
    }
    return 0;
}
