"""INVARIANT: durability. What fsync has acknowledged survives the machine
being killed on the spot (QEMU gets SIGKILL: no shutdown, no sync)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.image import disk_args, fsck, make_ext3
from harness.qemu import Session, qemu_command
from harness.writelog import apply, blockdev_args, flushed_prefix, read_write_log

pytestmark = pytest.mark.invariant("durability")


def _expected(n: int) -> bytes:
    return bytes(((i * 31 + 7) & 0xFF) for i in range(n))


def test_fsync_survives_power_loss(vigil, tmp_path, art) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(art.rootfs, tree, symlinks=True)
    (tree / "scratch").mkdir()
    disk = make_ext3(tree, tmp_path / "disk.img", size_mb=32)
    size = 300_000
    machine = vigil.machine(extra=disk_args(disk))
    cmd = qemu_command(art, f"root=/dev/vda -- /bin/fsyncer /scratch/f {size}", machine,
                       initrd=art.initrd)
    with Session(cmd, tmp_path / "console-crash.log") as s:
        vigil.logs.append(s.log_path)
        s.expect(r"synced\n", timeout=120)
        s.kill()                                    # the plug, pulled
    ok, report = fsck(disk)
    assert ok, report
    # debugfs reads the file straight from the image: no Vigil involved.
    out = tmp_path / "f"
    subprocess.run(["debugfs", "-R", f"dump /scratch/f {out}", str(disk)],
                   check=True, capture_output=True)
    assert out.read_bytes() == _expected(size)
    # And Vigil itself reads it back on the next boot.
    run = vigil.program(["/bin/tree", "/scratch"], root_disk=disk)
    assert f"f 0644 {size:>10}" in run.output


def test_fsync_is_durable_under_the_disk_contract(vigil, tmp_path, art) -> None:
    """A disk may lose every write it was not told to FLUSH. Record every
    write and flush while a program fsyncs; keep only what a flush covered;
    the file must be there in full (after e2fsck replays the journal)."""
    tree = tmp_path / "tree"
    shutil.copytree(art.rootfs, tree, symlinks=True)
    (tree / "scratch").mkdir()
    disk = make_ext3(tree, tmp_path / "disk.img", size_mb=32)
    crashed = tmp_path / "crashed.img"
    shutil.copy(disk, crashed)                      # the disk as it was at boot
    log = tmp_path / "writes.log"
    size = 200_000
    machine = vigil.machine(extra=blockdev_args(disk, log))
    cmd = qemu_command(art, f"root=/dev/vda -- /bin/fsyncer /scratch/f {size}", machine,
                       initrd=art.initrd)
    with Session(cmd, tmp_path / "console-record.log") as s:
        vigil.logs.append(s.log_path)
        s.expect(r"synced\n", timeout=120)
        s.kill()
    entries = read_write_log(log.read_bytes())
    apply(crashed, flushed_prefix(entries))
    subprocess.run(["e2fsck", "-fy", str(crashed)], capture_output=True)
    ok, report = fsck(crashed)
    assert ok, report
    out = tmp_path / "f"
    subprocess.run(["debugfs", "-R", f"dump /scratch/f {out}", str(crashed)],
                   check=True, capture_output=True)
    assert out.exists() and out.read_bytes() == _expected(size), (
        "fsync returned, but the flushed writes do not hold the file")
