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

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.blkdebug import Fault, block_of, blockdev_args, config, indirect_block_of, random_fault
from harness.image import debugfs_dump, fsck, make_ext3
from harness.qemu import Run

pytestmark = pytest.mark.invariant("durability")

FSYNCED = re.compile(r"^fsynced (\S+) (\d+) ([0-9a-f]{8})$", re.M)
HAVE = re.compile(r"^have (\S+) (\d+) ([0-9a-f]{8})$", re.M)


def boot_with_fault(vigil, disk: Path, fault: Fault | tuple[Fault, ...], argv: list[str],
                    timeout: float = 240) -> Run:
    conf = vigil.tmp / "blkdebug.conf"
    conf.write_text(config(*fault) if isinstance(fault, tuple) else config(fault))
    return vigil.boot("root=/dev/vda -- " + " ".join(argv), timeout=timeout, initrd=True,
                      extra=blockdev_args(disk, conf))


def fsynced(output: str) -> dict[str, tuple[int, str]]:
    return {m.group(1): (int(m.group(2)), m.group(3)) for m in FSYNCED.finditer(output)}


def fnv(data: bytes) -> str:
    """diskfault's sum: FNV-1a, 32 bits."""
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return f"{h:08x}"


def kept_by_e2fsck(vigil, disk: Path, promised: dict[str, tuple[int, str]], what: str) -> None:
    """e2fsck -fy on a copy of disk (its own journal replay and repairs),
    then -fn must be clean and debugfs must read every promised file whole."""
    fixed = vigil.tmp / "fixed.img"
    shutil.copy(disk, fixed)
    first = subprocess.run(["e2fsck", "-fy", str(fixed)], capture_output=True, text=True)
    ok, report = fsck(fixed)
    assert ok, (f"e2fsck cannot repair the disk {what}: {first.stdout[-600:]}\n{report[-600:]}")
    for path, (size, sumhex) in promised.items():
        out = vigil.tmp / "dump"
        out.unlink(missing_ok=True)
        got = debugfs_dump(fixed, path, out)
        assert got is not None and (len(got), fnv(got)) == (size, sumhex), (
            f"fsync'd bytes missing once e2fsck repaired the disk {what}: {path} holds "
            f"{None if got is None else len(got)} bytes, {size} promised; e2fsck said: "
            f"{first.stdout[-600:]}")


def promises_kept(vigil, disk: Path, promised: dict[str, tuple[int, str]], where: str) -> None:
    """The disk as the fault left it, judged twice: by e2fsck (its own
    journal replay, on a copy) and by Vigil booted on it without faults (its
    recovery replays the journal): every file fsync promised reads back
    whole; e2fsck finds Vigil's result clean, or clean once it has fixed
    what it found, with every promised file still whole."""
    kept_by_e2fsck(vigil, disk, promised, "as the fault left it")
    run = vigil.program(["/bin/diskfault", "check", where], root_disk=disk, timeout=240)
    assert run.status == 0, (
        f"the boot after the fault failed (status {run.status}):\n{run.console[-2000:]}")
    have = {m.group(1): (int(m.group(2)), m.group(3)) for m in HAVE.finditer(run.output)}
    lost = {p: (want, have.get(p)) for p, want in promised.items() if have.get(p) != want}
    assert not lost, (
        "fsync'd bytes missing after the reboot (path: (size, sum) promised, found): "
        f"{sorted(lost.items())[:6]}")
    ok, _ = fsck(disk)
    if not ok:
        kept_by_e2fsck(vigil, disk, promised, "after Vigil's recovery")


def disk_with_files(vigil, tmp_path: Path) -> Path:
    """The initrd's tree with /scratch/data (64 KiB: 12 blocks, then 4 through
    an indirect block) and /scratch/sub/f."""
    tree = tmp_path / "tree"
    shutil.copytree(vigil.art.rootfs, tree, symlinks=True)
    (tree / "scratch" / "sub").mkdir(parents=True)
    (tree / "scratch" / "data").write_bytes(bytes(range(256)) * 256)
    (tree / "scratch" / "sub" / "f").write_bytes(b"f" * 100)
    return make_ext3(tree, tmp_path / "disk.img", 48)


def test_a_data_block_the_disk_cannot_read_is_eio_for_that_read_alone(vigil, tmp_path) -> None:
    disk = disk_with_files(vigil, tmp_path)
    bad = block_of(disk, "/scratch/data", 5)
    r = boot_with_fault(vigil, disk, Fault("read", sector=bad * 8),
                        ["/bin/diskfault", "read", "/scratch/new", "/bin/hello", "/scratch/data"])
    assert r.exit.kind == "ok", f"the kernel did not survive a failed read ({r.exit.kind})"
    m = re.search(r"^read /scratch/data: (.*)$", r.output, re.M)
    assert m, f"the program did not report its read:\n{r.output[-1500:]}"
    assert m.group(1) == f"errno EIO after {5 * 4096}", (
        f"a read of a block the disk failed did not give EIO at that block: {m.group(1)}")
    assert "after: ok" in r.output, (
        f"one failed block broke more than its read: {r.output[-1200:]}")


def test_metadata_the_disk_cannot_read_is_eio_and_the_file_system_goes_read_only(
        vigil, tmp_path) -> None:
    """A directory block and an indirect block that cannot be read: the
    lookup and the read past the twelfth block fail with EIO, other files
    read on, and the file system goes read-only (as ext4's errors=remount-ro
    does: an operation cut off half-way must never commit)."""
    disk = disk_with_files(vigil, tmp_path)
    faults = (Fault("read", sector=block_of(disk, "/scratch/sub", 0) * 8),
              Fault("read", sector=indirect_block_of(disk, "/scratch/data") * 8))
    r = boot_with_fault(vigil, disk, faults, ["/bin/diskfault", "read", "/scratch/new",
                                              "/bin/hello", "/scratch/sub/f", "/scratch/data"])
    assert r.exit.kind == "ok", f"the kernel did not survive a failed metadata read ({r.exit.kind})"
    got = dict(re.findall(r"^read (\S+): (.*)$", r.output, re.M))
    assert got.get("/scratch/sub/f") == "errno EIO after 0", (
        f"a lookup through a directory block the disk failed did not give EIO: {got}")
    assert got.get("/scratch/data") == f"errno EIO after {12 * 4096}", (
        f"a read through an indirect block the disk failed did not give EIO there: {got}")
    assert "error create /scratch/new: EROFS" in r.output, (
        "a commit after a failed one could follow: the file system stayed writable after a "
        f"metadata read failed:\n{r.output[-1200:]}")
    assert "after: read" not in r.output, f"other files stopped reading: {r.output[-1200:]}"
    promises_kept(vigil, disk, {}, "/scratch")


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


def seeds() -> list[int]:
    """Three seeds in the suite (a write failing once, reads failing for
    good, a FLUSH failing once); VIGIL_DISKFAULT_SEEDS=1-40 for a long run."""
    spec = os.environ.get("VIGIL_DISKFAULT_SEEDS")
    if not spec:
        return [4, 14, 17]
    lo, _, hi = spec.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


@pytest.mark.parametrize("seed", seeds())
def test_random_disk_faults_never_panic_hang_or_lose_an_fsync(vigil, seed: int) -> None:
    fault = random_fault(random.Random(seed))
    _, disk = vigil.scratch_disk(size_mb=48)
    r = boot_with_fault(vigil, disk, fault,
                        ["/bin/diskfault", "churn", "/scratch", "150", str(seed)])
    assert r.exit.kind == "ok", f"{fault}: the kernel did not survive ({r.exit.kind})"
    assert "diskfault: done" in r.output or "init: killed by signal" in r.output, (
        f"{fault}: the workload neither finished nor died of a signal:\n{r.output[-1500:]}")
    promises_kept(vigil, disk, fsynced(r.output), "/scratch")
