"""INVARIANT: process isolation. Per-process address spaces, demand paging,
copy-on-write fork."""

from __future__ import annotations

import re

import pytest
from test_privilege import kernel_addresses

pytestmark = pytest.mark.invariant("isolation")


@pytest.mark.parametrize("smp", [1, 2], ids=lambda n: f"smp{n}")
def test_a_signal_handler_gives_back_every_register(vigil, smp: int) -> None:
    """A process's registers are its own as much as its memory: signals
    (a timer's, a child's from another CPU) interrupt user/tests/sigregs.c
    anywhere in a loop that holds patterns in 12 general and 2 SSE
    registers; after each handler (which makes a syscall and uses SSE) all
    must be back. The host's Linux prints the same two lines."""
    host = vigil.host(["/bin/sigregs"])
    assert host.output == "signals: enough\nregisters: intact\n", host.output
    run = vigil.program(["/bin/sigregs"], smp=smp, timeout=180)
    assert "registers: intact" in run.output, \
        f"a register changed across an asynchronous signal handler: {run.output.strip()!r}"
    assert "signals: enough" in run.output, f"too few signals to judge: {run.output!r}"
    assert run.output == host.output and run.status == host.status == 0


def test_forked_child_writes_are_invisible_to_parent(vigil) -> None:
    """The child writes a global, the heap, its stack and an mmap page; the
    parent, after wait, still reads its own values in all four."""
    run = vigil.program(["/bin/isolation"])
    seen = re.search(r"^parent sees: (.*)$", run.output, re.M)
    assert seen, f"isolation never reported the parent's view: {run.output[-300:]!r}"
    assert seen.group(1) == "1 parent heap parent stack parent mmap", \
        f"the child's write is visible in the parent: parent sees {seen.group(1)!r}"
    assert run.status == 0, f"isolation ended with status {run.status}: {run.output[-300:]!r}"
    assert "child sees: 2 child heap child stack child mmap" in run.output
    assert "second child sees global=1" in run.output
    assert "same address, own values: yes" in run.output
    assert "probe of another's memory: killed by signal 11" in run.output
    assert run.output == vigil.host(["/bin/isolation"]).output



def test_a_page_shared_read_only_at_fork_stays_private_after_mprotect(vigil) -> None:
    """fork shares a PROT_READ page too; making it writable later must not
    let either side's write reach the other (the frame is still shared)."""
    run = vigil.program(["/bin/cowprot"])
    assert run.status == 0, f"cowprot ended with status {run.status}: {run.output[-300:]!r}"
    assert 'mprotect: child status 0; parent reads "parent"' in run.output, \
        f"the child's write is visible in the parent: {run.output[-300:]!r}"
    assert 'mprotect: child reads "before" after the parent\'s write' in run.output, \
        f"the parent's write is visible in the child: {run.output[-300:]!r}"


def test_clone_child_settid_writes_only_the_childs_copy(vigil) -> None:
    """glibc's fork: clone(CLONE_CHILD_SETTID|SIGCHLD). The tid lands in the
    child's memory; the parent's word stays 0."""
    run = vigil.program(["/bin/cowprot"])
    assert "settid: the child's word is its pid: yes" in run.output, run.output[-300:]
    assert "settid: the parent's word after the clone: 0" in run.output, \
        f"the child's tid is visible in the parent: {run.output[-300:]!r}"
    assert run.output == vigil.host(["/bin/cowprot"]).output

def test_process_cannot_read_kernel_memory(vigil) -> None:
    addrs = kernel_addresses(vigil.art)
    for what in ("readkernel", "readdirectmap", "writekernel"):
        run = vigil.program(["/bin/privileged", what, *addrs])
        assert run.status == -11 and f"{what}: still alive" not in run.output, \
            f"{what}: a user program read kernel memory and lived: {run.output[-200:]!r}"


def test_an_address_outside_every_region_is_a_segmentation_fault(vigil) -> None:
    """Demand paging gives pages only inside the process's own regions: a
    read of an address no mmap, brk or exec mapped is SIGSEGV, not a fresh
    zero page (and not another process's page that happens to sit there)."""
    run = vigil.program(["/bin/isolation", "probe", "0x600000000"])
    assert run.status == -11, (f"a read outside the process's regions got a page instead of "
                               f"SIGSEGV (status {run.status}): {run.output.strip()[-200:]!r}")


def test_memory_is_given_on_first_touch_and_returned(vigil) -> None:
    run = vigil.program(["/bin/demand"])
    assert run.status == 0
    numbers = [int(x) for x in re.findall(r": (\d+)$", run.output, re.M)]
    mapped, touched, after = numbers
    assert mapped == 0, "mmap alone took frames: not demand paging"
    assert 8192 <= touched <= 8192 + 64, "touching 8192 pages should take ~8192 frames"
    assert after == 0, "munmap did not give every frame back"
