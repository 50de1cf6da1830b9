"""A real terminal (issue 15): termios and the line discipline, job control
and pseudo-terminals. The program is user/tests/ptytest.c, which drives a
pty pair and prints what it saw; the host's Linux (it has /dev/ptmx) runs the
same binary, and its output is the reference, line for line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_KERNEL_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic|use-after-free", re.M)


def _host(rootfs: Path, what: str) -> str:
    r = subprocess.run([str(rootfs / "bin" / "ptytest"), what], capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"the host run failed: {r.stdout[-600:]} {r.stderr[-300:]}"
    return r.stdout


def _vigil(vigil, what: str, check=None) -> str:  # type: ignore[no-untyped-def]
    """ptytest's output on Vigil; `check` judges it before its exit status
    (a promise broken early may derail the later steps into a timeout)."""
    run = vigil.program(["/bin/ptytest", what], timeout=180)
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, f"the kernel broke: {trouble[:3]}"
    out = run.output.replace("\r\n", "\n")
    if check:
        check(out)
    assert run.status == 0, f"ptytest {what} failed on Vigil: {run.output[-800:]}"
    return out


def _diff(host: str, ours: str) -> list[str]:
    h, v = host.strip().splitlines(), ours.strip().splitlines()
    n = min(len(h), len(v))
    out = [f"line {i}: host {a!r} vigil {b!r}"
           for i, (a, b) in enumerate(zip(h[:n], v[:n], strict=True)) if a != b]
    if len(h) != len(v):
        out.append(f"host has {len(h)} lines, vigil {len(v)}: "
                   f"host ends {h[-2:]!r}, vigil {v[-2:]!r}")
    return out


def test_pty_line_discipline_behaves_as_on_linux(vigil) -> None:  # type: ignore[no-untyped-def]
    """posix_openpt, grantpt, unlockpt, ptsname (the slave is locked until
    unlockpt: EIO), the default termios, canonical editing (erase, kill,
    word-erase, VLNEXT, EOF after text and alone, short reads, one line per
    read), echo with ECHOCTL and ECHONL, raw mode's VMIN/VTIME (including
    the 0.2 s timeout and the interbyte timer), ICRNL/INLCR/IGNCR/ISTRIP,
    ONLCR and OPOST off, and bad input (unknown ioctls ENOTTY, bad pointers
    EFAULT, bad arguments EINVAL): what the host's Linux says."""
    host = _host(vigil.art.rootfs, "basics")
    ours = _vigil(vigil, "basics")
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:12])


def test_job_control_on_a_pty_behaves_as_on_linux(vigil) -> None:  # type: ignore[no-untyped-def]
    """A session on a pty slave with a foreground job A and a background job
    B: ^C, ^\\ and ^Z and a window-size change signal A only (not B, not the
    shell); ^Z with the default action stops A (WUNTRACED) and SIGCONT
    continues it (WCONTINUED); B reading is stopped by SIGTTIN and its read
    goes on once it is foreground and continued; with SIGTTIN ignored it
    gets EIO; TOSTOP stops B's write with SIGTTOU; tcsetpgrp from the
    background is SIGTTOU (EINTR with a handler), with its errors; when the
    session leader exits the foreground job gets SIGHUP and the stopped,
    now orphaned job SIGHUP and SIGCONT."""
    host = _host(vigil.art.rootfs, "jobs")
    ours = _vigil(vigil, "jobs", _jobs_promises)
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:12])


def _jobs_promises(out: str) -> None:
    wrong = re.search(r"^[BL]: INT [1-9].*$", out, re.M)
    assert not wrong, f"^C reached a process outside the foreground group: {wrong.group(0)!r}"
    assert "L: B stopped by SIGTTIN" in out, (
        "a background reader was not stopped by SIGTTIN: "
        + repr([x for x in out.splitlines() if x.startswith(("B:", "L: B", "TIMEOUT"))][:4]))


def test_a_hung_up_pty_reads_eof_and_writes_eio_as_on_linux(vigil) -> None:  # type: ignore[no-untyped-def]
    """The master closes: the slave's session leader gets SIGHUP, its reads
    say end of file, its writes EIO, and it has no terminal any more; the
    slave closes: the master reads what was left, then EIO; /dev/pts/N is
    gone once the master is."""
    host = _host(vigil.art.rootfs, "hangup")
    ours = _vigil(vigil, "hangup")
    assert not _diff(host, ours), "\n".join(_diff(host, ours)[:12])


_PROMPT = r"[#$] "


def _say(s, line: str, want: str) -> str:  # type: ignore[no-untyped-def]
    """Type a line, wait for `want` (a regex) and the next prompt."""
    s.sendline(line)
    m = s.expect(want + r"\r?\n", timeout=60)     # the whole line, not a prefix of it
    s.expect(_PROMPT, timeout=60)
    return m.group(0).decode(errors="replace").strip()


def test_bash_job_control_on_the_serial_console(vigil, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Debian's bash on the serial console (Ctrl-C reaches the guest as 0x03):
    Ctrl-C kills a running sleep (status 130) and bash survives; Ctrl-Z
    stops it, `jobs` says Stopped, `bg` runs it; a `cat` sent to the
    background is stopped by SIGTTIN, `fg` gives it the terminal back, it
    reads what is typed, and ^D ends it."""
    from harness.execute import debian_root
    disk = debian_root(vigil.art, tmp_path / "run.img", [])
    with vigil.session(root_disk=disk) as s:
        s.expect(_PROMPT, timeout=120)
        # The child says it runs (already in the foreground group) before ^C.
        s.sendline("sh -c 'echo sl$((1))eep; exec sleep 100'")
        s.expect("sl1eep", timeout=60)
        s.child.send(b"\x03")
        s.expect(_PROMPT, timeout=60)
        status = _say(s, "echo status=$?", r"status=\d+")
        assert status == "status=130", f"Ctrl-C did not kill the foreground sleep: {status}"
        assert _say(s, "echo alive $((40+2))", r"alive \d+") == "alive 42", "bash did not survive"

        s.sendline("sh -c 'echo sl$((2))eep; exec sleep 100'")
        s.expect("sl2eep", timeout=60)
        s.child.send(b"\x1a")
        s.expect("Stopped", timeout=60)
        s.expect(_PROMPT, timeout=60)
        job = r"\[1\]\+ +\w+[^\r\n]*"
        assert "Stopped" in _say(s, "jobs", job), "Ctrl-Z did not stop the sleep"
        _say(s, "bg", r"\[1\]\+ [^\r\n]*&")
        assert "Running" in _say(s, "jobs", job), "bg did not continue the job"
        _say(s, "kill %1; wait; echo killed $((1+1))", r"killed 2")

        # Typed only once cat runs: typeahead while readline has the terminal
        # raw is not echoed (on Linux too).
        s.sendline("sh -c 'echo ca$((1))t; exec cat'")
        s.expect("ca1t", timeout=60)
        s.sendline("one")
        s.expect(r"one\r?\n(?:.*\n)?one\r?\n", timeout=60)    # the echo, then cat's copy
        s.child.send(b"\x1a")
        s.expect("Stopped", timeout=60)
        s.expect(_PROMPT, timeout=60)
        _say(s, "bg", r"\[1\]\+ [^\r\n]*cat' &")
        said = _say(s, "wait %1; jobs", r"\[1\]\+ +Stopped[^\r\n]*")
        assert "Stopped" in said, f"cat reading in the background was not stopped: {said!r}"
        s.sendline("fg")
        s.expect(r"exec cat'\r?\n", timeout=60)       # bash names the job it continues
        s.sendline("two")
        s.expect(r"two\r?\n(?:.*\n)?two\r?\n", timeout=60)
        s.child.send(b"\x04")
        s.expect(_PROMPT, timeout=60)
        assert _say(s, "echo status=$?", r"status=\d+") == "status=0", "cat did not end at ^D"
        s.sendline("exit")
        assert s.wait_exit(60).kind == "ok"


def test_bash_line_editing_and_history_on_the_serial_console(vigil, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """readline on Vigil's line discipline (raw mode, no echo from the
    kernel): Up recalls the last command, Left moves back into a line,
    Backspace and typing edit it mid-line, Ctrl-A/Ctrl-E jump to its ends,
    Ctrl-R finds an older command; each runs what was edited, not what was
    typed first."""
    from harness.execute import debian_root
    disk = debian_root(vigil.art, tmp_path / "run.img", [])
    up, left, back = b"\x1b[A", b"\x1b[D", b"\x7f"
    with vigil.session(root_disk=disk) as s:
        s.expect(_PROMPT, timeout=120)
        assert _say(s, "echo first $((20+1))", r"first \d+") == "first 21"
        assert _say(s, "echo second $((20+2))", r"second \d+") == "second 22"
        # Up twice: "echo first ..." again, and it runs again.
        s.child.send(up + up + b"\r")
        s.expect(r"first 21\r?\n", timeout=60)
        s.expect(_PROMPT, timeout=60)
        # "echo hxllo$((1))": back over "llo$((1))" (9), erase the x, type e.
        s.child.send(b"echo hxllo$((1))" + left * 9 + back + b"e\r")
        m = s.expect(r"h\w+o1\r?\n", timeout=60)
        edited = m.group(0).decode(errors="replace").strip()
        assert edited == "hello1", f"mid-line editing ran {edited!r}, not 'hello1'"
        s.expect(_PROMPT, timeout=60)
        # Ctrl-A to the start, prefix a word; Ctrl-E to the end, append.
        s.child.send(b"ho $((3*3))" + b"\x01" + b"ec" + b"\x05" + b" end\r")
        m = s.expect(r"9 end\r?\n", timeout=60)
        s.expect(_PROMPT, timeout=60)
        # Ctrl-R: search history for "second" and run it.
        s.child.send(b"\x12second")
        s.expect("second", timeout=60)
        s.child.send(b"\r")
        s.expect(r"second 22\r?\n", timeout=60)
        s.expect(_PROMPT, timeout=60)
        s.sendline("exit")
        assert s.wait_exit(60).kind == "ok"
