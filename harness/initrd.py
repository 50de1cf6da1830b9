"""Write a cpio archive in the "newc" format (the one Linux's initramfs and
Vigil's initrd read) from a directory tree, plus optional extra files.

  python3 harness/initrd.py OUT.cpio ROOTDIR [--add ARCHIVE_PATH=HOST_FILE ...]
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path


def _header(ino: int, mode: int, size: int, name: bytes) -> bytes:
    fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return b"070701" + b"".join(f"{v:08x}".encode() for v in fields)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def entry(ino: int, mode: int, name: str, data: bytes = b"") -> bytes:
    raw = name.encode()
    head = _header(ino, mode, len(data), raw) + raw + b"\0"
    return head + _pad(len(head)) + data + _pad(len(data))


def build(root: Path, extra: dict[str, Path | bytes] | None = None) -> bytes:
    """Every directory and regular file under root, sorted, then the extras."""
    out = bytearray()
    ino = 1
    names: set[str] = set()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            out += entry(ino, stat.S_IFDIR | 0o755, rel)
            ino += 1
        for f in sorted(filenames):
            path = Path(dirpath) / f
            name = os.path.normpath(os.path.join(rel, f))
            mode = stat.S_IFREG | (path.stat().st_mode & 0o777)
            out += entry(ino, mode, name, path.read_bytes())
            names.add(name)
            ino += 1
    for name, src in (extra or {}).items():
        name = name.lstrip("/")
        data = src if isinstance(src, bytes) else Path(src).read_bytes()
        mode = 0o755
        out += entry(ino, stat.S_IFREG | mode, name, data)
        ino += 1
    out += entry(0, 0, "TRAILER!!!")
    return bytes(out)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    extra: dict[str, Path | bytes] = {}
    for arg in argv[3:]:
        if arg == "--add":
            continue
        name, _, host = arg.partition("=")
        extra[name] = Path(host)
    Path(argv[1]).write_bytes(build(Path(argv[2]), extra))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
