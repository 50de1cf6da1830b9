"""Which tests guard which kernel file: the tests `./vigil mutate` runs
against a mutant of that file (pytest -x: the first failure kills it).

Order matters for speed only: the tests most likely to see a broken file
come first, so a killed mutant costs one or two boots. Every pattern that
matches a file adds its tests (duplicates dropped, order kept).
"""

from __future__ import annotations

from fnmatch import fnmatch

_ISOLATION = "tests/test_isolation.py"
_KTEST = "tests/test_ktest.py"
_PRIV = "tests/test_privilege.py"
_PROC = "tests/test_processes.py"
_CONC = "tests/test_concurrency.py"
_MUT = "tests/test_mutants.py"  # the tests written for survivors
_ARGS = f"{_MUT}::test_id_and_sigaction_argument_checks_match_linux"
_HARD = "tests/test_hardening.py"
_KILL = f"{_MUT}::test_kill_minus_one_skips_whom_the_caller_may_not_signal"

MAP: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kernel/mm/pmm.c", (_KTEST, _ISOLATION, "tests/test_leaks.py")),
    ("kernel/mm/kheap.c", (_KTEST, _ISOLATION, "tests/test_leaks.py")),
    ("kernel/mm/vmm.c", (_KTEST, _ISOLATION, "tests/test_faults.py", _PRIV)),
    ("kernel/mm/filemap.c", ("tests/test_mmap_file.py", "tests/test_leaks.py")),
    ("kernel/mm/vdso.c", ("tests/test_vdso.py",)),
    ("kernel/mm/reclaim.c", ("tests/test_memory_pressure.py",)),
    ("kernel/mm/swap.c", ("tests/test_memory_pressure.py",)),
    ("kernel/mm/userfaultfd.c", ("tests/test_userfaultfd.py",)),
    ("kernel/mm/uvm.c", (_ISOLATION, _KTEST, _PRIV, "tests/test_leaks.py",
                         f"{_MUT}::test_prot_none_memory_cannot_be_read_by_the_process_or_through_a_syscall",
                         f"{_MUT}::test_a_fork_that_runs_out_of_frames_fails_cleanly",
                         f"{_CONC}::test_other_cpus_stop_using_a_changed_mapping",
                         f"{_HARD}::test_write_from_a_prot_none_page_is_efault",
                         f"{_HARD}::test_brk_minus_one_leaves_the_break_alone")),
    ("kernel/proc/sched.c", (_KTEST, "tests/test_scheduling.py", _PROC,
                             f"{_CONC}::test_priority_inheritance_prevents_pathfinder_inversion",
                             f"{_CONC}::test_realtime_hogs_starve_a_lower_priority_mutex_holder",
                             f"{_CONC}::test_cpu_bound_threads_share_all_cpus_fairly",
                             f"{_MUT}::test_round_robin_turns_last_a_quantum_not_a_tick")),
    ("kernel/proc/futex.c", (f"{_CONC}::test_futex_ping_pong_never_loses_a_wakeup",
                             f"{_CONC}::test_futex_errors_match_linux",
                             f"{_CONC}::test_priority_inheritance_prevents_pathfinder_inversion",
                             f"{_CONC}::test_priority_inheritance_hands_over_by_priority_follows_chains_and_ends",
                             f"{_CONC}::test_mutex_keeps_a_shared_counter_exact_on_every_cpu",
                             f"{_CONC}::test_pthread_programs_match_linux",
                             f"{_HARD}::test_pi_futex_waiter_takes_over_from_an_owner_that_exited",
                             f"{_HARD}::test_huge_timeouts_saturate_instead_of_wrapping", _KTEST)),
    ("kernel/proc/sync.c", (f"{_CONC}::test_kernel_survives_thread_storm_with_lockdep_silent",
                            f"{_CONC}::test_spinlock_keeps_a_kernel_counter_exact_across_cpus",
                            f"{_CONC}::test_mutex_keeps_a_shared_counter_exact_on_every_cpu",
                            _PROC)),
    ("kernel/proc/*.c", (_PROC, _ISOLATION, _PRIV, _HARD)),
    ("kernel/proc/signal.c", (_ARGS, _KILL)),
    ("kernel/proc/exec.c", ("tests/test_exec.py", "tests/test_dynamic_elf.py")),
    ("kernel/proc/proc.c", (f"{_CONC}::test_thread_has_its_own_tid_and_shares_the_pid",
                            f"{_CONC}::test_exit_group_from_a_thread_ends_the_whole_process_with_its_status",
                            "tests/test_leaks.py", _KILL)),
    ("kernel/sys/*.c", (_PROC, _PRIV, _ARGS, _HARD)),
    ("kernel/sys/syscall.c", (f"{_MUT}::test_each_missing_syscall_is_reported_once",)),
    ("kernel/sys/sys_misc.c", (_KILL,
                               f"{_MUT}::test_the_process_cpu_clock_counts_only_this_process",
                               f"{_MUT}::test_only_root_may_reboot_and_unknown_commands_are_einval")),
    ("kernel/sys/sys_file.c", ("tests/test_ext2.py::test_unix_permissions_match_linux",
                               "tests/test_ext2.py::test_file_syscalls_match_linux_and_leave_fsck_clean",
                               "tests/test_durability.py")),
    ("kernel/sys/sys_mm.c", (_ISOLATION,)),
    ("kernel/sys/sys_limits.c", ("tests/test_syscalls_procs.py",)),
    ("kernel/proc/ptimer.c", ("tests/test_syscalls_procs.py",)),
    ("kernel/sys/sys_fsinfo.c", ("tests/test_syscalls_files.py",)),
    ("kernel/sys/sys_proc.c", (f"{_CONC}::test_futex_errors_match_linux",
                               f"{_CONC}::test_priority_inheritance_prevents_pathfinder_inversion",
                               "tests/test_scheduling.py")),
    ("kernel/fs/journal.c", (_KTEST, "tests/test_crash.py", "tests/test_durability.py",
                             "tests/test_crash_explorer.py",
                             "tests/test_ext2.py::test_file_syscalls_match_linux_and_leave_fsck_clean",
                             f"{_MUT}::test_recovery_refuses_a_tag_whose_home_is_one_past_the_end")),
    ("kernel/fs/lock.c", ("tests/test_syscalls_files.py",)),
    ("kernel/fs/tmpfs.c", ("tests/test_tmpfs_dev.py",)),
    ("kernel/fs/dev.c", ("tests/test_tmpfs_dev.py",)),
    ("kernel/fs/pseudofs.c", ("tests/test_procfs.py",)),
    ("kernel/fs/procfs.c", ("tests/test_procfs.py",)),
    ("kernel/fs/sysfs.c", ("tests/test_procfs.py",)),
    ("kernel/lib/random.c", ("tests/test_tmpfs_dev.py",)),
)


def tests_for(path: str, table: tuple[tuple[str, tuple[str, ...]], ...] = MAP) -> list[str]:
    """The tests to run against a mutant of path (repository-relative)."""
    out: list[str] = []
    for pattern, tests in table:
        if fnmatch(path, pattern):
            out += [t for t in tests if t not in out]
    return out
