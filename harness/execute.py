"""Run one user program on Vigil (as the thing init runs) or on the host, so
the two can be compared. This is the contract behind `invoke exec`:

  Vigil boots with a root holding the program and /etc/autorun (the
  program's argv, NUL-separated); init runs it, waits, prints
  "init: exit status N" or "init: killed by signal N", and powers off.

The root is either the initrd (the usual tree of Vigil's programs, read-only)
or, with `debian_root`, a fresh copy of the Debian image (harness/debian.py)
with the files written into it by debugfs: writable, Debian's libraries and
environment, the program's working directory /root.
"""

from __future__ import annotations

import errno
import os
import pty
import re
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import initrd as cpio
from .build import Artifacts
from .image import disk_args
from .qemu import Machine, run

STARTED = "vigil: started /sbin/init as pid 1\n"
_STATUS = re.compile(r"init: (exit status|killed by signal) (\d+)\n")
# The environment init gives programs (user/init.c); the host run uses the same.
ENV = {"PATH": "/bin:/sbin", "HOME": "/", "TERM": "vt100"}
# ... and on the Debian root (user/init.c's debian_env; the working directory is /root).
DEBIAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "HOME": "/root", "TERM": "linux", "SHELL": "/bin/bash", "USER": "root",
              "LOGNAME": "root"}


@dataclass(frozen=True)
class ProgramRun:
    output: str  # what the program wrote to its terminal (stdout and stderr)
    status: int | None  # exit code, or -signal as subprocess reports it; None: unknown
    console: str = ""  # the whole console log (Vigil runs)
    log_path: Path | None = None
    kernel_lines: tuple[str, ...] = ()  # "vigil: ..." reports printed meanwhile


def diff_lines(guest: str, host: str) -> str:
    """The first lines where a program's output on Vigil and on the host
    differ (a comparison test's failure message)."""
    g, h = guest.splitlines(), host.splitlines()
    lines = [f"vigil: {a!r}\nlinux: {b!r}" for a, b in zip(g, h, strict=False) if a != b]
    if len(g) != len(h):
        lines.append(f"vigil printed {len(g)} lines, linux {len(h)}")
    return "\n".join(lines[:8])


def make_initrd(art: Artifacts, out: Path, argv: list[str],
                files: dict[str, Path | bytes] | None = None) -> Path:
    extra: dict[str, Path | bytes] = dict(files or {})
    extra["/etc/autorun"] = b"".join(a.encode() + b"\0" for a in argv)
    out.write_bytes(cpio.build(art.rootfs, extra))
    return out


def debian_root(art: Artifacts, out: Path, argv: list[str],
                files: dict[str, Path | bytes] | None = None) -> Path:
    """A fresh copy of build/root.img at out, holding files (guest path ->
    host file or bytes; executable if the host file is) and, when argv is
    not empty, /etc/autorun. The cached image is never written."""
    subprocess.run(["cp", "--reflink=auto", "--sparse=always", str(art.root_image), str(out)],
                   check=True)
    extra: dict[str, Path | bytes] = dict(files or {})
    if argv:
        extra["/etc/autorun"] = b"".join(a.encode() + b"\0" for a in argv)
    cmds: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (guest, src) in enumerate(sorted(extra.items())):
            if not guest.startswith("/") or any(c in guest for c in " \n\"'"):
                raise ValueError(f"{guest!r}: a guest path is absolute, without spaces or quotes")
            host = Path(tmp) / str(i)
            host.write_bytes(src if isinstance(src, bytes) else src.read_bytes())
            mode = 0o755 if isinstance(src, Path) and os.access(src, os.X_OK) else 0o644
            parent = guest.rsplit("/", 1)[0]
            parts = [p for p in parent.split("/") if p]
            cmds += [f"mkdir /{'/'.join(parts[:n])}" for n in range(1, len(parts) + 1)]
            cmds += [f"rm {guest}", f"write {host} {guest}",
                     f"sif {guest} mode 0{0o100000 | mode:o}", f"sif {guest} uid 0",
                     f"sif {guest} gid 0"]
        _debugfs(out, cmds, write=True)
        # debugfs goes on past a failed command: read each file back.
        _debugfs(out, [f"dump {guest} {Path(tmp) / f'{i}.back'}"
                       for i, guest in enumerate(sorted(extra))])
        for i, _ in enumerate(sorted(extra)):
            back = Path(tmp) / f"{i}.back"
            if not back.exists() or back.read_bytes() != (Path(tmp) / str(i)).read_bytes():
                raise RuntimeError(f"debugfs could not write {sorted(extra)[i]} into {out}")
    return out


def _debugfs(image: Path, cmds: list[str], write: bool = False) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs") as f:
        f.write("\n".join(cmds) + "\n")
        f.flush()
        subprocess.run(["debugfs", *(["-w"] if write else []), "-f", f.name, str(image)],
                       capture_output=True, check=True)


def parse_console(console: str) -> tuple[str, int | None, tuple[str, ...]]:
    """Split a console log into the program's output, its status, and the
    kernel's own report lines."""
    start = console.find(STARTED)
    body = console[start + len(STARTED):] if start >= 0 else ""
    matches = list(_STATUS.finditer(body))
    status: int | None = None
    if matches:
        m = matches[-1]
        status = int(m.group(2)) if m.group(1) == "exit status" else -int(m.group(2))
        body = body[: m.start()]
    lines = body.splitlines(keepends=True)
    kernel = tuple(x.rstrip("\n") for x in lines if x.startswith("vigil: "))
    program = "".join(x for x in lines if not x.startswith("vigil: "))
    return program, status, kernel


def run_on_vigil(art: Artifacts, argv: list[str], machine: Machine, log_path: Path,
                 files: dict[str, Path | bytes] | None = None, timeout: float = 120,
                 root_disk: Path | None = None, debian: bool = False,
                 kernel_args: str = "") -> ProgramRun:
    """With root_disk (an ext2/ext3 image), the disk is the root file system
    and argv travels on the kernel command line (so no spaces in it). With
    debian, a fresh copy of the Debian image beside log_path is the root,
    with files and argv written into it. kernel_args go on the kernel's
    command line too (e.g. "nopku")."""
    image = make_initrd(art, log_path.with_suffix(".cpio"), argv, None if debian else files)
    cmdline = ""
    if debian:
        disk = debian_root(art, log_path.with_suffix(".img"), argv, files)
        machine = replace(machine, extra=[*machine.extra, *disk_args(disk)])
        cmdline = "root=/dev/vda"
    elif root_disk is not None:
        if any(not a or " " in a for a in argv):
            raise ValueError("arguments for a disk-rooted run cannot be empty or hold spaces")
        machine = replace(machine, extra=[*machine.extra, *disk_args(root_disk)])
        cmdline = "root=/dev/vda -- " + " ".join(argv)
    cmdline = f"{kernel_args} {cmdline}".strip() if kernel_args else cmdline
    r = run(art, cmdline, machine, log_path, initrd=image, timeout=timeout)
    output, status, kernel = parse_console(r.output)
    if r.exit.kind != "ok":
        status = None
    return ProgramRun(output, status, r.output, log_path, kernel)


def run_on_host(root: Path, argv: list[str], timeout: float = 60,
                debian: bool = False) -> ProgramRun:
    """Run argv[0] from the directory tree root (the initrd's tree) on the
    host, chrooted there so every path the program sees is the one it sees on
    Vigil, on a pseudo-terminal as on Vigil's console (stdio buffers alike).
    debian: root is a copy of the Debian image's tree (debian.image_tree),
    the program gets what init gives it there (DEBIAN_ENV, cwd /root), its
    own /proc (a mount and PID namespace, so it sees itself) and the host's
    /dev."""
    master, slave = pty.openpty()
    pre: Callable[[], None] | None = None
    if debian:  # Debian's programs use /proc and /dev: a mount namespace with them
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        inner = 'mount --rbind /dev "$0/dev" && exec unshare --root="$0" --wd=/root "$@"'
        cmd = ["unshare", *user, "--mount", "--pid", "--fork", f"--mount-proc={root}/proc",
               "sh", "-c", inner, str(root), *argv]
    elif os.geteuid() == 0:
        def enter_root() -> None:
            os.chroot(root)
            os.chdir("/")

        cmd, pre = argv, enter_root
    else:
        cmd = ["unshare", "--user", "--map-root-user", f"--root={root}", *argv]
    def child_setup() -> None:
        # As init starts a program on Vigil: every signal at its default. A pytest-xdist
        # worker ignores SIGINT, and an ignored signal survives exec: python3 then installs
        # no SIGINT handler and bash handles it otherwise (one rt_sigaction less in a trace).
        for sig in (signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        if pre:
            pre()

    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                            env=DEBIAN_ENV if debian else ENV,
                            preexec_fn=child_setup, start_new_session=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None and not select.select([master], [], [], 0)[0]:
            break
    else:
        proc.kill()
    os.close(master)
    status = proc.wait(timeout=10)
    return ProgramRun(out.decode("utf-8", "replace").replace("\r", ""), status)
