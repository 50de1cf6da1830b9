"""Draw scheduling traces (harness/trace.py) as Gantt-style timelines: one
row per thread, coloured by state (running on CPU n, runnable, blocked and
why), PI loans outlined in red and each wait on a PI lock an arrow from the
waiter to the owner. Several traces go one above the other (`./vigil trace
--pathfinder`: with and without priority inheritance)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import trace as T

CPU_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22", "#8c564b",
               "#e377c2", "#7f7f7f"]
BLOCK_COLOURS = {"pi-lock": "#d62728", "futex": "#ff7f0e", "mutex": "#9467bd",
                 "sleep": "#e7ba52", "io": "#8c564b", "pipe": "#17becf", "wait": "#7f7f7f"}
PATHFINDER_ROLES = {10: "low", 20: "hog", 30: "high", 40: "main"}


@dataclass(frozen=True)
class Panel:
    title: str
    trace: T.Trace
    resolve: T.Resolver | None = None
    roles: dict[int, str] | None = None     # tid -> a name for its row
    tgids: frozenset[int] | None = None     # only these processes' threads
    window: tuple[int, int] | None = None   # only this stretch (tsc)


def pathfinder_roles(t: T.Trace) -> dict[int, str]:
    """user/tests/pathfinder.c's threads by their own FIFO priority."""
    return {tid: PATHFINDER_ROLES[p] for tid, p in t.base_prio.items() if p in PATHFINDER_ROLES}


def pathfinder_panel(title: str, t: T.Trace, resolve: T.Resolver | None = None) -> Panel:
    """Pathfinder's threads only, from high's start to the end of its wait
    on low's lock (or its own end), with as much again either side: where
    the inversion, or the loan, happens."""
    roles = pathfinder_roles(t)
    high = [tid for tid, r in roles.items() if r == "high"]
    tgids = frozenset(t.tgid[tid] for tid in roles if tid in t.tgid)
    window = None
    if high:
        seen = [e.tsc for e in t.events
                if e.tid == high[0] or (e.kind == "switch" and e.a == high[0])]
        first, last = min(seen), max(seen)
        woken = [w.woken.tsc for w in T.pi_waits(t) if w.waiter == high[0] and w.woken]
        last = max(woken) if woken else last
        pad = max(last - first, 1)
        window = (max(first - pad, t.t0), min(last + pad, t.tsc_now))
    return Panel(title, t, resolve, roles, tgids or None, window)


def _label(t: T.Trace, tid: int, roles: dict[int, str]) -> str:
    name = t.names.get(tid, "?")
    base = t.base_prio.get(tid, 0)
    role = f"{roles[tid]}: " if tid in roles else ""
    return f"{role}{tid} {name}" + (f" (FIFO {base})" if base else "")


def plot(panels: list[Panel], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = [len([tid for tid in T.timeline(p.trace)
                 if p.tgids is None or p.trace.tgid.get(tid) in p.tgids]) for p in panels]
    fig, axes = plt.subplots(len(panels), 1, squeeze=False,
                             figsize=(13, sum(max(r, 3) * 0.45 + 1.6 for r in rows)),
                             gridspec_kw={"height_ratios": [max(r, 3) for r in rows]})
    for ax, panel in zip([a[0] for a in axes], panels, strict=True):
        _draw(ax, panel)
    cpus = max(p.trace.ncpu for p in panels)
    handles = [Patch(color=CPU_COLOURS[c % len(CPU_COLOURS)], label=f"running on CPU {c}")
               for c in range(cpus)]
    handles.append(Patch(color="#d9d9d9", label="runnable"))
    handles += [Patch(color=c, label=f"blocked: {k}") for k, c in BLOCK_COLOURS.items()]
    handles.append(Patch(facecolor="none", edgecolor="red", linewidth=2,
                         label="running on a PI loan"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _draw(ax, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    t = panel.trace
    roles = panel.roles or {}
    segs = T.timeline(t, panel.resolve)
    lo, hi = panel.window or (t.t0, t.tsc_now)
    segs = {tid: [s for s in ss if s.end > lo and s.start < hi] for tid, ss in segs.items()
            if panel.tgids is None or t.tgid.get(tid) in panel.tgids}
    segs = {tid: ss for tid, ss in segs.items() if ss}
    tids = sorted(segs, key=lambda tid: (t.tgid.get(tid, tid), tid))
    row = {tid: i for i, tid in enumerate(tids)}
    for tid in tids:
        y = row[tid]
        for s in segs[tid]:
            start, end = max(s.start, lo), min(s.end, hi)
            x, w = t.ms(start), t.ms(end) - t.ms(start)
            if s.state == "running":
                colour, h = CPU_COLOURS[s.cpu % len(CPU_COLOURS)], 0.7
            elif s.state == "runnable":
                colour, h = "#d9d9d9", 0.7
            else:
                colour, h = BLOCK_COLOURS.get(s.why, "#bbbbbb"), 0.18
            loan = s.state != "blocked" and s.prio > s.base
            ax.broken_barh([(x, w)], (y - h / 2, h), facecolors=colour,
                           edgecolors="red" if loan else "none", linewidth=2 if loan else 0)
    for wait in T.pi_waits(t):
        if wait.waiter in row and wait.owner in row and lo <= wait.blocked.tsc <= hi:
            x = t.ms(wait.blocked.tsc)
            ax.annotate("", xy=(x, row[wait.owner]), xytext=(x, row[wait.waiter]),
                        arrowprops={"arrowstyle": "->", "color": "#d62728", "lw": 1.2})
            owner = f"{roles[wait.owner]} ({wait.owner})" if wait.owner in roles else wait.owner
            ax.text(x, row[wait.waiter] + 0.42, f" waits for {owner}'s lock",
                    color="#d62728", fontsize=7, va="bottom")
    ax.set_yticks(range(len(tids)), [_label(t, tid, roles) for tid in tids], fontsize=8)
    ax.set_ylim(-0.7, len(tids) - 0.3)
    ax.set_xlim(t.ms(lo), t.ms(hi))
    ax.invert_yaxis()
    ax.set_xlabel("ms since the trace was cleared")
    lost = f"; {t.lost} records lost (ring full)" if t.lost > 0 else ""
    ax.set_title(f"{panel.title} ({t.ncpu} CPUs, {len(t.events)} records{lost})", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
