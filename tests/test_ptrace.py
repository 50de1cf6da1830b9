"""ptrace(2): one process watching and steering another (kernel/proc/ptrace.c).

The program user/tests/ptrace.c runs on Vigil and on the host Linux and must
print the same lines: exec's SIGTRAP, syscall stops with TRACESYSGOOD, a
skipped call (orig_rax -1), rewritten arguments, POKEDATA on read-only text
(through a private copy), TracerPid, process_vm_readv, Linux's errors, a
tracee killed in a stop and a tracer killed with an EXITKILL tracee.
The permission promise (a process traces only what it owns) is checked by
name: a uid-1000 process must not read a root process's memory."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.invariant("privilege")


def test_a_process_cannot_trace_what_it_does_not_own(vigil) -> None:
    """A uid-1000 process may neither attach to nor read the memory of a root
    process (EPERM, as Linux: man 2 ptrace, "Ptrace access mode checking")."""
    guest = vigil.program(["/bin/ptrace"])
    leaked = [x for x in guest.output.splitlines()
              if x.startswith("uid 1000:") and ("root-secret" in x or ": ok" in x)]
    assert not leaked, "an unprivileged tracer read a root process's memory:\n" + "\n".join(leaked)
    for what in ("attach root", "seize root", "process_vm_readv root"):
        assert f"uid 1000: {what}: EPERM" in guest.output, guest.output[-800:]


def test_tracing_stops_and_steers_a_tracee_as_linux_does(vigil) -> None:
    """Syscall-entry/exit stops, register and memory access, a skipped
    syscall and a rewritten argument: the same lines as on the host Linux."""
    guest = vigil.program(["/bin/ptrace"])
    host = vigil.host(["/bin/ptrace"])
    assert host.status == 0 and "skipped 1, rewrote 1, exit 7" in host.output, host.output
    assert guest.status == 0, guest.output[-800:]
    # The host runs it chrooted without /proc: TracerPid is Vigil's line alone.
    assert "TracerPid is parent: 1" in guest.output, guest.output[-800:]
    g = [x for x in guest.output.splitlines() if not x.startswith("TracerPid")]
    h = [x for x in host.output.splitlines() if not x.startswith("TracerPid")]
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, h, strict=False) if a != b]
    assert g == h, "ptrace differs from Linux:\n" + "\n".join(diff[:6])
