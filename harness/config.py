"""Where things are, and the numbers the kernel and the harness share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QBOOT = Path("/usr/share/qemu/qboot.rom")

# Guest exit codes written to isa-debug-exit (kernel/arch/x86_64/arch.h).
# QEMU exits with (code << 1) | 1.
EXIT_OK = 0x10
EXIT_TEST_FAIL = 0x11
EXIT_PANIC = 0x50

KERNEL_VMA = 0xFFFFFFFF80000000

# Kernel stacks are KSTACK_PAGES (kernel/mm/mm.h) = 16 KiB; the tests fail
# a run whose deepest stack use (reported at power-off) passes three
# quarters of that: the rest is the margin for what the tests did not do.
KSTACK_BYTES = 16 * 1024
KSTACK_LIMIT = 12 * 1024


def build_dir(break_name: str | None = None) -> Path:
    """The build directory of the default kernel or of a broken one."""
    return ROOT / "build" / f"break-{break_name}" if break_name else ROOT / "build"
