"""Debian's strace sees the same system calls on Vigil as on Linux (issue 16's
differential acceptance).

Deterministic programs run under `strace -f -qq` in one boot of the Debian
root, and on the host from the same tree with the same strace (run_on_host
with debian=True: ptrace works in its user and PID namespaces): python3
writing a file, Debian's `ls`, a fork/exec/wait tree (forktree, static
musl), a bash one-liner with a pipe, a subshell and an external command,
and pthreads (threads basic, static musl). Each trace is normalised by
harness/stracenorm.py (ids, addresses, the vDSO's calls, the loader's
start-up order) and must then be the same call for call, result for
result, thread by thread, with the same signals and si_codes. `strace -c`
must count the same set of calls. Every program's stdin is /dev/null and
its output a file: a terminal's name and type are the machine's, not the
kernel's.

What legitimately differs is listed below with its reason; anything else
that differs is a kernel bug to fix."""

from __future__ import annotations

from harness import debian, stracenorm
from harness.execute import run_on_host

CASES = {
    "python": "python3 -c \"open('f.txt', 'w').write('hello')\"",
    "ls": "ls -l /usr/lib/vigil",
    "forktree": "/usr/lib/vigil/bin/forktree",
    "bash": "bash -c 'echo a | cat; /bin/true; (exit 3); echo $?'",
    "threads": "/usr/lib/vigil/bin/threads basic",
}
STATUS = {"forktree": 42}                           # its own exit status (forktree.c)
SUMMARIES = {"python": CASES["python"], "ls": CASES["ls"]}

# Calls that differ for a reason that is not a bug, and why.
DROP = {
    "rseq": "Vigil has no restartable sequences: rseq is ENOSYS (sys_rseq) and glibc goes "
            "without them; Linux registers one (= 0)",
    "socket": "Vigil has no sockets (ENOSYS): glibc's name service asks nscd over an AF_UNIX "
              "socket first, which on Linux is made and fails to connect (ENOENT); the calls "
              "on that socket and its close go with it",
    "connect": "(on the socket above)",
}
THREAD_DROP = {
    **DROP,
    "futex": "how often a thread waits on or wakes a futex (pthread_join, the thread list "
             "lock) depends on which thread runs first, on any kernel",
}
# Files whose contents differ between the kernels, and why.
VARY = {
    "/proc/filesystems": "each kernel lists its own file systems (Linux has more)",
}


def _script() -> str:
    lines = ["cd /root", "mkdir -p /tmp/st"]
    for name, cmd in CASES.items():
        lines.append(f"strace -f -qq -o /tmp/st/{name} {cmd} </dev/null >/tmp/st/{name}.out 2>&1")
        lines.append(f'echo "== status {name} $?"')
    for name, cmd in SUMMARIES.items():
        lines.append(f"strace -f -c -o /tmp/st/c.{name} {cmd} </dev/null >/dev/null 2>&1")
    lines.append('for f in /tmp/st/*; do echo "=== $f"; cat "$f"; done; echo "=== end"')
    return "\n".join(lines) + "\n"


def _files(output: str) -> dict[str, str]:
    parts = output.split("\n=== ")
    out = {}
    for p in parts[1:]:
        head, _, body = p.partition("\n")
        out[head.rsplit("/", 1)[-1]] = body
    return out


def test_strace_f_of_deterministic_programs_prints_the_calls_and_results_linux_prints(
        vigil) -> None:
    """One boot, one host run (each case's calls, signals and -c set are
    checked; every difference is reported, not only the first)."""
    script = _script().encode()
    g = vigil.program(["/bin/bash", "/root/st.sh"], {"/root/st.sh": script}, timeout=500,
                      debian=True)
    tree = debian.image_tree(vigil.art.rootfs, vigil.tmp / "tree")
    (tree / "root/st.sh").write_bytes(script)
    h = run_on_host(tree, ["/bin/bash", "/root/st.sh"], timeout=180, debian=True)
    (vigil.tmp / "vigil-traces.txt").write_text(g.output)   # kept for a failure's reader
    (vigil.tmp / "linux-traces.txt").write_text(h.output)
    for name in CASES:
        want = f"== status {name} {STATUS.get(name, 0)}"
        assert want in h.output, f"host: {name} failed:\n{h.output[-2000:]}"
        assert want in g.output, f"vigil: {name} failed:\n{g.output[-3000:]}"
    gf, hf = _files(g.output), _files(h.output)

    # The traces are about the programs: the file python3 writes, the tree
    # of forks and the threads are in them, with Linux's si_codes.
    assert 'openat(AT_FDCWD, "f.txt", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3' in gf["python"]
    assert 'write(3, "hello", 5)' in gf["python"], gf["python"][-2000:]
    names = stracenorm.thread_names(stracenorm.parse(gf["forktree"]))
    assert len(names) == 1 + 2 + 4 + 8 + 4, names    # the tree, its leaves, four more kids
    assert "si_code=CLD_EXITED" in gf["forktree"], gf["forktree"][-2000:]
    assert len(stracenorm.thread_names(stracenorm.parse(gf["threads"]))) >= 5

    diffs = []
    for name in CASES:
        drop = THREAD_DROP if name == "threads" else DROP
        gv, hv = (stracenorm.normalise(t[name], drop, VARY) for t in (gf, hf))
        calls = sum(len(s) for s in hv.threads.values())
        assert calls > 20, f"the host's trace of {name} is too short:\n{hf[name][:2000]}"
        if (gv.threads, gv.signals) != (hv.threads, hv.signals):
            diffs.append(f"== strace -f of {name}: Vigil (-), Linux (+)\n{gv.diff(hv)[:4000]}")
    for name in SUMMARIES:
        gs, hs = (stracenorm.summary_names(t[f"c.{name}"]) for t in (gf, hf))
        assert {"openat", "read", "mmap"} <= hs, hf[f"c.{name}"]
        gs, hs = gs - stracenorm.VDSO - set(DROP), hs - stracenorm.VDSO - set(DROP)
        if gs != hs:
            diffs.append(f"== strace -c of {name}: only Vigil {sorted(gs - hs)}, "
                         f"only Linux {sorted(hs - gs)}")
    assert not diffs, "\n".join(diffs)
