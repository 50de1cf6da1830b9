"""Which sleeps a signal cuts short, and which start again (signal(7)):
twelve blocking calls (read, wait4, poll, select, epoll_wait, nanosleep,
futex with and without a timeout, sigtimedwait, semop, msgrcv, flock), each interrupted five ways
(a stop and SIGCONT; a tracer taking the signal, as strace -f takes a
child's SIGCHLD; a signal ignored by default; a handler without and with
SA_RESTART). user/tests/sigrestart.c on the host and on Vigil, line for
line: each call's result or errno."""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from harness.compare import line_diff


@pytest.mark.invariant("scheduling fairness")
def test_a_sleep_cut_short_with_no_handler_run_goes_on_as_on_linux(vigil) -> None:
    """No handler ran (the process was stopped and continued, or its tracer
    took the signal, or the signal is ignored): read, wait4, poll, select,
    nanosleep, futex, msgrcv and flock carry on and return their result;
    epoll_wait, semop and sigtimedwait say EINTR (signal(7)'s list). With a
    handler: EINTR without SA_RESTART; with it only the calls that are
    "never restarted" say EINTR, and a timed futex wait too. A timed sleep
    (nanosleep, poll, a futex wait) goes on as restart_syscall, to the end
    it had (/proc/PID/syscall names the call the child sleeps in again)."""
    with tempfile.TemporaryDirectory(prefix="vigil-sigrestart-") as d:   # (it needs /proc)
        host = subprocess.run([str(vigil.art.rootfs / "bin" / "sigrestart"), d],
                              capture_output=True, text=True, timeout=120)
    assert "sigrestart done" in host.stdout, host.stdout[-800:] + host.stderr
    run = vigil.program(["/bin/sigrestart", "/tmp"], timeout=120)
    ours = run.output.replace("\r\n", "\n")
    assert "sigrestart done" in ours, run.console[-1500:]
    def nohandler_lines(text: str) -> str:
        return "\n".join(x for x in text.splitlines()
                         if any(p in x for p in ("stop:", "traced:", "ignored:")))

    nohandler = line_diff(nohandler_lines(host.stdout), nohandler_lines(ours))
    assert not nohandler, ("a sleep cut short with no handler run answered otherwise than "
                           "Linux's:\n" + "\n".join(nohandler[:8]))
    diff = line_diff(host.stdout, ours)
    assert not diff, "the calls answer otherwise than Linux's:\n" + "\n".join(diff[:8])
