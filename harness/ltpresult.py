"""What an LTP run says, read from a serial console: the pure half of
`./vigil ltp` (harness/ltp.py boots the machines).

LTP's own runner, kirk, drives a guest through a shell it logs into over a
serial line or SSH and needs to tell its commands' output apart from the
rest; Vigil's console also carries the kernel's reports, and a test that
hangs the guest must cost one test, not the run. So the guest runs a small
POSIX shell loop (`RUNNER` below, the same on Vigil and on Linux) that
brackets each test between two marker lines, and this module reads them:

    <<<ltp:start NAME>>>
    ... the test's own output (TINFO/TPASS/TFAIL/TBROK/TCONF/TWARN lines) ...
    <<<ltp:end NAME rc=STATUS ms=MILLISECONDS>>>

A test's verdict comes from its exit status, which both of LTP's libraries
make a bitmask of the result types seen (TFAIL 1, TBROK 2, TWARN 4, TCONF
32; 0 is a pass, and TCONF alone means nothing could be tested): TBROK
wins over TFAIL over TWARN over TCONF. A shell status past 128 is a death
by signal, 124/137 the guest-side timeout, 127 a binary that is missing.
A test that never reaches its end line is HANG (the guest went silent:
the host gave up waiting), PANIC (the kernel said it panicked) or CRASH
(the guest ended otherwise, e.g. init died)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The verdicts, best first; TPASS is the only pass.
VERDICTS = ("TPASS", "TCONF", "TWARN", "TFAIL", "TBROK", "TIMEOUT", "HANG", "CRASH", "PANIC",
            "MISSING")
TFAIL, TBROK, TWARN, TCONF = 1, 2, 4, 32
START = re.compile(r"<<<ltp:start (\S+)>>>")
END = re.compile(r"<<<ltp:end (\S+) rc=(\d+) ms=(-?\d+)>>>")
READY = "<<<ltp:ready>>>"
DONE = "<<<ltp:done>>>"
# A line a test printed about what went wrong (both libraries' formats:
# "foo.c:12: TFAIL: ..." and "foo01    1  TFAIL  :  ...").
_BAD_LINE = re.compile(r"\b(TFAIL|TBROK|TWARN)\b")
# The guest-side timeout: coreutils' timeout exits 124 (TERM) or 137 (KILL).
TIMEOUT_STATUSES = (124, 137)


@dataclass(frozen=True)
class Entry:
    """One line of a runtest file: the test's name and its shell command."""

    name: str
    command: str


def parse_runtest(text: str) -> list[Entry]:
    """A runtest file's entries, in order ('#' comments and blank lines out)."""
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) == 2:
            entries.append(Entry(parts[0], parts[1]))
    return entries


def binary_of(entry: Entry) -> str:
    """The program an entry runs: the first word of its command."""
    return entry.command.split()[0]


def verdict(rc: int) -> str:
    """The verdict a test's exit status gives (see the module's essay)."""
    if rc == 127:
        return "MISSING"
    if rc in TIMEOUT_STATUSES:
        return "TIMEOUT"
    if rc > 128:
        return "TBROK"                      # killed by signal rc - 128
    if rc & TBROK:
        return "TBROK"
    if rc & TFAIL:
        return "TFAIL"
    if rc & TWARN:
        return "TWARN"
    if rc & TCONF:
        return "TCONF"
    return "TPASS" if rc == 0 else "TBROK"


@dataclass
class TestResult:
    name: str
    verdict: str
    rc: int | None = None
    ms: int | None = None
    lines: list[str] = field(default_factory=list)  # what went wrong, as the test said it

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "verdict": self.verdict, "rc": self.rc, "ms": self.ms,
                "lines": self.lines}


def failing_lines(output: list[str], limit: int = 12) -> list[str]:
    """The lines saying TFAIL, TBROK or TWARN, at most limit of them."""
    return [x for x in output if _BAD_LINE.search(x)][:limit]


@dataclass
class ConsoleReader:
    """Feed it console lines as they come; it keeps the results finished
    so far and the test running now (with its output)."""

    results: list[TestResult] = field(default_factory=list)
    current: str | None = None
    output: list[str] = field(default_factory=list)
    ready: bool = False
    done: bool = False

    def feed(self, line: str) -> TestResult | None:
        """One line (without its newline); the result it finished, if any."""
        line = line.rstrip("\r")
        if READY in line:
            self.ready = True
            return None
        if DONE in line:
            self.done = True
            return None
        m = START.search(line)
        if m:
            self.current, self.output = m.group(1), []
            return None
        m = END.search(line)
        if m and m.group(1) == self.current:
            rc, ms = int(m.group(2)), int(m.group(3))
            result = TestResult(self.current, verdict(rc), rc, ms)
            if result.verdict == "TCONF":      # why it could not test
                result.lines = [x for x in self.output if "TCONF" in x][:4]
            elif result.verdict != "TPASS":
                result.lines = failing_lines(self.output)
                if rc > 128 and rc not in TIMEOUT_STATUSES:
                    result.lines.append(f"(killed by signal {rc - 128})")
            self.results.append(result)
            self.current, self.output = None, []
            return result
        if self.current is not None:
            self.output.append(line)
        return None

    def abandon(self, verdict_: str, why: str) -> TestResult | None:
        """The test running now never ended: record it with the last of
        its output and why (the guest hung or died)."""
        if self.current is None:
            return None
        result = TestResult(self.current, verdict_, None, None,
                            [*failing_lines(self.output), *self.output[-6:], why])
        self.results.append(result)
        self.current, self.output = None, []
        return result


def summary(results: list[TestResult]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return counts


def family(name: str) -> str:
    """The syscall family a test belongs to: its name less the test number
    and a _64/_16 variant: open01 -> open, fcntl34_64 -> fcntl, mmap001 ->
    mmap, epoll_wait01 -> epoll_wait, accept4_01 -> accept4, and a family
    whose own name ends in a digit keeps it: clone301 -> clone3."""
    base = re.sub(r"_(64|16)$", "", name)
    m = re.fullmatch(r"(.*?[a-z_])(\d{2,3})", base)
    if not m:
        return base.rstrip("0123456789") or base
    stem, digits = m.group(1), m.group(2)
    if len(digits) == 3 and digits[0] != "0":   # clone3 + 01, openat2 + 01
        stem += digits[0]
    return stem.rstrip("_")
