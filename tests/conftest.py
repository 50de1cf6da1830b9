"""Fixtures: the built kernel, the accelerator, and a `vigil` helper that
boots it with each run's console saved under the test's tmp dir (and shown
in the report when the test fails)."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness import accel as accel_mod
from harness.build import Artifacts, build
from harness.config import KSTACK_BYTES, KSTACK_LIMIT, ROOT
from harness.execute import ProgramRun, run_on_host, run_on_vigil
from harness.image import disk_args, make_ext3
from harness.qemu import Machine, Run, Session, qemu_command, run

_LOGS = pytest.StashKey[list[Path]]()

# Kernel memory safety, checked on every boot a test makes through `vigil`:
# no watchdog report (a CPU stuck with the kernel lock or interrupts off, or
# a thread asleep in D state past hungtask=N seconds),
# and no kernel stack deeper than three quarters of its 16 KiB (the kernel
# measures painted stacks and reports the deepest at power-off).
# Every run's figure goes to a file of this pytest run's (workers append;
# a nested run, as the matrix makes, has its own); the summary at the end
# names the deepest.
_KSTACK = re.compile(r"vigil: kernel stacks: deepest use (\d+) of (\d+) bytes")
_KSTACK_ENV = "VIGIL_KSTACK_LOG"


def kernel_bug(console: str, subsystem: str = "[a-z0-9_]+") -> str | None:
    """The first line in which the kernel reports one of its own rules
    broken ("vfs: BUG: ...", "mm: BUG: ..."), or None."""
    m = re.search(rf"^{subsystem}: BUG: .*$", console, re.M)
    return m.group(0) if m else None


@contextlib.contextmanager
def host_tmpfs_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory on the host's tmpfs (/dev/shm), mode 0755 as
    Vigil's test directories are, removed afterwards: the host side of a
    comparison on tmpfs."""
    d = Path(tempfile.mkdtemp(prefix=f"vigil-{prefix}-", dir="/dev/shm"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_kernel_health(console: str) -> None:
    stuck = re.search(r"watchdog: (CPU \d+|hung task:) .*", console)
    assert not stuck, f"the kernel stalled: {stuck.group(0)}"
    bug = kernel_bug(console)
    assert not bug, f"the kernel found its own rule broken: {bug}"
    for m in _KSTACK.finditer(console):
        used = int(m.group(1))
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        if os.environ.get(_KSTACK_ENV):
            with open(os.environ[_KSTACK_ENV], "a") as f:
                f.write(f"{used} {test}\n")
        assert used <= KSTACK_LIMIT, (
            f"a kernel stack went {used} bytes deep (limit {KSTACK_LIMIT} of {m.group(2)})")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):              # the controller, before its workers
        path = ROOT / "build" / f"kstack-seen-{os.getpid()}.txt"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        os.environ[_KSTACK_ENV] = str(path)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    path = Path(os.environ.get(_KSTACK_ENV, "/nonexistent"))
    if hasattr(config, "workerinput") or not path.exists():
        return
    seen = [line.split(" ", 1) for line in path.read_text().splitlines() if line]
    path.unlink()
    if seen:
        used, test = max(seen, key=lambda x: int(x[0]))
        terminalreporter.write_line(
            f"kernel stacks: deepest use in {len(seen)} boots: {used} of {KSTACK_BYTES} bytes "
            f"(limit {KSTACK_LIMIT}), in {test.strip()}")


@pytest.fixture(scope="session")
def art() -> Artifacts:
    """The kernel under test: the real one, or with the mechanism named by
    VIGIL_BREAK removed (the invariant matrix sets it)."""
    return build(os.environ.get("VIGIL_BREAK") or None)


@pytest.fixture(scope="session")
def accel(art: Artifacts) -> str:
    return accel_mod.choose(art)


class Vigil:
    """Boot helpers bound to one test (its tmp dir, its log list)."""

    def __init__(self, art: Artifacts, accel: str, tmp: Path, logs: list[Path]) -> None:
        self.art = art
        self.accel = accel
        self.tmp = tmp
        self.logs = logs
        self._n = itertools.count()

    def _log(self, what: str) -> Path:
        p = self.tmp / f"console-{next(self._n)}-{what}.log"
        self.logs.append(p)
        return p

    def machine(self, **kw: object) -> Machine:
        return Machine(accel=self.accel, **kw)  # type: ignore[arg-type]

    def boot(self, cmdline: str, timeout: float = 120, initrd: bool = False, **kw: object) -> Run:
        """Boot to completion (the kernel powers off or panics)."""
        r = run(self.art, cmdline, self.machine(**kw), self._log("boot"),
                initrd=self.art.initrd if initrd else None, timeout=timeout)
        check_kernel_health(r.output)
        return r

    def program(self, argv: list[str], files: dict[str, Path | bytes] | None = None,
                timeout: float = 120, root_disk: Path | None = None, debian: bool = False,
                kernel_args: str = "", check: bool = True, **kw: object) -> ProgramRun:
        """Run argv[0] as init's one program: from the initrd, from the
        root_disk image mounted as the root file system, or (debian) on a
        fresh copy of the Debian root image with files written into it;
        kernel_args go on the kernel's command line. check=False leaves
        check_kernel_health to the test (to name its own symptom first)."""
        r = run_on_vigil(self.art, argv, self.machine(**kw), self._log("program"),
                         files, timeout, root_disk, debian, kernel_args)
        if check:
            check_kernel_health(r.console)
        return r

    def host(self, argv: list[str], root: Path | None = None) -> ProgramRun:
        """The same program from the same tree (by default the initrd's), on
        the host Linux."""
        return run_on_host(root or self.art.rootfs, argv)

    def scratch_disk(self, name: str = "disk", size_mb: int = 48,
                     block_size: int = 4096) -> tuple[Path, Path]:
        """The initrd's tree plus an empty /scratch, as a directory (for the
        host side of a comparison) and as an ext3 image made by mke2fs."""
        tree = self.tmp / f"{name}-tree"
        shutil.copytree(self.art.rootfs, tree, symlinks=True)
        (tree / "scratch").mkdir()
        return tree, make_ext3(tree, self.tmp / f"{name}.img", size_mb, block_size)

    def crash_after(self, cmdline: str, line: str, extra: list[str], delay: float = 0,
                    on_line: Callable[[], object] | None = None) -> str:
        """Boot with the disk arguments in extra, wait for `line` on the
        console (call on_line the moment it comes, e.g. to note where a
        write log stands; then wait `delay` seconds more), then pull the
        plug (SIGKILL). Returns the console output."""
        cmd = qemu_command(self.art, cmdline, self.machine(extra=extra), initrd=self.art.initrd)
        with Session(cmd, self._log("crash")) as s:
            s.expect(line, timeout=120)
            if on_line:
                on_line()
            time.sleep(delay)
            s.kill()
            return s.output

    def session(self, cmdline: str = "", root_disk: Path | None = None, **kw: object) -> Session:
        """An interactive boot (the shell on the console); with root_disk,
        that image is the root file system."""
        m = self.machine(**kw)
        if root_disk is not None:
            m.extra += disk_args(root_disk)
            cmdline = f"root=/dev/vda {cmdline}".strip()
        cmd = qemu_command(self.art, cmdline, m, initrd=self.art.initrd)
        return Session(cmd, self._log("session"))


@pytest.fixture
def vigil(request: pytest.FixtureRequest, art: Artifacts, accel: str, tmp_path: Path) -> Vigil:
    logs: list[Path] = []
    request.node.stash[_LOGS] = logs
    return Vigil(art, accel, tmp_path, logs)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.failed and call.when == "call":
        for log in item.stash.get(_LOGS, []):
            if log.exists():
                text = log.read_text(errors="replace")
                tail = "\n".join(text.splitlines()[-80:])
                report.sections.append((f"guest console {log}", tail))
    return report
