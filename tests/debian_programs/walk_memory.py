# The seed's third walk: [0] * 10_000_000 -> mmap and demand paging; the
# peak RSS from /proc/self/status.
def status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/self/status")


before = status("VmHWM")
xs = [0] * 10_000_000
peak = status("VmHWM")
print("len", len(xs))
print("VmHWM_before_kB", before)
print("VmHWM_peak_kB", peak)
print("VmRSS_kB", status("VmRSS"))
del xs
print("VmRSS_after_del_kB", status("VmRSS"))
