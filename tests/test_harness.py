"""The harness's own parts, on synthetic inputs: the KTAP reader, the exit
status decoding, the symbol table and the QEMU driver's timeouts. These need
no kernel, so a harness bug shows up here rather than as a kernel failure."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pexpect
import pytest

from harness import ktap, symbols, syscalls
from harness.config import QBOOT, ROOT
from harness.qemu import Exit, Session, accel_args

SAMPLE = """\
boot: cmdline "ktest=all"
KTAP version 1
1..2
    KTAP version 1
    # Subtest: pmm
    1..3
    ok 1 alloc_distinct
    # pmm.c:10: expected 1, got 2
    not ok 2 free_reuses
    ok 3 something # SKIP no disk
ok 1 pmm
    KTAP version 1
    # Subtest: vmm
    1..1
    ok 1 map_unmap
not ok 2 vmm
"""


def test_ktap_reads_nested_cases_with_their_diagnostics() -> None:
    rep = ktap.parse(SAMPLE.replace("\n", "\r\r\n"))  # as a pty with ONLCR delivers it
    assert rep.version_seen and rep.plan == 2 and rep.problems == []
    assert sorted(rep.cases) == ["pmm.alloc_distinct", "pmm.free_reuses", "pmm.something",
                                 "vmm.map_unmap"]
    assert rep.cases["pmm.alloc_distinct"] == ktap.Case(ok=True)
    # KUnit prints a case's diagnostics before its result line.
    assert rep.cases["pmm.free_reuses"] == ktap.Case(
        ok=False, diagnostics=["# pmm.c:10: expected 1, got 2"])
    assert rep.cases["pmm.something"].skipped and rep.cases["pmm.something"].ok
    assert rep.suites == {"pmm": True, "vmm": False}
    assert rep.suite_plans == {"pmm": 3, "vmm": 1}


@pytest.mark.parametrize("broken, problem", [
    (SAMPLE.replace("1..2\n", "1..3\n", 1), "top-level plan 1..3 but 2 results"),
    (SAMPLE.replace("    1..3\n", "    1..4\n"), "suite pmm: plan 1..4 but 3 results"),
    (SAMPLE.replace("ok 3 something", "ok 4 something"), "suite pmm: results numbered [1, 2, 4]"),
    (SAMPLE.replace("KTAP version 1\n", "", 1).replace("    KTAP version 1\n", ""),
     "no 'KTAP version 1' line"),
    (SAMPLE.split("ok 1 pmm")[0], "top-level plan 1..2 but 0 results"),
])
def test_ktap_notices_plan_mismatches(broken: str, problem: str) -> None:
    assert problem in ktap.parse(broken).problems


def test_ktap_of_a_run_that_died_midway_has_problems() -> None:
    assert ktap.parse("KTAP version 1\n1..2\n    KTAP version 1\n    # Subtest: pmm\n").problems
    assert ktap.parse("").problems


@pytest.mark.parametrize("status, kind, code", [
    (33, "ok", 0x10), (35, "test-fail", 0x11), (161, "panic", 0x50),
    (0, "reset", None), (None, "killed", None),
])
def test_qemu_exit_status_decodes_to_guest_code(status: int | None, kind: str,
                                                code: int | None) -> None:
    ex = Exit.from_status(status, None)
    assert (ex.kind, ex.guest_code, ex.qemu_status) == (kind, code, status)


def test_symbols_resolve_functions_and_list_ktest_cases(tmp_path: Path) -> None:
    src = tmp_path / "k.c"
    src.write_text(
        "void ktest__pmm__alloc_distinct(void) {}\n"
        "void ktest__vmm__map(void) {}\n"
        "void ktest_helper(void) {}\n"
        "int kmain(int x) { return x * 3 + 1; }\n"
        "int _start(void) { return kmain(2); }\n")
    elf = tmp_path / "k.elf"
    subprocess.run(["gcc", "-O1", "-nostdlib", "-static", "-no-pie", "-o", str(elf), str(src)],
                   check=True)
    syms = symbols.Symbols(elf)
    assert syms.ktest_cases() == ["pmm.alloc_distinct", "vmm.map"]
    kmain = syms.names["kmain"]
    assert syms.resolve(kmain) == ("kmain", 0)
    assert syms.resolve(kmain + 1) == ("kmain", 1)
    assert syms.resolve(0x10) is None


def test_a_guest_that_never_exits_is_killed_at_the_timeout(tmp_path: Path) -> None:
    # No kernel: the firmware finds nothing to boot and the machine sits there.
    cmd = ["qemu-system-x86_64", "-M", "pc", "-m", "32M", "-no-reboot", "-display", "none",
           "-bios", str(QBOOT), "-serial", "stdio", "-monitor", "none", *accel_args("tcg")]
    log = tmp_path / "console.log"
    with Session(cmd, log) as s:
        with pytest.raises(pexpect.TIMEOUT):
            s.expect("never printed", timeout=0.5)
        ex = s.wait_exit(timeout=1)
        assert ex.kind == "timeout"
        assert not s.child.isalive()
    assert log.exists()


def test_the_syscall_list_is_in_numeric_order_and_every_handler_is_declared() -> None:
    """kernel/sys/syscalls.def is the one list of syscalls: strictly increasing
    numbers, one name each, a lock class the table knows, and each handler
    declared in sys.h (or the table would not compile for that reason alone)."""
    entries = syscalls.parse(syscalls.DEF_FILE.read_text())
    nrs = [e.nr for e in entries]
    assert nrs == sorted(set(nrs)), "syscalls.def: numbers out of order or repeated"
    assert len({e.name for e in entries}) == len(entries)
    assert {e.lock for e in entries} <= {"KLOCK", "NOLOCK"}
    lines = [x for x in syscalls.DEF_FILE.read_text().splitlines()
             if x.startswith(("SYSCALL(", "UNIMPL("))]
    assert len(lines) == len(entries), "a SYSCALL/UNIMPL line the parser does not read"
    declared = set(re.findall(r"^long (sys_\w+)\(", (ROOT / "kernel/sys/sys.h").read_text(), re.M))
    assert {e.handler for e in entries if e.implemented} <= declared
    assert syscalls.name(257) == "openat" and syscalls.describe(183) == "183 (afs_syscall)"
    assert syscalls.name(9999) == "syscall 9999"


def _tasks() -> list[str]:
    out = subprocess.run([ROOT / ".venv/bin/invoke", "--list", "--list-format", "json"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [t["name"] for t in json.loads(out)["tasks"]]


def test_every_task_prints_its_help() -> None:
    """`./vigil TASK --help` prints that task's help and exits 0, for every
    task, including those whose positional argument (crash's WORKLOAD,
    exec's PATH) would otherwise take the --help as its value."""
    tasks = _tasks()
    assert {"build", "crash", "exec", "test"} <= set(tasks)
    runs = [(name, [str(ROOT / "vigil"), name, "--help"]) for name in tasks]
    runs += [(name, [str(ROOT / ".venv/bin/invoke"), name, "--help"]) for name in ("crash", "exec")]
    for name, argv in runs:
        run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
        both = run.stdout + run.stderr
        assert run.returncode == 0 and "Traceback" not in both, (argv, both[-2000:])
        assert f"[--core-opts] {name} " in run.stdout, (argv, run.stdout[:500])
