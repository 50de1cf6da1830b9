"""ext2 (as mke2fs -t ext3 writes it) as Vigil's root file system. The
oracle is the host: the same `tree` program over the same directory, and
e2fsprogs for what the image holds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from harness.image import disk_args, fsck, make_ext3
from tests.conftest import check_kernel_health, kernel_bug


def _stage(src, dst, big_mb: int = 6):
    """The rootfs plus files that need every kind of block mapping."""
    shutil.copytree(src, dst, symlinks=True)
    data = dst / "data"
    (data / "deep" / "er" / "still").mkdir(parents=True)
    (data / "big").write_bytes(os.urandom(big_mb << 20))          # double-indirect blocks
    with open(data / "sparse", "wb") as f:                          # holes read as zeros
        f.seek(5 << 20)
        f.write(b"end of a sparse file")
    (data / "small").write_text("hello from the host\n")
    (data / ("n" * 255)).write_text("a name of 255 bytes\n")
    (data / "deep" / "er" / "still" / "file").write_text("nested\n")
    os.symlink("small", data / "fastlink")                          # target in the inode
    os.symlink("deep/er/" + "x" * 80 + "/../still/file", data / "slowlink")  # in a block
    (data / "deep" / "er" / ("x" * 80)).mkdir()
    os.chmod(data / "small", 0o640)
    return dst


@pytest.fixture(scope="module", params=[4096, 1024], ids=["4k-blocks", "1k-blocks"])
def staged_image(request, tmp_path_factory, art):
    tmp = tmp_path_factory.mktemp(f"ext2-{request.param}")
    tree = _stage(art.rootfs, tmp / "tree")
    img = make_ext3(tree, tmp / "root.img", size_mb=64, block_size=request.param)
    return tree, img


_MOUNTED_AT_BOOT = re.compile(r" /(dev|run|tmp|proc|sys)(/.*)?$|^/(proc|sys)/")


def test_files_made_on_the_host_read_back_exactly(vigil, staged_image, tmp_path) -> None:
    tree, img = staged_image
    disk = tmp_path / "disk.img"
    shutil.copy(img, disk)
    guest = vigil.program(["/bin/tree", "/"], root_disk=disk, timeout=300)
    host = vigil.host(["/bin/tree", "/"], root=tree)
    assert "vigil: root file system: ext2" in guest.console
    assert guest.status == 0
    # mke2fs adds lost+found; /dev, /run, /tmp (tmpfs), /proc and /sys are mounts the
    # kernel makes at boot, not the disk; everything else must match to the byte.
    lines = [x for x in guest.output.splitlines()
             if not x.endswith(" /lost+found") and not _MOUNTED_AT_BOOT.search(x)]
    assert lines == [x for x in host.output.splitlines() if not _MOUNTED_AT_BOOT.search(x)]
    ok, report = fsck(disk)
    assert ok, report


@pytest.mark.invariant("durability")
def test_one_file_opened_at_once_by_two_processes_is_one_inode(vigil) -> None:
    """ext2 reads an inode in from its table while the lookup sleeps on
    the disk; a second lookup of the same file meanwhile must end with the
    same in-memory inode, not a copy with its own size and block map.
    user/tests/oneinode.c: each round drops the caches, and two children
    on two CPUs open the same 16 files in opposite orders; one appends a
    byte to each and the other must see each new size through its own
    descriptor. e2fsck finds the disk clean afterwards."""
    _, disk = vigil.scratch_disk("oneinode")
    run = vigil.program(["/bin/oneinode", "/scratch", "20"], root_disk=disk, smp=2, timeout=300)
    assert "oneinode done" in run.output, run.console[-1500:]
    m = re.search(r"oneinode: (\d+) rounds of (\d+) files, (\d+) opened twice over, (\d+) children "
                  r"failed; the files hold (\d+) bytes", run.output)
    assert m, run.output
    rounds, files, split, failed, size = map(int, m.groups())
    assert split == 0, (f"two processes opening one file at once got two inodes ({split} files in "
                        f"{rounds} rounds): a write through one was not seen through the other")
    assert failed == 0 and size == rounds * files, run.output
    # /proc/sys/vm/drop_caches itself, as Linux: 1-4 or EINVAL, unreadable even
    # by root, writable only by root.
    for value in ("0", "5", "-1", "x"):
        assert f"drop_caches {value}: Invalid argument" in run.output, run.output
    assert "drop_caches read: Permission denied" in run.output, run.output
    assert "drop_caches by nobody: Permission denied" in run.output, run.output
    ok, report = fsck(disk)
    assert ok, report


@pytest.mark.invariant("kernel memory safety")
def test_a_working_directory_released_is_never_reached_again(vigil) -> None:
    """A removed directory that was someone's working directory is freed
    when they leave it, and the release sleeps on the disk; meanwhile a
    thread sharing the working directory (a relative stat) and another
    process (/proc/PID/cwd/x) keep looking it up. Neither may take a
    reference to the dying inode (the kernel reports one as "BUG:"), and
    every lookup answers with an errno. user/tests/cwdgone.c, 2 CPUs."""
    _, disk = vigil.scratch_disk("cwdgone")
    run = vigil.program(["/bin/cwdgone", "/scratch", "40"], root_disk=disk, smp=2, timeout=300,
                        check=False)
    bug = kernel_bug(run.console, "vfs")
    assert not bug, "a lookup reached a working directory whose last reference went: " + bug
    check_kernel_health(run.console)
    assert "cwdgone done" in run.output, run.console[-1500:]
    assert re.search(r"cwdgone: 40 rounds, 0 failed, 0 stats", run.output), run.output
    ok, report = fsck(disk)
    assert ok, report


def test_programs_run_from_the_disk(vigil, staged_image, tmp_path) -> None:
    _, img = staged_image
    disk = tmp_path / "disk.img"
    shutil.copy(img, disk)
    guest = vigil.program(["/bin/forktree"], root_disk=disk)
    assert guest.status == 42
    assert guest.output == vigil.host(["/bin/forktree"]).output


def test_corrupt_superblock_is_refused_without_panic(vigil, tmp_path, art) -> None:
    disk = make_ext3(art.rootfs, tmp_path / "bad.img", size_mb=16)
    with open(disk, "r+b") as f:                                    # break the magic
        f.seek(1024 + 0x38)
        f.write(b"\0\0")
    run = vigil.program(["/bin/hello"], root_disk=disk)
    assert "ext2: no ext2 file system on the disk" in run.console
    assert "falling back to the initrd" in run.console
    assert run.output == "hello, world\n" and run.status == 0


def test_bad_block_number_is_an_error_not_a_wild_read(vigil, tmp_path, art) -> None:
    tree = _stage(art.rootfs, tmp_path / "tree", big_mb=1)
    disk = make_ext3(tree, tmp_path / "bad.img", size_mb=64)
    subprocess.run(["debugfs", "-w", "-R", "sif /data/big block[3] 999999999", str(disk)],
                   check=True, capture_output=True)
    run = vigil.program(["/bin/tree", "/data"], root_disk=disk)
    assert "ext2: corrupt file system: data block number 999999999" in run.console
    assert run.status == 0, "the kernel and the reader both carried on"
    assert "/data/small" in run.output


def test_file_syscalls_match_linux_and_leave_fsck_clean(vigil, tmp_path, art) -> None:
    host_tree, _ = vigil.scratch_disk("host")
    _, disk = vigil.scratch_disk("vigil")
    argv = ["/bin/files", "/scratch"]
    guest = vigil.program(argv, root_disk=disk)
    host = vigil.host(argv, root=host_tree)
    assert guest.status == host.status == 0
    assert guest.output == host.output
    ok, report = fsck(disk)
    assert ok, report


def test_what_vigil_writes_debugfs_reads_back_exactly(vigil, tmp_path, art) -> None:
    """Interoperability: the same program writes a tree on Linux (ext4 or
    whatever the host has) and on Vigil (ext2); debugfs, not Vigil, reads
    Vigil's back out of the image; the two trees must be identical."""
    host_tree, _ = vigil.scratch_disk("host")
    _, disk = vigil.scratch_disk("vigil")
    argv = ["/bin/mkfiles", "/scratch"]
    guest = vigil.program(argv, root_disk=disk, timeout=300)
    assert guest.status == 0 and "mkfiles: done" in guest.output
    assert vigil.host(argv, root=host_tree).status == 0
    ok, report = fsck(disk)
    assert ok, report
    out = tmp_path / "dumped"
    out.mkdir()
    subprocess.run(["debugfs", "-R", f"rdump /scratch {out}", str(disk)],
                   check=True, capture_output=True)
    ours, theirs = out / "scratch", host_tree / "scratch"
    names = sorted(p.relative_to(theirs) for p in theirs.rglob("*"))
    assert sorted(p.relative_to(ours) for p in ours.rglob("*")) == names
    for rel in names:
        a, b = theirs / rel, ours / rel
        if a.is_symlink():
            assert os.readlink(a) == os.readlink(b), rel
        elif a.is_file():
            assert a.read_bytes() == b.read_bytes(), rel
            assert (a.stat().st_mode & 0o7777) == (b.stat().st_mode & 0o7777), rel
    # The hard link is one inode with two names on the disk too.
    stat = subprocess.run(["debugfs", "-R", "stat /scratch/hard-link", str(disk)],
                          capture_output=True, text=True).stdout
    assert "Links: 2" in stat


def test_data_survives_a_clean_reboot(vigil, tmp_path, art) -> None:
    _, disk = vigil.scratch_disk("vigil")
    first = vigil.program(["/bin/mkfiles", "/scratch"], root_disk=disk, timeout=300)
    assert first.status == 0
    second = vigil.program(["/bin/tree", "/scratch"], root_disk=disk)
    assert second.status == 0
    assert "f 0644    5242880" in second.output and "/scratch/dir/sub/leaf" in second.output


def test_full_disk_is_enospc_and_recoverable(vigil, tmp_path, art) -> None:
    # 16 MB: the initrd's tree (some 7 MB, growing with user/tests) and room to fill
    _, disk = vigil.scratch_disk("small", size_mb=16)
    run = vigil.program(["/bin/fill", "/scratch"], root_disk=disk, timeout=300)
    assert "stopped after some data with ENOSPC" in run.output, run.output
    assert "unlink: 0" in run.output and "write after freeing: 3" in run.output
    ok, report = fsck(disk)
    assert ok, report


def compare_outcomes(guest: str, host: str) -> None:
    """perms prints one line per attempt: what, then "ok" or the error. Vigil
    must give Linux's outcome for each; an "ok" where Linux refuses is the
    symptom of a missing permission check and is named as such."""
    g, h = guest.splitlines(), host.splitlines()
    allowed = [f"{a[:36].strip()} (Linux: {b[36:].strip()})" for a, b in zip(g, h, strict=False)
               if a[:36] == b[:36] and a[36:].strip() == "ok" and b[36:].strip() != "ok"]
    assert not allowed, "Vigil allowed what Linux denies: " + "; ".join(allowed)
    diff = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, h, strict=False) if a != b]
    assert guest == host, "the permission outcomes differ from Linux:\n" + "\n".join(diff[:8]) + \
        (f"\n({len(g)} lines on Vigil, {len(h)} on Linux)" if len(g) != len(h) else "")


@pytest.mark.invariant("privilege")
def test_unix_permissions_match_linux(vigil, tmp_path, art) -> None:
    """Mode bits and owners decide access for a non-root process (setuid to
    1000), exactly as on Linux: read, write, search, create, remove, chmod,
    chown, access(2) and exec."""
    host_tree, _ = vigil.scratch_disk("host")
    _, disk = vigil.scratch_disk("vigil")
    argv = ["/bin/perms", "/scratch"]
    guest = vigil.program(argv, root_disk=disk)
    host = vigil.host(argv, root=host_tree)
    assert host.status == 0 and "Permission denied" in host.output, host.output
    compare_outcomes(guest.output, host.output)
    assert guest.status == 0
    ok, report = fsck(disk)
    assert ok, report


def test_mount_and_umount_the_disk(vigil, tmp_path, art) -> None:
    """mount(2)/umount2(2) with the initrd as root: errors as Linux gives
    them, files written through the mount point land on the disk, '..'
    leaves the mounted file system, a read-only mount refuses writes."""
    _, disk = vigil.scratch_disk("vigil")
    run = vigil.program(["/bin/mounter"], extra=disk_args(disk))
    expected = {
        "mount bad type": "No such device", "mount on a file": "Not a directory",
        "mount /dev/vda on /mnt": "ok", "mount it again": "Resource busy",
        "create /mnt/scratch/note": "ok", "umount while busy": "Resource busy",
        "stat ../../bin/hello": "ok", "umount as a user": "Operation not permitted",
        "umount /mnt": "ok", "stat /mnt/scratch after": "No such file or directory",
        "write on read-only": "Read-only file system",
        "remount ext2 read-write": "Resource busy", "create on tmpfs": "ok",
        "remount tmpfs ro": "ok", "create on ro tmpfs": "Read-only file system",
        "open for writing on ro tmpfs": "Read-only file system",
        "mkdir on ro tmpfs": "Read-only file system",
        "chmod on ro tmpfs": "Read-only file system",
        "unlink on ro tmpfs": "Read-only file system",
        "remount tmpfs rw": "ok",
        "create after rw": "ok", "remount a non-mount point": "Invalid argument",
    }
    got = {line[:32].strip(): line[32:].strip() for line in run.output.splitlines()}
    for what, result in expected.items():
        assert got.get(what) == result, f"{what}: {got.get(what)!r}\n{run.output}"
    assert "note: through a mount point" in run.output
    ok, report = fsck(disk)
    assert ok, report
    note = subprocess.run(["debugfs", "-R", "cat /scratch/note", str(disk)],
                          capture_output=True, text=True).stdout
    assert note == "through a mount point\n"
