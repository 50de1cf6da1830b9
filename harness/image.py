"""Disk images for Vigil, made by e2fsprogs (never by hand): ext3 as
`mke2fs -t ext3 -d DIR` writes it, with the features Vigil does not support
switched off explicitly. `e2fsck -fn` is the independent judge of an
image's consistency."""

from __future__ import annotations

import subprocess
from pathlib import Path

# ext3 = ext2 + has_journal. Named here so a newer mke2fs default can never
# slip in a feature Vigil would refuse to mount.
FEATURES_OFF = ["64bit", "extent", "flex_bg", "huge_file", "metadata_csum", "dir_nlink",
                "extra_isize", "inline_data", "mmp", "encrypt", "casefold"]


def make_ext3(src: Path, out: Path, size_mb: int = 64, block_size: int = 4096,
              inodes: int | None = None) -> Path:
    out.unlink(missing_ok=True)
    opts = ",".join("^" + f for f in FEATURES_OFF)
    count = ["-N", str(inodes)] if inodes else []
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", "ext3", "-b", str(block_size), "-I", "256", "-O", opts,
         *count, "-L", "vigil", "-E", "root_owner=0:0", "-d", str(src), str(out), f"{size_mb}M"],
        check=True, capture_output=True, text=True)
    return out


def fsck(image: Path) -> tuple[bool, str]:
    """e2fsck -fn: (clean?, what it said)."""
    r = subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def disk_args(image: Path, drive_id: str = "d0") -> list[str]:
    """QEMU arguments for a virtio-blk disk with a write-back cache (so that
    FLUSH matters, as on a real disk)."""
    return ["-drive", f"file={image},if=none,id={drive_id},format=raw,cache=writeback",
            "-device", f"virtio-blk-pci,drive={drive_id}"]


def debugfs_dump(image: Path, path: str, out: Path) -> bytes | None:
    """A file's bytes as debugfs (not Vigil) reads them from image; None if absent."""
    subprocess.run(["debugfs", "-R", f"dump {path} {out}", str(image)], capture_output=True)
    return out.read_bytes() if out.exists() else None
