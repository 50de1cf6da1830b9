"""`./vigil ltp`: the Linux Test Project's syscall tests on Vigil, and on
Debian's Linux in the same QEMU beside them.

Why this shape. LTP is the outside judge of the Linux ABI: its tests were
written by people who never saw Vigil. The release is pinned (VERSION
20260529) and never edited: the source is copied into build/ltp/src and
built there, once (a stamp names what was built; a second run builds
nothing). The tests are linked dynamically against glibc, as Debian's own
programs are: the Debian root image Vigil already boots has that glibc,
so each test costs ~0.1 MB instead of the ~1 MB of a static binary, and
the same binaries run unchanged on Linux. The build needs only what
Debian's packages give (autoconf, automake, bison, flex, gcc); this
machine's network reaches no Git host, so a machine without a source tree
(`--src`, $VIGIL_LTP_SRC, or shared/ltp beside an ancestor of the
checkout) gets a loud error naming what to do, never a silent skip.

The image is the Debian root's tree (harness/debian.image_tree) plus
/opt/ltp: the test binaries (stripped), runtest/syscalls and the runner
script. Each boot gets a fresh copy with /opt/ltp/vigil-batch, the tests
still to run; the runner (harness/ltpresult's markers) runs them one by
one. The host reads the console as it comes: a test whose end line does
not come within its limit is HANG, a guest that dies under a test is
PANIC, and either way the next boot goes on with the test after it. On
Linux the same image is the root, mounted by a busybox /init in an
initramfs that loads the disk's modules (harness/linux's list), then
chrooted into; the runner and the environment are the same."""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pexpect

from . import initrd as cpio
from .build import Artifacts
from .config import ROOT
from .image import disk_args, make_ext3
from .ltpresult import ConsoleReader, Entry, TestResult, binary_of, parse_runtest, summary
from .qemu import Machine, Session, qemu_command

RELEASE = "20260529"
BUILD = ROOT / "build" / "ltp"
PREFIX = "/opt/ltp"
IMAGE_MB = 1024
IMAGE_INODES = 65536
APT_NEEDS = ["autoconf", "automake", "bison", "flex", "pkg-config"]
# Per-test limits: the guest's `timeout` and, past it, the host's patience
# (the guest may be too stuck to run its own timeout).
GUEST_LIMIT_S = 240
HOST_SLACK_S = 60
BOOT_LIMIT_S = 240

RUNNER = r"""#!/bin/sh
# vigil-ltp-run: run the tests listed in /opt/ltp/vigil-batch ("NAME COMMAND"
# lines), each between two marker lines (harness/ltpresult.py reads them).
LTPROOT=/opt/ltp
export LTPROOT TMPDIR=/tmp KCONFIG_SKIP_CHECK=1 LTP_COLORIZE_OUTPUT=0
export LTP_TIMEOUT_MUL="${LTP_TIMEOUT_MUL:-3}"
export PATH="$LTPROOT/testcases/bin:/usr/sbin:/usr/bin:/sbin:/bin"
limit=$(cat "$LTPROOT/vigil-limit")
echo "<<<ltp:ready>>>"
while IFS= read -r line; do
    name=${line%% *}
    cmd=${line#* }
    cd /tmp || exit 1
    echo "<<<ltp:start $name>>>"
    t0=$(date +%s%N)
    timeout -k 10 "$limit" /bin/sh -c "$cmd" </dev/null 2>&1
    rc=$?
    t1=$(date +%s%N)
    echo "<<<ltp:end $name rc=$rc ms=$(( (t1 - t0) / 1000000 ))>>>"
done < "$LTPROOT/vigil-batch"
sync
echo "<<<ltp:done>>>"
"""

# Linux's /init in its initramfs: the modules, then the disk mounted on
# /mnt with /proc, /sys and /dev (LINUX_DISK_UP, which harness/fuzz.py's
# init shares; "WHO" names the init in its message) ...
LINUX_DISK_UP = r"""#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t devtmpfs dev /dev
for m in $($B cat /lib/modules/ltp/order); do $B insmod /lib/modules/ltp/$m; done
i=0
until $B mount -t ext4 /dev/vda /mnt 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && { echo "WHO-init: cannot mount /dev/vda"; exit 1; }
    $B sleep 0.05
done
$B mount -t proc proc /mnt/proc
$B mount -t sysfs sys /mnt/sys
$B mount -t devtmpfs dev /mnt/dev
"""
# ... then the same mounts Vigil makes at boot (tmpfs on /tmp, /run and
# /dev/shm; devpts), and the runner chrooted into the image.
LINUX_INIT = LINUX_DISK_UP.replace("WHO", "ltp") + r"""$B mkdir -p /mnt/dev/shm /mnt/dev/pts
$B mount -t tmpfs tmp /mnt/tmp
$B mount -t tmpfs run /mnt/run
$B mount -t tmpfs shm /mnt/dev/shm
$B mount -t devpts pts /mnt/dev/pts
cd /mnt
exec $B chroot /mnt /bin/sh /opt/ltp/vigil-ltp-run
"""


class LtpUnavailable(RuntimeError):
    """LTP's source is not on this machine and cannot be fetched."""


def log(msg: str) -> None:
    print(f"ltp: {msg}", file=sys.stderr, flush=True)


def find_source(given: str | None = None) -> Path:
    """--src, else $VIGIL_LTP_SRC, else shared/ltp beside the checkout or
    one of its ancestors (the project's machines and CI keep it there)."""
    candidates = [Path(given)] if given else []
    if os.environ.get("VIGIL_LTP_SRC"):
        candidates.append(Path(os.environ["VIGIL_LTP_SRC"]))
    if not given:
        candidates += [p / "shared" / "ltp" for p in ROOT.parents]
    for c in candidates:
        if (c / "runtest" / "syscalls").is_file() and (c / "configure.ac").is_file():
            version = (c / "VERSION").read_text().strip() if (c / "VERSION").exists() else "?"
            if version != RELEASE:
                log(f"WARNING: {c} is LTP {version}, not the pinned {RELEASE}")
            return c.resolve()
    raise LtpUnavailable(
        "no LTP source tree: looked at " + ", ".join(str(c) for c in candidates) +
        f". LTP {RELEASE} is not a Debian or PyPI package and this machine reaches no Git "
        "host, so it cannot be downloaded here: pass --src DIR (an unpacked "
        f"ltp-full-{RELEASE} tree) or set VIGIL_LTP_SRC")


def _source_key(src: Path) -> str:
    h = hashlib.sha256()
    for rel in ("VERSION", "runtest/syscalls", "configure.ac"):
        h.update((src / rel).read_bytes())
    h.update(str(src).encode())
    return h.hexdigest()[:16]


def _need_tools() -> None:
    missing = [p for p in APT_NEEDS if not shutil.which(p)]
    if not missing:
        return
    if os.geteuid() == 0:
        log(f"installing {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, check=True,
                       capture_output=True)
    else:
        raise LtpUnavailable(f"building LTP needs: sudo apt-get install {' '.join(missing)}")


# runtest/syscalls also runs a few programs that live elsewhere in the tree.
ELSEWHERE = ["testcases/kernel/security/dirtyc0w", "testcases/kernel/security/dirtyc0w_shmem",
             "testcases/kernel/security/dirtypipe", "testcases/kernel/security/prot_hsymlinks",
             "testcases/kernel/ipc/msgstress", "testcases/kernel/ipc/pipeio"]


def _dirs_of(src: Path, binaries: set[str]) -> list[Path]:
    """The test directories that build these binaries (a binary NAME comes
    from NAME.c in its directory; NAME_64 and NAME_16, the 64-bit-offset
    and 16-bit-ID variants, from NAME.c too)."""
    tops = [src / "testcases" / "kernel" / "syscalls", *(src / d for d in ELSEWHERE)]
    stems = binaries | {re.sub(r"_(64|16)$", "", b) for b in binaries}
    dirs = {c.parent for top in tops for c in top.rglob("*.c") if c.stem in stems}
    # A binary linked from differently named objects (nftw01 from nftw.c,
    # tools.c...) is named by its directory's Makefile (MAKE_TARGETS).
    for top in tops:
        for mk in top.rglob("Makefile"):
            text = mk.read_text(errors="replace")
            targets = re.findall(r"^MAKE_TARGETS\s*[:+]?=\s*(.*)$", text, re.M)
            if stems & {t for line in targets for t in line.split()}:
                dirs.add(mk.parent)
    return sorted(dirs)


def build(src: Path, binaries: set[str] | None = None, jobs: int = 2) -> Path:
    """Configure and build LTP in build/ltp/src (the library once, then the
    syscalls tests: all of them, or the directories of binaries). Returns
    the build tree. Cached: configure runs once per source; make is
    incremental and quick when nothing is left to do."""
    _need_tools()
    tree = BUILD / "src"
    key = _source_key(src)
    stamp = BUILD / "configured"
    if not stamp.exists() or stamp.read_text().strip() != key:
        log(f"copying {src} to {tree} and configuring (dynamic, against glibc)")
        shutil.rmtree(tree, ignore_errors=True)
        BUILD.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, tree, symlinks=True)
        for d, _, names in os.walk(tree):    # a read-only source (CI's shared/) stays so
            for x in [d, *(os.path.join(d, n) for n in names)]:
                if not os.path.islink(x):
                    os.chmod(x, os.stat(x).st_mode | stat.S_IWUSR)
        with open(BUILD / "build.log", "w") as out:
            for cmd in (["make", "autotools"], ["./configure", f"--prefix={PREFIX}"],
                        ["make", "-C", "lib", f"-j{jobs}"]):
                r = subprocess.run(cmd, cwd=tree, stdout=out, stderr=subprocess.STDOUT)
                if r.returncode:
                    raise RuntimeError(f"LTP build: {' '.join(cmd)} failed (see {out.name})")
        stamp.write_text(key + "\n")
    done = BUILD / "built-all"
    if binaries is None and done.exists() and done.read_text().strip() == key:
        return tree
    targets = [tree / "testcases/kernel/syscalls", *(tree / d for d in ELSEWHERE)] \
        if binaries is None else \
        [tree / d.relative_to(src) for d in _dirs_of(src, binaries)]
    if binaries is not None and done.exists() and done.read_text().strip() == key:
        return tree
    log(f"building {'all syscalls tests' if binaries is None else f'{len(targets)} test dirs'}"
        f" (log {BUILD / 'make.log'})")
    with open(BUILD / "make.log", "a") as out:
        for t in targets:       # -k: a test that does not build here is MISSING, not fatal
            subprocess.run(["make", "-C", str(t), f"-j{jobs}", "-k"], cwd=tree, stdout=out,
                           stderr=subprocess.STDOUT)
    if binaries is None:
        done.write_text(key + "\n")
    return tree


def _is_elf(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def install(tree: Path, entries: list[Entry], out: Path) -> Path:
    """/opt/ltp as the image holds it: every built program the entries run
    (stripped), the shell helpers beside them, runtest/syscalls and the
    runner. Returns out (the tree to lay over the Debian root); done again
    only when a built file or the runner changed."""
    top = tree / "testcases" / "kernel" / "syscalls"
    files = [*top.rglob("*"), *(q for d in ELSEWHERE for q in (tree / d).rglob("*"))]
    key = hashlib.sha256(RUNNER.encode() + str(GUEST_LIMIT_S).encode())
    for p in files:
        if p.is_file() and os.access(p, os.X_OK):
            st = p.stat()
            key.update(f"{p} {st.st_size} {st.st_mtime_ns}\n".encode())
    stamp = out.with_suffix(".key")
    if out.is_dir() and stamp.exists() and stamp.read_text() == key.hexdigest():
        return out
    shutil.rmtree(out, ignore_errors=True)
    bindir = out / PREFIX.lstrip("/") / "testcases" / "bin"
    bindir.mkdir(parents=True)
    wanted = {binary_of(e) for e in entries}
    for p in files:
        if p.name in wanted and p.is_file() and os.access(p, os.X_OK) and \
                not (bindir / p.name).exists():
            shutil.copy2(p, bindir / p.name)
    # the helper programs some tests exec (e.g. execve's, kill's children)
    for p in files:
        if p.is_file() and os.access(p, os.X_OK) and _is_elf(p) and \
                not (bindir / p.name).exists() and not p.name.endswith((".o", ".so")):
            shutil.copy2(p, bindir / p.name)
    elves = [str(p) for p in bindir.iterdir() if _is_elf(p)]
    for i in range(0, len(elves), 200):
        subprocess.run(["strip", "-p", "--strip-unneeded", *elves[i:i + 200]],
                       capture_output=True)
    for d in (tree / "testcases" / "data",):
        if d.is_dir():
            shutil.copytree(d, out / PREFIX.lstrip("/") / "testcases" / "data",
                            dirs_exist_ok=True)
    ltp = out / PREFIX.lstrip("/")
    (ltp / "runtest").mkdir()
    shutil.copy2(tree / "runtest" / "syscalls", ltp / "runtest" / "syscalls")
    (ltp / "vigil-ltp-run").write_text(RUNNER)
    os.chmod(ltp / "vigil-ltp-run", 0o755)
    (ltp / "vigil-limit").write_text(f"{GUEST_LIMIT_S}\n")
    (ltp / "vigil-batch").write_text("")
    (ltp / "VERSION").write_text((tree / "VERSION").read_text())
    stamp.write_text(key.hexdigest())
    return out


def make_image(art: Artifacts, overlay: Path, out: Path) -> Path:
    """The Debian root's tree plus the overlay (/opt/ltp) as an ext3 image."""
    from . import debian

    key = hashlib.sha256()
    key.update(str(art.root_image.stat().st_mtime_ns).encode())
    for p in sorted(overlay.rglob("*")):
        if p.is_file():     # copies keep their mtime; the small files written anew, not
            st = p.stat()
            what = p.read_bytes() if st.st_size < 65536 else str(st.st_mtime_ns).encode()
            key.update(f"{p.relative_to(overlay)} {st.st_size}".encode() + what)
    stamp = out.with_suffix(".key")
    if out.exists() and stamp.exists() and stamp.read_text() == key.hexdigest():
        return out
    log(f"making {out}")
    tree = debian.image_tree(art.rootfs, BUILD / "image-tree")
    shutil.copytree(overlay, tree, dirs_exist_ok=True, symlinks=True)
    tmp = out.with_suffix(".tmp")
    if os.geteuid() == 0:
        make_ext3(tree, tmp, size_mb=IMAGE_MB, inodes=IMAGE_INODES)
    else:
        subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c",
                        "from pathlib import Path; from harness.image import make_ext3;"
                        f"make_ext3(Path({str(tree)!r}), Path({str(tmp)!r}), {IMAGE_MB},"
                        f" inodes={IMAGE_INODES})"], cwd=ROOT, check=True)
    tmp.rename(out)
    stamp.write_text(key.hexdigest())
    shutil.rmtree(BUILD / "image-tree", ignore_errors=True)
    return out


def linux_initramfs(image_tree_busybox: Path, out: Path,
                    init: str = LINUX_INIT) -> tuple[Path, Path]:
    """Debian's kernel and an initramfs with busybox, init (LINUX_INIT unless
    given: `./vigil fuzz --vs-linux` has its own) as /init and the disk's
    modules (in load order)."""
    from . import linux

    kernel = linux.fetch()
    parts: list[bytes] = []
    ino = 1

    def add(mode: int, name: str, data: bytes = b"") -> None:
        nonlocal ino
        parts.append(cpio.entry(ino, mode, name, data))
        ino += 1

    for d in ["bin", "dev", "proc", "mnt", "lib", "lib/modules", "lib/modules/ltp"]:
        add(stat.S_IFDIR | 0o755, d)
    parts.append(linux._node(ino, stat.S_IFCHR | 0o600, "dev/console", 5, 1))
    ino += 1
    add(stat.S_IFREG | 0o755, "bin/busybox", image_tree_busybox.read_bytes())
    add(stat.S_IFREG | 0o755, "init", init.encode())
    names = []
    for ko in linux.load_order(kernel.modules, linux.ROOT_MODULES):
        names.append(linux.module_name(ko) + ".ko")
        add(stat.S_IFREG | 0o644, f"lib/modules/ltp/{names[-1]}", linux.read_module(ko))
    add(stat.S_IFREG | 0o644, "lib/modules/ltp/order", "".join(n + "\n" for n in names).encode())
    parts.append(cpio.entry(0, 0, "TRAILER!!!"))
    out.write_bytes(b"".join(parts))
    return kernel.vmlinuz, out


def prepare(art: Artifacts, src: Path, binaries: set[str] | None, machine: Machine) -> Target:
    """Build (all of runtest/syscalls, or what runs binaries), install and
    make the image, one process at a time (test workers share build/ltp)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tree = build(src, binaries)
        entries = parse_runtest((src / "runtest" / "syscalls").read_text())
        overlay = install(tree, entries, BUILD / "overlay")
        image = make_image(art, overlay, BUILD / "ltp.img")
    return Target("vigil", art, image, machine)


@dataclass
class Target:
    """A kernel to run the tests on, and how to boot it with a disk."""

    kernel: str  # vigil | linux
    art: Artifacts
    image: Path
    machine: Machine
    linux_kernel: Path | None = None
    linux_initrd: Path | None = None

    def command(self, disk: Path) -> list[str]:
        machine = replace(self.machine, extra=[*self.machine.extra, *disk_args(disk)])
        if self.kernel == "vigil":
            return qemu_command(self.art, "root=/dev/vda", machine, initrd=self.art.initrd)
        assert self.linux_kernel and self.linux_initrd
        art = replace(self.art, kernel_mb=self.linux_kernel)
        return qemu_command(art, "console=ttyS0 quiet panic=-1 rdinit=/init", machine,
                            initrd=self.linux_initrd)


def run_shard(target: Target, entries: list[Entry], workdir: Path, shard: int,
              on_result: Callable[[str, TestResult], None]) -> list[TestResult]:
    """Run entries on target, boot after boot, until each has a result."""
    results: list[TestResult] = []
    todo = list(entries)
    boot = 0
    while todo:
        boot += 1
        tag = f"{target.kernel}-{shard}-{boot}"
        disk = workdir / f"{tag}.img"
        batch = "".join(f"{e.name} {e.command}\n" for e in todo).encode()
        argv = ["/bin/sh", f"{PREFIX}/vigil-ltp-run"] if target.kernel == "vigil" else []
        _fresh_disk(target.image, disk, argv, batch)
        reader = ConsoleReader()
        limit = BOOT_LIMIT_S
        why = ""
        with Session(target.command(disk), workdir / f"{tag}.log") as s:
            while True:
                try:
                    s.child.expect(rb"[^\n]*\n", timeout=limit)
                except pexpect.TIMEOUT:
                    why = f"no output for {limit} s: the guest is silent"
                    break
                except pexpect.EOF:
                    s.wait_exit(5)
                    why = f"the guest ended ({s.exit.kind if s.exit else '?'})"
                    break
                line = s.child.match.group(0).decode("utf-8", "replace").rstrip("\r\n")
                was = reader.current
                r = reader.feed(line)
                if r is not None:
                    results.append(r)
                    on_result(target.kernel, r)
                if reader.done:
                    break
                if reader.current is not None and reader.current != was:
                    deadline = time.monotonic() + GUEST_LIMIT_S + HOST_SLACK_S
                if reader.current is not None:
                    limit = max(1.0, deadline - time.monotonic())
                else:
                    limit = BOOT_LIMIT_S
            panicked = "panic" in why or "PANIC: " in s.output or "Kernel panic" in s.output
        disk.unlink(missing_ok=True)
        finished = {r.name for r in reader.results}
        if reader.done:
            break
        lost = reader.abandon("PANIC" if panicked else "CRASH" if "ended" in why else "HANG", why)
        if lost is not None:
            results.append(lost)
            on_result(target.kernel, lost)
            finished.add(lost.name)
        if not finished:
            raise RuntimeError(f"{target.kernel}: a boot ran no test ({why}); see "
                               f"{workdir / (tag + '.log')}")
        # The tests run in order: go on after the last one that finished.
        last = max(i for i, e in enumerate(todo) if e.name in finished)
        todo = todo[last + 1:]
    return results


def _fresh_disk(image: Path, disk: Path, argv: list[str], batch: bytes) -> None:
    from .execute import _debugfs

    subprocess.run(["cp", "--sparse=always", str(image), str(disk)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        b = Path(tmp) / "batch"
        b.write_bytes(batch)
        cmds = [f"rm {PREFIX}/vigil-batch", f"write {b} {PREFIX}/vigil-batch"]
        if argv:
            a = Path(tmp) / "autorun"
            a.write_bytes(b"".join(x.encode() + b"\0" for x in argv))
            cmds += ["rm /etc/autorun", f"write {a} /etc/autorun"]
        _debugfs(disk, cmds, write=True)


@dataclass
class Report:
    entries: list[Entry]
    results: dict[str, dict[str, TestResult]]  # kernel -> test name -> result
    notes: list[str]

    def to_json(self) -> str:
        kernels = list(self.results)
        tests = []
        for e in self.entries:
            row: dict[str, object] = {"name": e.name, "command": e.command}
            for k in kernels:
                r = self.results[k].get(e.name)
                row[k] = r.to_json() if r else None
            tests.append(row)
        counts = {k: summary(list(v.values())) for k, v in self.results.items()}
        return json.dumps({"release": RELEASE, "kernels": kernels, "counts": counts,
                           "notes": self.notes, "tests": tests}, indent=1)


def read_list(path: Path) -> list[str]:
    """The test names of a list file (tests/ltp-pass.txt): the first word of
    each line, '#' comments out."""
    return [x.split()[0] for x in path.read_text().splitlines()
            if x.strip() and not x.lstrip().startswith("#")]


def select(entries: list[Entry], patterns: list[str]) -> list[Entry]:
    if not patterns:
        return entries
    return [e for e in entries if any(fnmatch.fnmatchcase(e.name, p) for p in patterns)]


def run(art: Artifacts, src: Path, patterns: list[str], jobs: int, vs_linux: bool,
        smp: int = 1, mem: str = "512M", accel: str = "tcg",
        quiet: bool = False) -> Report:
    """Build, install and run; every result printed as it comes."""
    all_entries = parse_runtest((src / "runtest" / "syscalls").read_text())
    entries = select(all_entries, patterns)
    if not entries:
        raise ValueError(f"no test in runtest/syscalls matches {patterns}")
    binaries = None if not patterns else {binary_of(e) for e in entries}
    machine = Machine(accel=accel, mem=mem, smp=smp)
    vigil = prepare(art, src, binaries, machine)
    image = vigil.image
    workdir = BUILD / "runs" / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    # The kernel as it was at the start: a rebuild meanwhile changes no boot.
    kernel = workdir / "kernel.mb.elf"
    shutil.copy2(art.kernel_mb, kernel)
    vigil.art = replace(art, kernel_mb=kernel)
    targets = [vigil]
    notes: list[str] = [f"console logs: {workdir}"]
    if vs_linux:
        busybox = _busybox(image)
        vmlinuz, initramfs = linux_initramfs(busybox, workdir / "linux-initramfs.cpio")
        targets.append(Target("linux", art, image, machine, vmlinuz, initramfs))
    results: dict[str, dict[str, TestResult]] = {t.kernel: {} for t in targets}
    lock = threading.Lock()

    def on_result(kernel: str, r: TestResult) -> None:
        with lock:
            results[kernel][r.name] = r
            if not quiet:
                tail = f"  {r.lines[0][:110]}" if r.lines else ""
                print(f"{kernel:5} {r.verdict:7} {r.name}{tail}", flush=True)

    jobs = max(1, jobs)
    work = [(t, entries[i::jobs], i) for t in targets for i in range(jobs)]
    errors: list[str] = []

    def worker(t: Target, part: list[Entry], i: int) -> None:
        try:
            run_shard(t, part, workdir, i, on_result)
        except Exception as e:  # noqa: BLE001 - reported with the others
            with lock:
                errors.append(f"{t.kernel} shard {i}: {e}")

    threads = [threading.Thread(target=worker, args=w) for w in work if w[1]]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    notes += errors
    return Report(entries, results, notes)


def _busybox(image: Path) -> Path:
    """Debian's busybox-static, out of the image (it is in the root's list)."""
    out = BUILD / "busybox"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["debugfs", "-R", f"dump /usr/bin/busybox {out}", str(image)],
                       capture_output=True, check=True)
    return out


def print_report(report: Report) -> None:
    kernels = list(report.results)
    counts = {k: summary(list(v.values())) for k, v in report.results.items()}
    for k in kernels:
        c = counts[k]
        print(f"{k}: " + ", ".join(f"{c[v]} {v}" for v in c if c[v]) +
              f" (of {len(report.entries)})")
    if len(kernels) == 2:
        a, b = kernels
        both = [e.name for e in report.entries
                if (report.results[b].get(e.name) or _NONE).verdict == "TPASS"
                and (report.results[a].get(e.name) or _NONE).verdict != "TPASS"]
        print(f"pass on {b}, not on {a}: {len(both)}")
    for n in report.notes:
        print(f"note: {n}")


_NONE = TestResult("", "NONE")


def family_table(tests: list[dict[str, object]], kernels: dict[str, str]) -> str:
    """Markdown: one row per syscall family (ltpresult.family), the passes on
    each kernel and the total. tests: a report's "tests" rows; kernels maps a
    column title to the row key holding that kernel's result."""
    from .ltpresult import family

    rows: dict[str, dict[str, int]] = {}
    for t in tests:
        fam = family(str(t["name"]))
        row = rows.setdefault(fam, {"total": 0, **{k: 0 for k in kernels}})
        row["total"] += 1
        for title, key in kernels.items():
            r = t.get(key)
            if isinstance(r, dict) and r.get("verdict") == "TPASS":
                row[title] += 1
    head = "| family | " + " | ".join(kernels) + " | total |\n|---|" + "---|" * (len(kernels) + 1)
    body = [f"| {fam} | " + " | ".join(str(r[k]) for k in kernels) + f" | {r['total']} |"
            for fam, r in sorted(rows.items())]
    sums = {k: sum(r[k] for r in rows.values()) for k in [*kernels, "total"]}
    body.append("| **all** | " + " | ".join(f"**{sums[k]}**" for k in kernels) +
                f" | **{sums['total']}** |")
    return head + "\n" + "\n".join(body) + "\n"


def merge(vigil_json: Path, linux_json: Path | None) -> list[dict[str, object]]:
    """The tests of a Vigil report with the Linux column of another's."""
    tests = json.loads(vigil_json.read_text())["tests"]
    if linux_json:
        linux = {t["name"]: t.get("linux") for t in json.loads(linux_json.read_text())["tests"]}
        for t in tests:
            t["linux"] = t.get("linux") or linux.get(t["name"])
    return tests


if __name__ == "__main__":
    # python -m harness.ltp table VIGIL.json [LINUX.json]: docs/ltp.md's table
    args = sys.argv[1:]
    if len(args) in (2, 3) and args[0] == "table":
        merged = merge(Path(args[1]), Path(args[2]) if len(args) == 3 else None)
        print(family_table(merged, {"Vigil": "vigil", "Linux": "linux"}), end="")
    else:
        sys.exit("usage: python -m harness.ltp table VIGIL.json [LINUX.json]")
