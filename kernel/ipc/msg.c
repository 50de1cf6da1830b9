/* ipc/msg.c - System V message queues (msgget, msgsnd, msgrcv, msgctl).
 *
 * A queue is a list of messages in the order they were sent, each a type
 * (a positive long) and up to msgmax bytes, held in one kmalloc'd block.
 * A queue holds at most msg_qbytes bytes and as many messages (Linux's
 * rule, so a flood of empty messages is bounded too). msgrcv takes the
 * first message, the first of one type (or, with MSG_EXCEPT, of any other
 * type), or the first of the lowest type up to a bound; MSG_COPY copies the
 * Nth message without taking it (checkpoint/restore).
 *
 * Waiting: a sender with no room and a receiver with nothing to take sleep
 * on the queue (its address); every change to the queue wakes them all and
 * each looks again (ipc.h says why nothing is lost, and why a woken sleeper
 * finds its queue again by id: EIDRM if it was removed). A message is
 * copied in from the sender before it waits and belongs to the sender until
 * it is queued, so a sender killed in its sleep frees it itself. */
#include "ipc.h"
#include "../sys/sys.h"
#include "../proc/proc.h"
#include "../fs/pseudofs.h"
#include "../lib/abi.h"
#include "../lib/string.h"
#include "../lib/kprintf.h"

struct msg {
    struct msg *next;
    long type;
    size_t len;
    char text[];
};

struct msq {
    struct kipc_perm perm;      /* first: the table holds &perm */
    int64_t stime, rtime, ctime;
    size_t cbytes, qnum, qbytes;
    int lspid, lrpid;
    struct msg *head, **tailp;
};

/* Linux's struct msqid64_ds on x86-64. */
struct msqid64_u {
    struct ipc64_perm_u perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused4, unused5;
};

struct msginfo_u {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
};

static uint64_t msg_total_bytes, msg_total_count;    /* [klock] MSG_INFO */

static struct msq *find(int id) { return (struct msq *)ipc_find(&msg_ids, id); }

long sys_msgget(int key, int flg)
{
    struct msq *q = key == IPC_PRIVATE ? NULL : (struct msq *)ipc_find_key(&msg_ids, key);
    if (q) {
        int r = ipc_get_existing(&q->perm, flg);
        return r ? r : q->perm.id;
    }
    if (key != IPC_PRIVATE && !(flg & IPC_CREAT))
        return -ENOENT;
    q = kzalloc(sizeof(*q));
    if (!q)
        return -ENOMEM;
    int r = ipc_add(&msg_ids, &q->perm, key, flg, (int)ipc_lim.msgmni);
    if (r) {
        kfree(q);
        return r;
    }
    q->qbytes = (size_t)ipc_lim.msgmnb;
    q->ctime = ipc_now();
    q->tailp = &q->head;
    return q->perm.id;
}

static void free_queue(struct msq *q)
{
    for (struct msg *m = q->head, *n; m; m = n) {
        n = m->next;
        kfree(m);
    }
    msg_total_bytes -= q->cbytes;
    msg_total_count -= q->qnum;
    ipc_remove(&msg_ids, &q->perm);
    ipc_wake(q);                        /* its sleepers look again: EIDRM */
    kfree(q);
}

long sys_msgsnd(int id, const void *msgp, size_t sz, int flg)
{
    if (sz > (size_t)ipc_lim.msgmax || (long)sz < 0 || id < 0)
        return -EINVAL;
    long type;
    if (copy_from_user(&type, msgp, sizeof(type)))
        return -EFAULT;
    if (type < 1)
        return -EINVAL;
    struct msg *m = kmalloc(sizeof(*m) + sz);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->type = type;
    m->len = sz;
    long r = copy_from_user(m->text, (const char *)msgp + sizeof(long), sz) ? -EFAULT : 0;
    for (bool first = true; !r; first = false) {
        struct msq *q = find(id);
        if (!q) {
            r = first ? -EINVAL : -EIDRM;
            break;
        }
        if (first && (r = ipc_perm_check(&q->perm, 2)))
            break;
        if (q->cbytes + sz <= q->qbytes && q->qnum + 1 <= q->qbytes) {
            *q->tailp = m;
            q->tailp = &m->next;
            q->cbytes += sz;
            q->qnum++;
            msg_total_bytes += sz;
            msg_total_count++;
            q->lspid = current()->tgid;
            q->stime = ipc_now();
            ipc_wake(q);
            return 0;
        }
        if (flg & IPC_NOWAIT) {
            r = -EAGAIN;
            break;
        }
        r = ipc_sleep(q, 0);
    }
    kfree(m);
    return r;
}

/* The message msgrcv(type, flg) takes from q, and the link pointing at it. */
static struct msg **pick(struct msq *q, long type, int flg)
{
    struct msg **best = NULL;
    for (struct msg **pp = &q->head; *pp; pp = &(*pp)->next) {
        long t = (*pp)->type;
        if (type == 0)
            return pp;
        if (type > 0) {
            if ((flg & MSG_EXCEPT) ? t != type : t == type)
                return pp;
        } else if (t <= -type && (!best || t < (*best)->type)) {
            best = pp;
        }
    }
    return best;
}

long sys_msgrcv(int id, void *msgp, size_t sz, long type, int flg)
{
    if (id < 0 || (long)sz < 0)
        return -EINVAL;
    if ((flg & MSG_COPY) && (!(flg & IPC_NOWAIT) || (flg & MSG_EXCEPT)))
        return -EINVAL;
    for (bool first = true;; first = false) {
        struct msq *q = find(id);
        if (!q)
            return first ? -EINVAL : -EIDRM;
        if (first) {
            long r = ipc_perm_check(&q->perm, 4);
            if (r)
                return r;
        }
        struct msg **pp = NULL;
        if (flg & MSG_COPY) {
            long n = 0;
            for (pp = &q->head; *pp && n < type; pp = &(*pp)->next)
                n++;
            if (!*pp)
                return -ENOMSG;
        } else {
            pp = pick(q, type, flg);
        }
        if (pp) {
            struct msg *m = *pp;
            if (m->len > sz && !(flg & MSG_NOERROR))
                return -E2BIG;
            size_t n = MIN(m->len, sz);
            if (!(flg & MSG_COPY)) {
                *pp = m->next;
                if (q->tailp == &m->next)
                    q->tailp = pp;
                q->cbytes -= m->len;
                q->qnum--;
                msg_total_bytes -= m->len;
                msg_total_count--;
                q->lrpid = current()->tgid;
                q->rtime = ipc_now();
                ipc_wake(q);
            }
            long r = 0;
            if (copy_to_user(msgp, &m->type, sizeof(long)) ||
                copy_to_user((char *)msgp + sizeof(long), m->text, n))
                r = -EFAULT;
            if (!(flg & MSG_COPY))
                kfree(m);               /* taken: a bad buffer loses it, as on Linux */
            return r ? r : (long)n;
        }
        if (flg & IPC_NOWAIT)
            return -ENOMSG;
        long r = ipc_sleep(q, 0);
        if (r)
            return r;
    }
}

static void stat_out(struct msq *q, struct msqid64_u *u)
{
    memset(u, 0, sizeof(*u));
    ipc_perm_out(&q->perm, &u->perm);
    u->stime = q->stime;
    u->rtime = q->rtime;
    u->ctime = q->ctime;
    u->cbytes = q->cbytes;
    u->qnum = q->qnum;
    u->qbytes = q->qbytes;
    u->lspid = q->lspid;
    u->lrpid = q->lrpid;
}

long sys_msgctl(int id, int cmd, void *buf)
{
    if (id < 0 || cmd < 0)
        return -EINVAL;
    struct msqid64_u u;
    struct msq *q;
    switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
        struct msginfo_u i = {
            .msgmax = (int)ipc_lim.msgmax, .msgmnb = (int)ipc_lim.msgmnb,
            .msgmni = (int)ipc_lim.msgmni, .msgssz = 16, .msgseg = 0xffff,
            .msgpool = (int)(ipc_lim.msgmni * ipc_lim.msgmnb / 1024),
            .msgmap = (int)ipc_lim.msgmnb, .msgtql = (int)ipc_lim.msgmnb,
        };
        if (cmd == MSG_INFO) {
            i.msgpool = msg_ids.in_use;
            i.msgmap = (int)msg_total_count;
            i.msgtql = (int)msg_total_bytes;
        }
        if (copy_to_user(buf, &i, sizeof(i)))
            return -EFAULT;
        return ipc_max_index(&msg_ids);
    }
    case MSG_STAT:
    case MSG_STAT_ANY:
    case IPC_STAT: {
        q = cmd == IPC_STAT ? find(id) : (struct msq *)ipc_find_index(&msg_ids, id);
        if (!q)
            return -EINVAL;
        if (cmd != MSG_STAT_ANY) {
            long r = ipc_perm_check(&q->perm, 4);
            if (r)
                return r;
        }
        stat_out(q, &u);
        if (copy_to_user(buf, &u, sizeof(u)))
            return -EFAULT;
        return cmd == IPC_STAT ? 0 : q->perm.id;
    }
    case IPC_SET:
        if (copy_from_user(&u, buf, sizeof(u)))
            return -EFAULT;
        /* fall through */
    case IPC_RMID:
        q = find(id);
        if (!q)
            return -EINVAL;
        if (!ipc_owner(&q->perm))
            return -EPERM;
        if (cmd == IPC_RMID) {
            free_queue(q);
            return 0;
        }
        if (u.qbytes > (uint64_t)ipc_lim.msgmnb && current()->euid != 0)
            return -EPERM;
        ipc_perm_set(&q->perm, &u.perm);
        q->qbytes = u.qbytes;
        q->ctime = ipc_now();
        ipc_wake(q);                    /* more room, or fewer permissions */
        return 0;
    default:
        return -EINVAL;
    }
}

void msg_proc_lines(struct sbuf *s)
{
    for (int i = 0; i <= ipc_max_index(&msg_ids); i++) {
        struct msq *q = (struct msq *)ipc_find_index(&msg_ids, i);
        char oct[12];
        if (q)
            sb_printf(s, "%10d %10d  %4s  %10lu %10lu %5d %5d %5u %5u %5u %5u %10ld %10ld %10ld\n",
                      q->perm.key, q->perm.id, ipc_octal(oct, q->perm.mode), (unsigned long)q->cbytes,
                      (unsigned long)q->qnum, q->lspid, q->lrpid, q->perm.uid, q->perm.gid,
                      q->perm.cuid, q->perm.cgid, (long)q->stime, (long)q->rtime,
                      (long)q->ctime);
    }
}
