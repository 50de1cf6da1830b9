"""INVARIANT: scheduling fairness, from the kernel's own account. The
scheduling trace (/proc/vigil/schedtrace, kernel/proc/schedtrace.c; read by
harness/trace.py) is the truth about what ran: its records must form one
consistent history that agrees with /proc's counters, and in it the Mars
Pathfinder story must be visible -- with priority inheritance the holder runs
at the waiter's priority and no hog runs in between; without it the hogs run
while high waits on low's lock.

Break switch `pi` (matrix row): pi_update lends nothing, and the trace shows
low left at its own priority while high waits on its lock."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

import pytest
from conftest import check_kernel_health

from harness import trace as T
from harness.build import build
from harness.config import ROOT
from harness.execute import ProgramRun, run_on_vigil
from harness.tracecmd import resolver

pytestmark = pytest.mark.invariant("fairness")


def _traced(vigil, argv: list[str], smp: int,  # type: ignore[no-untyped-def]
            art=None, timeout: float = 150) -> tuple[ProgramRun, T.Trace]:
    """Run argv under /bin/schedtrace run on smp CPUs; its output and trace."""
    art = art or vigil.art
    run = run_on_vigil(art, ["/bin/schedtrace", "run", *argv], vigil.machine(smp=smp),
                       vigil._log("trace"), timeout=timeout)
    check_kernel_health(run.console)
    assert run.status is not None, f"{argv[0]} never finished: {run.output[-400:]!r}"
    trace = T.parse(T.from_console(run.output))
    assert trace.lost == 0, f"the ring overflowed: {trace.lost} records lost"
    return run, trace


def test_the_trace_is_one_consistent_history_that_agrees_with_proc(vigil) -> None:
    """A known mix on 2 CPUs (`schedtrace work`: a sleeper, a pipe pair, two
    threads on a mutex and condvar, one spinner more than there are CPUs):
    each CPU's switches form one chain, no thread runs on two CPUs at once,
    every block is followed by a wakeup before the thread runs again, and
    each child's voluntary/involuntary switches in the trace are the counts
    its /proc/PID/task/PID/status gives once it has exited."""
    run, t = _traced(vigil, ["/bin/schedtrace", "work"], smp=2)
    assert run.status == 0, run.output[-600:]
    bad = T.problems(t)
    assert not bad, "the trace contradicts itself:\n" + "\n".join(bad[:20])
    counts = T.switch_counts(t)
    reported = [tuple(map(int, m.groups())) for m in
                re.finditer(r"(?:work|schedtrace): pid (\d+) voluntary (\d+) nonvoluntary (\d+)",
                            run.output)]
    assert len(reported) == 8, run.output[-800:]         # 7 children of work, and work itself
    for pid, vol, invol in reported:
        assert counts.get(pid) == (vol, invol), (
            f"pid {pid}: /proc says {vol} voluntary and {invol} involuntary switches, "
            f"the trace {counts.get(pid)}")
    assert sum(invol for _, _, invol in reported) > 0, "no spinner was ever preempted"
    resolve = resolver(vigil.art)
    kinds = {T.block_kind(e, resolve) for e in t.events if e.kind == "block"}
    assert {"sleep", "futex"} <= kinds, f"blocks seen: {kinds}"
    cpus = {e.cpu for e in t.events if e.kind == "switch"}
    assert cpus == {0, 1}, f"switches only on CPUs {cpus}"


def _pathfinder(vigil,  # type: ignore[no-untyped-def]
                art=None) -> tuple[T.Trace, int, int, list[int], list[T.PiWait]]:
    """pathfinder (PTHREAD_PRIO_INHERIT, hogs' budget 200M turns) on 2 CPUs:
    the trace, low's and high's tids, the hogs', and high's waits on low."""
    run, t = _traced(vigil, ["/bin/pathfinder", "inherit", "200"], smp=2, art=art)
    assert run.status == 0, run.output[-600:]
    by_prio: dict[int, list[int]] = {}
    for tid, p in t.base_prio.items():
        by_prio.setdefault(p, []).append(tid)
    assert len(by_prio.get(10, [])) == 1 and len(by_prio.get(30, [])) == 1, by_prio
    low, high, hogs = by_prio[10][0], by_prio[30][0], by_prio.get(20, [])
    assert len(hogs) == 2, f"hogs {hogs}"
    waits = [w for w in T.pi_waits(t) if w.waiter == high and w.owner == low]
    assert waits, "high never blocked on low's PI lock"
    return t, low, high, hogs, waits


def test_with_pi_the_holder_runs_at_the_waiters_priority_and_no_hog_runs_between(vigil) -> None:
    """While high (FIFO 30) is blocked on the PI mutex low (FIFO 10) holds,
    low's effective priority is 30, low runs at 30, no CPU switches to a hog
    (FIFO 20) while low waits for one, and it is low's unlock that wakes
    high. (On 2 CPUs a hog may keep the other CPU, or be switched in there
    while low runs: what may never happen is a hog chosen over low.)"""
    t, low, high, hogs, waits = _pathfinder(vigil)
    low_state = T.states(t, low)
    for w in waits:
        lent = T.prio_at(t, low, w.blocked.seq)
        assert lent == w.blocked.b, (
            f"low ({low}) was not lent high's priority {w.blocked.b} while high waited on its "
            f"lock: it ran at {lent}")
        ran = w.switched_in({low})
        assert ran and all(e.c == w.blocked.b for e in ran), (
            f"low did not run at priority {w.blocked.b} while high waited: {ran}")
        over_low = [e for e in w.switched_in(set(hogs)) if low_state[e.seq - 1] == "runnable"]
        assert not over_low, (
            f"a CPU switched to a hog while low waited for one at priority {lent}: {over_low}")
        assert w.woken is not None and w.woken.a == low, f"high was woken by {w.woken}"


def test_without_pi_the_hogs_run_while_high_waits_on_lows_lock(vigil) -> None:
    """The control, on the kernel built with BREAK=pi (nothing is lent):
    high blocks on low's lock, low stays at its own priority, and low does
    not run again until a hog has run out its budget and exited: the
    inversion the test above shows prevented."""
    t, low, high, hogs, waits = _pathfinder(vigil, art=build("pi"))
    w = waits[0]
    assert T.prio_at(t, low, w.blocked.seq) == 10, "the BREAK=pi kernel lent low a priority"
    raised = [e for e in w.between if e.kind == "prio" and e.tid == low]
    assert not raised, f"low's priority changed while high waited: {raised}"
    low_runs = [i for i, e in enumerate(w.between) if e.kind == "switch" and e.a == low]
    hog_exits = [i for i, e in enumerate(w.between)
                 if e.kind == "switch" and e.tid in hogs and e.arg0 in (T.ZOMBIE, T.DEAD)]
    assert hog_exits, "no hog finished while high waited on low's lock"
    # (a hog's exit may switch straight to low: one record)
    assert not low_runs or low_runs[0] >= hog_exits[0], (
        "low ran before any hog had finished, without a loan")


def test_reading_the_trace_with_bad_buffers_and_offsets_gets_errno(vigil) -> None:
    """Bad buffers, offsets, commands and modes on /proc/vigil/schedtrace get
    Linux's errno for such calls on a /proc file; off means no records."""
    run = vigil.program(["/bin/schedtrace", "errors"], timeout=120)
    assert run.status == 0, run.output[-600:]
    got = dict(re.findall(r"^errors: (.+): (.+)$", run.output, re.M))
    want = {"read into NULL": "EFAULT", "read into the kernel": "EFAULT",
            "pread at offset -1": "EINVAL", "lseek to -1": "EINVAL",
            "write to a read-only open": "EBADF", "pread past the end": "0",
            "write of a bad command": "EINVAL", "write of an empty command": "EINVAL",
            "write from NULL": "EFAULT", "write from the kernel": "EFAULT",
            "records while off": "0", "a header and whole records when on": "yes"}
    assert got == want


def test_vigil_trace_command_runs_a_program_and_draws_a_png(vigil, tmp_path) -> None:
    """`./vigil trace --plot out.png -- PROG` stages PROG, passes its exit
    status through, summarises the trace and draws it with matplotlib."""
    png = tmp_path / "timeline.png"
    prog = str(vigil.art.rootfs / "bin/schedtrace")
    env = {**os.environ, "VIGIL_ACCEL": vigil.accel}
    r = subprocess.run([sys.executable, "-m", "invoke", "trace", "--initrd", "--smp", "2",
                        "--plot", str(png), "--", prog, "work"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert re.search(r"^trace: \d+ records: \d+ switches", r.stdout, re.M), r.stdout[-2000:]
    assert "work: 7 children, 0 failed" in r.stdout and "schedtrace: data" not in r.stdout
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"matplotlib" in data[:4096].lower()


def test_the_parser_refuses_a_torn_or_foreign_trace() -> None:
    """harness/trace.py takes a header and whole records or says why not:
    a short file, another magic, a count the bytes do not hold, an unknown
    record type, a dump whose lines do not add up to its end line."""
    rec = T.RECORD.pack(100, 1, 0, T.RUNNABLE, 5, 6, 0, 0, 0)
    good = T.HEADER.pack(T.MAGIC, 32, 1, 10**9, 1, 8192, 1, 200, 1) + rec
    t = T.parse(good)
    assert [(e.kind, e.tid, e.a, e.seq) for e in t.events] == [("switch", 5, 6, 0)]
    assert T.switch_counts(t) == {5: (0, 1)}
    bad = {"short": good[:20], "magic": b"X" + good[1:], "count": good[:-1],
           "type": good[:T.HEADER.size] + T.RECORD.pack(100, 99, 0, 0, 5, 0, 0, 0, 0)}
    for what, data in bad.items():
        with pytest.raises(T.TraceError):
            T.parse(data)
            pytest.fail(f"parsed a trace with a bad {what}")
    line = base64.b64encode(good).decode()
    assert T.from_console(f"schedtrace: data {line}\nschedtrace: end {len(good)} bytes\n") == good
    with pytest.raises(T.TraceError):
        T.from_console(f"schedtrace: data {line}\nschedtrace: end {len(good) + 1} bytes\n")
    with pytest.raises(T.TraceError):
        T.from_console(f"schedtrace: data {line}\n")
