"""The disk driver (PCI scan + virtio-blk), checked from the host: what the
kernel reads is what Python put in the image, what the kernel writes lands
in the image and nowhere else, and block_flush() reaches the disk as a
FLUSH between the writes before it and the writes after it (recorded with
QEMU's blklogwrites driver, whose log format is dm-log-writes')."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from harness import ktap
from harness.writelog import LOG_DISCARD, LOG_FLUSH, LOG_MARK, blockdev_args, read_write_log

SECTOR = 512
SECTORS = 16384  # 8 MiB

# What kernel/drivers/blk_test.c writes (keep in step with its #defines).
FLUSHED_FIRST, FLUSHED_COUNT, AFTER_FLUSH = 64, 8, 72
# Booting with the suite is slow where kernel code is emulated (PVM's KVM).
SUITE_TIMEOUT = 300
KTEST_WRITES = [(64, 9), (300, 16), (320, 2), (4096, 2048), (SECTORS - 1, 1)]


def pattern(sector: int) -> bytes:
    """pattern_byte() of blk_test.c for one whole sector."""
    out = bytearray(sector.to_bytes(8, "little") + b"vigilblk")
    out += bytes((sector * 151 + i * 7 + (i >> 8) * 3 + 0x5A) & 0xFF for i in range(16, SECTOR))
    return bytes(out)


def random_image(path: Path, seed: int) -> bytes:
    data = random.Random(seed).randbytes(SECTORS * SECTOR)
    path.write_bytes(data)
    return data


def disk_args(img: Path) -> list[str]:
    return ["-drive", f"file={img},if=none,id=d0,format=raw,cache=writeback",
            "-device", "virtio-blk-pci,drive=d0"]


def first_bad_sector(got: bytes, want: bytes) -> int | None:
    for s in range(len(want) // SECTOR):
        if got[s * SECTOR:(s + 1) * SECTOR] != want[s * SECTOR:(s + 1) * SECTOR]:
            return s
    return None


_DUMP = re.compile(r"^blkdump (\d+) ([0-9a-f]{3}) ([0-9a-f]{64})$", re.M)


def dumped(output: str) -> dict[int, bytes]:
    """The sectors a blkdump= boot printed, by number."""
    parts: dict[int, dict[int, bytes]] = {}
    for sec, off, hexbytes in _DUMP.findall(output):
        parts.setdefault(int(sec), {})[int(off, 16)] = bytes.fromhex(hexbytes)
    return {s: b"".join(p[o] for o in sorted(p)) for s, p in parts.items()}


@pytest.mark.parametrize("first,count", [(0, 1), (777, 5), (SECTORS - 16, 16)])
def test_kernel_reads_what_the_host_wrote(vigil, tmp_path: Path, first: int, count: int) -> None:
    img = tmp_path / "disk.img"
    data = random_image(img, seed=first)
    r = vigil.boot(f"exit blkdump={first},{count}", extra=disk_args(img))
    assert r.exit.kind == "ok", r.exit
    assert f"blk: virtio-blk {SECTORS} sectors, flush supported" in r.output
    got = dumped(r.output)
    assert sorted(got) == list(range(first, first + count))
    for s in range(first, first + count):
        assert got[s] == data[s * SECTOR:(s + 1) * SECTOR], f"sector {s} differs"


def test_no_disk_is_reported(vigil) -> None:
    r = vigil.boot("exit")
    assert r.exit.kind == "ok", r.exit
    assert "blk: no disk" in r.output


def test_kernel_writes_land_in_the_image_and_nowhere_else(vigil, tmp_path: Path) -> None:
    img = tmp_path / "disk.img"
    before = random_image(img, seed=1)
    r = vigil.boot(f"ktest=blk.* blk_sectors={SECTORS}", extra=disk_args(img),
                   timeout=SUITE_TIMEOUT)
    report = ktap.parse(r.output)
    assert report.cases and all(c.ok for c in report.cases.values()), report.cases
    assert r.exit.kind == "ok", r.exit

    want = bytearray(before)
    for first, count in KTEST_WRITES:
        for s in range(first, first + count):
            want[s * SECTOR:(s + 1) * SECTOR] = pattern(s)
    after = img.read_bytes()
    assert len(after) == len(want)
    bad = first_bad_sector(after, bytes(want))
    if bad is not None:
        changed = first_bad_sector(after[bad * SECTOR:], before[bad * SECTOR:]) == 0
        pytest.fail(f"sector {bad} holds the wrong bytes ({'changed' if changed else 'unchanged'})")


# ---- the write log: harness/writelog.py ----


def test_flush_reaches_the_disk_between_the_writes(vigil, tmp_path: Path) -> None:
    img, log = tmp_path / "disk.img", tmp_path / "wlog.bin"
    random_image(img, seed=2)
    r = vigil.boot(f"ktest=blk.write_flush_read_back blk_sectors={SECTORS}",
                   extra=blockdev_args(img, log, SECTOR), timeout=SUITE_TIMEOUT)
    case = ktap.parse(r.output).cases.get("blk.write_flush_read_back")
    assert case and case.ok, r.output[-2000:]
    assert r.exit.kind == "ok", r.exit

    entries = read_write_log(log.read_bytes(), SECTOR)
    summary = [(e.sector, e.nr_sectors, e.flags) for e in entries]
    not_data = LOG_FLUSH | LOG_DISCARD | LOG_MARK
    writes = [i for i, e in enumerate(entries) if not e.flags & not_data]
    flushes = [i for i, e in enumerate(entries) if e.flags & LOG_FLUSH]

    def write_of(sector: int) -> int:
        hits = [i for i in writes if sector in entries[i].sectors]
        assert len(hits) == 1, f"sector {sector} written {len(hits)} times: {summary}"
        e = entries[hits[0]]
        off = (sector - e.sector) * SECTOR
        assert e.data[off:off + SECTOR] == pattern(sector), f"logged data of sector {sector}"
        return hits[0]

    last_before = max(write_of(s) for s in range(FLUSHED_FIRST, FLUSHED_FIRST + FLUSHED_COUNT))
    after = write_of(AFTER_FLUSH)
    assert any(last_before < f < after for f in flushes), (
        f"no FLUSH between the flushed writes (entry {last_before}) and the next one "
        f"(entry {after}): {summary}")
    # Nothing else was written: the case writes exactly these sectors.
    written = sorted({s for i in writes for s in entries[i].sectors})
    assert written == list(range(FLUSHED_FIRST, AFTER_FLUSH + 1)), summary
