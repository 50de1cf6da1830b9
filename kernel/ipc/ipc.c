/* ipc/ipc.c - what System V's three kinds of objects share: ids, keys,
 * permissions, limits, and the /proc files that show and tune them.
 *
 * An object is found by key (msgget/semget/shmget: IPC_PRIVATE always makes
 * a new one) and afterwards by id. Ids are Linux's: index + seq * IPCMNI,
 * with indexes handed out cyclically (the next free one after the last
 * given, in a window that grows with the objects in use) and seq bumped
 * each time the cycle wraps, so an id a program kept after the object was
 * removed does not silently name the object that took its slot.
 * /proc/sys/kernel/X_next_id (checkpoint/restore) asks for one exact id.
 *
 * The table is two-level (chunks of 128 slots made on demand, freed when
 * they empty) so an idle system holds no memory for it and a full one
 * needs no large contiguous allocation.
 *
 * Permissions (svipc(7)): the owner's bits if the caller's effective uid is
 * the owner's or the creator's, else the group's if its effective or a
 * supplementary group is the owner's or creator's group, else the others'.
 * Root passes every check (Linux's CAP_IPC_OWNER). Only the owner, the
 * creator or root may change (IPC_SET) or remove (IPC_RMID) an object. */
#include "ipc.h"
#include "../proc/proc.h"
#include "../fs/pseudofs.h"
#include "../sys/syscall.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"
#include "../debug/debug.h"

#define CHUNK 128
#define NCHUNKS (IPCMNI / CHUNK)

struct ipc_chunk {
    struct kipc_perm *slot[CHUNK];
    int used;
};

/* The tables proper live here, out of struct ipc_ids' way. */
struct ipc_table {
    struct ipc_chunk *chunk[NCHUNKS];
};
static struct ipc_table tables[3];          /* [klock] msg, sem, shm */

struct ipc_ids msg_ids = { .next_id = -1, .last_idx = -1 };
struct ipc_ids sem_ids = { .next_id = -1, .last_idx = -1 };
struct ipc_ids shm_ids = { .next_id = -1, .last_idx = -1 };

struct ipc_limits ipc_lim = {
    .msgmax = MSGMAX_DEF, .msgmnb = MSGMNB_DEF, .msgmni = MSGMNI_DEF,
    .semmsl = SEMMSL_DEF, .semmns = SEMMNS_DEF, .semopm = SEMOPM_DEF, .semmni = SEMMNI_DEF,
    .shmmax = SHMMAX_DEF, .shmall = SHMALL_DEF, .shmmni = SHMMNI_DEF,
    .mq_queues_max = MQ_QUEUES_MAX_DEF, .mq_msg_max = MQ_MSGMAX_DEF,
    .mq_msgsize_max = MQ_MSGSIZE_DEF, .mq_msg_default = MQ_DFLT_MSGMAX,
    .mq_msgsize_default = MQ_DFLT_MSGSIZE,
};

static struct ipc_table *table_of(struct ipc_ids *ids)
{
    return &tables[ids == &msg_ids ? 0 : ids == &sem_ids ? 1 : 2];
}

static struct kipc_perm *slot_get(struct ipc_ids *ids, int idx)
{
    if (idx < 0 || idx >= IPCMNI)
        return NULL;
    struct ipc_chunk *c = table_of(ids)->chunk[idx / CHUNK];
    return c ? c->slot[idx % CHUNK] : NULL;
}

struct kipc_perm *ipc_find_index(struct ipc_ids *ids, int idx)
{
    ASSERT_KLOCK();
    return slot_get(ids, idx);
}

struct kipc_perm *ipc_find(struct ipc_ids *ids, int id)
{
    if (id < 0)
        return NULL;
    struct kipc_perm *p = ipc_find_index(ids, id % IPCMNI);
    return p && p->id == id ? p : NULL;
}

struct kipc_perm *ipc_find_key(struct ipc_ids *ids, int key)
{
    ASSERT_KLOCK();
    struct ipc_table *t = table_of(ids);
    for (int c = 0; c < NCHUNKS; c++) {
        if (!t->chunk[c])
            continue;
        for (int i = 0; i < CHUNK; i++) {
            struct kipc_perm *p = t->chunk[c]->slot[i];
            if (p && p->key == key)
                return p;
        }
    }
    return NULL;
}

static int slot_take(struct ipc_ids *ids, int idx, struct kipc_perm *p)
{
    struct ipc_table *t = table_of(ids);
    struct ipc_chunk **c = &t->chunk[idx / CHUNK];
    if (!*c && !(*c = kzalloc(sizeof(**c))))
        return -ENOMEM;
    (*c)->slot[idx % CHUNK] = p;
    (*c)->used++;
    return 0;
}

int ipc_add(struct ipc_ids *ids, struct kipc_perm *p, int key, int flg, int limit)
{
    ASSERT_KLOCK();
    if (ids->in_use >= limit || ids->in_use >= IPCMNI)
        return -ENOSPC;
    int idx = -1;
    uint16_t seq;
    if (ids->next_id >= 0) {
        /* The id asked for, or the first free index after its index. */
        for (int i = ids->next_id % IPCMNI; i < IPCMNI; i++)
            if (!slot_get(ids, i)) {
                idx = i;
                break;
            }
        seq = (uint16_t)(ids->next_id / IPCMNI);
        ids->next_id = -1;
        if (idx < 0)
            return -ENOSPC;
    } else {
        int window = MAX(ids->in_use * 3 / 2, 64);
        window = MIN(window, IPCMNI);
        for (int k = 0; k < window; k++) {
            int i = (ids->last_idx + 1 + k) % window;
            if (!slot_get(ids, i)) {
                idx = i;
                break;
            }
        }
        if (idx < 0)
            return -ENOSPC;
        if (idx <= ids->last_idx)
            ids->seq = (uint16_t)((ids->seq + 1) % (0x7fffffff / IPCMNI));
        ids->last_idx = idx;
        seq = ids->seq;
    }
    int r = slot_take(ids, idx, p);
    if (r)
        return r;
    struct proc *me = current();
    p->key = key;
    p->uid = p->cuid = me->euid;
    p->gid = p->cgid = me->egid;
    p->mode = (uint32_t)flg & 0777;
    p->seq = seq;
    p->id = seq * IPCMNI + idx;
    ids->in_use++;
    return 0;
}

void ipc_remove(struct ipc_ids *ids, struct kipc_perm *p)
{
    ASSERT_KLOCK();
    int idx = p->id % IPCMNI;
    struct ipc_table *t = table_of(ids);
    struct ipc_chunk *c = t->chunk[idx / CHUNK];
    if (!c || c->slot[idx % CHUNK] != p)
        return;
    c->slot[idx % CHUNK] = NULL;
    if (--c->used == 0) {
        kfree(c);
        t->chunk[idx / CHUNK] = NULL;
    }
    ids->in_use--;
}

int ipc_max_index(struct ipc_ids *ids)
{
    struct ipc_table *t = table_of(ids);
    for (int c = NCHUNKS - 1; c >= 0; c--) {
        if (!t->chunk[c])
            continue;
        for (int i = CHUNK - 1; i >= 0; i--)
            if (t->chunk[c]->slot[i])
                return c * CHUNK + i;
    }
    return 0;
}

int ipc_get_existing(const struct kipc_perm *p, int flg)
{
    if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
        return -EEXIST;
    return ipc_perm_check(p, (flg >> 6 | flg >> 3 | flg) & 7);
}

int ipc_perm_check(const struct kipc_perm *p, int want)
{
#ifdef BREAK_IPC_PERM
    return 0;                   /* the break switch: everyone may read and write everything */
#endif
    /* INVARIANT(privilege separation): an IPC object is read or written
     * only by whom its mode bits allow (owner, group, others), or root. */
    struct proc *me = current();
    uint32_t granted = p->mode;
    if (me->euid == p->cuid || me->euid == p->uid)
        granted >>= 6;
    else if (proc_in_group(me, p->cgid) || proc_in_group(me, p->gid))
        granted >>= 3;
    if ((want & 7 & ~granted) && me->euid != 0)
        return -EACCES;
    return 0;
}

bool ipc_owner(const struct kipc_perm *p)
{
    struct proc *me = current();
    return me->euid == 0 || me->euid == p->uid || me->euid == p->cuid;
}

void ipc_perm_out(const struct kipc_perm *p, struct ipc64_perm_u *u)
{
    memset(u, 0, sizeof(*u));
    u->key = p->key;
    u->uid = p->uid;
    u->gid = p->gid;
    u->cuid = p->cuid;
    u->cgid = p->cgid;
    u->mode = p->mode;
    u->seq = p->seq;
}

void ipc_perm_set(struct kipc_perm *p, const struct ipc64_perm_u *u)
{
    p->uid = u->uid;
    p->gid = u->gid;
    p->mode = (p->mode & ~0777u) | (u->mode & 0777);
}

const char *ipc_octal(char buf[12], uint32_t mode)
{
    char t[12];
    int n = 0;
    do {
        t[n++] = (char)('0' + (mode & 7));
        mode >>= 3;
    } while (mode && n < 11);
    for (int i = 0; i < n; i++)
        buf[i] = t[n - 1 - i];
    buf[n] = 0;
    return buf;
}

int64_t ipc_now(void) { return (int64_t)(time_realtime_ns() / 1000000000ull); }

long ipc_sleep(void *chan, uint64_t deadline)
{
    ASSERT_KLOCK();
    if (proc_signal_pending())
        return -ERESTARTSYS;            /* EINTR after a handler; restarted after a stop */
    if (deadline && timer_ticks() >= deadline)
        return -EAGAIN;
    struct proc *p = current();
    uint64_t f = spin_lock_irqsave(&sched_lock);
    p->wake_tick = deadline == UINT64_MAX ? 0 : deadline;
    sleep_locked(chan);
    p->wake_tick = 0;
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

void ipc_wake(void *chan) { wakeup(chan); }

void ipc_exit(struct proc *p)
{
    ASSERT_KLOCK();
    /* Another thread of the process still has its address space: it has
     * not passed this point yet, and will find itself the last. (A thread
     * lets go of its address space under the kernel lock, right after this
     * call, so two exiting threads cannot both think the other remains.) */
    int *tids = kmalloc(NPROC * sizeof(int));
    if (tids) {
        int n = proc_list_tids(p->tgid, tids, NPROC);
        for (int i = 0; i < n; i++) {
            struct proc *t = tids[i] == p->pid ? NULL : proc_get_klocked(p->tgid, tids[i]);
            if (t && t->pid == tids[i] && t->mm) {
                kfree(tids);
                return;
            }
        }
        kfree(tids);
    }
    sem_exit(p->tgid);
    mq_exit(p->tgid);
}

/* ---- /proc/sys/kernel and /proc/sys/fs/mqueue ---- */

/* One integer (optionally negative) per field, separated by white space;
 * the fields parsed, or -EINVAL. */
static int parse_longs(const char *buf, long *v, int max)
{
    int n = 0;
    const char *p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            return n;
        if (n == max)
            return -EINVAL;
        bool neg = *p == '-';
        p += neg;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        long x = 0;
        while (*p >= '0' && *p <= '9') {
            if (x > (0x7fffffffffffffffl - 9) / 10)
                return -EINVAL;
            x = x * 10 + (*p++ - '0');
        }
        v[n++] = neg ? -x : x;
    }
}

static long set_one(const char *buf, size_t n, long *dst, long lo, long hi)
{
    long v;
    if (parse_longs(buf, &v, 1) != 1 || v < lo || v > hi)
        return -EINVAL;
    *dst = v;
    return (long)n;
}

static long set_next_id(const char *buf, size_t n, struct ipc_ids *ids)
{
    long v = 0;
    long r = set_one(buf, n, &v, -1, 0x7fffffff);
    if (r >= 0)
        ids->next_id = (int)v;
    return r;
}

#define GEN(nm, fmt, ...) \
    int ipc_gen_##nm(struct sbuf *s, const struct pctx *c) \
    { (void)c; sb_printf(s, fmt "\n", __VA_ARGS__); return 0; }
GEN(msgmax, "%ld", ipc_lim.msgmax)
GEN(msgmnb, "%ld", ipc_lim.msgmnb)
GEN(msgmni, "%ld", ipc_lim.msgmni)
GEN(msg_next_id, "%d", msg_ids.next_id)
GEN(sem, "%ld\t%ld\t%ld\t%ld", ipc_lim.semmsl, ipc_lim.semmns, ipc_lim.semopm, ipc_lim.semmni)
GEN(sem_next_id, "%d", sem_ids.next_id)
GEN(shmmax, "%lu", ipc_lim.shmmax)
GEN(shmall, "%lu", ipc_lim.shmall)
GEN(shmmni, "%ld", ipc_lim.shmmni)
GEN(shm_next_id, "%d", shm_ids.next_id)
GEN(queues_max, "%ld", ipc_lim.mq_queues_max)
GEN(msg_max, "%ld", ipc_lim.mq_msg_max)
GEN(msgsize_max, "%ld", ipc_lim.mq_msgsize_max)
GEN(msg_default, "%ld", ipc_lim.mq_msg_default)
GEN(msgsize_default, "%ld", ipc_lim.mq_msgsize_default)

#define INTMAX 0x7fffffffl
long ipc_write_msgmax(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.msgmax, 0, INTMAX); }
long ipc_write_msgmnb(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.msgmnb, 0, INTMAX); }
long ipc_write_msgmni(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.msgmni, 0, IPCMNI); }
long ipc_write_msg_next_id(const struct pctx *c, const char *b, size_t n) { (void)c; return set_next_id(b, n, &msg_ids); }
long ipc_write_sem_next_id(const struct pctx *c, const char *b, size_t n) { (void)c; return set_next_id(b, n, &sem_ids); }
long ipc_write_shm_next_id(const struct pctx *c, const char *b, size_t n) { (void)c; return set_next_id(b, n, &shm_ids); }
long ipc_write_shmmni(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.shmmni, 0, IPCMNI); }
long ipc_write_queues_max(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.mq_queues_max, 0, INTMAX); }
long ipc_write_msg_max(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.mq_msg_max, 1, MQ_HARD_MSGMAX); }
long ipc_write_msgsize_max(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.mq_msgsize_max, 128, MQ_HARD_MSGSIZE); }
long ipc_write_msg_default(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.mq_msg_default, 1, MQ_HARD_MSGMAX); }
long ipc_write_msgsize_default(const struct pctx *c, const char *b, size_t n) { (void)c; return set_one(b, n, &ipc_lim.mq_msgsize_default, 128, MQ_HARD_MSGSIZE); }

long ipc_write_shmmax(const struct pctx *c, const char *b, size_t n)
{
    (void)c;
    long v;
    if (parse_longs(b, &v, 1) != 1)
        return -EINVAL;
    ipc_lim.shmmax = (unsigned long)v;
    return (long)n;
}

long ipc_write_shmall(const struct pctx *c, const char *b, size_t n)
{
    (void)c;
    long v;
    if (parse_longs(b, &v, 1) != 1)
        return -EINVAL;
    ipc_lim.shmall = (unsigned long)v;
    return (long)n;
}

long ipc_write_sem(const struct pctx *c, const char *b, size_t n)
{
    (void)c;
    long v[4];
    if (parse_longs(b, v, 4) != 4 || v[3] < 0 || v[3] > IPCMNI)
        return -EINVAL;
    for (int i = 0; i < 3; i++)
        if (v[i] < 0 || v[i] > INTMAX)
            return -EINVAL;
    ipc_lim.semmsl = v[0];
    ipc_lim.semmns = v[1];
    ipc_lim.semopm = v[2];
    ipc_lim.semmni = v[3];
    return (long)n;
}

/* ---- /proc/sysvipc ---- */

static int gen_sysvipc_msg(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
                 "      stime      rtime      ctime\n");
    msg_proc_lines(s);
    return 0;
}

static int gen_sysvipc_sem(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n");
    sem_proc_lines(s);
    return 0;
}

static int gen_sysvipc_shm(struct sbuf *s, const struct pctx *c)
{
    (void)c;
    sb_printf(s, "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid"
                 "  cgid      atime      dtime      ctime                   rss                  swap\n");
    shm_proc_lines(s);
    return 0;
}

const struct pent ipc_sysvipc_ents[] = {
    { .name = "msg", .mode = S_IFREG | 0444, .gen = gen_sysvipc_msg },
    { .name = "sem", .mode = S_IFREG | 0444, .gen = gen_sysvipc_sem },
    { .name = "shm", .mode = S_IFREG | 0444, .gen = gen_sysvipc_shm },
    { .name = NULL },
};

const struct pent ipc_mqueue_ents[] = {
    IPC_SYSCTL(queues_max), IPC_SYSCTL(msg_max), IPC_SYSCTL(msgsize_max),
    IPC_SYSCTL(msg_default), IPC_SYSCTL(msgsize_default), { .name = NULL },
};
