"""The process syscalls Debian's programs need beside fork, exec and wait4
(issue 15): prctl, resource limits and their enforcement, sysinfo, getcpu,
waitid, sigaltstack, rt_sigtimedwait, rt_sigqueueinfo, clone3.
user/tests/sysproc.c tries each with good and bad input; on the host's
Linux and on Vigil every line must be the same."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from harness.compare import line_diff

_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)


def _both(vigil, argv: list[str]) -> tuple[str, str]:
    exe = Path(vigil.art.rootfs) / "bin" / argv[0]
    r = subprocess.run([str(exe), *argv[1:]], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-500:] + r.stderr
    run = vigil.program([f"/bin/{argv[0]}", *argv[1:]], timeout=300)
    trouble = [x for x in run.console.splitlines() if _TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    return r.stdout, run.output.replace("\r\n", "\n")


def test_process_syscalls_answer_as_linux_does(vigil) -> None:
    """prctl (name, dumpable, no_new_privs inherited, PR_SET_PDEATHSIG
    delivered when the parent dies, a child subreaper adopting and reaping
    the orphan), limits (RLIMIT_NOFILE stops open/pipe/dup with EMFILE and
    dup2/F_DUPFD past it, RLIMIT_STACK sizes an exec'd stack: 4 MiB of
    recursion dies under 1 MiB and lives under 16 MiB, RLIMIT_AS fails mmap
    and brk, RLIMIT_FSIZE gives a short write, EFBIG and SIGXFSZ, RLIMIT_NPROC
    stops a user's fork, limits survive fork and exec, prlimit on a child),
    sysinfo, getcpu, waitid (WNOWAIT, WNOHANG's zeroed siginfo, P_PGID,
    CLD_KILLED, every errno), sigaltstack (SA_ONSTACK handlers on it,
    SS_ONSTACK, EPERM while on it, SS_AUTODISARM, a stack overflow caught),
    rt_sigtimedwait, rt_sigqueueinfo's code and value, clone3's checks."""
    host, ours = _both(vigil, ["sysproc"])
    assert "sysproc: done" in ours, f"the program did not finish: {ours[-600:]!r}"
    diff = line_diff(host, ours)
    assert not diff, "Vigil's answers differ from Linux's:\n" + "\n".join(diff[:12])


def test_a_process_is_held_to_its_limits_and_only_root_raises_them(vigil) -> None:
    """With RLIMIT_NOFILE at 16, open stops at fd 15 with EMFILE (pipe and
    dup too; dup2 and F_DUPFD past it fail); a uid-4243 process may lower
    its hard limit but not raise it again (EPERM), nor touch root's: the
    same answers as the host's Linux."""
    host, ours = _both(vigil, ["sysproc", "limits"])
    opened = re.search(r"^opened up to fd (\d+), then (\w+)$", ours, re.M)
    assert opened and opened.groups() == ("15", "EMFILE"), (
        f"a process holds more descriptors than its RLIMIT_NOFILE allows: "
        f"{opened.group(0) if opened else ours[-300:]!r}")
    raised = re.search(r"^uid 4243 raises its hard limit again: (\w+)$", ours, re.M)
    assert raised and raised.group(1) == "EPERM", (
        f"a uid-4243 process raised its own hard limit: {raised.group(0) if raised else ours!r}")
    diff = line_diff(host, ours)
    assert not diff, "Vigil's answers differ from Linux's:\n" + "\n".join(diff[:12])


def test_root_sets_the_real_time_clock_and_the_monotonic_one_stays(vigil) -> None:
    """clock_settime(CLOCK_REALTIME) as root moves what clock_gettime and
    gettimeofday say; CLOCK_MONOTONIC does not jump (Vigil only: on the
    host it would set the host's clock)."""
    run = vigil.program(["/bin/sysproc", "settime"])
    m = re.search(r"settime: (-?\d+), realtime now (\d+), gettimeofday (\d+), "
                  r"monotonic moved (\d+) s", run.output)
    assert m, run.output[-300:]
    r, now, tod, moved = (int(x) for x in m.groups())
    assert r == 0 and 1900000000 <= now < 1900000060 and 1900000000 <= tod < 1900000060, m.group(0)
    assert moved < 60, f"CLOCK_MONOTONIC jumped with the real-time clock: {m.group(0)}"
