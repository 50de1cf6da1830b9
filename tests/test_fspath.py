"""Paths, open flags and per-file metadata (issue 17: LTP's openat2,
O_PATH, O_TMPFILE, xattr, renameat2, ETXTBSY, O_NOATIME, file-handle and
SEEK_DATA tests): user/tests/fspath.c tries each with good and bad input in
a tmpfs directory, on the host's Linux (/dev/shm) and on Vigil (/tmp), and
every line must be the same: the answer, or the errno."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness.compare import line_diff
from harness.image import fsck
from tests.conftest import check_kernel_health, host_tmpfs_dir, kernel_bug

_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free|tmpfs: .* still counted",
                      re.M)


def _host(rootfs: Path) -> str:
    with host_tmpfs_dir("fspath") as shm:      # nobody must reach it, as Vigil's /tmp
        r = subprocess.run([str(rootfs / "bin" / "fspath"), str(shm)], capture_output=True,
                           text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-500:] + r.stderr
    return r.stdout


def _vigil(vigil) -> str:
    run = vigil.program(["/bin/fspath", "/tmp"], timeout=180)
    trouble = [x for x in run.console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    ours = run.output.replace("\r\n", "\n")
    assert "fspath: done" in ours, f"the program did not finish: {ours[-600:]!r}"
    return ours


def _differences(host: str, ours: str, pattern: str) -> list[str]:
    pick = re.compile(pattern)
    return line_diff("\n".join(x for x in host.splitlines() if pick.search(x)),
                     "\n".join(x for x in ours.splitlines() if pick.search(x)))


def test_paths_open_flags_and_attributes_answer_as_linux_does(vigil) -> None:
    """openat2 (open_how's size, flags and mode checks; RESOLVE_BENEATH,
    IN_ROOT, NO_SYMLINKS, NO_XDEV, NO_MAGICLINKS), O_PATH (read, write,
    ioctl, mmap, fgetxattr... EBADF; fstat, fcntl's descriptor commands,
    dirfd use, fchdir allowed), O_TMPFILE (no name, linkat gives one, O_EXCL
    never), xattrs on tmpfs (CREATE/REPLACE, ERANGE, 64 KiB, trusted.* hidden
    from others, security.* root's to write, user.* not on symlinks),
    renameat2 (NOREPLACE, EXCHANGE, WHITEOUT, bad combinations), ETXTBSY
    both ways (a running program's file is not opened for writing or
    truncated, a file open for writing is not run), O_NOATIME refused to
    another user, file handles (EOVERFLOW sizing, ESTALE after unlink),
    SEEK_DATA/SEEK_HOLE on a sparse file, the *at calls' flag checks: the
    same lines as on the host."""
    host = _host(vigil.art.rootfs)
    ours = _vigil(vigil)
    txt = _differences(host, ours, r"running program|open for writing|after it ended")
    assert not txt, ("a running program's file was writable (or a written file ran): "
                     + "\n".join(txt[:6]))
    opath = _differences(host, ours, r"^O_PATH ")
    assert not opath, "an O_PATH descriptor did what Linux refuses: " + "\n".join(opath[:6])
    diff = line_diff(host, ours)
    assert not diff, "Vigil's answers differ from Linux's:\n" + "\n".join(diff[:12])


def test_handles_and_attributes_on_the_disk_answer_as_linux_and_leave_it_clean(vigil) -> None:
    """On ext3 (Vigil's scratch disk) as on the host's ext4: file handles
    (the size asked with EOVERFLOW, the file opened again by its handle and
    read, bad sizes and pointers refused, ESTALE once the file is unlinked)
    and extended attributes in ext2's attribute block (CREATE/REPLACE,
    ERANGE, who may read and write which namespace, a symlink's own, a
    directory's, removed with their files); then e2fsck finds the disk
    clean (the block's hashes, counts and bitmaps as it checks them)."""
    host_dir = Path(tempfile.mkdtemp(prefix="vigil-fspath-"))   # nobody must reach it
    host_dir.chmod(0o755)
    try:
        r = subprocess.run([str(vigil.art.rootfs / "bin" / "fspath"), "disk", str(host_dir)],
                           capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(host_dir, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    _, disk = vigil.scratch_disk("handles")
    run = vigil.program(["/bin/fspath", "disk", "/scratch"], root_disk=disk, timeout=120)
    trouble = [x for x in run.console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    diff = line_diff(r.stdout, run.output.replace("\r\n", "\n"))
    assert not diff, "Vigil's handles and attributes differ from Linux's:\n" + "\n".join(diff[:12])
    fsck = subprocess.run(["e2fsck", "-fn", str(disk)], capture_output=True, text=True)
    assert fsck.returncode == 0, "the disk is not clean after attributes: " + fsck.stdout[-800:]


def test_old_getdents_lists_what_getdents64_lists_in_its_own_layout_as_linux_does(vigil) -> None:
    """getdents(2), the old call (d_type in a record's last byte): the same
    names, inode numbers and types as getdents64 for each kind of entry,
    through small buffers too; d_off resumes after its record; a closed
    descriptor, a regular file, a buffer too small for a record and bad
    pointers get Linux's errnos. user/tests/getdents.c, on the host (a
    tmpfs under /dev/shm) and on Vigil (/tmp), line for line."""
    with host_tmpfs_dir("getdents") as shm:
        r = subprocess.run([str(vigil.art.rootfs / "bin" / "getdents"), str(shm)],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "getdents: done" in r.stdout, r.stdout[-500:] + r.stderr
    run = vigil.program(["/bin/getdents", "/tmp"], timeout=120)
    trouble = [x for x in run.console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    ours = run.output.replace("\r\n", "\n")
    assert "getdents: done" in ours, f"the program did not finish: {ours[-600:]!r}"
    diff = _differences(r.stdout, ours, r".")
    assert not diff, "getdents differs from Linux:\n" + "\n".join(diff[:20])


@pytest.mark.invariant("kernel memory safety")
def test_a_failed_parent_lookup_leaves_the_file_alone_as_on_linux(vigil, tmp_path: Path) -> None:
    """symlink, link, rename (both sides), mknod, mkdir and unlink with a
    parent that is a regular file ("file/x": ENOTDIR) or a last name of
    256 bytes (ENAMETOOLONG), three times each, on tmpfs and on ext2: the
    host's errnos, and the file and directory unchanged afterwards (the
    failure had put the parent's inode twice: the file freed while its
    directory still named it, trinity's seed 392). And a removed directory,
    held by a descriptor and as the working directory, takes no new name
    (mkdir, O_CREAT, mknod, symlink, link, rename: ENOENT), lists nothing
    (getdents: ENOENT), and its ".." still leads where it was; e2fsck finds
    the disk clean. user/tests/parentput.c on the host and on Vigil, line
    for line."""
    disk_dir = tmp_path / "onhost"
    disk_dir.mkdir()
    with host_tmpfs_dir("parentput") as shm:
        prog = str(vigil.art.rootfs / "bin" / "parentput")
        host = subprocess.run([prog, str(shm), str(disk_dir)], capture_output=True, text=True,
                              timeout=60)
    assert "parentput done" in host.stdout, host.stdout + host.stderr
    _, disk = vigil.scratch_disk("parentput")
    run = vigil.program(["/bin/parentput", "/tmp", "/scratch"], root_disk=disk, timeout=120,
                        check=False)
    bug = kernel_bug(run.console)
    assert not bug, "a failed parent lookup put the parent's inode twice: " + bug
    check_kernel_health(run.console)
    assert "parentput done" in run.output, run.console[-1500:]
    ours = run.output.replace("\r\n", "\n")
    gone = _differences(host.stdout, ours, r"^gone ")
    assert not gone, "a removed directory took a new name:\n" + "\n".join(gone[:8])
    diff = line_diff(host.stdout, ours)
    assert not diff, "the calls answer differently from Linux:\n" + "\n".join(diff[:8])
    ok, report = fsck(disk)
    assert ok, "after the calls e2fsck finds the disk inconsistent:\n" + report


@pytest.mark.invariant("kernel memory safety")
def test_path_calls_at_random_never_misplace_a_reference(vigil) -> None:
    """Four processes make 2,000 path calls each, at random, over one small
    tree of nasty names (a file used as a directory, 255- and 256-byte
    names, dangling and looping symlinks, a FIFO, /proc's magic links),
    on tmpfs and on ext2: any answer will do, but the kernel must say no
    "BUG:" (an inode's reference taken or put after its last one went)
    and e2fsck must find the disk clean. user/tests/pathfuzz.c, 2 CPUs."""
    _, disk = vigil.scratch_disk("pathfuzz")
    run = vigil.program(["/bin/pathfuzz", "2000", "/tmp", "/scratch"], root_disk=disk, smp=2,
                        timeout=300, check=False)
    bug = kernel_bug(run.console)
    assert not bug, "a path call misplaced an inode reference: " + bug
    check_kernel_health(run.console)
    assert "pathfuzz done" in run.output, run.console[-1500:]
    ended = re.findall(r"pathfuzz: (\S+): 4 processes, \d+ calls each, (\d+) ended badly",
                       run.output)
    assert [d for d, _ in ended] == ["/tmp", "/scratch"] and all(n == "0" for _, n in ended), \
        run.output
    ok, report = fsck(disk)
    assert ok, "after path calls at random e2fsck finds the disk inconsistent:\n" + report


def test_working_directory_names_follow_the_walk_as_on_linux(vigil) -> None:
    """getcwd and readlink(/proc/self/cwd) after chdir through a symlink
    and "..", through /proc/self/cwd (twice, and with ".." after it), and
    the names of descriptors opened through /proc/self/fd/N (twice over):
    the host's lines. A name that went through /proc/self/cwd again made
    each readlink resolve it again without end (a kernel stack overflow,
    found by pathfuzz). user/tests/cwdnames.c on the host and on Vigil."""
    with host_tmpfs_dir("cwdnames") as shm:
        host = subprocess.run([str(vigil.art.rootfs / "bin" / "cwdnames"), str(shm)],
                              capture_output=True, text=True, timeout=60)
    assert "cwdnames done" in host.stdout, host.stdout + host.stderr
    run = vigil.program(["/bin/cwdnames", "/tmp"], timeout=120)
    assert "cwdnames done" in run.output, run.console[-1500:]
    diff = line_diff(host.stdout, run.output.replace("\r\n", "\n"))
    assert not diff, ("the working directory is named differently from Linux:\n"
                      + "\n".join(diff[:8]))
