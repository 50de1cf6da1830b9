"""The crash-state explorer (issue 5): record every write and FLUSH a
workload makes Vigil issue, build every disk a power cut may leave
(harness/crashstates.py), boot Vigil on each, and check that the journal kept
the workload's promises.

  1. Model: the workload runs on the host Linux first, in a directory; after
     each persistence call it prints "checkpoint K: <call> of <path>
     returned" and waits for a line; the harness snapshots the tree there
     (every path's type, size, content hash and link count). That gives the
     state S_K the file system must be in once checkpoint K has passed.
  2. Record: Vigil boots with its scratch disk behind QEMU's blklogwrites
     driver as its root file system, `crashcheck exec` runs the same workload, and
     at each checkpoint the harness notes how far the write log has got
     before letting the workload go on. The log is in completion order, and
     fsync returns only after its FLUSH completed, so the checkpoint's place
     in the log is exact.
  3. States: harness/crashstates.py (prefixes, and subsets of each flush
     epoch), each written as a sparse copy of the initial 8 MiB image.
  4. Check, per state: e2fsck's own journal replay on a copy must leave a
     clean file system (`e2fsck -E journal_only`, then `e2fsck -fn`); Vigil
     boots with the state as /dev/vda, `crashcheck check` mounts it (Vigil's
     recovery runs), walks every entry and compares the promised paths
     with S_K and S_K+1 (K: the last checkpoint the state has passed); it
     unmounts, and `e2fsck -fn` must find the recovered image clean.

  python -m harness.crashexplore check DIR [--break journal]   re-check a kept failure
  python -m harness.crashexplore shell DIR [--break journal]   boot it, disk on /mnt
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pexpect

from . import initrd as cpio
from .build import Artifacts, build
from .config import ROOT
from .crashstates import Builder, CrashState, entry_offsets, enumerate_states, sample
from .execute import parse_console
from .image import disk_args, fsck, make_ext3
from .qemu import Machine, Session, qemu_command, run
from .writelog import LogEntry, blockdev_args, read_write_log

GUEST_DIR = "/w"        # the workload's directory (the disk is the root while it runs)
IMAGE_MB, IMAGE_BLOCK = 8, 1024              # small images: cheap to copy, many per second
HISTORY = 4             # earlier states per promised path in EXPECT (crashcheck's limit)
_CHECKPOINT = re.compile(r"checkpoint (\d+): (\S+) of (\S+) returned")

# Workloads shipped in user/tests: name -> (program, arguments; {dir} is the directory).
BUILTIN: dict[str, tuple[str, list[str]]] = {
    "seq1": ("ace", ["seq1", "{dir}"]),
    "seq2": ("ace", ["seq2", "{dir}"]),
    "applog": ("applog", ["{dir}"]),
    "fdatasync": ("promises", ["fdatasync", "{dir}"]),
    "sync": ("promises", ["sync", "{dir}"]),
    "dirfsync": ("promises", ["dirfsync", "{dir}"]),
    "replace": ("promises", ["replace", "{dir}"]),
    "reuse": ("promises", ["reuse", "{dir}"]),
    "refill": ("promises", ["refill", "{dir}"]),
    "evict": ("promises", ["evict", "{dir}"]),
}
# Workloads that need a nearly full disk: the image gets a file /filler
# leaving about this many blocks free (so a block an uncommitted unlink
# freed is the only one left to take).
FILL: dict[str, int] = {"reuse": 12, "refill": 24}


@dataclass(frozen=True)
class Workload:
    name: str
    binary: Path        # the static binary, on the host
    args: tuple[str, ...]
    leave_free: int = 0  # fill the image to this many free blocks (0: do not)

    @property
    def guest_path(self) -> str:
        return f"/bin/{self.binary.name}"

    def argv(self, directory: str) -> list[str]:
        return [a.replace("{dir}", directory) for a in self.args]


def workload(spec: str, art: Artifacts, args: list[str] | None = None) -> Workload:
    """A shipped workload by name, or any static binary by path (its
    arguments default to just the directory)."""
    if spec in BUILTIN:
        prog, default = BUILTIN[spec]
        return Workload(spec, art.rootfs / "bin" / prog, tuple(args or default),
                        FILL.get(spec, 0))
    path = Path(spec).resolve()
    if not path.is_file():
        raise ValueError(f"{spec}: neither a shipped workload ({', '.join(BUILTIN)}) nor a file")
    return Workload(path.name, path, tuple(args or ["{dir}"]))


# ---- the model: the workload on the host ----

def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def path_state(p: Path) -> str:
    """A path's state in crashcheck's notation (user/tests/crashcheck.c)."""
    if p.is_symlink():
        return "l:" + os.readlink(p)
    if p.is_dir():
        return "d"
    data = p.read_bytes()
    return f"f:{len(data)}:{fnv1a64(data):016x}:{p.stat().st_nlink}"


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = path_state(p)
    return out


@dataclass
class Model:
    markers: list[tuple[str, str]]            # (call, path) of each checkpoint
    states: list[dict[str, str]]              # S_0 .. S_K-1, then the final tree

    def promised(self, k: int) -> list[str]:
        """The paths promised once checkpoint k has passed: each path a
        checkpoint up to k named, with everything under it if it is a
        directory ("." or sync: the whole tree)."""
        if k < 0:
            return []
        universe = sorted(set(self.states[k]) | set(self.states[k + 1]))
        out: set[str] = set()
        for call, path in self.markers[: k + 1]:
            if call == "sync" or path == ".":
                return universe
            out.add(path)
            out.update(p for p in universe if p.startswith(path + "/"))
        return sorted(out)

    def history(self, k: int, path: str) -> list[str]:
        """The path's states at the checkpoints before k, newest first,
        distinct (at most HISTORY): what a crash state that lost k's writes
        would show."""
        out: list[str] = []
        for j in range(k - 1, -1, -1):
            st = self.states[j].get(path, "-")
            if st not in out and len(out) < HISTORY:
                out.append(st)
        return out

    def expect(self, k: int) -> str:
        """crashcheck's EXPECT file for a state past checkpoint k (and not
        k+1): per promised path, its state at k, at k+1, then its earlier
        states (so crashcheck can tell fsync'd bytes gone missing from bytes
        that were never there)."""
        lines = [f"# last checkpoint passed: {k}"]
        for p in self.promised(k):
            a, b = self.states[k].get(p, "-"), self.states[k + 1].get(p, "-")
            before = [h for h in self.history(k, p) if h not in (a, b)]
            lines.append(" ".join(["P", p, a, b, *before]))
        return "\n".join(lines) + "\n"


def host_model(wl: Workload, tmp: Path, timeout: float = 120) -> Model:
    """Run the workload on the host, snapshotting its tree at each checkpoint."""
    root = tmp / "host-run"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    wdir = root / "w"
    env = dict(os.environ, VIGIL_CRASH_ACK="1")
    proc = subprocess.Popen([str(wl.binary), *wl.argv(str(wdir))], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)
    assert proc.stdin and proc.stdout
    markers, states = [], []
    deadline = time.monotonic() + timeout
    for raw in proc.stdout:
        m = _CHECKPOINT.search(raw.decode(errors="replace"))
        if m:
            markers.append((m.group(2), m.group(3)))
            states.append(snapshot(wdir))
            proc.stdin.write(b"\n")
            proc.stdin.flush()
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{wl.name} did not finish on the host")
    if proc.wait(timeout=timeout) != 0:
        raise RuntimeError(f"{wl.name} failed on the host (status {proc.returncode})")
    states.append(snapshot(wdir))
    return Model(markers, states)


# ---- recording on Vigil ----

@dataclass
class Recording:
    initial: Path
    entries: list[LogEntry]
    checkpoints: list[int]                    # log position (entries) of each checkpoint
    console: str

    @property
    def writes(self) -> int:
        return sum(1 for e in self.entries if e.is_write)

    @property
    def flushes(self) -> int:
        return len(self.entries) - self.writes


def record(art: Artifacts, wl: Workload, machine: Machine, workdir: Path,
           timeout: float = 300) -> Recording:
    # The disk is the root file system while the workload runs (sync(2)
    # syncs only the root file system), holding just what that run needs.
    tree = workdir / "image-tree"
    for prog in ("sbin/init", "bin/crashcheck"):
        (tree / prog).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(art.rootfs / prog, tree / prog)
    shutil.copy(wl.binary, tree / "bin" / wl.binary.name)
    initial = make_ext3(tree, workdir / "initial.img", IMAGE_MB, IMAGE_BLOCK)
    if wl.leave_free:
        initial = _fill(tree, initial, wl.leave_free)
    disk, log = workdir / "recorded.img", workdir / "writes.log"
    shutil.copy(initial, disk)
    argv = ["/bin/crashcheck", "exec", wl.guest_path, *wl.argv(GUEST_DIR)]
    if any(not a or " " in a for a in argv):
        raise ValueError("workload arguments travel on the kernel command line: no spaces")
    cmdline = "root=/dev/vda -- " + " ".join(argv)
    m = replace(machine, extra=[*machine.extra, *blockdev_args(disk, log)])
    sizes: list[int] = []
    pattern = [rb"checkpoint \d+: [^\r\n]*\r*\n", rb"init: (exit status|killed by signal) \d+"]
    cmd = qemu_command(art, cmdline, m, initrd=art.initrd)
    with Session(cmd, workdir / "record-console.log") as s:
        try:
            while s.child.expect(pattern, timeout=timeout) == 0:
                # The workload waits for our line: nothing more reaches the disk
                # until we send it, so the log's length is the checkpoint's place.
                sizes.append(log.stat().st_size)
                s.sendline("")
        except (pexpect.EOF, pexpect.TIMEOUT) as e:
            raise RuntimeError(f"recording {wl.name}: QEMU ended or hung ({type(e).__name__}):\n"
                               + s.output[-3000:]) from None
        ex = s.wait_exit(60)
        console = s.output
    _, status, _ = parse_console(console)
    if ex.kind != "ok" or status != 0:
        raise RuntimeError(f"recording {wl.name} failed ({ex.kind}, status {status}):\n"
                           + console[-3000:])
    raw = log.read_bytes()
    entries = read_write_log(raw)
    ends = entry_offsets(raw, entries)
    checkpoints = [sum(1 for end in ends if end <= size) for size in sizes]
    return Recording(initial, entries, checkpoints, console)


def _free_blocks(image: Path) -> int:
    out = subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True).stdout
    m = re.search(r"^Free blocks:\s+(\d+)", out, re.M)
    if not m:
        raise RuntimeError(f"dumpe2fs -h {image}: no free block count")
    return int(m.group(1))


def _fill(tree: Path, image: Path, leave: int) -> Path:
    """The image again, with a file /filler that leaves `leave` blocks free
    (or one more: the filler's indirect blocks make some counts unreachable)."""
    filler = tree / "filler"
    n = _free_blocks(image) - leave
    n -= n // 256 + 2                           # a guess at the indirect blocks
    for _ in range(6):
        filler.write_bytes(b"\xf1" * (n * IMAGE_BLOCK))
        image = make_ext3(tree, image, IMAGE_MB, IMAGE_BLOCK)
        free = _free_blocks(image)
        if leave <= free <= leave + 1:
            return image
        n += free - leave
    raise RuntimeError(f"could not leave {leave} blocks free (got {free})")


# ---- checking one state ----

@dataclass(frozen=True)
class Verdict:
    state: CrashState
    ok: bool
    problems: tuple[str, ...]
    kept: Path | None             # the failure's directory (kept), None if it passed


def _copy(src: Path, dst: Path) -> None:
    subprocess.run(["cp", "--reflink=auto", "--sparse=always", str(src), str(dst)], check=True)


def _check_initrd(art: Artifacts, expect: str, argv: list[str]) -> bytes:
    """A small initrd: init, crashcheck, the shell, /mnt, the EXPECT file."""
    files = {"sbin/init": art.rootfs / "sbin/init", "bin/crashcheck": art.rootfs / "bin/crashcheck",
             "bin/sh": art.rootfs / "bin/sh", "bin/cat": art.rootfs / "bin/cat",
             "bin/tree": art.rootfs / "bin/tree"}
    out, ino = bytearray(), 1
    for d in ("bin", "sbin", "mnt", "etc"):
        out += cpio.entry(ino, 0o040755, d)
        ino += 1
    for name, path in files.items():
        out += cpio.entry(ino, 0o100755, name, path.read_bytes())
        ino += 1
    out += cpio.entry(ino, 0o100644, "etc/expect", expect.encode())
    out += cpio.entry(ino + 1, 0o100644, "etc/autorun", b"".join(a.encode() + b"\0" for a in argv))
    out += cpio.entry(0, 0, "TRAILER!!!")
    return bytes(out)


def check_dir(art: Artifacts, d: Path, machine: Machine, timeout: float = 60) -> list[str]:
    """Check the crash state d/crash.img against d/expect.txt; what went wrong."""
    problems = []
    replay, vigil = d / "e2fsck-replay.img", d / "vigil-recovered.img"
    _copy(d / "crash.img", replay)
    _copy(d / "crash.img", vigil)
    # e2fsck's own recovery: replay the journal, then nothing may be wrong.
    subprocess.run(["e2fsck", "-y", "-E", "journal_only", str(replay)], capture_output=True)
    ok, report = fsck(replay)
    if not ok:
        problems.append("after e2fsck's journal replay, e2fsck -fn: " + _fsck_summary(report))
    argv = ["/bin/crashcheck", "check", "/etc/expect"]
    (d / "check.cpio").write_bytes(_check_initrd(art, (d / "expect.txt").read_text(), argv))
    r = run(art, "", replace(machine, extra=[*machine.extra, *disk_args(vigil)]),
            d / "console.log", initrd=d / "check.cpio", timeout=timeout)
    output, status, _ = parse_console(r.output)
    if r.exit.kind != "ok" or status != 0 or "crashcheck: ok" not in output:
        said = [x for x in r.output.splitlines()
                if x.startswith(("crashcheck:", "journal:", "vigil:", "ext2:"))
                and "started /sbin/init" not in x]
        # Its findings first (a progress line shows only the beginning).
        said = [x for x in said if x.startswith("crashcheck:")] + \
            [x for x in said if not x.startswith("crashcheck:")]
        problems.append(f"Vigil ({r.exit.kind}, status {status}): " + " | ".join(said[:6]))
    ok, report = fsck(vigil)
    if not ok:
        problems.append("after Vigil's recovery, e2fsck -fn: " + _fsck_summary(report))
    # Kept for a failure: crash.img and what Vigil made of it (the rest is
    # made again by the reproduce command).
    replay.unlink()
    (d / "check.cpio").unlink()
    return problems


def _fsck_summary(report: str) -> str:
    lines = [x for x in report.splitlines()
             if x.strip() and not x.startswith(("Pass ", "e2fsck ")) and "WARNING" not in x]
    return " | ".join(lines[:4])


# ---- the whole run ----

@dataclass
class Report:
    workload: str
    recording: Recording
    built: int                               # distinct states
    kinds: dict[str, int]
    accel: str = "tcg"
    seed: int = 0
    verdicts: list[Verdict] = field(default_factory=list)
    seconds: float = 0.0                     # checking wall time

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]

    @property
    def per_second(self) -> float:
        return len(self.verdicts) / self.seconds if self.seconds else 0.0


def explore(art: Artifacts, wl: Workload, workdir: Path, machine: Machine, states: int = 0,
            seed: int = 0, jobs: int = 1, break_: str | None = None,
            on_start: Callable[[int], None] | None = None,
            on_done: Callable[[Verdict], None] | None = None) -> Report:
    """Model, record, build the states, check them (jobs at a time)."""
    workdir.mkdir(parents=True, exist_ok=True)
    model = host_model(wl, workdir)
    rec = record(art, wl, machine, workdir)
    guest = [(m.group(2), m.group(3)) for m in _CHECKPOINT.finditer(rec.console)]
    if guest != model.markers:
        raise RuntimeError(f"{wl.name} printed different checkpoints on Vigil and on the host:\n"
                           f"{guest}\n{model.markers}")
    b = Builder(rec.entries, rec.checkpoints)
    every = enumerate_states(b, seed)
    chosen = sample(every, states, seed)
    kinds = {k: sum(1 for s in every if s.kind == k) for k in ("prefix", "subset")}
    report = Report(wl.name, rec, len(every), kinds, machine.accel, seed)
    if on_start:
        on_start(len(chosen))
    meta = {"workload": wl.name, "break": break_, "seed": seed}

    def one(s: CrashState) -> Verdict:
        d = workdir / "states" / s.name
        d.mkdir(parents=True, exist_ok=True)
        _copy(rec.initial, d / "crash.img")
        b.write_image(rec.initial, d / "crash.img", s)
        (d / "expect.txt").write_text(model.expect(s.checkpoint))
        (d / "state.json").write_text(json.dumps({**meta, "state": s.name, "kind": s.kind,
                                                  "checkpoint": s.checkpoint,
                                                  "writes": list(s.subset)}))
        problems = check_dir(art, d, machine)
        if problems:
            return Verdict(s, False, tuple(problems), d)
        shutil.rmtree(d)
        return Verdict(s, True, (), None)

    start = time.monotonic()
    with cf.ThreadPoolExecutor(max(1, jobs)) as pool:
        for v in pool.map(one, chosen):
            report.verdicts.append(v)
            if on_done:
                on_done(v)
    report.seconds = time.monotonic() - start
    return report


def reproduce_commands(v: Verdict) -> list[str]:
    d = v.kept
    meta = json.loads((d / "state.json").read_text()) if d else {}
    brk = f" --break {meta['break']}" if meta.get("break") else ""
    py = ".venv/bin/python -m harness.crashexplore"
    return [f"reproduce: {py} check {d}{brk}",
            f"boot it:   {py} shell {d}{brk}   (the crash state on /mnt, a shell)",
            f"inspect:   debugfs -R 'ls -l /w' {d}/crash.img;  e2fsck -fn {d}/vigil-recovered.img"]


def summary(r: Report) -> str:
    rec = r.recording
    return "\n".join([
        f"workload {r.workload}: {rec.writes} writes, {rec.flushes} flushes, "
        f"{len(rec.checkpoints)} checkpoints recorded",
        f"crash states: {r.built} distinct ({r.kinds['prefix']} prefixes, "
        f"{r.kinds['subset']} subsets of flush epochs)",
        f"states built and checked: {len(r.verdicts)} in {r.seconds:.1f} s "
        f"({r.per_second:.2f} states/s under {r.accel.upper()})",
        f"failures: {len(r.failures)}"
        + (f" ({n} of the states checked straddle a checkpoint)"
           if (n := sum(v.state.straddles for v in r.verdicts)) else ""),
    ])


# ---- `invoke crash` ----

def _explore_with_bar(console: Any, art: Artifacts, wl: Workload, workdir: Path,
                      machine: Machine, states: int, seed: int, jobs: int,
                      break_: str | None) -> Report:
    """explore() with a progress bar; failures printed as they come and,
    with the commands that reproduce them, at the end."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    shutil.rmtree(workdir, ignore_errors=True)
    console.print(f"crash: {wl.name} on {'Vigil' if not break_ else f'Vigil without {break_}'}"
                  f" under {machine.accel.upper()}, {jobs} job(s); work in {workdir}")
    failed = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} states/s, {task.fields[failed]} failed"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("recording", total=None, rate="-", failed=0)
        started = [time.monotonic()]

        def on_start(n: int) -> None:
            started[0] = time.monotonic()
            bar.update(task, description="checking", total=n)

        def on_done(v: Verdict) -> None:
            nonlocal failed
            failed += not v.ok
            done = bar.tasks[0].completed + 1
            rate = done / max(time.monotonic() - started[0], 1e-6)
            bar.update(task, advance=1, rate=f"{rate:.1f}", failed=failed)
            if not console.is_terminal and done % 200 == 0:
                # No bar in a log file: a line now and then instead.
                print(f"{wl.name}: {done:.0f}/{bar.tasks[0].total} checked, {rate:.2f} "
                      f"states/s, {failed} failed", flush=True)
            if not v.ok:
                bar.console.print(f"[red]FAILED[/red] {v.state.name}: {v.problems[0][:200]}")

        report = explore(art, wl, workdir, machine, states, seed, jobs, break_,
                         on_start, on_done)
    # Plain prints: commands must stay on one line to be copied.
    for v in report.failures:
        print(f"\nFAILED {v.state.name} ({v.state.kind} state, last checkpoint passed: "
              f"{v.state.checkpoint}; kept in {v.kept})")
        for p in v.problems:
            print("  " + p)
        for line in reproduce_commands(v):
            print("  " + line)
    print(summary(report))
    return report


def _workdir(name: str, break_: str | None) -> Path:
    return ROOT / "build" / "crash" / (name + (f"-break-{break_}" if break_ else ""))


def cli(spec: str, states: int = 0, seed: int = 0, jobs: int = 0, break_: str | None = None,
        args: list[str] | None = None, accel: str = "") -> int:
    """The whole run with a progress bar; 1 if any state failed."""
    from rich.console import Console

    if accel:
        os.environ["VIGIL_ACCEL"] = accel
    art = build(break_)
    machine = _machine(art)
    wl = workload(spec, art, args)
    report = _explore_with_bar(Console(), art, wl, _workdir(wl.name, break_), machine, states,
                               seed, jobs or os.cpu_count() or 2, break_)
    return 1 if report.failures else 0


def table(reports: list[Report], jobs: int) -> str:
    """The figures of a `crash --all` run, as a Markdown table."""
    lines = ["| workload | writes | flushes | checkpoints | crash states | checked | failed "
             "| seconds | states/s |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in reports:
        rec = r.recording
        lines.append(f"| {r.workload} | {rec.writes} | {rec.flushes} | {len(rec.checkpoints)} "
                     f"| {r.built} | {len(r.verdicts)} | {len(r.failures)} | {r.seconds:.0f} "
                     f"| {r.per_second:.2f} |")
    n, secs = sum(len(r.verdicts) for r in reports), sum(r.seconds for r in reports)
    lines.append(f"| **all** | | | | {sum(r.built for r in reports)} | {n} "
                 f"| {sum(len(r.failures) for r in reports)} | {secs:.0f} "
                 f"| {n / secs if secs else 0:.2f} |")
    accel = reports[0].accel.upper() if reports else "?"
    lines.append(f"\n({accel}, {jobs} job(s), os.cpu_count() = {os.cpu_count()}; "
                 f"seed {reports[0].seed if reports else 0}.)")
    return "\n".join(lines)


def cli_all(seed: int = 0, jobs: int = 0, break_: str | None = None, accel: str = "") -> int:
    """Every shipped workload's full state set, one after the other; the
    figures as a table (also in build/crash/all.md); 1 if any state failed."""
    from rich.console import Console

    if accel:
        os.environ["VIGIL_ACCEL"] = accel
    art = build(break_)
    machine = _machine(art)
    jobs = jobs or os.cpu_count() or 2
    console = Console()
    reports = []
    for name in BUILTIN:
        wl = workload(name, art)
        reports.append(_explore_with_bar(console, art, wl, _workdir(name, break_), machine, 0,
                                         seed, jobs, break_))
    out = table(reports, jobs)
    print("\n" + out)
    path = ROOT / "build" / "crash" / ("all" + (f"-break-{break_}" if break_ else "") + ".md")
    path.write_text(out + "\n")
    print(f"(also in {path})")
    return 1 if any(r.failures for r in reports) else 0


# ---- re-checking and booting a kept failure ----

def _machine(art: Artifacts) -> Machine:
    from . import accel
    return Machine(accel=accel.choose(art), mem="128M")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.crashexplore")
    ap.add_argument("what", choices=["check", "shell"])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--break", dest="break_", default=None)
    a = ap.parse_args(argv)
    art = build(a.break_)
    machine = _machine(art)
    if a.what == "check":
        problems = check_dir(art, a.dir, machine)
        print((a.dir / "console.log").read_text())
        print("\n".join(problems) or "no problem found")
        return 1 if problems else 0
    with tempfile.TemporaryDirectory() as t:
        disk = Path(t) / "disk.img"
        _copy(a.dir / "crash.img", disk)
        image = Path(t) / "shell.cpio"
        image.write_bytes(_check_initrd(art, (a.dir / "expect.txt").read_text(),
                                        ["/bin/crashcheck", "mount"]))
        m = replace(machine, extra=[*machine.extra, *disk_args(disk)])
        return subprocess.call(qemu_command(art, "", m, initrd=image, interactive=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
