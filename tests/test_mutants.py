"""Tests written because `./vigil mutate` found code no test looked at
(docs/mutation.md lists each survivor and what kills it). The program is
user/tests/mutants.c; each mode probes one promise at its edge."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from harness import fsfuzz


@pytest.mark.invariant("isolation")
def test_prot_none_memory_cannot_be_read_by_the_process_or_through_a_syscall(vigil) -> None:
    argv = ["/bin/mutants", "protnone"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert guest.status == 0, f"mutants protnone ended with {guest.status}: {guest.output!r}"
    assert "read never-touched PROT_NONE: killed by signal 11" in guest.output
    assert guest.output == host.output


@pytest.mark.invariant("privilege")
def test_id_and_sigaction_argument_checks_match_linux(vigil) -> None:
    argv = ["/bin/mutants", "args"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert guest.status == 0 and guest.output == host.output


@pytest.mark.invariant("fairness")
def test_round_robin_turns_last_a_quantum_not_a_tick(vigil) -> None:
    # Not on the host: it spins two real-time threads for two seconds.
    run = vigil.program(["/bin/mutants", "rrturn"], smp=1)
    assert run.status == 0, f"mutants rrturn ended with {run.status}: {run.output!r}"
    assert "both ran: yes" in run.output, run.output
    assert "not a tick: yes" in run.output, run.output


@pytest.mark.invariant("privilege")
def test_kill_minus_one_skips_whom_the_caller_may_not_signal(vigil) -> None:
    # Signal 0 only: on the host it checks permissions and delivers nothing.
    argv = ["/bin/mutants", "killperm"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert "kill(parent, 0) = -1 Operation not permitted" in host.output, host.output
    assert guest.status == 0 and guest.output == host.output


@pytest.mark.invariant("isolation")
def test_the_process_cpu_clock_counts_only_this_process(vigil) -> None:
    argv = ["/bin/mutants", "cputime"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert "while a child spun: only mine" in host.output, host.output
    assert guest.status == 0 and guest.output == host.output


@pytest.mark.invariant("isolation")
def test_a_fork_that_runs_out_of_frames_fails_cleanly(vigil) -> None:
    # Vigil only (it reads VigilFreeFrames); 64 MiB so memory fills fast.
    run = vigil.program(["/bin/mutants", "forkoom"], mem="64M")
    assert run.status == 0, f"mutants forkoom ended with {run.status}: {run.output!r}"
    assert "fork with few frames left: Out of memory" in run.output, run.output
    assert "frames back: yes; fork works: yes" in run.output, run.output


def test_each_missing_syscall_is_reported_once(vigil) -> None:
    argv = ["/bin/mutants", "enosys"]
    guest, host = vigil.program(argv), vigil.host(argv)
    assert guest.output == host.output and guest.output.count("ENOSYS") == 5
    logged = [x.split(" (")[0] for x in guest.kernel_lines if "not implemented" in x]
    assert logged == [f"vigil: syscall {n} not implemented: {name}"
                      for n, name in ((183, "afs_syscall"), (184, "tuxcall"), (185, "security"))]
    # Vigil only (Linux has them): two numbers 64 apart in one block of 65 (keyrings and
    # modules, out of Vigil's scope: docs/ltp.md).
    run = vigil.program(["/bin/mutants", "enosys", "249", "313", "249"])
    logged = [x.split(" (")[0] for x in run.kernel_lines if "not implemented" in x]
    assert logged == ["vigil: syscall 249 not implemented: request_key",
                      "vigil: syscall 313 not implemented: finit_module"], run.output


def _journal_one_block(img: Path, home: int, work: Path) -> None:
    """Leave a committed, unreplayed one-block transaction for `home` in
    img's journal (debugfs), then point its tag at block home + 1."""
    bsize = int(re.search(r"Block size:\s+(\d+)", _dumpe2fs(img)).group(1))
    (work / "blk").write_bytes(bytes(bsize))
    (work / "cmds").write_text(f"jo\njw -b {home} {work / 'blk'}\njc\n")
    subprocess.run(["debugfs", "-w", "-f", str(work / "cmds"), str(img)], check=True,
                   capture_output=True)
    data = bytearray(img.read_bytes())
    desc = fsfuzz._inode_blocks(bytes(data), bsize, 8)[1]   # journal block 1: the descriptor
    at = desc * bsize + 12                                   # its first tag's home block
    assert struct.unpack_from(">I", data, at)[0] == home, "not the descriptor debugfs wrote"
    struct.pack_into(">I", data, at, home + 1)
    img.write_bytes(bytes(data))


def _dumpe2fs(img: Path) -> str:
    return subprocess.run(["dumpe2fs", "-h", str(img)], capture_output=True, text=True).stdout


@pytest.mark.invariant("kernel memory safety")
def test_recovery_refuses_a_tag_whose_home_is_one_past_the_end(vigil, tmp_path) -> None:
    """A journal tag naming the block just past the file system (the
    boundary) is corruption: recovery says so and writes nothing."""
    _, disk = vigil.scratch_disk(size_mb=16, block_size=1024)
    blocks = int(re.search(r"Block count:\s+(\d+)", _dumpe2fs(disk)).group(1))
    _journal_one_block(disk, blocks - 1, tmp_path)
    run = vigil.program(["/bin/hello"], root_disk=disk)
    assert f"journal: corrupt: a tag's home block {blocks} is past the end ({blocks})" in \
        run.console, run.console[-2000:]


@pytest.mark.invariant("privilege")
def test_only_root_may_reboot_and_unknown_commands_are_einval(vigil) -> None:
    # Vigil only: on the host it could stop the machine.
    run = vigil.program(["/bin/mutants", "reboot"])
    assert "uid 1000: reboot(POWER_OFF) = -1 Operation not permitted" in run.output, run.console
    for cmd in ("0x1234", "0x89abcdee", "0x1234566"):    # (0 is CAD_OFF, which Linux takes)
        assert f"root: reboot({cmd}) = -1 Invalid argument" in run.output, run.console
    assert run.status == 0, run.console
