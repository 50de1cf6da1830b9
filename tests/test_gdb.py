"""What a debugger needs of ptrace(2) (kernel/proc/ptrace.c), and Debian's
gdb using it inside Vigil.

user/tests/ptdebug.c runs on Vigil and on the host Linux and must print the
same lines: an int3 breakpoint POKEd into text (SIGTRAP, SI_KERNEL), single
steps (TRAP_TRACE; a step over `syscall` reports at its exit, TRAP_BRKPT),
the regsets against GETREGS/GETFPREGS, SETFPREGS seen by the tracee, a
hardware watchpoint (DR0/DR7 through POKEUSER, TRAP_HWBKPT, DR6), and
Linux's errno for bad debug registers, bad iovecs and SINGLESTEP of a
tracee that is not stopped. The promise checked by name: a debug register
never arms a kernel address (privilege separation)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.debian import CACHE
from harness.execute import ProgramRun, run_on_host
from tests.conftest import Vigil

pytestmark = pytest.mark.invariant("privilege")


@dataclass(frozen=True)
class Both:
    vigil: ProgramRun
    host: ProgramRun


@pytest.fixture(scope="module")
def ptdebug(art, accel, tmp_path_factory) -> Both:
    tmp: Path = tmp_path_factory.mktemp("ptdebug")
    vigil = Vigil(art, accel, tmp, [])
    return Both(vigil.program(["/bin/ptdebug"]), vigil.host(["/bin/ptdebug"]))


def test_debug_registers_never_watch_kernel_memory(ptdebug: Both) -> None:
    """POKEUSER of DR0 with a kernel address (or the top user page, Linux's
    TASK_SIZE_MAX) is EINVAL and leaves DR0 as it was."""
    out = ptdebug.vigil.output
    armed = [x for x in out.splitlines()
             if x in ("dr0 kernel address: ok", "dr0 top user page: ok")]
    assert not armed, "a tracer arms a debug register on a kernel address:\n" + "\n".join(armed)
    assert "dr0 kernel address: EINVAL" in out, out[-1500:]


def test_breakpoints_steps_regsets_and_watchpoints_behave_as_on_linux(ptdebug: Both) -> None:
    host, guest = ptdebug.host, ptdebug.vigil
    assert host.status == 0 and "child exit 3" in host.output, host.output
    assert guest.status == 0, guest.output[-1500:]
    g, h = guest.output.splitlines(), host.output.splitlines()
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, h, strict=False) if a != b]
    assert g == h, "the debugger's view differs from Linux's:\n" + "\n".join(diff[:8])


# Debian's gdb on gdbme (user/tests/gdbme.c, -O0 -g): a breakpoint, a
# backtrace, variables, next and step, the registers gdb reads first (cs
# says 64-bit; mxcsr comes from GETFPREGS, no XSAVE), a hardware watchpoint
# (the debug registers) that fires twice, and the exit.
GDB_COMMANDS = ["break add_up", "run", "bt", "print n", "next", "next", "step", "bt",
                "print x", "print $cs", "print $mxcsr", "watch total", "continue",
                "continue", "continue"]
GDB_ARGV = ["/usr/bin/gdb", "-batch", "-nx",
            *(a for c in GDB_COMMANDS for a in ("-ex", c)), "/usr/lib/vigil/bin/gdbme"]
SOURCE = Path(__file__).parent.parent / "user" / "tests" / "gdbme.c"
SOURCE_IN_IMAGE = "/usr/src/vigil/user/tests/gdbme.c"   # the Makefile's -fdebug-prefix-map
_PID = re.compile(r"\(process \d+\)")


def _normalised(out: str) -> list[str]:
    """gdb's lines less the pid, and less the staged source's age (the
    guest's copy is written at boot time, newer than the program)."""
    return [_PID.sub("(process N)", x) for x in out.splitlines()
            if not x.startswith("warning: Source file is more recent than executable")]


def test_debian_gdb_breaks_steps_prints_and_watches_as_on_linux(art, accel, tmp_path) -> None:
    vigil = Vigil(art, accel, tmp_path, [])
    v = vigil.program(GDB_ARGV, {SOURCE_IN_IMAGE: SOURCE}, timeout=300, debian=True)
    tree = tmp_path / "tree"
    subprocess.run(["cp", "-a", "--reflink=auto", str(CACHE / "image-tree"), str(tree)],
                   check=True)
    (tree / SOURCE_IN_IMAGE[1:]).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SOURCE, tree / SOURCE_IN_IMAGE[1:])
    h = run_on_host(tree, GDB_ARGV, timeout=180, debian=True)
    assert h.status == 0 and "exited normally" in h.output, h.output
    assert v.status == 0, v.console[-3000:]
    g, hl = _normalised(v.output), _normalised(h.output)
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, hl, strict=False) if a != b]
    assert g == hl, "gdb on Vigil differs from gdb on Linux:\n" + "\n".join(diff[:8]) + \
        f"\n(vigil {len(g)} lines, linux {len(hl)})"
    assert "Hardware watchpoint 2: total" in v.output and "New value = 31" in v.output


# A dynamic Debian program: gdb finds ld.so by /proc/PID/auxv's AT_BASE,
# follows the libraries it loads (a pending breakpoint in libc resolves),
# and glibc's libthread_db attaches. Addresses are normalised: Vigil places
# mmaps below 0x7f0000000000, Linux near the stack.
DYN_COMMANDS = ["set breakpoint pending on", "break getenv", "run", "bt 2",
                "info sharedlibrary", "kill"]
DYN_ARGV = ["/usr/bin/gdb", "-batch", "-nx", *(a for c in DYN_COMMANDS for a in ("-ex", c)),
            "--args", "/usr/bin/printenv", "HOME"]
_ADDR = re.compile(r"0x[0-9a-f]{8,16}")


def test_debian_gdb_follows_a_dynamic_programs_libraries_as_on_linux(art, accel,
                                                                       tmp_path) -> None:
    vigil = Vigil(art, accel, tmp_path, [])
    v = vigil.program(DYN_ARGV, timeout=300, debian=True)
    tree = tmp_path / "tree"
    subprocess.run(["cp", "-a", "--reflink=auto", str(CACHE / "image-tree"), str(tree)],
                   check=True)
    h = run_on_host(tree, DYN_ARGV, timeout=180, debian=True)
    assert h.status == 0 and "in getenv ()" in h.output, h.output
    assert v.status == 0, v.console[-3000:]
    g = [_ADDR.sub("ADDR", x) for x in _normalised(v.output)]
    hl = [_ADDR.sub("ADDR", x) for x in _normalised(h.output)]
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, hl, strict=False) if a != b]
    assert g == hl, "gdb on Vigil differs from gdb on Linux:\n" + "\n".join(diff[:8]) + \
        f"\n(vigil {len(g)} lines, linux {len(hl)})"
