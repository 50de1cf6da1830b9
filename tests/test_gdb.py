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

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.execute import ProgramRun
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
