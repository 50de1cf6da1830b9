"""fcntl(2) beyond POSIX record locks: open file description locks,
F_SETLKW's deadlock detection, owners and signals (F_SETOWN(_EX),
F_SETSIG, O_ASYNC on a pipe, dnotify), leases; and the /proc/mounts poll
and fdatasync on a device. Compared with the host's Linux."""

from __future__ import annotations

import pytest


@pytest.mark.invariant("mutual exclusion")
def test_record_locks_leases_and_fcntl_signals_behave_as_on_linux(vigil) -> None:
    """OFD locks conflict between two opens in one process and with POSIX
    locks, survive a dup's close and go with the last close; F_SETLKW says
    EDEADLK instead of closing a wait cycle; owners, F_SETSIG's signal with
    si_fd for O_ASYNC and dnotify; a lease's holder is told and a
    non-blocking opener refused until it lets go; bad arguments' errnos."""
    argv = ["/bin/locker"]
    guest = vigil.program(argv)
    lines = guest.output.splitlines()
    assert "ofd write lock on b, same process: -1 EAGAIN" in lines, (
        "two owners hold conflicting locks: a second open file got a write lock over the "
        f"first one's: {[x for x in lines if x.startswith('ofd')]}")
    assert guest.status == 0, guest.output[-1500:]
    assert guest.output == vigil.host(argv).output


def test_the_mount_table_polls_priority_once_per_change(vigil) -> None:
    """/proc/self/mounts under epoll: nothing at first, EPOLLPRI|EPOLLERR
    after a mount (once), and again after the umount (proc(5)); an inotify
    watch on the unmounted file system hears IN_UNMOUNT, then IN_IGNORED."""
    run = vigil.program(["/bin/locker", "mounts"])
    got = [line for line in run.output.splitlines()
           if ": " in line or "EPOLL" in line or line.startswith("inotify event")]
    assert got == [
        "epoll_ctl on /proc/self/mounts: 0", "no change yet: 0", "mount: 0",
        "events after a mount: 1", "  EPOLLPRI 1 EPOLLERR 1", "told once: 0",
        "inotify watch on the mount: 1", "umount: 0", "events after the umount: 1",
        "inotify event 0x2000", "inotify event 0x8000"], run.output[-800:]
