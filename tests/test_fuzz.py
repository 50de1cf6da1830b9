"""Never-panic at scale: Debian's trinity, as an unprivileged user, cannot
hurt the kernel (harness/fuzz.py; the long runs are `./vigil fuzz`, figures
in docs/fuzz.md). Each thing trinity found is a regression test here, the
exact call sequence compared with the host's Linux."""

from __future__ import annotations

import pytest

from harness import fuzz

pytestmark = pytest.mark.invariant("kernel memory safety")


def test_a_blocked_sigchld_with_the_default_action_waits_for_sigtimedwait(vigil) -> None:
    """trinity's main loop blocks SIGCHLD (action SIG_DFL: ignore) and takes
    it with rt_sigtimedwait. Linux discards an ignored signal only when it
    is not blocked; Vigil discarded it regardless, so trinity never saw a
    child end and the whole run stopped (found by ./vigil fuzz, seed 1)."""
    guest = vigil.program(["/bin/sigchldwait"], timeout=120)
    host = vigil.host(["/bin/sigchldwait"])
    assert "1: sigtimedwait SIGCHLD from the child yes, CLD_EXITED, status 7" in host.output, \
        host.output
    assert guest.output == host.output, (
        f"a blocked, ignored SIGCHLD is not handled as on Linux:\nvigil: {guest.output!r}\n"
        f"linux: {host.output!r}")


def test_a_short_seeded_trinity_run_leaves_the_kernel_whole(vigil) -> None:
    """trinity as nobody on 2 CPUs, seed 7, 300 ops after a 300-op warm-up:
    no panic, lockdep report or watchdog report (stall or hung task), the
    frames and kernel heap back to baseline, trinity exits and the machine
    powers off. (The long runs: ./vigil fuzz.)"""
    verdict, _ = fuzz.run(vigil.art, vigil.machine(smp=2), seed=7, ops=300, children=2,
                          log_path=vigil._log("fuzz"), timeout=240, warmup=300, stream=False,
                          quiet=60)
    details = [*verdict.panics, *verdict.lockdep, *verdict.watchdog, *verdict.leaks, *verdict.held]
    assert verdict.ok, verdict.line() + "".join(f"\n  {d}" for d in details)


def test_parse_reads_the_verdict_from_a_console() -> None:
    console = ("[main] Ran 1000 syscalls. Successes: 100  Failures: 900\n"
               "fuzzrun: trinity exit status 0\nfuzzrun: ops 1000 seconds 12.5\n"
               "fuzzrun: processes of nobody left 0\n"
               "free frames before 10 after 10\nheap bytes before 5 after 5\n"
               "heap objects before 1 2 after 1 2\n")
    v = fuzz.parse(console, 1, 1000, True)
    assert v.ok and v.seconds == 12.5, v
    reports = "lockdep: order inversion\nwatchdog: hung task: pid 3 (x), syscall 0 (read)\n"
    leaky = console.replace("heap bytes before 5 after 5", "heap bytes before 5 after 9")
    bad = fuzz.parse(leaky + reports, 1, 1000, True)
    assert not bad.ok and bad.leaks == ["heap bytes: 5 -> 9"] and len(bad.hung) == 1
    assert len(bad.lockdep) == 1 and "FAIL" in bad.line()
    site = "2 x 368 bytes: mq_open+0x4c <- x <- y"
    held = fuzz.parse(leaky + f"fuzzrun: held: {site}\n", 1, 1000, True)
    assert held.held == [site], held
    stuck = fuzz.parse("[main] 10041 iterations. [F:1]\n[main] 20012 iterations. [F:2]\n"
                       "threads: CPU 0, tick 9: a dump (serial break); min_vruntime 0\n"
                       "fuzz: given up: silent for 600 s after 3 thread dumps\n", 1, 50000, False)
    assert not stuck.ok and stuck.dumps == 1 and stuck.reached == 20012, stuck
    assert "given up" in stuck.line() and "20012 calls" in stuck.line(), stuck.line()


def test_the_profile_sampler_starts_and_stops_on_markers_split_across_reads(tmp_path) -> None:
    """--profile counts only while the main run's trinity runs: from its
    banner to fuzzrun's report, whichever reads of the console they straddle."""
    s = fuzz.Sampler.__new__(fuzz.Sampler)
    s.running, s.stop, s._tail = fuzz.threading.Event(), fuzz.threading.Event(), b""
    for chunk in (b"boot...\r\nTrin", b"ity 2023.01  Dave\r\n"):
        s.feed(chunk)
    assert s.running.is_set() and not s.stop.is_set()
    for chunk in (b"[main] Ran 10 syscalls\r\nfuzzrun: o", b"ps 10 seconds 1.0\r\n"):
        s.feed(chunk)
    assert s.stop.is_set() and not s.running.is_set()


def test_fallocate_keep_size_past_the_end_in_the_last_page_is_a_no_op_as_on_linux(vigil) -> None:
    """fallocate(KEEP_SIZE) at an offset past the end of a file but in the
    same page as its end: Vigil zeroed a negative length of its buffer, a
    kernel panic from an unprivileged call (found by ./vigil fuzz, seed 2).
    Linux: 0, the size and the bytes unchanged; the shapes around it too."""
    tree, disk = vigil.scratch_disk("fallockeep")
    host = vigil.host(["/bin/fallockeep", "/scratch"], root=tree)
    assert "fallocate(KEEP_SIZE, 136, 4096) = 0; size 100, contents ok" in host.output, \
        host.output
    guest = vigil.program(["/bin/fallockeep", "/scratch"], root_disk=disk, timeout=120)
    assert "PANIC" not in guest.console, "the kernel panicked:\n" + guest.console[-1500:]
    assert guest.output == host.output, (
        f"fallocate around the end of a file differs from Linux:\nvigil: {guest.output!r}\n"
        f"linux: {host.output!r}")


def test_proc_self_fd_of_a_process_with_a_thousand_descriptors_lists_them_all(vigil) -> None:
    """/proc/self/fd with up to 1000 descriptors open, listed 50 times at
    each size: every one listed, as on Linux, and the kernel heap intact
    (the listing wrote past a 256-entry array into the heap: found by
    ./vigil fuzz; kmalloc now panics on a corrupt free list at once)."""
    # What Linux shows (the host's chroot has no /proc to compare with): 0-2,
    # the dups up to want - 1, and the listing's own descriptor, want.
    want = "".join(f"fdlist: ~{n} open: {n + 1} entries (the directory's own among them), "
                   f"highest {n}\n" for n in range(200, 1001, 200)) + "fdlist: done\n"
    guest = vigil.program(["/bin/fdlist"], timeout=180)
    assert "PANIC" not in guest.console, "the kernel panicked:\n" + guest.console[-1500:]
    assert guest.output.replace("\r\n", "\n") == want, (
        f"/proc/self/fd does not list every descriptor:\n{guest.output!r}")


def test_polling_an_always_expired_timerfd_for_pollout_times_out_as_on_linux(vigil) -> None:
    """ppoll/poll for POLLOUT on a timerfd with a 1 ns interval: the timeout
    ends the call with 0, as on Linux. Vigil's poll woke itself at every
    look and went round for ever holding the kernel lock (found by ./vigil
    fuzz, seed 40: the lock watchdog's report, the machine stuck)."""
    host = vigil.host(["/bin/tfdspin"])
    assert "ppoll POLLOUT on an always-expired timerfd: 0, revents 0" in host.output, host.output
    guest = vigil.program(["/bin/tfdspin"], timeout=120)
    stuck = [x for x in guest.console.splitlines() if x.startswith(("watchdog:", "PANIC"))]
    assert not stuck, "the kernel got stuck: " + "; ".join(stuck[:3])
    assert guest.output == host.output, (
        f"polling a timerfd differs from Linux:\nvigil: {guest.output!r}\nlinux: {host.output!r}")
