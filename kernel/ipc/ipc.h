/* ipc/ipc.h - System V IPC (message queues, semaphore sets, shared memory
 * segments) and POSIX message queues: the one header of the subsystem.
 *
 * Why a subsystem of its own: these objects outlive the processes that make
 * them and are named by keys and ids (or, for POSIX queues, by names), not
 * by paths, so they belong to no file system. Every System V object starts
 * with a struct kipc_perm (svipc(7)'s ipc_perm: key, owner, creator, mode,
 * sequence) and lives in one of three id tables (struct ipc_ids). An id is
 * seq * IPCMNI + index, so a stale id of a removed object, whose slot was
 * reused, fails with EINVAL instead of reaching the newcomer.
 *
 * Locking: everything here is [klock] (every IPC syscall is a KLOCK call).
 * A thread that waits (msgsnd, msgrcv, semop, mq_timedsend...) checks its
 * condition under the kernel lock and sleeps with sleep_locked, which gives
 * the kernel lock up only once the thread is asleep, so a change made by
 * another thread (which needs the kernel lock) and its wakeup cannot fall
 * in between. A woken sleeper never trusts its old pointer: it looks its
 * object up again by id, and if the object is gone it says EIDRM. Nothing
 * a sleeper allocated is held across the sleep by anyone but itself, so a
 * process killed while it waits leaves nothing behind. */
#pragma once
#include "../lib/types.h"
#include "../fs/pseudofs.h"

struct kipc_perm {              /* all [klock] */
    int key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode;              /* the 9 permission bits (+ SHM_DEST, SHM_LOCKED) */
    int id;                     /* seq * IPCMNI + index */
    uint16_t seq;
};

/* One kind's table of objects, indexed by id % IPCMNI. */
struct ipc_ids {                /* all [klock] */
    struct kipc_perm **slot;    /* grown on demand, up to IPCMNI */
    int nslots;
    int in_use;
    int last_idx;               /* the last index handed out (cyclic allocation) */
    uint16_t seq;               /* of the next object */
    int next_id;                /* /proc/sys/kernel/X_next_id: the next id wanted, or -1 */
};

/* The Linux x86-64 struct ipc64_perm, as IPC_STAT/IPC_SET see it. */
struct ipc64_perm_u {
    int32_t key;
    uint32_t uid, gid, cuid, cgid, mode;
    uint16_t seq, pad2;
    uint32_t pad3;
    uint64_t unused1, unused2;
};

/* ---- ipc.c: ids, permissions, the sysctls ---- */
struct kipc_perm *ipc_find(struct ipc_ids *ids, int id);       /* NULL: no such id */
struct kipc_perm *ipc_find_index(struct ipc_ids *ids, int idx); /* *_STAT: by index */
struct kipc_perm *ipc_find_key(struct ipc_ids *ids, int key);
/* Give p a slot and an id (p->key, the owner and mode are set here from the
 * caller and flg): 0, or -ENOSPC when limit objects exist. */
int  ipc_add(struct ipc_ids *ids, struct kipc_perm *p, int key, int flg, int limit);
void ipc_remove(struct ipc_ids *ids, struct kipc_perm *p);
int  ipc_max_index(struct ipc_ids *ids);                      /* highest index in use, or 0 */
/* May the caller have access `want` (04 read, 02 write, 01 exec, any
 * combination, in the low bits) to p? 0 or -EACCES; root may always. */
int  ipc_perm_check(const struct kipc_perm *p, int want);
/* A *get(2) of a key that exists: EEXIST under IPC_CREAT|IPC_EXCL, else
 * the access its mode bits in flg ask for (0 when granted). */
int  ipc_get_existing(const struct kipc_perm *p, int flg);
/* Is the caller p's owner or creator (or root)? IPC_SET and IPC_RMID. */
bool ipc_owner(const struct kipc_perm *p);
void ipc_perm_out(const struct kipc_perm *p, struct ipc64_perm_u *u);
/* IPC_SET: uid, gid and the low 9 mode bits from u. */
void ipc_perm_set(struct kipc_perm *p, const struct ipc64_perm_u *u);
/* mode in octal, as /proc/sysvipc's "%4o" (kprintf has no %o). */
const char *ipc_octal(char buf[12], uint32_t mode);
int64_t ipc_now(void);                                        /* seconds, real time */
/* Sleep on chan until woken, ticks deadline (0: none) or a signal; with
 * the kernel lock held (let go while asleep). -ERESTARTSYS if a signal is
 * pending (checked first: the call ends with EINTR if a handler runs, even
 * with SA_RESTART, as signal(7) says of System V IPC, and starts again
 * after a stop), -EAGAIN if the deadline passed, else 0. */
long ipc_sleep(void *chan, uint64_t deadline);
void ipc_wake(void *chan);

/* Tunables (/proc/sys/kernel/{msgmax,msgmnb,msgmni,sem,shmmax,shmall,shmmni}
 * and /proc/sys/fs/mqueue/), [klock]. */
struct ipc_limits {
    long msgmax, msgmnb, msgmni;
    long semmsl, semmns, semopm, semmni;
    unsigned long shmmax, shmall;
    long shmmni;
    long mq_queues_max, mq_msg_max, mq_msgsize_max, mq_msg_default, mq_msgsize_default;
};
extern struct ipc_limits ipc_lim;
extern struct ipc_ids msg_ids, sem_ids, shm_ids;

/* The syscalls are declared in sys/sys.h (with every handler). */

/* ---- hooks ---- */
/* Thread p is exiting (from proc_exit, before it lets go of its address
 * space): if it is the last of its process, the process's SEM_UNDO
 * adjustments are applied (sem.c) and its POSIX queue notifications
 * dropped (mqueue.c). */
struct proc;
void ipc_exit(struct proc *p);
/* remap_file_pages(2) has just unmapped a range of f and holds the last
 * reference besides: is f a System V segment that this made go (removed
 * by IPC_RMID, attached nowhere now)? Linux's shm_mmap then finds no
 * segment, and the call fails with EINVAL (shm.c). */
struct file;
bool shm_file_gone(struct file *f);

/* /proc text generators and writers (procfs.c's tables name them). */
/* Each kind's /proc/sysvipc lines (after ipc.c's header line). */
void msg_proc_lines(struct sbuf *s);
void sem_proc_lines(struct sbuf *s);
void shm_proc_lines(struct sbuf *s);
/* /proc/sys/kernel/X and /proc/sys/fs/mqueue/X: a generator and a writer
 * per tunable (root may write; *_next_id takes -1 or an id). */
#define IPC_TUNABLES(X) X(msgmax) X(msgmnb) X(msgmni) X(msg_next_id) X(sem) X(sem_next_id) \
    X(shmmax) X(shmall) X(shmmni) X(shm_next_id) X(queues_max) X(msg_max) X(msgsize_max) \
    X(msg_default) X(msgsize_default)
#define IPC_TUNABLE_DECL(nm) int ipc_gen_##nm(struct sbuf *s, const struct pctx *c); \
    long ipc_write_##nm(const struct pctx *c, const char *buf, size_t n);
IPC_TUNABLES(IPC_TUNABLE_DECL)
#define IPC_SYSCTL(nm) { .name = #nm, .mode = 0100644, .gen = ipc_gen_##nm, .write = ipc_write_##nm }
/* /proc/sys/kernel's entries, spliced into procfs.c's table. */
#define IPC_KERNEL_SYSCTLS IPC_SYSCTL(msgmax), IPC_SYSCTL(msgmnb), IPC_SYSCTL(msgmni), \
    IPC_SYSCTL(msg_next_id), IPC_SYSCTL(sem), IPC_SYSCTL(sem_next_id), IPC_SYSCTL(shmmax), \
    IPC_SYSCTL(shmall), IPC_SYSCTL(shmmni), IPC_SYSCTL(shm_next_id)
/* /proc/sys/fs/mqueue's table, and /proc/sysvipc's. */
extern const struct pent ipc_mqueue_ents[];
extern const struct pent ipc_sysvipc_ents[];

/* sem.c, mqueue.c: their shares of ipc_exit. */
void sem_exit(int tgid);
void mq_exit(int tgid);
