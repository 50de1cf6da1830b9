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


def test_cpu_bound_processes_get_equal_shares(vigil) -> None:
    """4 spinners for 2 s each get 25% +- 30% of it, by the kernel's own
    accounting (wait4's rusage)."""
    run = vigil.program(["/bin/cpushare", "4", "2"], timeout=120)
    assert run.status == 0
    shares = [int(x) for x in re.findall(r"cpu_ms (\d+)", run.output)]
    assert len(shares) == 4
    mean = sum(shares) / 4
    assert mean > 300, f"children barely ran: {shares}"
    for s in shares:
        assert abs(s - mean) <= 0.3 * mean, f"unfair shares {shares}"
