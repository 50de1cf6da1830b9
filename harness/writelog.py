"""QEMU's blklogwrites log (the dm-log-writes format): every write and
FLUSH the guest's disk saw, in completion order, with the data. Used to
check what a flush covered and to rebuild the disk as a crash would leave
it (see /work/shared/README.md for the format)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

LOG_MAGIC = 0x6A736677736872
LOG_FLUSH, LOG_FUA, LOG_DISCARD, LOG_MARK = 1, 2, 4, 8


@dataclass(frozen=True)
class LogEntry:
    sector: int
    nr_sectors: int
    flags: int
    data: bytes

    @property
    def sectors(self) -> range:
        return range(self.sector, self.sector + self.nr_sectors)

    @property
    def is_write(self) -> bool:
        return not self.flags & (LOG_FLUSH | LOG_DISCARD | LOG_MARK)


def read_write_log(raw: bytes, sectorsize: int = 512) -> list[LogEntry]:
    """Every entry, in completion order. QEMU writes the superblock (and
    its entry count) only on a flush, so a log without one has a zeroed
    superblock: read on to the end rather than trusting either."""
    magic, version, _nr_entries, logged_size = struct.unpack_from("<QQQI", raw, 0)
    if magic:
        assert magic == LOG_MAGIC and version == 1, "not a dm-log-writes log"
        sectorsize = logged_size
    entries, pos = [], sectorsize
    while pos + 32 <= len(raw):
        sector, nr, flags, _ = struct.unpack_from("<QQQQ", raw, pos)
        if not (sector or nr or flags):
            break
        pos += sectorsize
        nbytes = 0 if flags & LOG_DISCARD else nr * sectorsize
        entries.append(LogEntry(sector, nr, flags, raw[pos:pos + nbytes]))
        pos += nbytes
    return entries


def blockdev_args(image: Path, log: Path, sectorsize: int = 512) -> list[str]:
    """QEMU arguments for a virtio disk whose writes are recorded in log."""
    log.write_bytes(b"")                        # blklogwrites opens the log; it does not create it
    spec = ("driver=blklogwrites,node-name=lw0,discard=unmap,"
            f"file.driver=file,file.filename={image},file.discard=unmap,"
            f"log.driver=file,log.filename={log},log-sector-size={sectorsize}")
    return ["-blockdev", spec, "-device", "virtio-blk-pci,drive=lw0"]


def apply(image: Path, entries: list[LogEntry], sectorsize: int = 512) -> None:
    """Write the entries' data into image, in order (a replay)."""
    with open(image, "r+b") as f:
        for e in entries:
            if e.is_write:
                f.seek(e.sector * sectorsize)
                f.write(e.data)


def flushed_prefix(entries: list[LogEntry]) -> list[LogEntry]:
    """What a disk that keeps only flushed writes still has: everything up
    to the last FLUSH (later writes may all be lost)."""
    last = max((i for i, e in enumerate(entries) if e.flags & LOG_FLUSH), default=-1)
    return entries[: last + 1]
