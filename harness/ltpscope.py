"""Which LTP tests Vigil owes: the accounting behind issue 17's promise that
every test passing on Linux in the same QEMU passes on Vigil too, unless it
is out of scope with a reason.

Four lists in tests/, each a test name per line (first word; '#' comments):
  ltp-linux-pass.txt    the tests Linux passed (a recorded --vs-linux run)
  ltp-pass.txt          the tests that pass on Vigil (CI samples them)
  ltp-out-of-scope.txt  "NAME KEY", with "reason KEY: why" lines naming why
  ltp-gap.txt           the rest: owed, not yet passing ("NAME what fails")
Every Linux pass must be in one of the last three; `python -m
harness.ltpscope` prints the account, and `... gap` the tests owed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from harness.config import ROOT

TESTS = ROOT / "tests"


def names(path: Path) -> list[str]:
    """First word of each line that is not blank or a comment."""
    return [x.split()[0] for x in path.read_text().splitlines()
            if x.strip() and not x.lstrip().startswith("#")]


@dataclass
class Scope:
    reasons: dict[str, str]     # KEY -> why
    tests: dict[str, str]       # NAME -> KEY


def read_scope(path: Path) -> Scope:
    reasons: dict[str, str] = {}
    tests: dict[str, str] = {}
    for line in path.read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("reason "):
            key, _, why = s[len("reason "):].partition(":")
            if not why.strip():
                raise ValueError(f"{path.name}: reason {key!r} says no why")
            reasons[key.strip()] = why.strip()
            continue
        parts = s.split()
        if len(parts) != 2:
            raise ValueError(f"{path.name}: {s!r} is not 'NAME KEY'")
        tests[parts[0]] = parts[1]
    return Scope(reasons, tests)


@dataclass
class Account:
    linux: set[str]
    passing: set[str]
    scope: Scope
    gap: set[str]

    def unaccounted(self) -> list[str]:
        """Tests Linux passes that no list accounts for: the promise broken."""
        return sorted(self.linux - self.passing - set(self.scope.tests) - self.gap)

    def owed(self) -> list[str]:
        """Tests Linux passes, in scope, not passing on Vigil yet."""
        return sorted(self.linux - self.passing - set(self.scope.tests))

    def problems(self) -> list[str]:
        out = [f"{t}: passes on Linux, and is neither in the pass list, out of scope nor in the gap"
               for t in self.unaccounted()]
        out += [f"{t}: out of scope for an unknown reason {k!r}"
                for t, k in sorted(self.scope.tests.items()) if k not in self.scope.reasons]
        out += [f"{t}: in the pass list and out of scope at once"
                for t in sorted(self.passing & set(self.scope.tests))]
        out += [f"{t}: out of scope, but Linux does not pass it (nothing is owed)"
                for t in sorted(set(self.scope.tests) - self.linux)]
        return out


def account(tests_dir: Path = TESTS) -> Account:
    return Account(linux=set(names(tests_dir / "ltp-linux-pass.txt")),
                   passing=set(names(tests_dir / "ltp-pass.txt")),
                   scope=read_scope(tests_dir / "ltp-out-of-scope.txt"),
                   gap=set(names(tests_dir / "ltp-gap.txt")))


def main(argv: list[str]) -> int:
    a = account()
    if argv[:1] == ["gap"]:
        for t in a.owed():
            print(t)
        return 0
    by_key: dict[str, int] = {}
    for k in a.scope.tests.values():
        by_key[k] = by_key.get(k, 0) + 1
    print(f"Linux passes {len(a.linux)}; of those Vigil passes {len(a.linux & a.passing)}, "
          f"{len(set(a.scope.tests))} are out of scope, {len(a.owed())} are owed")
    for k, why in a.scope.reasons.items():
        print(f"  {by_key.get(k, 0):4d}  {k}: {why}")
    stale = sorted(a.gap & a.passing)
    if stale:
        print(f"passing now, to drop from tests/ltp-gap.txt: {' '.join(stale)}")
    for p in a.problems():
        print(f"PROBLEM: {p}")
    return 1 if a.problems() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
