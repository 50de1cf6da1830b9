"""INVARIANT: crash consistency. QEMU is killed (SIGKILL) at points during
a metadata-heavy workload; afterwards e2fsck's own journal replay gives a
clean file system, Vigil's recovery does too, and every promise made by
fsync before the crash holds."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time

import pytest

from harness.image import disk_args, fsck, make_ext3
from harness.qemu import Session, qemu_command
from harness.writelog import apply, blockdev_args, read_write_log

pytestmark = pytest.mark.invariant("durability")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_crash_anywhere_leaves_a_consistent_fs_and_keeps_fsynced_data(vigil, tmp_path, art,
                                                                       seed: int) -> None:
    rng = random.Random(seed)
    tree = tmp_path / "tree"
    shutil.copytree(art.rootfs, tree, symlinks=True)
    (tree / "s").mkdir()
    disk = make_ext3(tree, tmp_path / "disk.img", size_mb=32)
    stop_after = rng.randrange(2, 12)
    cmd = qemu_command(art, "root=/dev/vda -- /bin/crashload /s 40",
                       vigil.machine(extra=disk_args(disk)), initrd=art.initrd)
    with Session(cmd, tmp_path / "console-crash.log") as s:
        vigil.logs.append(s.log_path)
        s.expect(rf"checkpoint {stop_after}\n", timeout=120)
        time.sleep(rng.random() * 0.05)             # somewhere in the next step
        s.kill()
        seen = [int(x) for x in re.findall(r"checkpoint (\d+)", s.output)]
    last = max(seen)

    # e2fsck replays the journal itself (on a copy), and must then find nothing.
    copy = tmp_path / "e2fsck-replay.img"
    shutil.copy(disk, copy)
    subprocess.run(["e2fsck", "-fy", str(copy)], capture_output=True)
    ok, report = fsck(copy)
    assert ok, "after e2fsck's journal replay:\n" + report

    # Vigil recovers at mount; the promises hold; e2fsck agrees afterwards.
    run = vigil.program(["/bin/crashload", "check", "/s", str(last)], root_disk=disk)
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
    tree = tmp_path / "tree"
    shutil.copytree(art.rootfs, tree, symlinks=True)
    (tree / "scratch").mkdir()
    disk = make_ext3(tree, tmp_path / "disk.img", size_mb=32)
    initial = tmp_path / "initial.img"
    shutil.copy(disk, initial)
    log = tmp_path / "writes.log"
    size = 50_000
    cmd = qemu_command(art, f"root=/dev/vda -- /bin/fsyncer /scratch/f {size}",
                       vigil.machine(extra=blockdev_args(disk, log)), initrd=art.initrd)
    with Session(cmd, tmp_path / "console-record.log") as s:
        vigil.logs.append(s.log_path)
        s.expect(r"synced\n", timeout=120)
        s.kill()
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
    out = tmp_path / "f"
    subprocess.run(["debugfs", "-R", f"dump /scratch/f {out}", str(by_e2fsck)],
                   check=True, capture_output=True)
    assert out.read_bytes() == bytes(((i * 31 + 7) & 0xFF) for i in range(size))

    run = vigil.program(["/bin/tree", "/scratch"], root_disk=state)
    assert re.search(r"journal: recovery done: [1-9]\d* transaction", run.console), run.console
    assert f"f 0644 {size:>10}" in run.output
    ok, report = fsck(state)
    assert ok, report
