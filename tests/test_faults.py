"""Kernel faults are reported with the right vector, address and function,
and end the run with the panic code. INVARIANT: W^X in the kernel."""

from __future__ import annotations

import re

import pytest

from harness import symbols


def _report(output: str) -> dict[str, int | str]:
    m = re.search(r'EXCEPTION vector=(\d+) name="([^"]+)" error=(0x[0-9a-f]+)', output)
    assert m, "no exception report"
    rip = re.search(r"RIP=(0x[0-9a-f]+)", output)
    cr2 = re.search(r"CR2=(0x[0-9a-f]+)", output)
    target = re.search(r"crash: \w+ target=(0x[0-9a-f]+)", output)
    frame0 = re.search(r"#0 0x[0-9a-f]+ (\S+)\+0x([0-9a-f]+)", output)
    assert rip and cr2 and target
    return {
        "vector": int(m.group(1)), "name": m.group(2), "error": int(m.group(3), 16),
        "rip": int(rip.group(1), 16), "cr2": int(cr2.group(1), 16),
        "target": int(target.group(1), 16),
        "frame0": f"{frame0.group(1)}+0x{frame0.group(2)}" if frame0 else "",
    }


def _line(r, start: str) -> str:
    return next((x for x in r.output.splitlines() if x.startswith(start)), f"(no {start!r} line)")


def _in_function(art, rip: int, name: str) -> None:
    where = symbols.load(art.kernel_elf).resolve(rip)
    assert where is not None, f"RIP 0x{rip:x} is in no function"
    assert where[0] == name, f"RIP 0x{rip:x} is in {where[0]}, not {name}"


def _kernel_names_frame0_as_lief_does(art, rep) -> None:
    where = symbols.load(art.kernel_elf).resolve(rep["rip"])
    assert rep["frame0"] == f"{where[0]}+0x{where[1]:x}"


def test_kernel_page_fault_is_reported_with_cr2_and_rip(vigil) -> None:
    r = vigil.boot("crash=pagefault")
    rep = _report(r.output)
    assert (rep["vector"], rep["name"]) == (14, "Page Fault")
    assert rep["cr2"] == rep["target"]
    assert not rep["error"] & 1, "fault on a not-present page"
    _in_function(vigil.art, rep["rip"], "crash_pagefault")
    _kernel_names_frame0_as_lief_does(vigil.art, rep)
    assert r.exit.kind == "panic"


def test_divide_error_is_named_with_its_rip(vigil) -> None:
    r = vigil.boot("crash=divide")
    rep = _report(r.output)
    assert (rep["vector"], rep["name"]) == (0, "Divide Error")
    _in_function(vigil.art, rep["rip"], "crash_divide")
    _kernel_names_frame0_as_lief_does(vigil.art, rep)
    assert r.exit.kind == "panic"


def test_kernel_stack_overflow_hits_guard_page_as_double_fault(vigil) -> None:
    r = vigil.boot("crash=doublefault")
    rep = _report(r.output)
    # The fault that could not be delivered was in the guard page.
    assert rep["target"] <= rep["cr2"] < rep["target"] + 4096, (
        f"the stack overflow ran past its guard page: it faulted at 0x{rep['cr2']:x}, "
        f"the guard page is at 0x{rep['target']:x}")
    assert (rep["vector"], rep["name"]) == (8, "Double Fault")
    assert r.exit.kind == "panic"


@pytest.mark.invariant("privilege")
def test_write_to_kernel_text_faults(vigil) -> None:
    r = vigil.boot("crash=wx")
    assert "crash=wx did not crash" not in r.output, \
        "the kernel wrote its own text without a fault (W^X)"
    rep = _report(r.output)
    assert (rep["vector"], rep["name"]) == (14, "Page Fault")
    assert rep["cr2"] == rep["target"]
    assert rep["error"] & 0x3 == 0x3, "a write to a present, read-only page"
    _in_function(vigil.art, rep["rip"], "crash_wx")
    _kernel_names_frame0_as_lief_does(vigil.art, rep)
    assert r.exit.kind == "panic"
    assert "crash=wx did not crash" not in r.output


@pytest.mark.invariant("privilege")
def test_kernel_cannot_read_user_memory_outside_uaccess(vigil) -> None:
    """SMAP: only the uaccess routines may touch user pages."""
    r = vigil.boot("crash=smap")
    assert "crash: read" not in r.output, \
        f"the kernel read user memory outside uaccess without a fault: {_line(r, 'crash: read')}"
    assert "smap on" in r.output, _line(r, "cpu:")
    rep = _report(r.output)
    assert (rep["vector"], rep["cr2"]) == (14, rep["target"])
    assert rep["error"] & 0x5 == 0x1, "a kernel-mode fault on a present page"
    _in_function(vigil.art, rep["rip"], "crash_smap")
    assert r.exit.kind == "panic"


@pytest.mark.invariant("privilege")
def test_kernel_cannot_execute_user_pages(vigil) -> None:
    """SMEP: a jump into user memory from ring 0 faults (no ret2usr)."""
    r = vigil.boot("crash=smep")
    assert "did not crash" not in r.output, \
        f"the kernel ran a user page without a fault: {_line(r, 'PANIC')}"
    assert "smep on" in r.output, _line(r, "cpu:")
    rep = _report(r.output)
    assert (rep["vector"], rep["cr2"], rep["rip"]) == (14, rep["target"], rep["target"])
    assert rep["error"] & 0x15 == 0x11, "an instruction fetch from a present page"
    assert r.exit.kind == "panic"
