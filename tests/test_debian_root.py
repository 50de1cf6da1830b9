"""The Debian root file system (rootfs/packages.txt, harness/debian.py) and
what Vigil promises on it: the image is a clean ext3 file system holding
every listed package's files as Debian ships them; `./vigil run` boots it
to a shell prompt on the serial console, and leaves the cached image as it
was; `./vigil exec` gives a program a writable working directory and /tmp
(and keeps the old initrd mode as --initrd).

The image side is judged by tools that are not ours: e2fsck -fn, debugfs
(what the image holds), dpkg-deb (what the packages hold), apt-cache (what
they depend on)."""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
import tarfile
from pathlib import Path

from harness import debian
from harness.config import ROOT
from harness.execute import ProgramRun, debian_root, run_on_host
from harness.image import fsck

PROMPT = r"[#$] "
SEED = 15


def _debugfs(image: Path, cmds: list[str]) -> str:
    script = "\n".join(cmds) + "\n"
    r = subprocess.run(["debugfs", "-f", "-", str(image)], input=script, capture_output=True,
                       text=True, check=True)
    return r.stdout


def _listing(image: Path, dirs: set[str]) -> dict[str, tuple[int, int]]:
    """path -> (mode, size) for every entry of dirs, as debugfs reads them."""
    out = _debugfs(image, [f"ls -p /{d}" for d in sorted(dirs)])
    found: dict[str, tuple[int, int]] = {}
    cur = ""
    for line in out.splitlines():
        if line.startswith("debugfs: ls -p "):
            cur = line.removeprefix("debugfs: ls -p /")
        elif m := re.match(r"/(\d+)/(\d+)/\d+/\d+/(.*)/(\d*)/$", line):
            name = m.group(3)
            if name not in (".", ".."):
                found[f"{cur}/{name}".lstrip("/")] = (int(m.group(2), 8), int(m.group(4) or 0))
    return found


def test_root_image_is_a_clean_ext3_file_system(art) -> None:
    ok, said = fsck(art.root_image)
    assert ok, f"e2fsck -fn finds build/root.img unclean:\n{said[-2000:]}"
    features = subprocess.run(["dumpe2fs", "-h", str(art.root_image)], capture_output=True,
                              text=True).stdout
    assert "has_journal" in features, "the root image is not ext3 (no journal)"


def test_package_list_is_closed_under_depends() -> None:
    """Every Pre-Depends/Depends of a listed package is listed, or listed as
    left out with a reason: a library a program needs cannot go missing."""
    plist = debian.read_list()
    assert len(set(plist.wanted)) == len(plist.wanted), "a package is listed twice"
    assert debian.unmet(plist, debian.apt_show(list(plist.wanted))) == []
    assert all(plist.left_out.values()), "a left-out package without its reason"


def test_every_listed_package_has_its_files_in_the_image(art, tmp_path: Path) -> None:
    """Each package's files and symlinks (dpkg-deb's view) are in the image
    (debugfs's view) where bookworm's merged /usr puts them, with the size
    Debian ships; a seeded sample of files has the same bytes."""
    debs = debian.current_debs()
    assert len(debs) == len(debian.read_list().wanted)
    want: dict[str, tarfile.TarInfo] = {}
    blobs: dict[str, Path] = {}
    for deb in debs:
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True,
                             check=True).stdout
        blob = tmp_path / f"{deb.name}.tar"
        blob.write_bytes(tar)
        with tarfile.open(blob) as t:
            for m in t.getmembers():
                path = debian.image_path(m.name)
                if path and not m.isdir():
                    want[path] = m
                    blobs[path] = blob
    assert "usr/lib/x86_64-linux-gnu/libc.so.6" in want and "usr/bin/bash" in want
    have = _listing(art.root_image, {p.rsplit("/", 1)[0] for p in want})
    missing = sorted(p for p in want if p not in have)
    assert not missing, f"{len(missing)} packaged files not in the image: {missing[:10]}"
    for path, m in want.items():
        mode, size = have[path]
        if m.issym():
            assert mode & 0o170000 == 0o120000, f"/{path} is not a symlink in the image"
        elif m.isfile():
            assert mode & 0o170000 == 0o100000, f"/{path} is not a regular file in the image"
            assert size == m.size, f"/{path}: {size} bytes in the image, {m.size} in the package"
    files = sorted(p for p, m in want.items() if m.isfile() and m.size)
    sample = random.Random(SEED).sample(files, 12) + ["usr/lib/x86_64-linux-gnu/libc.so.6"]
    out = tmp_path / "dumped"
    for path in sample:
        with tarfile.open(blobs[path]) as t:
            member = next(x for x in t.getmembers() if debian.image_path(x.name) == path)
            packaged = t.extractfile(member).read()  # type: ignore[union-attr]
        out.unlink(missing_ok=True)
        _debugfs(art.root_image, [f"dump /{path} {out}"])
        assert hashlib.sha256(out.read_bytes()).hexdigest() == \
            hashlib.sha256(packaged).hexdigest(), f"/{path} differs from its package's"


def test_dynamic_loader_and_shells_resolve_in_the_image() -> None:
    """Every Debian ELF names /lib64/ld-linux-x86-64.so.2; /bin/sh is dash;
    bash, busybox and python3 are where a user looks for them."""
    tree, _ = debian.staging_tree()
    ld = debian.resolve_in(tree, "/lib64/ld-linux-x86-64.so.2")
    assert ld == tree / "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" and ld.is_file()
    assert debian.resolve_in(tree, "/bin/sh") == tree / "usr/bin/dash"
    for prog in ("/bin/bash", "/bin/busybox", "/usr/bin/python3", "/usr/bin/strace",
                 "/usr/bin/awk", "/usr/lib/python3.11/os.py"):
        assert debian.resolve_in(tree, prog).is_file(), prog


def _run_line(s, line: str) -> str:
    """Send a command between two markers printed by the shell itself (the
    typed echo shows $((...)), never its value) and return its output,
    without the kernel's own "vigil: " report lines."""
    s.sendline(f"echo B$((40+1))B; {line}; echo E$((40+2))E")
    m = s.expect(r"B41B\n(.*?)E42E\n", timeout=60)
    s.expect(PROMPT, timeout=60)
    out = m.group(1).decode(errors="replace").replace("\r", "")
    return "".join(x for x in out.splitlines(keepends=True) if not x.startswith("vigil: "))


def test_debian_root_boots_to_bash_at_a_prompt(vigil, tmp_path: Path) -> None:
    """`./vigil run`'s boot: Debian's bash (dynamic: ld.so, libc, libtinfo
    from the image) prompts and computes; dash as /bin/sh, coreutils' ls
    (listing / as debugfs does, and in colour), ps (naming the shell by its
    $$), top and python3 run from it; the login shell takes the terminal's
    type and size from the command line; exit powers off cleanly, the disk
    copy stays clean, and the cached image is untouched."""
    before = os.stat(vigil.art.root_image).st_mtime_ns
    disk = debian_root(vigil.art, tmp_path / "run.img", [])
    # What `./vigil run` adds for the host terminal (tasks._terminal_words).
    with vigil.session("vigil.term=xterm vigil.winsize=30x100", root_disk=disk) as s:
        s.expect(PROMPT, timeout=90)
        terminal = _run_line(s, "echo $TERM; stty size").split()
        shell = _run_line(s, 'echo "${BASH_VERSINFO[0]:-not bash}"').strip()
        assert shell == "5", f"the console shell is not bash 5: {shell!r}"
        assert _run_line(s, "echo $((6*7))").strip() == "42"
        assert _run_line(s, "/bin/sh -c 'echo $((6*7)) $0'").strip() == "42 /bin/sh"
        listed = set(_run_line(s, "ls -1 /").split())
        pid = _run_line(s, "echo $$").strip()
        ps = _run_line(s, "ps -o pid=,comm= -p $$").split()
        top = _run_line(s, "top -b -n 1 | head -1; echo status ${PIPESTATUS[0]}")
        color = _run_line(s, "ls --color=always -d /usr")
        version = _run_line(s, "python3 -c 'import sys; print(sys.version_info[:2])'")
        s.sendline("exit")
        assert s.wait_exit(60).kind == "ok"
    image_root = set(_listing(disk, {""}))
    assert listed == image_root, f"ls lists {sorted(listed)}, debugfs {sorted(image_root)}"
    assert version.strip() == "(3, 11)", version
    assert terminal == ["xterm", "30", "100"], f"TERM and stty size: {terminal}"
    assert ps == [pid, "bash"], f"ps says {ps} of the shell whose $$ is {pid}"
    assert top.startswith("top - ") and top.endswith("status 0\n"), top
    assert "\x1b[" in color and "usr" in color, f"ls --color=always printed {color!r}"
    ok, said = fsck(disk)
    assert ok, f"the root disk is unclean after a session:\n{said[-2000:]}"
    assert os.stat(vigil.art.root_image).st_mtime_ns == before, "the cached image was written"


def test_exec_gives_a_writable_cwd_and_tmp_on_the_debian_root(vigil) -> None:
    run = vigil.program(["/usr/local/bin/scribe"], debian=True,
                        files={"/usr/local/bin/scribe": vigil.art.rootfs / "bin/scribe"})
    assert run.status == 0, run.output
    assert run.output.splitlines() == ["cwd /root", "scribe wrote ./scribe-note",
                                       "scribe wrote /tmp/scribe-note"]


def test_exec_runs_a_dynamic_host_binary_against_the_image_libraries(vigil) -> None:
    """The host's own Debian python3 (dynamic), unchanged, on the image's
    ld.so and libc: the same answer as on the host."""
    argv = ["/usr/local/bin/python3.11", "-c", "import os; print(6 * 7, os.getcwd())"]
    run = vigil.program(argv, debian=True,
                        files={argv[0]: Path("/usr/bin/python3.11")}, timeout=240)
    assert run.status == 0 and run.output == "42 /root\n", run.output[-2000:]


# Issue 15's first seed walk: open("data.txt") -> glibc -> openat, and back.
WRITE_THEN_READ = """
import os
with open("data.txt", "w") as f:
    f.write("seed walk one\\n" * 3)
with open("data.txt") as f:
    text = f.read()
print(os.getcwd(), os.stat("data.txt").st_size, sorted(os.listdir(".")))
print(text, end="")
"""


def _run_both(vigil, tmp_path: Path, argv: list[str]) -> tuple[ProgramRun, ProgramRun]:
    """argv from the Debian image, on Vigil and chrooted into the same tree
    (with its own /proc) on the host's Linux."""
    guest = vigil.program(argv, debian=True, timeout=240)
    tree = debian.image_tree(vigil.art.rootfs, tmp_path / "tree")
    host = run_on_host(tree, argv, debian=True)
    assert host.status == 0, host.output
    return guest, host


def _python_both(vigil, tmp_path: Path, script: str) -> tuple[ProgramRun, ProgramRun]:
    """Debian's python3 from the image runs script on Vigil and on the host."""
    return _run_both(vigil, tmp_path, ["/usr/bin/python3", "-c", script])


def test_python_writes_then_reads_a_file_as_on_the_host(vigil, tmp_path: Path) -> None:
    guest, host = _python_both(vigil, tmp_path, WRITE_THEN_READ)
    assert "seed walk one" in host.output
    assert (guest.status, guest.output) == (host.status, host.output)


# The second: subprocess.run(["ls", "-la"]) -> clone/execve/wait4 and pipes,
# in a directory the script makes (dates left out: the runs are not at
# the same time).
LS_IN_A_SUBPROCESS = """
import os, subprocess
os.mkdir("walk")
for name, data in [("a.txt", "alpha\\n"), ("b.bin", "x" * 5000), ("c", "")]:
    with open(f"walk/{name}", "w") as f:
        f.write(data)
    os.chmod(f"walk/{name}", 0o640)
os.mkdir("walk/sub")
os.chdir("walk")
r = subprocess.run(["ls", "-la", "--time-style=+-"], capture_output=True, text=True)
print(r.returncode, repr(r.stderr))
print(r.stdout, end="")
"""


def test_python_runs_ls_la_in_a_subprocess_as_on_the_host(vigil, tmp_path: Path) -> None:
    guest, host = _python_both(vigil, tmp_path, LS_IN_A_SUBPROCESS)
    assert host.output.startswith("0 ''\ntotal ") and " b.bin\n" in host.output, host.output
    assert (guest.status, guest.output) == (host.status, host.output)


# The third: [0] * 10_000_000 -> mmap and demand paging; the peak RSS the
# kernel reports must cover the 80 MB the list's pointers take, and not be
# far past it (python3 itself is about 10 MB).
BIG_LIST = """
x = [0] * 10_000_000
with open("/proc/self/status") as f:
    status = dict(line.split(":", 1) for line in f)
peak = int(status["VmHWM"].split()[0]) * 1024
print(len(x), "peak RSS covers the list:", 80_000_000 <= peak < 130_000_000)
"""


def test_python_allocates_a_big_list_and_reports_its_peak_rss_as_on_the_host(
        vigil, tmp_path: Path) -> None:
    guest, host = _python_both(vigil, tmp_path, BIG_LIST)
    assert host.output == "10000000 peak RSS covers the list: True\n", host.output
    assert (guest.status, guest.output) == (host.status, host.output)


# Issue 15's bash script (pipes, redirection, $(...), background jobs and
# wait, traps, ulimit) and coreutils over a tree (cp -a, find, sort, ls -la,
# sha256sum). Dates are left out of ls: the two runs are not at the same time.
BASH_SCRIPT = """
set -u
mkdir -p tree/a/b tree/c
printf 'line %s\\n' 3 1 2 > tree/a/nums
seq 1 200 > tree/c/seq
echo hello > tree/a/b/hello
ln -s ../a/nums tree/c/link
count=$(cat tree/c/seq | grep -c 7)
echo "sevens: $count"
sort -r tree/a/nums > tree/sorted 2>/dev/null
echo "first: $(head -n 1 < tree/sorted)"
{ echo to-stderr >&2; echo to-stdout; } 2>tree/err | tr a-z A-Z
cat tree/err
(sleep 0.2; echo job1 > tree/j1) &
(echo job2 > tree/j2) &
wait
cat tree/j1 tree/j2
trap 'echo trapped USR1' USR1
kill -USR1 $$
trap 'echo exit trap' EXIT
ulimit -n 64
echo "nofile $(ulimit -n)"
(ulimit -f 1; head -c 5000 /dev/zero > tree/big) 2>/dev/null
echo "fsize status $? size $(stat -c %s tree/big)"
rm tree/big
cp -a tree tree2
find tree2 | sort
ls -la --time-style=+- tree2 tree2/a tree2/c
sha256sum $(find tree2 -type f | sort)
echo done
"""


def test_bash_script_and_coreutils_over_a_tree_as_on_the_host(vigil, tmp_path: Path) -> None:
    guest, host = _run_both(vigil, tmp_path, ["/bin/bash", "-c", BASH_SCRIPT])
    assert "trapped USR1" in host.output and host.output.endswith("done\nexit trap\n")
    assert (guest.status, guest.output) == (host.status, host.output)


# Jobs end (SIGCHLD) while bash is busy forking and allocating for $(...):
# the signal lands anywhere in bash's own code, malloc included.
JOBS_SCRIPT = r"""
n=0
for round in $(seq 30); do
  (exit $((round % 7))) &
  for i in $(seq 30); do x=$(echo $i); n=$((n + ${#x})); done
  wait $!; n=$((n + $?))
done
echo "jobs and substitutions: $n"
"""


def test_bash_survives_jobs_ending_while_it_works_on_2_cpus(vigil, tmp_path: Path) -> None:
    """On 2 CPUs a job ending on the other CPU interrupts bash anywhere;
    its SIGCHLD handler must return to exactly where bash was (this script
    aborted about one run in two in malloc while rt_sigreturn lost rcx and
    r11: "malloc_consolidate(): invalid chunk size")."""
    guest = vigil.program(["/bin/bash", "-c", JOBS_SCRIPT], debian=True, timeout=240, smp=2)
    tree = debian.image_tree(vigil.art.rootfs, tmp_path / "tree")
    host = run_on_host(tree, ["/bin/bash", "-c", JOBS_SCRIPT], debian=True)
    assert host.output == "jobs and substitutions: 1617\n", host.output
    assert (guest.status, guest.output) == (host.status, host.output), guest.console[-1500:]


def test_vigil_exec_command_runs_on_the_debian_root_and_on_the_initrd(vigil) -> None:
    """The command itself: the binary goes to /usr/local/bin on a writable
    root (exit status passed through); --initrd keeps the read-only initrd
    as the root, where the working directory cannot be written."""
    scribe = str(vigil.art.rootfs / "bin/scribe")
    env = {**os.environ, "VIGIL_ACCEL": vigil.accel}

    def vexec(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", "exec", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=240, env=env)

    disk = vexec(scribe, "--", ".", "/tmp")
    assert disk.returncode == 0, disk.stdout[-2000:] + disk.stderr[-2000:]
    assert "scribe wrote ./scribe-note" in disk.stdout
    initrd = vexec("--initrd", scribe)
    assert initrd.returncode == 1, initrd.stdout[-2000:]
    assert "scribe: writing ./scribe-note: Read-only file system" in initrd.stdout
    assert "scribe wrote /tmp/scribe-note" in initrd.stdout
