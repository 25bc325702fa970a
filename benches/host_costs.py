#!/usr/bin/env python3
"""Core-µs per site of each stage of `methyl` on the CPU path, from a perf profile.

Runs `perf record` on `methyl SHEET --compare A,B --device cpu` (a simulated study of
--sites sites, 4 samples, unless --sheet is given), then attributes every sample to a stage
by its symbol: the site update (the kernels, their variates and maths), the summaries
(diagnostics, sorting), reading (the merge and the count formats, decompression), writing
(Parquet, Arrow, zstd) and the rest (allocation, the kernel, threads). The run's user + sys
CPU seconds, split by those shares, give core-seconds per stage; divided by the sites,
core-µs per site. Sampling, so each share is good to a few tenths of a per cent.

    python3 benches/host_costs.py --bin target/release/betagibbs --sites 1000000

Needs `perf` (linux-tools) and permission to profile (perf_event_paranoid <= 2).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

STAGES = [
    ("site update", r"kernels::cpu|log_gamma_variate|__logf|__expf|__cosf|__sinf|__powf|__log_|__exp_|UniformStream|philox|lanes|hyper::"),
    ("summaries", r"diagnostics|summaries|sort|inv_normal|quantile"),
    ("reading", r"merge::|formats::|SplitWhitespace|parse|Lines|flate|inflate|from_str|RecordFeed|memchr|read_line|BufRead"),
    ("writing", r"ZSTD|parquet|arrow|zstd|encode|Writer"),
    ("other (allocation, kernel, threads)", r"."),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/betagibbs")
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--sheet", help="a sample sheet to fit instead of a simulated study")
    ap.add_argument("--compare", default="A,B")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sheet = args.sheet
        if sheet is None:
            subprocess.run([args.bin, "simulate", "--sites", str(args.sites), "--out", f"{tmp}/study"],
                           check=True, capture_output=True)
            sheet = f"{tmp}/study/sheet.tsv"
        data = f"{tmp}/perf.data"
        t0 = time.time()
        before = os.times()
        run = subprocess.run(["perf", "record", "-F", "999", "-o", data, "--", args.bin, "methyl", sheet,
                              "--compare", args.compare, "--device", "cpu", "--quiet", "--out", f"{tmp}/fit"],
                             capture_output=True, text=True)
        after = os.times()
        wall = time.time() - t0
        if run.returncode != 0:
            sys.exit(f"perf record failed:\n{run.stderr}")
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        sites = int(re.search(r"(\d+) of \d+ sites passed", run.stderr).group(1))
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "symbol", "--stdio"],
                                capture_output=True, text=True, check=True).stdout
    shares = {name: 0.0 for name, _ in STAGES}
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\S+\s+(.*)", line)
        if not m or line.startswith("#"):
            continue
        share, symbol = float(m.group(1)), m.group(2)
        for name, pattern in STAGES:
            if re.search(pattern, symbol):
                shares[name] += share
                break
    total = sum(shares.values())
    print(f"{sites:,} sites, {wall:.1f} s wall, {cpu:.1f} CPU s (user + sys, perf's own included): "
          f"{cpu / sites * 1e6:.1f} core-µs per site")
    print(f"{'stage':<38} {'share':>7} {'core-s':>8} {'core-µs/site':>13}")
    for name, _ in STAGES:
        s = shares[name] / total
        print(f"{name:<38} {s:>6.1%} {s * cpu:>8.2f} {s * cpu / sites * 1e6:>13.2f}")
    host = sum(shares[n] for n in ["summaries", "reading", "writing"]) / total
    print(f"host work (summaries + reading + writing): {host * cpu / sites * 1e6:.1f} core-µs per site; "
          f"with the rest: {(1 - shares['site update'] / total) * cpu / sites * 1e6:.1f}")


if __name__ == "__main__":
    main()
