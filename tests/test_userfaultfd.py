"""userfaultfd(2) (mm/userfaultfd.c), MISSING mode over private anonymous
memory: what mremap07 needs. user/tests/uffd.c makes the same calls on
Vigil and on the host's Linux; the outputs are compared line for line."""

from __future__ import annotations

import pytest

from harness.execute import diff_lines

_diff = diff_lines


@pytest.mark.parametrize("smp", [1, 2])
def test_a_registered_missing_page_waits_for_its_reader_as_on_linux(vigil, smp: int) -> None:
    """A touch of a registered page with no frame (also the kernel's copy
    for read(2)) waits until the page's message is read and UFFDIO_COPY or
    UFFDIO_ZEROPAGE fills it; a filled page is EEXIST; fork, UNREGISTER and
    close give zero-fill back; MREMAP_DONTUNMAP's old range stays
    registered; bad flags, modes, ranges and ioctls get Linux's errno."""
    host = vigil.host(["/bin/uffd"])
    assert host.status == 0 and host.output.endswith("uffd done\n"), host.output[-500:]
    run = vigil.program(["/bin/uffd"], smp=smp, timeout=180)
    assert run.status == 0 and run.output.endswith("uffd done\n"), run.console[-1500:]
    assert run.output == host.output, "userfaultfd differs from Linux:\n" + \
        _diff(run.output, host.output)
