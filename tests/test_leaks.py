"""Every frame, heap byte and heap block a process used comes back when it
is gone."""

from __future__ import annotations

import re

import pytest


@pytest.mark.invariant("isolation")
def test_fork_exec_exit_storm_returns_every_frame_and_heap_block(vigil) -> None:
    """40 processes (exec, memory, a thread and a pipe, plain exit) after a
    warm-up round: free frames, the kernel heap's bytes in use and its
    blocks in use per size class are exactly what they were before. One
    kmalloc never freed changes the bytes and one class's count."""
    run = vigil.program(["/bin/storm", "40"], timeout=180)

    def pair(what: str) -> tuple[str, str]:
        m = re.search(rf"^{what} before (.+) after (.+)$", run.output, re.M)
        assert m, f"storm did not report {what} (status {run.status}): {run.output[-300:]!r}"
        return m.group(1).strip(), m.group(2).strip()

    frames, heap_bytes, objects = pair("free frames"), pair("heap bytes"), pair("heap objects")
    assert heap_bytes[0] == heap_bytes[1], (
        f"the kernel heap leaked: heap bytes not back to baseline ({heap_bytes[0]} -> "
        f"{heap_bytes[1]}); blocks in use per class {objects[0]} -> {objects[1]}")
    assert objects[0] == objects[1], (
        f"the kernel heap leaked: blocks in use per class not back to baseline "
        f"({objects[0]} -> {objects[1]})")
    assert frames[0] == frames[1], f"frames leaked: free frames {frames[0]} -> {frames[1]}"
    assert run.status == 0


@pytest.mark.invariant("isolation")
def test_dynamic_python_runs_return_every_frame_and_heap_block(vigil) -> None:
    """Debian's python3 (dynamic: ld.so, file mappings of libc and the
    interpreter, a subprocess) run 4 times after two warm-up runs fill the
    caches: free frames and the kernel heap are exactly where they were."""
    prog = "import json, subprocess; subprocess.run(['true']); json.dumps(list(range(9**5)))"
    run = vigil.program(["/usr/local/bin/dynleak", "4", "/usr/bin/python3", "-c", prog],
                        files={"/usr/local/bin/dynleak": vigil.art.rootfs / "bin" / "dynleak"},
                        debian=True, timeout=300)
    assert "runs 4 failed 0" in run.output, run.output[-2000:]
    for what in ("heap bytes", "heap objects", "free frames"):
        m = re.search(rf"^{what} before (.+) after (.+)$", run.output, re.M)
        assert m, f"dynleak did not report {what}: {run.output[-300:]!r}"
        assert m.group(1).strip() == m.group(2).strip(), \
            f"a dynamic python3 run leaked: {what} {m.group(1)} -> {m.group(2)}"
    assert run.status == 0
