"""INVARIANT: privilege separation. Ring 3 cannot run privileged
instructions, touch kernel memory, or make the kernel do it by proxy."""

from __future__ import annotations

import re
import subprocess

import pytest

from harness import symbols

pytestmark = pytest.mark.invariant("privilege")

PRIVILEGED = ["cli", "hlt", "in", "out", "rdmsr", "wrmsr", "movcr3", "lgdt",
              "readkernel", "readdirectmap", "writekernel", "jumpkernel", "execstack",
              "execheap"]


def kernel_addresses(art) -> list[str]:
    """Addresses that are really mapped in Vigil: kmain's code, and a kernel
    data word nothing uses after boot (the early double-fault stack)."""
    names = symbols.load(art.kernel_elf).all_names
    return [hex(names["kmain"]), hex(names["early_df_stack"])]


@pytest.mark.parametrize("what", PRIVILEGED)
def test_privileged_instruction_kills_only_that_process(vigil, what: str) -> None:
    argv = ["/bin/privileged", what, *kernel_addresses(vigil.art)]
    host = vigil.host(argv)
    guest = vigil.program(argv)
    assert guest.status is not None, (
        f"the kernel did not survive a user fault ({what}): "
        f"{[x for x in guest.console.splitlines() if 'PANIC' in x][-1:]}")
    assert host.status == -11, f"on Linux the {what} attempt must end in SIGSEGV: {host.output!r}"
    assert guest.status == -11, (f"{what} was allowed on Vigil (exit status {guest.status}, "
                                 f"not SIGSEGV): {guest.output.strip()[-200:]!r}")
    assert f"{what}: still alive" not in guest.output


@pytest.mark.parametrize("what", ["sgdt", "sidt"])
def test_user_mode_cannot_see_the_descriptor_tables(vigil, what: str) -> None:
    """UMIP: sgdt/sidt (and sldt, smsw, str) from ring 3 raise #GP, so a
    program cannot learn where the kernel keeps its GDT and IDT. (Not
    compared with Linux, which emulates them with dummy values.)"""
    run = vigil.program(["/bin/privileged", what])
    assert run.status == -11 and f"{what}: still alive" not in run.output, (
        f"{what} was allowed on Vigil: {run.output.strip()[-200:]!r}")


IOPORTS_FACTS = [
    "ioperm(65535, 2, on): EINVAL", "ioperm(0, 0, on): EINVAL", "ioperm(-1, 2, on): EINVAL",
    "ioperm(65536, 1, off): EINVAL", "iopl(4): EINVAL", "iopl(-1): EINVAL",
    "no ports: inb 0x80: killed by signal 11",
    "ioperm(0x80): inb 0x80: ran",
    "ioperm(0x80): outb 0x81: killed by signal 11",
    "nobody: ioperm(0x80, 1, on): EPERM", "nobody: ioperm(0x80, 1, off): 0",
    "nobody: iopl(3): EPERM", "nobody: iopl(0): 0",
    "nobody: inb 0x80 after asking: killed by signal 11",
    "forked after ioperm(0x80): inb 0x80: ran",
    "ioperm(0x80, 1, off): 0",
    "after turning 0x80 off: inb 0x80: killed by signal 11",
    "no ports, beside a process given 0x80: inb 0x80: killed by signal 11",
    "the holder: ran",
    "iopl(3): inb 0x60: ran",
    "iopl(3): cli: killed by signal 11",
]


@pytest.mark.parametrize("smp", [1, 2], ids=lambda n: f"smp{n}")
def test_io_ports_are_only_roots_and_only_the_given_ones(vigil, smp: int) -> None:
    """ioperm(2) and iopl(2) as Linux 6.1 keeps them (user/tests/ioports.c):
    only root gains ports (EPERM), a process touches only the ports it was
    given (a neighbouring port, or another process given none, faults with
    SIGSEGV although it shares the CPU: the TSS's bitmap is the running
    thread's), fork passes them on, iopl(3) opens every port but not cli,
    and bad ranges or levels are EINVAL. Not compared with the host, where
    the harness is not root with CAP_SYS_RAWIO."""
    run = vigil.program(["/bin/ioports"], smp=smp, timeout=60)
    lines = [x for x in run.output.splitlines() if not x.startswith("vigil: ")]
    leaked = [f for f in IOPORTS_FACTS
              if "killed" in f and f.replace("killed by signal 11", "ran") in lines]
    assert not leaked, f"a process given no port touched one: {leaked}"
    assert "ioports: done" in run.output, f"ioports ended early: {run.output[-400:]!r}"
    missing = [f for f in IOPORTS_FACTS if f not in lines]
    assert not missing, f"ioports differs from Linux's rules: {missing} in {lines}"


def test_kernel_keeps_running_programs_after_each_violation(vigil) -> None:
    with vigil.session() as s:
        s.expect(r"\$ ", timeout=60)
        addrs = " ".join(kernel_addresses(vigil.art))
        for what in PRIVILEGED:
            s.sendline(f"privileged {what} {addrs}")
            s.expect(r"Segmentation fault\n\$ ", timeout=60)
        s.sendline("hello")
        s.expect(r"hello, world\n\$ ", timeout=60)
        s.sendline("exit")
        assert s.wait_exit(60).kind == "ok"


SYSCALL_PROBES = ["write(kernel buf)", "read(into kernel)", "uname(kernel)", "stat(kernel path)",
                  "write(bad user ptr)", "write(non-canonical)"]


def test_syscalls_given_kernel_addresses_return_efault(vigil) -> None:
    # (30 s: with the checks removed, the kernel may hang instead of failing.)
    run = vigil.program(["/bin/privileged", "syscalls", *kernel_addresses(vigil.art)], timeout=30)
    results = re.findall(r"(\w+\([^)]*\)): (-?\d+ .*)$", run.output, re.M)
    allowed = [f"{call} -> {r}" for call, r in results if r != "-1 Bad address"]
    assert not allowed, f"syscalls given kernel addresses did not fail with EFAULT: {allowed}"
    assert [c for c, _ in results] == SYSCALL_PROBES, \
        f"the probe ended early: {run.output[-300:]!r} (status {run.status})"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_syscalls_never_hurt_the_kernel(vigil, seed: int) -> None:
    """Bad input never hurts the kernel: 100 processes x 400 syscalls with
    random numbers and poisonous pointers; each may fail or die, the kernel
    may not (the run must end with init's report and a clean power-off)."""
    run = vigil.program(["/bin/sysfuzz", str(seed), "100"], timeout=300)
    assert "PANIC" not in run.console and "EXCEPTION" not in run.console
    assert run.status == 0, run.console[-2000:]
    assert "sysfuzz: 100 children done" in run.output


def test_an_unprivileged_process_cannot_signal_another_users_process(vigil) -> None:
    """kill(2)'s rule: root, or the sender's real or effective uid equals
    the target's real or saved uid (SIGCONT: also within the session); else
    EPERM, for kill, tgkill and tkill. The whole table is compared with
    Linux; the symptom of a missing check is a uid-1000 process killing root."""
    guest = vigil.program(["/bin/killperm"])
    host = vigil.host(["/bin/killperm"])
    assert host.status == 0 and "uid 1000: kill(root, SIGKILL): EPERM" in host.output, host.output
    for call in ("kill", "tgkill", "tkill"):
        assert f"uid 1000: {call}(root, SIGKILL): EPERM" in guest.output, \
            f"a uid-1000 process may signal root ({call}): {guest.output[-600:]!r}"
    assert "root target: killed by signal 15" in guest.output, guest.output[-300:]
    diff = [f"vigil: {g!r}\nlinux: {h!r}" for g, h in
            zip(guest.output.splitlines(), host.output.splitlines(), strict=False) if g != h]
    assert guest.output == host.output, "the permission table differs from Linux:\n" + \
        "\n".join(diff[:6])


def test_init_ignores_signals_it_has_no_handler_for(vigil) -> None:
    """A process init adopted signals its parent, pid 1, with SIGUSR1...
    SIGKILL and SIGSTOP (user/tests/initsig.c): each kill succeeds and is
    discarded, as on Linux, and the machine runs on (issue 17's kill10
    hang). Vigil only: on a host it would signal the host's init."""
    run = vigil.program(["/bin/initsig"])
    assert run.status == 0 and "init survived" in run.output, \
        f"a signal from a process init adopted ended init: {run.console[-400:]!r}"
    assert "adopted: kill(init, SIGKILL): ok" in run.output, run.output[-600:]


def test_set_id_calls_follow_linux_rules(vigil) -> None:
    """setuid, seteuid, setreuid, setresuid and their gid twins, and
    setgroups: without root a process moves only among its own ids (and
    setreuid's real uid only to the real or effective one); root may set
    anything. 26 transitions, each compared with Linux (user/tests/creds.c)."""
    guest = vigil.program(["/bin/creds"])
    host = vigil.host(["/bin/creds"])
    assert host.status == 0 and "case" not in host.output, host.output
    gained = [x for x in guest.output.splitlines()
              if x.startswith("from 1000/1000/1000") and "-> uid 1000/1000/1000 gid 100/100/100"
              not in x and ": ok" in x and "setuid(1000" not in x]
    assert not gained, "a uid-1000 process became root (or took ids it did not have):\n" + \
        "\n".join(gained)
    diff = [f"vigil: {g}\nlinux: {h}" for g, h in
            zip(guest.output.splitlines(), host.output.splitlines(), strict=False) if g != h]
    assert guest.output == host.output, "the set*id table differs from Linux:\n" + \
        "\n".join(diff[:6])


@pytest.mark.invariant("privilege")
def test_only_root_maps_memory_below_vm_mmap_min_addr_as_on_linux(vigil) -> None:
    """vm.mmap_min_addr: a process without root gets EPERM from mmap,
    mremap and shmat at a fixed address below it (a hint there is not
    taken), so the page at address 0 stays unmapped and a NULL pointer
    is a fault; root may map page 0; nobody may not change the limit.
    user/tests/minaddr.c on the host and on Vigil, line for line."""
    argv = ["/bin/minaddr"]
    # Straight on the host, not in the tree's chroot: it reads the host's /proc.
    host = subprocess.run([str(vigil.art.rootfs / "bin" / "minaddr")], capture_output=True,
                          text=True, timeout=60)
    assert "minaddr done" in host.stdout, host.stdout + host.stderr
    run = vigil.program(argv)
    assert "minaddr done" in run.output, run.console[-1500:]
    low = re.compile(r"(at 0|rounded to 0|just below the limit|to 0): (mapped|attached)")
    mapped_low = [x for x in run.output.splitlines() if x.startswith("nobody") and low.search(x)]
    assert not mapped_low, ("an unprivileged process mapped memory below vm.mmap_min_addr: "
                            + "; ".join(mapped_low))
    diff = [f"linux {a!r} vigil {b!r}" for a, b in
            zip(host.stdout.splitlines(), run.output.splitlines(), strict=False) if a != b]
    assert not diff, "vm.mmap_min_addr differs from Linux:\n" + "\n".join(diff)
