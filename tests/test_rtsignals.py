"""Real-time signals are queued (signal(7)): each instance with its own
siginfo, delivered lower numbers first and in the order sent, bounded by
RLIMIT_SIGPENDING (EAGAIN past it), freed with the process that held them.
Compared with the host's Linux line for line."""

from __future__ import annotations

import re

import pytest


@pytest.mark.invariant("kernel memory safety")
def test_real_time_signals_queue_in_order_up_to_the_limit_as_on_linux(vigil) -> None:
    """Five SIGRTMIN+1 sent while blocked are five deliveries with values
    1..5 in order (sigtimedwait and handlers alike), a thread's own queue
    holds what rt_tgsigqueueinfo sent it, sigqueue says EAGAIN at
    RLIMIT_SIGPENDING, SigQ returns when a child exits with its queue, one
    chmod seen by two dnotify descriptors is two signals; signals that can
    be delivered at once all are before user code runs (stacked frames, and
    the SIGSEGV replacing a frame an alternate stack made read-only refused:
    LTP signal06); bad arguments get Linux's errnos."""
    argv = ["/bin/rtqueue"]
    guest = vigil.program(argv)
    lines = guest.output.splitlines()
    got = [x for x in lines if x.startswith("delivered ")]
    m = re.match(r"delivered (\d+) of 5 queued SIGRTMIN\+1", got[0]) if got else None
    assert m and m.group(1) == "5", (
        f"{m.group(1) if m else 'no line:'} of 5 queued SIGRTMIN+1 delivered: "
        f"real-time signals coalesced ({[x for x in lines if 'order' in x]})")
    segv = [x for x in lines if x.startswith("SIGHUP's frame")]
    assert segv == ["SIGHUP's frame on a read-only alternate stack: SIGSEGV handled on return 1, "
                    "still pending 0"], (
        f"the SIGSEGV replacing an unwritable frame waited past the return to user mode: {segv}")
    assert guest.status == 0, guest.output[-1500:]
    assert guest.output == vigil.host(argv).output
