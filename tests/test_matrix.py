"""The invariant matrix as a test: removing each mechanism must make its
tests fail with the symptom the row names (harness/matrix.py); a timeout,
a derailed boot or another assertion is caught for the wrong reason and
fails here too. (The unbroken kernel passing the same tests is the rest of
the suite.)"""

from __future__ import annotations

import pytest

from harness import matrix


# The row's tests run in a pytest of their own, each under the suite's
# 300-second limit; this one also builds the broken kernel, so it gets more
# (on a loaded machine the inner run alone can come near the limit).
@pytest.mark.timeout(900)
@pytest.mark.parametrize("row", matrix.ROWS, ids=lambda r: r.switch)
def test_removing_the_mechanism_shows_its_symptom(row: matrix.Row, accel: str) -> None:
    outcome = matrix.run_row(row, accel)
    assert outcome.caught, matrix.report([outcome])


def test_a_failure_counts_only_with_the_rows_symptom() -> None:
    """The judge itself: the symptom must be an assertion of the test and
    match the row's regex; a timeout or another assertion does not count."""
    row = next(r for r in matrix.ROWS if r.switch == "cow")
    right = matrix.Failure("t", "AssertionError: the child's write is visible in the parent: x")
    timeout = matrix.Failure("t", "Failed: Timeout >300.0s")
    other = matrix.Failure("t", "AssertionError: isolation ended with status None")
    assert matrix.Outcome(row, 1, (right,)).caught
    assert matrix.Outcome(row, 1, (timeout,)).verdict == "CAUGHT FOR THE WRONG REASON"
    assert matrix.Outcome(row, 1, (right, other)).verdict == "CAUGHT FOR THE WRONG REASON"
    assert matrix.Outcome(row, 1, ()).verdict == "NOT CAUGHT"
    assert not matrix.Outcome(row, 0, (right,)).caught


def test_every_row_has_a_switch_in_the_makefile() -> None:
    switches = [r.switch for r in matrix.ROWS]
    assert len(switches) == len(set(switches)), "two rows share a switch"
    assert set(switches) <= set(matrix.makefile_breaks()), "a row's switch is not in BREAKS"
