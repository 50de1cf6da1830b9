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
