"""`./vigil fuzz`: Debian's trinity inside Vigil, and the verdict on the kernel.

Why: Vigil's own syscall fuzzer (user/tests/sysfuzz.c) was written by the
people who wrote the kernel, and so knows what the kernel expects. trinity
is the field's: it knows each syscall's argument types, makes real file
descriptors, mappings and sockets for them, and has found bugs in Linux for
a decade. Whatever it does as an unprivileged user, the kernel must answer
with an errno or by ending only the offending process.

The run: a fresh copy of the Debian root, N CPUs (2 by default), and init
runs user/tests/fuzzrun.c (root), which warms the caches with a short
trinity run, reads the kernel's memory counters, runs trinity as nobody
with the seed for N ops (`trinity -q -l off -s SEED -N OPS -C CHILDREN`,
its default syscall set), kills what is left of nobody's, syncs, and reads
the counters again. The console streams to the terminal. The verdict, from
the console alone (`parse`, unit-tested):
  - zero panics, faults in kernel mode and broken checked rules ("PANIC",
    "EXCEPTION", a subsystem's "BUG: "),
  - zero lockdep reports ("lockdep:"),
  - zero watchdog reports: a CPU stuck with the kernel lock or interrupts
    off, or a hung task (a thread in D state for hungtask=N seconds),
  - free frames and the kernel heap (bytes, and blocks per size class) back
    to the baseline, as tests/test_leaks.py demands of other workloads,
  - and the run ended: trinity exited, fuzzrun reported, init powered off.

`--vs-linux` runs the same fuzzrun, the same trinity command, on the same
disk, on Debian's Linux in the same QEMU (TCG, CPUs, memory): a busybox
/init mounts the disk, chroots into it and runs fuzzrun as Vigil's init
would. Only trinity's rate is compared (ops/s: the figure docs/fuzz.md and
docs/bench.md keep as a ratio); Linux has no Vigil* counters in
/proc/meminfo, so its leak lines read -1 and are not a verdict.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .build import Artifacts
from .execute import debian_root
from .image import disk_args
from .ltp import LINUX_DISK_UP
from .qemu import Machine, Session, qemu_command

FUZZRUN = "/usr/lib/vigil/bin/fuzzrun"
# A hung task is reported after this many seconds in D state (the kernel's
# default is 30; the fuzz run uses its own, so a test can shorten it).
HUNGTASK_SECS = 30

_PANIC = re.compile(r"^(.*(PANIC|EXCEPTION vector).*|[a-z0-9_]+: BUG: .*)$", re.M)
_LOCKDEP = re.compile(r"^lockdep:.*$", re.M)
_WATCHDOG = re.compile(r"^watchdog: (CPU \d+ has|hung task:).*$", re.M)
_TRINITY = re.compile(r"^fuzzrun: trinity (exit status|killed by signal) (\d+)$", re.M)
_OPS = re.compile(r"^fuzzrun: ops (\d+) seconds ([\d.]+)$", re.M)
_LEFT = re.compile(r"^fuzzrun: processes of nobody left (\d+)$", re.M)
_HELD = re.compile(r"^fuzzrun: held: (.+)$", re.M)
_DUMP = re.compile(r"^threads: CPU 0, tick \d+: a dump", re.M)
_GAVE_UP = re.compile(r"^fuzz: given up: (.+)$", re.M)
_ITER = re.compile(r"^\[main\] (\d+) iterations", re.M)
_STARTED = re.compile(r"trinity-c\d+|\[main\]")


def _pair(console: str, what: str) -> tuple[str, str] | None:
    m = re.search(rf"^{what} before (.+) after (.+)$", console, re.M)
    return (m.group(1).strip(), m.group(2).strip()) if m else None


@dataclass(frozen=True)
class Verdict:
    seed: int
    ops: int
    ended: bool  # fuzzrun reported and the guest powered off
    trinity: str  # "exit status 0", "killed by signal 9", or "" if never reported
    seconds: float  # trinity's run as the guest timed it (0: unknown)
    panics: list[str] = field(default_factory=list)
    lockdep: list[str] = field(default_factory=list)
    watchdog: list[str] = field(default_factory=list)
    frames: tuple[str, str] | None = None
    heap_bytes: tuple[str, str] | None = None
    heap_objects: tuple[str, str] | None = None
    nobody_left: int = -1
    held: list[str] = field(default_factory=list)  # the heap tracer's sites, when a count moved
    dumps: int = 0  # thread dumps the console printed (it went silent: QuietWatch)
    given_up: str = ""  # why the harness ended the run (QuietWatch), or ""
    reached: int = 0  # trinity's last "[main] N iterations" progress line

    @property
    def leaks(self) -> list[str]:
        out = []
        for name, pair in (("free frames", self.frames), ("heap bytes", self.heap_bytes),
                           ("heap objects", self.heap_objects)):
            if pair is None:
                out.append(f"{name}: not reported")
            elif pair[0] != pair[1]:
                out.append(f"{name}: {pair[0]} -> {pair[1]}")
        return out

    @property
    def hung(self) -> list[str]:
        return [x for x in self.watchdog if "hung task:" in x]

    @property
    def ok(self) -> bool:
        return (self.ended and self.trinity == "exit status 0" and not self.panics
                and not self.lockdep and not self.watchdog and not self.leaks
                and self.nobody_left == 0)

    def line(self) -> str:
        """The one-line verdict, with the figures."""
        rate = self.ops / self.seconds if self.seconds else 0.0
        leaks = "; ".join(self.leaks) or "frames and heap back to baseline"
        state = "PASS" if self.ok else "FAIL"
        ended = "" if self.ended else ", the run did not end"
        if self.dumps:
            ended += f" (silent: {self.dumps} thread dumps in the console log)"
        if self.given_up:
            ended += f" (given up: {self.given_up}; trinity had reached {self.reached} calls)"
        return (f"fuzz: {state}: seed {self.seed}: {self.ops} ops in {self.seconds:.0f} s "
                f"({rate:.0f} ops/s), trinity {self.trinity or 'did not report'}{ended}: "
                f"{len(self.panics)} panics, {len(self.lockdep)} lockdep reports, "
                f"{len(self.hung)} hung tasks, {len(self.watchdog) - len(self.hung)} stalls; "
                f"{leaks}")


def parse(console: str, seed: int, ops: int, powered_off: bool) -> Verdict:
    """The verdict from a fuzz run's console."""
    console = console.replace("\r", "")
    t = _TRINITY.search(console)
    o = _OPS.search(console)
    left = _LEFT.search(console)
    return Verdict(
        seed=seed, ops=int(o.group(1)) if o else ops,
        ended=bool(o) and powered_off,
        trinity=f"{t.group(1)} {t.group(2)}" if t else "",
        seconds=float(o.group(2)) if o else 0.0,
        panics=[m.group(0) for m in _PANIC.finditer(console)],
        lockdep=[m.group(0) for m in _LOCKDEP.finditer(console)],
        watchdog=[m.group(0) for m in _WATCHDOG.finditer(console)],
        frames=_pair(console, "free frames"), heap_bytes=_pair(console, "heap bytes"),
        heap_objects=_pair(console, "heap objects"),
        nobody_left=int(left.group(1)) if left else -1,
        held=[m.group(1) for m in _HELD.finditer(console)],
        dumps=len(_DUMP.findall(console)),
        given_up=g.group(1) if (g := _GAVE_UP.search(console)) else "",
        reached=max((int(x) for x in _ITER.findall(console)), default=0))


class _Tee:
    """Show the console on a stream while the session logs it; last: when
    the guest last printed (time.monotonic)."""

    def __init__(self, inner, out, sampler=None) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.out, self.sampler = inner, out, sampler
        self.last = time.monotonic()

    def write(self, b: bytes) -> None:
        self.last = time.monotonic()
        self.inner.write(b)
        if self.out is not None:
            self.out.write(b.replace(b"\r", b""))
            self.out.flush()
        if self.sampler is not None:
            self.sampler.feed(b)

    def flush(self) -> None:
        self.inner.flush()


def snapshot(art: Artifacts, dest: Path) -> Artifacts:
    """A copy of the kernel, the initrd and the Debian root image under dest,
    so that a rebuild while a long run goes on changes none of its boots."""
    import shutil

    (dest / "rootfs").mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copies = {}
    for name, src in [("kernel.elf", art.kernel_elf), ("kernel.mb.elf", art.kernel_mb),
                      ("initrd.cpio", art.initrd)]:
        copies[name] = dest / f"{stamp}-{name}"
        shutil.copy2(src, copies[name])
    image = dest / "root.img"           # (Artifacts.root_image: beside rootfs)
    tmp = dest / f"root.img.{stamp}"
    subprocess.run(["cp", "--reflink=auto", "--sparse=always", str(art.root_image), str(tmp)],
                   check=True)
    tmp.replace(image)                  # a boot under way keeps its own copy already
    return Artifacts(art.dir, copies["kernel.elf"], copies["kernel.mb.elf"],
                     copies["initrd.cpio"], dest / "rootfs")


# trinity stops at the first new taint of Linux's; Debian's kernel taints
# itself (TAINT_AUX, "Using fanotify permission checks may lead to
# deadlock") the first time anyone asks fanotify for permission events,
# which trinity as nobody does within a few thousand calls. Every flag
# trinity can name is still watched (WARN, DIE, BAD_PAGE...). Vigil has no
# taint to speak of: its runs pass nothing.
LINUX_TAINTS = ("PROPRIETARY_MODULE,FORCED_MODULE,UNSAFE_SMP,FORCED_RMMOD,MACHINE_CHECK,"
                "BAD_PAGE,USER,DIE,OVERRIDDEN_ACPI_TABLE,WARN,CRAP,FIRMWARE_WORKAROUND,"
                "OOT_MODULE")

# Linux's /init: the disk as ltp.LINUX_INIT mounts it (/tmp stays on the
# disk, as on Vigil), then fuzzrun with the harness's arguments.
LINUX_INIT = LINUX_DISK_UP.replace("WHO", "fuzz") + r"""cd /mnt
$B chroot /mnt ARGV
$B sync
$B poweroff -f
"""


def linux_command(art: Artifacts, machine: Machine, disk: Path, argv: list[str],
                  workdir: Path) -> list[str]:
    """QEMU booting Debian's Linux on disk, running argv (in the disk's root)."""
    from dataclasses import replace

    from .ltp import _busybox, linux_initramfs

    busybox = _busybox(art.root_image)
    vmlinuz, initramfs = linux_initramfs(busybox, workdir / "linux-initramfs.cpio",
                                         init=LINUX_INIT.replace("ARGV", " ".join(argv)))
    m = Machine(accel=machine.accel, mem=machine.mem, smp=machine.smp,
                extra=[*machine.extra, *disk_args(disk)])
    return qemu_command(replace(art, kernel_mb=vmlinuz),
                        "console=ttyS0 quiet panic=-1 rdinit=/init", m, initrd=initramfs)


_WORDS = re.compile(r"^[0-9a-f]+: 0x([0-9a-f]+) 0x([0-9a-f]+)", re.M)


class Sampler:
    """`--profile`: while trinity runs, every few milliseconds ask QEMU's
    monitor for every vCPU's registers (`info registers -a`) and count the
    instruction pointers by kernel function (benchprof.classify: [user],
    [idle], or the function). The samples start when the main run's trinity
    prints its banner (the warm-up's output goes to /dev/null) and stop
    when fuzzrun reports.

    A spinning CPU says little by itself: for a sample in one of the lock
    functions (SPINNERS), the frame-pointer chain is read from the guest's
    stack (`x /2gx RBP`, the kernel keeps frame pointers) up to the first
    function that is not one of them, and counted in `callers` as
    "spin_acquire <- caller" (which lock is contended, from where)."""

    SPINNERS = ("spin_acquire", "spin_lock_irqsave", "spin_lock_noirq", "kernel_lock",
                "lapic_send_icr", "tlb_shootdown", "cpu_relax")

    def __init__(self, sock: Path, elf: Path, interval: float) -> None:
        from collections import Counter

        from .benchprof import resolver

        self.sock, self.interval = sock, interval
        self.resolve = resolver(elf)
        self.samples: Counter[str] = Counter()
        self.callers: Counter[str] = Counter()
        self.running = threading.Event()
        self.stop = threading.Event()
        self._tail = b""
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from .benchprof import Monitor, classify

        mon = Monitor(self.sock, timeout=120)
        try:
            while not self.stop.is_set():
                if not self.running.wait(0.5):
                    continue
                for i, regs in enumerate(mon.command("info registers -a").split("CPU#")[1:]):
                    where = classify(regs, self.resolve)
                    if where:
                        self.samples[where] += 1
                    if where in self.SPINNERS:
                        caller = self._caller(mon, i, regs)
                        self.callers[f"{where} <- {caller}"] += 1
                time.sleep(self.interval)
        except (OSError, EOFError):
            pass
        finally:
            mon.close()

    def _caller(self, mon, cpu: int, regs: str) -> str:  # type: ignore[no-untyped-def]
        """The first function up the frame-pointer chain that is not a
        spinner (the vCPU has moved on meanwhile: a best effort)."""
        m = re.search(r"RBP=([0-9a-f]{16})", regs)
        if not m:
            return "?"
        mon.command(f"cpu {cpu}")
        rbp = int(m.group(1), 16)
        for _ in range(6):
            w = _WORDS.search(mon.command(f"x /2gx {rbp:#x}"))
            if not w:
                return "?"
            rbp, ret = int(w.group(1), 16), int(w.group(2), 16)
            hit = self.resolve(ret)
            name = hit[0] if hit else f"{ret:#x}"
            if name not in self.SPINNERS:
                return name
        return "?"

    def feed(self, data: bytes) -> None:
        seen = self._tail + data  # a marker may straddle two reads
        self._tail = seen[-32:]
        if b"Trinity 20" in seen:
            self.running.set()
        if b"fuzzrun: ops " in seen:
            self.running.clear()
            self.stop.set()


class QuietWatch:
    """A machine whose console has been silent for `quiet` seconds is asked
    what its threads are doing: a break on its serial line (the monitor's
    chardev-send-break), which Vigil answers with a thread dump on the
    console (kernel/debug/watchdog.c), at most `most` times per run; silent
    for `quiet` seconds more after that, the run is given up (give_up: e.g.
    the session's kill), rather than waiting hours for its timeout."""

    def __init__(self, sock: Path, tee: _Tee, quiet: float, most: int = 3,
                 give_up: Callable[[], None] | None = None) -> None:
        self.sock, self.tee, self.quiet, self.most = sock, tee, quiet, most
        self.give_up = give_up
        self.sent = 0
        self.gave_up = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from .benchprof import Monitor

        since = time.monotonic()
        while not self.stop.wait(5):
            now = time.monotonic()
            if now - max(self.tee.last, since) < self.quiet:
                continue
            if self.sent >= self.most:
                if self.give_up is not None:
                    self.gave_up = True
                    self.give_up()
                return
            try:
                mon = Monitor(self.sock, timeout=10)
                mon.command("chardev-send-break con0")
                mon.close()
                self.sent += 1
            except (OSError, EOFError):
                return
            since = now


def run(art: Artifacts, machine: Machine, seed: int, ops: int, children: int,
        log_path: Path, timeout: float, warmup: int = 2000,
        hungtask: int = HUNGTASK_SECS, stream: bool = True,
        kernel: str = "vigil", sampler: Sampler | None = None,
        trinity_args: tuple[str, ...] = (), quiet: float = 600) -> tuple[Verdict, float]:
    """One fuzz run on kernel (vigil | linux); the verdict and the
    wall-clock seconds it took. With a sampler, its counts fill while
    trinity runs. trinity_args replace fuzzrun's -q (to chase a finding:
    -v, -c NAME, --enable-fds=...). A Vigil console silent for `quiet`
    seconds gets a serial break: the kernel prints its threads."""
    argv = [FUZZRUN, str(seed), str(ops), str(children), str(warmup), *trinity_args]
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as d:
        if kernel == "linux":
            disk = debian_root(art, Path(d) / "root.img", [])
            cmd = linux_command(art, machine, disk, [*argv, "-q", "-T", LINUX_TAINTS], Path(d))
        else:
            disk = debian_root(art, Path(d) / "root.img", argv)
            m = Machine(accel=machine.accel, mem=machine.mem, smp=machine.smp,
                        extra=[*machine.extra, *disk_args(disk)])
            cmd = qemu_command(art, f"root=/dev/vda hungtask={hungtask}", m, initrd=art.initrd)
        mon_sock = sampler.sock if sampler is not None else Path(d) / "monitor.sock"
        if kernel != "linux":
            mon_sock.unlink(missing_ok=True)
            cmd[cmd.index("-monitor") + 1] = f"unix:{mon_sock},server=on,wait=off"
        with Session(cmd, log_path) as s:
            tee = _Tee(s.child.logfile_read, sys.stdout.buffer if stream else None, sampler)
            s.child.logfile_read = tee
            watched = sampler is None and kernel != "linux"
            watch = QuietWatch(mon_sock, tee, quiet, give_up=s.kill) if watched else None
            if sampler is not None:
                sampler.thread.start()
            if watch is not None:
                watch.thread.start()
            ex = s.wait_exit(timeout)
            console = s.output
            if watch is not None:
                watch.stop.set()
                if watch.gave_up:
                    console += (f"\nfuzz: given up: the console silent for {quiet:.0f} s "
                                f"after {watch.sent} thread dumps\n")
        if sampler is not None:
            sampler.stop.set()
            sampler.running.set()
            sampler.thread.join(5)
    wall = time.monotonic() - start
    # Linux's poweroff -f ends QEMU with status 0 (Exit calls that "reset").
    done = ex.kind == "ok" or (kernel == "linux" and ex.kind == "reset")
    return parse(console, seed, ops, done), wall
