"""The kernel's scheduling trace (/proc/vigil/schedtrace, kernel/proc/
schedtrace.c), read back: the records, the timeline they make, and the
checks that the timeline is one consistent history.

A run under `/bin/schedtrace run PROG` ends by printing the file as base64
lines (`from_console` joins them); `parse` reads the header and the 32-byte
records; `timeline` replays them into per-thread segments (running on CPU n,
runnable, blocked); `problems` lists every way the records contradict
themselves. harness/traceplot.py draws the segments."""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

HEADER = struct.Struct("<8sIIQQIIQQ")
RECORD = struct.Struct("<QBBHiiiii")
MAGIC = b"VIGILST1"
KINDS = {1: "switch", 2: "wakeup", 3: "block", 4: "prio", 5: "new", 6: "name", 7: "thread"}
WHY = {0: "other", 1: "sleep", 2: "futex", 3: "pi-lock"}
# enum pstate (kernel/proc/proc.h)
RUNNABLE, RUNNING, SLEEPING, ZOMBIE, DEAD = 2, 3, 4, 5, 6
KERNEL_TOP = 0xFFFFFFFF00000000     # sites are the low 32 bits of a kernel address

_DATA = re.compile(r"^schedtrace: data ([A-Za-z0-9+/=]+)\s*$", re.M)
_END = re.compile(r"^schedtrace: end (\d+) bytes", re.M)


class TraceError(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    seq: int            # its place in the ring: the order sched_lock saw
    tsc: int
    kind: str
    cpu: int
    tid: int
    arg0: int
    a: int
    b: int
    c: int
    d: int


@dataclass
class Trace:
    ncpu: int
    tsc_hz: int
    written: int        # records written since the clear
    capacity: int
    enabled: bool
    tsc_now: int        # when it was read
    events: list[Event]
    names: dict[int, str] = field(default_factory=dict)     # tid -> latest name
    tgid: dict[int, int] = field(default_factory=dict)
    base_prio: dict[int, int] = field(default_factory=dict)  # tid -> its own priority (last seen)

    @property
    def lost(self) -> int:
        return self.written - len(self.events)

    @property
    def t0(self) -> int:
        return self.events[0].tsc if self.events else self.tsc_now

    def ms(self, tsc: int) -> float:
        """Milliseconds since the first record."""
        return (tsc - self.t0) * 1000 / self.tsc_hz if self.tsc_hz else 0.0


def from_console(text: str) -> bytes:
    """The trace file's bytes from `schedtrace run`'s base64 lines."""
    end = _END.search(text)
    if not end:
        raise TraceError("no 'schedtrace: end' line: the run did not finish its dump")
    data = base64.b64decode("".join(_DATA.findall(text)))
    if len(data) != int(end.group(1)):
        raise TraceError(f"the dump says {end.group(1)} bytes, the lines hold {len(data)}")
    return data


def without_dump(text: str) -> str:
    """The program's own output: the console without the dump's lines."""
    return "".join(x for x in text.splitlines(keepends=True)
                   if not x.startswith(("schedtrace: data ", "schedtrace: end ")))


def parse(data: bytes) -> Trace:
    if len(data) < HEADER.size:
        raise TraceError(f"{len(data)} bytes: shorter than the header")
    magic, rec_size, ncpu, hz, written, cap, enabled, now, count = HEADER.unpack_from(data)
    if magic != MAGIC or rec_size != RECORD.size:
        raise TraceError(f"not a schedtrace file (magic {magic!r}, records of {rec_size} bytes)")
    if len(data) != HEADER.size + count * RECORD.size:
        raise TraceError(f"{len(data)} bytes for {count} records")
    t = Trace(ncpu, hz, written, cap, bool(enabled), now, [])
    first = written - count
    for i in range(count):
        off = HEADER.size + i * RECORD.size
        tsc, kind, cpu, arg0, tid, a, b, c, d = RECORD.unpack_from(data, off)
        if kind not in KINDS:
            raise TraceError(f"record {i}: unknown type {kind}")
        e = Event(first + i, tsc, KINDS[kind], cpu, tid, arg0, a, b, c, d)
        t.events.append(e)
        if e.kind == "name":
            raw = struct.pack("<iiii", a, b, c, d)
            t.names[tid] = raw.split(b"\0", 1)[0].decode("latin-1")
        elif e.kind in ("new", "thread"):
            t.tgid[tid] = a
            t.base_prio[tid] = d
        elif e.kind == "prio":
            t.base_prio[tid] = c
    return t


def site(addr32: int) -> int:
    """A record's 32-bit site as the kernel address (0: unknown)."""
    return KERNEL_TOP | (addr32 & 0xFFFFFFFF) if addr32 else 0


# Blocks the kernel records as "other", named by where they happened.
_SITE_KINDS = [("mutex", ("mutex_lock", "kernel_lock")),
               ("io", ("virtio", "blk_", "bcache", "bread", "journal", "commit", "wait_locked")),
               ("pipe", ("pipe",)), ("wait", ("wait4", "waitid", "do_wait")),
               ("poll", ("poll", "select", "epoll")), ("tty", ("tty",)),
               ("signal", ("sig", "stop")), ("ptrace", ("ptrace",))]


def block_kind(e: Event, resolve: Callable[[int], str | None] | None = None) -> str:
    """What a block was: sleep, futex, pi-lock (from the kernel), or from its
    sites' function names (resolve: kernel address -> function): mutex, io,
    pipe, wait, poll, tty, signal, ptrace; else other."""
    why = WHY.get(e.arg0, "other")
    if why != "other" or resolve is None:
        return why
    for addr in (e.c, e.d):
        name = resolve(site(addr)) if addr else None
        for kind, words in _SITE_KINDS:
            if name and any(w in name for w in words):
                return kind
    return "other"


# ---- the timeline ----

@dataclass(frozen=True)
class Segment:
    tid: int
    start: int          # tsc
    end: int
    state: str          # running, runnable, blocked
    cpu: int            # running: where; else -1
    prio: int           # effective priority meanwhile
    base: int           # ... and its own (prio > base: a PI loan)
    why: str = ""       # blocked: the block's kind


Resolver = Callable[[int], str | None]


def timeline(t: Trace, resolve: Resolver | None = None) -> dict[int, list[Segment]]:
    """Per thread (not the idle threads), its segments from its first record
    to its exit or the end of the trace."""
    state: dict[int, tuple[str, int, int, int, str]] = {}   # tid -> (state, cpu, prio, since, why)
    base: dict[int, int] = {}
    out: dict[int, list[Segment]] = {}

    def move(tid: int, at: int, new: str | None, cpu: int = -1, prio: int | None = None,
             why: str = "") -> None:
        """tid is in state new from at (None: gone); closes its segment."""
        old = state.pop(tid, None)
        if old:
            st, c, p, since, w = old
            if at > since:
                seg = Segment(tid, since, at, st, c, p, base.get(tid, 0), w)
                out.setdefault(tid, []).append(seg)
            prio = p if prio is None else prio
        if new is not None:
            state[tid] = (new, cpu, prio or 0, at, why)

    pending_why: dict[int, str] = {}
    for e in t.events:
        if e.kind in ("new", "thread", "prio") and e.tid:
            new_base = e.c if e.kind == "prio" else e.d
            if e.tid in state and base.get(e.tid) != new_base:
                st, c, p, _, w = state[e.tid]
                move(e.tid, e.tsc, st, c, p, w)            # a segment per own priority
            base[e.tid] = new_base
        if e.kind == "new" and e.tid:
            move(e.tid, e.tsc, "blocked", prio=e.c)             # published asleep, then woken
        elif e.kind == "thread" and e.tid and e.arg0 in (RUNNABLE, RUNNING, SLEEPING):
            st = {RUNNING: "running", SLEEPING: "blocked"}.get(e.arg0, "runnable")
            move(e.tid, e.tsc, st, e.cpu if st == "running" else -1, e.c)
        elif e.kind == "switch":
            if e.tid:
                if e.arg0 == RUNNABLE:
                    move(e.tid, e.tsc, "runnable", prio=e.b)
                elif e.arg0 in (ZOMBIE, DEAD):
                    move(e.tid, e.tsc, None)
                else:
                    move(e.tid, e.tsc, "blocked", prio=e.b, why=pending_why.pop(e.tid, "other"))
            if e.a:
                move(e.a, e.tsc, "running", e.cpu, e.c)
        elif e.kind == "wakeup" and e.tid in state:
            move(e.tid, e.tsc, "runnable", prio=e.b)
        elif e.kind == "block":
            pending_why[e.tid] = block_kind(e, resolve)
        elif e.kind == "prio" and e.tid in state:
            st, c, _, _, w = state[e.tid]
            move(e.tid, e.tsc, st, c, e.b, w)
    end = t.tsc_now
    for tid in list(state):
        move(tid, end, None)
    return out


# ---- consistency ----

def problems(t: Trace) -> list[str]:
    """Every contradiction in the records: each CPU's switches form one
    chain (a switch leaves what the last one on that CPU entered); a thread
    runs on one CPU at a time; a thread that blocked is woken before it runs
    again, and a switch away to sleep follows a block; only a runnable
    thread is switched in."""
    bad: list[str] = []
    on_cpu: dict[int, int] = {}          # cpu -> tid running there (0 idle)
    where: dict[int, int] = {}           # tid -> cpu it runs on
    blocked: set[int] = set()            # blocked, not woken yet
    block_since_run: set[int] = set()    # blocked since it last ran
    runnable: set[int] = set()
    known: set[int] = set()
    for e in t.events:
        if e.kind == "thread" and e.tid:
            known.add(e.tid)
            if e.arg0 == RUNNING:
                on_cpu[e.cpu] = e.tid
                where[e.tid] = e.cpu
            elif e.arg0 == RUNNABLE:
                runnable.add(e.tid)
            elif e.arg0 == SLEEPING:
                blocked.add(e.tid)
        elif e.kind == "new":
            known.add(e.tid)
            blocked.add(e.tid)           # published asleep, then woken (publish)
        elif e.kind == "block":
            if where.get(e.tid) is None and e.tid in known:
                bad.append(f"#{e.seq}: {e.tid} blocked while not running")
            block_since_run.add(e.tid)
            blocked.add(e.tid)
        elif e.kind == "wakeup":
            blocked.discard(e.tid)
            runnable.add(e.tid)
        elif e.kind == "switch":
            c, prev, nxt = e.cpu, e.tid, e.a
            if c in on_cpu and on_cpu[c] != prev:
                bad.append(f"#{e.seq}: CPU {c} switched away from {prev}, but it ran {on_cpu[c]}")
            if prev:
                where.pop(prev, None)
                if e.arg0 == RUNNABLE:
                    runnable.add(prev)
                elif e.arg0 == SLEEPING and prev not in block_since_run and prev in known:
                    bad.append(f"#{e.seq}: {prev} went to sleep on CPU {c} without a block record")
            if nxt:
                if nxt in where:
                    bad.append(f"#{e.seq}: {nxt} switched in on CPU {c} while running on CPU "
                               f"{where[nxt]}")
                if nxt in blocked and nxt in known:
                    bad.append(f"#{e.seq}: {nxt} ran on CPU {c} after blocking, without a wakeup")
                elif nxt not in runnable and nxt in known:
                    bad.append(f"#{e.seq}: {nxt} switched in on CPU {c} but was not runnable")
                runnable.discard(nxt)
                block_since_run.discard(nxt)
                where[nxt] = c
            on_cpu[c] = nxt
    return bad


def states(t: Trace, tid: int) -> dict[int, str]:
    """seq -> tid's state just after that record: running, runnable,
    blocked, gone or unknown (before its first record)."""
    st, out = "unknown", {}
    for e in t.events:
        if e.tid == tid and e.kind == "thread":
            st = {RUNNING: "running", RUNNABLE: "runnable", SLEEPING: "blocked"}.get(e.arg0, "gone")
        elif e.tid == tid and e.kind == "new":
            st = "blocked"
        elif e.tid == tid and e.kind == "wakeup":
            st = "runnable"
        elif e.kind == "switch" and e.tid == tid:
            st = {RUNNABLE: "runnable", SLEEPING: "blocked"}.get(e.arg0, "gone")
        if e.kind == "switch" and e.a == tid:
            st = "running"
        out[e.seq] = st
    return out


def switch_counts(t: Trace) -> dict[int, tuple[int, int]]:
    """tid -> (voluntary, involuntary) switches away, as /proc counts them:
    preempted (still runnable) is involuntary, anything else voluntary."""
    counts: dict[int, list[int]] = {}
    for e in t.events:
        if e.kind == "switch" and e.tid:
            n = counts.setdefault(e.tid, [0, 0])
            n[e.arg0 == RUNNABLE] += 1
    return {tid: (v, i) for tid, (v, i) in counts.items()}


def first_seen(t: Trace, tid: int) -> Event | None:
    return next((e for e in t.events if e.tid == tid and e.kind in ("new", "thread")), None)


# ---- priority inheritance ----

def prio_at(t: Trace, tid: int, seq: int) -> int | None:
    """tid's effective priority just after record seq (None: unknown)."""
    prio: int | None = None
    for e in t.events:
        if e.seq > seq:
            break
        if e.tid == tid and e.kind in ("new", "thread"):
            prio = e.c
        elif e.tid == tid and e.kind == "prio":
            prio = e.b
    return prio


@dataclass(frozen=True)
class PiWait:
    """A thread blocked on a PI futex, from its block to its wakeup."""
    waiter: int
    owner: int
    blocked: Event
    woken: Event | None             # None: still waiting when the trace ends
    between: tuple[Event, ...]      # the records in between

    def switched_in(self, tids: set[int]) -> list[Event]:
        return [e for e in self.between if e.kind == "switch" and e.a in tids]


def pi_waits(t: Trace) -> list[PiWait]:
    out = []
    for i, e in enumerate(t.events):
        if e.kind != "block" or e.arg0 != 3:
            continue
        j = next((k for k in range(i + 1, len(t.events))
                  if t.events[k].kind == "wakeup" and t.events[k].tid == e.tid), None)
        end = len(t.events) if j is None else j
        out.append(PiWait(e.tid, e.a, e, None if j is None else t.events[j],
                          tuple(t.events[i + 1:end])))
    return out
