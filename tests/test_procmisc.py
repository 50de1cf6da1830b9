"""The smaller process calls (user/tests/procmisc.c): syslog(2),
get_robust_list, futex_waitv, unshare, vhangup, rt_tgsigqueueinfo and
RLIMIT_SIGPENDING, arch_prctl's CPUID, prctl's timer slack and TSC modes.
Every bad pointer, flag, id or size gets Linux's errno, and privileged
actions are refused to uid 65534 (EPERM): the lines are compared with the
host Linux. The device ioctls (the old termio ones on a pty, random(4)'s
entropy count) need Vigil's /dev and are checked there alone.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.invariant("privilege separation")

DEVICE_FACTS = [
    "ioctl(pty, TCGETA): ok", "ioctl(pty, TCGETA, bad): EFAULT", "ioctl(pty, TCSETA): ok",
    "ioctl(urandom, RNDGETENTCNT): ok", "entropy count positive: yes",
    "ioctl(null, RNDGETENTCNT): ENOTTY",
]


def test_small_process_calls_answer_as_linux_does(vigil) -> None:
    argv = ["/bin/procmisc"]
    run = vigil.program(argv, smp=2, timeout=90)
    assert run.status == 0, f"procmisc ended with status {run.status}: {run.output[-600:]!r}"
    host = vigil.host(argv)
    assert host.status == 0 and "procmisc: done" in host.output, host.output[-600:]
    guest = [x for x in run.output.splitlines() if not x.startswith(("vigil: ", "init: "))]
    want = host.output.splitlines()
    diff = [f"vigil: {g!r}\nlinux: {h!r}" for g, h in zip(guest, want, strict=False) if g != h]
    assert guest == want, "procmisc differs from Linux:\n" + "\n".join(diff[:8])


def test_terminal_and_random_ioctls_check_their_arguments(vigil) -> None:
    run = vigil.program(["/bin/procmisc", "devices"], timeout=60)
    lines = run.output.splitlines()
    missing = [f for f in DEVICE_FACTS if f not in lines]
    assert not missing, f"device ioctls broke a promise: {missing}\n{run.output[-800:]}"
