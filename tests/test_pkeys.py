"""Memory protection keys (pkeys(7), pkey01): pkey_alloc, pkey_free and
pkey_mprotect as Linux x86-64 has them, and what the keys enforce. The
program is user/tests/pkeys.c. The host's CPU has no PKU: its Linux answers
the calls as Linux does without the feature, and Vigil booted with "nopku"
must answer the same, line for line; with the feature (QEMU's CPU model
has it) the answers and the faults are checked against pkeys(7),
pkey_alloc(2) and sigaction(2)."""

from __future__ import annotations

import pytest

# The answers every kernel gives, with or without the feature.
COMMON = """\
pkey_alloc(flags 1): EINVAL
pkey_alloc(PKEY_DISABLE_EXECUTE): EINVAL
pkey_alloc(rights 8): EINVAL
pkey_alloc(rights -1): EINVAL
pkey_free(-1): EINVAL
pkey_free(16): EINVAL
pkey_free(5, never allocated): EINVAL
pkey_mprotect(key 1, never allocated): EINVAL
pkey_mprotect(key 16): EINVAL
pkey_mprotect(key -2): EINVAL
pkey_mprotect(key -1, as mprotect): 0
pkey_mprotect(length 0, key 99): 0
pkey_mprotect(unaligned, key 99): EINVAL
pkey_mprotect(bad prot, key 99): EINVAL
"""

# With the feature: keys 1-15 (key 0 is every process's), then ENOSPC.
WITH_PKU = COMMON + """\
keys allocated: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (15), then ENOSPC
pkey_mprotect(allocated key 15): 0
pkey_mprotect(unmapped range, allocated key): ENOMEM
pkey_mprotect(key 0): 0
pkey_free(3): 0, again: EINVAL
pkey_alloc after that: 3
pkeys calls done
"""

FAULT_WD = "SIGSEGV si_code 4 si_pkey 1 si_addr the page"
FAULT_AD = "SIGSEGV si_code 4 si_pkey 2 si_addr the page"
ACCESS = f"""\
PKRU at start: 0x55555554
pkey_alloc(WD) 1, pkey_alloc(AD) 2: PKRU bits set as asked
read through a write-disabled key: ok
write through a write-disabled key: {FAULT_WD}
handler's PKRU: 0x55555554
write with the key's rights cleared (WRPKRU): ok
read through an access-disabled key: {FAULT_AD}
write through an access-disabled key: {FAULT_AD}
read with key 2 only write-disabled: ok
write after pkey_mprotect(key 0), PKRU denying key 2: ok
write to a read-only page with a write-disabled key: {FAULT_WD}
first touch through an access-disabled key: {FAULT_AD}
page filled by that touch: no
read after mprotect (key kept): {FAULT_AD}
read(2) into a write-disabled page: EFAULT
write(2) from a write-disabled page: 4
write(2) from an access-disabled page: EFAULT
smaps: ProtectionKey 2 (key 2)
SIGUSR1 handler's PKRU: 0x55555554; after sigreturn: restored
fork: child's PKRU the parent's; pkey_free(2) 0; next key 2
exec: PKRU 0x55555554, first key 1
threads: this thread's writes all went through; the other thread's PKRU stayed its own
threads: handed over back and forth 200 times
pkeys access done
"""


def _lines_differ(got: str, want: str) -> str:
    g, w = got.splitlines(), want.splitlines()
    out = [f"got:  {a!r}\nwant: {b!r}" for a, b in zip(g, w, strict=False) if a != b]
    if len(g) != len(w):
        out.append(f"got {len(g)} lines, want {len(w)}: ends {g[-3:]!r}")
    return "\n".join(out[:8])


def test_pkey_calls_without_the_cpu_feature_answer_as_the_hosts_linux(vigil) -> None:
    """With "nopku" (as on the host, whose CPU lacks PKU) no key can be had:
    pkey_alloc says EINVAL, pkey_mprotect takes no key but -1, pkey_free
    none; bad flags, rights, keys and ranges get Linux's errno."""
    host = vigil.host(["/bin/pkeys", "calls"])
    assert host.status == 0 and host.output.endswith("pkeys calls done\n"), host.output[-400:]
    assert "keys allocated: (0), then EINVAL" in host.output, "the host's CPU has PKU now: " \
        "compare with it directly"
    run = vigil.program(["/bin/pkeys", "calls"], kernel_args="nopku")
    assert run.status == 0, run.console[-1500:]
    assert run.output == host.output, "pkey calls without PKU differ from Linux:\n" + \
        _lines_differ(run.output, host.output)


def test_pkey_calls_with_the_cpu_feature_allocate_fifteen_keys_and_check_input(vigil) -> None:
    """With PKU: keys 1 to 15 in order, then ENOSPC; a freed key is the next
    one given; pkey_mprotect takes allocated keys and key 0 (ENOMEM for an
    unmapped range), and the same bad input as without the feature."""
    run = vigil.program(["/bin/pkeys", "calls"])
    assert "pku on" in run.console, "Vigil did not turn protection keys on: " + run.console[:800]
    assert run.status == 0, run.console[-1500:]
    assert run.output == WITH_PKU, "pkey calls with PKU:\n" + _lines_differ(run.output, WITH_PKU)


@pytest.mark.invariant("isolation")
def test_a_protection_key_denies_what_pkru_says_and_pkru_is_each_threads_own(vigil) -> None:
    """A write through a write-disabled key and any data access through an
    access-disabled one are SIGSEGV with SEGV_PKUERR, si_pkey and si_addr
    (also a first touch, which fills nothing, and a read-only page's write);
    WRPKRU's rights or key 0 again let the access through; mprotect keeps
    the key; a syscall's access is EFAULT under the same rules; smaps names
    the key; a handler runs with PKRU 0x55555554 and sigreturn restores the
    interrupted value; fork keeps PKRU and the keys, exec resets both; two
    threads switching on one CPU keep their own PKRU."""
    run = vigil.program(["/bin/pkeys", "access"], smp=1)
    assert run.status == 0, run.console[-1500:]
    out = run.output
    assert "a write through a key with write-disable succeeded" not in out, (
        "a write through a key with write-disable succeeded: " + out[-800:])
    assert "a read through a key with access-disable succeeded" not in out, (
        "a read through a key with access-disable succeeded: " + out[-800:])
    assert "a thread's PKRU leaked to another thread" not in out, (
        "a thread's PKRU leaked to another thread across a context switch: " + out[-800:])
    assert out == ACCESS, "protection keys:\n" + _lines_differ(out, ACCESS)
