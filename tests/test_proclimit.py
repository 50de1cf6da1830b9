"""The process limit Vigil reports is the one it enforces (msgstress01
sizes itself by it): /proc/sys/kernel/threads-max is Linux's rule (kernel
stacks in at most an eighth of memory, RAM / 128 KiB, at least 20) within
the process table's 4000 slots, fork says EAGAIN exactly when the threads
alive reach it, init's RLIMIT_NPROC is half of it, pid_max is where pids
come round. The program is user/tests/procmax.c."""

from __future__ import annotations

import re

import pytest

NPROC = 4000  # kernel/proc/proc.h: the table's slots


@pytest.mark.invariant("memory under pressure")
def test_fork_stops_at_threads_max_with_eagain_and_reports_it_truly(vigil) -> None:
    """Children forked until fork fails: EAGAIN when the threads alive (the
    Threads: lines of every /proc/PID/status, as LTP counts them) equal
    threads-max, which is min(4000, max(20, MemTotal / 128 KiB)); all are
    reaped and a fork works again. (128 MiB: about a thousand children.)"""
    run = vigil.program(["/bin/procmax"], timeout=400, mem="128M")
    out = run.output.replace("\r\n", "\n")
    assert "procmax: done" in out, out[-1500:]
    m = re.search(r"^threads-max (\d+) pid_max (\d+) MemTotal (\d+) kB$", out, re.M)
    assert m, out[-800:]
    tmax, pid_max, mem_kb = (int(x) for x in m.groups())
    want = min(NPROC, max(20, mem_kb // 128))
    assert abs(tmax - want) <= 1, f"threads-max {tmax}, Linux's rule gives {want} for {mem_kb} kB"
    assert pid_max == 4194304, out
    half = tmax // 2
    assert f"RLIMIT_NPROC {half} {half}" in out, f"init's RLIMIT_NPROC is not threads-max/2: {out}"
    before = int(re.search(r"^alive before (\d+)$", out, re.M).group(1))
    forked = re.search(r"^forked (\d+), then (.*)$", out, re.M)
    assert forked, out[-800:]
    n, then = int(forked.group(1)), forked.group(2)
    assert before + n <= tmax, (
        f"a fork past threads-max succeeded: {before} alive + {n} forked > threads-max {tmax} "
        f"({then})")
    assert then == "EAGAIN", f"fork failed with {then} after {n}, not EAGAIN at threads-max {tmax}"
    assert before + n == tmax, f"fork said EAGAIN at {before + n} threads, threads-max says {tmax}"
    at_limit = int(re.search(r"^alive at the limit (\d+)$", out, re.M).group(1))
    assert at_limit == tmax, \
        f"/proc shows {at_limit} threads alive at the limit, threads-max {tmax}"
    assert f"reaped {n}, fork after: ok" in out, out[-500:]
    assert run.status == 0
