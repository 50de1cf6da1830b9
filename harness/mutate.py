"""Mutation testing: do the tests notice when the code that keeps a promise
changes?

A break switch removes a mechanism the developers chose; a mutant is a
small change nobody chose: a condition negated, a `<` turned into `<=`, a
statement deleted. universalmutator (its C rules) writes the mutants; this
module keeps only those in the lines that matter (harness/cfuncs.py: the
functions tagged `INVARIANT(...)`, and the conditions and error returns of
the system calls and permission checks), then for each:

  1. applies it in a scratch copy of the tree (never in the checkout),
  2. compiles the one object file: a mutant that does not compile is
     `build-failed`; one whose object code (.text, .data, .rodata and their
     relocations) equals the original's is `equivalent` (the compiler proved
     it changes nothing),
  3. links the kernel and runs the tests mapped to that file
     (harness/mutate_map.py) with pytest -x: a failing test `killed` it, a
     run that hit a time limit `timeout` (killed too, but counted apart: a
     hang is a weaker symptom), all passing: `survived`.

The mutation score is (killed + timeout) / (killed + timeout + survived).
Every survivor is reported as a one-line diff with its file, line and
function (build/mutate/report.json, and a table); each must be killed by a
new test or explained in docs/mutation.md.

  ./vigil mutate [--files GLOB] [--budget N] [--seed S] [--jobs J]
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from . import cfuncs
from .config import ROOT
from .mutate_map import tests_for

DEFAULT_FILES = ("kernel/mm/*.c", "kernel/proc/*.c", "kernel/sys/*.c", "kernel/fs/journal.c")
RULES = ["universal.rules", "c.rules", "c_like.rules"]  # what `mutate FILE.c` uses
# Lines not mutated: they observe, they do not enforce (an assertion that
# holds in a correct kernel cannot be made to fail by any test).
IGNORE = [r"^\s*(ASSERT\w*|kprintf|panic|KTRACE\w*|lockdep_\w+)\s*\(", r"^\s*#"]
# Functions whose conditions are permission or argument checks wherever
# they live (kernel/sys: every function).
CHECK_NAMES = re.compile(r"^(sys_|may_|do_)|perm|cred|_ok$|check|proc_kill|proc_tgkill")
STATUSES = ("killed", "timeout", "survived", "build-failed", "equivalent")


@dataclass(frozen=True)
class Mutant:
    file: str  # repository-relative
    line: int
    function: str
    kind: str  # invariant | check
    original: str  # the line, without its newline
    mutated: str
    rule: str

    @property
    def key(self) -> str:
        return f"{self.file}:{self.line}:{self.mutated.strip()}"

    def diff(self) -> str:
        """The mutant as a unified diff."""
        return (f"--- a/{self.file}\n+++ b/{self.file}\n"
                f"@@ -{self.line} +{self.line} @@ {self.function}\n"
                f"-{self.original}\n+{self.mutated}\n")

    def apply(self, text: str) -> str:
        lines = text.splitlines(keepends=True)
        assert lines[self.line - 1].rstrip("\n") == self.original, "source moved under the mutant"
        lines[self.line - 1] = self.mutated + "\n"
        return "".join(lines)


@dataclass
class Result:
    mutant: Mutant
    status: str
    seconds: float
    test: str = ""  # the test that killed it
    detail: str = ""  # what it saw (first line), or why it is not tested


# ---- choosing the mutants ----

def target_lines(path: str, text: str) -> dict[int, tuple[str, str]]:
    """line -> (function, kind) for the lines worth mutating in one file."""
    funcs = cfuncs.functions(text)
    inactive = cfuncs.inactive_lines(text)
    out: dict[int, tuple[str, str]] = {}
    for f in funcs:
        if path.startswith("kernel/sys/") or CHECK_NAMES.search(f.name):
            for line in cfuncs.check_lines(text, f):
                out[line] = (f.name, "check")
    for f in cfuncs.invariant_functions(text, funcs):  # the whole body; wins over "check"
        for line in range(f.start + 1, f.end):
            out[line] = (f.name, "invariant")
    return {k: v for k, v in out.items() if k not in inactive}


def generate(path: str, text: str) -> list[Mutant]:
    """universalmutator's mutants of the target lines of one file."""
    from universalmutator import mutator

    wanted = target_lines(path, text)
    source = text.splitlines(keepends=True)
    with open(os.devnull, "w") as devnull:  # it prints progress on stdout
        saved, sys.stdout = sys.stdout, devnull
        try:
            raw = mutator.mutants_regexp(source, ruleFiles=RULES, ignorePatterns=IGNORE,
                                         ignoreStringOnly=True)
        finally:
            sys.stdout = saved
    out: list[Mutant] = []
    seen: set[tuple[int, str]] = set()
    for lineno, new, rule, _ in raw:
        if lineno not in wanted:
            continue
        new = new.rstrip("\n")
        old = source[lineno - 1].rstrip("\n")
        if new.strip() == old.strip() or (lineno, new) in seen:
            continue
        seen.add((lineno, new))
        func, kind = wanted[lineno]
        out.append(Mutant(path, lineno, func, kind, old, new, rule[0].strip()))
    return out


def kernel_files(globs: Iterable[str], root: Path = ROOT) -> list[str]:
    """The kernel C files the globs name (in-kernel test files excluded)."""
    every = sorted(str(p.relative_to(root)) for p in (root / "kernel").rglob("*.c"))
    return [f for f in every if any(fnmatch(f, g) for g in globs) and not f.endswith("_test.c")]


def sample(by_file: dict[str, list[Mutant]], budget: int, seed: int) -> list[Mutant]:
    """budget mutants, shuffled with seed within each file and taken from the
    files in turn, so every file gets its share (0: all of them)."""
    rng = random.Random(seed)
    pools = []
    for f in sorted(by_file):
        ms = list(by_file[f])
        rng.shuffle(ms)
        pools.append(ms)
    chosen: list[Mutant] = []
    while any(pools) and (budget <= 0 or len(chosen) < budget):
        for pool in pools:
            if pool and (budget <= 0 or len(chosen) < budget):
                chosen.append(pool.pop(0))
    return chosen


# ---- object code: the equivalence filter ----

_CODE = re.compile(r"^\.(text|data|rodata|bss|init_array|fini_array)\b")


def object_signature(obj: Path) -> list[tuple]:
    """What a .o contributes to the kernel: the bytes of its code and data
    sections and the relocations into them (symbol names, not the debug info,
    which records line numbers and so on)."""
    import lief

    b = lief.ELF.parse(str(obj))
    if b is None:
        raise ValueError(f"cannot read {obj}")
    names = {i: s.name for i, s in enumerate(b.sections)}
    sig: list[tuple] = []
    for s in b.sections:
        if _CODE.match(s.name):
            body = b"" if s.name.startswith(".bss") else bytes(s.content)
            sig.append(("section", s.name, s.size, body))
    for r in b.relocations:
        sec = r.section.name if r.has_section and r.section else ""
        if not _CODE.match(sec):
            continue
        sym = ""
        if r.has_symbol:
            sym = r.symbol.name or f"section {names.get(r.symbol.shndx, r.symbol.shndx)}"
        sig.append(("reloc", sec, r.address, str(r.type), r.addend, sym))
    return sig


def same_object(a: Path, b: Path) -> bool:
    return object_signature(a) == object_signature(b)


# ---- the scratch tree ----

_BUILD_PARTS = ("obj", "ksyms0.c", "ksyms0.d", "ksyms0.o", "ksyms.c", "ksyms.d", "ksyms.o",
                "kernel.pass1.elf", "kernel.elf", "kernel.mb.elf", "rootfs", "initrd.cpio",
                "root.img")


def tree_files(root: Path = ROOT) -> list[str]:
    """The files of the checkout as it is (tracked and new, not ignored)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, text=True, check=True).stdout
    return sorted({f for f in out.split("\0") if f and (root / f).is_file()})


def _copy_sparse(src: str, dst: str) -> str:
    """copy2, but a disk image (build/root.img: 384 MB, mostly holes) stays sparse."""
    if src.endswith(".img"):
        subprocess.run(["cp", "--preserve=timestamps", "--reflink=auto", "--sparse=always",
                        src, dst], check=True)
        return dst
    return shutil.copy2(src, dst)


class Scratch:
    """A copy of the checkout and its build (mtimes kept, so make rebuilds
    only what a mutant touches), where one mutant at a time is applied. The
    first copy made (`pristine`) is never touched: mutants are applied to its
    text and undone from it, so edits in the checkout during a run do not
    mix in."""

    def __init__(self, root: Path, where: Path, pristine: Path | None = None) -> None:
        self.root, self.dir = (pristine or root), where
        if pristine:
            shutil.copytree(pristine, where, symlinks=True, copy_function=_copy_sparse)
            return
        for f in tree_files(root):
            dst = where / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / f, dst, follow_symlinks=False)
        if (root / ".venv").exists():  # some tests run the harness's own python
            (where / ".venv").symlink_to(root / ".venv")
        (where / "build").mkdir(exist_ok=True)
        for part in _BUILD_PARTS:
            src = root / "build" / part
            if src.is_dir():
                shutil.copytree(src, where / "build" / part, symlinks=True)
            elif src.exists():
                _copy_sparse(str(src), str(where / "build" / part))

    def obj(self, source: str) -> str:
        return f"build/obj/{source[:-2]}.o"

    def make(self, *targets: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-s", *targets], cwd=self.dir, capture_output=True,
                              text=True, timeout=timeout)

    def restore(self, source: str) -> None:
        """Back to the original source and object, with their old mtimes."""
        shutil.copy2(self.root / source, self.dir / source)
        o = self.obj(source)
        shutil.copy2(self.root / o, self.dir / o)


# ---- running ----

def pytest_cmd(tests: list[str], junit: Path, per_test: float) -> list[str]:
    # Its own --basetemp: pytest prunes old numbered temp dirs, and many
    # sessions at once must not prune each other's.
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0",
            "-o", "addopts=", f"--timeout={int(per_test)}", f"--junitxml={junit}",
            f"--basetemp={junit.parent / 'tmp'}", *tests]


@dataclass
class TestRun:
    verdict: str  # passed | failed | timeout | error (pytest could not run the tests)
    test: str = ""  # the first test that failed
    node: str = ""  # its pytest node id
    detail: str = ""  # the first line of what it saw
    seconds: float = 0.0
    times: dict[str, float] = field(default_factory=dict)  # test -> seconds


def _junit(junit: Path, run: TestRun) -> None:
    if not junit.exists():
        return
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name', '?')}"
        run.times[name] = float(case.get("time") or 0)
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None and not run.test:
                text = (el.get("message") or el.text or tag).strip()
                run.test, run.detail = name, (text.splitlines() or [tag])[0][:200]
                run.node = node_id(case.get("classname", ""), case.get("name", ""))


def node_id(classname: str, name: str) -> str:
    """pytest's node id from junit's classname (tests.test_x) and name."""
    return f"{classname.replace('.', '/')}.py::{name}"


_TIMEOUT_WORDS = re.compile(r"timeout|timed out", re.I)
_LIVE: set[int] = set()  # process groups of the pytest runs under way


def _kill_live() -> None:
    for pgid in list(_LIVE):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_tests(where: Path, tests: list[str], limit: float, env: dict[str, str],
              usual: dict[str, float] | None = None) -> TestRun:
    """One pytest -x run of tests in where. A failure counts as a timeout if
    it says so, or if the failing test ran far longer than it usually does
    (usual: its times on the real kernel), i.e. it gave up waiting for a
    guest that hung, rather than seeing something wrong."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as d:
        junit = Path(d) / "junit.xml"
        log = Path(d) / "pytest.log"
        with open(log, "w") as logf:
            p = subprocess.Popen(pytest_cmd(tests, junit, limit), cwd=where, env=env,
                                 stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
            _LIVE.add(p.pid)
            try:
                rc = p.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # pytest and its QEMUs: one session
                p.wait()
                return TestRun("timeout", "", f"no verdict in {limit:.0f} s",
                               time.monotonic() - t0)
            finally:
                _LIVE.discard(p.pid)
        run = TestRun("passed", seconds=time.monotonic() - t0)
        _junit(junit, run)
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    if rc == 0:
        return run
    if rc == 1:
        took, was = run.times.get(run.test, 0.0), (usual or {}).get(run.test)
        slow = was is not None and took > 3 * was + 30
        run.verdict = "timeout" if slow or _TIMEOUT_WORDS.search(run.detail) else "failed"
        if slow:
            run.detail = f"failed after {took:.0f} s (usually {was:.0f} s): {run.detail}"
        return run
    run.verdict, run.detail = "error", " | ".join(tail)[:300]
    return run


def test_mutant(m: Mutant, s: Scratch, tests: list[str], limit: float,
                env: dict[str, str], usual: dict[str, float] | None = None,
                claim: Callable[[], bool] = lambda: True) -> Result | None:
    """Build m and run the tests on it. claim() is asked once the mutant is
    known to build into different code, before the (costly) tests: False
    means the budget is spent, and the mutant is dropped (None)."""
    t0 = time.monotonic()
    try:
        return _test_mutant(m, s, tests, limit, env, usual or {}, claim, t0)
    except Exception as e:  # a harness problem, never a verdict on the mutant
        return Result(m, "error", time.monotonic() - t0, detail=f"{type(e).__name__}: {e}")


def _test_mutant(m: Mutant, s: Scratch, tests: list[str], limit: float,
                 env: dict[str, str], usual: dict[str, float], claim: Callable[[], bool],
                 t0: float) -> Result | None:
    src = s.dir / m.file
    try:
        src.write_text(m.apply((s.root / m.file).read_text()))
        try:
            c = s.make(s.obj(m.file))
        except subprocess.TimeoutExpired:
            return Result(m, "build-failed", time.monotonic() - t0, detail="compile timed out")
        if c.returncode != 0:
            err = next((ln for ln in c.stderr.splitlines() if "error" in ln), c.stderr[:200])
            return Result(m, "build-failed", time.monotonic() - t0, detail=err.strip()[:200])
        if same_object(s.dir / s.obj(m.file), s.root / s.obj(m.file)):
            return Result(m, "equivalent", time.monotonic() - t0,
                          detail="object code identical to the original")
        if not claim():
            return None
        c = s.make()
        if c.returncode != 0:
            return Result(m, "build-failed", time.monotonic() - t0,
                          detail=(c.stderr.strip().splitlines() or ["link failed"])[-1][:200])
        tr = run_tests(s.dir, tests, limit, env, usual)
        note = ""
        if tr.verdict in ("failed", "timeout") and tr.node:
            # Under load a test can fail for its own reasons: the kill counts
            # only if the failing test fails again on its own. If it passes,
            # the whole set runs once more and that run decides.
            if run_tests(s.dir, [tr.node], limit, env, usual).verdict == "passed":
                note = f" (a first run's {tr.verdict} in {tr.test} did not repeat)"
                tr = run_tests(s.dir, tests, limit, env, usual)
        status = {"passed": "survived", "failed": "killed", "timeout": "timeout"}.get(tr.verdict)
        detail = tr.detail + note
        if status is None:
            status, detail = "error", f"pytest could not run: {detail}"
        return Result(m, status, time.monotonic() - t0, tr.test, detail)
    finally:
        s.restore(m.file)


@dataclass
class Report:
    files: list[str]
    budget: int
    seed: int
    jobs: int
    candidates: dict[str, int]  # file -> mutants generated in its target lines
    tests: dict[str, list[str]]
    baseline: dict[str, float] = field(default_factory=dict)  # file -> seconds of its tests
    usual: dict[str, dict[str, float]] = field(default_factory=dict)  # file -> test -> seconds
    broken: dict[str, str] = field(default_factory=dict)  # file -> its failing baseline
    results: list[Result] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    def counts(self, file: str | None = None) -> dict[str, int]:
        c = dict.fromkeys((*STATUSES, "error"), 0)
        for r in self.results:
            if file is None or r.mutant.file == file:
                c[r.status] += 1
        return c

    @staticmethod
    def score_of(c: dict[str, int]) -> float | None:
        tested = c["killed"] + c["timeout"] + c["survived"]
        return (c["killed"] + c["timeout"]) / tested if tested else None

    def survivors(self) -> list[Result]:
        return sorted((r for r in self.results if r.status == "survived"),
                      key=lambda r: (r.mutant.file, r.mutant.line))

    def to_json(self) -> str:
        per_file = {}
        for f in sorted({r.mutant.file for r in self.results}):
            c = self.counts(f)
            per_file[f] = {**c, "score": self.score_of(c), "candidates": self.candidates.get(f, 0)}
        total = self.counts()
        return json.dumps({
            "command": f"./vigil mutate --files '{','.join(self.files)}' --budget {self.budget} "
                       f"--seed {self.seed} --jobs {self.jobs}",
            "rules": RULES, "tests": self.tests, "baseline_seconds": self.baseline,
            "baseline_failed": self.broken,
            "seconds": round(self.seconds, 1),
            "overall": {**total, "score": self.score_of(total),
                        "candidates": sum(self.candidates.values())},
            "files": per_file,
            "survivors": [{"where": f"{r.mutant.file}:{r.mutant.line}",
                           "function": r.mutant.function, "kind": r.mutant.kind,
                           "diff": r.mutant.diff()} for r in self.survivors()],
            "mutants": [{**asdict(r.mutant), "status": r.status, "seconds": round(r.seconds, 1),
                         "test": r.test, "detail": r.detail} for r in self.results],
        }, indent=1)


def markdown(report: Path) -> str:
    """A saved report's score table and survivors, as Markdown (for docs)."""
    data = json.loads(report.read_text())
    out = [f"`{data['command']}` ({data['seconds'] / 60:.0f} min):", "",
           "| file | mutants | tested | killed | timeout | survived | build-failed "
           "| equivalent | score |", "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for name, c in [*data["files"].items(), ("**all**", data["overall"])]:
        tested = c["killed"] + c["timeout"] + c["survived"]
        score = "-" if c["score"] is None else f"{100 * c['score']:.0f}%"
        out.append(f"| {name} | {c['candidates']} | {tested} | {c['killed']} | {c['timeout']} "
                   f"| {c['survived']} | {c['build-failed']} | {c['equivalent']} | {score} |")
    if data["survivors"]:
        out += ["", "Survivors:", ""]
        for sv in data["survivors"]:
            old, new = sv["diff"].splitlines()[3:5]
            out.append(f"- `{sv['where']}` {sv['function']} ({sv['kind']}): "
                       f"`{old[1:].strip()}` → `{new[1:].strip()}`")
    return "\n".join(out)


def print_tables(rep: Report) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console() if sys.stdout.isatty() else Console(width=160)
    t = Table(title="Mutation score: (killed + timeout) / (killed + timeout + survived)")
    for col in ("file", "candidates", "sampled", "killed", "timeout", "survived",
                "build-failed", "equivalent", "score"):
        t.add_column(col, justify="left" if col == "file" else "right")
    files = sorted({r.mutant.file for r in rep.results})
    for f in [*files, None]:
        c = rep.counts(f)
        score = rep.score_of(c)
        t.add_row(f or "all", str(rep.candidates.get(f, 0) if f else sum(rep.candidates.values())),
                  str(sum(c.values())), str(c["killed"]), str(c["timeout"]), str(c["survived"]),
                  str(c["build-failed"]), str(c["equivalent"]),
                  "-" if score is None else f"{100 * score:.0f}%",
                  style="bold" if f is None else None)
    con.print(t)
    surv = rep.survivors()
    if surv:
        s = Table(title=f"{len(surv)} survivors "
                  "(each: a new test, or a reason in docs/mutation.md)")
        for col in ("where", "function", "kind", "change"):
            s.add_column(col, overflow="fold")
        for r in surv:
            m = r.mutant
            s.add_row(f"{m.file}:{m.line}", m.function, m.kind,
                      escape(f"- {m.original.strip()}\n+ {m.mutated.strip()}"))
        con.print(s)
    for f, why in rep.broken.items():
        con.print(f"[red]not tested[/red] {f}: its tests fail on the real kernel: {escape(why)}")
    errors = [r for r in rep.results if r.status == "error"]
    for r in errors:
        con.print(f"[red]error[/red] {r.mutant.file}:{r.mutant.line}: {escape(r.detail)}")


def survivors_of(report: Path, root: Path = ROOT) -> list[Mutant]:
    """The mutants a saved report says survived (to test them again), moved
    to where their original line is now (the nearest copy of it), if the
    file has changed since; those whose line is gone are dropped."""
    data = json.loads(report.read_text())
    out = []
    for d in data["mutants"]:
        if d["status"] != "survived":
            continue
        m = Mutant(**{k: d[k] for k in Mutant.__dataclass_fields__})
        lines = (root / m.file).read_text().splitlines()
        at = [i + 1 for i, line in enumerate(lines) if line == m.original]
        if at:
            line = min(at, key=lambda n: abs(n - m.line))
            out.append(Mutant(m.file, line, m.function, m.kind, m.original, m.mutated, m.rule))
    return out


def run(globs: list[str], budget: int, seed: int, jobs: int, out: Path,
        log: Callable[[str], None] = print, list_only: bool = False,
        limit_factor: float = 3.0, recheck: list[Mutant] | None = None) -> Report:
    from . import accel as accel_mod
    from .build import build

    if recheck is not None:
        globs = sorted({m.file for m in recheck})
    files = kernel_files(globs)
    by_file = {f: generate(f, (ROOT / f).read_text()) for f in files}
    # (The mutants are made from the checkout now; Mutant.apply checks that
    # the pristine copy taken below still has each original line.)
    tests = {f: [t for t in tests_for(f) if (ROOT / t.split("::")[0]).exists()] for f in files}
    rep = Report(globs, budget, seed, jobs, {f: len(v) for f, v in by_file.items()}, tests)
    # Every mutant, in the order the budget takes them; the budget counts
    # the mutants that reach the tests (build failures and object-identical
    # ones are cheap and do not count).
    chosen = sample({f: v for f, v in by_file.items() if tests[f]}, 0, seed)
    if recheck is not None:
        chosen, budget = recheck, 0
    for f in files:
        kinds = {k: sum(m.kind == k for m in by_file[f]) for k in ("invariant", "check")}
        log(f"mutate: {f}: {len(by_file[f])} mutants ({kinds['invariant']} in INVARIANT "
            f"functions, {kinds['check']} in checks), "
            f"tests: {' '.join(tests[f]) or 'NONE'}")
    if list_only:
        return rep

    art = build()
    env = dict(os.environ, VIGIL_ACCEL=accel_mod.choose(art))
    env.pop("VIGIL_BREAK", None)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="vigil-mutate-"))
    lock, stop = threading.Lock(), threading.Event()
    # SIGTERM (or Ctrl-C) ends the run cleanly: the tests under way are
    # killed, the scratch trees removed, the report keeps what was done.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        pristine = Scratch(ROOT, work / "pristine").dir
        scratches = [Scratch(ROOT, work / f"job{i}", pristine) for i in range(max(1, jobs))]
        # The baseline: each file's tests pass on the real kernel (else the map
        # is wrong), and how long they take sets the time limit of a mutant.
        # The files the budget reaches (a guess: about one in two mutants builds).
        needed = sorted({m.file for m in (chosen[:2 * budget + 8] if budget else chosen)})
        base_q: queue.Queue[str] = queue.Queue()
        for f in needed:
            base_q.put(f)
        failures: list[str] = []

        def baseline_worker(s: Scratch) -> None:
            while not stop.is_set():
                try:
                    f = base_q.get_nowait()
                except queue.Empty:
                    return
                tr = run_tests(s.dir, tests[f], 3600, env)
                if tr.verdict != "passed":  # once more: a test can fail under load
                    with lock:
                        log(f"mutate: baseline {f}: {tr.verdict} {tr.test} {tr.detail}; again")
                    tr = run_tests(s.dir, tests[f], 3600, env)
                with lock:
                    rep.baseline[f], rep.usual[f] = round(tr.seconds, 1), tr.times
                    log(f"mutate: baseline {f}: {tr.verdict} in {tr.seconds:.0f} s "
                        f"{tr.test} {tr.detail}".rstrip())
                    if tr.verdict != "passed":
                        failures.append(f)
                        rep.broken[f] = f"{tr.verdict}: {tr.test} {tr.detail}".strip()

        _in_threads(baseline_worker, scratches)
        if failures:
            log(f"mutate: SKIPPED (their tests fail on the real kernel): {' '.join(failures)}")

        q: queue.Queue[Mutant] = queue.Queue()
        for m in chosen:
            if m.file not in failures and m.file in rep.baseline:
                q.put(m)
        claimed = [0]

        def claim() -> bool:
            with lock:
                if budget and claimed[0] >= budget:
                    return False
                claimed[0] += 1
                return True

        def worker(s: Scratch) -> None:
            while not stop.is_set():
                try:
                    m = q.get_nowait()
                except queue.Empty:
                    return
                limit = limit_factor * rep.baseline[m.file] + 60
                r = test_mutant(m, s, tests[m.file], limit, env, rep.usual[m.file], claim)
                if stop.is_set():
                    return
                if r is None:       # the budget is spent
                    return
                with lock:
                    rep.results.append(r)
                    rep.seconds = time.monotonic() - t_start
                    (out / "report.json").write_text(rep.to_json())
                    log(f"mutate: [{len(rep.results)}; {claimed[0]}/{budget or len(chosen)} "
                        f"tested] {r.status:<12} "
                        f"{m.file}:{m.line} {m.function}: {m.mutated.strip()[:70]}  "
                        f"({r.seconds:.0f} s) {r.test}")

        _in_threads(worker, scratches)
    except KeyboardInterrupt:
        log("mutate: interrupted; the report holds the mutants done so far")
    finally:
        stop.set()
        _kill_live()
        shutil.rmtree(work, ignore_errors=True)
    rep.seconds = time.monotonic() - t_start
    (out / "report.json").write_text(rep.to_json())
    return rep


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _in_threads(fn: Callable[[Scratch], None], scratches: list[Scratch]) -> None:
    threads = [threading.Thread(target=fn, args=(s,), daemon=True) for s in scratches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main(globs: list[str], budget: int, seed: int, jobs: int, list_only: bool = False,
         recheck: bool = False) -> int:
    out = ROOT / "build" / "mutate"

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    again = None
    if recheck:
        # The survivors of the last report, against today's tests; the new
        # report goes beside it.
        again = [m for m in survivors_of(out / "report.json")
                 if not globs or any(fnmatch(m.file, g) for g in globs)]
        out = out / "recheck"
        log(f"mutate: testing again the {len(again)} survivors of {ROOT / 'build/mutate'}")
    rep = run(globs or list(DEFAULT_FILES), budget, seed, jobs, out, log, list_only,
              recheck=again)
    if list_only:
        return 0
    print_tables(rep)
    log(f"mutate: report in {out / 'report.json'} ({rep.seconds / 60:.1f} min)")
    return 1 if rep.counts()["error"] or rep.broken else 0
