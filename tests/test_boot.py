"""The foundation: Vigil boots to C, reads what the boot loader gave it and
sets up its timer."""

from __future__ import annotations

import re
import secrets

import pytest


@pytest.mark.parametrize("mib", [256, 512])
def test_boot_reaches_c_and_reads_memory_map(vigil, mib: int) -> None:
    marker = secrets.token_hex(4)
    r = vigil.boot(f"exit marker={marker}", mem=f"{mib}M")
    assert r.exit.kind == "ok", r.exit
    # The command line arrives intact.
    assert f'boot: cmdline "exit marker={marker}"' in r.output
    # The memory map it read matches the memory QEMU was given.
    m = re.search(r"mm: memory map: (\d+) entries, (\d+) KiB usable", r.output)
    assert m, "no memory map line"
    entries, usable_kib = int(m.group(1)), int(m.group(2))
    assert entries >= 2
    assert (mib - 16) * 1024 <= usable_kib <= mib * 1024
    # The frame allocator manages (about) that much.
    f = re.search(r"mm: (\d+) frames free of (\d+)", r.output)
    assert f and int(f.group(2)) * 4 <= usable_kib and int(f.group(2)) * 4 > usable_kib - 8192


def test_timer_runs_at_documented_rate(vigil) -> None:
    r = vigil.boot("exit")
    assert re.search(r"timer: lapic 100 Hz", r.output)
    assert r.exit.kind == "ok"
