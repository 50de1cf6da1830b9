"""Kernel memory safety on the file system side (issue 14, cases 3-5): no
file size, offset or disk image a process can hand the kernel overflows its
stack, stalls it, or makes it touch memory an on-disk number points at. Each
test is one of the attacks that used to stop Vigil; the oracle is Linux's
answer (errno) and e2fsck's verdict on the disk afterwards."""

from __future__ import annotations

import struct

from harness.config import KSTACK_LIMIT
from harness.image import disk_args, fsck, make_ext3


def _lines(run) -> dict[str, str]:
    out = {}
    for line in run.output.splitlines():
        what, _, rest = line.partition(": ")
        out[what] = rest
    return out


def test_truncating_a_triple_indirect_file_keeps_the_kernel_stack(vigil) -> None:
    """Case 3: a byte at 0x106000000 needs a triple-indirect tree; freeing
    it used to recurse with a 4 KiB array per level under a 4 KiB path
    buffer, and the 16 KiB kernel stack overflowed (double fault)."""
    _, disk = vigil.scratch_disk("deep")
    run = vigil.program(["/bin/fshard", "deeptrunc", "/scratch"], root_disk=disk, timeout=90)
    said = _lines(run)
    assert run.status == 0, f"the kernel died: {run.console[-2000:]}"
    assert said.get("pwrite at 0x106000000") == "ok"
    assert said.get("truncate to 0") == "ok"
    assert "after: size 0 blocks 0" in run.output, run.output
    ok, report = fsck(disk)
    assert ok, report


def test_sizes_past_the_file_size_limit_are_efbig_and_truncate_is_quick(vigil) -> None:
    """Case 4: ftruncate(fd, 1<<62) was accepted and ftruncate(fd, 0) then
    walked 2^50 block slots holding the kernel lock. Linux: EFBIG (the
    limit is s_maxbytes, 2 TiB less a little for 4 KiB blocks), and a
    truncate costs what the file holds, not what its size says."""
    _, disk = vigil.scratch_disk("efbig")
    run = vigil.program(["/bin/fshard", "efbig", "/scratch"], root_disk=disk, timeout=90)
    assert run.status == 0, f"the kernel stalled or died: {run.console[-2000:]}"
    said = _lines(run)
    assert said.get("ftruncate to 1<<62") == "File too large"
    assert said.get("pwrite at 1<<62") == "File too large"
    assert said.get("ftruncate to 1<<33") == "ok"
    assert said.get("pwrite at 1<<33") == "ok"
    assert said.get("ftruncate back to 0") == "ok"
    assert "after: size 0 blocks 0" in run.output, run.output
    ok, report = fsck(disk)
    assert ok, report


def test_a_superblock_with_impossible_counts_is_refused_at_mount(vigil, tmp_path, art) -> None:
    """Case 5: inodes_count 0xffffffff with 2 inodes per group made the
    kernel index the group table far past its end (a page fault in
    inode_location). Linux refuses the mount with EINVAL."""
    img = make_ext3(art.rootfs, tmp_path / "bad.img", size_mb=16)
    with open(img, "r+b") as f:
        f.seek(1024 + 0x00)
        f.write(struct.pack("<I", 0xFFFFFFFF))      # s_inodes_count
        f.seek(1024 + 0x28)
        f.write(struct.pack("<I", 2))               # s_inodes_per_group
    run = vigil.program(["/bin/fshard", "mount"], extra=disk_args(img), timeout=90)
    assert run.status == 0, f"the kernel died: {run.console[-2000:]}"
    assert _lines(run).get("mount") == "Invalid argument", run.output
    assert "ext2: " in run.console and "not mounting" in run.console


def test_mutated_disks_get_an_answer_never_a_panic(vigil, tmp_path) -> None:
    """Untrusted disks: a seeded sample of `./vigil fsfuzz` — 30 mutated
    ext3 images (superblock, group descriptors, inodes, indirect blocks,
    directory entries, journal, bit flips) on one disk, each mounted,
    walked, read, written and unmounted in one boot. Every image gets an
    answer (a refusal or errors are fine); no panic, fault or hang."""
    from harness.fsfuzz import run_fuzz

    res = run_fuzz(vigil.art, vigil.machine(), tmp_path / "fsfuzz", 30, seed=14, per_disk=30,
                   log=lambda msg: None)
    assert res.images == 30
    assert not res.failures, "mutated disks stopped the kernel:\n" + "\n".join(res.failures)
    assert res.refused and res.mounted, "the sample exercises both refusal and use"
    assert 0 < res.deepest_stack <= KSTACK_LIMIT


# A wrong read-back was seen here on 2026-11-30 (about one run in four, at
# load 12-21, "c2-0 reads back wrong (15360 of 15360 bytes)"), last at
# d8eaf68 (09:11). It did not recur in 190 later runs (HEAD and d8eaf68 alike, at
# load 10-26, with 6 writers as well as 3): not explained, so fschurn now
# says, if it ever shows again, where the bad bytes are, whose pattern they
# carry and whether a second read agrees.
def test_writers_on_two_cpus_with_memory_short_keep_every_file(vigil) -> None:
    """Three processes create, write, unlink and read back files on 2 CPUs
    while a fourth holds most of the memory, so the buffer cache cannot
    grow and evicts, writing dirty data back in batches while others
    commit and wait for the disk. Every file must read back as written,
    and e2fsck must find the disk clean. (Two evictions used to share one
    batch array: the first's buffers stayed busy for ever, and the next
    process to need a buffer found every one held and panicked, "bcache:
    every buffer is in use and the journal cannot commit".)"""
    _, disk = vigil.scratch_disk("churn", size_mb=64)
    run = vigil.program(["/bin/fschurn", "/scratch", "84", "3", "180"], root_disk=disk,
                        timeout=240, smp=2, mem="128M")
    assert "files intact: yes" in run.output, ("files lost or corrupted under memory pressure: "
                                               f"{run.output[-800:]!r} {run.console[-1500:]}")
    assert run.status == 0
    ok, report = fsck(disk)
    assert ok, report
