/* ipc/sem.c - System V semaphore sets (semget, semop, semtimedop, semctl).
 *
 * A set is an array of counters 0..SEMVMX. semop applies a list of
 * operations atomically: all of them or none (adding to a counter, taking
 * from it if that leaves it non-negative, or waiting for it to be zero).
 * The list is tried in order on the live values; if one operation cannot
 * go on, everything it did is undone and the caller fails (IPC_NOWAIT:
 * EAGAIN) or sleeps until the set changes and tries the whole list again.
 * While asleep it is counted in GETNCNT (waiting to take) or GETZCNT
 * (waiting for zero) of the semaphore it blocked on: a record on its own
 * stack, linked into the set, which it unlinks itself when it wakes (and
 * only if its set is still there: a removed set's sleepers find their id
 * gone and say EIDRM).
 *
 * SEM_UNDO: each (process, set) pair the process used with SEM_UNDO has an
 * adjustment per semaphore, the opposite of what its operations did; when
 * the process's last thread exits they are added back (clamped to
 * 0..SEMVMX, as Linux does). SETVAL and SETALL zero the adjustments of the
 * values they set. Undo records hang off their set, so removing the set
 * frees them, and a process's exit walks the sets (not the other way), so
 * nothing points from a process into a set. */
#include "ipc.h"
#include "../sys/sys.h"
#include "../proc/proc.h"
#include "../fs/pseudofs.h"
#include "../sys/syscall.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"

struct sem {
    int val;
    int pid;                    /* the process of the last operation on it */
};

struct sem_waiter {             /* on a sleeper's stack, linked while it sleeps */
    struct sem_waiter *next;
    int num;                    /* the semaphore it blocked on */
    bool zero;                  /* waiting for zero (GETZCNT), else to take (GETNCNT) */
};

struct sem_undo {
    struct sem_undo *next;
    int tgid;
    short adj[];                /* one per semaphore */
};

struct sem_set {
    struct kipc_perm perm;      /* first: the table holds &perm */
    int64_t otime, ctime;
    int nsems;
    struct sem_waiter *waiters;
    struct sem_undo *undos;
    struct sem sems[];
};

struct sembuf_u {
    uint16_t num;
    int16_t op;
    int16_t flg;
};

/* Linux's struct semid64_ds on x86-64. */
struct semid64_u {
    struct ipc64_perm_u perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2;
    uint64_t nsems;
    uint64_t unused3, unused4;
};

struct seminfo_u {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

static long sem_total;          /* [klock] semaphores in all sets (SEMMNS, SEM_INFO) */

static struct sem_set *find(int id) { return (struct sem_set *)ipc_find(&sem_ids, id); }

long sys_semget(int key, int nsems, int flg)
{
    if (nsems < 0 || nsems > ipc_lim.semmsl)
        return -EINVAL;
    struct sem_set *s = key == IPC_PRIVATE ? NULL : (struct sem_set *)ipc_find_key(&sem_ids, key);
    if (s) {
        int r = ipc_get_existing(&s->perm, flg);
        if (r)
            return r;
        if (nsems > s->nsems)
            return -EINVAL;
        return s->perm.id;
    }
    if (key != IPC_PRIVATE && !(flg & IPC_CREAT))
        return -ENOENT;
    if (nsems == 0)
        return -EINVAL;
    if (sem_total + nsems > ipc_lim.semmns)
        return -ENOSPC;
    s = kzalloc(sizeof(*s) + (size_t)nsems * sizeof(struct sem));
    if (!s)
        return -ENOMEM;
    int r = ipc_add(&sem_ids, &s->perm, key, flg, (int)ipc_lim.semmni);
    if (r) {
        kfree(s);
        return r;
    }
    s->nsems = nsems;
    s->ctime = ipc_now();
    sem_total += nsems;
    return s->perm.id;
}

static void free_set(struct sem_set *s)
{
    for (struct sem_undo *u = s->undos, *n; u; u = n) {
        n = u->next;
        kfree(u);
    }
    sem_total -= s->nsems;
    ipc_remove(&sem_ids, &s->perm);
    ipc_wake(s);
    kfree(s);
}

static struct sem_undo *undo_of(struct sem_set *s, int tgid, bool make)
{
    for (struct sem_undo *u = s->undos; u; u = u->next)
        if (u->tgid == tgid)
            return u;
    if (!make)
        return NULL;
    struct sem_undo *u = kzalloc(sizeof(*u) + (size_t)s->nsems * sizeof(short));
    if (!u)
        return NULL;
    u->tgid = tgid;
    u->next = s->undos;
    s->undos = u;
    return u;
}

/* Try ops on s: 0 (done), 1 (would wait: *w says on what), -EAGAIN (would
 * wait but IPC_NOWAIT), -ERANGE, -EFBIG. */
static int try_ops(struct sem_set *s, const struct sembuf_u *ops, size_t n, struct sem_undo *un,
                   struct sem_waiter *w)
{
    size_t i;
    int r = 0;
    for (i = 0; i < n; i++) {
        const struct sembuf_u *o = &ops[i];
        struct sem *m = &s->sems[o->num];
        int v = m->val + o->op;
        if (o->op == 0 ? m->val != 0 : v < 0) {
            w->num = o->num;
            w->zero = o->op == 0;
            r = (o->flg & IPC_NOWAIT) ? -EAGAIN : 1;
            break;
        }
        if (v > SEMVMX) {
            r = -ERANGE;
            break;
        }
        if ((o->flg & SEM_UNDO) && un) {
            int a = un->adj[o->num] - o->op;
            if (a < -SEMAEM - 1 || a > SEMAEM) {
                r = -ERANGE;
                break;
            }
        }
        m->val = v;
    }
    if (r) {
        while (i-- > 0)
            s->sems[ops[i].num].val -= ops[i].op;
        return r;
    }
    int tgid = current()->tgid;
    for (i = 0; i < n; i++) {
        s->sems[ops[i].num].pid = tgid;
        if ((ops[i].flg & SEM_UNDO) && un)
            un->adj[ops[i].num] = (short)(un->adj[ops[i].num] - ops[i].op);
    }
    s->otime = ipc_now();
    return 0;
}

#define SEMOP_STACK 8

static long do_semop(int id, void *uops, size_t nsops, uint64_t deadline)
{
    struct sembuf_u small[SEMOP_STACK], *ops = small;
    if (nsops > SEMOP_STACK && !(ops = kmalloc(nsops * sizeof(*ops))))
        return -ENOMEM;
    long r = 0;
    if (copy_from_user(ops, uops, nsops * sizeof(*ops))) {
        r = -EFAULT;
        goto out;
    }
    int max = 0;
    bool undo = false, alter = false;
    for (size_t i = 0; i < nsops; i++) {
        max = MAX(max, ops[i].num);
        undo |= (ops[i].flg & SEM_UNDO) != 0;
        alter |= ops[i].op != 0;
    }
    struct sem_set *s = find(id);
    if (!s) {
        r = -EINVAL;
        goto out;
    }
    if (max >= s->nsems) {
        r = -EFBIG;
        goto out;
    }
    if ((r = ipc_perm_check(&s->perm, alter ? 2 : 4)))
        goto out;
    for (;;) {
        struct sem_undo *un = undo ? undo_of(s, current()->tgid, true) : NULL;
        if (undo && !un) {
            r = -ENOMEM;
            break;
        }
        struct sem_waiter w = { 0 };
        int t = try_ops(s, ops, nsops, un, &w);
        if (t <= 0) {
            r = t;
            if (!t && alter)
                ipc_wake(s);
            break;
        }
        w.next = s->waiters;
        s->waiters = &w;
        r = ipc_sleep(s, deadline);
        /* Still there (the same set under the same id)? Then unlink. */
        struct sem_set *again = find(id);
        if (again != s) {
            r = -EIDRM;
            break;
        }
        for (struct sem_waiter **pp = &s->waiters; *pp; pp = &(*pp)->next)
            if (*pp == &w) {
                *pp = w.next;
                break;
            }
        if (r)
            break;
    }
out:
    if (ops != small)
        kfree(ops);
    return r;
}

long sys_semtimedop(int id, void *sops, size_t nsops, const void *timeout)
{
    if ((long)nsops < 1 || id < 0)
        return -EINVAL;
    if (nsops > (size_t)ipc_lim.semopm)
        return -E2BIG;
    uint64_t deadline = 0;
    if (timeout) {
        int64_t ts[2];
        if (copy_from_user(ts, timeout, sizeof(ts)))
            return -EFAULT;
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
            return -EINVAL;
        deadline = tick_deadline_sat(ns_to_ticks_sat(ts_to_ns_sat(ts[0], ts[1])));
        if (!deadline)
            deadline = 1;
    }
    return do_semop(id, sops, nsops, deadline);
}

long sys_semop(int id, void *sops, size_t nsops) { return sys_semtimedop(id, sops, nsops, NULL); }

static int count_waiters(struct sem_set *s, int num, bool zero)
{
    int n = 0;
    for (struct sem_waiter *w = s->waiters; w; w = w->next)
        n += w->num == num && w->zero == zero;
    return n;
}

static void clear_undo(struct sem_set *s, int num)
{
    for (struct sem_undo *u = s->undos; u; u = u->next) {
        if (num < 0)
            memset(u->adj, 0, (size_t)s->nsems * sizeof(short));
        else
            u->adj[num] = 0;
    }
}

long sys_semctl(int id, int num, int cmd, unsigned long arg)
{
    if (id < 0)
        return -EINVAL;
    void *ubuf = (void *)arg;
    struct sem_set *s;
    long r;
    switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
        struct seminfo_u i = {
            .semmap = (int)ipc_lim.semmns, .semmni = (int)ipc_lim.semmni,
            .semmns = (int)ipc_lim.semmns, .semmnu = (int)ipc_lim.semmns,
            .semmsl = (int)ipc_lim.semmsl, .semopm = (int)ipc_lim.semopm,
            .semume = (int)ipc_lim.semopm, .semusz = 20, .semvmx = SEMVMX, .semaem = SEMAEM,
        };
        if (cmd == SEM_INFO) {
            i.semusz = sem_ids.in_use;
            i.semaem = (int)sem_total;
        }
        if (copy_to_user(ubuf, &i, sizeof(i)))
            return -EFAULT;
        return ipc_max_index(&sem_ids);
    }
    case SEM_STAT:
    case SEM_STAT_ANY:
    case IPC_STAT: {
        s = cmd == IPC_STAT ? find(id) : (struct sem_set *)ipc_find_index(&sem_ids, id);
        if (!s)
            return -EINVAL;
        if (cmd != SEM_STAT_ANY && (r = ipc_perm_check(&s->perm, 4)))
            return r;
        struct semid64_u u = { .otime = s->otime, .ctime = s->ctime, .nsems = (uint64_t)s->nsems };
        ipc_perm_out(&s->perm, &u.perm);
        if (copy_to_user(ubuf, &u, sizeof(u)))
            return -EFAULT;
        return cmd == IPC_STAT ? 0 : s->perm.id;
    }
    case IPC_SET:
    case IPC_RMID: {
        struct semid64_u u;
        if (cmd == IPC_SET && copy_from_user(&u, ubuf, sizeof(u)))
            return -EFAULT;
        s = find(id);
        if (!s)
            return -EINVAL;
        if (!ipc_owner(&s->perm))
            return -EPERM;
        if (cmd == IPC_RMID) {
            free_set(s);
            return 0;
        }
        ipc_perm_set(&s->perm, &u.perm);
        s->ctime = ipc_now();
        return 0;
    }
    case GETPID: case GETVAL: case GETNCNT: case GETZCNT:
    case GETALL: case SETALL: case SETVAL:
        break;
    default:
        return -EINVAL;
    }
    int val = (int)arg;
    if (cmd == SETVAL && (val > SEMVMX || val < 0))
        return -ERANGE;
    s = find(id);
    if (!s)
        return -EINVAL;
    if ((r = ipc_perm_check(&s->perm, cmd == SETVAL || cmd == SETALL ? 2 : 4)))
        return r;
    if (cmd == GETALL || cmd == SETALL) {
        size_t bytes = (size_t)s->nsems * sizeof(uint16_t);
        uint16_t *v = kmalloc(bytes);
        if (!v)
            return -ENOMEM;
        if (cmd == GETALL) {
            for (int i = 0; i < s->nsems; i++)
                v[i] = (uint16_t)s->sems[i].val;
            r = copy_to_user(ubuf, v, bytes) ? -EFAULT : 0;
        } else {
            r = copy_from_user(v, ubuf, bytes) ? -EFAULT : 0;
            for (int i = 0; !r && i < s->nsems; i++)
                if (v[i] > SEMVMX)
                    r = -ERANGE;
            if (!r && find(id) != s)
                r = -EIDRM;             /* the copy may have slept */
            if (!r) {
                int tgid = current()->tgid;
                for (int i = 0; i < s->nsems; i++) {
                    s->sems[i].val = v[i];
                    s->sems[i].pid = tgid;
                }
                clear_undo(s, -1);
                s->ctime = ipc_now();
                ipc_wake(s);
            }
        }
        kfree(v);
        return r;
    }
    if (num < 0 || num >= s->nsems)
        return -EINVAL;
    switch (cmd) {
    case GETVAL: return s->sems[num].val;
    case GETPID: return s->sems[num].pid;
    case GETNCNT: return count_waiters(s, num, false);
    case GETZCNT: return count_waiters(s, num, true);
    default:                            /* SETVAL */
        s->sems[num].val = val;
        s->sems[num].pid = current()->tgid;
        clear_undo(s, num);
        s->ctime = ipc_now();
        ipc_wake(s);
        return 0;
    }
}

void sem_exit(int tgid)
{
    for (int i = 0; i <= ipc_max_index(&sem_ids); i++) {
        struct sem_set *s = (struct sem_set *)ipc_find_index(&sem_ids, i);
        if (!s)
            continue;
        for (struct sem_undo **pp = &s->undos; *pp; pp = &(*pp)->next) {
            struct sem_undo *u = *pp;
            if (u->tgid != tgid)
                continue;
            for (int k = 0; k < s->nsems; k++) {
                if (!u->adj[k])
                    continue;
                int v = s->sems[k].val + u->adj[k];
                s->sems[k].val = v < 0 ? 0 : v > SEMVMX ? SEMVMX : v;
                s->sems[k].pid = tgid;
            }
            *pp = u->next;
            kfree(u);
            s->otime = ipc_now();
            ipc_wake(s);
            break;
        }
    }
}

void sem_proc_lines(struct sbuf *sb)
{
    for (int i = 0; i <= ipc_max_index(&sem_ids); i++) {
        struct sem_set *s = (struct sem_set *)ipc_find_index(&sem_ids, i);
        char oct[12];
        if (s)
            sb_printf(sb, "%10d %10d  %4s %10d %5u %5u %5u %5u %10ld %10ld\n", s->perm.key,
                      s->perm.id, ipc_octal(oct, s->perm.mode), s->nsems, s->perm.uid, s->perm.gid,
                      s->perm.cuid, s->perm.cgid, (long)s->otime, (long)s->ctime);
    }
}
