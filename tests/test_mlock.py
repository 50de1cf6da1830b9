"""Locked memory (mlock(2), mlockall(2), MAP_LOCKED) and what /proc tells
of a process's pages (status, smaps, smaps_rollup, pagemap): a locked
page stays resident under memory pressure with swap on, the figures the
files give add up to one another, and every bad input gets the errno the
host's Linux gives. The program is user/tests/mlockpin.c; the kernel side
is mm/uvm.c (mm_mlock, mm_populate, the reclaim clocks) and fs/procfs.c."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.image import disk_args, make_ext3

pytestmark = pytest.mark.invariant("memory")

_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)


def _lines(out: str) -> list[str]:
    return [x for x in out.replace("\r\n", "\n").splitlines() if x and not x.startswith("init:")]


def test_mm_calls_bad_inputs_get_the_hosts_errnos_line_for_line(vigil) -> None:
    """mlock over a hole, a wrapping length, a kernel address, a PROT_NONE
    page; mlock2's unknown flags; mlockall's bad flag sets; MADV_DONTNEED
    and MADV_FREE on a locked page (EINVAL, the page stays) but
    MADV_DONTNEED_LOCKED (dropped); msync(MS_INVALIDATE) of a locked page
    (EBUSY); a memfd's F_SEAL_WRITE while it is mapped shared and writable
    (EBUSY), then shared writable mmap (EPERM), mprotect to writable
    (EACCES) and hole punching (EPERM) of the sealed file, a hole punched in
    an unsealed one reading as zeros, ftruncate under F_SEAL_SHRINK (EPERM);
    process_vm_readv/writev with bad flags, lengths, bases, vectors, pids
    and protections; remap_file_pages (a page shows another file page; bad
    prot, size, range, private or anonymous memory: EINVAL; a removed System
    V segment's last attachment: EINVAL, the range left unmapped); membarrier's
    private expedited barrier before and after registering; a MAP_GROWSDOWN
    stack growing into free room, past a mapping 400 pages down, and into
    the guard gap of one 200 pages down (SIGSEGV);
    pagemap reads not in whole entries, into
    a bad pointer, past the user half, and a write; as uid 1000 with
    RLIMIT_MEMLOCK 0 (EPERM) and 16 pages (a range locked twice counts once,
    the 17th page is ENOMEM, MAP_LOCKED past the limit EAGAIN): the same
    answers, line for line, as the host's Linux running the same binary."""
    argv = ["/bin/mlockpin", "errnos"]
    run = vigil.program(argv)
    host = vigil.host(argv)
    assert run.status == 0, run.output[-800:]
    # The host runs it chrooted in the initrd's tree, without a /proc: the
    # pagemap lines are compared with what Linux 6.18 answered outside.
    ours = [x for x in _lines(run.output) if not x.startswith("pagemap")]
    theirs = [x for x in _lines(host.output) if not x.startswith("pagemap")]
    assert ours == theirs, (
        "Vigil's answers differ from Linux's:\n" +
        "\n".join(f"vigil: {a}\nlinux: {b}" for a, b in zip(ours, theirs, strict=False) if a != b))
    pagemap = [x for x in _lines(run.output) if x.startswith("pagemap")]
    assert pagemap == PAGEMAP_LINUX, f"pagemap's bad inputs: {pagemap}"


PAGEMAP_LINUX = [
    "pagemap read at an odd offset: EINVAL",
    "pagemap read of 4 bytes: EINVAL",
    "pagemap read into a bad pointer: EFAULT",
    "pagemap read past the user half: 0",
    "pagemap write: Bad file descriptor",
]


def test_locked_pages_are_in_and_proc_figures_add_up(vigil) -> None:
    """mlock faults its pages in (mincore: all resident) and VmLck grows by
    the range once however often it is locked; mlock2(MLOCK_ONFAULT) counts
    in VmLck but brings nothing in until touched; smaps' Locked is the
    region's resident size; pagemap's present bits agree with mincore; a
    forked child starts with no locks; a MAP_SHARED region both touched
    counts half in Pss; mlockall(MCL_FUTURE) locks and populates later
    mmaps, munlockall ends that; MAP_LOCKED and MAP_POPULATE populate. At
    each step the sum of smaps' Rss is VmRSS and smaps_rollup's Rss,
    Anonymous sums to RssAnon, Swap to VmSwap, Size to VmSize."""
    run = vigil.program(["/bin/mlockpin", "figures"])
    out = "\n".join(_lines(run.output))
    assert run.status == 0, out[-800:]
    expect = [
        "untouched: resident 0",
        "mlock 8 pages: 0, VmLck +32, resident 8",
        "smaps of it: Size 32 Rss 32 Locked 32 Swap 0",
        "mlock the same again: 0, VmLck +32",
        "mlock2 ONFAULT 4 more: 0, VmLck +48, resident 0",
        "one of them touched: resident 1, smaps Locked 4",
        "pagemap: 1 present, 4 of 4 as mincore says",
        "child: VmLck 0",
        "shared with a child: Rss 64 Pss 32 Shared 64 Private 0",
        "munlock 8: 0, VmLck +16",
        "mlockall: 0, VmLck == VmSize: yes",
        "mmap after MCL_FUTURE: resident 4, smaps Locked 16",
        "munlockall: 0, VmLck 0",
        "mmap after munlockall: resident 0",
        "mmap MAP_LOCKED: resident 4, VmLck 16",
        "mmap MAP_POPULATE: resident 4",
    ]
    missing = [x for x in expect if x not in out]
    assert not missing, f"wrong figures: {missing}\n{out}"
    for when in ("locked", "shared", "mlockall"):
        assert f"{when}: adds up" in out, f"the /proc figures do not add up ({when}):\n{out}"


SWAP_FILE_MB = 96


@pytest.fixture
def small_swap_disk(tmp_path: Path) -> Path:
    """An ext3 image holding /swapfile (SWAP_FILE_MB MiB by Debian's mkswap,
    every block written first so none is a hole)."""
    tree = tmp_path / "swap-tree"
    tree.mkdir()
    chunk = b"\xa5" * (1 << 20)
    with (tree / "swapfile").open("wb") as f:
        for _ in range(SWAP_FILE_MB):
            f.write(chunk)
    (tree / "swapfile").chmod(0o600)
    mkswap = shutil.which("mkswap") or "/usr/sbin/mkswap"
    subprocess.run([mkswap, str(tree / "swapfile")], check=True, capture_output=True)
    return make_ext3(tree, tmp_path / "swap.img", SWAP_FILE_MB + 32)


def _num(out: str, pattern: str) -> tuple[int, ...]:
    m = re.search(pattern, out, re.M)
    assert m, f"mlockpin did not report {pattern!r}:\n{out[-1200:]}"
    return tuple(int(g) for g in m.groups())


def test_a_locked_region_stays_resident_while_swap_takes_its_unlocked_twin(
        vigil, small_swap_disk: Path) -> None:
    """On a 64 MiB machine with a swap file: 4 MiB locked and 4 MiB not,
    both written, then 72 MiB more written (more than the machine has).
    Pages go out to swap (pswpout grows) and the unlocked twin, as old as the
    locked region, loses pages to it; the locked region keeps all 1024 pages
    resident (mincore) with nothing on swap (its smaps Swap is 0); every
    page of all three reads back as written."""
    run = vigil.program(["/bin/mlockpin", "pin", "/mnt", "72"], extra=disk_args(small_swap_disk),
                        mem="64M", timeout=600)
    out = "\n".join(_lines(run.output))
    trouble = [x for x in run.console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke under memory pressure: {trouble[:3]}"
    assert "swapon: 0" in out and "mlock: 0" in out, out[-1200:]
    (written,) = _num(out, r"^pages written out under pressure: (\d+)")
    lres, lswap = _num(out, r"^locked region: (\d+) of 1024 pages resident, (\d+) kB on swap")
    pres, pswap = _num(out, r"^unlocked region: (\d+) of 1024 pages resident, (\d+) kB on swap")
    assert written > 0 and pres < 1024 and pswap > 0, (
        f"no pressure reached the unlocked region (pswpout +{written}, {pres} of 1024 resident, "
        f"{pswap} kB on swap): the test proves nothing\n{out[-1200:]}")
    assert lres == 1024 and lswap == 0, (
        f"a locked page was swapped out: {1024 - lres} of 1024 locked pages not resident, "
        f"{lswap} kB of the locked region on swap\n{out[-1200:]}")
    assert _num(out, r"^bad pages: locked (\d+), unlocked (\d+), hog (\d+)") == (0, 0, 0), out
    assert "swapoff: 0" in out and "umount: 0" in out and run.status == 0, out[-1200:]
