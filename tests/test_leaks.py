"""Every frame a process used comes back when it is gone."""

from __future__ import annotations

import re

import pytest


@pytest.mark.invariant("isolation")
def test_fork_exec_exit_storm_returns_every_frame(vigil) -> None:
    run = vigil.program(["/bin/storm", "40"], timeout=180)
    m = re.search(r"free frames before (\d+) after (\d+)", run.output)
    assert m, run.output
    assert int(m.group(1)) == int(m.group(2))
    assert run.status == 0
