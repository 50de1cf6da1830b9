"""INVARIANT: mutual exclusion, on several CPUs at once. Threads (clone),
futexes, real-time priorities with priority inheritance, and the kernel's
own locks under a storm of system calls from every CPU.

The programs (user/tests/*.c) print facts that do not depend on timing:
counts, yes/no answers about the order of events, CPU times read from the
kernel's own accounting. Where the output is deterministic it is compared
with the host Linux running the same binary.

Break switches: `futex` (a wake that comes before the wait is lost) hangs
futexpp (its watchdog reports it); `pi` (no priority inheritance) turns the
pathfinder's answer into "no"; `spinlock` (kernel spinlocks that do not
exclude) loses updates of the locktorture counter.
"""

from __future__ import annotations

import re

import pytest
from test_scheduling import fair_shares

pytestmark = pytest.mark.invariant("mutual exclusion")

SMP = [2, 4]
_KERNEL_TROUBLE = re.compile(r"^(lockdep:|PANIC|EXCEPTION)|panic", re.M)


def _kernel_quiet(run) -> None:
    """No lock-order report, exception dump or panic anywhere on the console."""
    trouble = [x for x in run.console.splitlines() if _KERNEL_TROUBLE.search(x)]
    assert not trouble, "the kernel complained:\n" + "\n".join(trouble[:20])


def _ok(run, what: str) -> None:
    if run.status is None:
        tail = [x for x in run.console.splitlines() if x.strip()][-3:]
        raise AssertionError(f"{what} never finished (Vigil hung or crashed); "
                             f"program output {run.output[-300:]!r}; console ends {tail}")
    assert run.status == 0, f"{what} ended with status {run.status}: {run.output[-600:]!r}"
    _kernel_quiet(run)


def _line(run, start: str) -> str:
    """The program's line that starts with `start` (for assertion messages)."""
    return next((x for x in run.output.splitlines() if x.startswith(start)), f"(no {start!r} line)")


# -- mutual exclusion ------------------------------------------------------


@pytest.mark.parametrize("smp", SMP, ids=lambda n: f"smp{n}")
def test_mutex_keeps_a_shared_counter_exact_on_every_cpu(vigil, smp: int) -> None:
    """2 threads per CPU add 1 a million times in all under a pthread mutex
    (contended: futex waits and wakes); not one increment is lost."""
    threads = 2 * smp
    run = vigil.program(["/bin/counter", "lock", str(threads), "1000000"], smp=smp, timeout=90)
    _ok(run, "counter lock")
    assert f"counter: lock, {threads} threads, 1000000 increments: counted 1000000, exact" \
        in run.output, run.output


@pytest.mark.parametrize("smp", SMP, ids=lambda n: f"smp{n}")
def test_unlocked_counter_loses_updates_proving_parallelism(vigil, smp: int) -> None:
    """The same program without the lock, one thread per CPU: increments
    that overlap on two CPUs overwrite each other. The loss shows the threads
    really run at the same time (and that the locked run above had something
    to exclude). Twenty million increments, so that the threads run long
    enough to overlap (a million takes a fast CPU a millisecond); an attempt
    that loses nothing is repeated, up to 10 times, before the program gives
    up and says "exact"."""
    run = vigil.program(["/bin/counter", "nolock", str(smp), "20000000"], smp=smp, timeout=90)
    _ok(run, "counter nolock")
    m = re.search(r"counted (\d+), lost (\d+)", run.output)
    assert m, f"no update was lost: the threads never overlapped: {run.output!r}"
    counted, lost = int(m.group(1)), int(m.group(2))
    assert counted + lost == 20000000 and lost > 0


def test_spinlock_keeps_a_kernel_counter_exact_across_cpus(vigil) -> None:
    """The kernel's own spinlock, without a process in sight: booted with
    `locktorture` (kernel/lib/locktorture.c), 2 CPUs each add 1 to one
    counter 20,000 times, each a read, a pause and a write under one
    spinlock: the total is exact. Without exclusion two CPUs read the same
    value and an update is lost."""
    run = vigil.boot("locktorture", smp=2, timeout=120)
    m = re.search(r"locktorture: (\d+) CPUs x (\d+) rounds: counted (\d+)", run.output)
    assert m, f"locktorture did not report: {run.output[-600:]!r}"
    cpus, rounds, counted = map(int, m.groups())
    assert cpus == 2, f"only {cpus} CPU(s) started: nothing to exclude"
    assert counted == cpus * rounds, (f"updates lost under a spinlock: {cpus} CPUs x {rounds} "
                                      f"rounds counted {counted}")
    assert run.exit.kind == "ok", run.exit


def test_concurrent_syscalls_on_shared_state_lose_no_update(vigil) -> None:
    """The kernel lock: two threads on two CPUs exchange the umask they
    share 100,000 times each (user/tests/umaskrace.c). Exchanges that take
    turns form one chain: every value set comes back exactly as often.
    Without the lock two exchanges overlap and one is lost, or the kernel's
    own lock-rule check (ASSERT_HELD) sees the lock change hands under a
    holder and stops the machine: two threads were in the kernel at once."""
    run = vigil.program(["/bin/umaskrace", "100000"], smp=2, timeout=120)
    rule = [x for x in run.console.splitlines() if "lock rule:" in x or "kernel_lock:" in x]
    assert not rule, f"two holders of the kernel lock at once: {rule[0]}"
    line = _line(run, "umaskrace:")
    assert "umaskrace: 2 threads" in line, f"umaskrace never reported: {run.output[-300:]!r}"
    assert line.endswith("every value handed back once"), \
        f"updates lost under the kernel lock: {line}"
    _ok(run, "umaskrace")


@pytest.mark.parametrize("smp", SMP, ids=lambda n: f"smp{n}")
def test_kernel_survives_thread_storm_with_lockdep_silent(vigil, smp: int) -> None:
    """8 threads each fork/wait children, mmap/touch/munmap, open/dup/close
    files and make pipes, 25 rounds, all at once: every result is right and
    the kernel's lock-order checker (lockdep) has nothing to say."""
    run = vigil.program(["/bin/threadstorm", "8", "25"], smp=smp, timeout=60)
    _ok(run, "threadstorm")
    assert ("threadstorm: 8 threads x 25 rounds: forks 200 ok, maps 200 ok, files 200 ok, "
            "pipes 200 ok, errors 0") in run.output, run.output


# -- futexes -----------------------------------------------------------------


def test_futex_ping_pong_never_loses_a_wakeup(vigil) -> None:
    """Two threads hand a turn back and forth 20000 times with raw
    FUTEX_WAIT/FUTEX_WAKE, the turn often changing between a thread's check
    and its sleep. A lost wake leaves both asleep: the program's watchdog
    says so after 20 s without progress (status 2)."""
    run = vigil.program(["/bin/futexpp", "20000"], smp=2, timeout=180)
    assert "stuck at round" not in run.output, run.output
    _ok(run, "futexpp")
    assert "futexpp: 20000 rounds completed" in run.output


def test_futex_errors_match_linux(vigil) -> None:
    """EAGAIN for a value that differs, ETIMEDOUT, EFAULT, EINVAL for a bad
    timeout or a misaligned word, ENOSYS for an unknown op: as Linux says."""
    argv = ["/bin/futexerr"]
    run = vigil.program(argv, smp=2, timeout=60)
    _ok(run, "futexerr")
    host = vigil.host(argv)
    assert host.status == 0
    assert run.output == host.output
    assert run.output.count("EAGAIN") == 2 and run.output.count("ETIMEDOUT") == 4


# -- threads -----------------------------------------------------------------


@pytest.mark.parametrize("smp", [1, 2], ids=lambda n: f"smp{n}")
def test_thread_has_its_own_tid_and_shares_the_pid(vigil, smp: int) -> None:
    """pthread_create/join pass return values; in a thread gettid() differs
    from getpid() and getpid() is the process's; a raw clone(CLONE_THREAD)
    thread that ends with SYS_exit ends alone (its child-tid word cleared and
    woken) and main goes on."""
    argv = ["/bin/threads", "basic"]
    run = vigil.program(argv, smp=smp, timeout=60)
    _ok(run, "threads basic")
    assert run.output == vigil.host(argv).output
    assert "main: gettid() == getpid(): yes" in run.output
    assert run.output.count("tid differs from pid: yes") == 5
    assert "thread ids distinct: yes" in run.output
    assert "main: still running after the thread's exit: yes" in run.output


def test_last_thread_to_exit_ends_the_process(vigil) -> None:
    """main calls pthread_exit while another thread still runs: the process
    lives on until that thread returns, and ends with status 0."""
    argv = ["/bin/threads", "exit"]
    run = vigil.program(argv, smp=2, timeout=60)
    _ok(run, "threads exit")
    assert run.output == vigil.host(argv).output
    assert "second thread: finishing after main's pthread_exit" in run.output


def test_exit_group_from_a_thread_ends_the_whole_process_with_its_status(vigil) -> None:
    """A thread's _exit(42) (exit_group) while main is blocked in
    pthread_join and a third thread sleeps: the process ends, status 42."""
    argv = ["/bin/threads", "exitgroup"]
    run = vigil.program(argv, smp=2, timeout=60)
    host = vigil.host(argv)
    assert host.status == 42
    assert run.status == 42, f"status {run.status}: {run.output[-400:]!r}"
    _kernel_quiet(run)
    assert run.output == host.output
    assert "join returned" not in run.output


def test_fault_in_a_thread_kills_the_whole_process(vigil) -> None:
    """A thread writes to address 16 while main waits in pthread_join: the
    whole process dies of SIGSEGV, not just the thread, and the kernel
    reports it once."""
    argv = ["/bin/threads", "fault"]
    run = vigil.program(argv, smp=2, timeout=60)
    host = vigil.host(argv)
    assert host.status == -11
    assert run.status == -11, f"status {run.status}: {run.output[-400:]!r}"
    _kernel_quiet(run)
    assert run.output == host.output
    assert "join returned" not in run.output
    reports = [x for x in run.kernel_lines if "killed by SIGSEGV" in x]
    assert len(reports) == 1, f"one report for the process, not one per thread: {reports}"


@pytest.mark.parametrize("smp", [1, 2, 4], ids=lambda n: f"smp{n}")
def test_pthread_programs_match_linux(vigil, smp: int) -> None:
    """create/join, TLS per thread, mutex types, condvar ping-pong, broadcast,
    barrier, semaphores, rwlock, once/keys, detach: the same output as on
    Linux (the program checks each result itself; nothing printed depends on
    scheduling)."""
    argv = ["/bin/pthreads"]
    run = vigil.program(argv, smp=smp, timeout=90)
    _ok(run, "pthreads")
    host = vigil.host(argv)
    assert host.status == 0 and "pthreads: done" in host.output
    assert run.output == host.output


# -- priorities ----------------------------------------------------------------


@pytest.mark.parametrize("smp", SMP, ids=lambda n: f"smp{n}")
def test_priority_inheritance_prevents_pathfinder_inversion(vigil, smp: int) -> None:
    """Low (FIFO 10) holds a PTHREAD_PRIO_INHERIT mutex, one FIFO-20 hog per
    CPU spins, high (FIFO 30) asks for the mutex: the kernel lends low high's
    priority, low finishes, and high gets the mutex while the hogs still run.
    Without inheritance (break switch `pi`) the answer is "no"."""
    run = vigil.program(["/bin/pathfinder", "inherit"], smp=smp, timeout=90)
    _ok(run, "pathfinder inherit")
    assert f"pathfinder: protocol inherit, {smp} hogs" in run.output, run.output
    got = _line(run, "pathfinder: high got the mutex")
    assert got == "pathfinder: high got the mutex before the hogs finished: yes", got
    assert "pathfinder: low finished its critical section before the hogs finished: yes" \
        in run.output


def test_priority_inheritance_hands_over_by_priority_follows_chains_and_ends(vigil) -> None:
    """PI beyond one waiter (user/tests/pichain.c, all on one CPU so the
    order of events is decided by priorities alone, at any VIGIL_SMP):
    an unlock hands the mutex to the highest-priority waiter, not the first
    in the queue; a thread two locks down a chain runs at the priority of the
    thread at its top; a waiter that times out takes its loan back."""
    run = vigil.program(["/bin/pichain"], timeout=120)
    _ok(run, "pichain")
    got = _line(run, "handover:")
    assert got == "handover: 30, 20, 10", \
        f"the PI unlock did not hand over by priority (30 first): {got!r}"
    got = _line(run, "chain:")
    assert got == "chain: C, B, A, hog", \
        f"the chain's tail did not run at its head's priority (C before the hog): {got!r}"
    got = _line(run, "timeout:")
    assert got == "timeout: A timed out, hog, L", \
        f"the owner kept a timed-out waiter's priority (L before the hog): {got!r}"


def test_realtime_hogs_starve_a_lower_priority_mutex_holder(vigil) -> None:
    """The control for the test above: with PTHREAD_PRIO_NONE the FIFO-20
    hogs keep the FIFO-10 holder off every CPU until their budget (200
    million loop turns each) runs out, so high waits for them: priorities
    are strict, and the inversion the test above prevents is real."""
    run = vigil.program(["/bin/pathfinder", "none", "200"], smp=2, timeout=90)
    _ok(run, "pathfinder none")
    assert "pathfinder: high got the mutex before the hogs finished: no" in run.output, \
        run.output


# -- fairness ------------------------------------------------------------------


@pytest.mark.parametrize(("smp", "threads"), [(2, 3), (4, 6)], ids=["smp2-3", "smp4-6"])
def test_cpu_bound_threads_share_all_cpus_fairly(vigil, smp: int, threads: int) -> None:
    """N spinning threads on M CPUs for 2 s (N not a multiple of M, so the
    scheduler has to move threads between CPUs): by the kernel's own
    accounting (CLOCK_THREAD_CPUTIME_ID) each gets the ideal share +- 10%
    and at least half of M x 2 s / N (fair_shares in test_scheduling.py).
    That the CPUs run threads in parallel at all is the unlocked counter's
    test."""
    run = vigil.program(["/bin/smpfair", str(threads), "2"], smp=smp, timeout=90)
    _ok(run, "smpfair")
    assert f"smpfair: {threads} threads, {smp} CPUs online" in run.output, run.output
    shares = [int(x) for x in re.findall(r"cpu_ms (\d+)", run.output)]
    assert len(shares) == threads, run.output
    fair_shares(shares, smp, 2000)


# -- TLB shootdown -------------------------------------------------------------


@pytest.mark.parametrize("smp", SMP, ids=lambda n: f"smp{n}")
def test_other_cpus_stop_using_a_changed_mapping(vigil, smp: int) -> None:
    """A thread on CPU 1 keeps a page in its TLB while CPU 0 unmaps it,
    makes it read-only, or forks: its next access faults, and the forked
    child never sees the parent's later writes (TLB shootdown by IPI).
    Break switch `tlb` (only the changing CPU flushes): "STALE ACCESS"."""
    run = vigil.program(["/bin/tlbshoot"], smp=smp, timeout=60)
    _ok(run, "tlbshoot")
    assert ("tlbshoot: munmap: fault; mprotect: fault; fork: child's page unchanged"
            in run.output), run.output


# -- the lock-order checker ----------------------------------------------------


def test_lock_order_inversion_is_reported_with_both_locks(vigil) -> None:
    """In-kernel hook (kernel/lib/lockdep_test.c): one path takes ktest-a
    then ktest-b, another ktest-b then ktest-a. Neither deadlocks run one
    after the other, but the checker reports the pair the first time, once,
    naming both locks and the function that took each on both paths."""
    run = vigil.boot("ktest=lockdep.opposite_orders_are_reported_once", timeout=60)
    reports = [x for x in run.output.splitlines() if x.startswith("lockdep:")]
    heads = [x for x in reports if "possible deadlock" in x]
    assert heads, ("no lock-order report: ktest-a and ktest-b were taken in opposite orders "
                   f"and lockdep said nothing: {run.output[-400:]!r}")
    assert len(heads) == 1, run.output
    assert '"ktest-a"' in heads[0] and '"ktest-b"' in heads[0], heads
    body = "\n".join(reports)
    assert "path_one_takes_a_then_b" in body and "path_two_takes_b_then_a" in body, body
    assert "ok 1 opposite_orders_are_reported_once" in run.output
