"""The kernel's symbol table, read with lief: address -> function, and the
list of in-kernel test cases (functions named ktest__<suite>__<case>)."""

from __future__ import annotations

import bisect
from functools import lru_cache
from pathlib import Path

import lief


class Symbols:
    def __init__(self, elf: Path) -> None:
        binary = lief.ELF.parse(str(elf))
        if binary is None:
            raise ValueError(f"{elf}: not an ELF file")
        funcs = sorted(
            (s.value, s.size, s.name)
            for s in binary.symtab_symbols
            if s.type == lief.ELF.Symbol.TYPE.FUNC and s.value
        )
        # Every named symbol (functions and data, global and local).
        self.all_names = {s.name: s.value for s in binary.symtab_symbols if s.name and s.value}
        self._addrs = [a for a, _, _ in funcs]
        self._funcs = funcs
        self.names = {name: addr for addr, _, name in funcs}

    def resolve(self, addr: int) -> tuple[str, int] | None:
        """(function, offset) containing addr, or None."""
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        start, size, name = self._funcs[i]
        if size and addr >= start + size:
            return None
        return name, addr - start

    def ktest_cases(self) -> list[str]:
        cases = []
        for name in self.names:
            parts = name.split("__")
            if len(parts) == 3 and parts[0] == "ktest":
                cases.append(f"{parts[1]}.{parts[2]}")
        return sorted(cases)


@lru_cache(maxsize=4)
def load(elf: Path) -> Symbols:
    return Symbols(elf)
