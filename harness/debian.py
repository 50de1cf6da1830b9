"""The Debian root file system Vigil boots on: Debian's own packages,
unchanged, as an ext3 image.

Why Debian's binaries rather than our own: the point of issue 15 is that
programs nobody wrote for Vigil run on it. So the root is assembled the way
a Debian installer would lay it out, minus the installer: `rootfs/packages.txt`
names the packages (closed under Pre-Depends/Depends, except the ones it
leaves out on purpose, each with its reason), `apt-get download` fetches
them into build/debian/debs, `dpkg-deb -x` unpacks each into a staging tree,
and the few things a maintainer script would have done are done here
(`finish_tree` lists them: the /usr merge, /etc/profile, ld.so.cache...).
Nothing runs inside the tree: it is never chrooted into, so this works the
same for any host user, and no package's scripts run.

Then Vigil's own part goes on top (the overlay): rootfs/overlay/ from the
repository (passwd, group, hostname...), Vigil's init as /sbin/init, and
its test programs under /usr/lib/vigil/bin. `mke2fs -t ext3 -d` makes the
image (harness/image.py: the features Vigil supports), `e2fsck -fn` must
find it clean.

Caching: the downloads and the unpacked tree are keyed by the package list
with the versions apt chose (a hash), so a second build does only the
overlay and mke2fs; the Makefile rebuilds build/root.img when the list, the
overlay, the user programs or this file change. Every run boots a copy of
the image, never the image itself."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .config import ROOT
from .image import fsck, make_ext3

PACKAGE_LIST = ROOT / "rootfs" / "packages.txt"
OVERLAY = ROOT / "rootfs" / "overlay"
CACHE = ROOT / "build" / "debian"
# Bumped when the way a tree is made changes (so cached trees are remade).
TREE_FORMAT = 4
# What a minimal Debian (debootstrap --variant=minbase with dpkg's path
# excludes, as Debian's container images) leaves out: documentation and
# translations. Nothing reads them at run time.
EXCLUDED_PATHS = ("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/",
                  "usr/share/lintian/", "usr/share/bug/")
# Where Vigil's own programs go in the image (not on PATH: user/sh.c and
# user/tests/cat.c would shadow nothing, but Debian's are the default).
VIGIL_BIN = "usr/lib/vigil/bin"
# bookworm's /usr merge: these are symlinks into /usr.
MERGED = ("bin", "sbin", "lib", "lib64")
# update-alternatives' links in a bookworm system with these packages.
ALTERNATIVES = {"awk": "mawk", "pager": "less", "which": "which.debianutils", "vi": "vim.tiny",
                "view": "vim.tiny", "ex": "vim.tiny", "editor": "nano"}
# The image: room for the tree plus writes (sparse file: unused space costs nothing).
IMAGE_MB = 384
INODES = 32768


@dataclass(frozen=True)
class PackageList:
    wanted: tuple[str, ...]  # the packages in the image
    left_out: dict[str, str]  # package -> why it is not (though something depends on it)


def read_list(path: Path = PACKAGE_LIST) -> PackageList:
    """One package a line; `-name  reason` for a dependency left out on
    purpose; `#` starts a comment."""
    wanted: list[str] = []
    left: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            name, _, why = line[1:].partition(" ")
            left[name] = why.strip()
        else:
            wanted.append(line)
    return PackageList(tuple(wanted), left)


@dataclass(frozen=True)
class Stanza:
    package: str
    version: str
    depends: tuple[tuple[str, ...], ...]  # Pre-Depends + Depends: each a set of alternatives
    provides: tuple[str, ...]


def _dep_names(field: str) -> tuple[tuple[str, ...], ...]:
    out = []
    for clause in field.split(","):
        alts = tuple(re.sub(r"[\s(\[:].*", "", a.strip()) for a in clause.split("|"))
        if alts and alts[0]:
            out.append(alts)
    return tuple(out)


def apt_show(packages: list[str]) -> dict[str, Stanza]:
    """What apt would install for each package (the candidate version), in
    one `apt-cache show` call. On a fresh machine whose package lists were
    never read, root runs `apt-get update` once first."""
    def show() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["apt-cache", "show", "--no-all-versions", *packages],
                              capture_output=True, text=True)

    r = show()
    if r.returncode != 0 and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        r = show()
    if r.returncode != 0:
        raise RuntimeError(f"apt-cache show failed (apt-get update as root?): {r.stderr.strip()}")
    stanzas: dict[str, Stanza] = {}
    for para in r.stdout.split("\n\n"):
        f = dict(m.groups() for m in re.finditer(r"^([A-Za-z-]+): (.*)$", para, re.M))
        if "Package" not in f:
            continue
        deps = _dep_names(f.get("Pre-Depends", "")) + _dep_names(f.get("Depends", ""))
        prov = tuple(n[0] for n in _dep_names(f.get("Provides", "")))
        stanzas[f["Package"]] = Stanza(f["Package"], f["Version"], deps, prov)
    return stanzas


def unmet(plist: PackageList, stanzas: dict[str, Stanza]) -> list[str]:
    """Dependencies of listed packages that neither the list nor its
    left-out section accounts for: "pkg -> dep" (empty when closed)."""
    have = set(plist.wanted) | set(plist.left_out)
    for s in stanzas.values():
        have |= set(s.provides)
    return [f"{p} -> {' | '.join(alts)}" for p in plist.wanted if p in stanzas
            for alts in stanzas[p].depends if not have & set(alts)]


def cache_key(stanzas: dict[str, Stanza], tree: bool = False) -> str:
    """The packages and versions (the downloads' key); with tree, also the
    way a tree is made (the unpacked tree's key)."""
    text = (f"format {TREE_FORMAT}\n" if tree else "") + "".join(
        f"{s.package}={s.version}\n" for s in sorted(stanzas.values(), key=lambda s: s.package))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def download(plist: PackageList, stanzas: dict[str, Stanza], key: str,
             cache: Path = CACHE) -> list[Path]:
    """The .deb files, fetched once per key with `apt-get download`."""
    dest = cache / f"debs-{key}"
    if not (dest / ".complete").exists():
        for old in cache.glob("debs-*"):
            shutil.rmtree(old, ignore_errors=True)
        dest.mkdir(parents=True, exist_ok=True)
        os.chmod(dest, 0o777)  # apt's _apt user may write there (no sandbox warning)
        r = subprocess.run(["apt-get", "download", "-q", *plist.wanted], cwd=dest,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"apt-get download failed: {r.stderr.strip()}")
        (dest / ".complete").write_text("".join(f"{p}\n" for p in plist.wanted))
    debs = sorted(dest.glob("*.deb"))
    if len(debs) != len(plist.wanted):
        raise RuntimeError(f"{dest}: {len(debs)} .deb files for {len(plist.wanted)} packages")
    return debs


def current_debs() -> list[Path]:
    """The .deb files of the current package list (downloaded if need be)."""
    plist = read_list()
    stanzas = apt_show(list(plist.wanted))
    return download(plist, stanzas, cache_key(stanzas))


def image_path(member: str) -> str | None:
    """Where a package's file (as `dpkg-deb -c` names it: ./bin/ls) is in
    the image (usr/bin/ls), or None if the image leaves it out."""
    path = member.removeprefix("./").rstrip("/")
    if any(path.startswith(x) or path + "/" == x for x in EXCLUDED_PATHS):
        return None
    top = path.split("/", 1)[0]
    return f"usr/{path}" if top in MERGED else path


def _extract(deb: Path, dest: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)


def _merge_into(src: Path, dst: Path) -> None:
    """Move src's entries into dst (the /usr merge); directories merge."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        target = dst / entry.name
        if entry.is_dir() and not entry.is_symlink() and target.is_dir() \
                and not target.is_symlink():
            _merge_into(entry, target)
        elif target.exists() or target.is_symlink():
            raise RuntimeError(f"/usr merge: {entry} and {target} both exist")
        else:
            entry.rename(target)
    src.rmdir()


def resolve_in(root: Path, path: str, depth: int = 0) -> Path:
    """path as the guest would resolve it inside root (absolute symlinks are
    relative to root, not to the host's /)."""
    if depth > 40:
        raise RuntimeError(f"symlink loop at {path}")
    cur = root
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        nxt = cur / part
        if nxt.is_symlink():
            target = os.readlink(nxt)
            rest = "/".join(parts[i + 1:])
            base = "" if target.startswith("/") else str(cur.relative_to(root))
            return resolve_in(root, f"{base}/{target}/{rest}", depth + 1)
        cur = nxt
    return cur


def _symlink(tree: Path, path: str, target: str) -> None:
    link = tree / path
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def finish_tree(tree: Path, log: Callable[[str], None]) -> None:
    """What the packages' maintainer scripts (which never run here) and
    debootstrap would have done, that a shell session needs."""
    for d in EXCLUDED_PATHS:
        shutil.rmtree(tree / d, ignore_errors=True)
    # The /usr merge (bookworm's default, the usrmerge package's job): what
    # dpkg put in /bin, /sbin, /lib, /lib64 moves under /usr, and the old
    # names become symlinks, so /bin/sh and /usr/bin/sh are one file.
    for d in MERGED:
        top = tree / d
        if top.is_dir() and not top.is_symlink():
            _merge_into(top, tree / "usr" / d)
        elif not (tree / "usr" / d).exists():
            (tree / "usr" / d).mkdir(parents=True)
        if not top.is_symlink():
            top.symlink_to(f"usr/{d}")
    # dash's postinst: /bin/sh is dash (the package ships the link too);
    # the alternatives update-alternatives would have made.
    _symlink(tree, "usr/bin/sh", "dash")
    for name, target in ALTERNATIVES.items():
        if (tree / "usr/bin" / target).exists():
            _symlink(tree, f"usr/bin/{name}", target)
    # base-files' and libc-bin's postinst copy these into place.
    for src, dst, mode in [("usr/share/base-files/profile", "etc/profile", 0o644),
                           ("usr/share/base-files/dot.bashrc", "root/.bashrc", 0o644),
                           ("usr/share/base-files/dot.profile", "root/.profile", 0o644),
                           ("usr/share/base-files/motd", "etc/motd", 0o644),
                           ("usr/share/libc-bin/nsswitch.conf", "etc/nsswitch.conf", 0o644)]:
        if (tree / src).exists():
            shutil.copyfile(tree / src, tree / dst)
            os.chmod(tree / dst, mode)
    # debootstrap's: mount(8) and df read the mount table from /etc/mtab.
    _symlink(tree, "etc/mtab", "../proc/self/mounts")
    # debianutils' add-shell: /etc/shells from the shells.d fragments.
    shells = sorted({line.strip() for f in (tree / "usr/share/debianutils/shells.d").glob("*")
                     for line in f.read_text().splitlines() if line.startswith("/")})
    (tree / "etc/shells").write_text("# /etc/shells: valid login shells\n"
                                     + "".join(f"{s}\n" for s in shells))
    # Mount points and the directories a running system writes to.
    for d, mode in [("proc", 0o555), ("sys", 0o555), ("dev", 0o755), ("dev/pts", 0o755),
                    ("dev/shm", 0o1777), ("tmp", 0o1777), ("run", 0o755), ("run/lock", 0o1777),
                    ("mnt", 0o755), ("root", 0o700), ("home", 0o755), ("var/tmp", 0o1777),
                    ("var/log", 0o755), ("usr/local/bin", 0o755), ("usr/local/sbin", 0o755)]:
        (tree / d).mkdir(parents=True, exist_ok=True)
        os.chmod(tree / d, mode)
    # The dynamic loader must be where every Debian ELF's PT_INTERP says.
    ld = resolve_in(tree, "/lib64/ld-linux-x86-64.so.2")
    if not ld.is_file():
        raise RuntimeError(f"/lib64/ld-linux-x86-64.so.2 does not resolve in {tree}")
    # ld.so.cache, as libc-bin's trigger makes it (ldconfig -r reads the
    # tree's /etc/ld.so.conf; it chroots, hence root or a user namespace).
    ldconfig = ["ldconfig", "-r", str(tree)]
    if os.geteuid() != 0:
        ldconfig = ["unshare", "--user", "--map-root-user", *ldconfig]
    r = subprocess.run(ldconfig, capture_output=True, text=True)
    if r.returncode != 0:
        log(f"debian: ldconfig failed ({r.stderr.strip()}); ld.so uses its default paths")
    _precompile_python(tree, log)


def _precompile_python(tree: Path, log: Callable[[str], None]) -> None:
    """python3.11-minimal's postinst byte-compiles the standard library
    (py3compile); without it every `python3` on Vigil would compile what it
    imports, under TCG, and try to write __pycache__. The host compiles it
    when it is the same Python minor version (the .pyc format is per
    version), with paths as the guest sees them."""
    lib = tree / "usr/lib/python3.11"
    if not lib.is_dir():
        return
    if sys.version_info[:2] != (3, 11):
        log("debian: the host's Python is not 3.11; the image's stdlib stays uncompiled")
        return
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "-s", str(tree),
                    "-p", "/", "-x", r"/(test|tests|idlelib)/", str(lib)],
                   capture_output=True, text=True)


def staging_tree(log: Callable[[str], None] = lambda s: None,
                 cache: Path = CACHE) -> tuple[Path, dict[str, Stanza]]:
    """The unpacked, finished package tree for the current list (cached)."""
    plist = read_list()
    stanzas = apt_show(list(plist.wanted))
    missing = [p for p in plist.wanted if p not in stanzas]
    if missing:
        raise RuntimeError(f"rootfs/packages.txt: apt knows no {missing}")
    gaps = unmet(plist, stanzas)
    if gaps:  # a new Debian point release may add one: the tests fail, the build goes on
        log("debian: WARNING: rootfs/packages.txt is not closed under Depends: "
            + "; ".join(gaps))
    key = cache_key(stanzas, tree=True)
    tree = cache / f"tree-{key}"
    if (tree / ".complete").exists():
        return tree, stanzas
    t0 = time.monotonic()
    debs = download(plist, stanzas, cache_key(stanzas), cache)
    t1 = time.monotonic()
    for old in cache.glob("tree-*"):
        shutil.rmtree(old, ignore_errors=True)
    tree.mkdir(parents=True)
    os.chmod(tree, 0o755)
    # dpkg-deb -x of separate packages touches separate files (shared
    # directories are created idempotently by tar), so they can overlap.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda d: _extract(d, tree), debs))
    finish_tree(tree, log)
    (tree / "var/lib/vigil").mkdir(parents=True, exist_ok=True)
    (tree / "var/lib/vigil/packages").write_text(
        "".join(f"{s.package} {s.version}\n" for s in sorted(stanzas.values(),
                                                                key=lambda s: s.package)))
    (tree / ".complete").write_text(key + "\n")
    log(f"debian: {len(debs)} packages: download {t1 - t0:.1f} s, unpack and finish "
        f"{time.monotonic() - t1:.1f} s")
    return tree, stanzas


def _copy_over(src: Path, dst: Path) -> None:
    """Copy src onto dst, replacing (never writing through) a hard link."""
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def image_tree(vigil_rootfs: Path, out: Path, log: Callable[[str], None] = lambda s: None) -> Path:
    """The staging tree (hard-linked, so cheap) plus the overlay and Vigil's
    programs: the directory mke2fs copies."""
    tree, _ = staging_tree(log)
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["cp", "-al", str(tree), str(out)], check=True)
    (out / ".complete").unlink()
    for f in sorted(OVERLAY.rglob("*")):
        if f.is_file():
            _copy_over(f, out / f.relative_to(OVERLAY))
    _copy_over(vigil_rootfs / "sbin/init", out / "sbin/init")
    for prog in sorted((vigil_rootfs / "bin").iterdir()):
        _copy_over(prog, out / VIGIL_BIN / prog.name)
    os.chmod(out / "root", 0o700)
    return out


def build_image(vigil_rootfs: Path, out: Path, log: Callable[[str], None] = print) -> Path:
    t0 = time.monotonic()
    tree = image_tree(vigil_rootfs, CACHE / "image-tree", log)
    t1 = time.monotonic()
    tmp = out.with_suffix(".tmp")
    if os.geteuid() == 0:
        make_ext3(tree, tmp, size_mb=IMAGE_MB, inodes=INODES)
    else:  # files the user owns are root's in the image
        subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c",
                        "import sys; from pathlib import Path; from harness.image import make_ext3;"
                        f"make_ext3(Path({str(tree)!r}), Path({str(tmp)!r}), {IMAGE_MB},"
                        f" inodes={INODES})"], cwd=ROOT, check=True)
    ok, said = fsck(tmp)
    if not ok:
        raise RuntimeError(f"e2fsck -fn finds the new image unclean:\n{said}")
    tmp.rename(out)
    used = os.stat(out).st_blocks * 512 >> 20
    log(f"debian: root image {out} ({IMAGE_MB} MB, {used} MB used): tree {t1 - t0:.1f} s, "
        f"mke2fs+e2fsck {time.monotonic() - t1:.1f} s")
    return out


def _main() -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.debian")
    sub = ap.add_subparsers(dest="cmd", required=True)
    img = sub.add_parser("image", help="build the root image")
    img.add_argument("out", type=Path)
    img.add_argument("vigil_rootfs", type=Path, help="Vigil's user programs (build/rootfs)")
    sub.add_parser("check", help="is rootfs/packages.txt closed under Depends?")
    args = ap.parse_args()
    if args.cmd == "image":
        build_image(args.vigil_rootfs, args.out)
        return 0
    plist = read_list()
    gaps = unmet(plist, apt_show(list(plist.wanted)))
    print("\n".join(gaps) or "closed")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(_main())
