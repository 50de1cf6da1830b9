"""Core dumps (core(5)): a process killed by a signal whose action is
"core" leaves an ELF core file named by /proc/sys/kernel/core_pattern,
within RLIMIT_CORE, and its parent's wait status says so. The judges are
outside Vigil: the host's gdb loads the core beside the program and shows
the frame that faulted, and readelf reads its notes. The program is
user/tests/coredump.c; the kernel side is kernel/proc/coredump.c."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.image import debugfs_dump, disk_args, make_ext3
from tests.conftest import Vigil

pytestmark = pytest.mark.invariant("privilege separation")


@pytest.fixture(scope="module")
def cores(art, accel, tmp_path_factory) -> tuple[str, Path, Path]:
    """Run the crashes on an empty ext3 disk (one boot for the module):
    what the program said, the disk image and the program."""
    tmp = tmp_path_factory.mktemp("cores")
    (tmp / "tree").mkdir()
    img = make_ext3(tmp / "tree", tmp / "cores.img", 48)
    vigil = Vigil(art, accel, tmp, [])
    run = vigil.program(["/bin/coredump", "run", "/mnt"], extra=disk_args(img), timeout=300)
    out = run.output.replace("\r\n", "\n")
    assert run.status == 0 and "umount: 0" in out, out[-1500:]
    return out, img, art.rootfs / "bin" / "coredump"


def _case(out: str, what: str) -> dict[str, str]:
    m = re.search(rf"^{re.escape(what)}: pid (\d+), signal (\d+), WCOREDUMP (\d), files (\d+), "
                  r"size (\w+)$", out, re.M)
    assert m, f"coredump did not report {what!r}:\n{out[-1500:]}"
    return dict(zip(("pid", "signal", "core", "files", "size"), m.groups(), strict=True))


def _core(img: Path, name: str, tmp: Path) -> Path:
    out = tmp / name
    data = debugfs_dump(img, f"/{name}", out)
    assert data, f"no core file /{name} on the disk"
    return out


def test_a_segfault_leaves_a_core_the_hosts_gdb_reads_at_the_faulting_frame(
        cores, tmp_path) -> None:
    """SIGSEGV from a NULL write in crash_here(): WCOREDUMP is set, the core
    is named as core_pattern's %e.%p.%s say, and the host's gdb, given the
    same binary, shows signal 11 and crash_here() in the backtrace; readelf
    finds an ET_CORE file with NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO,
    NT_AUXV, NT_FILE and NT_FPREGSET, and a PT_LOAD per region."""
    out, img, prog = cores
    c = _case(out, "segv")
    assert c["signal"] == "11" and c["core"] == "1" and c["files"] == "1", (
        f"no core dumped for SIGSEGV: {c}")
    core = _core(img, f"core.coredump.{c['pid']}.11", tmp_path)
    elf = subprocess.run(["readelf", "-h", "-l", "-n", "-W", str(core)], capture_output=True,
                         text=True)
    assert "CORE (Core file)" in elf.stdout and "X86-64" in elf.stdout, elf.stdout[:800]
    for n in ("NT_PRSTATUS", "NT_PRPSINFO", "NT_SIGINFO", "NT_AUXV", "NT_FILE", "NT_FPREGSET"):
        assert n in elf.stdout, f"readelf finds no {n} note in the core:\n{elf.stdout[-1500:]}"
    assert elf.stdout.count("LOAD") >= 4, elf.stdout
    gdb = subprocess.run(["gdb", "-batch", "-nx", "-ex", "bt", str(prog), str(core)],
                         capture_output=True, text=True, timeout=120)
    said = gdb.stdout + gdb.stderr
    assert "SIGSEGV" in said and "crash_here" in said, (
        f"gdb cannot place the crash from the core:\n{said[-1500:]}")


def test_a_core_holds_written_memory_but_not_what_madv_dontdump_hides(cores, tmp_path) -> None:
    """The heap's marker string is in the core's bytes; the marker in the
    region madvise(MADV_DONTDUMP) marked is not."""
    out, img, _ = cores
    c = _case(out, "segv")
    data = _core(img, f"core.coredump.{c['pid']}.11", tmp_path).read_bytes()
    assert b"HEAP-MARKER-kept-in-the-core" in data, "the heap's bytes are missing from the core"
    assert b"HIDDEN-MARKER-madv-dontdump" not in data, (
        "a MADV_DONTDUMP region's bytes were written into the core")


def test_core_signals_dump_and_rlimit_core_and_pipe_patterns_are_honoured(cores) -> None:
    """abort() and SIGQUIT dump (WCOREDUMP, one non-empty file each);
    SIGTERM does not; RLIMIT_CORE 0 and 1 write nothing and leave
    WCOREDUMP clear; a limit smaller than the core cuts it short there and
    WCOREDUMP is still set (Linux 6.18 does both); a plain name lands in the working directory;
    a pipe pattern is not supported (no core); waitid says CLD_DUMPED; the
    pattern reads back as written."""
    out, _, _ = cores
    for what, sig in (("abort", "6"), ("quit", "3"), ("relative name", "6")):
        c = _case(out, what)
        assert (c["signal"], c["core"], c["files"], c["size"]) == (sig, "1", "1", "nonzero"), (
            f"{what}: no core dumped: {c}")
    c = _case(out, "term")
    assert (c["signal"], c["core"], c["files"]) == ("15", "0", "0"), f"SIGTERM dumped core: {c}"
    for what in ("RLIMIT_CORE 0", "RLIMIT_CORE 1"):
        c = _case(out, what)
        assert (c["core"], c["files"]) == ("0", "0"), (
            f"a core file was written although {what} forbids it: {c}")
    c = _case(out, "RLIMIT_CORE 8192")
    size = int(re.search(r"^RLIMIT_CORE 8192: bytes (\d+)$", out, re.M).group(1))
    assert 0 < size <= 8192, f"a core file was written although RLIMIT_CORE is 8192: {size} bytes"
    assert c["core"] == "1", f"a core cut short at RLIMIT_CORE is not reported (Linux does): {c}"
    c = _case(out, "pipe pattern")
    assert (c["core"], c["files"]) == ("0", "0"), c
    assert "waitid: si_code CLD_DUMPED, si_status 8" in out, out[-800:]
    assert "core_pattern reads back: core\n" in out, out[-800:]
