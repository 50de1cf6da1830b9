"""mremap(2)'s MREMAP_DONTUNMAP (mremap07): the pages move, the old range
stays mapped and empty. user/tests/dontunmap.c makes the same calls on Vigil
and on the host's Linux; the outputs are compared line for line."""

from __future__ import annotations

import pytest

from harness.execute import diff_lines

pytestmark = pytest.mark.invariant("isolation")


_diff = diff_lines


def test_mremap_dontunmap_moves_the_pages_and_leaves_the_old_range_empty_as_linux(vigil) -> None:
    """Anonymous pages move intact and the old range reads zeros (also one
    page out of a region's middle, also to a hint or a MREMAP_FIXED place);
    a page a forked child shares stays the child's; shared memory shows the
    same pages at both ranges; a private file page moves and the old range
    reads the file again; an mlock'd range stays resident at the new place
    only. Bad inputs (no MREMAP_MAYMOVE, a resize, unknown flags, a fixed
    place over the old range, unmapped or too long old ranges, RLIMIT_AS)
    get Linux's errno."""
    argv = ["/bin/dontunmap", "/tmp"]
    host = vigil.host(argv)
    assert host.status == 0 and "dontunmap done" in host.output, host.output[-500:]
    run = vigil.program(argv)
    assert run.status == 0 and "dontunmap done" in run.output, run.console[-1500:]
    leaked = [x for x in run.output.splitlines() if ": old" in x and "[one]" in x]
    assert not leaked, f"the old range still shows the moved data: {leaked}"
    assert run.output == host.output, "MREMAP_DONTUNMAP differs from Linux:\n" + \
        _diff(run.output, host.output)
