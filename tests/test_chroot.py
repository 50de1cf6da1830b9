"""chroot(2): after chroot(dir), "/" leads to dir and ".." stops there, for
the process and its children; only root may do it; the errors (ENOTDIR,
ENOENT, EFAULT, EPERM, EACCES) are Linux's. Differential: the same program
on the host Linux (chrooted in a copy of the same tree) prints the same
lines."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.invariant("privilege")


def test_chroot_confines_paths_to_the_new_root_as_on_linux(vigil) -> None:
    tree = vigil.tmp / "tree"
    shutil.copytree(vigil.art.rootfs, tree, symlinks=True)
    (tree / "tmp").mkdir(exist_ok=True)
    host = vigil.host(["/bin/chroot"], root=tree)
    guest = vigil.program(["/bin/chroot"])
    assert guest.status == 0, guest.output
    assert '/../../etc/marker: "inside the jail"' in host.output, host.output
    escaped = [x for x in guest.output.splitlines() if "outside the jail" in x]
    assert not escaped, f"a chrooted process escaped the chroot: {escaped}"
    assert guest.output == host.output
