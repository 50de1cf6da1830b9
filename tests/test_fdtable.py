"""Descriptor tables that grow on demand (kernel/proc/fdtable.c): past 1024
descriptors up to RLIMIT_NOFILE and fs.nr_open, with Linux's errnos at every
edge, copied by fork, trimmed by exec and close_range, listed by /proc, and
freed. The program is user/tests/fdgrow.c: its basic mode runs on the host's
Linux and on Vigil and the lines must be equal; the proc mode writes
/proc/sys/fs/nr_open, so it runs on Vigil only, against Linux's answers
written out below."""

from __future__ import annotations

import re

import pytest


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").strip().splitlines()


@pytest.mark.invariant("privilege separation")
def test_descriptors_past_1024_up_to_rlimit_nofile_as_on_linux(vigil) -> None:
    """RLIMIT_NOFILE 1024 then 4096: descriptors open up to it and EMFILE
    at it; dup2/dup3 at or past it EBADF, F_DUPFD EINVAL, pipe EMFILE;
    close_range closes and marks close-on-exec past 1024; poll and select
    on a pipe end at 3000; fork copies the table (and a child's dup2 stays
    its own); exec closes the close-on-exec ones; a hard limit past
    fs.nr_open is EPERM even for root: line for line what the host says."""
    host = vigil.host(["/bin/fdgrow", "basic"])
    assert host.status == 0, host.output[-500:]
    run = vigil.program(["/bin/fdgrow", "basic"], timeout=240)
    h, v = _lines(host.output), _lines(run.output)
    over = [x for x in v if "the limit did not stop it" in x]
    assert not over, f"a process holds more descriptors than its RLIMIT_NOFILE allows: {over[0]}"
    diff = [f"line {i}: host {a!r} vigil {b!r}" for i, (a, b) in enumerate(zip(h, v, strict=False))
            if a != b]
    if len(h) != len(v):
        diff.append(f"host has {len(h)} lines, vigil {len(v)}: vigil ends {v[-3:]!r}")
    assert not diff, "\n".join(diff[:12])
    assert run.status == 0


@pytest.mark.invariant("privilege separation")
def test_proc_fd_listing_and_fs_nr_open_tunable_as_linux(vigil) -> None:
    """Root raises RLIMIT_NOFILE to fs.nr_open and dup2s to 1048575 (the
    table grows to a million slots, and /proc/self/status FDSize says so);
    /proc/self/fd lists 2048 descriptors; /proc/sys/fs/nr_open takes 64 to
    2147483584 (EINVAL outside, EACCES for uid 4243); a table of 2^31
    slots, which memory cannot hold, is ENOMEM; a hard limit past it
    is EPERM; the table does not grow past it (dup2 EBADF, F_DUPFD EMFILE);
    fork and unshare(CLONE_FILES) of a table holding a descriptor past it
    say EMFILE (unshare03)."""
    run = vigil.program(["/bin/fdgrow", "proc"], timeout=240)
    out = "\n".join(_lines(run.output))
    assert "fdgrow: proc done" in out, out[-1500:]
    want = {
        "setrlimit 1048576 1048576": "0",
        "dup2 0 1048575": "1048575",
        "dup2 0 1048576": "-1 EBADF",
        "F_DUPFD 1048575 (taken)": "-1 EMFILE",
        "F_DUPFD 1048570": "1048570",
        "/proc/self/fd with 3 high ones": "7 entries, highest 1048575",
        "F_GETFD 1048575 (closed)": "-1 EBADF",
        "fill to 2048": "2045 opened, highest 2047, then EMFILE",
        "FDSize at start": "64",
        "/proc/self/fd with 2048 open": "2048 entries, highest 2047",
        "/proc/self/fd after close_range 1500": "1501 entries, highest 1500",
        "child: dup2 0 2000": "2000",
        "the child's /proc/PID/fd": "1501 entries, highest 2000",
        "nr_open = 63": "-1 EINVAL",
        "nr_open = 2147483585": "-1 EINVAL",
        "nr_open = -1": "-1 EINVAL",
        "nr_open = abc": "-1 EINVAL",
        "nr_open = 2147483584": "11",
        "setrlimit 2147483584 2147483584": "0",
        "dup2 0 2147483583 (no memory for the table)": "-1 ENOMEM",
        "F_DUPFD 2147483000 (no memory for the table)": "-1 ENOMEM",
        "dup2 0 2147483584 (the limit)": "-1 EBADF",
        "uid 4243: open nr_open for writing": "-1 EACCES",
        "nr_open = 8192": "4",
        "setrlimit 4096 8193": "-1 EPERM",
        "setrlimit 8192 8192": "0",
        "dup2 0 5000 (past nr_open, within the limit)": "-1 EBADF",
        "F_DUPFD 5000": "-1 EMFILE",
        "dup2 0 4095": "4095",
        "fork with fd 4095 open, nr_open 64": "-1 EMFILE",
        "CLONE_FILES child status": "0",
        "CLONE_FILES child: close_range 70 ~0 UNSHARE (65 is copied: past nr_open 64)": "-1 EMFILE",
        "CLONE_FILES child: close_range 3 ~0 UNSHARE (65 is not copied)": "0",
        "CLONE_FILES child: F_GETFD 65 after": "-1 EBADF",
        "parent: F_GETFD 65 (still its own)": "0",
    }
    got: dict[str, list[str]] = {}
    for line in out.splitlines():  # "what: answer", or "what answer" for a bare number
        key, sep, value = line.rpartition(": ")
        if not sep:
            key, _, value = line.rpartition(" ")
        got.setdefault(key, []).append(value)
    ceiling = {k: got.get(k) for k in ("setrlimit 4096 8193",
                                       "dup2 0 5000 (past nr_open, within the limit)",
                                       "fork with fd 4095 open, nr_open 64")}
    assert ceiling == {"setrlimit 4096 8193": ["-1 EPERM"],
                       "dup2 0 5000 (past nr_open, within the limit)": ["-1 EBADF"],
                       "fork with fd 4095 open, nr_open 64": ["-1 EMFILE"]}, (
        f"fs.nr_open did not hold: a hard RLIMIT_NOFILE above it, or a descriptor past it, "
        f"was allowed (Linux: EPERM, EBADF, EMFILE): {ceiling}")
    wrong = [f"{k}: Linux {v!r}, vigil {got.get(k)!r}" for k, v in want.items()
             if v not in got.get(k, [])]
    # FDSize: Linux's sizes, a power of two times 128 slots (64 before any growth).
    for size in ("262144", "1048576", "2048"):
        if size not in got.get("FDSize", []):
            wrong.append(f"FDSize: Linux says {size} at one point, vigil {got.get('FDSize')!r}")
    assert not wrong, "\n".join(wrong)
    unshared = got.get("CLONE_FILES child: unshare(CLONE_FILES) with fd 65 open, nr_open 64", [])
    assert unshared == ["-1 EMFILE", "0"], \
        f"unshare(CLONE_FILES) past fs.nr_open: Linux EMFILE, then 0 once raised; vigil {unshared}"
    assert re.findall(r"^nr_open (\d+)$", out, re.M) == ["1048576", "2147483584", "1048576",
                                                         "1048576"], out
    assert run.status == 0


@pytest.mark.invariant("isolation")
def test_grown_tables_return_every_heap_block(vigil) -> None:
    """Processes that grow their tables to 200000 slots, fork a copy, unshare
    it with close_range and ask for 2000000 (EBADF: nothing allocated), 8
    rounds after a warm-up: the kernel heap's bytes and blocks are exactly
    where they were."""
    run = vigil.program(["/bin/fdgrow", "leak", "8"], timeout=240)
    for what in ("heap bytes", "heap objects", "free frames"):
        m = re.search(rf"^{what} before (.+) after (.+)$", run.output, re.M)
        assert m, f"fdgrow did not report {what}: {run.output[-300:]!r}"
        assert m.group(1).strip() == m.group(2).strip(), \
            f"descriptor tables leaked: {what} {m.group(1)} -> {m.group(2)}"
    assert run.status == 0
