"""ptrace(2) against bad input and bad timing (issue 16): Linux's errno or a
clean state, never a panic, a stuck tracee or lost memory.

user/tests/ptracebad.c attaches to pid 1, itself, its own thread and a
zombie; kills a tracer while its tracee sleeps in a syscall, sits in a
syscall stop, or has EXITKILL; kills tracees in a signal-delivery stop and
a group stop; and POKEs a tracee's read-only text. The host Linux runs the
same binary from the same tree and must print the same lines. Its fuzz mode
throws seeded random requests, addresses, data and pids at a stopped tracee
(and at itself and others); afterwards the tracee is reaped and the
kernel's frames and heap are back where they were after a warm-up round.
The suite samples one seed; VIGIL_PTRACE_FUZZ_SEED and _ROUNDS make a long
run."""

from __future__ import annotations

import os
import re

import pytest

from harness import debian
from harness.execute import run_on_host

PROG = "/usr/lib/vigil/bin/ptracebad"
_SEED = int(os.environ.get("VIGIL_PTRACE_FUZZ_SEED", "16"))
_ROUNDS = int(os.environ.get("VIGIL_PTRACE_FUZZ_ROUNDS", "400"))


@pytest.mark.invariant("isolation")
def test_ptrace_bad_targets_and_races_end_as_on_linux(vigil) -> None:
    """Same lines as the host; by name: a POKE into a tracee's read-only
    text stays the tracee's (its tracer, a fresh exec and the file keep the
    original: an isolation promise)."""
    guest = vigil.program([PROG], debian=True, timeout=200)
    tree = debian.image_tree(vigil.art.rootfs, vigil.tmp / "tree")
    host = run_on_host(tree, [PROG], debian=True, timeout=60)
    assert host.status == 0 and "done" in host.output, host.output[-2000:]
    leaked = [x for x in guest.output.splitlines()
              if x.startswith("poke:") and "POKED" in x and "tracee" not in x and "peek" not in x]
    assert not leaked, "a POKE into one process's text reached another or the file:\n" + \
        "\n".join(leaked)
    assert "poke: the file holds the original 1, the poked bytes 0" in guest.output, \
        guest.output[-1500:]
    g, h = guest.output.splitlines(), host.output.splitlines()
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, h, strict=False) if a != b]
    assert g == h, "ptrace's bad cases differ from Linux:\n" + "\n".join(diff[:8]) + \
        f"\n(vigil {len(g)} lines, linux {len(h)})"


@pytest.mark.invariant("kernel memory safety")
def test_random_ptrace_requests_leave_no_stuck_tracee_and_no_lost_memory(vigil) -> None:
    run = vigil.program(["/bin/ptracebad", "fuzz", str(_SEED), str(_ROUNDS)], timeout=240)
    assert f"fuzz seed {_SEED} rounds {_ROUNDS} done" in run.output, \
        f"the fuzz run did not finish (status {run.status}):\n{run.output[-1500:]}"
    for what in ("free frames", "heap bytes", "heap objects"):
        m = re.search(rf"^{what} before (.+) after (.+)$", run.output, re.M)
        assert m, run.output[-800:]
        assert m.group(1).strip() == m.group(2).strip(), \
            f"random ptrace requests leaked: {what} {m.group(1)} -> {m.group(2)}"
    assert run.status == 0
