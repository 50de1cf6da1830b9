"""`./vigil soak`: a mixed workload on Vigil for minutes or hours, judged
from outside.

Inside (harness/soak_guest.py, run by Debian's python3 on a fresh copy of
the Debian root): file churn that promises files only once they are
fsync'd and renamed into place, bash pipelines that must print the same
every round, threads under one lock, pipes, memory filled and read back,
and a checker reading every promised file every 20 s.

Outside, once the guest has powered off: the console must hold no kernel
trouble (panic, lockdep, exception, hung task, use-after-free, OOM kill),
the workload must say "problems 0", e2fsck -fn must find the disk clean,
and debugfs - not Vigil - must read every promised file with the promised
SHA-256. That last check is the durability promise seen from the disk.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .build import Artifacts
from .execute import debian_root, parse_console
from .image import disk_args, fsck
from .qemu import Machine, Session, qemu_command

GUEST = Path(__file__).with_name("soak_guest.py")
# Kernel trouble: whatever the kernel says when a promise broke, and any
# process it had to kill (the workload fits in memory; nothing may die).
TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION|watchdog:)|panic|use-after-free|hung task"
                     r"|out of memory|Out of memory|killed by SIG", re.M)


@dataclass
class Verdict:
    seconds: float
    summary: str                    # the workload's last line
    status: int | None
    exit_kind: str
    trouble: list[str] = field(default_factory=list)
    fsck_ok: bool = False
    fsck_report: str = ""
    promised: int = 0
    bad_files: list[str] = field(default_factory=list)
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return (self.exit_kind == "ok" and self.status == 0 and not self.trouble
                and self.fsck_ok and not self.bad_files and "problems 0" in self.summary)

    def lines(self) -> list[str]:
        out = [f"workload: {self.summary or '(no summary: the guest never finished)'}",
               f"guest: {self.exit_kind}, status {self.status}",
               f"kernel trouble on the console: {len(self.trouble)}"
               + (f" (first: {self.trouble[0]!r})" if self.trouble else ""),
               f"e2fsck -fn: {'clean' if self.fsck_ok else 'NOT CLEAN'}",
               f"promised files read by debugfs: {self.promised - len(self.bad_files)} "
               f"of {self.promised} as promised"]
        out += [f"  {b}" for b in self.bad_files[:10]]
        out.append(f"verdict: {'PASS' if self.ok else 'FAIL'}"
                   + (f"  (console log: {self.log})" if self.log else ""))
        return out


def promised_files(tree: Path) -> dict[str, str]:
    """name -> sha256 from the manifests in a copy of /root/soak."""
    files: dict[str, str] = {}
    for m in sorted(tree.glob("manifest.*")):
        for line in m.read_text().splitlines():
            a, b = line.split()
            if a == "-":
                files.pop(b, None)
            else:
                files[a] = b
    return files


def judge_disk(image: Path, scratch: Path) -> tuple[bool, str, int, list[str]]:
    """e2fsck, then every promised file as debugfs reads it."""
    ok, report = fsck(image)
    out = scratch / "soak-dump"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(["debugfs", "-R", f"rdump /root/soak {out}", str(image)],
                   capture_output=True, check=False)
    tree = out / "soak"
    files = promised_files(tree) if tree.exists() else {}
    bad = []
    for name, digest in sorted(files.items()):
        f = tree / "files" / name
        got = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else "missing"
        if got != digest:
            bad.append(f"{name}: {got[:16]}, promised {digest[:16]}")
    return ok, report, len(files), bad


def soak(art: Artifacts, seconds: int, machine: Machine, seed: int = 1,
         workdir: Path | None = None,
         on_output: Callable[[bytes], None] | None = None) -> Verdict:
    """Run the workload for `seconds` on a fresh Debian root; judge it."""
    keep = workdir is not None
    wd = workdir or Path(tempfile.mkdtemp(prefix="vigil-soak-"))
    wd.mkdir(parents=True, exist_ok=True)
    argv = ["/usr/bin/python3", "/usr/local/bin/vigil-soak", str(seconds), str(seed)]
    disk = debian_root(art, wd / "root.img", argv, {"/usr/local/bin/vigil-soak": GUEST})
    m = Machine(accel=machine.accel, mem=machine.mem, smp=machine.smp,
                extra=[*machine.extra, *disk_args(disk)])
    cmd = qemu_command(art, "root=/dev/vda", m, initrd=art.initrd)
    log = wd / "console.log"
    with Session(cmd, log) as s:
        if on_output:
            inner = s.child.logfile_read

            class _Tee:
                def write(self, b: bytes) -> None:
                    inner.write(b)
                    on_output(b)

                def flush(self) -> None:
                    inner.flush()

            s.child.logfile_read = _Tee()
        ex = s.wait_exit(seconds + 900)
        console = s.output
    output, status, _ = parse_console(console)
    summary = next((x for x in reversed(output.splitlines()) if x.startswith("soak: ")), "")
    v = Verdict(seconds, summary, status if ex.kind == "ok" else None, ex.kind, log=log)
    v.trouble = [x for x in console.splitlines() if TROUBLE.search(x)]
    v.trouble += [x for x in output.splitlines() if x.startswith("soak problem:")]
    v.fsck_ok, v.fsck_report, v.promised, v.bad_files = judge_disk(disk, wd)
    if not keep and v.ok:
        shutil.rmtree(wd, ignore_errors=True)
        v.log = None
    return v
