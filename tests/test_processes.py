"""Processes under the Linux ABI. The same static musl binaries run on the
host Linux and on Vigil; their output and exit status must be the same."""

from __future__ import annotations

import signal

import pytest

DIFFERENTIAL = [
    ["/bin/hello"],
    ["/bin/args", "one", "two words", ""],
    ["/bin/forktree"],
    ["/bin/memory"],
    ["/bin/signals"],
    ["/bin/signals", "segv"],
    ["/bin/signals", "fpe"],
    ["/bin/signals", "ill"],
    ["/bin/signals", "term"],
    ["/bin/signals", "exit7"],
    ["/bin/orphans"],
    ["/bin/stackguard"],
    ["/bin/privileged", "syscalls"],
    ["/bin/pie", "static", "PIE"],
    ["/bin/pipes"],
    ["/bin/sighandlers"],
    ["/bin/enosys"],
]


@pytest.mark.parametrize("argv", DIFFERENTIAL, ids=lambda a: " ".join(a)[5:] or "x")
def test_same_output_and_status_as_linux(vigil, argv: list[str]) -> None:
    host = vigil.host(argv)
    guest = vigil.program(argv)
    assert guest.status is not None, "Vigil did not finish the program"
    assert guest.output == host.output
    assert guest.status == host.status


def test_fault_kills_only_the_process_with_a_one_line_report(vigil) -> None:
    run = vigil.program(["/bin/signals", "segv"])
    assert run.status == -signal.SIGSEGV
    reports = [x for x in run.kernel_lines if "killed by SIGSEGV" in x]
    assert len(reports) == 1
    assert "(signals)" in reports[0] and "at 0x10" in reports[0]


def test_missing_syscall_is_enosys_and_reported_once(vigil) -> None:
    argv = ["/bin/enosys"]
    guest = vigil.program(argv)
    assert guest.output == vigil.host(argv).output
    assert guest.output.count("ENOSYS") == 4
    logged = [x for x in guest.kernel_lines if "not implemented" in x]
    assert logged == [
        "vigil: syscall 183 not implemented: afs_syscall (first called by pid 2, enosys)"]


def test_normal_programs_need_no_missing_syscall(vigil) -> None:
    for argv in (["/bin/args"], ["/bin/memory"], ["/bin/forktree"]):
        run = vigil.program(argv)
        assert not [x for x in run.kernel_lines if "not implemented" in x], argv


def test_shell_runs_pipelines_and_redirection(vigil) -> None:
    with vigil.session() as s:
        s.expect(r"\$ ", timeout=60)
        s.sendline('args "a | b" c | cat | cat')
        s.expect(r"argv\[1\]=a \| b\nargv\[2\]=c\nargv\[argc\]=NULL\n", timeout=60)
        s.expect(r"\$ ", timeout=60)
        s.sendline("cat < /bin/nothing")
        s.expect(r"sh: /bin/nothing: No such file or directory\n\$ ", timeout=60)
        s.sendline("hello | signals segv")
        s.expect(r"Segmentation fault\n\$ ", timeout=60)
        s.sendline("status")
        s.expect(r"139\n\$ ", timeout=60)
        s.sendline("exit")
        assert s.wait_exit(60).kind == "ok"
