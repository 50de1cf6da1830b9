"""Nothing is silent: a CPU stuck in the kernel — holding the kernel lock,
or with interrupts off — is reported on the console with the function it
is stuck in (kernel/debug/watchdog.c). Every test fails on such a report
(tests/conftest.py); these make one on purpose, with a short threshold
(watchdog=2; the default is 10 s)."""

from __future__ import annotations

import re

import pexpect

# Generous: the report is due 2 s of the stuck CPU's (or its watcher's) ticks
# after the stall; a loaded TCG host may take several times that.
REPORT_WITHIN = 90


def _report(s, pattern: str, what: str) -> str:
    try:
        m = s.expect(pattern, timeout=REPORT_WITHIN)
    except pexpect.TIMEOUT:
        raise AssertionError(f"the stall went unreported: no watchdog line within "
                             f"{REPORT_WITHIN} s of {what}") from None
    return m.group(1).decode()


def test_a_cpu_stuck_holding_the_kernel_lock_is_reported_by_name(vigil) -> None:
    # crash=stall takes the kernel lock and spins with interrupts on; after
    # three thresholds' worth of the ticks the watchdog counts it says so:
    # the report must come before that line.
    with vigil.session("crash=stall watchdog=2") as s:
        s.expect("crash: stall target", timeout=60)
        i = s.child.expect([r"watchdog: CPU 0 has held the kernel lock for 2 s, "
                            r"in (\w+)\+0x[0-9a-f]+\r*\n",
                            r"crash: stall reached 3x the watchdog threshold", pexpect.TIMEOUT],
                           timeout=REPORT_WITHIN)
        if i != 0:
            raise AssertionError("the stall went unreported: no watchdog line "
                                 + ("within 3x its threshold of the stuck CPU's ticks" if i == 1
                                    else f"within {REPORT_WITHIN} s of crash=stall"))
        fn = s.child.match.group(1).decode()
        assert fn == "crash_stall"
        s.expect(r"BACKTRACE\n\s+#0 0x[0-9a-f]+ crash_stall\+", timeout=30)
        s.expect(r"#\d+ 0x[0-9a-f]+ crash_run\+", timeout=30)      # and who called it


def test_a_cpu_stuck_with_interrupts_off_is_reported_by_name(vigil) -> None:
    # crash=stall-irq: CPU 0 spins with interrupts off once CPU 1 is up; CPU 1
    # sees CPU 0's ticks stop and sends it an NMI, which says where it is.
    with vigil.session("crash=stall-irq watchdog=2", smp=2) as s:
        s.expect("crash: stall-irq target", timeout=60)
        fn = _report(s, r"watchdog: CPU 0 has had interrupts off for 2 s, "
                        r"in (\w+)\+0x[0-9a-f]+\n", "crash=stall-irq")
        assert fn == "crash_stall_irq"
        s.expect(r"BACKTRACE\n\s+#0 0x[0-9a-f]+ crash_stall_irq\+", timeout=30)


def test_a_thread_stuck_asleep_in_the_kernel_is_reported_with_pid_syscall_and_backtrace(
        vigil) -> None:
    # crash=hung: the first sync(2) sleeps uninterruptibly on a channel no
    # one wakes (a lost I/O completion's symptom). hungtask=2: the hung-task
    # watchdog must name the process, its syscall and where it sleeps.
    # A child of hungtask's says when ten thresholds have passed by the
    # guest's clock: a report not in by then is not coming.
    with vigil.session("crash=hung hungtask=2") as s:
        s.expect(r"\$ ", timeout=60)
        s.sendline("hungtask 20")
        pid = s.expect(r"hungtask: pid (\d+) calls sync", timeout=60).group(1).decode()
        s.expect(r"crash: hung target", timeout=60)
        i = s.child.expect([r"watchdog: hung task: (pid \d+ \(\S+\), syscall \d+ \(\w+\))"
                            r", blocked in the kernel for \d+ s", r"hungtask: 20 s have passed",
                            pexpect.TIMEOUT], timeout=REPORT_WITHIN)
        if i != 0:
            raise AssertionError("the stall went unreported: no watchdog line "
                                 + ("in ten thresholds (20 s of the guest's clock)" if i == 1
                                    else f"within {REPORT_WITHIN} s of crash=hung"))
        line = s.child.match.group(1).decode()
        assert line == f"pid {pid} (hungtask), syscall 162 (sync)", line
        s.expect(r"BACKTRACE\n(\s+#\d+ .*\n)*?\s+#\d+ 0x[0-9a-f]+ crash_hung\+", timeout=30)
        s.expect(r"#\d+ 0x[0-9a-f]+ sys_sync\+", timeout=30)       # and who called it


def test_a_serial_break_makes_the_kernel_list_every_thread_with_its_syscall_and_wait(
        vigil, tmp_path) -> None:
    # A machine gone quiet with no thread in D state (a lost wakeup on an
    # interruptible wait, a livelock in user space) is asked what its
    # threads do: a break on the serial line (what ./vigil fuzz sends after
    # minutes of silence). cat, blocked reading the console, must be listed
    # asleep in read(2), with the kernel backtrace of its sleep.
    from harness.benchprof import Monitor
    from harness.qemu import Session, qemu_command

    sock = tmp_path / "monitor.sock"
    cmd = qemu_command(vigil.art, "", vigil.machine(), initrd=vigil.art.initrd)
    cmd[cmd.index("-monitor") + 1] = f"unix:{sock},server=on,wait=off"
    with Session(cmd, vigil._log("session")) as s:
        s.expect(r"\$ ", timeout=60)
        s.sendline("cat")
        mon = Monitor(sock, timeout=30)
        try:
            for _ in range(10):  # until cat has reached its read
                mon.command("chardev-send-break con0")
                s.expect(r"threads: CPU 0, tick \d+: a dump \(serial break\); "
                         r"min_vruntime \d+\r*\n", timeout=60)
                s.expect(r"threads: end", timeout=60)
                dump = s.child.before.decode(errors="replace")
                mine = re.search(r"threads: S tid (\d+) tgid \d+ cpu \d+ pid \d+ \(cat\), "
                                 r"syscall 0 \(read\), user rip 0x[0-9a-f]+, "
                                 r"policy 0 prio 0 nice 0 vruntime \d+ affinity 0x[0-9a-f]+, "
                                 r"on \S+\r*\n"
                                 r"threads:   user (rax .*)\r*\n"
                                 r"threads:   user r8 .*\r*\n"
                                 r"BACKTRACE\r*\n((?:\s+#\d+ .*\n)+)", dump)
                if mine:
                    break
            else:
                raise AssertionError("a serial break did not list cat asleep in read(2):\n" + dump)
        finally:
            mon.close()
        assert re.search(r"#0 0x[0-9a-f]+ sleep_locked\+", mine.group(3)), mine.group(0)
        assert re.search(r"#\d+ 0x[0-9a-f]+ sys_read\+", mine.group(3)), mine.group(0)
        # Its user registers are those of its read(2): the call's number
        # (0) in rax and descriptor 0 in rdi.
        assert re.match(r"rax 0 .*\brdi 0 ", mine.group(2)), \
            "the dump's user registers are not cat's read(2): " + mine.group(0)
        assert re.search(r"threads: \w tid 1 tgid 1 ", dump), "init is not listed:\n" + dump
