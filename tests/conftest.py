"""Fixtures: the built kernel, the accelerator, and a `vigil` helper that
boots it with each run's console saved under the test's tmp dir (and shown
in the report when the test fails)."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import accel as accel_mod
from harness.build import Artifacts, build
from harness.execute import ProgramRun, run_on_host, run_on_vigil
from harness.image import make_ext3
from harness.qemu import Machine, Run, Session, qemu_command, run

_LOGS = pytest.StashKey[list[Path]]()


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
        return run(self.art, cmdline, self.machine(**kw), self._log("boot"),
                   initrd=self.art.initrd if initrd else None, timeout=timeout)

    def program(self, argv: list[str], files: dict[str, Path | bytes] | None = None,
                timeout: float = 120, root_disk: Path | None = None,
                **kw: object) -> ProgramRun:
        """Run argv[0] as init's one program: from the initrd, or from the
        root_disk image mounted as the root file system."""
        return run_on_vigil(self.art, argv, self.machine(**kw), self._log("program"),
                            files, timeout, root_disk)

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

    def session(self, cmdline: str = "", **kw: object) -> Session:
        """An interactive boot (the shell on the console)."""
        cmd = qemu_command(self.art, cmdline, self.machine(**kw), initrd=self.art.initrd)
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
