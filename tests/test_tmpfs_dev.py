"""tmpfs and /dev (issue 15, the first piece): a writable /tmp in memory
that behaves as Linux's tmpfs does, device nodes with Linux's numbers, a
size limit that says ENOSPC, and every frame back after use. The program is
user/tests/tmpdev.c; where the host can run the same steps, the host's
output is the reference."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

_KERNEL_TROUBLE = re.compile(
    r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free|tmpfs: .* still counted", re.M)


def _host(art_rootfs: Path, argv: list[str]) -> str:
    """The static program run directly on the host (its real /dev)."""
    r = subprocess.run([str(art_rootfs / "bin" / "tmpdev"), *argv], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _vigil(vigil, argv: list[str], **kw: object) -> str:
    run = vigil.program(["/bin/tmpdev", *argv], timeout=120, **kw)
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    assert run.status == 0, run.output[-800:]
    return run.output.replace("\r\n", "\n")


def _diff(host: str, ours: str) -> list[str]:
    h, v = host.strip().splitlines(), ours.strip().splitlines()
    if len(h) != len(v):
        return [f"host has {len(h)} lines, vigil {len(v)}: vigil ends {v[-3:]!r}"]
    return [f"line {i}: host {a!r} vigil {b!r}"
            for i, (a, b) in enumerate(zip(h, v, strict=True)) if a != b]


def test_tmp_files_and_directories_behave_as_on_linux(vigil, tmp_path: Path) -> None:
    """Create, write with holes, truncate and regrow (zeros, never old
    bytes), hard links, symlinks, every rename rule (a directory into itself
    is EINVAL), rmdir/unlink errors, bad pointers (EFAULT), an unlinked file
    still readable while open, and removing entries while reading the
    directory: line for line what the host's Linux answers."""
    host = _host(vigil.art.rootfs, ["fs", str(tmp_path)])
    ours = _vigil(vigil, ["fs", "/tmp"])
    regrown = re.compile(r"^after regrow: .*$", re.M)
    h, v = regrown.search(host), regrown.search(ours)
    assert h and v and h.group(0) == v.group(0), (
        f"a file cut short and grown again shows its old bytes, not zeros: "
        f"host {h and h.group(0)!r}, vigil {v and v.group(0)!r}")
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:10])


def test_device_nodes_have_linux_numbers_and_behave_as_on_linux(vigil) -> None:
    """/dev/null, zero, full, random, urandom, tty and console are character
    devices 1:3, 1:5, 1:7, 1:8, 1:9, 5:0, 5:1; null reads nothing, zero reads
    zeros, full says ENOSPC, urandom never repeats and covers every byte
    value, bad pointers are EFAULT: as on the host."""
    host = _host(vigil.art.rootfs, ["dev"])
    ours = _vigil(vigil, ["dev"])
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:10])


def test_a_full_tmpfs_says_enospc_and_umount_waits_for_open_files(vigil) -> None:
    """A 64 KiB tmpfs takes at most 64 KiB and then says ENOSPC (for data and
    for new files); unlinking gives the room back; umount is EBUSY while a
    file is open and then succeeds, leaving the directory below."""
    out = _vigil(vigil, ["full", "/mnt"])
    assert "mount size=64k: 0" in out
    assert "mount bad option: EINVAL" in out
    m = re.search(r"^fill: stopped by (\S+) after (\d+) bytes \(at most 64k: (\w+)\)", out, re.M)
    assert m and m.group(1) == "ENOSPC" and m.group(3) == "yes", out
    assert int(m.group(2)) > 32768, f"the limit bites far too early: {m.group(2)} bytes"
    assert "create while full: ENOSPC" in out
    refill = re.search(r"^refill: (\S+) after (\d+) bytes", out, re.M)
    assert refill and refill.group(1) == "ENOSPC" and refill.group(2) == m.group(2), (
        f"unlink did not give all the room back: {out}")
    assert "umount while open: EBUSY" in out
    assert "umount: 0" in out
    assert "stat big after umount: ENOENT" in out


def test_boot_mounts_a_writable_tmpfs_on_tmp_run_and_dev_shm(vigil) -> None:
    """/tmp, /run and /dev/shm take files at boot (the root itself is the
    read-only initrd here), and /dev cannot go while /dev/shm is on it."""
    out = _vigil(vigil, ["full", "/mnt"])
    for d in ("/tmp", "/run", "/dev/shm"):
        assert f"{d} writable: yes" in out, out
    assert "umount /dev while /dev/shm is mounted: EBUSY" in out
    assert "rmdir /dev/null: ENOTDIR" in out


@pytest.mark.parametrize("rounds", [12])
def test_tmpfs_returns_every_frame_and_heap_block_after_files_and_umounts(vigil,
                                                                          rounds: int) -> None:
    """Files written (with a far page), truncated, linked, renamed and
    removed in /tmp, some removed while open, and whole tmpfs mounts filled
    and unmounted: free frames and the kernel heap are exactly back."""
    out = _vigil(vigil, ["leak", str(rounds)])

    def pair(what: str) -> tuple[str, str]:
        m = re.search(rf"^{what} before (.+) after (.+)$", out, re.M)
        assert m, f"no {what} report: {out[-300:]!r}"
        return m.group(1).strip(), m.group(2).strip()

    frames, heap, objects = pair("free frames"), pair("heap bytes"), pair("heap objects")
    assert frames[0] == frames[1], f"tmpfs leaked frames: free frames {frames[0]} -> {frames[1]}"
    assert heap[0] == heap[1], f"tmpfs leaked heap bytes: {heap[0]} -> {heap[1]} ({objects})"
    assert objects[0] == objects[1], f"tmpfs leaked heap blocks: {objects[0]} -> {objects[1]}"
