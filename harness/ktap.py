"""Read KTAP (the test output format of Linux's KUnit) as Vigil prints it:
one subtest per suite, one result line per case."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+) ([^#\s]+)(?:\s*#\s*(\w+)\s*(.*))?$")
_SUBTEST = re.compile(r"^\s*# Subtest: (\S+)")


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


def parse(text: str) -> Report:
    rep = Report()
    suite: str | None = None
    pending: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.strip() == "KTAP version 1":
            rep.version_seen = True
            continue
        m = _SUBTEST.match(line)
        if m:
            suite, pending = m.group(1), []
            continue
        m = _RESULT.match(line)
        if m:
            indent, status, _, name, directive, _reason = m.groups()
            ok = status == "ok"
            if indent and suite:
                skipped = (directive or "").upper() == "SKIP"
                rep.cases[f"{suite}.{name}"] = Case(ok, skipped, pending)
                pending = []
            else:
                rep.suites[name] = ok
                suite = None
            continue
        if line.strip().startswith("#"):
            pending.append(line.strip())
    return rep
