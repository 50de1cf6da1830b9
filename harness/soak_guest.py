"""The soak's workload, run inside Vigil by Debian's python3 (3.11): not
imported by the harness, copied into the image as /usr/local/bin/vigil-soak.

    python3 vigil-soak SECONDS SEED

Until SECONDS have passed, at once:
  churn    files written, fsync'd, renamed into place, the directory
           fsync'd, and only then promised: a line "name sha256" appended
           to the worker's manifest and fsync'd (a deleted file: "- name");
  shell    bash pipelines and coreutils (sort, sha256sum, cp -a, find,
           rm -r) whose output must be the same every round;
  threads  python threads adding under one lock: the total must be exact;
  pipes    a child streams bytes through a pipe: the checksum must match;
  memory   32 MiB filled with a pattern and read back, then freed;
and every 20 s a checker reads every promised file back. Each problem is a
line "soak problem: ..."; the last line is the summary, and the exit status
is 0 only without problems. The harness then judges the disk itself
(e2fsck, and every promised file read by debugfs).
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import threading
import time

ROOT = "/root/soak"
FILES = f"{ROOT}/files"


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def problem(what: str) -> None:
    print(f"soak problem: {what}", flush=True)


def churn(w: int, stop: float, seed: int) -> int:
    rng = random.Random(seed * 1000 + w)
    manifest = os.open(f"{ROOT}/manifest.{w}", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    fsync_dir(ROOT)
    live: list[str] = []
    n = 0
    while time.monotonic() < stop:
        data = rng.randbytes(rng.randint(1, 64 * 1024))
        name = f"w{w}-{n}"
        tmp = f"{FILES}/.tmp-{w}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, f"{FILES}/{name}")
        fsync_dir(FILES)
        os.write(manifest, f"{name} {hashlib.sha256(data).hexdigest()}\n".encode())
        os.fsync(manifest)
        live.append(name)
        n += 1
        if len(live) > 40:
            gone = live.pop(rng.randrange(len(live)))
            os.write(manifest, f"- {gone}\n".encode())     # no longer promised, then gone
            os.fsync(manifest)
            os.unlink(f"{FILES}/{gone}")
            fsync_dir(FILES)
    os.close(manifest)
    return n


SHELL = r"""
set -e
seq 1 20000 | sort -r | sha256sum
d=$(mktemp -d /root/soak/tree.XXXXXX)
cp -a /usr/lib/python3.11/email "$d/a"
(cd "$d" && find . | sort | sed 's|^\./||' | tr '\n' ' ' | sha256sum)
(cd "$d/a" && find . -type f | sort | xargs sha256sum | sha256sum)
rm -r "$d"
echo "$(( $(printf '%s\n' {1..500} | paste -sd+) ))"
"""


def shell(stop: float) -> int:
    first = None
    n = 0
    while time.monotonic() < stop:
        r = subprocess.run(["/bin/bash", "-c", SHELL], capture_output=True, text=True)
        if r.returncode != 0:
            problem(f"shell round {n} exited {r.returncode}: {r.stderr[-300:]!r}")
            return -1
        if first is None:
            first = r.stdout
        elif r.stdout != first:
            problem(f"shell round {n} printed {r.stdout!r}, round 0 {first!r}")
            return -1
        n += 1
    return n


def threads(stop: float) -> int:
    lock = threading.Lock()
    total = [0]
    rounds = 0
    while time.monotonic() < stop:
        def add() -> None:
            for _ in range(2000):
                with lock:
                    total[0] += 1
        ts = [threading.Thread(target=add) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        rounds += 1
        if total[0] != rounds * 8000:
            problem(f"threads: {total[0]} after {rounds} rounds of 8000")
            return -1
    return total[0]


def pipes(stop: float, seed: int) -> int:
    moved = 0
    rng = random.Random(seed)
    while time.monotonic() < stop:
        data = rng.randbytes(256 * 1024)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            view = memoryview(data)
            while view:
                view = view[os.write(w, view[:rng.randint(1, 65536)]):]
            os._exit(0)
        os.close(w)
        got = bytearray()
        while chunk := os.read(r, 65536):
            got += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if status != 0 or hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
            problem(f"pipes: {len(got)} of {len(data)} bytes came through intact? no")
            return -1
        moved += len(got)
    return moved


def memory(stop: float) -> int:
    rounds = 0
    while time.monotonic() < stop:
        block = bytearray(32 << 20)
        pattern = bytes(range(256)) * 16
        for off in range(0, len(block), len(pattern)):
            block[off:off + len(pattern)] = pattern
        if block.count(pattern) != len(block) // len(pattern):
            problem("memory: a 32 MiB pattern did not read back")
            return -1
        del block
        rounds += 1
    return rounds


def promised() -> dict[str, str]:
    """name -> sha256 of every file the manifests say is there now."""
    files: dict[str, str] = {}
    for entry in sorted(os.listdir(ROOT)):
        if not entry.startswith("manifest."):
            continue
        with open(f"{ROOT}/{entry}") as f:
            for line in f:
                a, b = line.split()
                if a == "-":
                    files.pop(b, None)
                else:
                    files[a] = b
    return files


def check_promises() -> int:
    """Read back every promised file; the number checked, -1 on a problem."""
    files = promised()
    later: dict[str, str] | None = None     # the manifests read again, once a file is missing
    for name, digest in files.items():
        try:
            with open(f"{FILES}/{name}", "rb") as f:
                got = hashlib.sha256(f.read()).hexdigest()
        except FileNotFoundError:
            got = "missing"
        if got == "missing":
            if later is None or name in later:
                later = promised()          # deleted since they were read? (once, not per file)
            if name not in later:
                continue                    # deleted since the manifests were read
        if got != digest:
            problem(f"promised file {name}: {got}, promised {digest}")
            return -1
    return len(files)


def run_worker(kind: str, i: int, stop: float, seed: int) -> None:
    """In a child process: one worker; its figure goes to a file."""
    if kind == "churn":
        v = churn(i, stop, seed)
    elif kind == "shell":
        v = shell(stop)
    elif kind == "threads":
        v = threads(stop)
    elif kind == "pipes":
        v = pipes(stop, seed + i)
    else:
        v = memory(stop)
    with open(f"{ROOT}/result.{kind}.{i}", "w") as f:
        f.write(str(v))
    os._exit(0 if v >= 0 else 1)


def main() -> int:
    seconds, seed = float(sys.argv[1]), int(sys.argv[2])
    os.makedirs(FILES, exist_ok=True)
    start = time.monotonic()
    stop = start + seconds
    plan = [("churn", 0), ("churn", 1), ("shell", 0), ("threads", 0), ("pipes", 0),
            ("memory", 0)]
    pids = {}
    for kind, i in plan:
        pid = os.fork()
        if pid == 0:
            run_worker(kind, i, stop, seed)
        pids[pid] = (kind, i)
    bad = 0
    checks = checked = 0
    next_check = start + 20
    while pids:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            kind, i = pids.pop(pid)
            if status != 0:
                problem(f"{kind} worker {i} ended with status {status:#x}")
                bad += 1
            continue
        if time.monotonic() >= next_check:
            n = check_promises()
            bad += n < 0
            checks += 1
            checked += max(n, 0)
            next_check += 20
            if checks % 15 == 0:                    # a sign of life every 5 minutes
                print(f"soak: {time.monotonic() - start:.0f} s, {n} promised files read back, "
                      f"{len(pids)} workers running, problems {bad}", flush=True)
        time.sleep(0.5)
    final = check_promises()
    bad += final < 0
    os.sync()
    figures = {}
    for kind, i in plan:
        try:
            with open(f"{ROOT}/result.{kind}.{i}") as f:
                figures[f"{kind}{i}"] = int(f.read())
        except (FileNotFoundError, ValueError):
            figures[f"{kind}{i}"] = -1
    churned = figures["churn0"] + figures["churn1"]
    print(f"soak: {time.monotonic() - start:.0f} s, files promised {churned}, "
          f"live {max(final, 0)}, checks {checks + 1} ({checked + max(final, 0)} files read back), "
          f"shell rounds {figures['shell0']}, thread adds {figures['threads0']}, "
          f"pipe bytes {figures['pipes0']}, memory rounds {figures['memory0']}, problems {bad}",
          flush=True)
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
