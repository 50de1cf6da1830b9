"""Two straces of the same program, one on Vigil and one on Linux, made
comparable: what must be equal stays, what legitimately differs goes.

`strace -f -qq -o FILE` prints one line per finished system call, prefixed
with the thread's id, a call another thread interrupted split in two
(`<unfinished ...>`, then `<... NAME resumed>`), and a line per signal
(`--- SIGCHLD {...} ---`). What differs between two honest kernels, and what
this module therefore removes, is only:

- ids and addresses: a thread is named by its place in the tree of clones
  ("1" the first, "1.2" its second child), so a call that returns an id
  (fork, wait4, getpid...) returns that name; a hexadecimal result is ADDR.
- times (`-T`, `-t` columns), if any were asked for.
- the calls Linux answers in user space from its vDSO (clock_gettime, time,
  gettimeofday, getcpu), which Vigil has no vDSO for: they reach the kernel
  and strace sees them there only.
- the dynamic loader's start-up: from execve to the unmapping of
  ld.so.cache, glibc's ld.so makes the same calls on both kernels but in an
  order that depends on how much of its minimal heap the vDSO's link map
  took (Linux has one, Vigil none), and grows that heap (an anonymous mmap)
  once more or less for the same reason. That stretch is compared as a
  multiset, without the heap's mmaps.

A program's own calls are compared in order, per thread, with their results
(errno names included). What a test decides is legitimately the host's (a
call Vigil reasonably lacks) it names in `drop` with its reason.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

VDSO = frozenset({"clock_gettime", "time", "gettimeofday", "getcpu"})
# Calls whose result is a thread or process id.
RETURNS_ID = frozenset({"clone", "clone3", "fork", "vfork", "wait4", "waitid", "getpid",
                        "gettid", "getppid", "set_tid_address", "getpgid", "getpgrp",
                        "getsid", "setsid"})
CREATES = frozenset({"clone", "clone3", "fork", "vfork"})
MAKES_FD = frozenset({"socket", "accept", "accept4", "open", "openat", "creat", "dup",
                      "epoll_create1", "eventfd2", "memfd_create", "signalfd4", "timerfd_create"})

_PREFIX = re.compile(r"^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(.*)$")
_TIMES = re.compile(r"^\d+(?:[:.]\d+)*\s+")              # -t / -tt / -ttt columns
_DURATION = re.compile(r"\s+<\d+\.\d+>$")                  # -T
_CALL = re.compile(r"^([a-z_0-9]+)\((.*)\)\s+=\s+(\S+)(?:\s+(E[A-Z0-9]+|ERESTART\w*))?")
_UNFINISHED = re.compile(r"^([a-z_0-9]+)\((.*?)\s*<unfinished \.\.\.>$")
_RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>(.*)$")
_SIGNAL = re.compile(r"^--- (SIG[A-Z0-9]+) (?:\{(.*)\})? ?---$")
_EXIT = re.compile(r"^\+\+\+ (exited with \d+|killed by SIG[A-Z0-9]+(?: \(core dumped\))?) \+\+\+$")
_SI_CODE = re.compile(r"si_code=([A-Z_]+|-?\d+)")


@dataclass(frozen=True)
class Event:
    """One finished call (kind "call"), signal ("signal") or end ("exit")."""

    pid: int
    kind: str
    name: str  # call name, signal name, or the exit text
    args: str = ""  # the call's arguments as strace printed them
    result: str = ""  # "0", "-1", "0x7f...", "?"
    errno: str = ""  # "ENOENT"... (empty: none)


def parse(text: str) -> list[Event]:
    """The events of an `strace -f` log in the order they finished; a split
    call is whole, where it resumed. Lines that are not strace's are skipped."""
    events: list[Event] = []
    pending: dict[int, tuple[str, str]] = {}
    for raw in text.splitlines():
        m = _PREFIX.match(raw.strip())
        if not m:
            continue
        pid = int(m.group(1) or m.group(2) or 0)
        line = _DURATION.sub("", _TIMES.sub("", m.group(3)))
        if u := _UNFINISHED.match(line):
            pending[pid] = (u.group(1), u.group(2))
            continue
        if r := _RESUMED.match(line):
            name, head = pending.pop(pid, (r.group(1), ""))
            line = f"{name}({head}{r.group(2)}"
        if c := _CALL.match(line):
            events.append(Event(pid, "call", c.group(1), c.group(2), c.group(3),
                                c.group(4) or ""))
        elif s := _SIGNAL.match(line):
            code = _SI_CODE.search(s.group(2) or "")
            events.append(Event(pid, "signal", s.group(1), s.group(2) or "",
                                code.group(1) if code else ""))
        elif e := _EXIT.match(line):
            events.append(Event(pid, "exit", e.group(1)))
    return events


def thread_names(events: list[Event]) -> dict[int, str]:
    """Each id in the log named by its place in the tree of clones: the first
    thread "1", the k-th thread or process a thread N creates "N.k" (k counts
    its own clone calls, so the order in which threads' lines interleave
    does not matter)."""
    if not events:
        return {}
    made: dict[int, list[int]] = {}
    for ev in events:
        if ev.kind == "call" and ev.name in CREATES and ev.result.isdigit():
            made.setdefault(ev.pid, []).append(int(ev.result))
    children = {c for cs in made.values() for c in cs}
    root = next((ev.pid for ev in events if ev.pid not in children), events[0].pid)
    names = {root: "1"}
    todo = [root]
    while todo:
        parent = todo.pop()
        for k, child in enumerate(made.get(parent, []), 1):
            if child not in names:
                names[child] = f"{names[parent]}.{k}"
                todo.append(child)
    for ev in events:
        names.setdefault(ev.pid, f"?{ev.pid}")
    return names


def _loader_stretch(calls: list[Event]) -> tuple[int, int] | None:
    """[start, end) of glibc's ld.so start-up after an execve: up to and
    including the munmap of ld.so.cache, if the thread opened that."""
    opened = next((i for i, ev in enumerate(calls)
                   if ev.name == "openat" and '"/etc/ld.so.cache"' in ev.args), None)
    if opened is None:
        return None
    start = max((i for i, ev in enumerate(calls[:opened]) if ev.name == "execve"), default=0)
    end = next((i for i in range(opened, len(calls)) if calls[i].name == "munmap"), None)
    return None if end is None else (start + 1, end + 1)


def _without(evs: list[Event], skip: set[str]) -> list[Event]:
    """The calls and ends of one thread less the skipped calls, and less
    every later call on a descriptor a skipped call returned, its close
    included (a socket Vigil does not make is not connected or closed)."""
    out: list[Event] = []
    gone: set[str] = set()
    for ev in evs:
        if ev.kind == "signal":
            continue
        if ev.result == "?" and ev.errno.startswith("ERESTART"):
            continue                    # a signal cut it short and it starts again: timing
        fd = ev.args.split(",", 1)[0].strip(")")
        if ev.kind == "call" and ev.name in skip:
            if ev.name in MAKES_FD and ev.result.isdigit():
                gone.add(ev.result)
            continue
        if ev.kind == "call" and fd in gone:
            if ev.name == "close":
                gone.discard(fd)
            continue
        out.append(ev)
    return out


def _loader_heap(ev: Event) -> bool:
    """An anonymous mapping ld.so makes for its minimal heap (not MAP_FIXED:
    the segments' bss mappings are fixed and stay)."""
    return (ev.name == "mmap" and ev.args.startswith("NULL,") and "MAP_ANONYMOUS" in ev.args
            and "MAP_FIXED" not in ev.args)


@dataclass
class Normalised:
    """Per thread name: the calls in order, each "name = result [ERRNO]",
    ending with "+++ exited with N" if strace printed it; and apart, the set
    of signals it received ("SIGNAME si_code"): how many of a standard
    signal arrive depends on timing (they merge while pending), which ones
    and with what si_code does not."""

    threads: dict[str, list[str]] = field(default_factory=dict)
    signals: dict[str, set[str]] = field(default_factory=dict)

    def diff(self, other: Normalised, a: str = "vigil", b: str = "linux") -> str:
        out: list[str] = []
        for name in sorted(set(self.threads) | set(other.threads)):
            x, y = self.threads.get(name, []), other.threads.get(name, [])
            if x != y:
                out += [f"thread {name}:",
                        *difflib.unified_diff(x, y, a, b, n=2, lineterm="")]
            sx, sy = self.signals.get(name, set()), other.signals.get(name, set())
            if sx != sy:
                out.append(f"thread {name} signals: {a} {sorted(sx)}, {b} {sorted(sy)}")
        return "\n".join(out)


def normalise(text: str, drop: dict[str, str] | None = None,
              vary: dict[str, str] | None = None, keep_vdso: bool = False) -> Normalised:
    """The comparable form of an `strace -f` log. drop: call names left out
    (name -> why; the reason is the test's, this only removes them). vary:
    files whose contents legitimately differ (path -> why): the results of
    calls on a descriptor opened from them are not compared."""
    events = parse(text)
    names = thread_names(events)
    skip = set(drop or {}) | (set() if keep_vdso else VDSO)
    out = Normalised()
    per: dict[int, list[Event]] = {}
    for ev in events:
        per.setdefault(ev.pid, []).append(ev)
    for pid, evs in per.items():
        name = names[pid]
        out.signals[name] = {f"{ev.name} {ev.result}".rstrip() for ev in evs
                             if ev.kind == "signal"}
        calls = _without(evs, skip)
        stretch = _loader_stretch(calls)
        if stretch:                             # the minimal heap's growth is ld.so's own
            lo, hi = stretch
            kept = [ev for ev in calls[lo:hi] if not _loader_heap(ev)]
            calls[lo:hi] = kept
            stretch = (lo, lo + len(kept))
        seq: list[str] = []
        varying: set[str] = set()               # descriptors open on a "vary" file
        for i, ev in enumerate(calls):
            fd = ev.args.split(",", 1)[0]
            loose = ev.kind == "call" and fd in varying and ev.name != "close"
            seq.append(_render(ev, names, loose))
            if ev.kind == "call" and ev.result.isdigit() and any(
                    f'"{path}"' in ev.args for path in vary or {}) and ev.name == "openat":
                varying.add(ev.result)
            elif ev.kind == "call" and ev.name == "close":
                varying.discard(fd)
            if stretch and i == stretch[1] - 1:
                lo = len(seq) - (stretch[1] - stretch[0])
                seq[lo:] = sorted(seq[lo:])      # the loader's order is its own business
        out.threads[name] = seq
    return out


# Outside the tracer's PID namespace (the host's test runs in one) Linux
# says 0 for an id it cannot name; Vigil names it. Both are "not traced".
_OUTSIDE = frozenset({"getppid", "getpgrp", "getpgid", "getsid"})


def _render(ev: Event, names: dict[int, str], loose: bool = False) -> str:
    if ev.kind == "exit":
        return f"+++ {ev.name}"
    res = ev.result
    if loose and not ev.errno:
        res = "N"
    elif res.startswith("0x"):
        res = "ADDR"
    elif ev.name in RETURNS_ID and res.isdigit() and (int(res) > 0 or ev.name in _OUTSIDE):
        res = names.get(int(res), "ID")
    return f"{ev.name} = {res} {ev.errno}".rstrip()


def summary_names(text: str) -> set[str]:
    """The calls of an `strace -c` table (its last column; "total" is not one)."""
    found: set[str] = set()
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total" and re.fullmatch(
                r"[a-z_0-9]+", f[-1]):
            found.add(f[-1])
    return found
