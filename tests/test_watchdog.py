"""Nothing is silent: a CPU stuck in the kernel — holding the kernel lock,
or with interrupts off — is reported on the console with the function it
is stuck in (kernel/debug/watchdog.c). Every test fails on such a report
(tests/conftest.py); this one makes one on purpose."""

from __future__ import annotations


def test_a_cpu_stuck_holding_the_kernel_lock_is_reported_by_name(vigil) -> None:
    # crash=stall takes the kernel lock and spins with interrupts on; a short
    # threshold keeps the test quick (the default is 10 s).
    with vigil.session("crash=stall watchdog=2") as s:
        s.expect("crash: stall target", timeout=60)
        m = s.expect(r"watchdog: CPU 0 has held the kernel lock for 2 s, in (\w+)\+0x[0-9a-f]+\n",
                     timeout=120)
        assert m.group(1).decode() == "crash_stall"
        s.expect(r"BACKTRACE\n\s+#0 0x[0-9a-f]+ crash_stall\+", timeout=30)
        s.expect(r"#\d+ 0x[0-9a-f]+ crash_run\+", timeout=30)      # and who called it
