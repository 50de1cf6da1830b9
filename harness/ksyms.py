"""Generate the kernel's built-in symbol table (build/ksyms.c) from a linked image.

Used by the Makefile only:
  ksyms.py --empty             a table with no entries (first link pass)
  ksyms.py KERNEL.elf          the table of KERNEL.elf's function symbols
  ksyms.py --check A.elf B.elf fail if any text symbol moved between A and B
"""

from __future__ import annotations

import subprocess
import sys

HEADER = '#include "kernel/debug/ksyms.h"\n'


def text_symbols(elf: str) -> list[tuple[int, str]]:
    out = subprocess.run(
        ["nm", "-n", "--defined-only", elf], check=True, capture_output=True, text=True
    ).stdout
    syms: list[tuple[int, str]] = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "Tt":
            syms.append((int(parts[0], 16), parts[2]))
    start = next(a for a, n in syms if n == "_text")
    end = max(a for a, n in syms if n == "_etext") if any(n == "_etext" for _, n in syms) else None
    return [(a, n) for a, n in syms if a >= start and (end is None or a < end) and n != "_text"]


def emit(syms: list[tuple[int, str]]) -> str:
    body = "".join(f'    {{0x{a:x}ul, "{n}"}},\n' for a, n in syms) or "    {0, 0},\n"
    return (
        HEADER
        + "const struct ksym ksyms_table[] = {\n"
        + body
        + "};\n"
        + f"const unsigned long ksyms_count = {len(syms)};\n"
    )


def main(argv: list[str]) -> int:
    if argv[1:] == ["--empty"]:
        sys.stdout.write(emit([]))
        return 0
    if len(argv) == 4 and argv[1] == "--check":
        a, b = text_symbols(argv[2]), text_symbols(argv[3])
        if a != b:
            moved = sorted(set(a) ^ set(b))[:5]
            print(f"ksyms: text symbols moved between link passes: {moved}", file=sys.stderr)
            return 1
        return 0
    if len(argv) == 2:
        sys.stdout.write(emit(text_symbols(argv[1])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
