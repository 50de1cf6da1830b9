"""Checks of the built kernel image that need no boot, made with lief."""

from __future__ import annotations

import struct
from pathlib import Path

import lief

from .config import KERNEL_VMA

MULTIBOOT_MAGIC = 0x1BADB002


def _wx_segments(binary: lief.ELF.Binary) -> list[str]:
    bad = []
    for seg in binary.segments:
        if seg.type != lief.ELF.Segment.TYPE.LOAD:
            continue
        flags = seg.flags
        if (flags & lief.ELF.Segment.FLAGS.W) and (flags & lief.ELF.Segment.FLAGS.X):
            bad.append(f"segment at 0x{seg.virtual_address:x} is writable and executable")
    return bad


def multiboot_header_offset(data: bytes) -> int | None:
    """File offset of a valid Multiboot 1 header in the first 8 KiB."""
    for off in range(0, min(len(data), 8192) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", data, off)
        if magic == MULTIBOOT_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return off
    return None


def problems(kernel_elf: Path, kernel_mb: Path) -> list[str]:
    out: list[str] = []
    elf64 = lief.ELF.parse(str(kernel_elf))
    if elf64 is None:
        return [f"{kernel_elf}: not an ELF file"]
    if elf64.header.entrypoint < KERNEL_VMA:
        out.append(f"entry 0x{elf64.header.entrypoint:x} is not in the higher half")
    out += [f"{kernel_elf.name}: {p}" for p in _wx_segments(elf64)]
    mb = lief.ELF.parse(str(kernel_mb))
    if mb is None:
        return out + [f"{kernel_mb}: not an ELF file"]
    out += [f"{kernel_mb.name}: {p}" for p in _wx_segments(mb)]
    if multiboot_header_offset(kernel_mb.read_bytes()) is None:
        out.append(f"{kernel_mb.name}: no Multiboot header in the first 8 KiB")
    return out
