"""System V IPC and POSIX message queues (kernel/ipc/): the calls behave as
on Linux, with good input and bad, when they wait, across users, and when a
process dies inside them. user/tests/ipcs.c does the work; the host's Linux
runs the same binary for the comparisons."""

from __future__ import annotations

import re

import pytest

from harness.execute import diff_lines

_diff = diff_lines


def test_ipc_calls_answer_as_linux_for_bad_input_real_work_and_waits(vigil) -> None:
    """About 80 bad calls (ids, pointers, sizes, flags, commands, names,
    timeouts, RLIMIT_MSGQUEUE) get Linux's errno; messages come out in
    Linux's order by type, MSG_EXCEPT and negative types; SEM_UNDO is undone
    when a child exits, also when the thread that made the operation is not
    the one that exits; a segment's pages are shared by a fork's inherited
    attachment and a separate one, counted in shm_nattch, and IPC_RMID waits
    for the last detach; POSIX queues hand out the highest priority first
    and poll as readable and writable; blocked msgrcv, semop and mq_receive
    wake for the other side, end with EINTR on a signal (even with
    SA_RESTART, as signal(7) says), go on waiting after a stop and continue,
    and end with EIDRM when the object is removed. Output compared line for
    line with Linux."""
    argv = ["/bin/ipcs", "errors", "works", "wait"]
    host = vigil.host(argv)
    assert host.status == 0 and "ipcs wait done" in host.output, host.output[-500:]
    run = vigil.program(argv, timeout=180)
    assert run.status == 0 and "ipcs wait done" in run.output, run.console[-1500:]
    assert run.output == host.output, "IPC calls differ from Linux:\n" + \
        _diff(run.output, host.output)


def test_the_mqueue_file_system_shows_lists_and_removes_queues_as_linux(vigil) -> None:
    """mount -t mqueue: ls lists the queues made by mq_open and by
    open(O_CREAT) there (with the default sizes), stat gives their modes and
    owners, cat their status line, statfs the magic number; rm is mq_unlink
    (an open descriptor still receives); mkdir and symlink are EPERM; another
    user cannot remove root's queue in the sticky root or open a 0600 one.
    Output compared line for line with Linux."""
    host = vigil.host(["/bin/mqfs"])
    assert host.status == 0 and "mqfs done" in host.output, host.output[-800:]
    run = vigil.program(["/bin/mqfs"])
    assert run.status == 0 and "mqfs done" in run.output, run.console[-1500:]
    assert run.output == host.output, "the mqueue file system differs from Linux:\n" + \
        _diff(run.output, host.output)


@pytest.mark.invariant("privilege")
def test_another_user_cannot_read_or_remove_a_0600_ipc_object(vigil) -> None:
    """Root makes a message queue, a segment, a semaphore set and a POSIX
    queue, each mode 0600 and holding a secret; a uid-1000 child gets EACCES
    reading each (msgrcv, shmat, semctl GETVAL, mq_open) and EPERM/EACCES
    removing them: the symptom of a missing check is the secret printed."""
    run = vigil.program(["/bin/ipcs", "perm"])
    assert "ipcs perm done" in run.output, run.console[-1000:]
    leaked = re.findall(r"^uid 1000: (\S+)\(0600 [a-z]+(?:, GETVAL)?\): (?!EACCES$)(.*)$",
                        run.output, re.M)
    assert not leaked, f"another user read a 0600 IPC object: {leaked}"
    for call in ("msgrcv(0600 queue)", "shmat(0600 segment)", "semctl(0600 set, GETVAL)",
                 "mq_open(0600 queue)"):
        assert f"uid 1000: {call}: EACCES" in run.output, run.output
    host = vigil.host(["/bin/ipcs", "perm"])
    assert run.output == host.output, "permissions differ from Linux:\n" + \
        _diff(run.output, host.output)


@pytest.mark.invariant("kernel memory safety")
def test_processes_killed_while_blocked_in_ipc_leave_no_memory_behind(vigil) -> None:
    """Three rounds of a queue filled to the brim, a semaphore set with a
    pending SEM_UNDO, a segment with pages touched by a child and a full
    POSIX queue, five children SIGKILLed while asleep in msgsnd, semop,
    pause (attached), mq_send and msgrcv, then everything removed: free
    frames, heap bytes and heap blocks per size class are back exactly
    where they were after a warm-up round (two CPUs)."""
    run = vigil.program(["/bin/ipcs", "leak", "3"], smp=2, timeout=180)
    assert "ipcs leak done" in run.output, run.console[-1000:]
    for what in ("free frames", "heap bytes", "heap objects"):
        m = re.search(rf"^{what} before (.+) after (.+)$", run.output, re.M)
        assert m, f"ipcs did not report {what}: {run.output[-300:]!r}"
        assert m.group(1).strip() == m.group(2).strip(), \
            f"IPC objects and killed waiters leaked: {what} {m.group(1)} -> {m.group(2)}"
