"""Where a kernel C function starts and ends, and which lines of it matter.

Mutation testing (harness/mutate.py) mutates only the code that keeps a
promise: the functions that carry an `INVARIANT(...)` tag, and the argument
and permission checks of the system calls. That needs function extents. A
full C parser is overkill for Vigil's plain, K&R-braced C: blank out the
comments, literals and preprocessor lines, then walk the braces; a `{` at file
scope whose header ends in a parameter list (and holds no `=`) opens a
function, and its matching `}` closes it. Code between `#ifdef BREAK_...`
and its `#else`/`#endif` (and the `#else` part of `#ifndef BREAK_...`) is
not in the normal kernel, so it is marked inactive: mutating it would change
nothing that is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"\bINVARIANT\s*\(")
_SECTION = re.compile(r"\s*/\*\s*-{3,}")
# A check inside a syscall path: a condition, an error return, or a ternary
# that picks an error.
_CHECK = re.compile(r"\b(if|while)\s*\(|\breturn\s+-E[A-Z]+|\?\s*-E[A-Z]+|:\s*-E[A-Z]+")


@dataclass(frozen=True)
class Func:
    name: str
    start: int  # 1-based line of the name
    end: int  # line of the closing brace

    def lines(self) -> range:
        return range(self.start, self.end + 1)


def blank(text: str) -> str:
    """text with comments, string/char literals and preprocessor lines
    replaced by spaces (newlines kept, so offsets and line numbers hold)."""
    out = list(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "#":  # a directive, with its continuations
            j = i
            while j < n and not (text[j] == "\n" and text[j - 1] != "\\"):
                j += 1
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
            continue
        line_start = c == "\n"
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def functions(text: str) -> list[Func]:
    """Every function definition in a C file, in order."""
    code = blank(text)
    funcs: list[Func] = []
    depth = 0
    header_start = 0
    open_at = -1
    name = ""
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                header = code[header_start:i]
                name, at = _function_name(header)
                open_at = i if name else -1
                if name:
                    start_line = code.count("\n", 0, header_start + at) + 1
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if open_at >= 0:
                    funcs.append(Func(name, start_line, code.count("\n", 0, i) + 1))
                open_at = -1
                header_start = i + 1
        elif c == ";" and depth == 0:
            header_start = i + 1
    return funcs


def _function_name(header: str) -> tuple[str, int]:
    """The name a function header declares and its offset in header ('' if
    the header is not one: a struct, an initializer, an enum)."""
    h = header.rstrip()
    if not h.endswith(")") or "=" in h:
        return "", 0
    # The parameter list is the last balanced (...) group; the name precedes it.
    depth, i = 0, len(h) - 1
    while i >= 0:
        if h[i] == ")":
            depth += 1
        elif h[i] == "(":
            depth -= 1
            if depth == 0:
                break
        i -= 1
    m = re.search(r"([A-Za-z_]\w*)\s*$", h[:i])
    if not m or m.group(1) in {"if", "while", "for", "switch", "return", "sizeof"}:
        return "", 0
    return m.group(1), m.start(1)


def inactive_lines(text: str) -> set[int]:
    """Lines compiled only into a broken kernel (BREAK_* conditionals)."""
    inactive: set[int] = set()
    stack: list[tuple[bool, bool]] = []  # (is a BREAK_ conditional, currently inactive)
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if re.match(r"#\s*if", s):
            m = re.match(r"#\s*(ifdef|ifndef)\s+BREAK_\w+", s) or re.match(
                r"#\s*if\s+(!?)\s*defined\s*\(?\s*BREAK_\w+", s)
            if m:
                neg = m.group(1) in ("ifndef", "!")
                stack.append((True, not neg))
            else:
                stack.append((False, False))
            continue
        if re.match(r"#\s*else", s) and stack:
            brk, off = stack[-1]
            stack[-1] = (brk, (not off) if brk else False)
            continue
        if re.match(r"#\s*endif", s) and stack:
            stack.pop()
            continue
        if any(brk and off for brk, off in stack):
            inactive.add(no)
    return inactive


def tag_lines(text: str) -> list[int]:
    """Lines holding an INVARIANT(...) tag."""
    return [no for no, line in enumerate(text.splitlines(), 1) if _TAG.search(line)]


def invariant_functions(text: str, funcs: list[Func] | None = None) -> list[Func]:
    """Functions that enforce a tagged promise: a tag inside the body names
    its function; a tag at file scope (above a function or a block of
    definitions) names the next function."""
    funcs = functions(text) if funcs is None else funcs
    lines = text.splitlines()
    sections = [no for no, line in enumerate(lines, 1) if _SECTION.match(line)]
    chosen: list[Func] = []
    tags = tag_lines(text)
    for line in tags:
        inside = [f for f in funcs if f.start <= line <= f.end]
        after = [f for f in funcs if f.start > line]
        if inside:
            named = inside[:1]
        else:
            # The comment the tag is in: a section header (`/* ---- name ----`)
            # speaks for every function up to the next section or tag.
            top = line
            while top > 1 and "/*" not in lines[top - 1]:
                top -= 1
            if top in sections:
                nxt = min((s for s in sections + tags if s > line), default=len(lines) + 1)
                named = [f for f in after if f.start < nxt]
            else:
                named = after[:1]
        for f in named:
            if f not in chosen:
                chosen.append(f)
    return chosen


def check_lines(text: str, func: Func) -> set[int]:
    """The lines of func that check something: each if/while condition
    (all of its lines, up to the closing parenthesis) and each error return."""
    code = blank(text).splitlines()
    lines: set[int] = set()
    for no in func.lines():
        line = code[no - 1] if no - 1 < len(code) else ""
        m = _CHECK.search(line)
        if not m:
            continue
        lines.add(no)
        if m.group(1):  # a condition: follow it to its closing parenthesis
            depth = line[m.start():].count("(") - line[m.start():].count(")")
            k = no
            while depth > 0 and k < func.end:
                k += 1
                lines.add(k)
                depth += code[k - 1].count("(") - code[k - 1].count(")")
    return lines
