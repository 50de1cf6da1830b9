"""The file syscalls Debian's programs need beside open/read/write
(issue 15): statfs, statx, utimensat and friends, extended attributes,
fallocate, flock and POSIX record locks, sendfile, copy_file_range,
memfd_create with seals, syncfs. user/tests/sysfiles.c tries each with
good and bad input; on the host's Linux (ext4 in a temporary directory,
tmpfs on /dev/shm) and on Vigil (ext3 as the root disk, its tmpfs on
/dev/shm) every line must be the same: the answer, or the errno."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from harness.compare import line_diff

_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)


def _host(rootfs: Path, argv: list[str]) -> str:
    r = subprocess.run([str(rootfs / "bin" / argv[0]), *argv[1:]], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout[-500:] + r.stderr
    return r.stdout



def test_file_syscalls_answer_as_linux_does(vigil, tmp_path: Path) -> None:
    """statfs (the ext2/3/4 and tmpfs magic numbers, sane counts, bad
    pointers), statx (mask, agreement with stat, AT_EMPTY_PATH, sync flags),
    utimensat/futimens/utimes/utime/futimesat (UTIME_NOW, UTIME_OMIT, the
    EACCES/EPERM rules for another user), xattrs (ENODATA, EOPNOTSUPP,
    ERANGE), fallocate (sizes, zeros, data kept, every mode's errno), flock
    (shared, exclusive, conversion, release at the last close, a sleeper
    woken), POSIX locks (F_GETLK's report, splitting, release on any close
    and at exit, F_SETLKW), sendfile and copy_file_range (offsets, errors),
    memfd seals: the same lines as on the host."""
    tree, disk = vigil.scratch_disk("files")
    host = _host(vigil.art.rootfs, ["sysfiles", str(tmp_path), "/dev/shm"])
    run = vigil.program(["/bin/sysfiles", "/scratch", "/dev/shm"], root_disk=disk, timeout=300)
    trouble = [x for x in run.console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    ours = run.output.replace("\r\n", "\n")
    assert "sysfiles: done" in ours, f"the program did not finish: {ours[-600:]!r}"
    diff = line_diff(host, ours)
    assert not diff, "Vigil's answers differ from Linux's:\n" + "\n".join(diff[:12])


def _dumpe2fs(image: Path) -> dict[str, int]:
    out = subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True,
                         check=True).stdout
    return {k.strip(): int(v) for k, v in re.findall(r"^([A-Za-z ]+):\s+(\d+)$", out, re.M)}


def test_statfs_reports_the_ext2_superblock_and_the_tmpfs_limit(vigil, tmp_path: Path) -> None:
    """statfs on the ext3 root gives EXT2_SUPER_MAGIC and the superblock's
    own counts (free blocks and inodes as dumpe2fs reads them from the image
    Vigil booted, blocks less the metadata overhead, bavail less the
    reserve); on /dev/shm TMPFS_MAGIC with its size limit in pages."""
    _, disk = vigil.scratch_disk("statfs")
    sb = _dumpe2fs(disk)
    run = vigil.program(["/bin/sysfiles", "statfs", "/"], root_disk=disk)
    m = re.search(r"type 0x(\w+) bsize (\d+) blocks (\d+) bfree (\d+) bavail (\d+) files (\d+) "
                  r"ffree (\d+)", run.output)
    assert m, run.output[-500:]
    kind, bsize, blocks, bfree, bavail, files, ffree = (int(x, 16 if i == 0 else 10)
                                                        for i, x in enumerate(m.groups()))
    assert kind == 0xEF53, f"the root's f_type is {kind:#x}, not EXT2_SUPER_MAGIC"
    assert bsize == sb["Block size"]
    assert (bfree, files, ffree) == (sb["Free blocks"], sb["Inode count"], sb["Free inodes"]), (
        f"statfs says bfree {bfree} files {files} ffree {ffree}; the superblock {sb}")
    assert bavail == bfree - sb["Reserved block count"]
    assert bfree < blocks < sb["Block count"], \
        "f_blocks must leave out the metadata, not exceed the disk"
    shm = vigil.program(["/bin/sysfiles", "statfs", "/dev/shm"])
    m = re.search(r"type 0x(\w+) bsize (\d+) blocks (\d+) bfree (\d+)", shm.output)
    assert m and int(m.group(1), 16) == 0x01021994, shm.output[-300:]
    assert int(m.group(2)) == 4096 and 0 < int(m.group(4)) <= int(m.group(3))
