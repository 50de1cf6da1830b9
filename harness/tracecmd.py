"""`./vigil trace`: run a program on Vigil under `/bin/schedtrace run`
(user/tests/schedtrace.c), stream its output without the trace's dump
lines, and hand back the trace (harness/trace.py) to summarise and draw."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from . import symbols
from . import trace as T
from .build import Artifacts
from .execute import debian_root, make_initrd, parse_console
from .image import disk_args
from .qemu import Machine, Session, qemu_command

WRAPPER = {True: "/bin/schedtrace", False: "/usr/lib/vigil/bin/schedtrace"}   # by initrd


@dataclass(frozen=True)
class Traced:
    output: str             # the program's output, without the dump
    status: int | None      # its exit status (None: Vigil failed)
    trace: T.Trace | None
    error: str = ""         # why there is no trace


def resolver(art: Artifacts) -> T.Resolver:
    """Kernel address -> function name, from the kernel that ran."""
    syms = symbols.load(art.kernel_elf)

    def resolve(addr: int) -> str | None:
        r = syms.resolve(addr)
        return r[0] if r else None

    return resolve


class _Filter:
    """Show the console on stdout, less the dump's lines."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.partial = b""

    def write(self, b: bytes) -> None:
        self.inner.write(b)
        lines = (self.partial + b.replace(b"\r", b"")).split(b"\n")
        self.partial = lines.pop()
        for x in lines:
            if not x.startswith((b"schedtrace: data ", b"schedtrace: end ")):
                sys.stdout.buffer.write(x + b"\n")
        sys.stdout.flush()

    def flush(self) -> None:
        self.inner.flush()


def run_traced(art: Artifacts, machine: Machine, argv: list[str], files: dict[str, Path],
               initrd: bool, timeout: float, show: bool = True) -> Traced:
    """Boot Vigil (the initrd, or a fresh copy of the Debian root) running
    argv under the trace wrapper; files are staged into the root."""
    wrapped = [WRAPPER[initrd], "run", *argv]
    with tempfile.TemporaryDirectory() as d:
        if initrd:
            image = make_initrd(art, Path(d) / "initrd.cpio", wrapped, dict(files))
            cmd = qemu_command(art, "", machine, initrd=image)
        else:
            disk = debian_root(art, Path(d) / "root.img", wrapped, dict(files))
            machine = replace(machine, extra=[*machine.extra, *disk_args(disk)])
            cmd = qemu_command(art, "root=/dev/vda", machine, initrd=art.initrd)
        with Session(cmd, Path(d) / "console.log") as s:
            if show:
                s.child.logfile_read = _Filter(s.child.logfile_read)
            ex = s.wait_exit(timeout)
            output, status, _ = parse_console(s.output)
    if ex.kind != "ok":
        status = None
    try:
        trace = T.parse(T.from_console(output))
    except T.TraceError as e:
        return Traced(T.without_dump(output), status, None, str(e))
    return Traced(T.without_dump(output), status, trace)


def summary(t: T.Trace) -> str:
    switches = sum(e.kind == "switch" for e in t.events)
    threads = len({e.tid for e in t.events if e.kind in ("new", "thread")})
    span = t.ms(t.tsc_now)
    lost = f", {t.lost} lost (the ring holds {t.capacity})" if t.lost > 0 else ""
    return (f"trace: {len(t.events)} records{lost}: {switches} switches of {threads} threads "
            f"on {t.ncpu} CPUs over {span:.1f} ms")
