"""harness/stracenorm.py, the differential strace test's normaliser: it
removes only what may honestly differ between two kernels (ids, addresses,
vDSO calls, the loader's order, what a test names with its reason) and
keeps every call and result a program makes (no QEMU here)."""

from __future__ import annotations

from harness import stracenorm as sn

# A parent forks a child that exits 3; lines interleave as strace -f prints them.
LOG = """\
100   execve("/bin/p", ["p"], 0x7ffd0 /* 3 vars */) = 0
100   brk(NULL)                         = 0x55d000
100   clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=2}) = 0
100   clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>
101   getpid( <unfinished ...>
100   <... clone resumed>)              = 101
101   <... getpid resumed>)             = 101
101   openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
101   exit_group(3)                     = ?
101   +++ exited with 3 +++
100   wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 101
100   --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=3} ---
100   exit_group(0)                     = ?
"""


def test_parse_joins_a_call_split_by_another_threads_line() -> None:
    evs = sn.parse(LOG)
    clone = next(e for e in evs if e.name == "clone")
    assert (clone.pid, clone.result) == (100, "101")
    assert clone.args.startswith("child_stack=NULL, flags=SIGCHLD")
    enoent = next(e for e in evs if e.name == "openat")
    assert (enoent.result, enoent.errno) == ("-1", "ENOENT")
    sig = next(e for e in evs if e.kind == "signal")
    assert (sig.name, sig.result) == ("SIGCHLD", "CLD_EXITED")


def test_threads_are_named_by_their_place_in_the_clone_tree_not_their_ids() -> None:
    a = sn.normalise(LOG)
    b = sn.normalise(LOG.replace("101", "7001").replace("100 ", "6000 "))
    assert a.threads == b.threads and a.signals == b.signals
    assert a.threads["1"][2:4] == ["clone = 1.1", "wait4 = 1.1"]
    assert a.threads["1.1"][0] == "getpid = 1.1"


def test_a_child_printed_before_its_parents_clone_returns_keeps_its_name() -> None:
    log = ("1 clone(flags=SIGCHLD <unfinished ...>\n2 getpid() = 2\n"
           "1 <... clone resumed>) = 2\n1 clone(flags=SIGCHLD) = 3\n3 getpid() = 3\n")
    assert sn.thread_names(sn.parse(log)) == {1: "1", 2: "1.1", 3: "1.2"}


def test_a_changed_result_or_errno_is_a_difference() -> None:
    a = sn.normalise(LOG)
    for before, after in [("= -1 ENOENT", "= -1 EACCES"), ("exited with 3", "exited with 4"),
                          ("si_code=CLD_EXITED", "si_code=SI_USER")]:
        b = sn.normalise(LOG.replace(before, after))
        assert (a.threads, a.signals) != (b.threads, b.signals), after
        assert a.diff(b), after


def test_a_missing_or_extra_call_is_a_difference() -> None:
    a = sn.normalise(LOG)
    b = sn.normalise(LOG.replace("101   getpid( <unfinished ...>\n", "").replace(
        "101   <... getpid resumed>)             = 101\n", ""))
    assert a.threads != b.threads
    c = sn.normalise(LOG + "100   getuid() = 0\n")
    assert a.threads != c.threads


def test_addresses_and_vdso_calls_are_not_compared() -> None:
    a = sn.normalise(LOG)
    b = sn.normalise(LOG.replace("0x55d000", "0x7f0000").replace(
        "100   clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=2}) = 0\n", ""))
    assert a.threads == b.threads
    assert "brk = ADDR" in a.threads["1"]


def test_dropped_calls_take_their_descriptors_calls_with_them() -> None:
    linux = ("1 socket(AF_UNIX, SOCK_STREAM, 0) = 3\n1 connect(3, {...}, 110) = -1 ENOENT "
             "(No such file or directory)\n1 close(3) = 0\n1 getuid() = 0\n")
    vigil = "1 socket(AF_UNIX, SOCK_STREAM, 0) = -1 ENOSYS (Function not implemented)\n" \
            "1 getuid() = 0\n"
    drop = {"socket": "Vigil has none"}
    assert sn.normalise(linux, drop).threads == sn.normalise(vigil, drop).threads == \
        {"1": ["getuid = 0"]}
    assert sn.normalise(linux).threads != sn.normalise(vigil).threads


def test_reads_of_a_file_that_varies_are_compared_without_their_counts() -> None:
    log = ('1 openat(AT_FDCWD, "/proc/filesystems", O_RDONLY) = 3\n1 read(3, "x"..., 1024) = {}\n'
           '1 close(3) = 0\n1 read(0, "", 10) = {}\n')
    vary = {"/proc/filesystems": "kernel's own list"}
    a, b = sn.normalise(log.format(47, 0), vary=vary), sn.normalise(log.format(364, 0), vary=vary)
    assert a.threads == b.threads
    c = sn.normalise(log.format(47, 5), vary=vary)
    assert a.threads != c.threads                   # another descriptor is still compared


def test_the_loaders_start_up_is_compared_as_a_multiset() -> None:
    def ld(order: list[str]) -> str:
        lines = ['1 execve("/bin/p", ["p"], 0x1) = 0',
                 '1 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3', *order,
                 "1 munmap(0x7f0000, 4787) = 0", "1 getuid() = 0"]
        return "\n".join(lines) + "\n"
    heap = "1 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1000"
    fixed = "1 mmap(0x7f2000, 8192, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x7f2"
    rd = "1 read(3, \"\\177ELF\", 832) = 832"
    a = sn.normalise(ld([heap, rd, fixed]))
    assert a.threads == sn.normalise(ld([rd, fixed])).threads     # the minimal heap's growth
    assert a.threads == sn.normalise(ld([fixed, rd])).threads     # the order
    assert a.threads != sn.normalise(ld([rd])).threads            # a segment's mapping is not
    assert a.threads["1"][-1] == "getuid = 0"


def test_strace_c_tables_give_their_call_names() -> None:
    table = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 40.00    0.000004           1         4           mmap
 10.00    0.000001           1         1         1 access
------ ----------- ----------- --------- --------- ----------------
100.00    0.000010           1        10         1 total
"""
    assert sn.summary_names(table) == {"mmap", "access"}


def test_a_call_a_signal_restarted_is_compared_once() -> None:
    """Whether a SIGCHLD lands while wait4 sleeps is timing: the restarted
    call's first, interrupted half is not part of the comparison."""
    a = "1 wait4(-1, NULL, 0, NULL) = ? ERESTARTSYS\n1 wait4(-1, NULL, 0, NULL) = 2\n"
    b = "1 wait4(-1, NULL, 0, NULL) = 2\n"
    assert sn.normalise(a).threads == sn.normalise(b).threads
