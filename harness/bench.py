"""`invoke bench`: the user/bench micro-benchmarks on Vigil and, with
--vs-linux, on Debian's Linux kernel, under the same QEMU command line
(only -kernel, -initrd and -append differ), boots interleaved A/B/A/B.

Each boot runs /bin/bench-run as its first process (Vigil: init=, Linux:
rdinit=), which mounts a fresh 256 MiB virtio-blk disk on /mnt (ext3 for
Vigil, which reads ext2/ext3; ext4 for Linux) and runs every benchmark
once; each prints one line `bench NAME ns_per_op=F ops=N ...`. The host
adds one more, `boot`: from starting QEMU to the guest's first user-space
line ("bench-run: start"). The table holds the median per benchmark over
the boots and the ratio Vigil/Linux of the medians (above 1: Vigil slower).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .build import Artifacts
from .image import disk_args, make_ext3
from .qemu import Machine, qemu_command

# In the order each boot runs them; "boot" is measured by the host.
BENCHMARKS = ["getpid", "clock", "fork", "forkexec", "pipe", "epoll", "yield", "mmap", "fsync",
              "create", "seqwrite", "seqread", "mapread", "python", "bash", "strace"]
# These run Debian's own programs: their boots get a copy of the Debian root
# image (build/root.img, ext3) as the bench disk instead of an empty one, on
# both kernels, and chroot into it (user/bench/spawn.h).
DEBIAN = {"python", "bash", "strace"}
BOOT = "boot"
WHAT = {
    "getpid": "syscall round trip",
    "clock": "clock_gettime(CLOCK_MONOTONIC) through libc (the vDSO)",
    "fork": "fork + exit + wait",
    "forkexec": "fork + execve + wait",
    "pipe": "pipe ping-pong round trip (2 switches)",
    "epoll": "the pipe ping-pong waiting in epoll_wait / poll first",
    "yield": "sched_yield between 2 processes",
    "mmap": "anon mmap 64 MiB, per page touched",
    "fsync": "4 KiB write + fsync",
    "create": "create + write 100 B + close + unlink",
    "seqwrite": "64 MiB sequential write + fsync, per MiB",
    "seqread": "64 MiB sequential read (warm), per MiB",
    "mapread": "64 MiB file read through mmap (warm), per MiB",
    "python": "python3 -c pass (Debian's, dynamic: fork + exec + wait)",
    "bash": "bash -c true (Debian's, dynamic: fork + exec + wait)",
    "strace": "getpid under Debian's strace -f (every call stopped twice, printed)",
    BOOT: "QEMU start to first user line",
}
START = "bench-run: start"
DONE = "bench-run: done"
MEM = "512M"
DISK_MB = 256
_LINE = re.compile(r"^bench (\S+)((?: \S+=\S*)*)\s*$")


@dataclass(frozen=True)
class Result:
    name: str
    ns_per_op: float | None  # None: the benchmark could not run
    fields: dict[str, str]

    @property
    def error(self) -> str | None:
        return self.fields.get("error") if self.ns_per_op is None else None


def parse_line(line: str) -> Result | None:
    """`bench NAME key=value...` -> Result; anything else -> None."""
    m = _LINE.match(line.strip())
    if not m:
        return None
    fields = dict(kv.split("=", 1) for kv in m.group(2).split())
    try:
        ns: float | None = float(fields["ns_per_op"])
    except (KeyError, ValueError):
        ns = None
        fields.setdefault("error", "unparsed")
    return Result(m.group(1), ns, fields)


def parse_output(text: str) -> dict[str, Result]:
    """Every benchmark line of a console log, by name (the last one wins)."""
    out: dict[str, Result] = {}
    for line in text.splitlines():
        r = parse_line(line)
        if r is not None:
            out[r.name] = r
    return out


@dataclass
class Boot:
    """One QEMU run of the benchmark set."""

    kernel: str  # vigil | linux
    accel: str
    results: dict[str, Result]
    ok: bool  # reached "bench-run: done" and QEMU exited cleanly
    log: Path
    note: str = ""


Lines = list[tuple[float, str]]


def timed_run(cmd: list[str], log: Path, timeout: float) -> tuple[Lines, int | None]:
    """Run QEMU with the console on a pipe; every line with the seconds since
    the start. Killed after timeout (status None)."""
    lines: Lines = []
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdout is not None

    def reader() -> None:
        assert proc.stdout is not None
        with open(log, "w") as f:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").replace("\r", "").rstrip("\n")
                t = time.monotonic() - t0
                lines.append((t, line))
                f.write(f"{t:9.3f} {line}\n")
                f.flush()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    try:
        status: int | None = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = None
    th.join(5)
    return lines, status


def boot_result(lines: Lines) -> Result | None:
    for t, line in lines:
        if line.strip() == START:
            return Result(BOOT, t * 1e9, {"ns_per_op": f"{t * 1e9:.0f}", "ops": "1"})
    return None


@dataclass
class Bench:
    """What a series of boots shares: kernels, images, QEMU machine."""

    art: Artifacts
    workdir: Path
    names: list[str]
    ms: int = 300
    timeout: float = 900
    linux_kernel: Path | None = None
    linux_initrd: Path | None = None
    _images: dict[str, Path] = field(default_factory=dict)

    def image(self, fs: str) -> Path:
        """A fresh copy of the empty disk of that file system, or (fs
        "debian") of the Debian root image."""
        if fs == "debian":
            self._images[fs] = self.art.root_image
        if fs not in self._images:
            tmpl = self.workdir / f"empty-{fs}.img"
            empty = self.workdir / "empty"
            empty.mkdir(exist_ok=True)
            if fs == "ext3":
                make_ext3(empty, tmpl, size_mb=DISK_MB)
            else:
                subprocess.run(["mke2fs", "-q", "-F", "-t", fs, "-b", "4096", "-L", "bench",
                                str(tmpl), f"{DISK_MB}M"], check=True, capture_output=True)
            self._images[fs] = tmpl
        n = len(list(self.workdir.glob(f"disk-{fs}-*.img")))
        disk = self.workdir / f"disk-{fs}-{n}.img"
        subprocess.run(["cp", "--sparse=always", str(self._images[fs]), str(disk)], check=True)
        return disk

    def command(self, kernel: str, accel: str, names: list[str], ms: int) -> list[str]:
        fs = "ext3" if kernel == "vigil" else "ext4"   # Linux's ext4 driver mounts ext3 too
        args = f"-- fs={fs} ms={ms} {' '.join(names)}"
        disk = self.image("debian" if DEBIAN & set(names) else fs)
        machine = Machine(accel=accel, mem=MEM, extra=disk_args(disk))
        if kernel == "vigil":
            return qemu_command(self.art, f"init=/bin/bench-run {args}", machine,
                                initrd=self.art.initrd)
        assert self.linux_kernel and self.linux_initrd
        art = replace(self.art, kernel_mb=self.linux_kernel)
        return qemu_command(art, f"console=ttyS0 quiet panic=-1 rdinit=/bin/bench-run {args}",
                            machine, initrd=self.linux_initrd)

    def boot(self, kernel: str, accel: str, names: list[str] | None = None,
             ms: int | None = None, timeout: float | None = None) -> Boot:
        """One boot per disk the benchmarks need (the empty one, the Debian
        image), their results merged; the boot time is the first boot's."""
        names = self.names if names is None else names
        groups = [g for g in ([n for n in names if n not in DEBIAN],
                              [n for n in names if n in DEBIAN]) if g]
        boots = [self._boot(kernel, accel, g, ms, timeout) for g in groups]
        first = boots[0]
        for b in boots[1:]:
            first.results.update({k: v for k, v in b.results.items() if k != BOOT})
            first.ok = first.ok and b.ok
            first.note = "; ".join(x for x in (first.note, b.note) if x)
        return first

    def _boot(self, kernel: str, accel: str, names: list[str], ms: int | None,
              timeout: float | None) -> Boot:
        n = len(list(self.workdir.glob(f"{kernel}-{accel}-*.log")))
        log = self.workdir / f"{kernel}-{accel}-{n}.log"
        cmd = self.command(kernel, accel, names, self.ms if ms is None else ms)
        lines, status = timed_run(cmd, log, timeout or self.timeout)
        text = "\n".join(line for _, line in lines)
        results = parse_output(text)
        b = boot_result(lines)
        if b is not None:
            results[BOOT] = b
        ok = status == 33 and any(line.strip() == DONE for _, line in lines)
        note = "" if ok else f"{kernel} under {accel.upper()}: " + (
            "timed out" if status is None else f"QEMU exit status {status}") + f" (log {log})"
        for f in self.workdir.glob("disk-*.img"):
            f.unlink()
        return Boot(kernel, accel, results, ok, log, note)


@dataclass(frozen=True)
class Row:
    name: str
    vigil: float | None  # median ns per op
    linux: float | None
    vigil_runs: tuple[float, ...]
    linux_runs: tuple[float, ...]
    errors: tuple[str, ...] = ()

    @property
    def ratio(self) -> float | None:
        if self.vigil is None or self.linux is None or self.linux == 0:
            return None
        return self.vigil / self.linux


def median(xs: list[float] | tuple[float, ...]) -> float | None:
    return statistics.median(xs) if xs else None


def summarize(boots: list[Boot], names: list[str]) -> list[Row]:
    """Per benchmark: every run's ns_per_op on each kernel, their medians."""
    rows = []
    for name in [*names, BOOT]:
        runs: dict[str, list[float]] = {"vigil": [], "linux": []}
        errors: list[str] = []
        for b in boots:
            r = b.results.get(name)
            if r is None:
                continue
            if r.ns_per_op is not None:
                runs[b.kernel].append(r.ns_per_op)
            elif r.error and f"{b.kernel}: {r.error}" not in errors:
                errors.append(f"{b.kernel}: {r.error}")
        rows.append(Row(name, median(runs["vigil"]), median(runs["linux"]),
                        tuple(runs["vigil"]), tuple(runs["linux"]), tuple(errors)))
    return rows


def fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


@dataclass
class Report:
    accel: str
    repeat: int
    vs_linux: bool
    rows: list[Row]
    notes: list[str]
    linux_package: str = ""

    def to_json(self) -> str:
        return json.dumps({
            "accel": self.accel, "repeat": self.repeat, "vs_linux": self.vs_linux,
            "linux_package": self.linux_package, "notes": self.notes,
            "unit": "ns_per_op (median; lower is better); ratio = vigil / linux",
            "benchmarks": [{"name": r.name, "what": WHAT.get(r.name, ""), "vigil": r.vigil,
                            "linux": r.linux, "ratio": r.ratio, "vigil_runs": r.vigil_runs,
                            "linux_runs": r.linux_runs, "errors": r.errors}
                           for r in self.rows],
        }, indent=2)


def print_table(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"Vigil{' vs Linux' if report.vs_linux else ''} under {report.accel.upper()}, " \
            f"median of {report.repeat} boot(s) per kernel"
    table = Table(title=title)
    table.add_column("benchmark")
    table.add_column("what")
    table.add_column("Vigil", justify="right")
    if report.vs_linux:
        table.add_column("Linux", justify="right")
        table.add_column("Vigil/Linux", justify="right")
    for r in report.rows:
        cells = [r.name, WHAT.get(r.name, ""), fmt_ns(r.vigil)]
        if report.vs_linux:
            ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
            cells += [fmt_ns(r.linux), ratio]
        if r.errors:
            cells[1] += " [" + "; ".join(r.errors) + "]"
        table.add_row(*cells)
    console = Console()
    if not console.is_terminal:
        console = Console(width=110)  # piped: no wrapping at 80 columns
    console.print(table)
    if report.linux_package:
        console.print(f"Linux: Debian's {report.linux_package}")
    for note in report.notes:
        console.print(f"note: {note}")


def write_chart(report: Report, path: Path) -> Path | None:
    """A bar per benchmark: Vigil/Linux (log scale; 1 = as fast)."""
    rows = [r for r in report.rows if r.ratio is not None]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    ratios = [r.ratio or 0.0 for r in rows]
    colors = ["#c0392b" if x > 1 else "#27ae60" for x in ratios]
    ax.bar([r.name for r in rows], ratios, color=colors)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylabel("Vigil time / Linux time (log; >1: Vigil slower)")
    ax.set_title(f"Vigil vs Linux under {report.accel.upper()} (median of {report.repeat})")
    for i, x in enumerate(ratios):
        ax.annotate(f"{x:.2g}", (i, x), ha="center", va="bottom", fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def linux_boots_under(bench: Bench, accel: str) -> tuple[bool, str]:
    """A trial boot running one cheap benchmark, with a short timeout."""
    b = bench.boot("linux", accel, names=["getpid"], ms=20, timeout=120)
    return b.ok and "getpid" in b.results, b.note


def run(art: Artifacts, accel: str, vs_linux: bool, repeat: int, names: list[str],
        ms: int = 300, workdir: Path | None = None, log=print) -> Report:  # type: ignore[no-untyped-def]
    """accel: kvm or tcg (as asked). Vigil's user programs cannot run under
    this machine's paravirtual KVM, nor could Linux boot under it when tried:
    then the comparison runs under TCG and the notes say why."""
    from . import accel as accel_mod

    notes: list[str] = []
    workdir = workdir or Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for old in [*workdir.glob("*.log"), *workdir.glob("*.img")]:
        old.unlink()  # the logs of this run only (the notes name them)
    bench = Bench(art, workdir, names, ms)
    package = ""
    if vs_linux:
        from . import linux

        log("bench: fetching Debian's kernel (cached under build/linux)")
        kernel = linux.fetch()
        package = kernel.package
        bench.linux_kernel = kernel.vmlinuz
        bench.linux_initrd = linux.make_initramfs(kernel, art.rootfs, workdir / "initramfs.cpio")
    if accel == "kvm":
        if not accel_mod.kvm_openable():
            notes.append("KVM asked for, but /dev/kvm does not open: everything ran under TCG")
            accel = "tcg"
        else:
            vigil_ok = accel_mod.probe_kvm(art)
            if not vigil_ok:
                notes.append("KVM asked for, but Vigil's user programs cannot run under this "
                             "machine's KVM (the paravirtual KVM mis-delivers `syscall`; see "
                             "README): Vigil ran under TCG")
            linux_ok = True
            if vs_linux:
                log("bench: trying a Linux boot under KVM")
                linux_ok, why = linux_boots_under(bench, "kvm")
                if not linux_ok:
                    notes.append(f"KVM asked for, but Linux did not boot under it ({why}): "
                                 "Linux ran under TCG")
            if not (vigil_ok and linux_ok):
                accel = "tcg"
                notes.append("so the comparison ran under TCG, both kernels alike")
    boots: list[Boot] = []
    kernels = ["vigil", "linux"] if vs_linux else ["vigil"]
    load_before = os.getloadavg()[0]
    for i in range(repeat):
        for k in kernels:  # interleaved: A/B/A/B
            log(f"bench: boot {i + 1}/{repeat} of {k} under {accel.upper()}")
            b = bench.boot(k, accel)
            boots.append(b)
            if b.note:
                notes.append(b.note)
    load_after = os.getloadavg()[0]
    if max(load_before, load_after) > 1.5:
        notes.append(f"the host was busy (load average {load_before:.1f} before, "
                     f"{load_after:.1f} after, {os.cpu_count()} CPUs): single runs vary a lot; "
                     "the medians of interleaved boots are fairer than any one run, but a "
                     "quiet machine and a larger --repeat give steadier ratios")
    return Report(accel, repeat, vs_linux, summarize(boots, names), notes, package)
