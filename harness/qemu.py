"""Boot Vigil in QEMU with its serial console on a pty, and watch it.

Every wait has a timeout, QEMU is always killed on the way out, and the
whole console output is written to a log file as it arrives (so even a hung
guest leaves a log to read)."""

from __future__ import annotations

import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pexpect

from .build import Artifacts
from .config import EXIT_OK, EXIT_PANIC, EXIT_TEST_FAIL, QBOOT


@dataclass
class Machine:
    """What kind of PC to boot: a default the tests share, varied per test."""

    accel: str = "tcg"
    mem: str = "256M"
    # VIGIL_SMP=N runs every test that does not ask for a count on N CPUs.
    smp: int = field(default_factory=lambda: int(os.environ.get("VIGIL_SMP", "1")))
    # VIGIL_QEMU_EXTRA="-icount shift=0" adds QEMU options to every boot (guest
    # time counting instructions: timing-bound tests under a loaded host).
    extra: list[str] = field(default_factory=lambda: os.environ.get("VIGIL_QEMU_EXTRA", "").split())


def accel_args(accel: str) -> list[str]:
    if accel == "kvm":
        # This machine's paravirtual KVM rejects -cpu host as is (MSR 0x10a).
        return ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
    return ["-accel", "tcg", "-cpu", "max,-arch-capabilities"]


def qemu_command(
    art: Artifacts,
    cmdline: str,
    machine: Machine,
    initrd: Path | None = None,
    interactive: bool = False,
) -> list[str]:
    cmd = [
        "qemu-system-x86_64", "-M", "pc", "-m", machine.mem, "-smp", str(machine.smp),
        "-no-reboot", "-display", "none", "-bios", str(QBOOT),
        "-kernel", str(art.kernel_mb), "-append", cmdline,
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]
    if initrd is not None:
        cmd += ["-initrd", str(initrd)]
    # Interactive: Ctrl-A X quits, Ctrl-A C reaches the monitor. Either way
    # the keys reach the guest as bytes: Ctrl-C is 0x03 for Vigil's terminal
    # (mon:stdio passes it; a plain stdio chardev would turn it into SIGINT
    # for QEMU unless signal=off).
    cmd += (["-serial", "mon:stdio"] if interactive else
            ["-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0", "-monitor", "none"])
    return cmd + accel_args(machine.accel) + machine.extra


@dataclass(frozen=True)
class Exit:
    kind: str  # ok | test-fail | panic | reset | error | killed | timeout
    guest_code: int | None
    qemu_status: int | None

    @classmethod
    def from_status(cls, status: int | None, signal: int | None) -> Exit:
        if status is None:
            return cls("killed", None, None)
        if status & 1 and status > 1:
            code = status >> 1
            kinds = {EXIT_OK: "ok", EXIT_TEST_FAIL: "test-fail", EXIT_PANIC: "panic"}
            kind = kinds.get(code, "other")
            return cls(kind, code, status)
        # 0: -no-reboot turned a reset (triple fault) into an exit; 1: QEMU failed.
        return cls("reset" if status == 0 else "error", None, status)


class _Log:
    """pexpect logfile: the console output, '\r' removed, flushed as it comes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f: IO[bytes] = open(path, "wb")
        self.data = bytearray()

    def write(self, b: bytes) -> None:
        b = b.replace(b"\r", b"")
        self.data += b
        self._f.write(b)
        self._f.flush()

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


class Session:
    """A running guest. Use as a context manager."""

    def __init__(self, cmd: list[str], log_path: Path) -> None:
        self.cmd = cmd
        self.log_path = log_path
        self._log = _Log(log_path)
        # QEMU keeps the tty's output processing; without ONLCR the guest's
        # \r\n arrives as sent.
        shell = "stty -onlcr 2>/dev/null; exec " + shlex.join(cmd)
        self.child = pexpect.spawn("/bin/sh", ["-c", shell], timeout=30, echo=False)
        self.child.logfile_read = self._log
        self.exit: Exit | None = None

    @property
    def output(self) -> str:
        """Everything the guest printed so far, without carriage returns."""
        return self._log.data.decode("utf-8", "replace")

    def expect(self, pattern: str | bytes, timeout: float = 30) -> pexpect.spawn:
        """Wait for a regex in the console output; raises on timeout or exit.
        A "\n" in the pattern also matches the "\r\n" the terminal sends."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        pattern = pattern.replace(b"\\n", b"\r*\n").replace(b"\n", b"\r*\n")
        self.child.expect(pattern, timeout=timeout)
        return self.child.match

    def sendline(self, line: str) -> None:
        self.child.send(line.encode() + b"\n")

    def wait_exit(self, timeout: float = 60) -> Exit:
        """Wait for QEMU to end; on timeout kill it and say so."""
        try:
            self.child.expect(pexpect.EOF, timeout=timeout)
        except pexpect.TIMEOUT:
            self.kill()
            self.exit = Exit("timeout", None, None)
            return self.exit
        self.child.close()
        self.exit = Exit.from_status(self.child.exitstatus, self.child.signalstatus)
        return self.exit

    def kill(self) -> None:
        """Pull the plug: SIGKILL, so QEMU cannot flush or close anything
        (SIGTERM/SIGHUP would let it flush its disks on the way out)."""
        if self.child.isalive():
            self.child.kill(signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.child.isalive() and time.monotonic() < deadline:
                time.sleep(0.01)

    def close(self) -> None:
        self.kill()
        self._log.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Run:
    output: str
    exit: Exit
    log_path: Path


def run(
    art: Artifacts,
    cmdline: str,
    machine: Machine,
    log_path: Path,
    initrd: Path | None = None,
    timeout: float = 120,
) -> Run:
    """Boot, let the guest run until it powers off (or timeout), return all."""
    with Session(qemu_command(art, cmdline, machine, initrd), log_path) as s:
        ex = s.wait_exit(timeout)
        return Run(s.output, ex, log_path)
