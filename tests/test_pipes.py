"""Pipes beyond read and write: their capacity (F_GETPIPE_SZ/F_SETPIPE_SZ,
/proc/sys/fs/pipe-*), packet pipes (pipe2 O_DIRECT), splice, tee and
vmsplice, and inotify, compared with Linux where the host can run the same
binary; the pipe-size rules for users who are not root and the leak check
run on Vigil alone (they need root and Vigil's counters)."""

from __future__ import annotations

import re

import pytest


def test_splice_tee_vmsplice_and_pipe_sizes_behave_as_on_linux(vigil) -> None:
    """Capacity rounding, EBUSY below the stored bytes, packets read one at a
    time, bytes moved between files and pipes at the offsets asked, tee
    keeping its source, and every bad descriptor, flag and offset's errno:
    the same lines as the host's Linux."""
    argv = ["/bin/splicer"]
    guest = vigil.program(argv)
    assert guest.status == 0, guest.output[-1500:]
    assert guest.output == vigil.host(argv).output


def test_inotify_reports_the_same_events_and_errnos_as_linux(vigil) -> None:
    """A watched directory and file see create, open, modify, access,
    close, attrib, link, rename (paired cookies), unlink (delete_self then
    ignored) and mkdir/rmdir in Linux's order, merged when equal; oneshot,
    mask_add, mask_create and excl_unlink act as on Linux, and every bad
    argument gets Linux's errno."""
    argv = ["/bin/inotifier"]
    guest = vigil.program(argv)
    assert guest.status == 0, guest.output[-1500:]
    assert guest.output == vigil.host(argv).output


def test_pipe_sizes_follow_linux_rules_for_unprivileged_users(vigil) -> None:
    """pipe-max-size rounds up to a power of two of pages and caps a user's
    pipes (EPERM past it, EACCES to change it); past pipe-user-pages-soft a
    user's new pipe gets two pages and cannot grow; past the hard limit no
    pipe is made (ENFILE); root is never limited."""
    run = vigil.program(["/bin/pipelimits"])
    got = dict(line.split(": ", 1) for line in run.output.splitlines() if ": " in line)
    want = {
        "write pipe-max-size 5000": "0", "write 0": "0",
        "write 2^31+1": "-1 EINVAL", "write -1": "-1 EINVAL", "write junk": "-1 EINVAL",
        "root's new pipe": "65536", "user's new pipe": "8192",
        "user grows past the max": "-1 EPERM", "user shrinks": "4096",
        "user grows to the max": "8192", "user writes pipe-max-size": "-1 EACCES",
        "user's pipe 1": "16384", "user's pipe 2": "8192", "user's pipe 3": "-1 ENFILE",
        "user's pipe 4": "-1 ENFILE", "grow past the soft limit": "-1 EPERM",
        "root past the limits": "65536", "root's new pipe again": "65536",
    }
    assert {k: got.get(k) for k in want} == want, run.output[-1500:]
    assert re.findall(r"^pipe-max-size reads: (\d+)$", run.output, re.M) == ["8192", "4096"]
    assert run.status == 0


@pytest.mark.invariant("isolation")
def test_processes_killed_while_blocked_on_pipes_locks_and_leases_leak_nothing(vigil) -> None:
    """Children blocked writing a full 1 MiB pipe, splicing from an empty
    one, vmsplicing into a full one, reading an inotify instance with
    watches, waiting in F_SETLKW and F_OFD_SETLKW, and in an open that
    breaks a lease are killed, three rounds after a warm-up: free frames
    and the kernel heap are exactly where they were."""
    run = vigil.program(["/bin/pipelimits", "leaks"], timeout=180)
    assert "did not block" not in run.output, run.output[-800:]
    for what in ("free frames", "heap bytes", "heap objects"):
        m = re.search(rf"^{what} before (.+) after (.+)$", run.output, re.M)
        assert m, f"pipelimits did not report {what}: {run.output[-300:]!r}"
        assert m.group(1).strip() == m.group(2).strip(), \
            f"killed pipe and inotify waiters leaked: {what} {m.group(1)} -> {m.group(2)}"
    assert run.status == 0
