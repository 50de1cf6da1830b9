"""invoke tasks: build, run, exec, test, debug, clean (`./vigil --list`)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from invoke import Context, task

from harness import accel as accel_mod
from harness import build as build_mod
from harness.config import ROOT
from harness.execute import parse_console
from harness.qemu import Machine, qemu_command


def _help_asked(task_name: str, positional: str) -> bool:
    """`invoke TASK --help` on a task with a positional argument hands it
    "--help": print the task's help instead (and say so to the caller)."""
    if positional not in ("--help", "-h"):
        return False
    subprocess.call([sys.executable, "-m", "invoke", "--help", task_name], cwd=ROOT)
    return True


def _accel(requested: str, art: build_mod.Artifacts) -> str:
    if requested:
        os.environ["VIGIL_ACCEL"] = requested
    return accel_mod.choose(art)


@task(help={"break_": "build with one mechanism removed (see Makefile BREAKS)"})
def build(c: Context, break_: str = "") -> None:
    """Build the kernel, the user programs and the initrd (incremental)."""
    build_mod.build(break_ or None, quiet=False)


@task(help={"cmdline": "kernel command line", "accel": "kvm, tcg or auto",
            "mem": "guest memory", "smp": "CPUs",
            "disk": "boot from the Debian root disk (--no-disk: the initrd of Vigil's programs)"})
def run(c: Context, cmdline: str = "", accel: str = "", mem: str = "256M", smp: int = 1,
        disk: bool = True) -> None:
    """Boot Vigil to its shell on this terminal (Ctrl-A X leaves QEMU).

    The root file system is a fresh copy of build/root.img (Debian's
    packages as an ext3 image, harness/debian.py), or the initrd with
    --no-disk."""
    from harness.execute import debian_root
    from harness.image import disk_args

    art = build_mod.build()
    machine = Machine(accel=_accel(accel, art), mem=mem, smp=smp)
    if disk:
        image = debian_root(art, ROOT / "build" / "run-disk.img", [])
        machine.extra += disk_args(image)
        cmdline = f"root=/dev/vda {_terminal_words()} {cmdline}".strip()
    print(f"vigil: booting under {machine.accel.upper()}; Ctrl-A X quits", file=sys.stderr)
    cmd = qemu_command(art, cmdline, machine, initrd=art.initrd, interactive=True)
    sys.exit(subprocess.call(cmd))


def _terminal_words() -> str:
    """This terminal's type and size for the guest's login shell (its
    /etc/profile.d/vigil.sh reads them from /proc/cmdline): a serial line
    carries neither."""
    import re

    term = os.environ.get("TERM", "")
    if not sys.stdin.isatty() or not re.fullmatch(r"[A-Za-z0-9._+-]+", term):
        return ""
    size = os.get_terminal_size(sys.stdin.fileno())
    return f"vigil.term={term} vigil.winsize={size.lines}x{size.columns}"


@task(help={"accel": "kvm, tcg or auto", "timeout": "seconds before giving up", "smp": "CPUs"})
def strace(c: Context, accel: str = "", timeout: int = 300, smp: int = 1) -> None:
    """Debian's strace inside Vigil: `invoke strace [--smp N] -- STRACE-ARGS... PROG ARGS...`.

    Everything after "--" goes to /usr/bin/strace on a fresh copy of the
    Debian root; PROG, if it is a file on the host, is staged into the guest
    (/usr/local/bin/NAME) as `exec` does, else it is a path or name in the
    image. Streams the console (the trace included) and exits with the
    program's exit status (strace passes it through)."""
    from harness.stracecmd import guest_argv

    if "--" not in sys.argv:
        print("usage: ./vigil strace [--smp N] -- STRACE-ARGS... PROG ARGS...", file=sys.stderr)
        sys.exit(2)
    argv, files = guest_argv(sys.argv[sys.argv.index("--") + 1:])
    _run_on_debian_root(argv, files, accel, timeout, smp)


@task(help={"plot": "draw the timeline into this PNG", "smp": "CPUs (--pathfinder: 2)",
            "pathfinder": "run user/tests/pathfinder.c with and without priority inheritance "
                          "(the kernel built with BREAK=pi) and draw both",
            "initrd": "the initrd of Vigil's programs is the root (default: the Debian root)",
            "accel": "kvm, tcg or auto", "timeout": "seconds before giving up"})
def trace(c: Context, plot: str = "", smp: int = 0, pathfinder: bool = False,
          initrd: bool = False, accel: str = "", timeout: int = 300) -> None:
    """Scheduling timeline: `invoke trace [--plot out.png] [--smp N] -- PROG ARGS...`.

    Runs PROG (a host file, staged as `exec` does, or a path in the image)
    under /bin/schedtrace, which clears the kernel's trace ring
    (/proc/vigil/schedtrace), and fetches it when PROG exits: which thread
    ran on which CPU when, wakeups, blocks and why, PI loans. Prints a
    summary; --plot draws one row per thread. --pathfinder: the Mars
    Pathfinder program with and without inheritance, one above the other
    (default build/trace/pathfinder.png). Exits with PROG's status."""
    from harness import trace as trace_mod
    from harness import tracecmd, traceplot

    art = build_mod.build()
    machine = Machine(accel=_accel(accel, art), smp=smp or (2 if pathfinder else 1))
    if pathfinder:
        panels = []
        for title, kernel in [("with priority inheritance", art),
                              ("without it (kernel built with BREAK=pi)", build_mod.build("pi"))]:
            print(f"vigil: pathfinder {title}", file=sys.stderr)
            r = tracecmd.run_traced(kernel, machine, ["/bin/pathfinder", "inherit", "200"], {},
                                    True, timeout, show=False)
            print("".join(x for x in r.output.splitlines(keepends=True)
                          if x.startswith("pathfinder: high")), end="")
            if r.trace is None:
                sys.exit(f"vigil: no trace ({r.error})")
            print(tracecmd.summary(r.trace))
            panels.append(traceplot.pathfinder_panel(f"pathfinder {title}", r.trace,
                                                     tracecmd.resolver(kernel)))
        out = traceplot.plot(panels, Path(plot or ROOT / "build" / "trace" / "pathfinder.png"))
        print(f"vigil: timeline in {out}", file=sys.stderr)
        return
    if "--" not in sys.argv or sys.argv.index("--") + 1 >= len(sys.argv):
        print("usage: ./vigil trace [--plot out.png] [--smp N] [--initrd] -- PROG ARGS...\n"
              "       ./vigil trace --pathfinder [--plot out.png]", file=sys.stderr)
        sys.exit(2)
    argv = sys.argv[sys.argv.index("--") + 1:]
    files: dict[str, Path] = {}
    host = Path(argv[0])
    if "/" in argv[0] and host.is_file():
        argv[0] = f"/bin/{host.name}" if initrd else f"/usr/local/bin/{host.name}"
        files[argv[0]] = host.resolve()
    r = tracecmd.run_traced(art, machine, argv, files, initrd, timeout)
    if r.trace is None:
        print(f"\nvigil: no trace ({r.error})", file=sys.stderr)
        sys.exit(125)
    print(tracecmd.summary(r.trace))
    for p in trace_mod.problems(r.trace)[:10]:
        print(f"trace: inconsistent: {p}")
    if plot:
        title = " ".join(argv)
        title = title if len(title) <= 90 else title[:87] + "..."
        out = traceplot.plot([traceplot.Panel(title, r.trace, tracecmd.resolver(art))], Path(plot))
        print(f"vigil: timeline in {out}", file=sys.stderr)
    if r.status is None:
        sys.exit(125)
    sys.exit(r.status if r.status >= 0 else 128 - r.status)


def _run_on_debian_root(argv: list[str], files: dict[str, Path], accel: str, timeout: int,
                        smp: int, initrd: bool = False) -> None:
    """Boot Vigil on a fresh copy of the Debian root (or, with initrd, on
    the initrd) running argv with files staged in, stream the console, and
    exit with the program's status (128+N for signal N, 125 if Vigil
    itself failed)."""
    from harness.execute import debian_root, make_initrd
    from harness.image import disk_args
    from harness.qemu import Session

    art = build_mod.build()
    machine = Machine(accel=_accel(accel, art), smp=smp)
    with tempfile.TemporaryDirectory() as d:
        if initrd:
            image = make_initrd(art, Path(d) / "initrd.cpio", argv, dict(files))
            cmd = qemu_command(art, "", machine, initrd=image)
        else:
            disk = debian_root(art, Path(d) / "root.img", argv, dict(files))
            machine.extra += disk_args(disk)
            cmd = qemu_command(art, "root=/dev/vda", machine, initrd=art.initrd)
        with Session(cmd, Path(d) / "console.log") as s:
            s.child.logfile_read = _Tee(s.child.logfile_read)
            ex = s.wait_exit(timeout)
            _, status, kernel_lines = parse_console(s.output)
    _report_missing_syscalls(kernel_lines)
    if ex.kind != "ok" or status is None:
        print(f"\nvigil: run ended badly ({ex.kind})", file=sys.stderr)
        sys.exit(125)
    sys.exit(status if status >= 0 else 128 - status)


@task(help={"path": "an x86-64 Linux binary on the host", "accel": "kvm, tcg or auto",
            "timeout": "seconds before giving up", "smp": "CPUs",
            "initrd": "the old mode: the initrd of Vigil's programs is the (read-only) root",
            "dest": "where the binary goes in the root (default /usr/local/bin/NAME; "
                    "/bin/NAME with --initrd)"})
def exec(c: Context, path: str, accel: str = "", timeout: int = 300, smp: int = 1,  # noqa: A001
         initrd: bool = False, dest: str = "") -> None:
    """Run PATH on Vigil as the program init runs: `invoke exec PATH -- ARGS...`.

    The root is a fresh copy of the Debian image (writable; the program's
    working directory is /root, its libraries are the image's), or with
    --initrd the initrd. Streams the console, and exits with the program's
    exit status (128+N if a signal N killed it; 125 if Vigil itself failed)."""
    if _help_asked("exec", path):
        return
    binary = Path(path).resolve()
    # The words after "--", exactly as the shell passed them (invoke's own
    # remainder string has lost the quoting).
    rest = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else shlex.split(c.remainder)
    where = dest or (f"/bin/{binary.name}" if initrd else f"/usr/local/bin/{binary.name}")
    _run_on_debian_root([where, *rest], {where: binary}, accel, timeout, smp, initrd)


def _report_missing_syscalls(kernel_lines: tuple[str, ...]) -> None:
    """After a run, list the system calls the program needed and Vigil lacks
    (the kernel reports each once), by name, and where to add them."""
    import re

    from harness import syscalls

    nrs = [int(m.group(1)) for x in kernel_lines
           if (m := re.match(r"vigil: syscall (\d+) not implemented", x))]
    if nrs:
        names = ", ".join(syscalls.describe(nr) for nr in nrs)
        print(f"\nvigil: the program called syscalls Vigil lacks: {names} "
              "(kernel/sys/syscalls.def lists them all)", file=sys.stderr)


class _Tee:
    """Show the console on our stdout while the session logs it."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner

    def write(self, b: bytes) -> None:
        self.inner.write(b)
        sys.stdout.buffer.write(b.replace(b"\r", b""))
        sys.stdout.flush()

    def flush(self) -> None:
        self.inner.flush()


@task(help={"k": "only tests matching this expression", "n": "parallel workers",
            "accel": "kvm, tcg or auto", "x": "stop at the first failure"})
def test(c: Context, k: str = "", n: str = "2", accel: str = "", x: bool = False) -> None:
    """Run the test suite (pytest)."""
    build_mod.build()
    if accel:
        os.environ["VIGIL_ACCEL"] = accel
    args = [sys.executable, "-m", "pytest", "-n", n]
    if k:
        args += ["-k", k]
    if x:
        args.append("-x")
    sys.exit(subprocess.call(args, cwd=ROOT))


@task(help={"switch": "only this break switch (repeatable)"}, iterable=["switch"])
def matrix(c: Context, switch: list[str] | None = None) -> None:
    """Build each broken kernel, run the tests guarding that mechanism, and
    print whether they caught its absence (every row must say caught)."""
    from harness import matrix as matrix_mod

    sys.exit(matrix_mod.main(list(switch or [])))


@task(help={"accel": "kvm or tcg (default: what the tests use; see README)",
            "vs_linux": "also run them on Debian's Linux kernel, interleaved",
            "repeat": "boots per kernel (the table shows medians)",
            "only": "only this benchmark (repeatable)", "ms": "minimum time per benchmark",
            "json": "print JSON instead of the table", "chart": "PNG of the ratios",
            "profile": "instead: sample where Vigil spends one benchmark's time (TCG)"},
      iterable=["only"])
def bench(c: Context, accel: str = "", vs_linux: bool = False, repeat: int = 3,
          only: list[str] | None = None, ms: int = 300, json: bool = False,
          chart: str = "build/bench/ratios.png", profile: str = "") -> None:
    """Micro-benchmarks (user/bench) on Vigil, and side by side with Linux in
    the same QEMU with --vs-linux; see docs/bench.md."""
    from harness import bench as bench_mod

    art = build_mod.build()
    names = list(only or []) or bench_mod.BENCHMARKS
    unknown = set(names + ([profile] if profile else [])) - set(bench_mod.BENCHMARKS)
    if unknown:
        sys.exit(f"bench: unknown benchmark(s) {sorted(unknown)}; one of {bench_mod.BENCHMARKS}")
    if profile:
        from harness import benchprof

        samples, line = benchprof.profile(art, profile, ROOT / "build" / "bench" / "profile",
                                          ms=max(ms, 3000))
        print(line or f"bench {profile}: no result line")
        print(f"{sum(samples.values())} samples of the vCPU's instruction pointer:")
        for where, n, pct in benchprof.report(samples, 20):
            print(f"  {pct:5.1f}%  {n:6d}  {where}")
        return
    chosen = accel or _accel("", art)
    notes: list[str] = []
    if not accel and chosen == "tcg" and accel_mod.kvm_openable():
        notes.append("auto chose TCG: /dev/kvm opens, but Vigil's user programs fail the KVM "
                     "probe on this machine (see README); --accel kvm tries anyway")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    from harness.linux import LinuxUnavailable

    try:
        report = bench_mod.run(art, chosen, vs_linux, repeat, names, ms=ms,
                               workdir=ROOT / "build" / "bench", log=log)
    except LinuxUnavailable as e:
        sys.exit(f"bench: no Linux to compare with: {e}")
    report.notes[:0] = notes
    saved = ROOT / "build" / "bench" / "results.json"
    saved.write_text(report.to_json())
    log(f"bench: results in {saved}")
    if json:
        print(report.to_json())
    else:
        bench_mod.print_table(report)
    png = bench_mod.write_chart(report, ROOT / chart) if vs_linux else None
    if png:
        log(f"bench: chart of the ratios in {png}")


@task(help={"filter_": "only tests whose name matches this glob (repeatable)",
            "jobs": "QEMU machines at once per kernel", "json": "print JSON",
            "vs_linux": "also run the same binaries on Debian's Linux in the same QEMU",
            "src": "LTP source tree (default: shared/ltp beside the checkout)",
            "smp": "CPUs per machine", "mem": "memory per machine",
            "save": "write the JSON report here too",
            "list_": "only the tests named in this file (e.g. tests/ltp-pass.txt)"},
      iterable=["filter_"])
def ltp(c: Context, filter_: list[str] | None = None, jobs: int = 1, json: bool = False,
        vs_linux: bool = False, src: str = "", smp: int = 1, mem: str = "512M",
        save: str = "build/ltp/results.json", list_: str = "") -> None:
    """The Linux Test Project's runtest/syscalls inside Vigil (and Linux with
    --vs-linux): every test TPASS/TFAIL/TBROK/TCONF/HANG/PANIC with the lines
    that failed; see docs/ltp.md."""
    from harness import ltp as ltp_mod
    from harness.linux import LinuxUnavailable

    art = build_mod.build()
    patterns = list(filter_ or [])
    if list_:
        patterns += ltp_mod.read_list(Path(list_))
    try:
        source = ltp_mod.find_source(src or None)
        report = ltp_mod.run(art, source, patterns, jobs, vs_linux, smp=smp,
                             mem=mem, quiet=json)
    except (ltp_mod.LtpUnavailable, LinuxUnavailable) as e:
        sys.exit(f"ltp: ERROR: {e}")
    out = ROOT / save
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.to_json())
    if json:
        print(report.to_json())
    else:
        ltp_mod.print_report(report)
        print(f"ltp: results in {out}", file=sys.stderr)


@task(help={"workload": "a shipped workload (seq1, seq2, applog, fdatasync, sync, dirfsync, "
                        "replace, reuse, refill, evict), the path of a static binary, or all",
            "all_": "every shipped workload's full state set, with a table of the figures",
            "states": "check this many states, sampled with the seed (0: all)",
            "seed": "seed for sampling large flush epochs and the states checked",
            "jobs": "QEMU processes at once", "break_": "a broken kernel (e.g. journal)",
            "args": "the workload's arguments ({dir}: its directory; default {dir})",
            "accel": "kvm, tcg or auto"})
def crash(c: Context, workload: str, all_: bool = False, states: int = 0, seed: int = 0,
          jobs: int = 0, break_: str = "", args: str = "", accel: str = "") -> None:
    """Record WORKLOAD's disk writes and flushes, build every crash state the
    disk contract allows, and check that Vigil's recovery keeps its promises
    in each (docs/invariants.md: crash consistency). --all: every shipped
    workload, whole (long: run it in the background)."""
    from harness import crashexplore

    if _help_asked("crash", workload):
        return
    if all_ or workload == "all":
        sys.exit(crashexplore.cli_all(seed=seed, jobs=jobs, break_=break_ or None, accel=accel))
    sys.exit(crashexplore.cli(workload, states=states, seed=seed, jobs=jobs,
                              break_=break_ or None, args=shlex.split(args) or None,
                              accel=accel))


@task(help={"images": "mutated images to try", "seed": "seed for the mutations",
            "per_disk": "images per disk (GPT partitions, one boot each; at most 128)",
            "accel": "kvm, tcg or auto", "smp": "CPUs"})
def fsfuzz(c: Context, images: int = 1000, seed: int = 1, per_disk: int = 100, accel: str = "",
           smp: int = 1) -> None:
    """Mutate ext3 images (superblock, group descriptors, inodes, indirect
    blocks, directory entries, the journal; random bit flips) and have Vigil
    mount, walk, read, write and unmount each: any errno is fine, a panic,
    fault or hang is not (harness/fsfuzz.py)."""
    from harness import fsfuzz as fz

    art = build_mod.build()
    machine = Machine(accel=_accel(accel, art), smp=smp)
    res = fz.run_fuzz(art, machine, ROOT / "build" / "fsfuzz", images, seed,
                      per_disk=min(per_disk, 128))
    rate = res.images / max(res.seconds, 1)
    print(f"fsfuzz: {res.images} images in {res.seconds:.0f} s ({rate:.1f}/s, {res.boots} boots): "
          f"{res.refused} refused at mount, {res.mounted} mounted, "
          f"{len(res.failures)} failures")
    print(f"  deepest kernel stack: {res.deepest_stack} bytes of 16384")
    for why, n in sorted(res.refusals.items(), key=lambda kv: -kv[1]):
        print(f"  refused: {why}: {n}")
    for f in res.failures:
        print(f"  FAILURE {f}")
    if res.failures:
        print("  (kept under build/fsfuzz/failures/: image and console for each)")
    sys.exit(1 if res.failures else 0)


@task(help={"seed": "trinity's random seed (repeatable: one boot per seed)",
            "ops": "syscalls per seed", "smp": "CPUs", "children": "trinity's child processes",
            "accel": "kvm, tcg or auto", "timeout": "seconds per seed before giving up",
            "hungtask": "seconds in D state before a thread is reported",
            "vs_linux": "also run the same trinity on Debian's Linux in the same QEMU "
                        "(its ops/s beside Vigil's)",
            "profile": "sample the vCPUs' instruction pointers while trinity runs "
                       "and print where Vigil's time went",
            "jobs": "seeds at once (each its own QEMU; the console goes only to the logs)",
            "trinity": "trinity arguments in place of -q, e.g. \"-q --enable-fds=inotify\"",
            "quiet": "seconds of console silence before the kernel is asked for a thread dump"},
      iterable=["seed"])
def fuzz(c: Context, seed: list[int] | None = None, ops: int = 100000, smp: int = 2,
         children: int = 2, accel: str = "", timeout: int = 0,
         hungtask: int = 30, vs_linux: bool = False, profile: bool = False,
         jobs: int = 1, trinity: str = "", quiet: int = 600) -> None:
    """Debian's trinity inside Vigil as an unprivileged user, per seed:
    zero panics, lockdep reports and hung tasks, frames and kernel heap back
    to baseline (harness/fuzz.py; figures in docs/fuzz.md). Every verdict
    is also appended to build/fuzz/results.txt."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from harness import fuzz as fz

    logs = ROOT / "build" / "fuzz"
    logs.mkdir(parents=True, exist_ok=True)
    # The build as it was at the start: a rebuild meanwhile changes no boot.
    art = fz.snapshot(build_mod.build(), logs / "build")
    machine = Machine(accel=_accel(accel, art), smp=smp)
    limit = timeout or 600 + ops // 10
    lock = threading.Lock()

    def say(lines: list[str]) -> None:
        with lock:
            print("\n".join(lines), flush=True)
            with open(logs / "results.txt", "a") as f:
                f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + lines[0].lstrip() + "\n")

    def one(s: int) -> bool:
        log = logs / f"seed-{s}.log"
        sampler = fz.Sampler(logs / f"monitor-{s}.sock", art.kernel_elf, 0.002) if profile else None
        verdict, wall = fz.run(art, machine, s, ops, children, log, timeout=limit,
                               hungtask=hungtask, sampler=sampler, stream=jobs <= 1,
                               trinity_args=tuple(trinity.split()), quiet=quiet)
        lines = [f"\n{verdict.line()} [{wall:.0f} s wall, console in {log.relative_to(ROOT)}]"]
        if sampler is not None:
            from harness import benchprof

            total = sum(sampler.samples.values())
            lines.append(f"fuzz: profile: {total} samples (both CPUs) while trinity ran")
            lines += [f"  {pct:5.1f}%  {n:6}  {where}"
                      for where, n, pct in benchprof.report(sampler.samples, 30)]
            lines.append("fuzz: profile: the spinning functions' callers (% of all samples)")
            lines += [f"  {100.0 * n / max(total, 1):5.1f}%  {n:6}  {where}"
                      for where, n in sampler.callers.most_common(12)]
        lines += [f"  {what}" for what in (*verdict.panics, *verdict.lockdep, *verdict.watchdog)]
        if verdict.leaks and verdict.held:
            lines.append("fuzz: blocks allocated during the run and still held, by site "
                         "(a leak is among them):")
            lines += [f"  {what}" for what in verdict.held]
        if vs_linux:
            llog = logs / f"seed-{s}-linux.log"
            lv, lwall = fz.run(art, machine, s, ops, children, llog, timeout=limit,
                               kernel="linux", stream=False)
            rate = (lv.ops / lv.seconds) if lv.seconds else 0.0
            vrate = (verdict.ops / verdict.seconds) if verdict.seconds else 0.0
            ratio = f"{vrate / rate:.2f}" if rate else "?"
            lines.append(f"fuzz: linux: seed {s}: {lv.ops} ops in {lv.seconds:.0f} s "
                         f"({rate:.0f} ops/s), trinity {lv.trinity or 'did not report'} "
                         f"[{lwall:.0f} s wall, console in {llog.relative_to(ROOT)}]; "
                         f"Vigil/Linux ops/s {ratio}")
        say(lines)
        return verdict.ok

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        oks = list(pool.map(one, [int(x) for x in seed or [1]]))
    sys.exit(0 if all(oks) else 1)


@task
def lint(c: Context) -> None:
    """ruff over the Python side."""
    sys.exit(subprocess.call([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT))


@task(help={"cmdline": "kernel command line"})
def debug(c: Context, cmdline: str = "") -> None:
    """Boot under QEMU paused for gdb, and attach gdb with the kernel's symbols."""
    art = build_mod.build()
    machine = Machine(accel="tcg", extra=["-s", "-S"])
    cmd = qemu_command(art, cmdline, machine, initrd=art.initrd)
    cmd[cmd.index("-serial") + 1] = "file:" + str(ROOT / "build" / "debug-console.log")
    qemu = subprocess.Popen(cmd)
    print("vigil: console output goes to build/debug-console.log", file=sys.stderr)
    try:
        subprocess.call(["gdb", "-q", "-x", str(ROOT / "harness" / "gdbinit"), str(art.kernel_elf)])
    finally:
        qemu.kill()


@task
def clean(c: Context) -> None:
    """Remove everything built, and the Python tools' caches."""
    subprocess.call(["make", "clean"], cwd=ROOT)
    for d in [ROOT / ".pytest_cache", ROOT / ".ruff_cache", *ROOT.glob("*/__pycache__")]:
        shutil.rmtree(d, ignore_errors=True)


@task(help={"files": "kernel C files to mutate (globs, comma-separated; default: "
                     "kernel/mm, kernel/proc, kernel/sys, kernel/fs/journal.c)",
            "budget": "mutants to build and test, spread over the files (0: all)",
            "seed": "which mutants the budget picks", "jobs": "mutants at once",
            "list": "only count the mutants per file and show the mapped tests",
            "recheck": "test the survivors of build/mutate/report.json again "
                       "(report in build/mutate/recheck/)",
            "markdown": "only print a saved report (this path) as Markdown"})
def mutate(c: Context, files: str = "", budget: int = 40, seed: int = 0, jobs: int = 1,
           list: bool = False, recheck: bool = False, markdown: str = "") -> None:  # noqa: A002
    """Mutation testing of the INVARIANT-tagged functions and syscall checks:
    mutate (universalmutator), build, run the mapped tests, report the score
    and every survivor (build/mutate/report.json; docs/mutation.md)."""
    from harness import mutate as mutate_mod

    if markdown:
        print(mutate_mod.markdown(Path(markdown)))
        return
    globs = [g.strip() for g in files.replace(",", " ").split() if g.strip()]
    sys.exit(mutate_mod.main(globs, budget, seed, jobs, list_only=list, recheck=recheck))


@task(help={"minutes": "how long the workload runs", "seconds": "or this many seconds",
            "smp": "CPUs", "mem": "guest memory", "seed": "the workload's seed",
            "accel": "kvm, tcg or auto", "keep": "keep the disk and console log here"})
def soak(c: Context, minutes: float = 0, seconds: int = 0, smp: int = 2, mem: str = "256M",
         seed: int = 1, accel: str = "", keep: str = "") -> None:
    """A mixed workload (file churn with fsync and rename, bash pipelines,
    threads, pipes, memory) on Vigil for a while, judged from outside:
    no kernel trouble, e2fsck clean, every promised file as promised."""
    from harness.soak import soak as run_soak

    art = build_mod.build()
    secs = seconds or int(minutes * 60) or 300
    machine = Machine(accel=_accel(accel, art), smp=smp, mem=mem)
    print(f"soak: {secs} s on {smp} CPUs, {mem}, seed {seed}", flush=True)
    v = run_soak(art, secs, machine, seed, Path(keep) if keep else None,
                 on_output=lambda b: (sys.stdout.buffer.write(b.replace(b"\r", b"")),
                                      sys.stdout.flush()))
    print("\n" + "\n".join(v.lines()))
    sys.exit(0 if v.ok else 1)
