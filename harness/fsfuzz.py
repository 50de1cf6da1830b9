"""`./vigil fsfuzz`: Vigil against disks made to be wrong.

Seeds are real ext3 images (`mke2fs -t ext3 -d` over a small tree with
every kind of block mapping, in 1, 2 and 4 KiB blocks, clean or with a
committed transaction waiting in the journal, written by debugfs). Each
mutated image is a seed with 1-4 mutations: structure-aware ones (a
superblock field, a group descriptor field, an inode's fields or block
pointers, an entry of an indirect block, a directory entry's inode/rec_len/
name_len/type, the journal superblock, a journal descriptor tag or block
header) set to a value chosen to hurt (0, 1, all ones, off by one, a bit
flipped, random), or random bytes flipped in the metadata.

Up to 100 images go on one disk as GPT partitions (/dev/vda1...), and one
boot runs /bin/fuzzmount over them: mount, walk and read everything, write,
unmount, one image after the other. A boot is far dearer than a mount under
TCG, so this is ~50x faster than a boot per image. The kernel must answer
every image (its "done" line) and power off: a panic, a fault, a watchdog
report or silence is a failure; the image that caused it is kept under
build/fsfuzz/failures/ with its mutations, and the rest of its disk goes on
in a new boot.
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .build import Artifacts
from .execute import make_initrd
from .image import FEATURES_OFF, disk_args
from .qemu import Machine, Session, qemu_command

SECTOR = 512
PART_ALIGN = 2048                       # sectors: partitions start on 1 MiB boundaries
PER_DISK = 100
IMAGE_TIMEOUT = 90.0                    # seconds for one image under a loaded TCG

# (name, offset, size) of superblock fields (ext4 disk-layout documentation).
SUPER_FIELDS = [
    ("inodes_count", 0x00, 4), ("blocks_count", 0x04, 4), ("r_blocks_count", 0x08, 4),
    ("free_blocks", 0x0C, 4), ("free_inodes", 0x10, 4), ("first_data_block", 0x14, 4),
    ("log_block_size", 0x18, 4), ("log_cluster_size", 0x1C, 4), ("blocks_per_group", 0x20, 4),
    ("clusters_per_group", 0x24, 4), ("inodes_per_group", 0x28, 4), ("magic", 0x38, 2),
    ("state", 0x3A, 2), ("rev_level", 0x4C, 4), ("first_ino", 0x54, 4), ("inode_size", 0x58, 2),
    ("feature_compat", 0x5C, 4), ("feature_incompat", 0x60, 4), ("feature_ro_compat", 0x64, 4),
    ("journal_inum", 0xE0, 4), ("desc_size", 0xFE, 2), ("first_meta_bg", 0x104, 4),
]
GROUP_FIELDS = [("block_bitmap", 0, 4), ("inode_bitmap", 4, 4), ("inode_table", 8, 4),
                ("free_blocks", 12, 2), ("free_inodes", 14, 2), ("used_dirs", 16, 2),
                ("flags", 18, 2)]
INODE_FIELDS = [("mode", 0, 2), ("size", 4, 4), ("links", 26, 2), ("blocks", 28, 4),
                ("flags", 32, 4), ("size_high", 108, 4), ("dtime", 20, 4)] + \
               [(f"block[{i}]", 40 + 4 * i, 4) for i in range(15)]
DIRENT_FIELDS = [("inode", 0, 4), ("rec_len", 4, 2), ("name_len", 6, 1), ("file_type", 7, 1)]
# Journal superblock fields (JBD2, big-endian).
JSUPER_FIELDS = [("magic", 0, 4), ("blocktype", 4, 4), ("sequence", 8, 4), ("blocksize", 12, 4),
                 ("maxlen", 16, 4), ("first", 20, 4), ("s_sequence", 24, 4), ("start", 28, 4),
                 ("errno", 32, 4), ("compat", 36, 4), ("incompat", 40, 4), ("ro_compat", 44, 4)]


@dataclass
class Seed:
    name: str
    data: bytes
    bsize: int


@dataclass
class Mutant:
    index: int                          # over the whole run
    seed: str
    data: bytes
    mutations: list[str] = field(default_factory=list)


# ---- seeds ----

def _tree(root: Path) -> None:
    (root / "dir" / "sub" / "deeper").mkdir(parents=True)
    (root / "small").write_text("hello\n")
    (root / "dir" / "sub" / "deeper" / "leaf").write_text("leaf\n")
    rnd = random.Random(1)
    (root / "big").write_bytes(bytes(rnd.getrandbits(8) for _ in range(300_000)))  # indirect blocks
    with open(root / "sparse", "wb") as f:
        f.seek(3 << 20)
        f.write(b"end")
    for i in range(40):                                                   # a multi-block directory
        (root / "dir" / f"file-with-a-longish-name-{i:03d}").write_text(str(i))
    (root / "fastlink").symlink_to("small")
    (root / "slowlink").symlink_to("dir/" + "x" * 90)


def _mkfs(tree: Path, out: Path, bsize: int, size_mb: int) -> None:
    opts = ",".join("^" + f for f in FEATURES_OFF)
    journal = f"size={bsize // 1024}"          # 1024 journal blocks, the least mke2fs makes
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext3", "-b", str(bsize), "-I", "256",
                    "-J", journal, "-O", opts, "-E", "root_owner=0:0", "-d", str(tree), str(out),
                    f"{size_mb}M"], check=True, capture_output=True)


def _journal_a_transaction(img: Path, work: Path, bsize: int) -> None:
    """Leave a committed, unreplayed transaction in the journal (debugfs's
    journal commands): copies of the first group descriptor block and the
    root directory's first block, as they are, so replaying is harmless
    until a mutation makes it otherwise."""
    data = img.read_bytes()
    gd = 2 if bsize == 1024 else 1
    root_blk = _inode_blocks(data, bsize, 2)[0]
    cmds = ["jo"]
    for blk in (gd, root_blk):
        part = work / f"blk{blk}"
        part.write_bytes(data[blk * bsize:(blk + 1) * bsize])
        cmds.append(f"jw -b {blk} {part}")
    cmds.append("jc")
    (work / "cmds").write_text("\n".join(cmds) + "\n")
    subprocess.run(["debugfs", "-w", "-f", str(work / "cmds"), str(img)], check=True,
                   capture_output=True)


def make_seeds(work: Path) -> list[Seed]:
    work.mkdir(parents=True, exist_ok=True)
    tree = work / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir()
    _tree(tree)
    seeds = []
    for bsize, size_mb in ((1024, 8), (2048, 12), (4096, 24)):
        for journaled in (False, True):
            name = f"{bsize // 1024}k{'-recover' if journaled else ''}"
            img = work / f"{name}.img"
            _mkfs(tree, img, bsize, size_mb)
            if journaled:
                _journal_a_transaction(img, work, bsize)
            seeds.append(Seed(name, img.read_bytes(), bsize))
    return seeds


# ---- reading the layout (enough to aim mutations) ----

def _super(data: bytes) -> dict[str, int]:
    sb = data[1024:2048]
    out = {}
    for name, off, size in SUPER_FIELDS:
        out[name] = int.from_bytes(sb[off:off + size], "little")
    return out


def _gd_offset(bsize: int) -> int:
    return (2 if bsize == 1024 else 1) * bsize


def _inode_offset(data: bytes, bsize: int, ino: int) -> int:
    s = _super(data)
    g, i = divmod(ino - 1, s["inodes_per_group"])
    table = struct.unpack_from("<I", data, _gd_offset(bsize) + 32 * g + 8)[0]
    return table * bsize + i * s["inode_size"]


def _inode_blocks(data: bytes, bsize: int, ino: int) -> list[int]:
    off = _inode_offset(data, bsize, ino)
    return list(struct.unpack_from("<15I", data, off + 40))


def _dirents(block: bytes) -> list[int]:
    offs, at = [], 0
    while at + 8 <= len(block):
        rec = struct.unpack_from("<H", block, at + 4)[0]
        offs.append(at)
        if rec < 8:
            break
        at += rec
    return offs


# ---- mutations ----

def _interesting(rng: random.Random, old: int, size: int) -> int:
    top = (1 << (8 * size)) - 1
    choice = rng.randrange(9)
    if choice == 0:
        return 0
    if choice == 1:
        return 1
    if choice == 2:
        return top
    if choice == 3:
        return (old + 1) & top
    if choice == 4:
        return (old - 1) & top
    if choice == 5:
        return old ^ (1 << rng.randrange(8 * size))
    if choice == 6:
        return (old * 2 + 1) & top
    if choice == 7:
        return top >> 1
    return rng.getrandbits(8 * size)


def _poke(buf: bytearray, off: int, size: int, rng: random.Random,
          big: bool = False, blocks: list[int] | None = None) -> tuple[int, int]:
    """Set a field to a value chosen to hurt; for a block pointer (blocks:
    the image's landmarks), half the time a block that exists but holds
    something else: cross-linked structures, not just wild numbers."""
    order = "big" if big else "little"
    old = int.from_bytes(buf[off:off + size], order)
    new = _interesting(rng, old, size)
    if blocks and rng.random() < 0.5:
        new = rng.choice(blocks)
    buf[off:off + size] = new.to_bytes(size, order)
    return old, new


def mutate(seed: Seed, rng: random.Random, index: int) -> Mutant:
    buf = bytearray(seed.data)
    bs = seed.bsize
    data = seed.data
    s = _super(data)
    ngroups = -(-(s["blocks_count"] - s["first_data_block"]) // s["blocks_per_group"])
    jblocks = _inode_blocks(data, bs, 8)
    journal0 = jblocks[0] * bs
    # Landmarks: superblock and descriptor blocks, bitmaps, inode tables,
    # directories, indirect blocks, the journal, and any block at all.
    gd = struct.unpack_from("<III", data, _gd_offset(bs))
    nblocks = len(data) // bs
    landmarks = [0, 1, 2, *gd, gd[2] + 1, jblocks[0], jblocks[0] + 1, nblocks - 1, nblocks,
                 *[b for ino in (2, 11, 12, 13, 14) for b in _inode_blocks(data, bs, ino) if b],
                 *(rng.randrange(nblocks) for _ in range(4))]
    mutations: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        kind = rng.choice(("super", "super", "group", "inode", "inode", "indirect", "dirent",
                           "dirent", "jsuper", "jlog", "bytes"))
        if kind == "super":
            name, off, size = rng.choice(SUPER_FIELDS)
            old, new = _poke(buf, 1024 + off, size, rng)
            mutations.append(f"superblock {name}: {old:#x} -> {new:#x}")
        elif kind == "group":
            g = rng.randrange(ngroups)
            name, off, size = rng.choice(GROUP_FIELDS)
            old, new = _poke(buf, _gd_offset(bs) + 32 * g + off, size, rng,
                             blocks=landmarks if off < 12 else None)
            mutations.append(f"group {g} {name}: {old:#x} -> {new:#x}")
        elif kind == "inode":
            ino = rng.choice((2, 8, 11, 12, 13, 14, 15, 16, 17, 18))
            name, off, size = rng.choice(INODE_FIELDS)
            old, new = _poke(buf, _inode_offset(data, bs, ino) + off, size, rng,
                             blocks=landmarks if name.startswith("block") else None)
            mutations.append(f"inode {ino} {name}: {old:#x} -> {new:#x}")
        elif kind == "indirect":
            ino = rng.choice((8, 12, 13, 14, 15, 16))
            blocks = _inode_blocks(data, bs, ino)
            ind = [b for b in blocks[12:] if b]
            if not ind:
                continue
            blk = rng.choice(ind)
            slot = rng.randrange(bs // 4)
            old, new = _poke(buf, blk * bs + 4 * slot, 4, rng, blocks=landmarks)
            mutations.append(f"inode {ino} indirect block {blk} entry {slot}: {old:#x} -> {new:#x}")
        elif kind == "dirent":
            ino = rng.choice((2, 2, 11, 12, 13, 14, 15, 16))
            blocks = [b for b in _inode_blocks(data, bs, ino)[:12] if b]
            if not blocks or not (0 < blocks[0] < len(data) // bs):
                continue
            blk = rng.choice(blocks)
            offs = _dirents(data[blk * bs:(blk + 1) * bs])
            if not offs:
                continue
            at = rng.choice(offs)
            name, off, size = rng.choice(DIRENT_FIELDS)
            old, new = _poke(buf, blk * bs + at + off, size, rng)
            mutations.append(f"dir inode {ino} block {blk} entry at {at} {name}: "
                             f"{old:#x} -> {new:#x}")
        elif kind == "jsuper":
            name, off, size = rng.choice(JSUPER_FIELDS)
            old, new = _poke(buf, journal0 + off, size, rng, big=True)
            mutations.append(f"journal superblock {name}: {old:#x} -> {new:#x}")
        elif kind == "jlog":
            # The first transaction's blocks: descriptor (header, tags), copies, commit.
            k = rng.randrange(1, 5)
            off = rng.choice((0, 4, 8, 12, 16, 18, 20, 28, 30))
            if off == 12:                       # the first tag's home block
                old, new = _poke(buf, journal0 + k * bs + off, 4, rng, big=True, blocks=landmarks)
            else:
                old, new = _poke(buf, journal0 + k * bs + off, rng.choice((1, 2, 4)), rng, big=True)
            mutations.append(f"journal block {k} byte {off}: {old:#x} -> {new:#x}")
        else:
            meta_end = min(len(buf), max(journal0, 64 * bs))
            for _ in range(rng.randrange(1, 9)):
                at = rng.randrange(1024, meta_end)
                bit = rng.randrange(8)
                buf[at] ^= 1 << bit
                mutations.append(f"bit {bit} of byte {at:#x} flipped")
    if not mutations:
        buf[1024 + 0x38] ^= 1
        mutations.append("superblock magic bit 0 flipped")
    return Mutant(index, seed.name, bytes(buf), mutations)


# ---- the regression corpus ----
# Images that stopped Vigil once (issue 14's case 5) or that stop it without
# its mount checks (found by this fuzzer against `make BREAK=disk-checks`):
# (seed, [(structure, field, value)]). Every run starts with them.
REGRESSIONS: list[tuple[str, list[tuple[str, str, int]]]] = [
    ("4k", [("super", "inodes_count", 0xFFFFFFFF), ("super", "inodes_per_group", 2)]),
    ("1k", [("super", "blocks_per_group", 0)]),
    ("1k-recover", [("super", "blocks_per_group", 0)]),
    ("4k", [("group", "block_bitmap", 1)]),
    ("2k", [("super", "inode_size", 0)]),
    ("4k", [("super", "blocks_count", 0xFFFFFFFF)]),
]


def regression(seed: Seed, changes: list[tuple[str, str, int]], index: int) -> Mutant:
    buf = bytearray(seed.data)
    for what, name, value in changes:
        fields, base = (SUPER_FIELDS, 1024) if what == "super" else \
            (GROUP_FIELDS, _gd_offset(seed.bsize))
        off, size = next((o, n) for f, o, n in fields if f == name)
        buf[base + off:base + off + size] = value.to_bytes(size, "little")
    return Mutant(index, seed.name, bytes(buf),
                  [f"regression: {w} {n} = {v:#x}" for w, n, v in changes])


# ---- the disk: a GPT with one partition per image ----

def _gpt_header(entries_crc: int, disk_sectors: int, first_usable: int, last_usable: int) -> bytes:
    h = bytearray(92)
    h[0:8] = b"EFI PART"
    struct.pack_into("<IIIIQQQQ", h, 8, 0x00010000, 92, 0, 0, 1, disk_sectors - 1, first_usable,
                     last_usable)
    h[56:72] = b"vigil-fsfuzz-gpt"
    struct.pack_into("<QIII", h, 72, 2, 128, 128, entries_crc)
    struct.pack_into("<I", h, 16, zlib.crc32(bytes(h)))
    return bytes(h)


def write_disk(path: Path, images: list[bytes]) -> None:
    """Primary GPT (protective MBR, header, 128 entries) and the images,
    each in its own partition; zero runs are left as holes."""
    starts, lba = [], PART_ALIGN
    for img in images:
        starts.append(lba)
        lba += -(-len(img) // (PART_ALIGN * SECTOR)) * PART_ALIGN
    total = lba + 64
    entries = bytearray(128 * 128)
    # The "Linux filesystem data" type, 0FC63DAF-8483-4772-8E79-3D69D8477DE4, as stored.
    linux_fs = bytes.fromhex("af3dc60f838472478e793d69d8477de4")
    for i, (img, start) in enumerate(zip(images, starts, strict=True)):
        e = 128 * i
        entries[e:e + 16] = linux_fs
        entries[e + 16:e + 32] = struct.pack("<QQ", 0x5649474C, i + 1)
        struct.pack_into("<QQ", entries, e + 32, start, start + len(img) // SECTOR - 1)
    mbr = bytearray(SECTOR)
    mbr[446:462] = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF]) + \
        struct.pack("<II", 1, min(total - 1, 0xFFFFFFFF))
    mbr[510:512] = b"\x55\xaa"
    header = _gpt_header(zlib.crc32(bytes(entries)), total, 34, total - 34)
    with open(path, "wb") as f:
        f.truncate(total * SECTOR)
        f.write(mbr)
        f.write(header.ljust(SECTOR, b"\0"))
        f.write(entries)
        chunk = 64 << 10
        for img, start in zip(images, starts, strict=True):
            for off in range(0, len(img), chunk):
                piece = img[off:off + chunk]
                if piece.count(0) != len(piece):
                    f.seek(start * SECTOR + off)
                    f.write(piece)


# ---- running ----

_LINE = re.compile(r"image (\d+): (start|done: .*)\n")
_BAD = re.compile(r"PANIC|watchdog:|unhandled|BUG|ASSERT|lockdep:")
_STACK = re.compile(r"vigil: kernel stacks: deepest use (\d+)")


@dataclass
class Result:
    images: int = 0
    refused: int = 0
    mounted: int = 0
    failures: list[str] = field(default_factory=list)
    boots: int = 0
    seconds: float = 0.0
    refusals: dict[str, int] = field(default_factory=dict)
    deepest_stack: int = 0              # bytes: the deepest kernel stack any boot reported


def _boot_disk(art: Artifacts, machine: Machine, disk: Path, first: int, last: int,
               log: Path, initrd: Path) -> tuple[dict[int, str], str, str]:
    """One boot over partitions first..last: (done lines by partition, how
    it ended: finished|panic|hang|exit, console)."""
    make_initrd(art, initrd, ["/bin/fuzzmount", str(first), str(last)])
    m = replace(machine, extra=[*machine.extra, *disk_args(disk)])
    done: dict[int, str] = {}
    with Session(qemu_command(art, "", m, initrd=initrd), log) as s:
        ending = "hang"
        seen = 0
        while True:
            try:
                s.expect(r"image \d+: done[^\n]*\n|fuzzmount: finished|PANIC|watchdog:|"
                         r"init: (exit|killed)",
                         timeout=IMAGE_TIMEOUT if seen else IMAGE_TIMEOUT + 60)
            except Exception:  # noqa: BLE001 - pexpect's TIMEOUT or EOF: the guest stopped talking
                ending = "exit" if not s.child.isalive() else "hang"
                break
            text = s.output
            for m2 in _LINE.finditer(text):
                if m2.group(2) != "start":
                    done[int(m2.group(1))] = m2.group(2)
            seen = len(done)
            if "fuzzmount: finished" in text:
                ending = "finished"
                s.wait_exit(60)
                break
            if _BAD.search(text) or "init: " in text:
                ending = "panic" if "PANIC" in text else "bad"
                s.wait_exit(10)
                break
        console = s.output
    return done, ending, console


def run_fuzz(art: Artifacts, machine: Machine, out: Path, n_images: int, seed: int,
             per_disk: int = PER_DISK, log=print) -> Result:  # type: ignore[no-untyped-def]
    out.mkdir(parents=True, exist_ok=True)
    fails = out / "failures"
    seeds = make_seeds(out / "seeds")
    rng = random.Random(seed)
    res = Result()
    t0 = time.monotonic()
    by_name = {s.name: s for s in seeds}
    corpus = [regression(by_name[name], changes, k)
              for k, (name, changes) in enumerate(REGRESSIONS)]
    index = 0
    while index < n_images:
        batch = corpus[index:index + per_disk]
        batch += [mutate(rng.choice(seeds), rng, index + k)
                  for k in range(len(batch), min(per_disk, n_images - index))]
        index += len(batch)
        disk = out / "disk.img"
        write_disk(disk, [m.data for m in batch])
        first = 1
        while first <= len(batch):
            res.boots += 1
            log_path = out / f"console-{res.boots}.log"
            done, ending, console = _boot_disk(art, machine, disk, first, len(batch), log_path,
                                               out / "fuzz.cpio")
            for st in _STACK.finditer(console):
                res.deepest_stack = max(res.deepest_stack, int(st.group(1)))
            for p, line in done.items():
                res.images += 1
                if line.startswith("done: mount refused"):
                    res.refused += 1
                    why = line.split(": ", 2)[-1]
                    res.refusals[why] = res.refusals.get(why, 0) + 1
                else:
                    res.mounted += 1
                    if "umount ok" not in line:
                        _keep(fails, batch[p - 1], console, f"umount failed: {line}")
                        res.failures.append(f"image {batch[p - 1].index}: {line}")
            if ending == "finished" and _BAD.search(console) is None:
                break
            # The image after the last one answered is the culprit.
            culprit = max(done, default=first - 1) + 1
            if culprit > len(batch):
                culprit = len(batch)
            m = batch[culprit - 1]
            tail = "\n".join(console.splitlines()[-40:])
            res.failures.append(f"image {m.index} ({m.seed}; {'; '.join(m.mutations)}): {ending}")
            _keep(fails, m, console, ending)
            log(f"fsfuzz: FAILURE on image {m.index} ({ending}):\n{tail}")
            res.images += 1
            first = culprit + 1
        log(f"fsfuzz: {res.images}/{n_images} images, {res.refused} refused at mount, "
            f"{res.mounted} mounted, {len(res.failures)} failures, {res.boots} boots, "
            f"{time.monotonic() - t0:.0f} s, deepest kernel stack {res.deepest_stack} bytes")
    res.seconds = time.monotonic() - t0
    return res


def _keep(fails: Path, m: Mutant, console: str, why: str) -> None:
    fails.mkdir(parents=True, exist_ok=True)
    base = fails / f"image-{m.index:06d}"
    base.with_suffix(".img").write_bytes(m.data)
    base.with_suffix(".txt").write_text(
        f"seed: {m.seed}\nwhy: {why}\nmutations:\n" + "".join(f"  {x}\n" for x in m.mutations)
        + "\nconsole:\n" + console)
