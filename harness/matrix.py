"""The invariant matrix: for each break switch, build the kernel with that
one mechanism removed, run the tests that guard it, and report whether they
caught it (failed) and what they saw.

  python -m harness.matrix [SWITCH...]     (or: ./vigil matrix)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from . import accel as accel_mod
from .build import build
from .config import ROOT


@dataclass(frozen=True)
class Row:
    switch: str
    invariant: str
    mechanism: str
    where: str
    tests: tuple[str, ...]


_P = "tests/test_privilege.py::test_privileged_instruction_kills_only_that_process"
_C = "tests/test_concurrency.py"

ROWS = (
    Row("user-pages", "privilege separation", "kernel pages are supervisor-only (U/S bit)",
        "kernel/mm/vmm.c: vmm_init, next_level",
        ("tests/test_isolation.py::test_process_cannot_read_kernel_memory", f"{_P}[readkernel]")),
    Row("cow", "process isolation", "copy-on-write fork",
        "kernel/mm/uvm.c: share_leaf, mm_fault",
        ("tests/test_isolation.py::test_forked_child_writes_are_invisible_to_parent",)),
    Row("preempt", "scheduling fairness", "timer preemption",
        "kernel/proc/sched.c: sched_tick",
        ("tests/test_scheduling.py::test_spinning_process_does_not_stop_others",)),
    Row("fair", "scheduling fairness", "virtual-runtime choice of the next process",
        "kernel/proc/sched.c: pick_next",
        ("tests/test_scheduling.py::test_cpu_bound_processes_get_equal_shares",)),
    Row("usercopy", "privilege separation", "range checks on syscall pointers",
        "kernel/arch/x86_64/uaccess.c: user_range_ok",
        ("tests/test_privilege.py::test_syscalls_given_kernel_addresses_return_efault",)),
    Row("nx", "privilege separation", "no-execute user data (NX)",
        "kernel/mm/uvm.c: pte_flags",
        (f"{_P}[execstack]", f"{_P}[execheap]")),
    Row("fsync-flush", "durability", "fsync ends with a device FLUSH",
        "kernel/fs/journal.c: commit_locked, durable_flush",
        ("tests/test_durability.py::test_fsync_is_durable_under_the_disk_contract",)),
    Row("journal", "crash consistency", "the JBD2 journal (ordered mode)",
        "kernel/fs/journal.c: commit_locked, recover",
        ("tests/test_crash_explorer.py::test_journal_survives_every_allowed_crash_state[seq1]",)),
    Row("spinlock", "mutual exclusion", "spinlocks and the kernel lock",
        "kernel/lib/spinlock.c: acquire; kernel/proc/sync.c: kernel_lock",
        (f"{_C}::test_kernel_survives_thread_storm_with_lockdep_silent[smp2]",)),
    Row("futex", "mutual exclusion", "futex wait checks the word and queues in one step",
        "kernel/proc/futex.c: futex_wait",
        (f"{_C}::test_futex_ping_pong_never_loses_a_wakeup",)),
    Row("pi", "scheduling fairness", "priority inheritance on PI futexes",
        "kernel/proc/futex.c: pi_update",
        (f"{_C}::test_priority_inheritance_prevents_pathfinder_inversion[smp2]",)),
    Row("tlb", "process isolation", "TLB shootdown by IPI",
        "kernel/mm/uvm.c: flush_mm; kernel/arch/x86_64/smp.c: tlb_shootdown",
        (f"{_C}::test_other_cpus_stop_using_a_changed_mapping[smp2]",)),
    Row("smap", "privilege separation", "SMEP/SMAP",
        "kernel/arch/x86_64/gdt.c: cpu_init",
        ("tests/test_faults.py::test_kernel_cannot_read_user_memory_outside_uaccess",
         "tests/test_faults.py::test_kernel_cannot_execute_user_pages")),
)


@dataclass(frozen=True)
class Outcome:
    row: Row
    ran: int
    failed: list[tuple[str, str]]  # (test, first line of what it saw)

    @property
    def caught(self) -> bool:
        return bool(self.failed)


def _symptom(case: ET.Element) -> str:
    for tag in ("failure", "error"):
        el = case.find(tag)
        if el is not None:
            text = (el.get("message") or el.text or "").strip()
            return text.splitlines()[0][:160] if text else tag
    return ""


def _run_tests(tests: tuple[str, ...], switch: str | None, accel: str,
               workers: str = "0") -> tuple[int, list[tuple[str, str]]]:
    """Run tests against the kernel built with switch (None: the real one):
    how many ran, and (name, symptom) for each that failed."""
    build(switch)
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d) / "junit.xml"
        env = dict(os.environ, VIGIL_ACCEL=accel)
        env.pop("VIGIL_BREAK", None)
        if switch:
            env["VIGIL_BREAK"] = switch
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-n", workers, f"--junitxml={xml}", *tests],
                       cwd=ROOT, env=env, capture_output=True, text=True)
        cases = ET.parse(xml).getroot().iter("testcase") if xml.exists() else []
        failed, ran = [], 0
        for case in cases:
            ran += 1
            symptom = _symptom(case)
            if symptom:
                failed.append((case.get("name", "?"), symptom))
    return ran, failed


def run_row(row: Row, accel: str) -> Outcome:
    ran, failed = _run_tests(row.tests, row.switch, accel)
    return Outcome(row, ran, failed)


def report(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        verdict = "caught" if o.caught else "NOT CAUGHT"
        lines.append(f"{o.row.switch:<11} {o.row.invariant:<21} {o.row.mechanism}")
        lines.append(f"{'':<11} where: {o.row.where}; tests run: {o.ran}; {verdict}")
        for name, symptom in o.failed:
            lines.append(f"{'':<11}   {name}: {symptom}")
    return "\n".join(lines)


def _table(outcomes: list[Outcome], unbroken: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Vigil's invariants: each mechanism, and what its tests see without it",
              show_lines=True)
    for col in ("invariant", "mechanism (where)", "switch", "tests", "with it", "without it"):
        t.add_column(col, overflow="fold")
    bad = {name for name, _ in unbroken}
    for o in outcomes:
        names = [x.split("::")[-1] for x in o.row.tests]
        with_it = "FAIL: " + ", ".join(n for n in names if n in bad) if bad & set(names) \
            else f"pass ({len(names)}/{len(names)})"
        without = ("caught: " + "; ".join(f"{n}: {sym}" for n, sym in o.failed)) if o.caught \
            else "NOT CAUGHT"
        t.add_row(o.row.invariant, f"{o.row.mechanism}\n({o.row.where})", o.row.switch,
                  escape("\n".join(names)), escape(with_it), escape(without))
    Console(width=200).print(t)


def main(argv: list[str]) -> int:
    default = build()
    accel = accel_mod.choose(default)
    rows = [r for r in ROWS if not argv or r.switch in argv]
    # With every mechanism in place, the same tests pass (all at once).
    every = tuple(dict.fromkeys(t for r in rows for t in r.tests))
    ran, unbroken = _run_tests(every, None, accel, workers="2")
    outcomes = [run_row(r, accel) for r in rows]
    _table(outcomes, unbroken)
    print(f"unbroken kernel: {ran - len(unbroken)}/{ran} passed; "
          f"{sum(o.caught for o in outcomes)}/{len(outcomes)} switches caught ({accel.upper()})")
    ok = ran == len(every) and not unbroken and all(o.caught and o.ran for o in outcomes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
