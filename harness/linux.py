"""Debian's own Linux kernel as the benchmark's reference: fetch the package
linux-image-amd64 depends on (apt-get download, then dpkg-deb -x into a
cache under build/linux), and build the initramfs it boots: the benchmark
binaries, /bin/bench-run as its first process, /dev/console, and the
modules the disk needs (virtio_pci, virtio_blk, ext4 and what they depend
on: Debian builds them as modules), with the order to load them in."""

from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import initrd as cpio
from .config import ROOT

META_PACKAGE = "linux-image-amd64"
# What the benchmark disk needs; crc32c_generic because ext4 and jbd2 only
# name "crypto-crc32c" as a soft dependency, which nothing would load.
ROOT_MODULES = ["crc32c_generic", "virtio_pci", "virtio_blk", "ext4"]


class LinuxUnavailable(RuntimeError):
    """The reference kernel could not be had (no apt, no network...)."""


@dataclass(frozen=True)
class LinuxKernel:
    package: str  # e.g. linux-image-6.1.0-50-amd64
    version: str  # the module directory's name, e.g. 6.1.0-50-amd64
    vmlinuz: Path
    modules: Path  # lib/modules/VERSION


def resolve_package(meta: str = META_PACKAGE) -> str:
    """The real kernel package the metapackage depends on (on a fresh
    machine, as root, after reading the package lists once)."""
    r = subprocess.run(["apt-cache", "depends", meta], capture_output=True, text=True)
    m = re.search(r"Depends: (linux-image-\S+)", r.stdout)
    if not m and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        r = subprocess.run(["apt-cache", "depends", meta], capture_output=True, text=True)
        m = re.search(r"Depends: (linux-image-\S+)", r.stdout)
    if not m:
        raise LinuxUnavailable(f"apt-cache depends {meta} named no kernel package "
                               f"(run apt-get update?): {r.stdout}{r.stderr}")
    return m.group(1)


def fetch(cache: Path | None = None) -> LinuxKernel:
    """The kernel and its modules, downloaded and unpacked once per package."""
    cache = cache or ROOT / "build" / "linux"
    package = resolve_package()
    dest = cache / package
    if not (dest / ".complete").exists():
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            os.chmod(tmp, 0o755)  # apt's _apt user may write there then
            r = subprocess.run(["apt-get", "download", package], cwd=tmp,
                               capture_output=True, text=True)
            debs = list(Path(tmp).glob("*.deb"))
            if r.returncode != 0 or not debs:
                raise LinuxUnavailable(f"apt-get download {package} failed: {r.stderr}")
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(dest)], check=True)
        (dest / ".complete").write_text(package + "\n")
    vmlinuz = sorted((dest / "boot").glob("vmlinuz-*"))
    mods = sorted((dest / "lib" / "modules").glob("*"))
    if not vmlinuz or not mods:
        raise LinuxUnavailable(f"{dest} holds no vmlinuz or no modules")
    return LinuxKernel(package, mods[-1].name, vmlinuz[-1], mods[-1])


def module_name(path: Path) -> str:
    name = path.name.split(".ko")[0]
    return name.replace("-", "_")


def read_module(path: Path) -> bytes:
    data = path.read_bytes()
    return lzma.decompress(data) if path.name.endswith(".xz") else data


def modinfo(elf: bytes) -> dict[str, list[str]]:
    """The key=value strings of a module's .modinfo section (ELF64, little
    endian), every value of each key."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(i: int) -> tuple[int, int, int]:
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    info: dict[str, list[str]] = {}
    for i in range(shnum):
        name, off, size = section(i)
        if elf[stroff + name: elf.index(b"\0", stroff + name)] != b".modinfo":
            continue
        for item in elf[off: off + size].split(b"\0"):
            key, sep, value = item.decode("utf-8", "replace").partition("=")
            if sep:
                info.setdefault(key, []).append(value)
    return info


def load_order(modules: Path, roots: list[str]) -> list[Path]:
    """The .ko files roots need, dependencies first (built-in modules are
    not files and need nothing)."""
    files = {module_name(p): p for p in modules.rglob("*.ko*")
             if re.search(r"\.ko(\.xz)?$", p.name)}
    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        if name not in files:
            raise LinuxUnavailable(f"module {name} not found under {modules}")
        deps = modinfo(read_module(files[name])).get("depends", [""])[0]
        for dep in filter(None, deps.split(",")):
            visit(dep.replace("-", "_"))
        order.append(files[name])

    for root in roots:
        visit(root)
    return order


def _node(ino: int, mode: int, name: str, major: int, minor: int) -> bytes:
    """A newc entry for a device node (initrd.entry writes rdev 0)."""
    raw = name.encode()
    fields = [ino, mode, 0, 0, 1, 0, 0, 0, 0, major, minor, len(raw) + 1, 0]
    head = b"070701" + b"".join(f"{v:08x}".encode() for v in fields) + raw + b"\0"
    return head + b"\0" * (-len(head) % 4)


def make_initramfs(kernel: LinuxKernel, rootfs: Path, out: Path) -> Path:
    """The benchmark programs of rootfs/bin (bench-*) and the modules."""
    parts: list[bytes] = []
    ino = 1

    def add(mode: int, name: str, data: bytes = b"") -> None:
        nonlocal ino
        parts.append(cpio.entry(ino, mode, name, data))
        ino += 1

    for d in ["bin", "dev", "proc", "mnt", "lib", "lib/modules", "lib/modules/bench"]:
        add(stat.S_IFDIR | 0o755, d)
    parts.append(_node(ino, stat.S_IFCHR | 0o600, "dev/console", 5, 1))
    ino += 1
    for prog in sorted((rootfs / "bin").glob("bench-*")):
        add(stat.S_IFREG | 0o755, f"bin/{prog.name}", prog.read_bytes())
    names = []
    for ko in load_order(kernel.modules, ROOT_MODULES):
        names.append(module_name(ko) + ".ko")
        add(stat.S_IFREG | 0o644, f"lib/modules/bench/{names[-1]}", read_module(ko))
    add(stat.S_IFREG | 0o644, "lib/modules/bench/order", "".join(n + "\n" for n in names).encode())
    parts.append(cpio.entry(0, 0, "TRAILER!!!"))
    out.write_bytes(b"".join(parts))
    return out
