"""The Linux Test Project as the outside judge (`./vigil ltp`, docs/ltp.md).

The reader of LTP's results (harness/ltpresult.py) is tested on its own;
then a sample of tests/ltp-pass.txt, the tests that pass on Vigil today,
runs in one boot and every one of them must still pass (the whole list is
`./vigil ltp --filter-file tests/ltp-pass.txt`'s job). The sample is drawn
with a seed ($VIGIL_LTP_SEED, else the default), so a failure can be
replayed. Without LTP's source on the machine the tests fail, loudly: the
pass list guards the kernel only if it runs."""

from __future__ import annotations

import os
import random

import pytest

from harness import ltp
from harness.build import Artifacts
from harness.config import ROOT
from harness.ltpresult import ConsoleReader, Entry, family, parse_runtest, verdict
from harness.ltpresult import TestResult as LtpResult
from harness.qemu import Machine

PASS_LIST = ROOT / "tests" / "ltp-pass.txt"
SAMPLE = 24
QUICK_MS = 3000
SEED = int(os.environ.get("VIGIL_LTP_SEED", "17"))


def test_runtest_lines_become_entries() -> None:
    text = "#DESCRIPTION:syscalls\n\nabort01 abort01\nmmap001 mmap001 -m 1\n  # off\nbad\n"
    assert parse_runtest(text) == [Entry("abort01", "abort01"), Entry("mmap001", "mmap001 -m 1")]


@pytest.mark.parametrize(("rc", "want"), [
    (0, "TPASS"), (1, "TFAIL"), (2, "TBROK"), (3, "TBROK"), (4, "TWARN"), (5, "TFAIL"),
    (32, "TCONF"), (33, "TFAIL"), (36, "TWARN"), (124, "TIMEOUT"), (137, "TIMEOUT"),
    (127, "MISSING"), (139, "TBROK"), (64, "TBROK")])
def test_exit_status_bitmask_gives_the_worst_verdict(rc: int, want: str) -> None:
    assert verdict(rc) == want


def test_console_reader_brackets_each_test_and_keeps_its_failing_lines() -> None:
    r = ConsoleReader()
    lines = ["vigil: booting", "<<<ltp:ready>>>", "<<<ltp:start open01>>>",
             "open01.c:10: TPASS: fine", "<<<ltp:end open01 rc=0 ms=12>>>",
             "<<<ltp:start kill05>>>", "tst_test.c:1: TINFO: x",
             "kill05.c:89: TBROK: shmget failed: ENOSYS (38)", "vigil: syscall 29 (shmget): ENOSYS",
             "<<<ltp:end kill05 rc=2 ms=40>>>", "<<<ltp:start kill10>>>", "kill10 1 TFAIL : late"]
    done = [x for x in (r.feed(line) for line in lines) if x is not None]
    assert r.ready and not r.done
    assert [(x.name, x.verdict, x.ms) for x in done] == [("open01", "TPASS", 12),
                                                         ("kill05", "TBROK", 40)]
    assert done[1].lines == ["kill05.c:89: TBROK: shmget failed: ENOSYS (38)"]
    assert r.current == "kill10"
    lost = r.abandon("HANG", "no output for 300 s")
    assert lost is not None and lost.verdict == "HANG" and lost.rc is None
    assert lost.lines[0] == "kill10 1 TFAIL : late" and lost.lines[-1] == "no output for 300 s"
    assert r.abandon("HANG", "again") is None
    r.feed("<<<ltp:done>>>")
    assert r.done


def test_an_end_line_for_another_test_ends_nothing() -> None:
    r = ConsoleReader()
    r.feed("<<<ltp:start a01>>>")
    assert r.feed("<<<ltp:end b01 rc=0 ms=1>>>") is None
    assert r.current == "a01"


@pytest.mark.parametrize(("name", "fam"), [
    ("open01", "open"), ("fcntl34_64", "fcntl"), ("mmap001", "mmap"),
    ("epoll_wait01", "epoll_wait"), ("accept4_01", "accept4"), ("clone301", "clone3"),
    ("kill10", "kill")])
def test_family_is_the_name_less_its_number(name: str, fam: str) -> None:
    assert family(name) == fam


def _sample() -> list[str]:
    """SAMPLE names of the pass list, among those that took at most
    QUICK_MS when they were measured (the list's second column), so the
    boot stays short."""
    names = []
    for line in PASS_LIST.read_text().splitlines():
        words = line.split()
        if words and not words[0].startswith("#") and len(words) > 1 and \
                int(words[1]) <= QUICK_MS:
            names.append(words[0])
    return sorted(random.Random(SEED).sample(names, min(SAMPLE, len(names))))


def _run(art: Artifacts, entries: list[Entry], tmp_name: str,
         smp: int = 1) -> dict[str, LtpResult]:
    src = ltp.find_source()        # LtpUnavailable: fail, with what to do
    binaries = {e.command.split()[0] for e in entries} - {"timeout"}
    binaries |= {w for e in entries for w in e.command.split() if w.startswith("kill1")}
    target = ltp.prepare(art, src, binaries, Machine(mem="512M", smp=smp))
    workdir = ltp.BUILD / "tests" / tmp_name
    workdir.mkdir(parents=True, exist_ok=True)
    got = ltp.run_shard(target, entries, workdir, 0, lambda k, r: None)
    return {r.name: r for r in got}


# A fresh clone builds LTP's library and the sample's directories first (minutes of
# two cores, more under load): the build is setup, not the test, so it gets its own bound.
@pytest.mark.timeout(1200)
def test_ltp_pass_list_sample_still_passes(art: Artifacts) -> None:
    """Every sampled test of tests/ltp-pass.txt passes on Vigil."""
    names = _sample()
    src = ltp.find_source()
    by_name = {e.name: e for e in parse_runtest((src / "runtest" / "syscalls").read_text())}
    entries = [by_name[n] for n in names]
    got = _run(art, entries, f"sample-{os.getpid()}")
    bad = {n: (got[n].verdict, got[n].lines[:3]) if n in got else "no result" for n in names
           if n not in got or got[n].verdict != "TPASS"}
    assert not bad, f"LTP tests of tests/ltp-pass.txt no longer pass (seed {SEED}): {bad}"


def test_a_test_killed_by_its_timeout_leaves_the_machine_running(art: Artifacts) -> None:
    """Issue 17's kill10 hang: kill10 (two process groups of ten children
    signalling each other) killed in the middle by `timeout`, with SIGTERM
    (its handler signals the groups and waits for them) and with SIGKILL
    (the groups are orphaned, still running), on 2 CPUs; the next test must
    still run and pass: nothing a process does may leave the machine silent.
    (The mechanism, init ignoring what it has no handler for, is
    test_privilege's test_init_ignores_signals_it_has_no_handler_for.)"""
    smp = 2
    entries = [Entry("kill10-term", "timeout -s TERM 3 kill10 -I 30"),
               Entry("kill10-kill", "timeout -s KILL 3 kill10 -I 30"),
               Entry("kill12", "kill12")]
    got = _run(art, entries, f"kill10-{smp}-{os.getpid()}", smp=smp)
    assert {n: got[n].verdict for n in got if got[n].verdict in ("HANG", "CRASH", "PANIC")} == {}
    assert got["kill10-term"].verdict == "TIMEOUT", got["kill10-term"]
    assert got["kill10-kill"].verdict == "TIMEOUT", got["kill10-kill"]
    assert "kill12" in got and got["kill12"].verdict == "TPASS", got.get("kill12")


def test_a_64_bit_or_16_bit_variant_builds_from_its_base_source() -> None:
    """pselect03_64 is made by pselect/'s Makefile from pselect03.c: a
    sample naming it must build that directory (a fresh machine reported it
    MISSING)."""
    src = ltp.find_source()
    syscalls = src / "testcases" / "kernel" / "syscalls"
    assert ltp._dirs_of(src, {"pselect03_64"}) == [syscalls / "pselect"]
    assert ltp._dirs_of(src, {"setuid01_16"}) == [syscalls / "setuid"]


def test_a_binary_named_only_by_its_makefile_builds_from_that_directory() -> None:
    """nftw01 and nftw6401 are linked from nftw.c, tools.c... (no
    nftw01.c): nftw/'s Makefile names them in MAKE_TARGETS, and a filtered
    run must build that directory (they were MISSING)."""
    src = ltp.find_source()
    syscalls = src / "testcases" / "kernel" / "syscalls"
    assert ltp._dirs_of(src, {"nftw01", "nftw6401"}) == [syscalls / "nftw"]
