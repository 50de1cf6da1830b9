"""Debian's strace inside Vigil (issue 16): the seed's three commands,
verbatim, print what strace prints for the same program on the host Linux.

One boot runs the three commands (each trace into its own file, so the
program's output and the trace do not interleave on the console); the host
runs the same script chrooted into the same image tree, with the image's own
strace. Normalised away: addresses, times, and the calls Vigil makes where
Linux answers from the vDSO (clock_gettime, time, gettimeofday)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from harness import debian
from harness.execute import run_on_host

SCRIPT = b"""with open('out.txt', 'w') as f:
    f.write('hello from script\\n')
print(open('out.txt').read(), end='')
"""

# The seed's commands, verbatim; each trace goes to its own file.
RUN = """cd /root
strace python3 -c "open('test.txt', 'w').write('hello')" 2>/tmp/t1
echo "== status $?"
strace -e trace=openat,read,write,close python3 script.py 2>/tmp/t2
echo "== status $?"
strace -c python3 script.py 2>/tmp/t3
echo "== status $?"
for t in 1 2 3; do echo "== trace $t"; cat /tmp/t$t; done
"""

VDSO = {"clock_gettime", "time", "gettimeofday"}
CALL = re.compile(r"^(?:\[pid\s+\d+\] )?([a-z_0-9]+)\((.*)\)\s+= (-?\w+)(?: (E[A-Z]+))?")


def _traces(output: str) -> list[str]:
    parts = output.split("== trace ")
    assert len(parts) == 4, output[-2000:]
    return [p.split("\n", 1)[1] for p in parts[1:]]


def _calls(trace: str) -> list[tuple[str, str]]:
    """(name, result) of each finished call, results that are addresses as ADDR."""
    out = []
    for line in trace.splitlines():
        m = CALL.match(line.strip())
        if m and m.group(1) not in VDSO:
            res = m.group(4) or m.group(3)
            out.append((m.group(1), "ADDR" if res.startswith("0x") else res))
    return out


def _summary_names(trace: str) -> set[str]:
    names = set()
    for line in trace.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            names.add(f[-1])
    return names - VDSO


def test_the_seeds_strace_commands_print_what_linux_prints(vigil, tmp_path: Path) -> None:
    files = {"/root/script.py": SCRIPT, "/root/run.sh": RUN.encode()}
    guest = vigil.program(["/bin/bash", "/root/run.sh"], debian=True, files=files, timeout=400)
    tree = debian.image_tree(vigil.art.rootfs, tmp_path / "tree")
    for name, data in files.items():
        (tree / name.lstrip("/")).write_bytes(data)
    host = run_on_host(tree, ["/bin/bash", "/root/run.sh"], debian=True, timeout=120)
    assert host.output.count("== status 0") == 3, host.output[-2000:]
    assert guest.output.count("== status 0") == 3, guest.output[-3000:]
    g, h = _traces(guest.output), _traces(host.output)

    # 1: python3 writing a file: the calls from its openat of test.txt on.
    want = 'openat(AT_FDCWD, "test.txt", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3'
    assert want in g[0] and 'write(3, "hello", 5)' in g[0], g[0][-3000:]
    gc, hc = _calls(g[0]), _calls(h[0])
    gi = next(i for i, c in enumerate(gc) if c == ("openat", "3") and i > len(gc) // 2)
    hi = next(i for i, c in enumerate(hc) if c == ("openat", "3") and i > len(hc) // 2)
    assert gc[gi:] == hc[hi:], f"strace of the write differs:\nvigil {gc[gi:]}\nlinux {hc[hi:]}"

    # 2: only openat, read, write, close: the same calls and results.
    assert _calls(g[1]) == _calls(h[1]), \
        f"strace -e trace=... differs:\nvigil {_calls(g[1])}\nlinux {_calls(h[1])}"

    # 3: strace -c: the same set of calls.
    gs, hs = _summary_names(g[2]), _summary_names(h[2])
    assert "openat" in gs and "write" in gs, g[2]
    assert gs == hs, f"strace -c counts other calls: only vigil {gs - hs}, only linux {hs - gs}"
    assert Counter(n for n, _ in _calls(g[1]))["write"] >= 1


def test_vigil_strace_command_traces_a_host_program_and_passes_its_status(vigil) -> None:
    """`./vigil strace -- -qq PROG`: PROG (a host file) is staged into the
    guest, the trace streams out, and the exit status is the program's."""
    import os
    import subprocess
    import sys

    from harness.config import ROOT

    hello = str(vigil.art.rootfs / "bin/hello")
    env = {**os.environ, "VIGIL_ACCEL": vigil.accel}
    r = subprocess.run([sys.executable, "-m", "invoke", "strace", "--", "-qq", hello],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert 'execve("/usr/local/bin/hello", ["/usr/local/bin/hello"]' in r.stdout, r.stdout[-2000:]
    assert "exit_group(0)" in r.stdout and "hello, world" in r.stdout, r.stdout[-2000:]
