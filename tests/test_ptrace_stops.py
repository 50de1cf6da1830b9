"""What a tracer and a parent hear of a child's stops, and what a traced
exec of a set-user-ID program may do (issue 16's stop semantics):
user/tests/ptracestop.c prints SIGCHLD's si_code, si_status and si_pid for
job-control stops, continues, exits, kills, ptrace's signal-delivery,
syscall, exec and INTERRUPT stops, EXITKILL at a tracer's normal exit, and
the effective uid a set-user-ID root program gets when uid 1000 runs it
untraced, traced through its own TRACEME (with a uid-1000 or a root
parent) and SEIZEd by root. The host Linux, running
the same binary from the same tree, must print the same lines."""

from __future__ import annotations

import pytest

from harness import debian
from harness.execute import run_on_host

PROG = "/usr/lib/vigil/bin/ptracestop"


@pytest.mark.invariant("privilege")
def test_sigchld_and_traced_setuid_exec_are_as_linux(vigil) -> None:
    guest = vigil.program([PROG], debian=True, timeout=200)
    tree = debian.image_tree(vigil.art.rootfs, vigil.tmp / "tree")
    host = run_on_host(tree, [PROG], debian=True, timeout=60)
    assert host.status == 0 and "done" in host.output, host.output[-2000:]
    assert "setuid program, untraced: uid 1000 euid 0 AT_SECURE 1" in host.output, host.output
    assert "setuid program, seized by root: uid 1000 euid 0" in host.output, host.output
    # The promise by name: an unprivileged tracer's tracee runs the
    # set-user-ID program without the privilege.
    assert "setuid program, traceme, uid-1000 parent: uid 1000 euid 1000" in guest.output, \
        "a program traced by uid 1000 ran set-user-ID root:\n" + guest.output[-1500:]
    g, h = guest.output.splitlines(), host.output.splitlines()
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, h, strict=False) if a != b]
    assert g == h, "stops differ from Linux:\n" + "\n".join(diff[:8]) + \
        f"\n(vigil {len(g)} lines, linux {len(h)})"
