"""Crash states: every disk a power cut may leave, given the initial image
and the write log of a run (harness/writelog.py).

The storage contract (a disk with a volatile write cache, as virtio-blk with
cache=writeback is): a write the device has completed may still be lost
until a FLUSH completes; after a FLUSH, everything completed before it is
durable. So the writes fall into *epochs* separated by FLUSHes, and a crash
in epoch e leaves every write of the epochs before e plus **any subset** of
the writes of epoch e, persisted in any order.

The order in which a subset lands only matters where writes overlap: for
writes to distinct sectors every order ends in the same image, and where
two writes of one epoch hit the same sector a disk never lets the older one
overwrite the newer, so the subset applied in log order gives every image
a reordering can. Each write lands whole (Vigil writes one block per
request, and the 1 KiB blocks of the explorer's images are two sectors;
torn writes are not modelled).

From that, two families of states:
  * prefixes: the first m writes of the log, for every m (in epoch terms:
    the earlier epochs plus the first m writes of one epoch);
  * subsets: within each epoch, every other subset of its writes when the
    epoch has at most `exhaustive` writes, else `sampled` random subsets
    drawn with a seeded generator.
States that would give the same image are built and checked once.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .writelog import LOG_DISCARD, LOG_FLUSH, LogEntry

SECTOR = 512


@dataclass(frozen=True)
class CrashState:
    """The earlier epochs, plus `subset` (indices into the log) of epoch `epoch`."""

    epoch: int
    subset: tuple[int, ...]
    kind: str          # "prefix" or "subset"
    checkpoint: int    # the last checkpoint this state has passed (-1: none)
    key: bytes         # digest of the image it makes (equal images, equal keys)
    # It holds a write issued after that checkpoint returned, yet lacks one
    # issued before: the states the "a later write obliges" rule judges
    # (Builder.passed). A sound kernel leaves only writes recovery can do
    # without unflushed at a checkpoint (the journal's copies going home);
    # one whose fsync skipped its FLUSH leaves its commit block there.
    # sample() gives these up to half of its states.
    straddles: bool = False

    @property
    def name(self) -> str:
        """Unique among the states of one run (and short enough for a path)."""
        which = len(self.subset) if self.kind == "prefix" else self.key.hex()[:12]
        return f"e{self.epoch}-{self.kind}-{which}-k{self.checkpoint}"


def entry_offsets(raw: bytes, entries: list[LogEntry], sectorsize: int = 512) -> list[int]:
    """For each entry, the offset in the log file just past it (so entry i
    was logged by the time the file was that long)."""
    ends, pos = [], sectorsize
    for e in entries:
        pos += sectorsize + (0 if e.flags & LOG_DISCARD else e.nr_sectors * sectorsize)
        ends.append(pos)
    return ends


def epochs(entries: list[LogEntry]) -> list[list[int]]:
    """The log's writes (their indices), grouped by the FLUSHes between them.
    The last group holds the writes after the last FLUSH (maybe none)."""
    groups: list[list[int]] = [[]]
    for i, e in enumerate(entries):
        if e.flags & LOG_FLUSH:
            groups.append([])
        elif e.is_write:
            groups[-1].append(i)
    return groups


class Builder:
    """Turns (epoch, subset) into sector contents and keys, incrementally."""

    def __init__(self, entries: list[LogEntry], checkpoints: list[int]) -> None:
        self.entries = entries
        self.groups = epochs(entries)
        self.checkpoints = checkpoints          # log position (entry count) of each checkpoint
        # Digest of each write's bytes, per sector: keys cost 16 bytes a sector.
        self._digest = {i: [hashlib.blake2b(e.data[k:k + SECTOR], digest_size=8).digest()
                            for k in range(0, len(e.data), SECTOR)]
                        for i, e in enumerate(entries) if e.is_write}
        self._bases: list[dict[int, tuple[int, int]]] = []
        base: dict[int, tuple[int, int]] = {}   # sector -> (entry index, sector within it)
        for group in self.groups:
            self._bases.append(base)
            base = dict(base)
            for i in group:
                self._put(base, i)

    def _put(self, overlay: dict[int, tuple[int, int]], i: int) -> None:
        e = self.entries[i]
        for k in range(e.nr_sectors):
            overlay[e.sector + k] = (i, k)

    def overlay(self, epoch: int, subset: tuple[int, ...]) -> dict[int, tuple[int, int]]:
        out = dict(self._bases[epoch])
        for i in subset:
            self._put(out, i)
        return out

    def key(self, overlay: dict[int, tuple[int, int]]) -> bytes:
        h = hashlib.blake2b(digest_size=16)
        for sector in sorted(overlay):
            i, k = overlay[sector]
            h.update(sector.to_bytes(8, "little") + self._digest[i][k])
        return h.digest()

    def passed(self, epoch: int, subset: tuple[int, ...]) -> int:
        return self._judge(epoch, subset)[0]

    def _judge(self, epoch: int, subset: tuple[int, ...]) -> tuple[int, bool]:
        """The last checkpoint the state must satisfy. Checkpoint K sits at
        log position p_K (writes before p_K were issued before its fsync
        returned). The state must satisfy K when
          * no write before p_K is missing (it has all K's writes), or
          * it holds ANY write from p_K on: the disk kept a write the
            workload issued after the fsync returned, so the fsync's own
            writes must be there too. A disk that honours FLUSH can only
            keep a later write with everything an earlier FLUSH covered, and
            fsync returns after its FLUSH; if fsync skipped the FLUSH, its
            last writes share an epoch with later ones, and such a state
            shows the fsync'd bytes missing (the first rule alone would
            have judged it by checkpoint K-1 and let that pass)."""
        have = set(subset)
        missing = [i for i in self.groups[epoch] if i not in have]
        missing += [g[0] for g in self.groups[epoch + 1:] if g][:1]
        first_missing = min(missing, default=len(self.entries))
        held = [i for g in self.groups[:epoch] for i in g[-1:]] + list(subset)
        last_held = max(held, default=-1)
        complete = sum(1 for pos in self.checkpoints if pos <= first_missing)
        overtaken = sum(1 for pos in self.checkpoints if pos <= last_held)
        return max(complete, overtaken) - 1, overtaken > complete

    def state(self, epoch: int, subset: tuple[int, ...], kind: str) -> CrashState:
        passed, straddles = self._judge(epoch, subset)
        return CrashState(epoch, subset, kind, passed, self.key(self.overlay(epoch, subset)),
                          straddles)

    def write_image(self, initial: Path, out: Path, state: CrashState) -> None:
        """out must already be a copy of initial."""
        with open(out, "r+b") as f:
            for sector, (i, k) in sorted(self.overlay(state.epoch, state.subset).items()):
                f.seek(sector * SECTOR)
                f.write(self.entries[i].data[k * SECTOR:(k + 1) * SECTOR])


def _subsets(group: list[int], exhaustive: int, sampled: int,
             rng: random.Random) -> Iterator[tuple[int, ...]]:
    n = len(group)
    if n <= exhaustive:
        for r in range(n + 1):
            yield from itertools.combinations(group, r)
    else:
        for _ in range(sampled):
            yield tuple(i for i in group if rng.random() < 0.5)


def enumerate_states(b: Builder, seed: int = 0, exhaustive: int = 8,
                     sampled: int = 64) -> list[CrashState]:
    """Every prefix state, then the subset states of each epoch; one state
    per distinct (image, checkpoint)."""
    rng = random.Random(seed)
    seen: set[tuple[bytes, int]] = set()
    out: list[CrashState] = []

    def add(epoch: int, subset: tuple[int, ...], kind: str) -> None:
        s = b.state(epoch, subset, kind)
        if (s.key, s.checkpoint) not in seen:
            seen.add((s.key, s.checkpoint))
            out.append(s)

    for e, group in enumerate(b.groups):
        for m in range(len(group) + 1):
            add(e, tuple(group[:m]), "prefix")
    for e, group in enumerate(b.groups):
        for subset in _subsets(group, exhaustive, sampled, rng):
            add(e, subset, "subset")
    return out


def sample(states: list[CrashState], n: int, seed: int) -> list[CrashState]:
    """n of the states (all if n <= 0 or there are fewer), chosen with the
    seed, in log order. Up to half of them cover the checkpoints, one state
    per checkpoint passed, latest first: which writes a run records varies
    with timing, and a sample that never passes the later checkpoints would
    check no promise made there. Of the rest, up to half straddle a
    checkpoint, the others half from each family where possible."""
    if n <= 0 or len(states) <= n:
        return states
    rng = random.Random(seed)
    levels = sorted({s.checkpoint for s in states if s.checkpoint >= 0}, reverse=True)
    cover = [rng.choice([s for s in states if s.checkpoint == k]) for k in levels[:n // 2]]
    if cover:
        rest = [s for s in states if s not in cover]
        order = {s: i for i, s in enumerate(states)}
        return sorted(cover + _sample_rest(rest, n - len(cover), rng), key=order.__getitem__)
    return _sample_rest(states, n, rng)


def _sample_rest(states: list[CrashState], n: int, rng: random.Random) -> list[CrashState]:
    """sample()'s families: up to half straddling states, the rest half
    prefixes and half subsets where possible, in log order."""
    if len(states) <= n:
        return states
    straddling = [s for s in states if s.straddles]
    if straddling:
        picked = rng.sample(straddling, min((n + 1) // 2, len(straddling)))
        if n > len(picked):
            picked += _sample_rest([s for s in states if not s.straddles], n - len(picked), rng)
        order = {s: i for i, s in enumerate(states)}
        return sorted(picked, key=order.__getitem__)
    prefixes = [s for s in states if s.kind == "prefix"]
    subsets = [s for s in states if s.kind == "subset"]
    k = min(len(subsets), n // 2)
    k = max(k, n - len(prefixes))
    chosen = set(rng.sample(range(len(subsets)), k))
    picked = [s for i, s in enumerate(subsets) if i in chosen]
    picked += rng.sample(prefixes, n - k)
    order = {s: i for i, s in enumerate(states)}
    return sorted(picked, key=order.__getitem__)
