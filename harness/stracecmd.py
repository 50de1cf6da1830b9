"""`./vigil strace`: which word of strace's command line is the program.

strace's own options come first; the first word that is neither an option
nor an option's argument is the program. If it names a file on the host it
is staged into the guest (as `./vigil exec` stages its binary), else it is
left for strace to find in the Debian image (a path there, or a name on
PATH)."""

from __future__ import annotations

from pathlib import Path

STRACE = "/usr/bin/strace"
# strace's short options that take their argument as the next word.
WITH_ARGUMENT = set("abeEIoOpPsSuUX")


def program_index(words: list[str]) -> int:
    """Index of the program in strace's arguments (len(words) if none)."""
    i = 0
    while i < len(words):
        w = words[i]
        if w == "--":
            return i + 1
        if not w.startswith("-") or w == "-":
            return i
        if w.startswith("--"):
            # --opt=value carries its value; the long options taking a value
            # as the next word are not supported here (write --opt=value).
            i += 1
            continue
        if len(w) == 2 and w[1] in WITH_ARGUMENT:
            i += 2
            continue
        i += 1
    return i


def guest_argv(words: list[str]) -> tuple[list[str], dict[str, Path]]:
    """The guest's command line and the host files to stage for it."""
    i = program_index(words)
    files: dict[str, Path] = {}
    words = list(words)
    if i < len(words):
        host = Path(words[i])
        if "/" in words[i] and host.is_file():
            dest = f"/usr/local/bin/{host.name}"
            files[dest] = host.resolve()
            words[i] = dest
    return [STRACE, *words], files
