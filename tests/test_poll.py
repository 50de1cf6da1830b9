"""Waiting on many things (issue 15): poll, ppoll, select, pselect6, epoll,
eventfd, timerfd and signalfd. The program is user/tests/poll.c; its basic
mode runs the same steps on the host's Linux and on Vigil, and the lines
must be equal, bad inputs included. The race mode is the promise that no
wake-up is lost between two CPUs; the leak mode that every object comes
back to the kernel."""

from __future__ import annotations

import re
import subprocess

import pytest

_KERNEL_TROUBLE = re.compile(
    r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free|lock rule", re.M)


def _vigil(vigil, argv: list[str], **kw: object) -> str:
    run = vigil.program(["/bin/poll", *argv], timeout=180, **kw)
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    assert not [x for x in run.kernel_lines if "not implemented" in x], run.kernel_lines
    return run.output.replace("\r\n", "\n")


def _diff(host: str, ours: str) -> list[str]:
    h, v = host.strip().splitlines(), ours.strip().splitlines()
    out = [f"line {i}: host {a!r} vigil {b!r}"
           for i, (a, b) in enumerate(zip(h, v, strict=False)) if a != b]
    if len(h) != len(v):
        out.append(f"host has {len(h)} lines, vigil {len(v)}: vigil ends {v[-3:]!r}")
    return out


def test_readiness_timeouts_signals_and_bad_input_as_on_linux(vigil) -> None:
    """Pipes readable iff data or no writer (POLLHUP), writable iff a
    PIPE_BUF write fits (POLLERR without a reader); files and directories
    always ready; POLLNVAL for a closed fd; select and the raw ppoll and
    pselect6 write back the time left; EINTR with SA_RESTART (never
    restarted); temporary masks restored after the handler; eventfd counter
    and semaphore rules; timerfd expiration counts, one-shot, absolute and
    REALTIME timers; signalfd reading blocked pending signals lowest first;
    epoll level/edge/oneshot, RDHUP on a pipe, an item living while its
    open file lives, nesting and ELOOP, maxevents round-robin; and every bad
    input's errno (EINVAL, EFAULT, EBADF, EPERM, EEXIST, ENOENT): line for
    line what the host's Linux answers."""
    host = vigil.host(["/bin/poll", "basic"])
    assert host.status == 0, host.output[-500:]
    ours = _vigil(vigil, ["basic"])
    diff = _diff(host.output.replace("\r\n", "\n"), ours)
    assert not diff, "\n".join(diff[:12])


def test_device_nodes_poll_and_epoll_as_on_linux(vigil) -> None:
    """/dev/null, zero, full and urandom have no poll operation on Linux:
    poll says ready, epoll_ctl says EPERM; /dev/random has one and epoll
    takes it. The host's own /dev is the reference."""
    r = subprocess.run([str(vigil.art.rootfs / "bin" / "poll"), "dev"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    ours = _vigil(vigil, ["dev"])
    diff = _diff(r.stdout, ours)
    assert not diff, "\n".join(diff)


@pytest.mark.invariant("mutual exclusion")
def test_a_waiter_on_another_cpu_never_misses_its_wake_up(vigil) -> None:
    """Two threads on two CPUs ping-pong 300 round trips through eventfds
    and pipes, each waiting in epoll_wait, poll or select (in turn) with a
    5 s bound: a wait that runs out while its fd is ready is a lost wake-up
    (the notify missed a registered waiter, or the waiter slept after the
    event it checked for), and the program names it."""
    out = _vigil(vigil, ["race", "300"], smp=2)
    missed = re.search(r"^missed wake-up .*$", out, re.M)
    assert not missed, f"a ready fd whose waiter never woke: {missed.group(0)}"
    assert "race: 300 of 300 round trips, no wake-up missed" in out, out[-500:]


@pytest.mark.invariant("mutual exclusion")
@pytest.mark.parametrize("smp", [1, 2])
def test_one_event_wakes_one_exclusive_epoll_waiter_as_on_linux(vigil, smp: int) -> None:
    """Six processes sleep in epoll_wait on one pipe with EPOLLEXCLUSIVE;
    each byte written must wake exactly one of them (epoll_ctl(2)), as the
    host's Linux does with the same program (user/tests/epollexcl.c)."""
    # Run directly, not chrooted: it reads /proc/PID/stat to see its children asleep.
    host = subprocess.run([str(vigil.art.rootfs / "bin" / "epollexcl")], capture_output=True,
                          text=True, timeout=120)
    assert host.returncode == 0, host.stdout + host.stderr
    run = vigil.program(["/bin/epollexcl"], timeout=180, smp=smp)
    ours = run.output.replace("\r\n", "\n")
    herd = re.search(r"^event \d+ woke \d+ waiters? in all$", ours, re.M)
    diff = _diff(host.stdout, ours)
    assert not diff, ("an event woke more than one exclusive waiter: "
                      f"{herd.group(0) if herd else ours[-300:]}\n" + "\n".join(diff))


@pytest.mark.invariant("isolation")
def test_epoll_eventfd_timerfd_signalfd_objects_all_come_back(vigil) -> None:
    """60 rounds of epolls (one nested in another) watching an eventfd, an
    armed timerfd, a signalfd and a pipe, closed watched-first or
    epoll-first: free frames, heap bytes and heap blocks per size class are
    what they were before."""
    out = _vigil(vigil, ["leak", "60"])

    def pair(what: str) -> tuple[str, str]:
        m = re.search(rf"^{what} before (.+) after (.+)$", out, re.M)
        assert m, f"poll leak did not report {what}: {out[-300:]!r}"
        return m.group(1).strip(), m.group(2).strip()

    heap, objects, frames = pair("heap bytes"), pair("heap objects"), pair("free frames")
    assert heap[0] == heap[1], (
        f"the kernel heap leaked: heap bytes {heap[0]} -> {heap[1]}; "
        f"blocks per class {objects[0]} -> {objects[1]}")
    assert objects[0] == objects[1], f"heap blocks per class {objects[0]} -> {objects[1]}"
    assert frames[0] == frames[1], f"frames leaked: free frames {frames[0]} -> {frames[1]}"
