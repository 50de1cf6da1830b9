"""Kernel memory safety (issue 14): no user action corrupts kernel memory or
stops the machine, and each answer is Linux's. Every case here once panicked
Vigil or answered wrongly; user/tests/harden.c does what an attacker's
program would, and says "ok" or "FAIL" per case. A kernel that breaks
panics instead, so besides the verdict the console must be free of kernel
trouble (an exception dump, a panic, a lockdep report)."""

from __future__ import annotations

import os
import re

import pytest

from harness.execute import ProgramRun
from harness.image import disk_args

_KERNEL_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)


def _trouble(run: ProgramRun) -> list[str]:
    return [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]


def _case(vigil, case: str, *args: str, smp: int = 1, **kw: object) -> ProgramRun:
    run = vigil.program(["/bin/harden", case, *args], smp=smp, timeout=90, **kw)
    assert not _trouble(run), f"the kernel broke: {_trouble(run)[:3]}"
    assert f"{case}: ok" in run.output, run.output[-600:] or "no verdict (the kernel died?)"
    assert run.status == 0
    return run


@pytest.mark.parametrize("smp", [1, 2], ids=lambda n: f"smp{n}")
def test_write_blocked_on_a_pipe_survives_a_sibling_closing_it(vigil, smp: int) -> None:
    """Case 1: the write returns what it wrote (65536), as on Linux."""
    _case(vigil, "pipe-close", smp=smp)


def test_pi_futex_waiter_takes_over_from_an_owner_that_exited(vigil) -> None:
    """Case 2: the owner exits and is freed while main sleeps in
    FUTEX_LOCK_PI; main gets the lock, no freed owner is touched."""
    _case(vigil, "pi-owner-exit", smp=2)


def test_brk_minus_one_leaves_the_break_alone(vigil) -> None:
    """Case 6: brk(-1) does not shrink the heap over the program's text."""
    _case(vigil, "brk-minus-one")


def test_write_from_a_prot_none_page_is_efault(vigil) -> None:
    """Case 7: a touched page made PROT_NONE is not readable by the kernel
    on the program's behalf either."""
    _case(vigil, "prot-none")


def test_huge_timeouts_saturate_instead_of_wrapping(vigil) -> None:
    """Case 8: nanosleep and futex timeouts of 2^64 ns and more sleep on."""
    _case(vigil, "sleep-forever")


def test_pid_arguments_mean_what_linux_says(vigil) -> None:
    """Case 9: kill(0, 0) and kill(-1, 0) are 0; kill and wait4 with INT_MIN
    are ESRCH and reap nothing; waitpid(0) waits for our group."""
    _case(vigil, "pid-args")


def test_getdents_after_seeking_a_directory_anywhere_gives_entries(vigil) -> None:
    """Case 10: lseek(dir, N) then getdents64 on ext2: entries (from the next
    whole entry), never EIO or a read past the end of the block."""
    _, disk = vigil.scratch_disk(size_mb=16, block_size=1024)
    _case(vigil, "dir-seek", "/bin", root_disk=disk)


# Races as tests: user/tests/lifetimes.c blocks threads in sleeping syscalls
# on each kind of object while siblings close, dup2, munmap, exit and exec.
# The suite samples a few seeded rounds; VIGIL_RACE_ROUNDS and
# VIGIL_RACE_SEED make the long run (e.g. 200 rounds, any seed).
_RACE_ROUNDS = int(os.environ.get("VIGIL_RACE_ROUNDS", "10"))
_RACE_SEED = int(os.environ.get("VIGIL_RACE_SEED", "14"))


@pytest.mark.parametrize("smp", [2, 4], ids=lambda n: f"smp{n}")
def test_sleeping_syscalls_survive_siblings_taking_their_objects_away(vigil, smp: int) -> None:
    """Pipe, regular file, directory, futex and mm: every result one Linux
    could give, and the kernel never reports a crash or a use-after-free."""
    _, disk = vigil.scratch_disk(size_mb=32, block_size=1024)
    seed = _RACE_SEED * 10 + smp
    argv = ["/bin/lifetimes", "all", str(seed), str(_RACE_ROUNDS), "/scratch"]
    run = vigil.program(argv, smp=smp, timeout=240, root_disk=disk)
    assert not _trouble(run), f"the kernel broke: {_trouble(run)[:3]}"
    summary = [x for x in run.output.splitlines() if " rounds, " in x]
    assert len(summary) == 5, run.output[-800:] or "no summary (the kernel died?)"
    bad = [x for x in run.output.splitlines() if "bad result:" in x or "child status" in x]
    assert not bad, bad[:5]
    assert run.status == 0


def test_pread_never_lends_the_file_offset_to_other_readers(vigil) -> None:
    """pread sleeping in the disk cache leaves the shared offset alone: a
    sibling's read() goes on from where it was."""
    _, disk = vigil.scratch_disk(size_mb=32)    # (the initrd's tree, about 9 MB, and 2 MB of file)
    _case(vigil, "pread-offset", "/scratch", smp=2, root_disk=disk)


def test_exec_unshares_the_descriptor_table_before_closing_cloexec(vigil) -> None:
    """A CLONE_FILES child's exec closes its close-on-exec descriptors, not
    the ones of the process it shared the table with."""
    _case(vigil, "exec-files")


def test_umount_is_ebusy_while_a_cwd_or_open_file_is_inside(vigil) -> None:
    _, disk = vigil.scratch_disk(size_mb=16)
    _case(vigil, "umount-busy", extra=disk_args(disk))


def test_lseek_positions_are_checked_as_linux_checks_them(vigil) -> None:
    """Negative or overflowing positions, and positions past the file
    system's largest file (INT64_MAX on ext2), are EINVAL."""
    _, disk = vigil.scratch_disk(size_mb=16)
    _case(vigil, "lseek-limits", "/scratch", root_disk=disk)


def test_interval_timers_and_alarm_deliver_sigalrm_as_on_linux(vigil) -> None:
    """alarm + pause, a repeating ITIMER_REAL, getitimer, alarm's return,
    EINVAL for bad arguments, ITIMER_VIRTUAL on user time, and SIGALRM's
    default action (death)."""
    _case(vigil, "itimer", smp=2)


def test_mprotect_growsdown_applies_to_the_stack_as_on_linux(vigil) -> None:
    """PROT_GROWSDOWN on a stack page succeeds (from the stack's start);
    on another region, or PROT_GROWSUP, it is EINVAL."""
    _case(vigil, "growsdown")


def test_memory_exhaustion_kills_with_sigkill_and_says_out_of_memory(vigil) -> None:
    """Linux's OOM killer: SIGKILL, and a line naming the cause (not a
    SIGSEGV reported as "not mapped"); the machine goes on."""
    run = _case(vigil, "oom", mem="128M")
    oom = [x for x in run.console.splitlines() if x.startswith("Out of memory: Killed process ")]
    assert oom, run.console[-800:]
    assert not [x for x in run.kernel_lines if "not mapped" in x], run.kernel_lines


def test_a_shared_futex_in_private_memory_belongs_to_its_process(vigil) -> None:
    """Keys are (address space, address), as Linux keys anonymous memory:
    a parent's FUTEX_WAKE does not wake its forked child's wait on the
    same address, and a frame freed by munmap carries no waiters along."""
    _case(vigil, "futex-fork", smp=2)
