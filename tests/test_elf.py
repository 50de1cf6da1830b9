"""The kernel image itself: higher-half entry, W^X segments, a Multiboot
header where loaders look for it (lief reads the ELF)."""

from __future__ import annotations

from harness import elfcheck


def test_kernel_image_is_higher_half_wx_and_multiboot(art) -> None:
    assert elfcheck.problems(art.kernel_elf, art.kernel_mb) == []


def test_elfcheck_notices_a_missing_multiboot_header(tmp_path) -> None:
    assert elfcheck.multiboot_header_offset(b"\0" * 9000) is None
    good = (0x1BADB002).to_bytes(4, "little") + (3).to_bytes(4, "little")
    good += ((-(0x1BADB002 + 3)) & 0xFFFFFFFF).to_bytes(4, "little")
    assert elfcheck.multiboot_header_offset(b"\0" * 4096 + good) == 4096
