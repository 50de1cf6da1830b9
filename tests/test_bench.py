"""The benchmark harness's own pieces (parsing, medians, ratios, the Linux
initramfs's module order), and one cheap benchmark on Vigil. No timings
are asserted: speed lives in `invoke bench` (docs/bench.md), and Linux is
never downloaded here."""

from __future__ import annotations

import struct
from pathlib import Path

from harness import bench, linux


def test_parse_line_reads_the_fields() -> None:
    r = bench.parse_line("bench mmap ns_per_op=16025.0 ops=16384 faults_per_s=62403")
    assert r is not None
    assert (r.name, r.ns_per_op, r.error) == ("mmap", 16025.0, None)
    assert r.fields["faults_per_s"] == "62403"


def test_parse_line_error_and_noise() -> None:
    r = bench.parse_line("bench fsync error=open errno=30\n")
    assert r is not None and r.ns_per_op is None and r.error == "open"
    assert bench.parse_line("bench-run: start") is None
    assert bench.parse_line("vigil: power off requested by pid 1") is None
    assert bench.parse_line("bench getpid ns_per_op=abc ops=1").error == "unparsed"  # type: ignore[union-attr]


def test_parse_output_keeps_benchmark_lines_only() -> None:
    text = ("Vigil booting\nbench-run: start\nbench getpid ns_per_op=200.0 ops=5\n"
            "noise\nbench fork ns_per_op=3.5e5 ops=2\nbench-run: done\n")
    got = bench.parse_output(text)
    assert set(got) == {"getpid", "fork"}
    assert got["fork"].ns_per_op == 350000.0


def test_boot_time_is_the_first_user_line() -> None:
    lines = [(0.05, "Vigil booting"), (0.12, "bench-run: start"), (0.5, "bench-run: start")]
    r = bench.boot_result(lines)
    assert r is not None and r.name == "boot" and r.ns_per_op == 0.12e9
    assert bench.boot_result([(1.0, "nothing")]) is None


def _boot(kernel: str, results: dict[str, float | None]) -> bench.Boot:
    res = {n: bench.Result(n, v, {} if v is not None else {"error": "x"})
           for n, v in results.items()}
    return bench.Boot(kernel, "tcg", res, True, Path("/dev/null"))


def test_summary_medians_and_ratios() -> None:
    boots = [_boot("vigil", {"getpid": 300.0, "fork": None}), _boot("linux", {"getpid": 100.0}),
             _boot("vigil", {"getpid": 100.0}), _boot("linux", {"getpid": 200.0}),
             _boot("vigil", {"getpid": 200.0}), _boot("linux", {"getpid": 300.0, "fork": 5.0})]
    rows = {r.name: r for r in bench.summarize(boots, ["getpid", "fork"])}
    assert rows["getpid"].vigil == 200.0 and rows["getpid"].linux == 200.0
    assert rows["getpid"].ratio == 1.0
    assert rows["getpid"].vigil_runs == (300.0, 100.0, 200.0)
    assert rows["fork"].vigil is None and rows["fork"].ratio is None
    assert rows["fork"].errors == ("vigil: x",)
    assert rows["boot"].vigil is None  # present, empty: no boot line was measured
    assert bench.median([4.0, 1.0]) == 2.5 and bench.median([]) is None


def test_report_json_and_units() -> None:
    rows = bench.summarize([_boot("vigil", {"getpid": 400.0}), _boot("linux", {"getpid": 100.0})],
                           ["getpid"])
    report = bench.Report("tcg", 1, True, rows, ["a note"], "linux-image-x")
    import json

    data = json.loads(report.to_json())
    assert data["benchmarks"][0]["ratio"] == 4.0 and data["notes"] == ["a note"]
    assert bench.fmt_ns(1500.0) == "1.5 µs" and bench.fmt_ns(2.5e9) == "2.5 s"
    assert bench.fmt_ns(None) == "-"


def _module(depends: str) -> bytes:
    """A minimal ELF64 holding just a .modinfo section."""
    shstr = b"\0.shstrtab\0.modinfo\0"
    info = f"license=GPL\0depends={depends}\0".encode()
    shoff = 64 + len(shstr) + len(info)
    head = bytearray(64)
    head[:4] = b"\x7fELF"
    struct.pack_into("<Q", head, 0x28, shoff)
    struct.pack_into("<HHH", head, 0x3A, 64, 3, 1)
    sh = bytes(64)
    sh += struct.pack("<IIQQQQ", 1, 3, 0, 0, 64, len(shstr)).ljust(64, b"\0")
    sh += struct.pack("<IIQQQQ", 11, 1, 0, 0, 64 + len(shstr), len(info)).ljust(64, b"\0")
    return bytes(head) + shstr + info + sh


def test_modules_load_dependencies_first(tmp_path: Path) -> None:
    (tmp_path / "fs").mkdir()
    (tmp_path / "fs" / "ext4.ko").write_bytes(_module("jbd2,crc16"))
    (tmp_path / "fs" / "jbd2.ko").write_bytes(_module(""))
    (tmp_path / "crc16.ko").write_bytes(_module(""))
    (tmp_path / "virtio-blk.ko").write_bytes(_module("jbd2"))
    assert linux.modinfo(_module("a,b"))["depends"] == ["a,b"]
    order = [p.name for p in linux.load_order(tmp_path, ["virtio_blk", "ext4"])]
    assert order == ["jbd2.ko", "virtio-blk.ko", "crc16.ko", "ext4.ko"]


def test_console_node_is_a_newc_character_device() -> None:
    node = linux._node(7, 0o20600, "dev/console", 5, 1)
    assert node.startswith(b"070701") and len(node) % 4 == 0
    fields = [int(node[6 + 8 * i: 14 + 8 * i], 16) for i in range(13)]
    assert fields[1] == 0o20600 and (fields[9], fields[10]) == (5, 1)
    assert node[110:110 + fields[11]] == b"dev/console\0"


def test_a_benchmark_runs_on_vigil_and_its_line_parses(vigil) -> None:
    run = vigil.program(["/bin/bench-getpid", "20"])
    assert run.status == 0, run.console[-2000:]
    r = bench.parse_output(run.output)["getpid"]
    assert r.ns_per_op is not None and r.ns_per_op > 0 and int(r.fields["ops"]) > 0


def test_a_benchmark_that_cannot_run_says_why(vigil) -> None:
    # The initrd is read-only: the file benchmark reports it, exits 1.
    run = vigil.program(["/bin/bench-create", "20", "/"])
    assert run.status == 1, run.console[-2000:]
    r = bench.parse_output(run.output)["create"]
    assert r.ns_per_op is None and r.error is not None


def test_profile_sample_classification() -> None:
    from harness import benchprof

    def resolve(addr: int) -> tuple[str, int] | None:
        return ("kmalloc", addr - 0xFFFFFFFF80100000) if addr >= 0xFFFFFFFF80100000 else None

    kernel = "RIP=ffffffff80100010 RFL=00000046\nCS =0008 ... CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
    assert benchprof.classify(kernel, resolve) == "kmalloc"
    assert benchprof.classify(kernel.replace("CPL=0", "CPL=3"), resolve) == "[user]"
    assert benchprof.classify(kernel.replace("HLT=0", "HLT=1"), resolve) == "[idle]"
    assert benchprof.classify("no registers", resolve) is None
