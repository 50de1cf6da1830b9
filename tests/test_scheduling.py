"""INVARIANT: scheduling fairness. The timer preempts; CPU is shared."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.invariant("fairness")


def test_spinning_process_does_not_stop_others(vigil) -> None:
    """One spinner more than there are CPUs, each spinning 5 s without a
    syscall; the parent sleeps 100 ms and is back before any has finished
    (user/tests/spinner.c: an order of events, at any CPU count)."""
    run = vigil.program(["/bin/spinner"], timeout=120)
    m = re.search(r"spinner: (\d+) spinners on (\d+) CPUs; finished before the parent ran "
                  r"again: (\d+)", run.output)
    assert m, f"spinner never reported (status {run.status}): {run.output[-300:]!r}"
    n, cpus, finished = map(int, m.groups())
    assert n > cpus, f"{n} spinners do not oversubscribe {cpus} CPUs"
    assert finished == 0, (f"the parent did not run while the spinners spun: {finished} of {n} "
                           f"finished first (on {cpus} CPUs)")
    assert run.status == 0
    assert f"spinner: {n} killed by signal 9; parent ran" in run.output


def fair_shares(shares: list[int], cpus: int, wall_ms: int) -> None:
    """Each of N CPU-bound workers on M CPUs (N > M) got its share: within
    +-10% of the ideal share of the CPU time they got together (sum / N),
    and at least half of the wall-clock ideal M x wall / N (the lower bound:
    the CPUs were not left idle, nobody was starved wholesale). The upper
    bound on the sum only checks the accounting (a late wakeup of the
    parent stretches the run a little past the wall time)."""
    n = len(shares)
    assert n > cpus, f"{n} workers do not oversubscribe {cpus} CPUs"
    ideal = sum(shares) / n
    wall_ideal = cpus * wall_ms / n
    worst = max(shares, key=lambda s: abs(s - ideal))
    assert abs(worst - ideal) <= 0.10 * ideal, (
        f"unfair shares {shares} on {cpus} CPUs: {worst} ms is "
        f"{100 * (worst - ideal) / ideal:+.0f}% off the ideal {ideal:.0f} ms (limit +-10%)")
    assert min(shares) >= 0.5 * wall_ideal, (
        f"unfair shares {shares} on {cpus} CPUs: below half the wall-clock ideal "
        f"{wall_ideal:.0f} ms each")
    assert sum(shares) <= 1.5 * cpus * wall_ms, f"more CPU time than there was: {shares}"


def test_cpu_bound_processes_get_equal_shares(vigil) -> None:
    """2M+1 spinning processes on M CPUs (whatever VIGIL_SMP gives: always
    more than the CPUs, never a multiple of them) for 2 s each get an equal
    share by the kernel's own accounting (wait4's rusage): see fair_shares."""
    run = vigil.program(["/bin/cpushare", "0", "2"], timeout=120)
    assert run.status == 0, run.output[-300:]
    m = re.search(r"cpushare: (\d+) children on (\d+) CPUs", run.output)
    assert m, run.output[-300:]
    n, cpus = int(m.group(1)), int(m.group(2))
    shares = [int(x) for x in re.findall(r"cpu_ms (\d+)", run.output)]
    assert len(shares) == n, run.output[-300:]
    fair_shares(shares, cpus, 2000)


def test_realtime_threads_run_in_strict_priority_order(vigil) -> None:
    """On one CPU (an affinity mask: the same at any VIGIL_SMP), threads of
    SCHED_FIFO 30, 20, 10 and a SCHED_OTHER one, created in the opposite
    order while a FIFO-90 main runs, start and finish strictly by priority:
    a lower priority never runs while a higher one is runnable
    (user/tests/rtorder.c; each spins for many timer ticks)."""
    run = vigil.program(["/bin/rtorder"], timeout=120)
    m = re.search(r"rtorder: started ([\d ]+); finished ([\d ]+)", run.output)
    assert m, f"rtorder never reported (status {run.status}): {run.output[-300:]!r}"
    started, finished = m.group(1).split(), m.group(2).split()
    want = ["30", "20", "10", "0"]
    assert started == want and finished == want, (
        f"a lower priority ran while a higher one was runnable: started {started}, "
        f"finished {finished} (want {want})")
    assert run.status == 0
