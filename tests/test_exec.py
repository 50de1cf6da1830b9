"""The exec contract: any static x86-64 Linux binary from the host runs as
init's program and reports its status (what `invoke exec` does), and a
malformed ELF is refused with ENOEXEC without hurting the kernel."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import ROOT


def _musl_build(tmp_path, source: str, name: str):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / name
    subprocess.run(["musl-gcc", "-static", "-O2", "-o", str(out), str(src)], check=True)
    return out


def test_host_binary_runs_with_its_arguments_and_status(vigil, tmp_path) -> None:
    prog = _musl_build(tmp_path, r'''
#include <stdio.h>
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) printf("[%s]", argv[i]);
    printf("\n");
    return argc + 40;
}''', "echoargs")
    run = vigil.program(["/bin/echoargs", "a b", "c"], files={"/bin/echoargs": prog})
    assert run.output == "[a b][c]\n"
    assert run.status == 43


def test_invoke_exec_streams_output_and_exits_with_status(tmp_path) -> None:
    prog = _musl_build(tmp_path, r'''
#include <stdio.h>
int main(int argc, char **argv) { printf("got %s\n", argv[1]); return 5; }''', "five")
    r = subprocess.run([sys.executable, "-m", "invoke", "exec", str(prog), "--", "x y"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "got x y" in r.stdout
    assert r.returncode == 5, r.stdout + r.stderr


def _elf(art) -> bytes:
    return (art.rootfs / "bin" / "hello").read_bytes()


def _patch(data: bytes, off: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, off, value)
    return bytes(b)


def _phdrs(data: bytes) -> list[tuple[int, int]]:
    """(file offset of the header, p_type) of each program header."""
    phoff, = struct.unpack_from("<Q", data, 32)
    n, = struct.unpack_from("<H", data, 56)
    return [(phoff + 56 * i, struct.unpack_from("<I", data, phoff + 56 * i)[0]) for i in range(n)]


def _loads(data: bytes) -> list[int]:
    return [off for off, kind in _phdrs(data) if kind == 1]


def _first_load(data: bytes) -> int:
    return _loads(data)[0]


def _copy_load_over_last(data: bytes, load: int, flags: int | None = None) -> bytes:
    """data with its last program header (not a PT_LOAD) replaced by a copy
    of PT_LOAD number load: two segments over the same pages."""
    last, kind = _phdrs(data)[-1]
    assert kind != 1
    src = _loads(data)[load]
    b = bytearray(data)
    b[last:last + 56] = data[src:src + 56]
    if flags is not None:
        struct.pack_into("<I", b, last + 4, flags)
    return bytes(b)


def _interp_at(data: bytes, path: str) -> bytes:
    """data (a dynamic ELF) with PT_INTERP naming path (no longer than the old)."""
    off = next(o for o, kind in _phdrs(data) if kind == 3)
    where, = struct.unpack_from("<Q", data, off + 8)
    size, = struct.unpack_from("<Q", data, off + 32)
    assert len(path) < size
    b = bytearray(data)
    b[where:where + size] = path.encode().ljust(size, b"\0")
    return bytes(b)


def _interp_header(data: bytes) -> int:
    return next(o for o, kind in _phdrs(data) if kind == 3)


# Malformed static programs (made from /bin/hello, a static musl binary).
MALFORMED = {
    "truncated": lambda d: d[:40],
    "badmagic": lambda d: b"\x7fELG" + d[4:],
    "class32": lambda d: d[:4] + b"\x01" + d[5:],         # Linux does not look at EI_CLASS
    "i386": lambda d: _patch(d, 18, "<H", 3),
    "relocatable": lambda d: _patch(d, 16, "<H", 1),
    "phoff_past_end": lambda d: _patch(d, 32, "<Q", len(d) + 4096),
    "phnum_zero": lambda d: _patch(d, 56, "<H", 0),
    "phnum_huge": lambda d: _patch(d, 56, "<H", 0xFFFF),
    "phentsize": lambda d: _patch(d, 54, "<H", 32),
    "segment_past_end": lambda d: _patch(d, _first_load(d) + 8, "<Q", len(d) + 0x10000),
    "filesz_gt_memsz": lambda d: _patch(d, _first_load(d) + 32, "<Q", 1 << 40),
    "huge_memsz": lambda d: _patch(d, _loads(d)[-1] + 40, "<Q", 1 << 47),
    "wrapping_memsz": lambda d: _patch(d, _loads(d)[-1] + 40, "<Q", (1 << 64) - 4096),
    "kernel_vaddr": lambda d: _patch(d, _first_load(d) + 16, "<Q", 0xFFFFFFFF80000000),
    "kernel_entry": lambda d: _patch(d, 24, "<Q", 0xFFFFFFFF80000000),
    "misaligned_segment": lambda d: _patch(d, _loads(d)[1] + 16, "<Q",
                                           struct.unpack_from("<Q", d, _loads(d)[1] + 16)[0] + 8),
    # Segments over the same pages: Linux maps the later over the earlier.
    "duplicate_segment": lambda d: _copy_load_over_last(d, 1),
    "overlapping_segment": lambda d: _copy_load_over_last(d, 2, flags=6),   # rodata, now RW
    "empty": lambda d: b"",
    "text": lambda d: b"just some words\n",
}

# Bad interpreters (made from the musl loader) for a dynamic program (musl's
# hello) whose PT_INTERP names them; and bad PT_INTERP headers.
MUSL_LOADER = Path("/lib/x86_64-linux-musl/libc.so")
BAD_INTERPRETERS = {
    "dynamic": lambda ld, prog: prog,           # itself has PT_INTERP: Linux runs it as it is
    "text": lambda ld, prog: b"not an ELF file\n" * 4,
    "short": lambda ld, prog: b"\x7fELF",
    "i386": lambda ld, prog: _patch(ld, 18, "<H", 3),
    "relocatable": lambda ld, prog: _patch(ld, 16, "<H", 1),
    "phnum_zero": lambda ld, prog: _patch(ld, 56, "<H", 0),
    "huge_memsz": lambda ld, prog: _patch(ld, _loads(ld)[-1] + 40, "<Q", 1 << 47),
    "segment_past_end": lambda ld, prog: _patch(ld, _loads(ld)[0] + 8, "<Q", len(ld) + 0x10000),
}
BAD_INTERP_HEADERS = {
    "interp_missing": lambda d: _interp_at(d, "/i/none"),
    "interp_dir": lambda d: _interp_at(d, "/i"),
    "interp_no_nul": lambda d: _patch(d, _interp_header(d) + 32, "<Q", 3),
    "interp_size_1": lambda d: _patch(d, _interp_header(d) + 32, "<Q", 1),
    "interp_too_long": lambda d: _patch(d, _interp_header(d) + 32, "<Q", 5000),
    "interp_past_end": lambda d: _patch(d, _interp_header(d) + 8, "<Q", len(d) + 100),
}

# "#!" lines Linux refuses or reads in its own way (255 bytes at most).
BAD_SCRIPTS = {
    "script_long_name": b"#!/" + b"x" * 300 + b"\n",               # the name cut: ENOEXEC
    "script_long_arg": b"#!/bin/hello " + b"a" * 300 + b"\n",      # the argument cut: runs
    "script_no_newline": b"#!/bin/hello",
    "script_nul": b"#!/bin/hello\0junk\n",
    "script_blank": b"#!  \t \n",
    "script_dir": b"#!/bin\n",
    "script_missing": b"#!/no/such/interpreter\n",
    "script_loop": b"#!/bad/script_loop\n",
}


def _bad_files(good: bytes, dyn: bytes) -> dict[str, bytes]:
    ld = MUSL_LOADER.read_bytes()
    files = {f"/bad/{k}": f(good) for k, f in MALFORMED.items()}
    for name, make in BAD_INTERPRETERS.items():
        files[f"/i/{name}"] = make(ld, dyn)
        files[f"/bad/interp_{name}"] = _interp_at(dyn, f"/i/{name}")
    files.update({f"/bad/{k}": f(dyn) for k, f in BAD_INTERP_HEADERS.items()})
    files.update({f"/bad/{k}": v for k, v in BAD_SCRIPTS.items()})
    files["/lib/ld-musl-x86_64.so.1"] = ld
    files["/bad/dynamic_ok"] = dyn
    return files


@pytest.mark.invariant("privilege")
def test_malformed_elf_fails_as_on_linux_and_harms_nothing(vigil, tmp_path) -> None:
    """Each bad file is exec'd in a child of its own, on Vigil and on the
    host's Linux: the same errno, or the same death (Linux kills a process
    whose exec fails past its point of no return), and the kernel lives."""
    dyn = tmp_path / "dyn"
    subprocess.run(["musl-gcc", "-O2", "-o", str(dyn), str(ROOT / "user/tests/hello.c")],
                   check=True)
    files = _bad_files(_elf(vigil.art), dyn.read_bytes())
    paths = sorted(p for p in files if p.startswith("/bad/"))
    tree = tmp_path / "tree"
    shutil.copytree(vigil.art.rootfs, tree, symlinks=True)
    for path, data in files.items():
        dest = tree / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        dest.chmod(0o755)
    run = vigil.program(["/bin/execbad", "-f", *paths], files=files)
    host = vigil.host(["/bin/execbad", "-f", *paths], root=tree)
    assert run.status == 0, run.output
    vigil_lines = [x for x in run.output.splitlines() if x.startswith("/bad/")]
    host_lines = [x for x in host.output.splitlines() if x.startswith("/bad/")]
    assert len(host_lines) == len(paths), host.output
    assert vigil_lines == host_lines
    # The plain ENOEXEC cases stay ENOEXEC (the host might change, the promise not).
    for name in ("truncated", "badmagic", "i386", "phoff_past_end", "phnum_huge", "empty"):
        assert f"/bad/{name}: errno ENOEXEC" in vigil_lines


def test_failed_exec_leaves_the_caller_running(vigil) -> None:
    good = _elf(vigil.art)
    files = {"/bad/badmagic": MALFORMED["badmagic"](good), "/bad/i386": MALFORMED["i386"](good)}
    run = vigil.program(["/bin/execbad", *files, "/bin/hello"], files=files)
    for name in files:
        assert f"{name}: ENOEXEC" in run.output, run.output
    # The last path is fine: exec replaced execbad with hello.
    assert run.output.rstrip().endswith("hello, world")
    assert run.status == 0


def test_close_range_closes_or_marks_close_on_exec_as_on_linux(vigil) -> None:
    """close_range(2), what Python's subprocess calls before exec: closes a
    range, or marks it close-on-exec, EINVAL for bad flags or a reversed
    range; step by step the same descriptors open as on the host's Linux."""
    run = vigil.program(["/bin/closerange"])
    host = vigil.host(["/bin/closerange"])
    assert run.status == host.status == 0, run.output
    assert "close_range(5, 7, 0)         -> 0  oo---oo" in run.output
    assert run.output == host.output


def test_execveat_runs_and_refuses_as_on_linux(vigil, tmp_path) -> None:
    """execveat(2): relative to a directory fd, AT_EMPTY_PATH (fexecve: the
    program is told /dev/fd/N, a script by a close-on-exec fd is ENOENT as
    its interpreter could never open it), AT_SYMLINK_NOFOLLOW (ELOOP), and
    the errors; every case ends as on the host's Linux, argv and AT_EXECFN
    alike."""
    script = b"#!/bin/args\n"
    tree = tmp_path / "tree"
    shutil.copytree(vigil.art.rootfs, tree, symlinks=True)
    (tree / "s").mkdir()
    (tree / "s/script").write_bytes(script)
    (tree / "s/script").chmod(0o755)
    run = vigil.program(["/bin/execat"], files={"/s/script": script})
    host = vigil.host(["/bin/execat"], root=tree)
    assert host.status == 0 and "AT_EXECFN=/dev/fd/3/args" in host.output, host.output
    assert run.status == 0, run.output
    assert run.output == host.output
