"""Process handles and identities: pidfds, kcmp, clone3's exit signal and
setfsuid/setfsgid, each compared line for line with the host Linux
(user/tests/pidfds.c prints facts, never timings).

A pidfd names one process for good: once it is reaped the pidfd says
ESRCH, never reaching whoever got the number next; only the process's own
user (or root) may signal it or take its files; bad descriptors, flags,
pointers and signals get Linux's errno. The file-system ids decide file
access and new files' owners without touching the effective ids.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.invariant("privilege separation")


@pytest.mark.parametrize("smp", [1, 2], ids=lambda n: f"smp{n}")
def test_pidfds_kcmp_and_fs_ids_answer_as_linux_does(vigil, smp: int) -> None:
    argv = ["/bin/pidfds"]
    run = vigil.program(argv, smp=smp, timeout=90)
    assert run.status == 0, f"pidfds ended with status {run.status}: {run.output[-600:]!r}"
    host = vigil.host(argv)
    assert host.status == 0 and "pidfds: done" in host.output, host.output[-600:]
    guest = [x for x in run.output.splitlines() if not x.startswith(("vigil: ", "init: "))]
    want = host.output.splitlines()
    diff = [f"vigil: {g!r}\nlinux: {h!r}" for g, h in zip(guest, want, strict=False) if g != h]
    assert guest == want, "pidfds differs from Linux:\n" + "\n".join(diff[:8])
    assert "nobody: pidfd_send_signal(root, SIGUSR1): EPERM" in guest
    assert "pidfd_send_signal(reaped child): ESRCH" in guest
