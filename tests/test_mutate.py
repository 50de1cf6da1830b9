"""The mutation harness's own logic (harness/mutate.py, cfuncs.py,
mutate_map.py), without building mutant kernels: which lines it mutates,
that its equivalence filter tells identical object code from different, and
that every kernel file it covers maps to tests that exist."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from harness import cfuncs, mutate, mutate_map
from harness.config import ROOT

SAMPLE = """\
/* A file with braces { in a comment } and "strings { too". */
#include "x.h"
#define SWAP(a, b) do { int t = a; a = b; b = t; } while (0)

struct pair { int a, b; };
static const int table[] = { 1, 2, 3 };

static int helper(int x) { return x + 1; }

/* INVARIANT(isolation): callers see only their own slot. */
int guarded(int *slots, int i,
            int n)
{
    if (i < 0 || i >= n)
        return -EFAULT;
#ifdef BREAK_GUARD
    i = 0;
#endif
    return slots[i] * 2;
}

long sys_thing(int fd, int flags)
{
    int r = helper(fd);
    if (fd < 0 ||
        flags != 0)
        return -EINVAL;
    r = r * 3 + flags;
    return r;
}
"""


def test_function_extents_skip_comments_structs_and_initializers() -> None:
    funcs = {f.name: (f.start, f.end) for f in cfuncs.functions(SAMPLE)}
    assert funcs == {"helper": (8, 8), "guarded": (11, 20), "sys_thing": (22, 30)}


def test_a_tag_names_the_function_it_is_in_or_above() -> None:
    assert [f.name for f in cfuncs.invariant_functions(SAMPLE)] == ["guarded"]
    inside = "void f(void)\n{\n    /* INVARIANT(x): here */\n    g();\n}\nvoid h(void)\n{\n}\n"
    assert [f.name for f in cfuncs.invariant_functions(inside)] == ["f"]
    section = ("/* ---- a set ----\n * INVARIANT(y): both below */\nint a(void) { return 1; }\n"
               "int b(void) { return 2; }\n/* ---- other ---- */\nint c(void) { return 3; }\n")
    assert [f.name for f in cfuncs.invariant_functions(section)] == ["a", "b"]


def test_break_switch_code_is_inactive() -> None:
    assert cfuncs.inactive_lines(SAMPLE) == {17}
    text = "#ifndef BREAK_X\nkeep();\n#else\ndrop();\n#endif\n#ifdef OTHER\nkeep();\n#endif\n"
    assert cfuncs.inactive_lines(text) == {4}


def test_check_lines_follow_a_condition_to_its_end() -> None:
    f = next(f for f in cfuncs.functions(SAMPLE) if f.name == "sys_thing")
    assert cfuncs.check_lines(SAMPLE, f) == {25, 26, 27}


def test_mutants_only_in_tagged_functions_and_syscall_checks() -> None:
    ms = mutate.generate("kernel/sys/sample.c", SAMPLE)
    where = {(m.line, m.function, m.kind) for m in ms}
    assert {line for line, _, _ in where} <= {12, 13, 14, 15, 19, 25, 26, 27}
    assert {(f, k) for _, f, k in where} == {("guarded", "invariant"), ("sys_thing", "check")}
    # universalmutator's C rules: a negated condition, a deleted return, a changed operator.
    texts = {m.mutated.strip() for m in ms}
    assert "if (!(i < 0 || i >= n))" in texts
    assert any(t.startswith("/*return -EFAULT") for t in texts)
    assert "return slots[i] / 2;" in texts or "return slots[i] + 2;" in texts
    m = next(m for m in ms if m.line == 19)
    applied = m.apply(SAMPLE).splitlines()
    assert applied[18] == m.mutated and applied[:18] == SAMPLE.splitlines()[:18]
    assert m.diff().splitlines()[2] == "@@ -19 +19 @@ guarded"


def test_sampling_is_seeded_and_takes_files_in_turn() -> None:
    def m(f: str, i: int) -> mutate.Mutant:
        return mutate.Mutant(f, i, "fn", "check", "x", f"y{i}", "r")

    pool = {"a.c": [m("a.c", i) for i in range(10)], "b.c": [m("b.c", i) for i in range(2)]}
    picked = mutate.sample(pool, 6, seed=3)
    assert picked == mutate.sample(pool, 6, seed=3) != mutate.sample(pool, 6, seed=4)
    assert [x.file for x in picked] == ["a.c", "b.c", "a.c", "b.c", "a.c", "a.c"]
    assert len(mutate.sample(pool, 0, seed=1)) == 12


def _compile(tmp: Path, name: str, body: str) -> Path:
    src, obj = tmp / f"{name}.c", tmp / f"{name}.o"
    src.write_text(body)
    subprocess.run(["gcc", "-O2", "-g", "-ffreestanding", "-fno-pic", "-c", str(src), "-o",
                    str(obj)], check=True)
    return obj


def test_equivalence_filter_compares_code_and_relocations(tmp_path: Path) -> None:
    base = "int f(int x);int g(int x);\nint h(int x)\n{\n    return f(x) + 1;\n}\n"
    same = _compile(tmp_path, "same", base.replace("f(x) + 1", "f(x) + 1 + 0"))
    # Same bytes (the call's target is a relocation), a different function.
    other = _compile(tmp_path, "other", base.replace("f(x)", "g(x)"))
    changed = _compile(tmp_path, "changed", base.replace("+ 1", "- 1"))
    orig = _compile(tmp_path, "orig", base)
    assert mutate.same_object(orig, same)
    assert not mutate.same_object(orig, other)
    assert not mutate.same_object(orig, changed)


def test_every_covered_kernel_file_maps_to_existing_tests() -> None:
    for f in mutate.kernel_files(mutate.DEFAULT_FILES):
        assert mutate_map.tests_for(f), f"{f} has no tests in harness/mutate_map.py"
    for _, tests in mutate_map.MAP:
        for t in tests:
            path, _, name = t.partition("::")
            assert (ROOT / path).exists(), f"{t}: no such file"
            if name:
                assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), \
                    f"{t}: no such test"
    uvm = mutate_map.tests_for("kernel/mm/uvm.c")
    assert uvm[0] == "tests/test_isolation.py" and len(uvm) == len(set(uvm))


@pytest.mark.parametrize("path", ["kernel/mm/uvm.c", "kernel/fs/journal.c"])
def test_real_kernel_files_give_mutants_in_tagged_functions(path: str) -> None:
    text = (ROOT / path).read_text()
    tagged = {f.name for f in cfuncs.invariant_functions(text)}
    ms = mutate.generate(path, text)
    assert tagged and {m.function for m in ms if m.kind == "invariant"} <= tagged
    assert {m.kind for m in ms} >= {"invariant"}


def test_recheck_finds_a_survivor_where_its_line_moved(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel/a.c").write_text("int x;\n/* new */\nint f(void)\n{\n    return 1;\n}\n")
    m = mutate.Mutant("kernel/a.c", 4, "f", "invariant", "    return 1;", "    return 0;", "r")
    gone = mutate.Mutant("kernel/a.c", 9, "g", "check", "    gone();", "    /*gone();*/", "r")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"mutants": [
        {**asdict(m), "status": "survived"}, {**asdict(gone), "status": "survived"},
        {**asdict(m), "line": 1, "status": "killed"}]}))
    again = mutate.survivors_of(report, tmp_path)
    assert [(x.line, x.mutated) for x in again] == [(5, "    return 0;")]
    assert again[0].apply((tmp_path / "kernel/a.c").read_text()).splitlines()[4] == "    return 0;"


def test_a_failing_test_is_run_again_by_its_node_id() -> None:
    assert mutate.node_id("tests.test_processes", "test_same_output[args one two]") == \
        "tests/test_processes.py::test_same_output[args one two]"
