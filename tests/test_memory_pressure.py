"""Memory as a resource (issue 17): a 128 MiB machine asked for more than it
has. Clean file pages are reclaimed and read again with the right bytes,
dirty ones never dropped; when nothing more can be reclaimed the OOM killer
ends the process its policy names (most memory, weighted by
oom_score_adj; never init) and everything else goes on. The program is
user/tests/mempress.c; the policy is kernel/mm/reclaim.c's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.image import disk_args, make_ext3

pytestmark = pytest.mark.invariant("memory")

SMALL = "128M"
BIG_MB = 160                        # more than the whole machine has
_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)


def _healthy(console: str) -> None:
    trouble = [x for x in console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke under memory pressure: {trouble[:3]}"


def _figure(out: str, pattern: str) -> int:
    m = re.search(pattern, out, re.M)
    assert m, f"mempress did not report {pattern!r}: {out[-800:]}"
    return int(m.group(1))


@pytest.fixture
def big_disk(vigil, tmp_path: Path) -> Path:
    """An ext3 image holding /big: BIG_MB MiB, every word its own offset."""
    tree = tmp_path / "big-tree"
    tree.mkdir()
    subprocess.run([str(vigil.art.rootfs / "bin" / "mempress"), "mkfile", str(tree / "big"),
                    str(BIG_MB)], check=True, timeout=120)
    return make_ext3(tree, tmp_path / "big.img", BIG_MB + 48)


def test_a_file_larger_than_memory_reads_back_right_twice_and_dirty_pages_survive(
        vigil, big_disk: Path) -> None:
    """A 160 MiB file mapped on a 128 MiB machine is read whole, then most of
    memory is taken as anonymous memory, then the file is read again: every
    page holds the file's bytes both times (reclaimed pages come back from
    the file), /proc/meminfo's Cached falls under the anonymous memory and
    rises again with the second read, and pages written through a
    MAP_SHARED mapping before all this (never written back) still read as
    written: reclaim drops only clean pages."""
    run = vigil.program(["/bin/mempress", "reclaim", "/mnt"], extra=disk_args(big_disk),
                        mem=SMALL, timeout=600)
    out = run.output.replace("\r\n", "\n")
    _healthy(run.console)
    stale = _figure(out, r"^shared pages written before the pressure read back as old data: (\d+)")
    assert stale == 0, (f"a written page read back as old data: {stale} MAP_SHARED pages lost "
                        f"their writes under reclaim\n{out[-800:]}")
    bad1 = _figure(out, r"^pass 1: (\d+) bad pages")
    bad2 = _figure(out, r"^pass 2: (\d+) bad pages")
    assert bad1 == 0 and bad2 == 0, f"pages of the file read wrong under reclaim: {out[-800:]}"
    assert _figure(out, r"^anonymous \d+ MiB: (\d+) bad pages") == 0, out[-800:]
    total = _figure(out, r"MemTotal (\d+) kB")
    assert total < BIG_MB * 1024, f"the machine is not smaller than the file: {total} kB"
    cached1 = _figure(out, r"^pass 1: \d+ bad pages, Cached (\d+) kB")
    cached2 = _figure(out, r"^anonymous \d+ MiB: \d+ bad pages, Cached (\d+) kB")
    cached3 = _figure(out, r"^pass 2: \d+ bad pages, Cached (\d+) kB")
    assert cached2 < cached1 // 2, (
        f"Cached did not fall under anonymous memory: {cached1} kB -> {cached2} kB")
    assert cached3 > cached2 + 16 * 1024, (
        f"Cached did not rise again with the second read: {cached2} kB -> {cached3} kB")
    assert _figure(out, r"^vmstat: reclaimed (\d+)") > 0
    assert "umount: 0" in out and run.status == 0, out[-800:]


def _reports(console: str) -> list[str]:
    """The names in the console's OOM reports, in order."""
    return re.findall(r"^Out of memory: Killed process \d+ \((\w+)\) total-vm:\d+kB, "
                      r"anon-rss:\d+kB, file-rss:\d+kB", console, re.M)


def _oom(vigil, adj: str) -> tuple[str, str]:
    run = vigil.program(["/bin/mempress", "oom", adj], mem=SMALL, timeout=600)
    _healthy(run.console)
    return run.output.replace("\r\n", "\n"), run.console


def test_the_oom_killer_ends_the_hog_alone_and_the_rest_finish(vigil) -> None:
    """A worker holds a third of free memory; a hog (oom_score_adj 0)
    allocates without end. The hog, the bigger, is SIGKILLed with Linux's
    one-line report naming it; the worker's memory is intact and it
    finishes; the parent (the shell's place) goes on; init is untouched."""
    out, console = _oom(vigil, "0")
    reports = _reports(console)
    assert reports == ["memhog"], (
        f"the OOM killer killed the wrong process: {reports} (the hog, memhog, alone expected)")
    assert "hog: killed by signal 9" in out, f"the hog was not the one killed: {out[-800:]}"
    assert re.search(r"^worker: \d+ MiB checked, 0 bad pages$", out, re.M) and \
        "worker: exit 0" in out, f"the OOM killer killed the wrong process: {out[-800:]}"
    assert "a program run afterwards: exit 0" in out and "shell: still here" in out, (
        f"the parent did not survive or cannot run programs: {out[-800:]}")
    assert "init: exit status 0" in console, console[-400:]


def test_oom_score_adj_minus_1000_exempts_the_hog_and_the_smaller_worker_dies(vigil) -> None:
    """The same, but the hog has oom_score_adj -1000 and wants only what fits
    once the worker's memory is back: the worker (the smaller) is the
    victim, the hog completes with every page intact."""
    out, console = _oom(vigil, "-1000")
    assert _reports(console) == ["memworker"], (
        f"the OOM killer killed the wrong process: {_reports(console)} (memworker expected)")
    assert "worker: killed by signal 9" in out, (
        f"oom_score_adj -1000 did not exempt the hog: the OOM killer killed the wrong process:"
        f" {out[-800:]}")
    assert re.search(r"^hog: \d+ MiB checked, 0 bad pages$", out, re.M) and "hog: exit 0" in out, (
        f"the exempt hog did not finish: {out[-800:]}")
    assert "a program run afterwards: exit 0" in out and "init: exit status 0" in console, (
        out[-400:])


def test_oom_score_adj_takes_linux_range_and_only_root_lowers_it(vigil) -> None:
    """Out of range or not a number: EINVAL; an unprivileged process may
    raise its own but not lower it (EACCES); -1000 makes oom_score 0."""
    run = vigil.program(["/bin/mempress", "adjbad"])
    out = run.output.replace("\r\n", "\n")
    for line in ("oom_score_adj 1001: EINVAL", "oom_score_adj -1001: EINVAL",
                 "oom_score_adj abc: EINVAL", "oom_score_adj 500: 0", "reads back: 500",
                 "oom_score in range: yes", "uid 1000 raises to 600: 0",
                 "uid 1000 lowers to 0: EACCES", "root lowers to -1000: 0", "oom_score exempt: 0"):
        assert line in out, f"{line!r} missing: {out[-600:]}"


SWAP_MB = int(os.environ.get("VIGIL_SWAP_MB", "160"))   # the working set; 300: issue 17's figure


@pytest.fixture
def swap_disk(tmp_path: Path) -> Path:
    """An ext3 image holding /swapfile (320 MiB, made by Debian's mkswap, its
    blocks all allocated: mke2fs -d makes holes of zero blocks, so it is
    filled with 0xa5 first) and /notswap (a plain file)."""
    tree = tmp_path / "swap-tree"
    tree.mkdir()
    chunk = b"\xa5" * (1 << 20)
    with (tree / "swapfile").open("wb") as f:
        for _ in range(320):
            f.write(chunk)
    (tree / "swapfile").chmod(0o600)
    (tree / "notswap").write_bytes(b"\x5a" * (1 << 20))
    mkswap = shutil.which("mkswap") or "/usr/sbin/mkswap"
    subprocess.run([mkswap, str(tree / "swapfile")], check=True, capture_output=True)
    return make_ext3(tree, tmp_path / "swap.img", 400)


def _swap_figures(out: str, when: str) -> dict[str, int]:
    m = re.search(rf"^{when}: SwapTotal (\d+) kB, SwapFree (\d+) kB, used (\d+) kB, "
                  r"VmSwap (\d+) kB, all VmSwap (\d+) kB, VmRSS (\d+) kB, pswpout (\d+), "
                  r"pswpin (\d+)$", out, re.M)
    assert m, f"mempress did not report the swap figures {when!r}: {out[-800:]}"
    keys = ("total", "free", "used", "vmswap", "all", "rss", "out", "in")
    return dict(zip(keys, (int(g) for g in m.groups()), strict=True))


def test_a_working_set_larger_than_memory_runs_right_with_a_swap_file(vigil, swap_disk) -> None:
    """On a 128 MiB machine with a swap file Debian's mkswap made: swapon's
    bad inputs get Linux's errnos (EINVAL for a file mkswap did not make or
    a directory, EPERM unprivileged, EBUSY twice); SWAP_MB MiB of anonymous
    memory written with a pattern reads back right, in a forked child too
    (its swap slots shared until read) and again in the parent; the
    swapped pages are counted the same in /proc/meminfo (SwapTotal -
    SwapFree) and in the processes' VmSwap; swapoff says ENOMEM while they
    do not fit in memory, and succeeds once they are gone."""
    run = vigil.program(["/bin/mempress", "swap", "/mnt", str(SWAP_MB)],
                        extra=disk_args(swap_disk), mem=SMALL, timeout=900)
    out = run.output.replace("\r\n", "\n")
    _healthy(run.console)
    for line in ("swapon of a file mkswap did not make: EINVAL", "swapon of a directory: EINVAL",
                 "swapoff of a file that is not swap: EINVAL", "uid 1000 swapon: EPERM",
                 "uid 1000 swapoff: EPERM", "swapon: 0", "swapon again: EBUSY"):
        assert line in out, f"{line!r} missing: {out[-800:]}"
    assert re.search(r"^/proc/swaps: /mnt/swapfile +file\t\t327676\t\t0\t\t-2$", out, re.M), out
    for when in ("read 1", "read 2", "read 3"):
        bad = _figure(out, rf"^{when}: (\d+) bad pages")
        assert bad == 0, f"pages read back wrong from swap ({when}): {bad}\n{out[-800:]}"
    assert "child read: 0 bad pages" in out and "child: exit 0" in out, out[-800:]
    written = _swap_figures(out, "written")
    assert written["out"] > 0 and written["used"] > 0, f"nothing was swapped out: {written}"
    for when in ("written", "read 1", "read 2", "unmapped"):
        f = _swap_figures(out, when)
        assert f["used"] == f["all"], (
            f"the swap figures do not add up ({when}): SwapTotal - SwapFree = {f['used']} kB, "
            f"the processes' VmSwap = {f['all']} kB")
    assert _swap_figures(out, "read 1")["in"] > 0
    assert "swapoff while the pages do not fit: ENOMEM" in out, out[-800:]
    unmapped = _swap_figures(out, "unmapped")
    assert unmapped["vmswap"] == 0 and unmapped["used"] == unmapped["all"], (
        f"swap slots leaked after munmap: {unmapped}")
    assert "swapoff: 0" in out and _swap_figures(out, "off")["total"] == 0, out[-800:]
    assert "umount: 0" in out and run.status == 0, out[-800:]
