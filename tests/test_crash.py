"""INVARIANT: crash consistency. QEMU is killed (SIGKILL) at points during
a metadata-heavy workload; afterwards e2fsck's own journal replay gives a
clean file system, Vigil's recovery does too, and every promise made by
fsync before the crash holds."""

from __future__ import annotations

import random
import re
import shutil
import subprocess

import pytest
from test_durability import expected

from harness.image import debugfs_dump, disk_args, fsck
from harness.writelog import apply, blockdev_args, read_write_log

pytestmark = pytest.mark.invariant("durability")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_crash_anywhere_leaves_a_consistent_fs_and_keeps_fsynced_data(vigil, tmp_path, art,
                                                                       seed: int) -> None:
    rng = random.Random(seed)
    _, disk = vigil.scratch_disk(size_mb=32)
    stop_after = rng.randrange(2, 12)
    # Pull the plug somewhere in the step after checkpoint `stop_after`.
    output = vigil.crash_after("root=/dev/vda -- /bin/crashload /scratch 40",
                               rf"checkpoint {stop_after}\n", disk_args(disk),
                               delay=rng.random() * 0.05)
    last = max(int(x) for x in re.findall(r"checkpoint (\d+)", output))

    # e2fsck replays the journal itself (on a copy), and must then find nothing.
    copy = tmp_path / "e2fsck-replay.img"
    shutil.copy(disk, copy)
    subprocess.run(["e2fsck", "-fy", str(copy)], capture_output=True)
    ok, report = fsck(copy)
    assert ok, "after e2fsck's journal replay:\n" + report

    # Vigil recovers at mount; the promises hold; e2fsck agrees afterwards.
    run = vigil.program(["/bin/crashload", "check", "/scratch", str(last)], root_disk=disk)
    assert "check: ok" in run.output, run.output
    ok, report = fsck(disk)
    assert ok, "after Vigil's recovery:\n" + report


def _commit_blocks(entries) -> list[int]:
    """Indices of the writes that are JBD2 commit blocks."""
    magic = bytes.fromhex("c03b3998")
    return [i for i, e in enumerate(entries)
            if e.is_write and e.data[:4] == magic and e.data[4:8] == b"\0\0\0\2"]


def test_a_committed_transaction_is_replayed_by_vigil_and_by_e2fsck(vigil, tmp_path, art) -> None:
    """The disk as it is right after a commit block landed and before any
    checkpoint write: only the journal holds the transaction. Both Vigil's
    recovery and e2fsck's must bring the fsync'd file back."""
    _, disk = vigil.scratch_disk(size_mb=32)
    initial = tmp_path / "initial.img"
    shutil.copy(disk, initial)
    log = tmp_path / "writes.log"
    size = 50_000
    vigil.crash_after(f"root=/dev/vda -- /bin/fsyncer /scratch/f {size}", r"synced\n",
                      blockdev_args(disk, log))
    entries = read_write_log(log.read_bytes())
    commits = _commit_blocks(entries)
    assert commits, "no JBD2 commit block was ever written"
    state = tmp_path / "state.img"
    shutil.copy(initial, state)
    apply(state, entries[: commits[-1] + 1])
    header = subprocess.run(["dumpe2fs", "-h", str(state)], capture_output=True, text=True).stdout
    assert re.search(r"Journal start:\s+[1-9]", header), "the journal should hold the transaction"

    by_e2fsck = tmp_path / "e2fsck.img"
    shutil.copy(state, by_e2fsck)
    subprocess.run(["e2fsck", "-fy", str(by_e2fsck)], capture_output=True)
    ok, report = fsck(by_e2fsck)
    assert ok, report
    assert debugfs_dump(by_e2fsck, "/scratch/f", tmp_path / "f") == expected(size)

    run = vigil.program(["/bin/tree", "/scratch"], root_disk=state)
    assert re.search(r"journal: recovery done: [1-9]\d* transaction", run.console), run.console
    assert f"f 0644 {size:>10}" in run.output
    ok, report = fsck(state)
    assert ok, report
