"""The invariant matrix as a test: every break switch must be caught by the
tests that guard its mechanism (and the unbroken kernel passes them: that
is the rest of the suite)."""

from __future__ import annotations

import pytest

from harness import matrix


@pytest.mark.parametrize("row", matrix.ROWS, ids=lambda r: r.switch)
def test_removing_the_mechanism_is_caught(row: matrix.Row, accel: str) -> None:
    outcome = matrix.run_row(row, accel)
    assert outcome.ran == len(row.tests), matrix.report([outcome])
    assert outcome.caught, matrix.report([outcome])
