"""The exec contract: any static x86-64 Linux binary from the host runs as
init's program and reports its status (what `invoke exec` does), and a
malformed ELF is refused with ENOEXEC without hurting the kernel."""

from __future__ import annotations

import struct
import subprocess
import sys

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


def _first_load(data: bytes) -> int:
    phoff, = struct.unpack_from("<Q", data, 32)
    for i in range(struct.unpack_from("<H", data, 56)[0]):
        if struct.unpack_from("<I", data, phoff + 56 * i)[0] == 1:
            return phoff + 56 * i
    raise AssertionError("no PT_LOAD")


MALFORMED = {
    "truncated": lambda d: d[:40],
    "badmagic": lambda d: b"\x7fELG" + d[4:],
    "class32": lambda d: d[:4] + b"\x01" + d[5:],
    "i386": lambda d: _patch(d, 18, "<H", 3),
    "phoff_past_end": lambda d: _patch(d, 32, "<Q", len(d) + 4096),
    "phnum_huge": lambda d: _patch(d, 56, "<H", 0xFFFF),
    "phentsize": lambda d: _patch(d, 54, "<H", 32),
    "segment_past_end": lambda d: _patch(d, _first_load(d) + 8, "<Q", len(d) + 0x10000),
    "filesz_gt_memsz": lambda d: _patch(d, _first_load(d) + 32, "<Q", 1 << 40),
    "kernel_vaddr": lambda d: _patch(d, _first_load(d) + 16, "<Q", 0xFFFFFFFF80000000),
    "interp": lambda d: _patch(d, _first_load(d), "<I", 3),
}


@pytest.mark.invariant("privilege")
def test_malformed_elf_is_enoexec_and_harmless(vigil) -> None:
    good = _elf(vigil.art)
    files = {f"/bad/{k}": f(good) for k, f in MALFORMED.items()}
    run = vigil.program(["/bin/execbad", *files, "/bin/hello"], files=files)
    for name in MALFORMED:
        assert f"/bad/{name}: ENOEXEC" in run.output, run.output
    # The last path is fine: exec replaced execbad with hello.
    assert run.output.rstrip().endswith("hello, world")
    assert run.status == 0
