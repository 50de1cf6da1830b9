"""Check the vDSO image at build time (the Makefile runs it on build/vdso/vdso.so).

The kernel maps the image as it is, into every process, and nothing ever
relocates it: a relocation, a GOT entry, a writable segment, a second
PT_LOAD or a needed library would each make it wrong somewhere. And libc
finds its functions through the dynamic symbol table and their version
(glibc insists on LINUX_2.6). So: one R+X PT_LOAD from offset and address 0,
PT_DYNAMIC, PT_NOTE, a DT_HASH and a DT_GNU_HASH table, symbol versions, no
dynamic relocation of any kind, and every name vdso(7) lists for x86-64
defined as a function of version LINUX_2.6. Standard library only: the
build runs it with the system's python3.

    python3 harness/vdsocheck.py build/vdso/vdso.so
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
PF_X, PF_W, PF_R = 1, 2, 4
DT = {"NULL": 0, "NEEDED": 1, "PLTRELSZ": 2, "PLTGOT": 3, "HASH": 4, "STRTAB": 5,
      "SYMTAB": 6, "RELA": 7, "RELASZ": 8, "REL": 17, "RELSZ": 18, "TEXTREL": 22,
      "JMPREL": 23, "FLAGS": 30, "RELR": 36, "GNU_HASH": 0x6FFFFEF5,
      "VERSYM": 0x6FFFFFF0, "VERDEF": 0x6FFFFFFC, "VERDEFNUM": 0x6FFFFFFD,
      "RELACOUNT": 0x6FFFFFF9, "RELCOUNT": 0x6FFFFFFA}
FORBIDDEN = ("NEEDED", "PLTRELSZ", "PLTGOT", "RELA", "RELASZ", "REL", "RELSZ", "TEXTREL",
             "JMPREL", "RELR", "RELACOUNT", "RELCOUNT")
REQUIRED = ("HASH", "GNU_HASH", "STRTAB", "SYMTAB", "VERSYM", "VERDEF")
SHT_REL, SHT_RELA = 9, 4
DF_TEXTREL = 4
NAMES = ("clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu")
VERSION = "LINUX_2.6"


def _cstr(data: bytes, off: int) -> str:
    return data[off:data.index(b"\0", off)].decode()


def check(data: bytes) -> list[str]:
    """What is wrong with the image (empty: nothing)."""
    bad: list[str] = []
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return ["not an ELF64 file"]
    (e_type, e_machine, _, _, e_phoff, e_shoff, _, _, e_phentsize, e_phnum,
     e_shentsize, e_shnum, _) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    if e_type != 3 or e_machine != 62:
        bad.append(f"not an x86-64 ET_DYN (type {e_type}, machine {e_machine})")
    phdrs = [struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * e_phentsize)
             for i in range(e_phnum)]
    loads = [p for p in phdrs if p[0] == PT_LOAD]
    if len(loads) != 1:
        bad.append(f"{len(loads)} PT_LOAD segments (one, read and execute, is mapped)")
    for p in loads:
        _, flags, off, vaddr, _, filesz, memsz, _ = p
        rx = (flags & (PF_R | PF_X)) == (PF_R | PF_X)
        if off != 0 or vaddr != 0 or filesz != memsz or flags & PF_W or not rx:
            bad.append(f"PT_LOAD is not R+X bytes at offset 0 = address 0 (flags {flags}, "
                       f"offset {off}, vaddr {vaddr}, filesz {filesz}, memsz {memsz})")
    if any(p[0] == PT_INTERP for p in phdrs):
        bad.append("PT_INTERP present")
    if not any(p[0] == PT_NOTE for p in phdrs):
        bad.append("no PT_NOTE")
    dyn = [p for p in phdrs if p[0] == PT_DYNAMIC]
    if not dyn:
        return bad + ["no PT_DYNAMIC"]
    tags: dict[int, int] = {}
    off = dyn[0][2]
    while True:
        tag, val = struct.unpack_from("<qQ", data, off)
        off += 16
        if tag == 0:
            break
        tags[tag] = val
    for name in FORBIDDEN:
        if DT[name] in tags and (not name.endswith("SZ") or tags[DT[name]]):
            bad.append(f"DT_{name} present: the image would need relocating")
    if tags.get(DT["FLAGS"], 0) & DF_TEXTREL:
        bad.append("DF_TEXTREL set")
    for name in REQUIRED:
        if DT[name] not in tags:
            bad.append(f"no DT_{name}")
    for i in range(e_shnum):
        sh_type, sh_size = struct.unpack_from("<I", data, e_shoff + i * e_shentsize + 4)[0], \
            struct.unpack_from("<Q", data, e_shoff + i * e_shentsize + 32)[0]
        if sh_type in (SHT_REL, SHT_RELA) and sh_size:
            bad.append("a relocation section is not empty")
    if bad:
        return bad
    # The symbols and their versions (addresses are offsets: vaddr 0 = offset 0).
    strtab, symtab, versym, verdef = (tags[DT[n]] for n in ("STRTAB", "SYMTAB", "VERSYM", "VERDEF"))
    nsyms = struct.unpack_from("<I", data, tags[DT["HASH"]] + 4)[0]     # DT_HASH's nchain
    versions: dict[int, str] = {}
    at = verdef
    while True:
        _, _, ndx, _, _, aux, nxt = struct.unpack_from("<HHHHIII", data, at)
        versions[ndx] = _cstr(data, strtab + struct.unpack_from("<I", data, at + aux)[0])
        if not nxt:
            break
        at += nxt
    found: dict[str, str] = {}
    for i in range(1, nsyms):
        st_name, st_info, _, st_shndx, _, _ = struct.unpack_from("<IBBHQQ", data, symtab + i * 24)
        ver = struct.unpack_from("<H", data, versym + 2 * i)[0] & 0x7FFF
        if st_info & 0xF == 2 and st_shndx != 0:
            found[_cstr(data, strtab + st_name)] = versions.get(ver, "?")
    for n in NAMES:
        for sym in (n, "__vdso_" + n):
            if found.get(sym) != VERSION:
                bad.append(f"{sym} is not a function of version {VERSION} ({found.get(sym)})")
    return bad


def main() -> int:
    path = Path(sys.argv[1])
    bad = check(path.read_bytes())
    for b in bad:
        print(f"{path}: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
