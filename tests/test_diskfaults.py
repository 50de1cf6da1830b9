"""INVARIANT: durability when the disk fails. A read the disk fails is EIO
for that read and nothing else; a write or FLUSH the disk fails during a
commit makes fsync fail (never a false success), aborts the journal and
leaves the file system read-only (writes EROFS, fsync EIO), as ext4 does
with errors=remount-ro; and nothing fsync acknowledged before is lost: a
boot on the same disk without faults replays the journal and reads every
such file back whole, and e2fsck finds the disk clean or fixable.

The disk sits behind QEMU's blkdebug driver (harness/blkdebug.py), whose
rules fail requests of one kind (read, write, FLUSH) from a given one on,
or those covering one sector. The workload (user/tests/diskfault.c) prints
a line for every fsync that returned 0; the check compares those lines
with what the disk holds after the reboot."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.blkdebug import Fault, block_of, blockdev_args, config, random_fault
from harness.image import debugfs_dump, fsck, make_ext3
from harness.qemu import Run

pytestmark = pytest.mark.invariant("durability")

FSYNCED = re.compile(r"^fsynced (\S+) (\d+) ([0-9a-f]{8})$", re.M)
HAVE = re.compile(r"^have (\S+) (\d+) ([0-9a-f]{8})$", re.M)


def boot_with_fault(vigil, disk: Path, fault: Fault, argv: list[str], timeout: float = 240) -> Run:
    conf = vigil.tmp / "blkdebug.conf"
    conf.write_text(config(fault))
    return vigil.boot("root=/dev/vda -- " + " ".join(argv), timeout=timeout, initrd=True,
                      extra=blockdev_args(disk, conf))


def fsynced(output: str) -> dict[str, tuple[int, str]]:
    return {m.group(1): (int(m.group(2)), m.group(3)) for m in FSYNCED.finditer(output)}


def promises_kept(vigil, disk: Path, promised: dict[str, tuple[int, str]], where: str) -> None:
    """Boot on disk without faults (Vigil's recovery replays the journal),
    read every file under `where`, and compare with what fsync promised;
    then e2fsck: clean, or clean once it has fixed what it found, with
    every promised file still whole as debugfs reads it."""
    run = vigil.program(["/bin/diskfault", "check", where], root_disk=disk, timeout=240)
    assert run.status == 0, (
        f"the boot after the fault failed (status {run.status}):\n{run.console[-2000:]}")
    have = {m.group(1): (int(m.group(2)), m.group(3)) for m in HAVE.finditer(run.output)}
    lost = {p: (want, have.get(p)) for p, want in promised.items() if have.get(p) != want}
    assert not lost, (
        "fsync'd bytes missing after the reboot (path: (size, sum) promised, found): "
        f"{sorted(lost.items())[:6]}")
    ok, report = fsck(disk)
    if not ok:
        fixed = vigil.tmp / "fixed.img"
        shutil.copy(disk, fixed)
        subprocess.run(["e2fsck", "-fy", str(fixed)], capture_output=True)
        ok2, report2 = fsck(fixed)
        assert ok2, (
            f"e2fsck cannot repair the disk after the fault: {report[-600:]}\n{report2[-600:]}")
        for path, (size, _) in promised.items():
            out = vigil.tmp / "dump"
            out.unlink(missing_ok=True)
            got = debugfs_dump(fixed, path, out)
            assert got is not None and len(got) == size, (
                f"fsync'd bytes missing once e2fsck repaired the disk: {path} "
                f"({None if got is None else len(got)} bytes, {size} promised); e2fsck said: "
                f"{report[-600:]}")


def test_a_data_block_the_disk_cannot_read_is_eio_for_that_read_alone(vigil, tmp_path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(vigil.art.rootfs, tree, symlinks=True)
    (tree / "scratch").mkdir()
    (tree / "scratch" / "data").write_bytes(bytes(range(256)) * 256)   # 64 KiB, 16 blocks
    disk = make_ext3(tree, tmp_path / "disk.img", 48)
    bad = block_of(disk, "/scratch/data", 5)
    r = boot_with_fault(vigil, disk, Fault("read", sector=bad * 8),
                        ["/bin/diskfault", "read", "/scratch/data", "/bin/hello", "/scratch/new"])
    assert r.exit.kind == "ok", f"the kernel did not survive a failed read ({r.exit.kind})"
    m = re.search(r"^read /scratch/data: (.*)$", r.output, re.M)
    assert m, f"the program did not report its read:\n{r.output[-1500:]}"
    assert m.group(1) == f"errno EIO after {5 * 4096}", (
        f"a read of a block the disk failed did not give EIO at that block: {m.group(1)}")
    assert "after: ok" in r.output, (
        f"one failed block broke more than its read: {r.output[-1200:]}")


def test_a_write_failing_in_a_commit_aborts_the_journal_and_keeps_every_fsync(vigil) -> None:
    _, disk = vigil.scratch_disk(size_mb=48)
    # A block of the log that the commits of the files below will reach.
    bad = block_of(disk, "<8>", 24)
    r = boot_with_fault(vigil, disk, Fault("write", sector=bad * 8),
                        ["/bin/diskfault", "commits", "/scratch", "40", "20000"])
    assert r.exit.kind == "ok", f"the kernel did not survive a failed commit ({r.exit.kind})"
    promised = fsynced(r.output)
    failed = re.search(r"^fsync (\S+): (\w+)$", r.output, re.M)
    assert failed, (
        f"fsync reported success for data the disk never took: all {len(promised)} fsyncs "
        "returned 0 although the disk failed a write of the journal they all went through")
    assert failed.group(2) == "EIO", f"a failed commit's fsync said {failed.group(2)}, not EIO"
    later = dict(re.findall(r"^later (\w+): (\w+)$", r.output, re.M))
    assert later.get("write") == "EROFS" and later.get("create") == "EROFS", (
        f"a commit after a failed one: the file system stayed writable ({later})")
    assert later.get("fsync") == "EIO", (
        f"fsync reported success for data the disk never took: after the abort it said "
        f"{later.get('fsync')}")
    assert re.search(r"journal: aborted", r.output), "no console line says the journal aborted"
    assert promised, "no file was fsync'd before the fault: the test proves nothing"
    promises_kept(vigil, disk, promised, "/scratch")


def test_a_flush_the_disk_fails_is_never_a_successful_fsync(vigil) -> None:
    _, disk = vigil.scratch_disk(size_mb=48)
    # Mounting commits (two FLUSHes), then each file's fsync: the 13th
    # FLUSH on falls in the program's sixth commit.
    r = boot_with_fault(vigil, disk, Fault("flush", after=12),
                        ["/bin/diskfault", "commits", "/scratch", "20", "20000"])
    assert r.exit.kind == "ok", f"the kernel did not survive a failed FLUSH ({r.exit.kind})"
    promised = fsynced(r.output)
    failed = re.search(r"^fsync (\S+): (\w+)$", r.output, re.M)
    assert failed, (
        f"fsync reported success for data the disk never took: all {len(promised)} fsyncs "
        "returned 0 although every FLUSH from the 13th on failed")
    assert failed.group(2) == "EIO", f"a failed FLUSH's fsync said {failed.group(2)}, not EIO"
    assert failed.group(1) not in promised
    later = dict(re.findall(r"^later (\w+): (\w+)$", r.output, re.M))
    assert later.get("fsync") == "EIO", (
        f"fsync reported success for data the disk never took: after the abort it said "
        f"{later.get('fsync')}")
    assert later.get("create") == "EROFS", f"a commit after a failed one could follow: {later}"
    promises_kept(vigil, disk, promised, "/scratch")


@pytest.mark.parametrize("seed", [4, 14, 17])
def test_random_disk_faults_never_panic_hang_or_lose_an_fsync(vigil, seed: int) -> None:
    fault = random_fault(random.Random(seed))
    _, disk = vigil.scratch_disk(size_mb=48)
    r = boot_with_fault(vigil, disk, fault,
                        ["/bin/diskfault", "churn", "/scratch", "150", str(seed)])
    assert r.exit.kind == "ok", f"{fault}: the kernel did not survive ({r.exit.kind})"
    assert "diskfault: done" in r.output or "init: killed by signal" in r.output, (
        f"{fault}: the workload neither finished nor died of a signal:\n{r.output[-1500:]}")
    promises_kept(vigil, disk, fsynced(r.output), "/scratch")
