"""INVARIANT: crash consistency, under every crash the disk contract allows.

The crash-state explorer (harness/crashexplore.py) records every write and
FLUSH a workload makes Vigil issue, builds the disks a power cut may leave
(every prefix of the writes, and subsets of the writes between two
FLUSHes), and boots Vigil on each: its recovery must keep every promise the
workload had been given, and e2fsck must find the result (and its own
journal replay of the crash state) clean. The suite checks a seeded sample
of each workload's states; `./vigil crash WORKLOAD` checks them all."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from harness import crashexplore as ce
from harness.build import build
from harness.config import ROOT
from harness.crashstates import Builder, enumerate_states, sample
from harness.writelog import LOG_FLUSH, LogEntry

pytestmark = pytest.mark.invariant("durability")

SAMPLE = 24           # states per workload in the suite; `./vigil crash --all` checks all


def _w(sector: int, byte: int) -> LogEntry:
    return LogEntry(sector, 2, 0, bytes([byte]) * 1024)


FLUSH = LogEntry(0, 0, LOG_FLUSH, b"")


def test_a_write_after_an_fsync_obliges_the_state_to_hold_that_fsync() -> None:
    """The oracle sees a missing FLUSH: an fsync whose last write (2) shares
    its epoch with a write issued after the fsync returned (3). A state
    holding 3 but not 2 must be judged by checkpoint 0, whose write it lacks
    (judging it by the checkpoint before, as a prefix rule would, lets the
    lost fsync pass)."""
    log = [_w(0, 1), FLUSH, _w(2, 2), _w(4, 3), FLUSH]
    b = Builder(log, checkpoints=[3])              # fsync returned after write 2, unflushed
    assert b.passed(1, (3,)) == 0                   # the later write is there: 0 is owed
    assert b.passed(1, ()) == -1 and b.passed(1, (2,)) == 0
    states = enumerate_states(b)
    assert [s.subset for s in states if s.straddles] == [(3,)]
    assert sample(states, 1, seed=5)[0].subset == (3,)       # a sample takes it first
    # With the FLUSH where fsync owes it, no state can hold 3 without 2.
    ok = Builder([_w(0, 1), FLUSH, _w(2, 2), FLUSH, _w(4, 3), FLUSH], checkpoints=[4])
    states = enumerate_states(ok)
    assert {s.checkpoint for s in states if s.epoch == 2} == {0}
    assert not any(s.straddles for s in states)


def test_states_are_every_prefix_and_every_subset_of_a_small_epoch() -> None:
    """No QEMU: the state enumeration itself. Epoch 1 has 3 writes (every
    subset), epoch 2 has 10 (more than `exhaustive`: sampled), a write that
    puts back what a sector held gives no new image, and a checkpoint counts
    as passed only when every write before it is in the state."""
    log = [_w(0, 1), FLUSH, _w(2, 2), _w(4, 3), _w(6, 4), FLUSH,
           *[_w(10 + 2 * i, 10 + i) for i in range(9)], _w(2, 2), FLUSH]
    b = Builder(log, checkpoints=[2, 6])              # after the first and second FLUSH
    states = enumerate_states(b, seed=7, exhaustive=8, sampled=20)
    made = {(s.epoch, s.subset) for s in states}
    trio = (2, 3, 4)
    every = {tuple(i for i in trio if mask >> trio.index(i) & 1) for mask in range(1, 8)}
    assert {(1, sub) for sub in every} <= made       # (the empty one is epoch 0 whole)
    sampled = [s for s in states if s.epoch == 2 and s.kind == "subset"]
    assert 0 < len(sampled) <= 20
    # Prefixes: none and all of epoch 0, 3 of epoch 1, 9 of epoch 2 (the
    # tenth write changes nothing); each epoch's empty prefix is the last
    # epoch's full one.
    assert len([s for s in states if s.kind == "prefix"]) == 2 + 3 + 9
    assert len({(s.key, s.checkpoint) for s in states}) == len(states)
    assert b.passed(0, ()) == -1 and b.passed(0, (0,)) == 0
    assert b.passed(1, (2, 4)) == 0 and b.passed(1, trio) == 1
    # A write issued after checkpoint 1 returned (index 6 on) obliges the
    # state to hold checkpoint 1's writes, whatever it lacks before it.
    assert b.passed(2, ()) == 1 and b.passed(2, (6,)) == 1
    assert b.state(2, tuple(range(6, 16)), "x").key == b.state(2, tuple(range(6, 15)), "x").key
    picked = sample(states, 10, seed=1)
    assert len(picked) == 10 and picked == sample(states, 10, seed=1)
    assert {s.kind for s in picked} == {"prefix", "subset"}
    # However few states a checkpoint has, the sample passes every one.
    passed = {s.checkpoint for s in states if s.checkpoint >= 0}
    assert len(passed) == 2
    assert all({s.checkpoint for s in sample(states, 4, seed)} >= passed for seed in range(20))


@pytest.mark.parametrize("workload", list(ce.BUILTIN))
def test_journal_survives_every_allowed_crash_state(vigil, workload: str) -> None:
    """Each shipped workload: ACE's seq-1 and seq-2, an application log, and
    one per persistence promise (fdatasync, sync(2), fsync of a directory,
    rename over a file, blocks an uncommitted unlink freed on a full disk,
    the same with a write that runs out of blocks half-way (refill),
    a buffer cache that must evict while a transaction is open). A state
    that holds any write issued after an fsync returned is judged by that
    fsync's promise, so a FLUSH skipped shows as "fsync'd bytes missing"."""
    wl = ce.workload(workload, vigil.art)
    report = ce.explore(vigil.art, wl, vigil.tmp / "explore", vigil.machine(mem="128M"),
                        states=SAMPLE, seed=1)
    assert len(report.recording.checkpoints) >= 4, ce.summary(report)
    assert report.built > 200 and len(report.verdicts) == SAMPLE, ce.summary(report)
    # The sample reaches past the first checkpoints, where promises are checked.
    assert max(v.state.checkpoint for v in report.verdicts) >= 3
    failures = [f"{v.state.name}: {' / '.join(v.problems)}" for v in report.failures]
    assert not failures, (f"{len(failures)} of {SAMPLE} crash states broken; " + failures[0]
                          + "\n" + ce.summary(report) + "\n" + "\n".join(failures[1:]))


def test_explorer_finds_corruption_without_journal(vigil, tmp_path) -> None:
    """The same explorer on Vigil built with BREAK_JOURNAL (metadata goes
    straight home, as plain ext2 does): a power cut between two FLUSHes
    leaves a half-updated file system, and the explorer must say so; the
    command it prints for a failure must reproduce it."""
    broken = build("journal")
    wl = ce.workload("seq1", broken)
    report = ce.explore(broken, wl, tmp_path / "explore", vigil.machine(mem="128M"),
                        states=SAMPLE, seed=1, break_="journal")
    assert len(report.verdicts) == SAMPLE
    assert report.failures, "nothing found without the journal:\n" + ce.summary(report)
    inconsistent = [v for v in report.failures
                    if any("e2fsck -fn" in p or "crashcheck:" in p for p in v.problems)]
    assert inconsistent, [v.problems for v in report.failures]
    first = inconsistent[0]
    assert (first.kept / "crash.img").exists() and (first.kept / "expect.txt").exists()
    command = ce.reproduce_commands(first)[0].removeprefix("reproduce: ")
    env = {"VIGIL_ACCEL": vigil.accel, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
    again = subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, text=True,
                           env=env, timeout=300)
    assert again.returncode == 1, again.stdout + again.stderr
    assert first.problems[0].split(":")[0] in again.stdout
