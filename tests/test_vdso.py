"""The vDSO: clock_gettime, gettimeofday, time, clock_getres and getcpu
answered in user space from the vvar page (kernel/sys/vvar.h,
kernel/mm/vdso.c, vdso/vdso.c; docs/vdso.md).

One boot on 2 CPUs runs user/tests/vdso.c, which finds the vDSO through
AT_SYSINFO_EHDR and resolves its functions by name and version (LINUX_2.6)
itself, as a libc does; the host runs the same binary. The promises:

- a vDSO reading and a system-call reading, interleaved on two threads that
  move between the CPUs, never go backwards, for every clock the vDSO
  serves; gettimeofday and time agree with clock_gettime; clock_getres,
  invalid clock ids (EINVAL through the vDSO) and getcpu say what the
  system calls say: all line for line as on Linux;
- [vvar] and [vdso] are mapped as on Linux (r--p, r-xp, the vvar below the
  image, the image at AT_SYSINFO_EHDR); mprotect cannot make [vvar]
  writable (EACCES), /proc/self/mem cannot write it (EIO), and munmap and
  mremap of them are the process's own business;
- a write to [vvar] kills the writer with SIGSEGV and no one else
  (privilege separation: only the kernel writes the clock);
- clock_settime reaches every process's vDSO at once, one forked before
  included (the vvar is the kernel's clock, live, not a copy);
- the image read back from the guest's memory is a proper shared object:
  lief finds the ten versioned functions, PT_DYNAMIC, PT_NOTE, an
  eh_frame_hdr and no relocation, and it is byte for byte the build's."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import lief
import pytest

from harness.execute import diff_lines, run_on_host, run_on_vigil
from harness.qemu import Machine
from tests.conftest import check_kernel_health

ROUNDS = "3000"     # interleaved rounds per thread (7 clocks, 4 readings each)
NAMES = ("clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu")


@dataclass(frozen=True)
class Runs:
    vigil: str
    host: str
    console: str


@pytest.fixture(scope="module")
def runs(art, accel, tmp_path_factory) -> Runs:
    tmp = tmp_path_factory.mktemp("vdso")
    v = run_on_vigil(art, ["/bin/vdso", "vigil", ROUNDS], Machine(accel=accel, smp=2),
                     tmp / "console.log", timeout=300)
    check_kernel_health(v.console)
    # The host's own root, for its /proc (the program is static).
    h = run_on_host(Path("/"), [str(art.rootfs / "bin" / "vdso"), "host", ROUNDS])
    return Runs(v.output, h.output, v.console)


def _section(out: str, first: str, last: str) -> str:
    """The lines from the first holding first to the next holding last."""
    lines = out.splitlines()
    a = next((i for i, s in enumerate(lines) if first in s), len(lines))
    b = next((i for i, s in enumerate(lines) if last in s and i >= a), len(lines))
    return "\n".join(lines[a:b + 1])


def _failures(out: str) -> list[str]:
    return [s for s in out.splitlines() if s.startswith("FAIL")]


def test_vdso_and_syscall_readings_interleaved_never_go_backwards(runs: Runs) -> None:
    out = _section(runs.vigil, "__vdso_clock_gettime", "vdso check done")
    assert "vdso check done" in out, f"the check did not finish:\n{runs.console[-3000:]}"
    assert not _failures(out), "time went backwards or the vDSO differs from the syscall:\n" + \
        "\n".join(_failures(out))
    host = _section(runs.host, "__vdso_clock_gettime", "vdso check done")
    assert not _failures(host), f"the host fails its own check:\n{host}"
    diff = diff_lines(out, host)
    assert not diff, "the vDSO differs from Linux's:\n" + diff


def test_vvar_and_vdso_are_mapped_as_on_linux(runs: Runs) -> None:
    out = _section(runs.vigil, "[vvar]", "vdso maps done")
    assert "vdso maps done" in out and not _failures(out), out
    diff = diff_lines(out, _section(runs.host, "[vvar]", "vdso maps done"))
    assert not diff, "[vvar] and [vdso] behave differently from Linux's:\n" + diff


def test_a_write_to_vvar_kills_only_the_writer(runs: Runs) -> None:
    out = _section(runs.vigil, "a write to [vvar]", "vdso vvarwrite done")
    assert "a write to [vvar] killed the writer with SIGSEGV" in out, \
        f"a write to [vvar] did not fault:\n{out}"
    assert "the parent's clock goes on: yes" in out, out
    assert "killed the writer with SIGSEGV" in runs.host


def test_clock_settime_reaches_every_vdso_at_once(runs: Runs) -> None:
    out = _section(runs.vigil, "after clock_settime", "vdso settime done")
    assert "vdso settime done" in out, f"settime did not finish:\n{runs.console[-3000:]}"
    assert not _failures(out), "the vDSO differs from the syscall after clock_settime:\n" + \
        "\n".join(_failures(out))
    assert "after setting it back: the same" in out, out


def test_vdso_image_in_memory_is_a_proper_versioned_shared_object(runs: Runs, art) -> None:
    m = re.search(r"vdso-image-begin (\d+)\n(.*?)\nvdso-image-end", runs.vigil, re.S)
    assert m, "no [vdso] dump"
    image = base64.b64decode("".join(m.group(2).split()))
    assert len(image) == int(m.group(1)) and len(image) % 4096 == 0
    built = (Path(art.rootfs).parent / "vdso" / "vdso.so").read_bytes()
    assert image[:len(built)] == built and not image[len(built):].strip(b"\0"), \
        "the [vdso] pages are not the built image"
    elf = lief.ELF.parse(list(image))
    assert elf is not None and elf.header.file_type == lief.ELF.Header.FILE_TYPE.DYN
    kinds = {s.type for s in elf.segments}
    T = lief.ELF.Segment.TYPE
    assert {T.LOAD, T.DYNAMIC, T.NOTE, T.GNU_EH_FRAME} <= kinds, kinds
    assert not list(elf.relocations), "the vDSO has relocations"
    versions = {s.name: s.symbol_version.symbol_version_auxiliary.name
                for s in elf.dynamic_symbols
                if s.symbol_version and s.symbol_version.has_auxiliary_version}
    for n in NAMES:
        for sym in (n, "__vdso_" + n):
            assert versions.get(sym) == "LINUX_2.6", f"{sym}: {versions.get(sym)}"
    tags = {e.tag for e in elf.dynamic_entries}
    D = lief.ELF.DynamicEntry.TAG
    assert {D.HASH, D.GNU_HASH, D.SYMTAB, D.STRTAB, D.VERSYM, D.VERDEF} <= tags, tags
