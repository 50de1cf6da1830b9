"""`./vigil fuzz`: Debian's trinity inside Vigil, and the verdict on the kernel.

Why: Vigil's own syscall fuzzer (user/tests/sysfuzz.c) was written by the
people who wrote the kernel, and so knows what the kernel expects. trinity
is the field's: it knows each syscall's argument types, makes real file
descriptors, mappings and sockets for them, and has found bugs in Linux for
a decade. Whatever it does as an unprivileged user, the kernel must answer
with an errno or by ending only the offending process.

The run: a fresh copy of the Debian root, N CPUs (2 by default), and init
runs user/tests/fuzzrun.c (root), which warms the caches with a short
trinity run, reads the kernel's memory counters, runs trinity as nobody
with the seed for N ops (`trinity -q -l off -s SEED -N OPS -C CHILDREN`,
its default syscall set), kills what is left of nobody's, syncs, and reads
the counters again. The console streams to the terminal. The verdict, from
the console alone (`parse`, unit-tested):
  - zero panics and faults in kernel mode ("PANIC", "EXCEPTION"),
  - zero lockdep reports ("lockdep:"),
  - zero watchdog reports: a CPU stuck with the kernel lock or interrupts
    off, or a hung task (a thread in D state for hungtask=N seconds),
  - free frames and the kernel heap (bytes, and blocks per size class) back
    to the baseline, as tests/test_leaks.py demands of other workloads,
  - and the run ended: trinity exited, fuzzrun reported, init powered off.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .build import Artifacts
from .execute import debian_root
from .image import disk_args
from .qemu import Machine, Session, qemu_command

FUZZRUN = "/usr/lib/vigil/bin/fuzzrun"
# A hung task is reported after this many seconds in D state (the kernel's
# default is 30; the fuzz run uses its own, so a test can shorten it).
HUNGTASK_SECS = 30

_PANIC = re.compile(r"^.*(PANIC|EXCEPTION vector).*$", re.M)
_LOCKDEP = re.compile(r"^lockdep:.*$", re.M)
_WATCHDOG = re.compile(r"^watchdog: (CPU \d+ has|hung task:).*$", re.M)
_TRINITY = re.compile(r"^fuzzrun: trinity (exit status|killed by signal) (\d+)$", re.M)
_OPS = re.compile(r"^fuzzrun: ops (\d+) seconds ([\d.]+)$", re.M)
_LEFT = re.compile(r"^fuzzrun: processes of nobody left (\d+)$", re.M)
_STARTED = re.compile(r"trinity-c\d+|\[main\]")


def _pair(console: str, what: str) -> tuple[str, str] | None:
    m = re.search(rf"^{what} before (.+) after (.+)$", console, re.M)
    return (m.group(1).strip(), m.group(2).strip()) if m else None


@dataclass(frozen=True)
class Verdict:
    seed: int
    ops: int
    ended: bool  # fuzzrun reported and the guest powered off
    trinity: str  # "exit status 0", "killed by signal 9", or "" if never reported
    seconds: float  # trinity's run as the guest timed it (0: unknown)
    panics: list[str] = field(default_factory=list)
    lockdep: list[str] = field(default_factory=list)
    watchdog: list[str] = field(default_factory=list)
    frames: tuple[str, str] | None = None
    heap_bytes: tuple[str, str] | None = None
    heap_objects: tuple[str, str] | None = None
    nobody_left: int = -1

    @property
    def leaks(self) -> list[str]:
        out = []
        for name, pair in (("free frames", self.frames), ("heap bytes", self.heap_bytes),
                           ("heap objects", self.heap_objects)):
            if pair is None:
                out.append(f"{name}: not reported")
            elif pair[0] != pair[1]:
                out.append(f"{name}: {pair[0]} -> {pair[1]}")
        return out

    @property
    def hung(self) -> list[str]:
        return [x for x in self.watchdog if "hung task:" in x]

    @property
    def ok(self) -> bool:
        return (self.ended and self.trinity == "exit status 0" and not self.panics
                and not self.lockdep and not self.watchdog and not self.leaks
                and self.nobody_left == 0)

    def line(self) -> str:
        """The one-line verdict, with the figures."""
        rate = self.ops / self.seconds if self.seconds else 0.0
        leaks = "; ".join(self.leaks) or "frames and heap back to baseline"
        state = "PASS" if self.ok else "FAIL"
        ended = "" if self.ended else ", the run did not end"
        return (f"fuzz: {state}: seed {self.seed}: {self.ops} ops in {self.seconds:.0f} s "
                f"({rate:.0f} ops/s), trinity {self.trinity or 'did not report'}{ended}: "
                f"{len(self.panics)} panics, {len(self.lockdep)} lockdep reports, "
                f"{len(self.hung)} hung tasks, {len(self.watchdog) - len(self.hung)} stalls; "
                f"{leaks}")


def parse(console: str, seed: int, ops: int, powered_off: bool) -> Verdict:
    """The verdict from a fuzz run's console."""
    console = console.replace("\r", "")
    t = _TRINITY.search(console)
    o = _OPS.search(console)
    left = _LEFT.search(console)
    return Verdict(
        seed=seed, ops=int(o.group(1)) if o else ops,
        ended=bool(o) and powered_off,
        trinity=f"{t.group(1)} {t.group(2)}" if t else "",
        seconds=float(o.group(2)) if o else 0.0,
        panics=[m.group(0) for m in _PANIC.finditer(console)],
        lockdep=[m.group(0) for m in _LOCKDEP.finditer(console)],
        watchdog=[m.group(0) for m in _WATCHDOG.finditer(console)],
        frames=_pair(console, "free frames"), heap_bytes=_pair(console, "heap bytes"),
        heap_objects=_pair(console, "heap objects"),
        nobody_left=int(left.group(1)) if left else -1)


class _Tee:
    """Show the console on a stream while the session logs it."""

    def __init__(self, inner, out) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.out = inner, out

    def write(self, b: bytes) -> None:
        self.inner.write(b)
        self.out.write(b.replace(b"\r", b""))
        self.out.flush()

    def flush(self) -> None:
        self.inner.flush()


def run(art: Artifacts, machine: Machine, seed: int, ops: int, children: int,
        log_path: Path, timeout: float, warmup: int = 2000,
        hungtask: int = HUNGTASK_SECS, stream: bool = True) -> tuple[Verdict, float]:
    """One fuzz run; the verdict and the wall-clock seconds it took."""
    argv = [FUZZRUN, str(seed), str(ops), str(children), str(warmup)]
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as d:
        disk = debian_root(art, Path(d) / "root.img", argv)
        m = Machine(accel=machine.accel, mem=machine.mem, smp=machine.smp,
                    extra=[*machine.extra, *disk_args(disk)])
        cmd = qemu_command(art, f"root=/dev/vda hungtask={hungtask}", m, initrd=art.initrd)
        with Session(cmd, log_path) as s:
            if stream:
                s.child.logfile_read = _Tee(s.child.logfile_read, sys.stdout.buffer)
            ex = s.wait_exit(timeout)
            console = s.output
    wall = time.monotonic() - start
    return parse(console, seed, ops, ex.kind == "ok"), wall
