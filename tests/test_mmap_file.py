"""File-backed memory (issue 15): mmap of files, MAP_PRIVATE copy-on-write
over the page cache and MAP_SHARED written back through the file system,
mremap, madvise, mincore, msync, and Linux's errnos for bad inputs. The
program is user/tests/filemap.c; the host's Linux running the same steps is
the reference, line for line; the host's debugfs reads what reached the
disk."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.image import debugfs_dump, disk_args, fsck

pytestmark = pytest.mark.invariant("isolation")

_KERNEL_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)
PAGES = 8


def _pattern(n: int, seed: int) -> bytes:
    """What filemap.c's pat() writes."""
    return bytes((i * 7 + seed * 13 + 3) & 0xFF for i in range(n))


def _host(art_rootfs: Path, argv: list[str]) -> str:
    r = subprocess.run([str(art_rootfs / "bin" / "filemap"), *argv], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _vigil(vigil, argv: list[str], **kw: object) -> str:
    run = vigil.program(["/bin/filemap", *argv], timeout=180, **kw)
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    assert run.status == 0, run.output[-800:]
    return run.output.replace("\r\n", "\n")


def _diff(host: str, ours: str) -> list[str]:
    h, v = host.strip().splitlines(), ours.strip().splitlines()
    if len(h) != len(v):
        return [f"host has {len(h)} lines, vigil {len(v)}: vigil ends {v[-3:]!r}"]
    return [f"line {i}: host {a!r} vigil {b!r}"
            for i, (a, b) in enumerate(zip(h, v, strict=True)) if a != b]


def _leaked_private_writes(out: str) -> list[str]:
    """The lines of filemap's private mode that say a private write got out."""
    return [x for x in out.splitlines()
            if "YES (" in x or "REACHED THE FILE" in x or "CHANGED" in x
            or x == "child's write stayed its own: no" or x == "bss-like write stays private: no"]


def test_a_map_private_write_never_reaches_the_file_or_another_mapping(vigil, tmp_path) -> None:
    """MAP_PRIVATE maps of a file: its bytes, zeros past its end, SIGBUS past
    its last page; a write (also after mprotect, also in a forked child, also
    in ld.so's MAP_FIXED-over-a-reservation layout) stays in the writer's
    copy: read() and other private mappings still see the file."""
    ours = _vigil(vigil, ["private", "/tmp"])
    leaked = _leaked_private_writes(ours)
    assert not leaked, f"a MAP_PRIVATE write reached the file or another mapping: {leaked}"
    host = _host(vigil.art.rootfs, ["private", str(tmp_path)])
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:10])


def test_map_shared_writes_and_write_show_one_content(vigil, tmp_path) -> None:
    """A MAP_SHARED write is seen by read(), by other mappings (shared and
    private) and across fork; a write() is seen by the mapping; msync
    succeeds; bytes a mapping wrote past the end are not the file's (the
    grown file reads zeros there); a file cut short while mapped takes its
    pages from every mapping, private copies too (SIGBUS), and reads zeros
    when grown back; a read-only fd maps shared only read-only (mprotect
    says EACCES); shared anonymous memory and shared /dev/zero are zeros
    that a forked child writes into: as on the host."""
    host = _host(vigil.art.rootfs, ["shared", str(tmp_path)])
    ours = _vigil(vigil, ["shared", "/tmp"])
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:10])


def test_mremap_madvise_mincore_and_msync_over_files_behave_as_on_linux(vigil, tmp_path) -> None:
    """mremap shrinks in place, grows (in place or moving, the new pages
    the file's), moves to a fixed place; MADV_DONTNEED makes a private file
    page the file's again and anonymous memory zeros, and keeps shared
    data; mincore reports touched pages; a shared mapping grown by mremap
    still writes the file."""
    host = _host(vigil.art.rootfs, ["calls", str(tmp_path)])
    ours = _vigil(vigil, ["calls", "/tmp"])
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:10])


def test_bad_mmap_mremap_madvise_mincore_msync_inputs_get_linux_errnos(vigil, tmp_path) -> None:
    """Bad fds (EBADF), unaligned offsets and addresses, missing or unknown
    flags (EINVAL, EOPNOTSUPP), write access the fd lacks (EACCES), files
    that cannot be mapped (pipes, directories: ENODEV), huge lengths and
    unmapped ranges (ENOMEM, EFAULT): the host's errno for each."""
    host = _host(vigil.art.rootfs, ["bad", str(tmp_path)])
    ours = _vigil(vigil, ["bad", "/tmp"])
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:10])


def test_map_shared_writes_survive_umount_and_a_reboot(vigil, tmp_path) -> None:
    """On the ext3 disk mounted on /mnt: a file written only through a
    MAP_SHARED mapping (written back at munmap), one whose writer exited
    with the mapping in place (written back at exit), one written through a
    MAP_PRIVATE mapping (never written), and one written, msync'd and
    written again twice (each write after an msync reaches the disk too).
    After umount the host's debugfs reads each as last written and the
    private one as it was; e2fsck finds
    nothing wrong; Vigil booted again on the disk reads them back."""
    _, disk = vigil.scratch_disk(size_mb=32)
    out = _vigil(vigil, ["disk", "/mnt", str(PAGES)], extra=disk_args(disk))
    for line in ("mount: 0", "put: munmap 0", "private msync: 0", "private fsync: 0", "umount: 0"):
        assert line in out, f"{line!r} missing: {out[-600:]}"
    assert "private write reached read(): no" in out, (
        f"a MAP_PRIVATE write reached the file: {out[-600:]}")
    want = _pattern(PAGES * 4096, 9)
    for name in ("mapped", "exited"):
        got = debugfs_dump(disk, f"/scratch/{name}", tmp_path / name) or b""
        same = sum(a == b for a, b in zip(got, want, strict=False))
        assert got == want, (f"MAP_SHARED writes missing from the disk after umount: "
                             f"/scratch/{name} holds {len(got)} bytes, {same} as written")
    half = PAGES * 4096 // 2
    again = b"c" + b"b" * (half - 1) + b"a" * half
    got = debugfs_dump(disk, "/scratch/rewritten", tmp_path / "rewritten") or b""
    assert "rewritten: msync 0 0, munmap 0" in out, out[-600:]
    assert got == again, ("a write after an msync did not reach the disk: /scratch/rewritten "
                          f"starts {got[:4]!r}, {got.count(b'a')} bytes still of the first write")
    got = debugfs_dump(disk, "/scratch/private", tmp_path / "private")
    assert got == want, "a MAP_PRIVATE write reached the file on the disk"
    ok, report = fsck(disk)
    assert ok, report
    again = _vigil(vigil, ["check", "/scratch/mapped", str(PAGES)], root_disk=disk)
    assert "check: every byte written through the mapping" in again, again[-400:]


def test_file_mappings_give_back_every_frame_and_heap_block(vigil) -> None:
    """Rounds of private, shared, mremap/madvise/mincore and bad-input
    mappings of files in /tmp: free frames (with the page cache's), the
    heap's bytes and its blocks are exactly back."""
    out = _vigil(vigil, ["leak", "/tmp", "4"])

    def pair(what: str) -> tuple[str, str]:
        m = re.search(rf"^{what} before (.+) after (.+)$", out, re.M)
        assert m, f"no {what} report: {out[-300:]!r}"
        return m.group(1).strip(), m.group(2).strip()

    frames, heap, objects = pair("free frames"), pair("heap bytes"), pair("heap objects")
    leaked = "file mappings leaked"
    assert frames[0] == frames[1], f"{leaked} frames: {frames[0]} -> {frames[1]}"
    assert heap[0] == heap[1], f"{leaked} heap bytes: {heap[0]} -> {heap[1]} ({objects})"
    assert objects[0] == objects[1], f"{leaked} heap blocks: {objects[0]} -> {objects[1]}"


def test_file_mappings_hold_under_threads_on_two_cpus(vigil) -> None:
    """Four threads on two CPUs map one file on the ext3 disk (shared and
    private), write their own pages through the shared map, drop them
    (MADV_DONTNEED), move the map (mremap) and unmap, 40 times each, while
    the main thread pwrite()s: no shared write is lost, no private write
    reaches the file, and the kernel stays healthy (page-cache fills that
    sleep on the disk while other threads change the address space)."""
    _, disk = vigil.scratch_disk(size_mb=32)
    out = _vigil(vigil, ["race", "/scratch", "4", "40"], root_disk=disk, smp=2)
    assert "race: 4 threads x 40 rounds: errors 0, shared writes lost 0, main's byte kept" in out, (
        f"a MAP_SHARED write was lost or a mapping misbehaved under threads: {out[-400:]}")


def test_map_shared_writes_still_mapped_at_power_off_reach_the_disk(vigil, tmp_path) -> None:
    """A child writes a file through a MAP_SHARED mapping and waits with the
    mapping in place; its parent powers the machine off with reboot(2). The
    shutdown writes the mapped pages back before the file systems close:
    the host's debugfs reads every byte, and e2fsck finds nothing wrong."""
    _, disk = vigil.scratch_disk(size_mb=32)
    run = vigil.program(["/bin/filemap", "poweroff", "/scratch/late", str(PAGES)],
                        root_disk=disk, timeout=180)
    assert "powering off" in run.output, run.output[-400:]
    want = _pattern(PAGES * 4096, 9)
    got = debugfs_dump(disk, "/scratch/late", tmp_path / "late") or b""
    same = sum(a == b for a, b in zip(got, want, strict=False))
    assert got == want, (f"MAP_SHARED writes missing from the disk after power-off: "
                         f"/scratch/late holds {len(got)} bytes, {same} as written")
    ok, report = fsck(disk)
    assert ok, report


def _against_host(vigil, prog: str, smp: int) -> list[str]:
    """user/tests/PROG on the host and on Vigil (it ends with "PROG done"):
    the lines that differ."""
    host = vigil.host([f"/bin/{prog}"])
    assert f"{prog} done" in host.output, host.output
    run = vigil.program([f"/bin/{prog}"], smp=smp)
    assert f"{prog} done" in run.output, run.console[-1500:]
    return _diff(host.output, run.output)


@pytest.mark.parametrize("smp", [1, 2])
def test_madvise_dontfork_and_wipeonfork_decide_what_a_forked_child_gets_as_on_linux(
        vigil, smp: int) -> None:
    """MADV_DONTFORK leaves a region out of a fork's child (its touch is
    SIGSEGV) and MADV_DOFORK brings it back; MADV_WIPEONFORK gives the child
    zero-filled private pages (EINVAL on a shared region) and
    MADV_KEEPONFORK undoes it; the parent's pages never change; unaligned
    starts and unmapped ranges get Linux's errnos. Compared line for line
    with the host."""
    diff = _against_host(vigil, "forkadvice", smp)
    assert not diff, "madvise's fork advice differs from Linux:\n" + "\n".join(diff)


@pytest.mark.parametrize("smp", [1, 2])
def test_madvise_remove_gives_shared_memory_back_as_zeros_in_every_mapping_as_on_linux(
        vigil, smp: int) -> None:
    """MADV_REMOVE on a shared writable mapping of shared anonymous memory
    or a memfd: the range reads as zeros in the parent after a child
    removed it, through the file and through a second mapping at another
    offset; the pages around it keep their bytes and the file its size.
    Private, read-only, locked, unaligned and partly unmapped ranges and a
    write-sealed memfd get Linux's errnos. Compared line for line with the
    host."""
    diff = _against_host(vigil, "madvremove", smp)
    assert not diff, "MADV_REMOVE differs from Linux:\n" + "\n".join(diff)
