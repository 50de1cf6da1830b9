"""The invariant matrix: for each break switch, build the kernel with that
one mechanism removed, run the tests that guard it, and check that they
fail *with the symptom the row names* -- the observation that proves the
mechanism is absent -- and not some other way.

  python -m harness.matrix [SWITCH...]     (or: ./vigil matrix [--switch NAME])

A failing test is judged by its assertion message (the junit `message`):
it is the row's symptom only if the test raised AssertionError and the
message matches the row's `sees` regex. A timeout, a harness exception, a
derailed boot or any other assertion is "caught for the wrong reason": it
shows the kernel broke, not that the test saw what the promise names, and
it fails the matrix like a row that is not caught at all.

How to add a row (docs/invariants.md says the same):
  1. In the kernel, remove exactly one mechanism under `#ifdef BREAK_NAME`
     (NAME is the switch upper-cased, '-' -> '_'); add `name` to the
     Makefile's BREAKS, one entry per line.
  2. Make a test observe the symptom and say it in its assertion message
     (`assert ok, "the child's write is visible in the parent: ..."`).
  3. Add a Row below: switch, promise (a heading of docs/invariants.md),
     mechanism, where (file + functions, checked against kernel.elf),
     tests, symptom (a sentence) and sees (a regex over that message).
  4. `python -m harness.matrix --doc` puts it in docs/invariants.md's table;
     `./vigil matrix --switch name` must say "caught" (not "wrong reason").
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import accel as accel_mod
from .build import build
from .config import ROOT


@dataclass(frozen=True)
class Where:
    """A file and the functions in it that carry the mechanism (each must be
    a symbol of build/kernel.elf: tests/test_contract_map.py checks)."""
    file: str
    functions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.file}: {', '.join(self.functions)}"


def W(file: str, *functions: str) -> Where:  # noqa: N802 (reads as a table entry)
    return Where(file, functions)


@dataclass(frozen=True)
class Row:
    switch: str                 # make BREAK=switch; #ifdef BREAK_SWITCH in the kernel
    promise: str                # a heading of docs/invariants.md (lower case)
    mechanism: str
    where: tuple[Where, ...]
    tests: tuple[str, ...]      # pytest node ids
    symptom: str                # the observation that proves the mechanism is gone
    sees: str                   # regex over the failing test's assertion message

    def shows_symptom(self, message: str) -> bool:
        return message.startswith("AssertionError") and \
            re.search(self.sees, message, re.S) is not None


_P = "tests/test_privilege.py::test_privileged_instruction_kills_only_that_process"
_C = "tests/test_concurrency.py"
_F = "tests/test_faults.py"
_MP = "tests/test_memory_pressure.py"
_I = "tests/test_isolation.py"
_X = "tests/test_crash_explorer.py::test_journal_survives_every_allowed_crash_state"

ROWS: tuple[Row, ...] = (
    Row("user-pages", "privilege separation", "kernel pages are supervisor-only (U/S bit)",
        (W("kernel/mm/vmm.c", "vmm_init", "next_level"),),
        ("tests/test_isolation.py::test_process_cannot_read_kernel_memory", f"{_P}[readkernel]"),
        "a user program reads kernel memory and goes on running",
        r"read kernel memory and lived|was allowed on Vigil"),
    Row("cow", "process isolation", "copy-on-write fork",
        (W("kernel/mm/uvm.c", "share_leaf", "mm_fault"),),
        ("tests/test_isolation.py::test_forked_child_writes_are_invisible_to_parent",),
        "the child's write is visible in the parent",
        r"the child's write is visible in the parent"),
    Row("preempt", "scheduling fairness", "timer preemption",
        (W("kernel/proc/sched.c", "sched_tick"), W("kernel/proc/proc.c", "return_to_user_work")),
        ("tests/test_scheduling.py::test_spinning_process_does_not_stop_others",),
        "the parent runs again only after a spinner has finished",
        r"the parent did not run while the spinners spun"),
    Row("fair", "scheduling fairness", "virtual-runtime choice of the next process",
        (W("kernel/proc/sched.c", "schedule"),),  # pick_next, inlined
        ("tests/test_scheduling.py::test_cpu_bound_processes_get_equal_shares",),
        "CPU-bound processes get very unequal shares",
        r"unfair shares"),
    Row("usercopy", "privilege separation", "range checks on syscall pointers",
        (W("kernel/arch/x86_64/uaccess.c", "user_range_ok"),),
        ("tests/test_privilege.py::test_syscalls_given_kernel_addresses_return_efault",),
        "a syscall given a kernel address succeeds instead of failing with EFAULT",
        r"did not fail with EFAULT"),
    Row("vvar-ro", "privilege separation",
        "the vvar page (the kernel's clock) is mapped read-only into every process",
        (W("kernel/mm/vdso.c", "vdso_map"),),
        ("tests/test_vdso.py::test_a_write_to_vvar_kills_only_the_writer",),
        "a process writes the clock page every process reads, and goes on running",
        r"a write to \[vvar\] did not fault"),
    Row("chroot", "privilege separation", "\"..\" stops at a process's root (chroot)",
        (W("kernel/fs/vfs.c", "walk"),),
        ("tests/test_chroot.py::test_chroot_confines_paths_to_the_new_root_as_on_linux",),
        "a chrooted process reaches files outside its root through \"..\"",
        r"a chrooted process escaped the chroot"),
    Row("tty-isig", "process isolation",
        "a terminal's ^C/^\\/^Z signal its foreground process group only",
        (W("kernel/fs/tty.c", "tty_input_locked"),),  # isig_locked, inlined
        ("tests/test_tty.py::test_job_control_on_a_pty_behaves_as_on_linux",),
        "^C typed for the foreground job reaches the shell's process group",
        r"\^C reached a process outside the foreground group"),
    Row("tty-background", "process isolation",
        "a background job reading its terminal is stopped by SIGTTIN",
        (W("kernel/fs/tty.c", "job_check_locked", "tty_read"),),
        ("tests/test_tty.py::test_job_control_on_a_pty_behaves_as_on_linux",),
        "a background job's read takes the line typed at the terminal instead of stopping",
        r"a background reader was not stopped by SIGTTIN"),
    Row("nx", "privilege separation", "no-execute user data (NX)",
        (W("kernel/mm/uvm.c", "ensure_page", "mm_protect"),),  # pte_flags, inlined
        (f"{_P}[execstack]", f"{_P}[execheap]"),
        "code on the stack or heap runs",
        r"exec(stack|heap) was allowed on Vigil"),
    Row("fsync-flush", "durability and crash consistency", "fsync ends with a device FLUSH",
        (W("kernel/fs/journal.c", "commit_locked"), W("kernel/fs/bcache.c", "bcache_sync")),
        ("tests/test_durability.py::test_fsync_is_durable_under_the_disk_contract[fsync]",),
        "fsync returns before a FLUSH covers its writes: a power cut then loses them",
        r"fsync returned without any FLUSH|fsync returned, then a power cut"),
    Row("journal-abort", "durability and crash consistency",
        "a failed write or FLUSH of a commit or checkpoint aborts the journal: that fsync fails, "
        "nothing is committed after it, the file system goes read-only",
        (W("kernel/fs/journal.c", "failed_locked", "journal_commit"),),
        ("tests/test_diskfaults.py::test_a_flush_the_disk_fails_is_never_a_successful_fsync",
         "tests/test_diskfaults.py::test_a_write_failing_in_a_commit_aborts_the_journal_and_keeps_every_fsync"),
        "fsync reports success for data the disk never took, and commits go on after a failed one",
        r"fsync reported success for data the disk never took|a commit after a failed one"),
    Row("rename-dots", "durability and crash consistency",
        "rename refuses \".\" and \"..\" as a last name (EBUSY), as Linux",
        (W("kernel/sys/sys_file.c", "sys_renameat2"),),
        ("tests/test_fspath.py::test_a_failed_parent_lookup_leaves_the_file_alone_as_on_linux",),
        "rename(\"d/e/..\", \"x\") moves d to x on ext2 and takes the \"..\" entry out of e",
        r"the calls answer differently from Linux"),
    Row("dead-dir", "durability and crash consistency",
        "a removed directory takes no new entry (ENOENT, Linux's IS_DEADDIR), checked under the "
        "namespace lock the rmdir held",
        (W("kernel/fs/ext2.c", "ext2_create", "ext2_link", "ext2_rename"),),
        ("tests/test_fspath.py::test_a_failed_parent_lookup_leaves_the_file_alone_as_on_linux",),
        "mkdirat, openat(O_CREAT), link and rename into a removed directory held by a descriptor "
        "succeed on ext2, naming files no directory reaches",
        r"a removed directory took a new name"),
    Row("signal-restart", "scheduling fairness",
        "a sleep a signal cut short starts again when no handler ran for it (a stop and SIGCONT, "
        "an ignored signal, one the tracer took), except the calls Linux lets say EINTR "
        "regardless (epoll_wait, semop, sigtimedwait); a timed one (nanosleep, poll) goes on "
        "as restart_syscall to the end it had",
        (W("kernel/proc/signal.c", "signal_deliver", "signal_restart_pending"),),
        ("tests/test_signal_restart.py::"
         "test_a_sleep_cut_short_with_no_handler_run_goes_on_as_on_linux",),
        "read, wait4, poll, futex and flock say EINTR after a stop and SIGCONT, or under a tracer "
        "that took the signal",
        r"a sleep cut short with no handler run answered otherwise than Linux's"),
    Row("realpath-early", "kernel memory safety",
        "a name is resolved into a buffer of its own: the working directory's name stays the old "
        "one while chdir resolves the new one through /proc/self/cwd (no name that leads to "
        "itself, which each readlink resolved again without end)",
        (W("kernel/fs/vfs.c", "vfs_realpath"),),
        ("tests/test_fspath.py::test_working_directory_names_follow_the_walk_as_on_linux",),
        "chdir(\"/proc/self/cwd\") names the working directory /proc/self/cwd",
        r"the working directory is named differently from Linux"),
    Row("parent-put", "kernel memory safety",
        "a failed parent lookup (ENOTDIR, ENAMETOOLONG) leaves its caller nothing to put",
        (W("kernel/sys/sys_file.c", "parent_at"),),
        ("tests/test_fspath.py::test_a_failed_parent_lookup_leaves_the_file_alone_as_on_linux",),
        "symlink(\"t\", \"file/x\") puts the file's inode twice: the file is freed while its "
        "directory still names it",
        r"a failed parent lookup put the parent's inode twice"),
    Row("iset-order", "kernel memory safety",
        "the last reference to an inode goes only after nothing can reach it: a working directory, "
        "a root, a mount or the accounting file is pointed elsewhere first (iset)",
        (W("kernel/fs/vfs.c", "iset"),),
        ("tests/test_ext2.py::test_a_working_directory_released_is_never_reached_again",
         "tests/test_procfs.py::test_magic_links_never_reach_an_inode_whose_last_reference_went"),
        "a thread sharing the working directory, or /proc/PID/cwd, takes a reference to a removed "
        "directory while its release sleeps on the disk (then the inode is released twice)",
        r"a (lookup|magic link) reached (a working directory|an inode) whose last reference went"),
    Row("watchdog", "kernel memory safety",
        "a stuck CPU (kernel lock held, or interrupts off) is reported by name",
        (W("kernel/debug/watchdog.c", "watchdog_tick"),),
        ("tests/test_watchdog.py::test_a_cpu_stuck_holding_the_kernel_lock_is_reported_by_name",),
        "a CPU spins for ever holding the kernel lock and the console says nothing",
        r"the stall went unreported"),
    Row("hungtask", "kernel memory safety",
        "a thread asleep in the kernel (D state) past the threshold is reported by pid and syscall",
        (W("kernel/debug/watchdog.c", "hung_scan"),),
        ("tests/test_watchdog.py::test_a_thread_stuck_asleep_in_the_kernel_is_reported_with_pid_"
         "syscall_and_backtrace",),
        "a process sleeps in the kernel for ever and the console says nothing",
        r"the stall went unreported"),
    Row("disk-checks", "kernel memory safety",
        "a disk's superblock and group descriptors are checked before use",
        (W("kernel/fs/ext2.c", "check_super", "check_group"),),
        ("tests/test_fs_hardening.py::test_mutated_disks_get_an_answer_never_a_panic",),
        "a mutated disk image panics or hangs the kernel",
        r"mutated disks stopped the kernel"),
    Row("journal", "durability and crash consistency", "the JBD2 journal (ordered mode)",
        (W("kernel/fs/journal.c", "commit_locked", "journal_open"),),  # recover, inlined
        ("tests/test_crash_explorer.py::test_journal_survives_every_allowed_crash_state[seq1]",),
        "a crash state is inconsistent or loses what fsync acknowledged",
        r"crash states broken"),
    Row("fdatasync-flush", "durability and crash consistency",
        "fdatasync ends with a device FLUSH (its own entry: sys_fdatasync)",
        (W("kernel/sys/sys_file.c", "sys_fdatasync"), W("kernel/fs/journal.c", "commit_locked")),
        ("tests/test_durability.py::test_fsync_is_durable_under_the_disk_contract[fdatasync]",
         f"{_X}[applog]"),
        "fdatasync returns with its commit block unflushed: a crash state that kept a later "
        "write lacks what fdatasync acknowledged (fsync'd bytes, or the new file's name, missing)",
        r"fsync'd (bytes|name) missing"),
    Row("commit-order", "durability and crash consistency",
        "the FLUSH before the commit block (data, descriptor and copies on the disk first)",
        (W("kernel/fs/journal.c", "commit_locked"),),
        (f"{_X}[applog]",),
        "the commit block lands before the blocks it vouches for: recovery leaves a file "
        "holding bytes it never had at any checkpoint",
        r"never its state at a checkpoint \(garbage\)"),
    Row("journal-reuse", "durability and crash consistency",
        "a block freed by an uncommitted transaction is not reused before it commits",
        (W("kernel/fs/journal.c", "journal_reusable"), W("kernel/fs/ext2.c", "alloc_block")),
        (f"{_X}[reuse]",),
        "a new file's bytes land in blocks an uncommitted unlink freed: after a crash the "
        "fsync'd file that still owns them holds bytes it never had",
        r"never its state at a checkpoint \(garbage\)"),
    Row("journal-reclaim", "durability and crash consistency",
        "an allocation that finds only blocks freed by the running transaction fails, and the "
        "commit that frees them runs after the operation ends, never in its middle",
        (W("kernel/fs/ext2.c", "alloc_block", "ext2_write"),),
        (f"{_X}[refill]", f"{_X}[reuse]"),
        "a write on a full disk commits half of itself (the bitmap with its new blocks, not the "
        "inode that owns them): after a crash e2fsck finds blocks marked used that no file owns",
        r"Block bitmap differences"),
    Row("evict-order", "durability and crash consistency",
        "the buffer cache never evicts uncommitted metadata home",
        (W("kernel/fs/bcache.c", "bread", "bget_zero"),),  # get_busy, inlined
        (f"{_X}[evict]",),
        "metadata of a transaction that has not committed is on the disk: after a crash "
        "e2fsck finds the file system inconsistent (entries naming free inodes, wrong counts)",
        r"crash states broken.*(e2fsck -fn: |points at inode \d+ with)"),
    Row("ext2-one-inode", "durability and crash consistency",
        "one in-memory inode per disk inode: a lookup that slept reading the inode table asks the "
        "live list again",
        (W("kernel/fs/ext2.c", "read_inode"),),
        ("tests/test_ext2.py::test_one_file_opened_at_once_by_two_processes_is_one_inode",),
        "two processes that open one file at the same moment hold two inodes: a byte one appends "
        "is not in the size the other sees",
        r"two processes opening one file at once got two inodes"),
    Row("flush-wait", "durability and crash consistency",
        "block_flush waits for the device to complete the FLUSH",
        (W("kernel/drivers/virtio_blk.c", "block_flush"),),
        ("tests/test_durability.py::test_fsync_returns_only_after_the_disk_completed_its_flush",),
        "fsync returns while the disk still holds its FLUSH (a blkdebug breakpoint)",
        r"fsync returned while the disk still held its FLUSH"),
    Row("spinlock", "mutual exclusion", "spinlocks exclude (an atomic exchange)",
        (W("kernel/lib/spinlock.c", "spin_lock_irqsave", "spin_trylock"),),
        (f"{_C}::test_spinlock_keeps_a_kernel_counter_exact_across_cpus",),
        "increments made under a spinlock on several CPUs are lost",
        r"updates lost under a spinlock"),
    Row("klock", "mutual exclusion",
        "the kernel lock: kernel work for processes runs on one CPU at a time",
        (W("kernel/proc/sync.c", "kernel_lock"),),
        (f"{_C}::test_concurrent_syscalls_on_shared_state_lose_no_update",),
        "two threads are in the kernel at once: an exchange is lost, or the lock-rule "
        "check sees the lock change hands under its holder",
        r"updates lost under the kernel lock|two holders of the kernel lock"),
    Row("futex", "mutual exclusion", "futex wait checks the word and queues in one step",
        (W("kernel/proc/futex.c", "futex_wait"),),
        (f"{_C}::test_futex_ping_pong_never_loses_a_wakeup",),
        "a wakeup is lost (futexpp's watchdog reports a stuck round)",
        r"a wakeup was lost"),
    Row("vvar-live", "mutual exclusion",
        "every process maps the kernel's one clock record (the vvar page), live, not a copy",
        (W("kernel/mm/vdso.c", "vdso_map"),),
        ("tests/test_vdso.py::test_clock_settime_reaches_every_vdso_at_once",),
        "after clock_settime the vDSO's REALTIME is the old clock's, 1000 s from the "
        "system call's",
        r"vDSO's REALTIME differs from the syscall's by \d+ ms"),
    Row("poll-wake", "mutual exclusion",
        "a wait queue's notify reaches every registered waiter (poll, select, epoll)",
        (W("kernel/fs/poll.c", "waitq_notify_locked"),),
        ("tests/test_poll.py::test_a_waiter_on_another_cpu_never_misses_its_wake_up",),
        "a thread in epoll_wait stays asleep while its fd is readable (the bounded wait runs "
        "out and the program reports the missed wake-up)",
        r"a ready fd whose waiter never woke: missed wake-up"),
    Row("lock-conflict", "mutual exclusion",
        "fcntl record locks (POSIX and open file description locks) exclude other owners' "
        "conflicting locks",
        (W("kernel/fs/lock.c", "posix_lock_fcntl"),),
        ("tests/test_locks.py::test_record_locks_leases_and_fcntl_signals_behave_as_on_linux",),
        "a second open file of one process gets an OFD write lock over the first one's",
        r"two owners hold conflicting locks"),
    Row("epoll-excl", "mutual exclusion",
        "an event on a file wakes one of its EPOLLEXCLUSIVE waiters, not all of them",
        (W("kernel/fs/poll.c", "waitq_notify_locked"),),
        ("tests/test_poll.py::test_one_event_wakes_one_exclusive_epoll_waiter_as_on_linux[2]",),
        "the first byte written to a pipe wakes every epoll_wait that watches it with "
        "EPOLLEXCLUSIVE (the count of woken waiters runs ahead of the events)",
        r"an event woke more than one exclusive waiter: event 1 woke [2-9] waiters"),
    Row("pi", "scheduling fairness", "priority inheritance on PI futexes",
        (W("kernel/proc/futex.c", "pi_update"),),
        (f"{_C}::test_priority_inheritance_prevents_pathfinder_inversion[smp2]",
         "tests/test_schedtrace.py::"
         "test_with_pi_the_holder_runs_at_the_waiters_priority_and_no_hog_runs_between"),
        "the high-priority thread gets the mutex only after the hogs finish; the scheduling "
        "trace shows low left at its own priority while high waits on its lock",
        r"high got the mutex before the hogs finished: no|was not lent high's priority"),
    Row("tlb", "process isolation", "TLB shootdown by IPI",
        (W("kernel/mm/uvm.c", "flush_mm"), W("kernel/arch/x86_64/smp.c", "tlb_shootdown")),
        (f"{_C}::test_other_cpus_stop_using_a_changed_mapping[smp2]",),
        "another CPU goes on using an unmapped or write-protected page",
        r"STALE ACCESS"),
    Row("sysret-regs", "process isolation",
        "a frame the kernel replaced (rt_sigreturn, a handler's, SETREGS) returns by iretq",
        (W("kernel/arch/x86_64/syscall.asm", "syscall_return"),),
        (f"{_I}::test_a_signal_handler_gives_back_every_register[smp1]",),
        "code a signal interrupted anywhere loses rcx and r11 when its handler returns "
        "(sysret loads them with rip and rflags)",
        r"a register changed across an asynchronous signal handler: "
        r".*changed across a signal handler"),
    Row("kernel-wx", "privilege separation", "W^X: the kernel's text is mapped read-only",
        (W("kernel/mm/vmm.c", "vmm_init"),),
        (f"{_F}::test_write_to_kernel_text_faults",),
        "the kernel writes its own code without a fault",
        r"the kernel wrote its own text without a fault"),
    Row("iopb", "privilege separation", "no I/O bitmap in the TSS (IOPL 0): no port I/O in ring 3",
        (W("kernel/arch/x86_64/gdt.c", "gdt_init"),),
        (f"{_P}[in]", f"{_P}[out]"),
        "a user program reads and writes I/O ports and goes on running",
        r"(in|out) was allowed on Vigil"),
    Row("ioport-owner", "privilege separation",
        "the TSS's I/O bitmap is the running thread's (schedule loads it at every switch)",
        (W("kernel/proc/sched.c", "schedule"), W("kernel/sys/sys_proc.c", "io_perm_load")),
        ("tests/test_privilege.py::test_io_ports_are_only_roots_and_only_the_given_ones[smp1]",),
        "a process given no I/O port reads port 0x80 because another process on its CPU "
        "was given it",
        r"a process given no port touched one"),
    Row("umip", "privilege separation", "UMIP: no sgdt/sidt from ring 3",
        (W("kernel/arch/x86_64/gdt.c", "cpu_init"),),
        ("tests/test_privilege.py::test_user_mode_cannot_see_the_descriptor_tables[sgdt]",
         "tests/test_privilege.py::test_user_mode_cannot_see_the_descriptor_tables[sidt]"),
        "a user program reads where the kernel's GDT and IDT are",
        r"(sgdt|sidt) was allowed on Vigil"),
    Row("kstack-guard", "process isolation", "an unmapped guard page below every kernel stack",
        (W("kernel/mm/vmm.c", "kstack_alloc", "kstack_free"),),
        (f"{_F}::test_kernel_stack_overflow_hits_guard_page_as_double_fault",),
        "a kernel stack overflow runs on past where its guard page was",
        r"the stack overflow ran past its guard page"),
    Row("fault-region", "process isolation",
        "page faults are served only inside the process's regions",
        (W("kernel/mm/uvm.c", "mm_fault"),),
        (f"{_I}::test_an_address_outside_every_region_is_a_segmentation_fault",),
        "a read outside every region gets a page instead of SIGSEGV",
        r"a read outside the process's regions got a page"),
    Row("user-fault", "process isolation", "a user fault ends that process, not the kernel",
        (W("kernel/arch/x86_64/trap.c", "trap_dispatch"),),
        (f"{_P}[cli]", f"{_P}[writekernel]"),
        "one program's fault stops the machine",
        r"the kernel did not survive a user fault"),
    Row("lockdep", "mutual exclusion", "the lock-order checker reports a cycle",
        (W("kernel/lib/lockdep.c", "lockdep_acquire"),),
        (f"{_C}::test_lock_order_inversion_is_reported_with_both_locks",),
        "two locks taken in opposite orders pass without a report",
        r"no lock-order report"),
    Row("smap", "privilege separation", "SMAP: the kernel touches user memory only in uaccess",
        (W("kernel/arch/x86_64/gdt.c", "cpu_init"),),
        (f"{_F}::test_kernel_cannot_read_user_memory_outside_uaccess",),
        "the kernel reads user memory outside uaccess without a fault",
        r"the kernel read user memory outside uaccess"),
    Row("smep", "privilege separation", "SMEP: the kernel never executes user pages",
        (W("kernel/arch/x86_64/gdt.c", "cpu_init"),),
        (f"{_F}::test_kernel_cannot_execute_user_pages",),
        "the kernel runs code from a user page without a fault",
        r"the kernel ran a user page"),
    Row("fd-ref", "kernel memory safety", "a syscall holds a reference on its file (fdget/fdput)",
        (W("kernel/sys/sys_file.c", "fd_get", "fd_put_held"), W("kernel/fs/file.c", "file_check")),
        ("tests/test_hardening.py::"
         "test_sleeping_syscalls_survive_siblings_taking_their_objects_away[smp2]",),
        "a sibling's close frees a pipe under a sleeping read or write: "
        "the kernel reports a use-after-free",
        r"the kernel broke: .*use-after-free: struct file"),
    Row("cow-kwrite", "process isolation", "the kernel's writes for a process copy a shared frame",
        (W("kernel/mm/uvm.c", "mm_write"),),
        ("tests/test_isolation.py::test_clone_child_settid_writes_only_the_childs_copy",),
        "clone(CLONE_CHILD_SETTID) writes the child's tid into the parent's memory",
        r"the child's tid is visible in the parent"),
    Row("cow-mprotect", "process isolation", "mprotect keeps a shared frame copy-on-write",
        (W("kernel/mm/uvm.c", "reprotect_leaf"),),
        ("tests/test_isolation.py::"
         "test_a_page_shared_read_only_at_fork_stays_private_after_mprotect",),
        "a page read-only at fork, made writable, takes the child's write into the parent",
        r"the child's write is visible in the parent"),
    Row("private-file", "process isolation",
        "a MAP_PRIVATE file page is mapped read-only over the page cache (copy on first write)",
        (W("kernel/mm/uvm.c", "file_fault"),),
        ("tests/test_mmap_file.py::"
         "test_a_map_private_write_never_reaches_the_file_or_another_mapping",),
        "a write through a MAP_PRIVATE mapping shows in read() of the file and in another mapping",
        r"a MAP_PRIVATE write reached the file or another mapping"),
    Row("pkey-pte", "process isolation",
        "a page's entry carries its region's protection key (PTE bits 59-62)",
        (W("kernel/mm/uvm.c", "mm_protect_key"),),
        ("tests/test_pkeys.py::"
         "test_a_protection_key_denies_what_pkru_says_and_pkru_is_each_threads_own",),
        "a write through a page whose key PKRU write-disables goes through",
        r"a write through a key with write-disable succeeded"),
    Row("pkru-switch", "process isolation", "the context switch loads the next thread's PKRU",
        (W("kernel/proc/sched.c", "schedule"),),
        ("tests/test_pkeys.py::"
         "test_a_protection_key_denies_what_pkru_says_and_pkru_is_each_threads_own",),
        "two threads switching on one CPU run with each other's protection-key rights",
        r"a thread's PKRU leaked to another thread"),
    Row("kill-perm", "privilege separation", "kill(2)'s permission check",
        (W("kernel/proc/signal.c", "signal_permitted"),),
        ("tests/test_privilege.py::test_an_unprivileged_process_cannot_signal_another_users_process",),
        "a uid-1000 process signals (and kills) a root process",
        r"a uid-1000 process may signal root"),
    Row("init-signal", "privilege separation",
        "init gets only the signals it has a handler for",
        (W("kernel/proc/signal.c", "signal_send_locked"),),
        ("tests/test_privilege.py::test_init_ignores_signals_it_has_no_handler_for",),
        "a process init adopted kills init by signalling its parent: the machine powers off",
        r"a signal from a process init adopted ended init"),
    Row("ptrace-perm", "privilege separation", "a process cannot trace what it does not own",
        (W("kernel/proc/ptrace.c", "may_attach"),),
        ("tests/test_ptrace.py::test_a_process_cannot_trace_what_it_does_not_own",),
        "an unprivileged tracer reads a root process's memory",
        r"an unprivileged tracer read a root process's memory"),
    Row("debugreg-user", "privilege separation",
        "a debug register a process arms watches only user memory",
        (W("kernel/proc/ptrace.c", "dr_ok"),),
        ("tests/test_gdb.py::test_debug_registers_never_watch_kernel_memory",),
        "a tracer arms a hardware breakpoint on a kernel address (POKEUSER DR0 accepts it)",
        r"a tracer arms a debug register on a kernel address"),
    Row("ptrace-setid", "privilege separation",
        "a traced exec of a set-user-ID program gains no privilege its tracer's link lacked",
        (W("kernel/proc/exec.c", "exec_creds"),),
        ("tests/test_ptrace_stops.py::test_sigchld_and_traced_setuid_exec_are_as_linux",),
        "a program traced by uid 1000 runs set-user-ID root",
        r"a program traced by uid 1000 ran set-user-ID root"),
    Row("cred", "privilege separation", "set*id: without root, only among one's own ids",
        (W("kernel/sys/sys_misc.c", "set_ids"),),
        ("tests/test_privilege.py::test_set_id_calls_follow_linux_rules",),
        "a uid-1000 process makes itself root with setuid(0)",
        r"a uid-1000 process became root"),
    Row("rlimit-perm", "privilege separation", "only root raises a hard resource limit",
        (W("kernel/sys/sys_limits.c", "sys_prlimit64"),),
        ("tests/test_syscalls_procs.py::test_a_process_is_held_to_its_limits_and_only_root_raises_them",),
        "a uid-4243 process lowers its hard RLIMIT_NOFILE and raises it again",
        r"a uid-4243 process raised its own hard limit"),
    Row("rlimit-nofile", "privilege separation", "descriptors stop at RLIMIT_NOFILE",
        (W("kernel/sys/sys_limits.c", "fd_limit"),),
        ("tests/test_syscalls_procs.py::test_a_process_is_held_to_its_limits_and_only_root_raises_them",
         "tests/test_fdtable.py::test_descriptors_past_1024_up_to_rlimit_nofile_as_on_linux"),
        "a process limited to 16 descriptors opens more",
        r"a process holds more descriptors than its RLIMIT_NOFILE allows"),
    Row("mmap-min-addr", "privilege separation",
        "below vm.mmap_min_addr only root maps memory: a NULL pointer is always a fault",
        (W("kernel/mm/uvm.c", "mm_min_addr_check"),),
        ("tests/test_privilege.py::test_only_root_maps_memory_below_vm_mmap_min_addr_as_on_linux",),
        "an unprivileged process maps the page at address 0",
        r"an unprivileged process mapped memory below vm.mmap_min_addr"),
    Row("nr-open", "privilege separation",
        "fs.nr_open caps every hard RLIMIT_NOFILE and every descriptor table, root's too",
        (W("kernel/sys/sys_limits.c", "sys_prlimit64"),
         W("kernel/proc/fdtable.c", "fdtable_expand")),
        ("tests/test_fdtable.py::test_proc_fd_listing_and_fs_nr_open_tunable_as_linux",),
        "a hard RLIMIT_NOFILE above /proc/sys/fs/nr_open is set and a table grows past it",
        r"fs.nr_open did not hold"),
    Row("core-limit", "privilege separation",
        "a core file stays within RLIMIT_CORE (0 or 1: none)",
        (W("kernel/proc/coredump.c", "coredump_write"),),
        ("tests/test_coredump.py::"
         "test_core_signals_dump_and_rlimit_core_and_pipe_patterns_are_honoured",),
        "a process with RLIMIT_CORE 0 leaves a core file",
        r"a core file was written although RLIMIT_CORE"),
    Row("file-perm", "privilege separation", "mode bits and owners decide file access",
        (W("kernel/fs/vfs.c", "vfs_permission"),),  # permission_as, inlined
        ("tests/test_ext2.py::test_unix_permissions_match_linux",),
        "uid 1000 reads, writes or removes what Linux refuses it",
        r"Vigil allowed what Linux denies"),
    Row("ipc-perm", "privilege separation",
        "System V IPC and POSIX queue mode bits decide who reads and writes an object",
        (W("kernel/ipc/ipc.c", "ipc_perm_check"),),
        ("tests/test_ipc.py::test_another_user_cannot_read_or_remove_a_0600_ipc_object",),
        "a uid-1000 process reads root's 0600 message queue, segment, semaphore and POSIX queue",
        r"another user read a 0600 IPC object"),
    Row("proc-perm", "privilege separation",
        "/proc's ptrace-read rule: another user's environ, fd/, exe, cwd are private",
        (W("kernel/fs/pseudofs.c", "pf_open", "pl_readlink"),),  # may_access, inlined
        ("tests/test_procfs.py::test_another_users_process_is_private",),
        "a uid-3000 process reads a uid-2000 process's environment",
        r"another user's environ was readable"),
    Row("rt-prio", "scheduling fairness", "real-time priority order (strict, before fair)",
        (W("kernel/proc/sched.c", "schedule", "preempt_for"),),  # better, inlined
        ("tests/test_scheduling.py::test_realtime_threads_run_in_strict_priority_order",),
        "a lower-priority thread runs while a higher-priority one is runnable",
        r"a lower priority ran while a higher one was runnable"),
    Row("reclaim-dirty", "memory under pressure",
        "reclaim takes only clean file pages (a dirty page stays until written back)",
        (W("kernel/mm/filemap.c", "shrink_page"), W("kernel/mm/uvm.c", "age_leaf")),
        (_MP + "::test_a_file_larger_than_memory_reads_back_right_twice_and_dirty_pages_survive",),
        "a page written through a MAP_SHARED mapping reads back as the file's old data",
        r"a written page read back as old data"),
    Row("mlock-pin", "memory under pressure",
        "a locked page stays resident: reclaim and swap-out pass locked regions by",
        (W("kernel/mm/uvm.c", "age_leaf", "swap_out_mm"),),
        ("tests/test_mlock.py::test_a_locked_region_stays_resident_while_swap_takes_its_unlocked_twin",),
        "pages of an mlock'ed region are written out to swap under pressure",
        r"a locked page was swapped out"),
    Row("oom-adj", "memory under pressure",
        "the OOM killer weighs each process by oom_score_adj (-1000: never chosen)",
        (W("kernel/mm/reclaim.c", "oom_kill"),),
        (_MP + "::test_oom_score_adj_minus_1000_exempts_the_hog_and_the_smaller_worker_dies",),
        "the exempt hog is killed instead of the worker",
        r"the OOM killer killed the wrong process"),
    Row("threads-max", "memory under pressure",
        "fork stops at threads-max (kernel stacks in at most an eighth of memory), "
        "the limit /proc reports",
        (W("kernel/proc/proc.c", "proc_alloc"),),
        ("tests/test_proclimit.py::test_fork_stops_at_threads_max_with_eagain_and_reports_it_truly",),
        "children are forked past /proc/sys/kernel/threads-max",
        r"a fork past threads-max succeeded"),
    Row("tmpfs-truncate", "kernel memory safety",
        "a tmpfs file cut short zeros the rest of its last page",
        (W("kernel/fs/tmpfs.c", "tmpfs_truncate"),),
        ("tests/test_tmpfs_dev.py::test_tmp_files_and_directories_behave_as_on_linux",),
        "a file cut short and grown again shows its old bytes",
        r"a file cut short and grown again shows its old bytes"),
    Row("rt-queue", "kernel memory safety",
        "each real-time signal instance queued with its own siginfo, from a bounded pool",
        (W("kernel/proc/signal.c", "signal_send_info_locked", "signal_dequeue_locked"),),
        ("tests/test_rtsignals.py::test_real_time_signals_queue_in_order_up_to_the_limit_as_on_linux",),
        "five SIGRTMIN+1 sent while blocked are delivered once",
        r"[0-4] of 5 queued SIGRTMIN\+1 delivered: real-time signals coalesced"),
    Row("txtbsy", "process isolation",
        "a running program's file is never opened for writing, nor a file open for writing run",
        (W("kernel/fs/vfs.c", "vfs_get_write_access"),),
        ("tests/test_fspath.py::test_paths_open_flags_and_attributes_answer_as_linux_does",),
        "a file a process runs is opened for writing and truncated under it",
        r"a running program's file was writable"),
    Row("opath", "privilege separation",
        "an O_PATH descriptor reaches no call that reads, writes or changes the file",
        (W("kernel/sys/sys_file.c", "fd_get"),),
        ("tests/test_fspath.py::test_paths_open_flags_and_attributes_answer_as_linux_does",),
        "read, write, lseek, ioctl and mmap work through a descriptor opened with O_PATH",
        r"an O_PATH descriptor did what Linux refuses"),
)


def makefile_breaks() -> list[str]:
    """The switches the Makefile knows (its `BREAKS += name` lines)."""
    text = (ROOT / "Makefile").read_text()
    return re.findall(r"^BREAKS\s*\+=\s*(\S+)\s*$", text, re.M)


@dataclass(frozen=True)
class Failure:
    test: str
    message: str                # the junit message: exception type and text

    @property
    def first_line(self) -> str:
        line = self.message.strip().splitlines()[0] if self.message.strip() else "?"
        return line[:200]


@dataclass(frozen=True)
class Outcome:
    row: Row
    ran: int
    failed: tuple[Failure, ...]

    @property
    def right(self) -> tuple[Failure, ...]:
        return tuple(f for f in self.failed if self.row.shows_symptom(f.message))

    @property
    def wrong(self) -> tuple[Failure, ...]:
        return tuple(f for f in self.failed if not self.row.shows_symptom(f.message))

    @property
    def verdict(self) -> str:
        if self.ran != len(self.row.tests):
            return f"RAN {self.ran} OF {len(self.row.tests)} TESTS"
        if not self.failed:
            return "NOT CAUGHT"
        if self.wrong:
            return "CAUGHT FOR THE WRONG REASON"
        return "caught"

    @property
    def caught(self) -> bool:
        """Caught for the right reason: every failure shows the symptom."""
        return self.verdict == "caught"


def _message(case: ET.Element) -> str | None:
    for tag in ("failure", "error"):
        el = case.find(tag)
        if el is not None:
            return (el.get("message") or el.text or tag).strip()
    return None


def _run_tests(tests: tuple[str, ...], switch: str | None, accel: str,
               workers: str = "0") -> tuple[int, tuple[Failure, ...]]:
    """Run tests against the kernel built with switch (None: the real one):
    how many ran, and each failure with its message."""
    build(switch)
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d) / "junit.xml"
        env = dict(os.environ, VIGIL_ACCEL=accel)
        env.pop("VIGIL_BREAK", None)
        if switch:
            env["VIGIL_BREAK"] = switch
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-n", workers, f"--junitxml={xml}", *tests],
                       cwd=ROOT, env=env, capture_output=True, text=True)
        cases = list(ET.parse(xml).getroot().iter("testcase")) if xml.exists() else []
    failed = []
    for case in cases:
        msg = _message(case)
        if msg is not None:
            failed.append(Failure(case.get("name", "?"), msg))
    return len(cases), tuple(failed)


def run_row(row: Row, accel: str) -> Outcome:
    ran, failed = _run_tests(row.tests, row.switch, accel)
    return Outcome(row, ran, failed)


def report(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        r = o.row
        lines.append(f"{r.switch:<11} {r.promise}: {r.mechanism}")
        lines.append(f"{'':<11} where: {'; '.join(map(str, r.where))}")
        lines.append(f"{'':<11} symptom: {r.symptom}  (sees /{r.sees}/)")
        lines.append(f"{'':<11} tests run: {o.ran}; {o.verdict}")
        for f in o.failed:
            mark = "symptom" if r.shows_symptom(f.message) else "WRONG REASON"
            lines.append(f"{'':<11}   [{mark}] {f.test}: {f.first_line}")
    return "\n".join(lines)


def _table(outcomes: list[Outcome], unbroken: tuple[Failure, ...]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Vigil's invariants: each mechanism, and what its tests see without it",
              show_lines=True)
    for col in ("promise", "mechanism (where)", "switch", "symptom", "tests", "with it",
                "without it"):
        t.add_column(col, overflow="fold")
    bad = {f.test for f in unbroken}
    for o in outcomes:
        names = [x.split("::")[-1] for x in o.row.tests]
        with_it = "FAIL: " + ", ".join(n for n in names if n in bad) if bad & set(names) \
            else f"pass ({len(names)}/{len(names)})"
        seen = "; ".join(f"{f.test}: {f.first_line}" for f in o.failed)
        without = f"{o.verdict}" + (f": {seen}" if seen else "")
        where = "\n".join(map(str, o.row.where))
        t.add_row(o.row.promise, f"{o.row.mechanism}\n({where})", o.row.switch,
                  escape(o.row.symptom), escape("\n".join(names)), escape(with_it),
                  escape(without))
    Console(width=220).print(t)


DOC = ROOT / "docs" / "invariants.md"
DOC_BEGIN = "<!-- matrix: generated by `python -m harness.matrix --doc`; do not edit -->"
DOC_END = "<!-- matrix: end -->"


def promises(doc: str | None = None) -> list[str]:
    """The promises: the level-2 headings of docs/invariants.md whose section
    states a **Promise.**, lower case (the vocabulary of INVARIANT(...) tags
    and of Row.promise)."""
    text = DOC.read_text() if doc is None else doc
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    return [s.split("\n", 1)[0].strip().lower() for s in sections
            if re.search(r"^\*\*Promise\.\*\*", s, re.M)]


def doc_table(doc: str | None = None) -> str:
    """The matrix as it stands in docs/invariants.md: each promise, its rows
    and each row's symptom."""
    order = promises(doc)
    rows = sorted(ROWS, key=lambda r: (order.index(r.promise) if r.promise in order
                                       else len(order), r.switch))
    out = [DOC_BEGIN, "", "| promise | switch | mechanism it removes | where | "
           "symptom: what the tests see without it |", "|---|---|---|---|---|"]
    for r in rows:
        where = "; ".join(f"`{w.file}`: " + ", ".join(f"`{f}`" for f in w.functions)
                          for w in r.where)
        out.append(f"| {r.promise} | `{r.switch}` | {r.mechanism} | {where} | {r.symptom} |")
    return "\n".join(out + ["", DOC_END])


def write_doc() -> None:
    text = DOC.read_text()
    a, b = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    DOC.write_text(text[:a] + doc_table(text) + text[b:])


def main(argv: list[str]) -> int:
    if argv == ["--doc"]:
        write_doc()
        return 0
    jobs = int(os.environ.get("VIGIL_MATRIX_JOBS", "2"))
    unknown = set(argv) - {r.switch for r in ROWS}
    if unknown:
        print(f"unknown switch(es): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    default = build()
    accel = accel_mod.choose(default)
    rows = [r for r in ROWS if not argv or r.switch in argv]
    # With every mechanism in place, the same tests pass (all at once).
    every = tuple(dict.fromkeys(t for r in rows for t in r.tests))
    ran, unbroken = _run_tests(every, None, accel, workers=str(jobs))
    for r in rows:                          # build serially (make holds a lock anyway)
        build(r.switch)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(lambda r: run_row(r, accel), rows))
    _table(outcomes, unbroken)
    wrong = [o.row.switch for o in outcomes if o.verdict == "CAUGHT FOR THE WRONG REASON"]
    print(f"unbroken kernel: {ran - len(unbroken)}/{ran} passed; "
          f"{sum(o.caught for o in outcomes)}/{len(outcomes)} switches caught for the right "
          f"reason ({accel.upper()})" + (f"; wrong reason: {', '.join(wrong)}" if wrong else ""))
    ok = ran == len(every) and not unbroken and all(o.caught for o in outcomes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
