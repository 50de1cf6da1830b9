"""INVARIANT: durability. What fsync has acknowledged survives the machine
being killed on the spot (QEMU gets SIGKILL: no shutdown, no sync)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.image import debugfs_dump, disk_args, fsck
from harness.writelog import apply, blockdev_args, flushed_prefix, read_write_log

pytestmark = pytest.mark.invariant("durability")


def expected(n: int) -> bytes:
    """What /bin/fsyncer writes."""
    return bytes(((i * 31 + 7) & 0xFF) for i in range(n))


def test_fsync_survives_power_loss(vigil, tmp_path) -> None:
    _, disk = vigil.scratch_disk(size_mb=32)
    size = 300_000
    vigil.crash_after(f"root=/dev/vda -- /bin/fsyncer /scratch/f {size}", r"synced\n",
                      disk_args(disk))
    ok, report = fsck(disk)
    assert ok, report
    # debugfs reads the file straight from the image: no Vigil involved.
    assert debugfs_dump(disk, "/scratch/f", tmp_path / "f") == expected(size)
    # And Vigil itself reads it back on the next boot.
    run = vigil.program(["/bin/tree", "/scratch"], root_disk=disk)
    assert f"f 0644 {size:>10}" in run.output


def test_fsync_is_durable_under_the_disk_contract(vigil, tmp_path) -> None:
    """A disk may lose every write it was not told to FLUSH. Record every
    write and flush while a program fsyncs; keep only what a flush covered;
    the file must be there in full (after e2fsck replays the journal)."""
    _, disk = vigil.scratch_disk(size_mb=32)
    crashed = tmp_path / "crashed.img"
    shutil.copy(disk, crashed)                      # the disk as it was at boot
    log = tmp_path / "writes.log"
    size = 200_000
    vigil.crash_after(f"root=/dev/vda -- /bin/fsyncer /scratch/f {size}", r"synced\n",
                      blockdev_args(disk, log))
    apply(crashed, flushed_prefix(read_write_log(log.read_bytes())))
    subprocess.run(["e2fsck", "-fy", str(crashed)], capture_output=True)
    ok, report = fsck(crashed)
    assert ok, report
    assert debugfs_dump(crashed, "/scratch/f", tmp_path / "f") == expected(size), (
        "fsync returned, but the flushed writes do not hold the file")
