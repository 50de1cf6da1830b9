"""In-kernel unit tests (frame allocator, page tables, heap, traps, timer),
one pytest item per KTAP case. The list of cases comes from the kernel's
symbol table, so a case that never reports fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ktap, symbols
from harness.build import build
from harness.qemu import Machine, run

CASES = symbols.load(build().kernel_elf).ktest_cases()

# The blk suite needs a disk: an 8 MiB scratch image, its size on the
# command line so the suite can check the capacity the driver reads.
DISK_SECTORS = 16384


@pytest.fixture(scope="module")
def ktap_run(art, accel, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ktest")
    log, img = tmp / "console-ktest.log", tmp / "scratch.img"
    with open(img, "wb") as f:
        f.truncate(DISK_SECTORS * 512)
    disk = ["-drive", f"file={img},if=none,id=d0,format=raw,cache=writeback",
            "-device", "virtio-blk-pci,drive=d0"]
    r = run(art, f"ktest=all blk_sectors={DISK_SECTORS}", Machine(accel=accel, extra=disk), log,
            timeout=300)
    return r, ktap.parse(r.output), log


@pytest.mark.parametrize("case", CASES)
def test_in_kernel(ktap_run, case: str) -> None:
    r, report, log = ktap_run
    result = report.cases.get(case)
    detail = f"(console: {log})\n" + "\n".join(r.output.splitlines()[-40:])
    assert result is not None, f"{case} never reported {detail}"
    assert result.ok, f"{case} failed: {result.diagnostics} {detail}"


def test_every_case_ran_and_the_run_passed(ktap_run) -> None:
    r, report, _ = ktap_run
    assert report.version_seen
    assert report.problems == []
    assert sorted(report.cases) == CASES
    assert r.exit.kind == "ok", r.exit


def test_ktest_glob_selects_one_suite(vigil) -> None:
    r = vigil.boot("ktest=pmm.*")
    report = ktap.parse(r.output)
    assert report.cases and all(c.startswith("pmm.") for c in report.cases)
    assert r.exit.kind == "ok"


def test_symbols_module_sees_ktests() -> None:
    assert len(CASES) >= 10
    assert Path(build().kernel_elf).exists()
