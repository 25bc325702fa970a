#!/usr/bin/env python3
"""Operations per chain-sweep of the site update, counted on its CPU twin, and the device's
arithmetic limit that follows (docs/perf-notes.md). benches/site_ops.sh runs it.

The scalar twin (kernels/cpu/site_update.rs) does the shader's operations in the shader's
order, one invocation at a time. Two callgrind runs of `methyl --dev-scalar-twin` that differ
only in stage 2's draws give, by their difference, the instructions that CHAIN_SWEEPS more
chain-sweeps executed: every other stage's cost cancels. The twin's code is the symbol that
calls `site_update::point_likelihoods` (run_one inlined there) and the functions it calls;
libm's logf, expf and cosf are counted as calls (one special-function unit operation each
on a GPU), x86 instructions by class.

    python3 benches/site_ops.py BINARY SHORT.callgrind LONG.callgrind CHAIN_SWEEPS
"""
import bisect
import collections
import re
import subprocess
import sys

# An H100 SXM (the lent machine): multiprocessors, the boost clock, lanes issued per clock per
# multiprocessor (4 schedulers, one 32-lane warp instruction each), special-function lanes
# per clock per multiprocessor.
SMS, CLOCK_HZ, ISSUE_LANES, SFU_LANES = 132, 1.98e9, 4 * 32, 16
# GPU instructions per x86 operation where one maps to several: a division is a reciprocal
# on the special-function unit and two corrections; a square root a reciprocal root and one;
# a libm log, exp or cos its special-function operation and one scaling.
DIV_EXTRA, SQRT_EXTRA, LIBM_EXTRA = 2, 1, 1
LIBM = re.compile(r"^(__)?(logf|expf|cosf|sinf|powf|log1pf|exp2f|log2f)(_fma)?$")


def parse(path):
    """Self cost per instruction address, and every call site (address, callee, calls)."""
    self_cost = collections.Counter()
    sites = []
    callee = calls = None
    for line in open(path):
        if line.startswith("cfn="):
            callee = line[4:].strip()
        elif line.startswith("calls="):
            calls = int(line.split()[0][6:])
        elif line.startswith("0x"):
            fields = line.split()
            address, cost = int(fields[0], 16), int(fields[-1])
            if calls is None:
                self_cost[address] += cost
            else:
                sites.append((address, callee, calls))
                calls = None
    return self_cost, sites


def symbols(binary):
    table = []
    out = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "tTwW":
            table.append((int(f[0], 16), int(f[1], 16), f[3]))
    return sorted(table)


# x86 mnemonic -> class, first match wins: on the mnemonic without AVX's "v" (fp and moves),
# or as written (branches, integer); the rest is "other".
CLASSES = [
    (r"f?n?m(add|sub)", "fp arithmetic", True),
    (r"div(ss|ps)$", "fp division", True),
    (r"sqrt(ss|ps)$", "fp square root", True),
    (r"(add|sub|mul|min|max|round)(ss|ps|sd|pd)$", "fp arithmetic", True),
    (r"(u?comis|cmp\w*(ss|ps|sd|pd)$|blendv?p)", "fp compare/select", True),
    (r"(and|andn|or|xor)(ps|pd)$", "fp sign mask", True),
    (r"cvt", "conversion", True),
    (r"(mov|push|pop|insertps|extractps|unpck|shufps|pshufd|punpck|broadcast|pinsr|pextr)", "x86 move", True),
    (r"(j|call|ret)", "branch", False),
    (r"(cmp|test|set|cmov|bt)", "integer compare/select", False),
    (r"(add|sub|adc|sbb|imul|mul|inc|dec|neg|not|and|or|xor|shl|shr|sar|rol|ror|lea|rorx|shlx|shrx"
     r"|p(add|sub|mul|sll|srl|cmp|and|or|xor))", "integer arithmetic", True),
    (r"(nop|endbr64|xchg|data16|cs)", "nop", False),
]


def classify(op):
    bare = op[1:] if op.startswith("v") else op
    for pattern, name, strip_v in CLASSES:
        if re.match(pattern, bare if strip_v else op):
            return name
    return "other"


def main():
    binary, short, long_, chain_sweeps = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    table = symbols(binary)
    starts = [s[0] for s in table]

    def symbol_at(address):
        i = bisect.bisect_right(starts, address) - 1
        return table[i] if i >= 0 and address < table[i][0] + table[i][1] else None

    runs = [parse(short), parse(long_)]
    # The twin: the function that calls point_likelihoods, and the twin's own functions.
    regions = {symbol_at(a)[:2] for a, callee, _ in runs[0][1] if callee.endswith("site_update::point_likelihoods")}
    regions |= {(a, n) for a, n, s in table if re.search(r"site_update(17point_likelihoods|4Site8proposal)", s)}
    if len(regions) < 2:
        raise SystemExit("the twin's code was not found: was the binary built with its symbols?")
    inside = lambda x: any(a <= x < a + n for a, n in regions)
    mnemonic = {}
    for a, n in regions:
        out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={a}",
                              f"--stop-address={a + n}", binary], capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.match(r"\s+([0-9a-f]+):\s+(\S+)", line)
            if m:
                mnemonic[int(m.group(1), 16)] = m.group(2)
    counts = []
    for self_cost, sites in runs:
        c = collections.Counter()
        for address, cost in self_cost.items():
            if inside(address):
                c[classify(mnemonic.get(address, "?"))] += cost
        for address, callee, calls in sites:
            if inside(address) and LIBM.match(callee):
                c["libm " + re.sub(r"^__|_fma$", "", callee)] += calls
            elif inside(address) and "site_update" not in callee:
                c["calls elsewhere: " + callee] += calls
        counts.append(c)
    per = {k: (counts[1][k] - counts[0][k]) / chain_sweeps for k in set(counts[0]) | set(counts[1])}
    print(f"per chain-sweep (the difference of two runs, {chain_sweeps:.0f} chain-sweeps):")
    for k in sorted(per):
        print(f"  {k:34s} {per[k]:9.1f}")
    g = lambda k: per.get(k, 0.0)
    libm = sum(v for k, v in per.items() if k.startswith("libm "))
    sfu = libm + g("fp division") + g("fp square root")
    arithmetic = (g("fp arithmetic") + g("fp compare/select") + g("conversion")
                  + g("integer arithmetic") + g("integer compare/select") + sfu
                  + DIV_EXTRA * g("fp division") + SQRT_EXTRA * g("fp square root") + LIBM_EXTRA * libm)
    with_control = arithmetic + g("branch") + g("fp sign mask")
    issue_rate = SMS * ISSUE_LANES * CLOCK_HZ
    sfu_rate = SMS * SFU_LANES * CLOCK_HZ
    print(f"special-function operations: {sfu:.1f} (libm {libm:.1f}, divisions {g('fp division'):.1f}, roots {g('fp square root'):.1f})")
    print(f"GPU instructions: {arithmetic:.0f} (arithmetic alone) to {with_control:.0f} (with x86's branches and sign masks); "
          f"x86's {g('x86 move'):.0f} moves left out")
    print(f"limit: issue {issue_rate / with_control:.3g} to {issue_rate / arithmetic:.3g}, "
          f"special functions {sfu_rate / sfu:.3g} chain-sweeps per second")


if __name__ == "__main__":
    main()
