"""Debian's own programs, unchanged, give on Vigil what they give on Linux:
the cases beyond tests/test_debian_root.py's seed walks.

One boot of the Debian root image runs every case (tests/debian_programs/):
coreutils over a tree on the ext3 root with fixed times, modes, a hard link
and a symlink (cp -a, find, ls -laR with times, sort, sha256sum, stat, du,
wc), and `[0] * 10_000_000` with the RSS figures /proc/self/status reports.
The host runs the same binaries from the same tree (a copy of the image's
tree, chrooted, with /proc and /dev mounted): coreutils' output must be the
same byte for byte; the RSS figures must agree with Linux's within a
margin (the seed walk in test_debian_root checks only a fixed range)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.debian import CACHE
from harness.execute import ProgramRun, run_on_host
from tests.conftest import Vigil, check_kernel_health

HERE = Path(__file__).parent / "debian_programs"
CASES = ["walk_memory.py", "coreutils.sh"]
_SECTION = re.compile(r"=== begin (\S+)\n(.*?)=== end \1 status (\d+)\n", re.S)


@dataclass(frozen=True)
class Both:
    vigil: dict[str, tuple[str, int]]
    host: dict[str, tuple[str, int]]
    console: str


def sections(run: ProgramRun) -> dict[str, tuple[str, int]]:
    return {m.group(1): (m.group(2), int(m.group(3))) for m in _SECTION.finditer(run.output)}


@pytest.fixture(scope="module")
def both(art, accel, tmp_path_factory) -> Both:
    tmp = tmp_path_factory.mktemp("debian-programs")
    files: dict[str, Path | bytes] = {f"/root/acc/{p.name}": p for p in HERE.iterdir()
                                      if p.is_file()}
    argv = ["/root/acc/run.sh", *CASES]
    vigil = Vigil(art, accel, tmp, [])
    v = vigil.program(argv, files, timeout=600, debian=True)
    check_kernel_health(v.console)
    tree = tmp / "tree"
    subprocess.run(["cp", "-a", "--reflink=auto", str(CACHE / "image-tree"), str(tree)],
                   check=True)
    (tree / "root/acc").mkdir(parents=True, exist_ok=True)
    for p in HERE.iterdir():
        if p.is_file():
            shutil.copy2(p, tree / "root/acc" / p.name)
    h = run_on_host(tree, argv, timeout=180, debian=True)  # its own /proc, the host's /dev
    return Both(sections(v), sections(h), v.console)


def _case(both: Both, name: str) -> tuple[tuple[str, int], tuple[str, int]]:
    assert name in both.host, f"{name} did not finish on the host"
    assert name in both.vigil, f"{name} did not finish on Vigil; the console:\n" \
        f"{both.console[-4000:]}"
    return both.vigil[name], both.host[name]


def test_coreutils_over_a_tree_with_times_and_links_print_what_linux_prints(both: Both) -> None:
    (vout, vst), (hout, hst) = _case(both, "coreutils.sh")
    assert hst == 0 and "== rm" in hout, hout
    assert (vst, vout) == (hst, hout), "coreutils: Vigil's output (first) differs from Linux's"


def _fields(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if line)}


def test_python_list_of_ten_million_is_resident_and_accounted_honestly(both: Both) -> None:
    """len() is the same; the peak RSS /proc/self/status reports on Vigil
    covers the list's 80 MB, and is within a quarter (plus 8 MB) of what
    Linux reports for the same binary: Vigil neither hides pages nor
    invents them."""
    (vout, vst), (hout, hst) = _case(both, "walk_memory.py")
    assert vst == hst == 0, (vout, hout)
    v, h = _fields(vout), _fields(hout)
    assert v["len"] == h["len"] == 10_000_000
    list_kb = 10_000_000 * 8 // 1024
    grew = v["VmHWM_peak_kB"] - v["VmHWM_before_kB"]
    assert grew >= list_kb, f"Vigil's VmHWM grew {grew} kB for an {list_kb} kB list"
    assert abs(v["VmHWM_peak_kB"] - h["VmHWM_peak_kB"]) <= h["VmHWM_peak_kB"] // 4 + 8192, \
        f"peak RSS: Vigil {v['VmHWM_peak_kB']} kB, Linux {h['VmHWM_peak_kB']} kB"
    assert v["VmRSS_after_del_kB"] <= v["VmHWM_peak_kB"]
