"""The kernel's system calls, read from kernel/sys/syscalls.def, the one list
the kernel's dispatch table is generated from: number -> name, whether Vigil
implements it, and its lock class. The harness uses it to name syscalls in
its messages (a bare "syscall 183" means nothing to a reader) and, later, for
an strace; reading the same file as the C compiler keeps the two in step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.config import ROOT

DEF_FILE = ROOT / "kernel" / "sys" / "syscalls.def"

_LINE = re.compile(
    r"^\s*(?:SYSCALL\(\s*(\d+)\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*\)"
    r"|UNIMPL\(\s*(\d+)\s*,\s*(\w+)\s*\))\s*$"
)


@dataclass(frozen=True)
class Syscall:
    nr: int
    name: str
    handler: str | None  # None: Linux has it, Vigil answers -ENOSYS
    lock: str  # "KLOCK" or "NOLOCK"

    @property
    def implemented(self) -> bool:
        return self.handler is not None


def parse(text: str) -> list[Syscall]:
    """The entries of a syscalls.def text, in file order."""
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        if m.group(1) is not None:
            out.append(Syscall(int(m.group(1)), m.group(2), m.group(3), m.group(4)))
        else:
            out.append(Syscall(int(m.group(5)), m.group(6), None, "KLOCK"))
    return out


@lru_cache(maxsize=1)
def table(path: Path = DEF_FILE) -> dict[int, Syscall]:
    return {s.nr: s for s in parse(path.read_text())}


def name(nr: int) -> str:
    """"openat" for 257; "syscall 999" for a number Linux does not have."""
    s = table().get(nr)
    return s.name if s else f"syscall {nr}"


def describe(nr: int) -> str:
    """"257 (openat)", for messages."""
    s = table().get(nr)
    return f"{nr} ({s.name})" if s else str(nr)
