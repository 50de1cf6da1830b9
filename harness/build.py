"""Run the Makefile (incremental) and name what it built."""

from __future__ import annotations

import fcntl
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .config import ROOT, build_dir


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Artifacts:
    dir: Path
    kernel_elf: Path  # ELF64 with symbols: gdb, lief, symbol lookups
    kernel_mb: Path  # the 32-bit copy QEMU's -kernel boots
    initrd: Path  # cpio (newc) of rootfs/
    rootfs: Path  # the user programs as installed in the initrd

    @property
    def root_image(self) -> Path:
        """The Debian root file system (ext3; harness/debian.py): boot copies."""
        return self.rootfs.parent / "root.img"


def artifacts(break_name: str | None = None) -> Artifacts:
    d, user = build_dir(break_name), build_dir(None)  # user programs are shared
    return Artifacts(d, d / "kernel.elf", d / "kernel.mb.elf",
                     user / "initrd.cpio", user / "rootfs")


def build(break_name: str | None = None, quiet: bool = True) -> Artifacts:
    """make, holding a lock so parallel test workers never build at once."""
    lock_path = ROOT / "build" / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["make", f"-j{os.cpu_count() or 2}"]
    if quiet:
        cmd.append("-s")
    if break_name:
        cmd.append(f"BREAK={break_name}")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=quiet, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return artifacts(break_name)
