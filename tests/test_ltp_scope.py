"""Issue 17's promise about LTP, as bookkeeping CI checks: every test that
passes on Linux in the same QEMU passes on Vigil (tests/ltp-pass.txt), or is
out of scope with a named reason (tests/ltp-out-of-scope.txt), or is owed
and listed as such (tests/ltp-gap.txt). harness/ltpscope.py keeps the
account; docs/ltp.md explains the reasons."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness import ltpscope

LISTS = ("ltp-linux-pass.txt", "ltp-pass.txt", "ltp-out-of-scope.txt", "ltp-gap.txt")


def test_every_test_linux_passes_is_passing_out_of_scope_with_a_reason_or_owed() -> None:
    assert ltpscope.account().problems() == []


def _copy(tmp_path: Path) -> Path:
    for name in LISTS:
        shutil.copy(ltpscope.TESTS / name, tmp_path / name)
    return tmp_path


def test_a_linux_pass_dropped_from_every_list_is_reported(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    a = ltpscope.account(d)
    victim = sorted(a.linux & a.passing)[0]
    for name in ("ltp-pass.txt", "ltp-gap.txt"):
        p = d / name
        p.write_text("".join(x for x in p.read_text().splitlines(keepends=True)
                             if not x.startswith(victim + " ") and x.strip() != victim))
    problems = ltpscope.account(d).problems()
    assert problems == [f"{victim}: passes on Linux, and is neither in the pass list, "
                        "out of scope nor in the gap"]


def test_a_test_out_of_scope_needs_a_known_reason(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    a = ltpscope.account(d)
    owed = a.owed()[0] if a.owed() else sorted(a.linux)[0]
    with (d / "ltp-out-of-scope.txt").open("a") as f:
        f.write(f"{owed} whim\n")
    assert f"{owed}: out of scope for an unknown reason 'whim'" in ltpscope.account(d).problems()


def test_a_reason_must_say_why(tmp_path: Path) -> None:
    p = tmp_path / "scope.txt"
    p.write_text("reason sockets:\nsocket01 sockets\n")
    with pytest.raises(ValueError, match="says no why"):
        ltpscope.read_scope(p)
