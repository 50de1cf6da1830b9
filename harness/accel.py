"""KVM or TCG.

VIGIL_ACCEL=tcg or =kvm forces one. Otherwise (auto) KVM is used only when
/dev/kvm opens and a probe boot under it runs a user program correctly: the
paravirtual KVM on some machines here boots the kernel but mis-delivers the
`syscall` instruction (see README), and then TCG is the right choice. The
probe's verdict is cached per kernel build."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path

from .build import Artifacts
from .config import ROOT

_cached: dict[str, str] = {}


def kvm_openable() -> bool:
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def probe_kvm(art: Artifacts) -> bool:
    from .qemu import Machine, run  # late: qemu imports nothing from here

    with tempfile.TemporaryDirectory() as d:
        r = run(art, "-- /bin/hello", Machine(accel="kvm"), Path(d) / "probe.log",
                initrd=art.initrd, timeout=90)
    return "hello, world" in r.output and "init: exit status 0" in r.output


def choose(art: Artifacts) -> str:
    forced = os.environ.get("VIGIL_ACCEL", "auto")
    if forced in ("tcg", "kvm"):
        return forced
    if forced != "auto":
        raise ValueError(f"VIGIL_ACCEL must be tcg, kvm or auto, not {forced!r}")
    if not kvm_openable():
        return "tcg"
    st = art.kernel_mb.stat()
    key = f"{art.kernel_mb}:{st.st_mtime_ns}:{st.st_size}:{art.initrd.stat().st_mtime_ns}"
    if key in _cached:
        return _cached[key]
    cache = ROOT / "build" / ".accel-probe.json"
    with open(ROOT / "build" / ".accel-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one probe, however many test workers
        known = json.loads(cache.read_text()) if cache.exists() else {}
        if key not in known:
            known = {key: "kvm" if probe_kvm(art) else "tcg"}
            cache.write_text(json.dumps(known))
    _cached[key] = known[key]
    return known[key]
