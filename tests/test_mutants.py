"""Tests written because `./vigil mutate` found code no test looked at
(docs/mutation.md lists each survivor and what kills it). The program is
user/tests/mutants.c; each mode probes one promise at its edge."""

from __future__ import annotations

import pytest


@pytest.mark.invariant("isolation")
def test_prot_none_memory_cannot_be_read_by_the_process_or_through_a_syscall(vigil) -> None:
    argv = ["/bin/mutants", "protnone"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert guest.status == 0, f"mutants protnone ended with {guest.status}: {guest.output!r}"
    assert "read never-touched PROT_NONE: killed by signal 11" in guest.output
    assert guest.output == host.output


@pytest.mark.invariant("privilege")
def test_id_and_sigaction_argument_checks_match_linux(vigil) -> None:
    argv = ["/bin/mutants", "args"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert guest.status == 0 and guest.output == host.output


@pytest.mark.invariant("fairness")
def test_round_robin_turns_last_a_quantum_not_a_tick(vigil) -> None:
    # Not on the host: it spins two real-time threads for two seconds.
    run = vigil.program(["/bin/mutants", "rrturn"], smp=1)
    assert run.status == 0, f"mutants rrturn ended with {run.status}: {run.output!r}"
    assert "both ran: yes" in run.output, run.output
    assert "not a tick: yes" in run.output, run.output


@pytest.mark.invariant("privilege")
def test_kill_minus_one_skips_whom_the_caller_may_not_signal(vigil) -> None:
    # Signal 0 only: on the host it checks permissions and delivers nothing.
    argv = ["/bin/mutants", "killperm"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert "kill(parent, 0) = -1 Operation not permitted" in host.output, host.output
    assert guest.status == 0 and guest.output == host.output


@pytest.mark.invariant("isolation")
def test_the_process_cpu_clock_counts_only_this_process(vigil) -> None:
    argv = ["/bin/mutants", "cputime"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert "while a child spun: only mine" in host.output, host.output
    assert guest.status == 0 and guest.output == host.output


@pytest.mark.invariant("isolation")
def test_a_fork_that_runs_out_of_frames_fails_cleanly(vigil) -> None:
    # Vigil only (it reads VigilFreeFrames); 64 MiB so memory fills fast.
    run = vigil.program(["/bin/mutants", "forkoom"], mem="64M")
    assert run.status == 0, f"mutants forkoom ended with {run.status}: {run.output!r}"
    assert "fork with few frames left: Out of memory" in run.output, run.output
    assert "frames back: yes; fork works: yes" in run.output, run.output


def test_each_missing_syscall_is_reported_once(vigil) -> None:
    argv = ["/bin/mutants", "enosys"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert guest.output == host.output and guest.output.count("ENOSYS") == 5
    logged = [x.split(" (")[0] for x in guest.kernel_lines if "not implemented" in x]
    assert logged == [f"vigil: syscall {n} not implemented: {name}"
                      for n, name in ((183, "afs_syscall"), (184, "tuxcall"), (185, "security"))]
