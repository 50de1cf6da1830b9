"""Disk faults for Vigil: QEMU's blkdebug driver between the virtio-blk disk
and its image, with rules that fail reads, writes or FLUSHes with EIO.

QEMU 7.2's blkdebug (checked with qemu-io on this machine): an
`[inject-error]` rule with `event = "none"` is active from the start; one
with an event becomes active when that event fires while blkdebug is in the
rule's state, and stays active (or, with `once = "on"`, fails one request
and is gone). `iotype` says which requests fail (read, write, flush),
`sector` narrows it to requests that cover that sector. `[set-state]` rules
move from state to state on events, so "after N flushes" is a chain of N
states counting `flush_to_disk`; the events that count reads and writes are
`read_aio` and `write_aio` (the raw format node above blkdebug reports
them). The N+1th request of the kind is the first to fail. The count may
be of another kind than the failure: "reads fail once N FLUSHes have gone
by" (the mount makes two, so a count of FLUSHes starts the faults after
the boot, whatever it reads and writes on the way; a failed read of init
is a panic on Linux too).

The device reports every failure to the guest (`werror=report`,
`rerror=report`: never stop the virtual machine), as VIRTIO_BLK_S_IOERR."""

from __future__ import annotations

import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

EIO = 5
EVENT = {"read": "read_aio", "write": "write_aio", "flush": "flush_to_disk"}


@dataclass(frozen=True)
class Fault:
    """Requests of one kind fail with errno: from the first one (after=0) or
    once `after` requests of the kind `count` (by default the same) have
    gone through; only those covering `sector` (not for flush); every one
    from then on, or just one (once)."""

    iotype: str
    after: int = 0
    count: str | None = None
    sector: int | None = None
    once: bool = False
    errno: int = EIO

    def __post_init__(self) -> None:
        if self.iotype not in EVENT or (self.count or self.iotype) not in EVENT:
            raise ValueError(f"iotype {self.iotype!r}, count {self.count!r}: read, write or flush")
        if self.sector is not None and self.iotype == "flush":
            raise ValueError("a FLUSH has no sector")


def _rule(kind: str, **fields: object) -> str:
    body = "".join(f'{k} = "{v}"\n' for k, v in fields.items())
    return f"[{kind}]\n{body}\n"


def config(*faults: Fault) -> str:
    """The blkdebug configuration file for some faults (one state chain:
    at most one of them counts requests)."""
    if sum(1 for f in faults if f.after) > 1:
        raise ValueError("blkdebug has one state: one counted fault at a time")
    text = ""
    for fault in faults:
        inject: dict[str, object] = {"iotype": fault.iotype, "errno": fault.errno}
        if fault.sector is not None:
            inject["sector"] = fault.sector
        if fault.once:
            inject["once"] = "on"
        if fault.after == 0:
            text += _rule("inject-error", event="none", **inject)
            continue
        event = EVENT[fault.count or fault.iotype]
        text += "".join(_rule("set-state", state=k, event=event, new_state=k + 1)
                        for k in range(1, fault.after + 1))
        text += _rule("inject-error", event=event, state=fault.after + 1, **inject)
    return text


def blockdev_args(image: Path, conf: Path) -> list[str]:
    """QEMU arguments: the image behind blkdebug (rules from conf), as the
    virtio-blk disk, with a write-back cache so FLUSH matters."""
    return ["-blockdev", f"driver=blkdebug,node-name=dbg,config={conf},"
            f"image.driver=file,image.filename={image}",
            "-blockdev", "driver=raw,node-name=top,file=dbg",
            "-device", "virtio-blk-pci,drive=top,werror=report,rerror=report"]


def random_fault(rng: random.Random) -> Fault:
    """A fault for the seeded fault-injection test: reads, writes or FLUSHes
    fail, from a point counted in FLUSHes after the mount's two (the churn
    workload makes about 150), for good or just once."""
    kind = rng.choice(["read", "write", "write", "flush"])
    return Fault(kind, after=rng.randint(3, 110), count="flush", once=rng.random() < 0.4)


def indirect_block_of(image: Path, path: str) -> int:
    """The (single) indirect block of path's block map, as debugfs reads it."""
    out = subprocess.run(["debugfs", "-R", f"stat {path}", str(image)],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"\(IND\):(\d+)", out)
    if not m:
        raise RuntimeError(f"debugfs stat {path}: no indirect block in {out!r}")
    return int(m.group(1))


def block_of(image: Path, path: str, lblk: int) -> int:
    """The disk block holding logical block lblk of path ("<8>" is the
    journal inode), as debugfs reads the image."""
    out = subprocess.run(["debugfs", "-R", f"bmap {path} {lblk}", str(image)],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^(\d+)\s*$", out, re.M)
    if not m or int(m.group(1)) == 0:
        raise RuntimeError(f"debugfs bmap {path} {lblk}: {out!r}")
    return int(m.group(1))
