"""The real-time clock's steering (adjtimex, clock_adjtime, leap seconds)
and timers on every clock (user/tests/timekeep.c).

Its checks change nothing and are compared with the host Linux line for
line; the steering itself runs on Vigil only (it sets the clock) and states
facts: a step moves real time and not monotonic time, a frequency makes real
time run faster by what was asked, an inserted leap second repeats 23:59:59
once with TIME_INS, TIME_OOP, TIME_WAIT and an absolute sleep across it
never ends early, a relative real-time timer ignores a clock step, CPU-time
timers fire after that much CPU, and an overrun count saturates.
"""

from __future__ import annotations

CLOCK_FACTS = [
    "adjtimex(SETOFFSET +1000 s): ok",
    "real time stepped by 1000 s: yes",
    "real time runs faster by 500 ppm: yes",
    "read back: freq -6553600 offset 1234 maxerror 777 esterror 55 constant 3 tick 10001",
    "STA_INS armed: state 1",
    "the clock went back once: yes; TIME_OOP seen: yes; TIME_WAIT: yes",
    "STA_INS still set after the leap: state 4",
    "STA_INS cleared: state 0",
    "absolute sleep across the leap: 0, ended early: no",
    "interval read back exactly: yes; value at most 150 ms: yes",
    "process CPU timer (150 ms): fired yes, after at least 150 ms of CPU: yes",
    "thread CPU timer (100 ms): fired yes, after at least 100 ms of the thread's CPU: yes",
    "relative real-time timer after the clock moved a day: unmoved",
    "absolute real-time timer when the clock was set past it: fired",
    "overrun of a 1 ns timer that began in 1970: INT_MAX",
]


def test_clock_and_timer_errors_match_linux(vigil) -> None:
    argv = ["/bin/timekeep", "errors"]
    run = vigil.program(argv, timeout=60)
    assert run.status == 0, f"timekeep errors ended with {run.status}: {run.output[-500:]!r}"
    host = vigil.host(argv)
    assert host.status == 0 and "timekeep: done" in host.output, host.output[-500:]
    guest = [x for x in run.output.splitlines() if not x.startswith(("vigil: ", "init: "))]
    want = host.output.splitlines()
    diff = [f"vigil: {g!r}\nlinux: {h!r}" for g, h in zip(guest, want, strict=False) if g != h]
    assert guest == want, "timekeep errors differs from Linux:\n" + "\n".join(diff[:8])


def test_the_clock_steps_slews_and_leaps_as_told_and_timers_follow_their_clocks(vigil) -> None:
    run = vigil.program(["/bin/timekeep", "clock"], smp=2, timeout=120)
    assert run.status == 0 and "timekeep: done" in run.output, \
        f"timekeep clock ended with {run.status}: {run.output[-800:]!r}"
    lines = run.output.splitlines()
    missing = [f for f in CLOCK_FACTS if f not in lines]
    assert not missing, f"the clock or its timers broke a promise: {missing}\n{run.output[-1500:]}"
