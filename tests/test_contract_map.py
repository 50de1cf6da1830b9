"""The contract map does not drift: the promises are the `##` headings of
docs/invariants.md, and the kernel's INVARIANT(...) tags, the matrix's rows
and the page's generated table all use exactly that vocabulary and name
code that exists. (Derived from the page: a new heading is a new promise.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import matrix, symbols
from harness.config import ROOT

KERNEL = ROOT / "kernel"
_TAG = re.compile(r"INVARIANT\(([^)]*)\)")


def _sources() -> list[Path]:
    return sorted(p for p in KERNEL.rglob("*") if p.suffix in (".c", ".h", ".asm", ".S"))


def _tags() -> dict[str, list[str]]:
    """Each tag spelled in the kernel, and where (file:line)."""
    found: dict[str, list[str]] = {}
    for p in _sources():
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            for m in _TAG.finditer(line):
                found.setdefault(m.group(1), []).append(f"{p.relative_to(ROOT)}:{n}")
    return found


def test_every_invariant_tag_names_a_promise_of_the_docs() -> None:
    promises = set(matrix.promises())
    bad = {t: where for t, where in _tags().items() if t not in promises}
    assert not bad, (f"INVARIANT tags that are not a heading of docs/invariants.md "
                     f"({sorted(promises)}): {bad}")


def test_every_invariant_marker_is_a_tag() -> None:
    """`INVARIANT:` or `INVARIANT (...)` would slip past the vocabulary."""
    loose = [f"{p.relative_to(ROOT)}:{n}" for p in _sources()
             for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
             if "INVARIANT" in line and not _TAG.search(line)]
    assert not loose, f"INVARIANT without (promise): {loose}"


def test_every_promise_of_the_docs_is_tagged_in_the_kernel() -> None:
    tags = _tags()
    untagged = [p for p in matrix.promises() if p not in tags]
    assert not untagged, f"promises with no INVARIANT({untagged[0]}) in kernel/: {untagged}"


def test_every_row_names_a_promise_and_a_switch_the_kernel_has() -> None:
    promises = set(matrix.promises())
    text = "\n".join(p.read_text(errors="replace") for p in _sources())
    for r in matrix.ROWS:
        assert r.promise in promises, f"row {r.switch}: {r.promise!r} is not a heading"
        define = "BREAK_" + r.switch.upper().replace("-", "_")
        assert re.search(rf"\b{define}\b", text), f"row {r.switch}: no {define} in kernel/"


@pytest.mark.parametrize("row", matrix.ROWS, ids=lambda r: r.switch)
def test_where_names_functions_of_kernel_elf(art, row: matrix.Row) -> None:
    names = symbols.load(art.kernel_elf).all_names
    for w in row.where:
        src = ROOT / w.file
        assert src.exists(), f"row {row.switch}: no file {w.file}"
        text = src.read_text()
        for f in w.functions:
            # gcc may emit a static function only as its clones: get_busy's
            # lock assert splits its cold path off, leaving get_busy.part.0.
            clone = re.compile(rf"{re.escape(f)}\.(part|isra|constprop|cold)\b")
            assert f in names or any(clone.match(n) for n in names), \
                f"row {row.switch}: {f} is not a symbol of kernel.elf"
            defined = rf"^{f}:" if w.file.endswith(".asm") else rf"^\w.*\b{f}\("
            assert re.search(defined, text, re.M), \
                f"row {row.switch}: {f} is not defined in {w.file}"


def test_the_matrix_table_in_the_docs_is_current() -> None:
    text = matrix.DOC.read_text()
    a, b = text.index(matrix.DOC_BEGIN), text.index(matrix.DOC_END) + len(matrix.DOC_END)
    assert text[a:b] == matrix.doc_table(text), \
        "docs/invariants.md's matrix table is stale: run python -m harness.matrix --doc"
