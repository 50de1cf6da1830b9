"""Comparing a program's output on the host's Linux with its output on
Vigil, line by line, for the differential tests' assertion messages."""

from __future__ import annotations

from itertools import zip_longest


def line_diff(host: str, ours: str) -> list[str]:
    """The lines that differ (numbered, both versions), or []."""
    h, v = host.strip().splitlines(), ours.strip().splitlines()
    out = [f"line {i}: linux {a!r} vigil {b!r}"
           for i, (a, b) in enumerate(zip_longest(h, v, fillvalue="<none>")) if a != b]
    if len(h) != len(v):
        out.append(f"linux has {len(h)} lines, vigil {len(v)}: vigil ends {v[-3:]!r}")
    return out
