"""Dynamic ELF and scripts in exec (kernel/proc/exec.c): a program with
PT_INTERP starts in its interpreter with the auxiliary vector Linux gives,
a "#!" script runs its interpreter with argv rewritten as Linux does, and
both compare with the host's Linux running the same files.

One boot (and one host run) tries every program through /bin/runall, which
prints a "=== CMD" line before each and "=== exit N" (or signal, errno)
after; each test reads its sections. The stand-in interpreter
/bin/auxinterp (user/auxinterp.c, a static PIE) prints the auxv it was
given; /lib/ld-musl-x86_64.so.1 is the host's real musl loader."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import lief
import pytest

from harness import debian
from harness.execute import ProgramRun, run_on_host, run_on_vigil
from harness.qemu import Machine
from tests.conftest import check_kernel_health

PIE_BASE = 0x555555554000  # kernel/proc/exec.c: where an ET_DYN program goes
USER_MMAP_BASE = 0x7F0000000000  # kernel/mm/mm.h: the interpreter ends here
MUSL_LOADER = Path("/lib/x86_64-linux-musl/libc.so")
# auxv entries Linux gives that Vigil does not: rseq's.
HOST_ONLY = {"AT_RSEQ_FEATURE_SIZE", "AT_RSEQ_ALIGN"}
# Values that are the same on any Linux for the same file and credentials.
SAME = ["AT_PHENT", "AT_PHNUM", "AT_PAGESZ", "AT_FLAGS", "AT_UID", "AT_EUID", "AT_GID",
        "AT_EGID", "AT_SECURE", "AT_CLKTCK"]

SCRIPTS = {
    # interpreter + one argument (all that follows the name, trimmed), then
    # the script's path, then the original argv[1..]
    "/s/witharg": "#! /bin/args  -x  y \necho not run\n",
    "/s/noarg": "#!/bin/args\n",
    "/s/nested": "#!/s/witharg  z\n",
    "/s/missing": "#!/no/such/interpreter\n",
    "/s/empty": "#!\n",
    "/s/notexec": "hello\n",
}
CHAIN = 6  # /s/chainN: N scripts deep before /bin/args


def _script_files() -> dict[str, bytes]:
    files = {k: v.encode() for k, v in SCRIPTS.items()}
    files["/s/chain1"] = b"#!/bin/args\n"
    for n in range(2, CHAIN + 1):
        files[f"/s/chain{n}"] = f"#!/s/chain{n - 1}\n".encode()
    return files


def _musl(tmp: Path, name: str, flags: list[str], source: Path) -> bytes:
    out = tmp / name
    subprocess.run(["musl-gcc", "-O2", *flags, "-o", str(out), str(source)], check=True)
    return out.read_bytes()


@dataclass
class Section:
    body: str
    end: str


def sections(run: ProgramRun) -> dict[str, Section]:
    """runall's output: command line -> (what it printed, how it ended)."""
    out: dict[str, Section] = {}
    cmd, body = None, []
    for line in run.output.splitlines():
        if line.startswith("=== /"):
            cmd, body = line[4:], []
        elif line.startswith("=== ") and cmd is not None:
            out[cmd] = Section("\n".join(body), line[4:])
            cmd = None
        elif cmd is not None:
            body.append(line)
    return out


@dataclass
class Runs:
    vigil: dict[str, Section]
    host: dict[str, Section]
    files: dict[str, bytes]
    console: str
    auxinterp: Path


COMMANDS = [
    ["/bin/dexec", "a", "b"],
    ["/bin/dpie"],
    ["/bin/mdyn", "x y"],
    ["/s/witharg", "p", "q"],
    ["/s/noarg"],
    ["/s/nested", "r"],
    ["/s/missing"],
    ["/s/empty"],
    ["/s/notexec"],
    [f"/s/chain{CHAIN - 1}", "deep"],
    [f"/s/chain{CHAIN}", "deeper"],
]


@pytest.fixture(scope="module")
def runs(art, accel, tmp_path_factory) -> Runs:
    tmp = tmp_path_factory.mktemp("dynelf")
    hello = Path("user/tests/hello.c").resolve()
    files: dict[str, bytes] = {
        "/bin/dexec": _musl(tmp, "dexec", ["-no-pie", "-Wl,--dynamic-linker=/bin/auxinterp"],
                            hello),
        "/bin/dpie": _musl(tmp, "dpie", ["-fPIE", "-pie", "-Wl,--dynamic-linker=/bin/auxinterp"],
                           hello),
        "/bin/mdyn": _musl(tmp, "mdyn", [], Path("user/tests/args.c").resolve()),
        "/lib/ld-musl-x86_64.so.1": MUSL_LOADER.read_bytes(),
        **_script_files(),
    }
    tree = tmp / "tree"
    shutil.copytree(art.rootfs, tree, symlinks=True)
    for path, data in files.items():
        dest = tree / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        dest.chmod(0o755)
    argv = ["/bin/runall"]
    for cmd in COMMANDS:
        argv += [*cmd, "--"]
    v = run_on_vigil(art, argv[:-1], Machine(accel=accel), tmp / "console.log", files)
    check_kernel_health(v.console)
    h = run_on_host(tree, argv[:-1])
    return Runs(sections(v), sections(h), files, v.console, art.rootfs / "bin" / "auxinterp")


def _auxv(body: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def _both(runs: Runs, cmd: list[str]) -> tuple[Section, Section]:
    key = " ".join(cmd)
    assert key in runs.vigil, f"{key} did not finish on Vigil:\n{runs.console[-3000:]}"
    assert key in runs.host, f"{key} did not finish on the host"
    return runs.vigil[key], runs.host[key]


def _check_auxv(runs: Runs, cmd: list[str], bias: int) -> dict[str, str]:
    v, h = _both(runs, cmd)
    assert v.end == h.end == "exit 0", (v, h)
    va, ha = _auxv(v.body), _auxv(h.body)
    # The same entries as Linux (less rseq's), the same values.
    assert set(ha) - HOST_ONLY - set(va) == set(), f"missing on Vigil: {set(ha) - set(va)}"
    for key in SAME + ["execfn", "platform", "base.magic"]:
        assert va[key] == ha[key], f"{key}: Vigil {va[key]}, Linux {ha[key]}"
    assert [k for k in va if k.startswith("argv") or k.startswith("phdr")] == \
        [k for k in ha if k.startswith("argv") or k.startswith("phdr")]
    for k in va:
        if k.startswith("argv") or k.startswith("phdr"):
            assert va[k] == ha[k], f"{k}: Vigil {va[k]}, Linux {ha[k]}"
    # What the ELF says (lief): entry and program headers, at the bias.
    elf = lief.ELF.parse(list(runs.files[cmd[0]]))
    phdr = next(s for s in elf.segments if s.type == lief.ELF.Segment.TYPE.PHDR)
    assert int(va["AT_ENTRY"], 16) == bias + elf.header.entrypoint
    assert int(va["AT_PHDR"], 16) == bias + phdr.virtual_address
    assert int(va["AT_PHNUM"], 16) == len(elf.segments)
    # The interpreter: an ET_DYN at a page boundary, ending at USER_MMAP_BASE.
    interp = lief.ELF.parse(str(runs.auxinterp))
    span = max(s.virtual_address + s.virtual_size for s in interp.segments
               if s.type == lief.ELF.Segment.TYPE.LOAD)
    assert va["base.type"] == "3"
    assert int(va["AT_BASE"], 16) == USER_MMAP_BASE - ((span + 4095) & ~4095)
    # AT_HWCAP is CPUID.1:EDX of the machine it runs on.
    assert int(va["AT_HWCAP"], 16) == int(va["cpuid1.edx"], 16)
    assert int(va["AT_MINSIGSTKSZ"], 16) >= 1024
    return va


def test_et_exec_program_starts_in_its_interpreter_with_linux_auxv(runs) -> None:
    va = _check_auxv(runs, COMMANDS[0], 0)
    v, h = _both(runs, COMMANDS[0])
    assert va["AT_PHDR"] == _auxv(h.body)["AT_PHDR"]
    assert va["AT_ENTRY"] == _auxv(h.body)["AT_ENTRY"]


def test_pie_program_goes_at_pie_base_with_its_interpreter(runs) -> None:
    _check_auxv(runs, COMMANDS[1], PIE_BASE)


def test_dynamic_musl_program_runs_as_on_linux(runs) -> None:
    v, h = _both(runs, COMMANDS[2])
    assert v.end == h.end == "exit 0", (v, h)
    assert "AT_ENTRY matches _start: yes" in v.body
    assert v.body == h.body


@pytest.mark.parametrize("cmd", COMMANDS[3:], ids=lambda c: c[0].rsplit("/", 1)[1])
def test_script_runs_its_interpreter_as_on_linux(runs, cmd: list[str]) -> None:
    v, h = _both(runs, cmd)
    assert (v.body, v.end) == (h.body, h.end)


def test_scripts_nest_as_deep_as_linux_then_eloop(runs) -> None:
    deep, _ = _both(runs, COMMANDS[-2])
    deeper, _ = _both(runs, COMMANDS[-1])
    assert deep.end == "exit 0" and "argv[0]=/bin/args" in deep.body
    assert deeper.end == "errno 40"  # ELOOP


# ---- Debian's own dynamic programs (glibc's ld.so), on the Debian root ----

RUNALL = "/usr/lib/vigil/bin/runall"  # harness/debian.py: VIGIL_BIN
DEBIAN_SCRIPTS = {
    "/s/hello.sh": "#!/bin/bash -e\necho \"$0\" \"$@\"\n",
    "/s/outer": "#!/s/hello.sh first\n",
}
DEBIAN_COMMANDS = [
    ["/usr/bin/env", "-i", "LD_SHOW_AUXV=1", "/bin/true"],
    ["/bin/echo", "hi"],
    ["/bin/ls", "-1", "/usr"],
    ["/usr/bin/env", "-i", "/bin/bash", "-c",
     'echo $((1+2)); cd /; x=$(echo sub | /bin/cat); echo "[$x]"; /bin/true && echo ok'],
    ["/s/outer", "a"],
]


@pytest.fixture(scope="module")
def debian_runs(art, accel, tmp_path_factory) -> Runs:
    tmp = tmp_path_factory.mktemp("debian")
    files: dict[str, Path | bytes] = {}
    for guest, text in DEBIAN_SCRIPTS.items():
        host = tmp / guest.rsplit("/", 1)[1]
        host.write_text(text)
        host.chmod(0o755)
        files[guest] = host
    # The host side: the image's own tree (hard links: cheap), plus the scripts.
    tree = tmp / "tree"
    subprocess.run(["cp", "-al", str(debian.CACHE / "image-tree"), str(tree)], check=True)
    for guest, host in files.items():
        dest = tree / guest.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host, dest)
    argv = [RUNALL]
    for cmd in DEBIAN_COMMANDS:
        argv += [*cmd, "--"]
    v = run_on_vigil(art, argv[:-1], Machine(accel=accel), tmp / "console.log", files,
                     timeout=300, debian=True)
    check_kernel_health(v.console)
    h = run_on_host(tree, argv[:-1])
    return Runs(sections(v), sections(h), {}, v.console, tree / "lib64/ld-linux-x86-64.so.2")


def _show_auxv(body: str) -> dict[str, str]:
    """LD_SHOW_AUXV=1's lines: 'AT_NAME:   value'."""
    return {k.strip(): v.strip() for k, v in
            (line.split(":", 1) for line in body.splitlines() if line.startswith("AT_"))}


def test_debian_true_gets_linux_auxv_from_glibc_ld_so(debian_runs) -> None:
    v, h = _both(debian_runs, DEBIAN_COMMANDS[0])
    assert v.end == h.end == "exit 0", (v, h)
    va, ha = _show_auxv(v.body), _show_auxv(h.body)
    host_only = {"AT_??? (0x1b)", "AT_??? (0x1c)"}  # rseq
    assert set(ha) - host_only == set(va), (sorted(va), sorted(ha))
    for key in SAME + ["AT_EXECFN", "AT_PLATFORM"]:
        assert va[key] == ha[key], f"{key}: Vigil {va[key]}, Linux {ha[key]}"
    # Where things are (the host randomises; Vigil does not): from the ELF.
    tree = debian_runs.auxinterp.parent.parent
    true = lief.ELF.parse(str(tree / "bin/true"))
    phdr = next(s for s in true.segments if s.type == lief.ELF.Segment.TYPE.PHDR)
    assert int(va["AT_ENTRY"], 16) == PIE_BASE + true.header.entrypoint
    assert int(va["AT_PHDR"], 16) == PIE_BASE + phdr.virtual_address
    ld = lief.ELF.parse(str(debian_runs.auxinterp.resolve()))
    span = max(s.virtual_address + s.virtual_size for s in ld.segments
               if s.type == lief.ELF.Segment.TYPE.LOAD)
    assert int(va["AT_BASE"], 16) == USER_MMAP_BASE - ((span + 4095) & ~4095)


@pytest.mark.parametrize("cmd", DEBIAN_COMMANDS[1:], ids=["echo", "ls", "bash", "script-chain"])
def test_debian_dynamic_program_prints_what_it_prints_on_linux(debian_runs, cmd) -> None:
    v, h = _both(debian_runs, cmd)
    assert h.end == "exit 0", h
    assert (v.body, v.end) == (h.body, h.end)
