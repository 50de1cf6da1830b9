"""/proc and /sys tell the truth (issue 15): a process compares what /proc
says about it with what it knows itself (the pages it touched, the regions
it mapped, its ids, descriptors, argv and environment, threads, a child
that dies), and the same static program on the host's Linux says the same
facts line for line. The program is user/tests/procfs.c.

RSS is the exception: Linux (6.2 on) keeps a process's RSS in per-CPU
counters that /proc reads approximately, so the host is no reference for
it; the program's own count of the pages it touched is, and Vigil must
match it exactly."""

from __future__ import annotations

import os
import random
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import check_kernel_health, kernel_bug

_KERNEL_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)
# Lines about RSS and its peak: judged on Vigil alone (see above).
_RSS = re.compile(r"^(rss |hwm |  touched |  VmRSS )")


def _host(art_rootfs: Path, argv: list[str]) -> str:
    r = subprocess.run([str(art_rootfs / "bin" / "procfs"), *argv], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _vigil(vigil, argv: list[str]) -> str:
    run = vigil.program(["/bin/procfs", *argv], timeout=180)
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    assert run.status == 0, run.output[-800:]
    return run.output.replace("\r\n", "\n")


def _diff(host: str, ours: str) -> list[str]:
    h = [x for x in host.strip().splitlines() if not _RSS.match(x)]
    v = [x for x in ours.strip().splitlines() if not _RSS.match(x)]
    if len(h) != len(v):
        return [f"host has {len(h)} lines, vigil {len(v)}: vigil ends {v[-3:]!r}"]
    return [f"host {a!r} vigil {b!r}" for a, b in zip(h, v, strict=True) if a != b]


def test_proc_self_tells_a_process_what_it_knows_as_linux_does(vigil, tmp_path: Path) -> None:
    """stat (52 fields; pid, ppid, pgrp, session), status, statm, maps
    (regions at known addresses and protections, one split by mprotect;
    [heap] at the break, [stack] around a local), fd/ (exactly the open
    descriptors; a file's real path, pipe:[inode], /dev/null; opening fd/N
    reaches the file), fdinfo, cmdline and environ (argv and envp), exe and
    cwd (real paths), comm (written and cut to 15), task/ with a second
    thread, a child's stat, its zombie state, and what its directory says
    once it is reaped (ESRCH or ENOENT, never stale data)."""
    seed = int(os.environ.get("VIGIL_SEED", random.randrange(1 << 30)))
    ours = _vigil(vigil, ["self", str(seed), "/tmp"])
    host = _host(vigil.art.rootfs, ["self", str(seed), str(tmp_path)])
    rss = [x for x in ours.splitlines() if _RSS.match(x)]
    assert rss and all(x.endswith(": yes") for x in rss if not x.startswith("  ")), (
        f"VmRSS/VmHWM are not what the process touched (seed {seed}): {rss}")
    problems = _diff(host, ours)
    assert not problems, f"/proc/self differs from Linux (seed {seed}): " + "\n".join(problems[:10])


def test_another_users_process_is_private(vigil) -> None:
    """A uid-3000 process may read a uid-2000 process's status, stat and
    cmdline, but not its environment, open files, executable, working
    directory or the call it sleeps in (syscall) (Linux's ptrace-read rule:
    EACCES), nor set the hostname."""
    ours = _vigil(vigil, ["perm"])
    host = _host(vigil.art.rootfs, ["perm"])
    assert "another user's environ: EACCES" in ours, (
        "another user's environ was readable: " + ours.strip()[-300:])
    problems = _diff(host, ours)
    assert not problems, "permissions differ from Linux: " + "\n".join(problems[:10])


def test_global_proc_and_sys_files_agree_with_the_system(vigil) -> None:
    """meminfo, uptime (grows), loadavg, stat (a cpu line of ten, one per
    CPU, btime, processes, ctxt), cpuinfo (a processor per CPU, flags),
    /sys/devices/system/cpu (online, cpuN), sys/kernel against uname,
    boot_id and uuid, mounts, filesystems, self, and /proc listing us."""
    problems = _diff(_host(vigil.art.rootfs, ["global"]), _vigil(vigil, ["global"]))
    assert not problems, "global /proc files differ from Linux: " + "\n".join(problems[:10])


@pytest.mark.invariant("kernel memory safety")
def test_magic_links_never_reach_an_inode_whose_last_reference_went(vigil) -> None:
    """/proc/PID/fd/N, cwd and exe looked through (stat, statfs, open,
    readlink, "link/.") on the second CPU while short-lived processes on
    the first open files, pipes and memfds, enter and remove directories
    on ext2 and tmpfs, and exec or exit. With the heap quarantine on, a
    reference to a freed or released inode says "vfs: BUG:" (fs/vfs.c's
    iget rule); none may appear, and the kernel stays up.
    user/tests/magicstorm.c, 2 CPUs."""
    _, disk = vigil.scratch_disk("magicstorm")
    run = vigil.program(["/bin/magicstorm", "12", "/scratch", "/tmp"], root_disk=disk, smp=2,
                        timeout=300, check=False)
    bug = kernel_bug(run.console)
    assert not bug, "a magic link reached an inode whose last reference went: " + bug
    check_kernel_health(run.console)
    assert "magicstorm done" in run.output, run.console[-2000:]
    lives = re.search(r"magicstorm: (\d+) lives", run.output)
    probes = re.findall(r"reader \d+: (\d+) probes", run.output)
    ran = lives and int(lives.group(1)) > 100 and len(probes) == 2 and min(map(int, probes)) > 100
    assert ran, run.output


def test_bad_input_to_proc_gets_linux_errors(vigil) -> None:
    """Writes to read-only files (EIO, EINVAL as Linux), odd names (ENOENT),
    mkdir and unlink in /proc, out-of-range oom_score_adj, and a file read
    seven bytes at a time reads the same as at once."""
    problems = _diff(_host(vigil.art.rootfs, ["bad"]), _vigil(vigil, ["bad"]))
    assert not problems, "bad input to /proc differs from Linux: " + "\n".join(problems[:10])


# Debian's procps and bash on the Debian root, reading Vigil's /proc.
PROCPS = r"""
sleep 100 & s=$!
for i in $(seq 500); do [ "$(ps -o comm= -p $s)" = sleep ] && break; done   # it has exec'd
kill -STOP $s
for i in $(seq 500); do ps -o stat= -p $s | grep -q T && break; done         # it has stopped
echo "ps sees the stopped child: $(ps -o pid=,ppid=,stat=,comm= -p $s | awk -v s=$s -v me=$$ \
    '$1 == s && $2 == me && $3 ~ /^T/ && $4 == "sleep" {print "yes"}')"
kill -CONT $s
echo "ps no longer: $(ps -o stat= -p $s | grep -c T)"
echo "pgrep finds it: $( [ "$(pgrep -x sleep)" = "$s" ] && echo yes)"
echo "ps aux has us: $(ps aux | awk -v me=$$ '$2 == me {print "yes"}')"
echo "top's header: $(top -b -n1 | head -1 | cut -c1-5)"
echo "free's row: $(free | awk 'NR == 2 {print $1}')"
echo "uptime: $(uptime | grep -c 'load average')"
echo "vmstat's columns: $(vmstat | tail -1 | wc -w)"
echo "df sees /proc: $(df -a /proc | tail -1 | awk '{print $1}')"
echo "mount sees /proc: $(mount | grep -c '^proc on /proc type proc')"
echo "process substitutions: $(cat <(echo a) <(echo b) | paste -sd ' ')"
echo "/dev/stdin from a pipe: $(echo piped | cat /dev/stdin)"
echo "cpus: $(nproc) $(python3 -c 'import os; print(os.cpu_count())')"
kill $s
wait
"""


def test_debian_procps_and_bash_read_vigils_proc(vigil) -> None:
    """Debian's own ps (a stopped child's state and parent), pgrep, ps aux,
    top -b, free, uptime, vmstat, df, mount, nproc and python's cpu_count (2
    CPUs, from /sys/devices/system/cpu/online) read /proc and /sys;
    bash's <(...) and
    /dev/stdin reach pipes through /dev/fd (/proc/self/fd's magic links)."""
    run = vigil.program(["/bin/bash", "-c", PROCPS], debian=True, timeout=240, smp=2)
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    assert run.status == 0, run.output[-1500:]
    assert run.output.splitlines() == [
        "ps sees the stopped child: yes", "ps no longer: 0", "pgrep finds it: yes",
        "ps aux has us: yes", "top's header: top -", "free's row: Mem:", "uptime: 1",
        "vmstat's columns: 17", "df sees /proc: proc", "mount sees /proc: 1",
        "process substitutions: a b", "/dev/stdin from a pipe: piped", "cpus: 2 2",
    ], run.output[-1500:]
