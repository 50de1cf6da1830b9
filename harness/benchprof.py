"""Where one benchmark spends Vigil's time: a sampling profile taken from
outside the guest. Vigil boots as `invoke bench` boots it, with only that
benchmark; while it runs, the host asks QEMU's monitor for the vCPU's
registers every few milliseconds and counts the instruction pointers by
kernel function (ring 3 counts as [user], a halted CPU as [idle]). Needs no
support in the kernel, and works the same under TCG and KVM."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from .bench import START, Bench
from .build import Artifacts
from .symbols import load

_RIP = re.compile(r"RIP=([0-9a-f]{16})")
_CPL = re.compile(r"CPL=(\d)")
_HLT = re.compile(r"HLT=(\d)")


class Monitor:
    """QEMU's human monitor on a unix socket."""

    def __init__(self, path: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self._read_prompt()

    def _read_prompt(self) -> str:
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("monitor closed")
            buf += chunk
        return buf.decode("utf-8", "replace")

    def command(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\n")
        return self._read_prompt()

    def close(self) -> None:
        self.sock.close()


def classify(regs: str, resolve) -> str | None:  # type: ignore[no-untyped-def]
    """One `info registers` answer -> the function it was in."""
    rip, cpl, hlt = _RIP.search(regs), _CPL.search(regs), _HLT.search(regs)
    if not rip:
        return None
    if hlt and hlt.group(1) == "1":
        return "[idle]"
    addr = int(rip.group(1), 16)
    if (cpl and cpl.group(1) == "3") or addr < 1 << 47:
        return "[user]"  # (a sample on the way in or out of a syscall can show CPL 0)
    hit = resolve(addr)
    return hit[0] if hit else f"[kernel {rip.group(1)}]"


def resolver(elf: Path):  # type: ignore[no-untyped-def]
    """addr -> (name, offset): the function containing it, else the nearest
    symbol below it (the assembly entry points have no size)."""
    import bisect

    syms = load(elf)
    named = sorted((a, n) for n, a in syms.all_names.items() if a >= 1 << 47)
    addrs = [a for a, _ in named]

    def resolve(addr: int) -> tuple[str, int] | None:
        hit = syms.resolve(addr)
        if hit:
            return hit
        i = bisect.bisect_right(addrs, addr) - 1
        return (named[i][1], addr - named[i][0]) if i >= 0 else None

    return resolve


def profile(art: Artifacts, name: str, workdir: Path, ms: int = 3000,
            interval: float = 0.002) -> tuple[Counter[str], str]:
    """(samples by function, the benchmark's own line)."""
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(art, workdir, [name], ms)
    cmd = bench.command("vigil", "tcg", [name], ms)
    sock = workdir / "monitor.sock"
    sock.unlink(missing_ok=True)
    cmd[cmd.index("-monitor") + 1] = f"unix:{sock},server=on,wait=off"
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    started, finished = threading.Event(), threading.Event()
    result = [""]

    def reader() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if line == START:
                started.set()
            elif line.startswith(f"bench {name} "):
                result[0] = line
                finished.set()
        started.set()
        finished.set()

    threading.Thread(target=reader, daemon=True).start()
    resolve = resolver(art.kernel_elf)
    samples: Counter[str] = Counter()
    try:
        mon = Monitor(sock)
        started.wait(120)
        time.sleep(0.05)  # past bench-run's own start-up
        while not finished.is_set():
            where = classify(mon.command("info registers"), resolve)
            if where:
                samples[where] += 1
            time.sleep(interval)
        mon.close()
    finally:
        proc.kill()
        proc.wait()
    return samples, result[0]


def report(samples: Counter[str], top: int = 15) -> list[tuple[str, int, float]]:
    total = sum(samples.values()) or 1
    return [(f, n, 100.0 * n / total) for f, n in samples.most_common(top)]
