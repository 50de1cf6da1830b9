"""INVARIANT: durability, on the disk contract. What fsync (or fdatasync)
acknowledged survives a power cut.

Killing QEMU proves little: the host's page cache keeps every write QEMU
made, flushed or not. A disk with a volatile write cache (virtio-blk says so
with VIRTIO_BLK_F_FLUSH) promises only this: after a power cut it holds the
writes it completed before the last FLUSH it completed, plus any subset of
the later ones. So the test records every write and FLUSH the disk sees
(QEMU's blklogwrites, harness/writelog.py), notes where the log stood the
moment the program said its fsync had returned, and rebuilds the disks a
power cut at that moment may leave: the writes up to the last FLUSH before
that point, with none, all, or seeded subsets of the writes after it. In
each, after e2fsck replays the journal, the file must be whole and e2fsck
must find nothing wrong; and Vigil, booted on the flushed state, must read
it back. The control runs the same program without the fsync: then the
same check must fail ("fsync'd bytes missing"), so it is not one that
cannot fail."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
from pathlib import Path

import pexpect
import pytest

from harness.crashstates import entry_offsets
from harness.image import debugfs_dump, fsck
from harness.qemu import Session, qemu_command
from harness.writelog import LOG_FLUSH, LogEntry, apply, blockdev_args, read_write_log

pytestmark = pytest.mark.invariant("durability")

SIZE = 200_000
SUBSETS = 4          # seeded subsets of the unflushed writes, besides none and all


def expected(n: int) -> bytes:
    """What /bin/fsyncer writes."""
    return bytes(((i * 31 + 7) & 0xFF) for i in range(n))


def power_cut_states(entries: list[LogEntry], upto: int,
                     seed: int = 1) -> list[tuple[str, list[LogEntry]]]:
    """The writes a disk may hold after a power cut once the first `upto`
    log entries have completed: everything to the last FLUSH among them,
    then none, all, or a seeded subset of the writes after it (in log
    order: a disk never lets an older write overwrite a newer one)."""
    done = entries[:upto]
    last = max((i for i, e in enumerate(done) if e.flags & LOG_FLUSH), default=-1)
    flushed, later = done[: last + 1], [e for e in done[last + 1:] if e.is_write]
    rng = random.Random(seed)
    states = [("flushed only", flushed), (f"flushed + all {len(later)} later", flushed + later)]
    for k in range(SUBSETS if later else 0):
        states.append((f"flushed + subset {k} of the later",
                       flushed + [e for e in later if rng.random() < 0.5]))
    return states


def promise_broken(initial: Path, writes: list[LogEntry], tmp: Path) -> str | None:
    """What is wrong with /scratch/f in the disk made of initial + writes
    (e2fsck replays its journal first), or None if it is whole."""
    disk = tmp / "state.img"
    shutil.copy(initial, disk)
    apply(disk, writes)
    subprocess.run(["e2fsck", "-fy", str(disk)], capture_output=True)
    ok, report = fsck(disk)
    if not ok:
        return "e2fsck -fn after the journal's replay: " + report[-400:]
    out = tmp / "f"
    out.unlink(missing_ok=True)
    got = debugfs_dump(disk, "/scratch/f", out)
    if got is None:
        return "fsync'd bytes missing: /scratch/f is not in the file system"
    want = expected(SIZE)
    if got != want:
        same = sum(1 for a, b in zip(got, want, strict=False) if a == b)
        return (f"fsync'd bytes missing: /scratch/f holds {len(got)} bytes, {same} of them as "
                f"written; fsync acknowledged {SIZE}")
    return None


def run_fsyncer(vigil, tmp: Path, how: str) -> tuple[Path, list[LogEntry], int]:
    """Boot with the disk behind blklogwrites, run fsyncer, note how far the
    log has got when it says its fsync returned, pull the plug. The initial
    disk, the log, and that point (entries completed)."""
    _, disk = vigil.scratch_disk(size_mb=32)
    initial = tmp / "initial.img"
    shutil.copy(disk, initial)
    log = tmp / "writes.log"
    at: list[int] = []
    vigil.crash_after(f"root=/dev/vda -- /bin/fsyncer /scratch/f {SIZE} {how}", r"synced\n",
                      blockdev_args(disk, log), on_line=lambda: at.append(log.stat().st_size))
    raw = log.read_bytes()
    entries = read_write_log(raw)
    upto = sum(1 for end in entry_offsets(raw, entries) if end <= at[0])
    return initial, entries, upto


@pytest.mark.parametrize("how", ["fsync", "fdatasync"])
def test_fsync_is_durable_under_the_disk_contract(vigil, tmp_path, how: str) -> None:
    initial, entries, upto = run_fsyncer(vigil, tmp_path, how)
    assert any(e.flags & LOG_FLUSH for e in entries[:upto]), f"{how} returned without any FLUSH"
    for name, writes in power_cut_states(entries, upto):
        broken = promise_broken(initial, writes, tmp_path)
        assert broken is None, f"{how} returned, then a power cut ({name}): {broken}"
    # Vigil itself recovers the flushed state and reads the file back.
    disk = tmp_path / "flushed.img"
    shutil.copy(initial, disk)
    apply(disk, power_cut_states(entries, upto)[0][1])
    run = vigil.program(["/bin/tree", "/scratch"], root_disk=disk)
    assert f"f 0644 {SIZE:>10}" in run.output, (
        f"fsync'd bytes missing: Vigil's recovery of the flushed state:\n{run.output[-1500:]}")


def test_the_disk_contract_check_fails_without_fsync(vigil, tmp_path) -> None:
    """The control: the same program, the same check, no fsync. The file's
    writes may sit in the disk's cache, and the check must say so."""
    initial, entries, upto = run_fsyncer(vigil, tmp_path, "nosync")
    broken = promise_broken(initial, power_cut_states(entries, upto)[0][1], tmp_path)
    assert broken and broken.startswith("fsync'd bytes missing"), (
        f"without fsync the flushed state still holds the whole file ({broken}): "
        "the check cannot fail")


class Monitor:
    """QEMU's QMP socket, for human-monitor commands (qemu-io on a node)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(120)      # a monitor that stops answering is an error, not a hang
        self.sock.connect(str(path))
        self.f = self.sock.makefile()
        self.f.readline()                               # the greeting
        self._call({"execute": "qmp_capabilities"})

    def _call(self, cmd: dict[str, object]) -> dict[str, object]:
        self.sock.sendall(json.dumps(cmd).encode() + b"\n")
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply or "error" in reply:
                assert "error" not in reply, reply
                return reply

    def hmp(self, line: str) -> None:
        self._call({"execute": "human-monitor-command", "arguments": {"command-line": line}})


HELD = 8     # seconds fsync is given to (wrongly) return while its FLUSH is held


def test_fsync_returns_only_after_the_disk_completed_its_flush(vigil, tmp_path) -> None:
    """block_flush waits for the device's completion. The disk sits on
    QEMU's blkdebug driver; once the program has written its file, the
    harness sets a breakpoint on the next flush reaching the disk
    (`break flush_to_disk`: blkdebug holds that request), lets the program
    fsync, and watches the console for HELD seconds: fsync must not return
    while the disk has not completed the FLUSH. Then the FLUSH is let go,
    and fsync must return. (With a sound kernel "synced" cannot appear while
    the FLUSH is held, however slow the machine; the seconds only give a
    broken one the time to show itself.)"""
    _, disk = vigil.scratch_disk(size_mb=32)
    sock = tmp_path / "qmp.sock"
    extra = ["-blockdev", f"driver=blkdebug,node-name=dbg,image.driver=file,"
             f"image.filename={disk}",
             "-blockdev", "driver=raw,node-name=top,file=dbg",
             "-device", "virtio-blk-pci,drive=top",
             "-qmp", f"unix:{sock},server=on,wait=off"]
    cmd = qemu_command(vigil.art, f"root=/dev/vda -- /bin/fsyncer /scratch/f {SIZE} fsync wait",
                       vigil.machine(extra=extra), initrd=vigil.art.initrd)
    with Session(cmd, tmp_path / "console.log") as s:
        s.expect(r"written\n", timeout=120)
        mon = Monitor(sock)
        mon.hmp('qemu-io top "break flush_to_disk held"')
        s.sendline("")                                 # fsync: its first FLUSH will be held
        early = s.child.expect([r"synced", pexpect.TIMEOUT], timeout=HELD) == 0
        # Judge before touching the monitor again: with the FLUSH still held,
        # a broken kernel's further I/O can leave QEMU's main loop waiting on
        # it, and the guest is killed (SIGKILL) on the way out anyway.
        assert not early, ("fsync returned while the disk still held its FLUSH: block_flush "
                           "did not wait for the device's completion")
        mon.hmp('qemu-io top "resume held"')
        s.expect(r"synced\n", timeout=120)
        s.kill()
