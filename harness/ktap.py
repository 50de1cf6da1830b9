"""Read KTAP (the test output format of Linux's KUnit) as Vigil prints it:
one subtest per suite, one result line per case. Diagnostic lines ("# ...")
belong to the result line that follows them, as in KUnit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+) ([^#\s]+)(?:\s*#\s*(\w+)\s*(.*))?$")
_SUBTEST = re.compile(r"^\s*# Subtest: (\S+)")
_PLAN = re.compile(r"^(\s*)1\.\.(\d+)$")


@dataclass
class Case:
    ok: bool
    skipped: bool = False
    diagnostics: list[str] = field(default_factory=list)


@dataclass
class Report:
    version_seen: bool = False
    cases: dict[str, Case] = field(default_factory=dict)  # "suite.case" -> result
    suites: dict[str, bool] = field(default_factory=dict)  # suite -> ok
    plan: int | None = None  # the top-level "1..N"
    suite_plans: dict[str, int] = field(default_factory=dict)  # suite -> its "1..N"
    problems: list[str] = field(default_factory=list)  # plan and numbering mismatches


def parse(text: str) -> Report:
    rep = Report()
    suite: str | None = None
    pending: list[str] = []
    numbers: dict[str | None, list[int]] = {}  # None: the top level
    for raw in text.splitlines():
        line = raw.replace("\r", "").rstrip()
        if line.strip() == "KTAP version 1":
            rep.version_seen = True
            continue
        m = _SUBTEST.match(line)
        if m:
            suite, pending = m.group(1), []
            continue
        m = _PLAN.match(line)
        if m:
            if m.group(1) and suite:
                rep.suite_plans[suite] = int(m.group(2))
            elif not m.group(1):
                rep.plan = int(m.group(2))
            continue
        m = _RESULT.match(line)
        if m:
            indent, status, number, name, directive, _reason = m.groups()
            ok = status == "ok"
            if indent and suite:
                skipped = (directive or "").upper() == "SKIP"
                rep.cases[f"{suite}.{name}"] = Case(ok, skipped, pending)
                numbers.setdefault(suite, []).append(int(number))
                pending = []
            else:
                rep.suites[name] = ok
                numbers.setdefault(None, []).append(int(number))
                suite = None
            continue
        if line.strip().startswith("#"):
            pending.append(line.strip())
    rep.problems = _check_plans(rep, numbers)
    return rep


def _check_plans(rep: Report, numbers: dict[str | None, list[int]]) -> list[str]:
    out = []
    if not rep.version_seen:
        out.append("no 'KTAP version 1' line")
    top = numbers.get(None, [])
    if rep.plan is None:
        out.append("no top-level plan")
    elif len(top) != rep.plan:
        out.append(f"top-level plan 1..{rep.plan} but {len(top)} results")
    if top != list(range(1, len(top) + 1)):
        out.append(f"top-level results numbered {top}")
    for suite in rep.suites:
        got = numbers.get(suite, [])
        plan = rep.suite_plans.get(suite)
        if plan is None:
            out.append(f"suite {suite}: no plan")
        elif len(got) != plan:
            out.append(f"suite {suite}: plan 1..{plan} but {len(got)} results")
        if got != list(range(1, len(got) + 1)):
            out.append(f"suite {suite}: results numbered {got}")
    return out
