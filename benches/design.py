#!/usr/bin/env python3
"""Study designs (issue 15): `betagibbs methyl --design` beside DSS's multiFactor, one run.

What it measures
----------------
Both tools fit the same DSS-format files with the same formula: betagibbs as
`methyl SHEET --design FORMULA --coef C --device cpu` (a per-site beta-binomial regression,
logit mu = x beta, the tested coefficient shrunk by a spike and slab), DSS as
`DMLfit.multiFactor` + `DMLtest.multiFactor(coef = C)` (benches/design_dss.R, no smoothing:
also DSS's default for multiFactor).

a. Agreement on DSS's RRBS example (16 samples, group HC/SLE x cell aN/rN), `~ group + cell`,
   coefficients groupSLE and cellrN: Pearson and Spearman correlation of our
   z = <coef>_mean / <coef>_sd with DSS's Wald statistic over the sites both scored, and the
   overlap of the top k sites by |z| and by |stat|.
b. Null splits of the 8 healthy controls (4 aN, 4 rN; checked on load), two pseudo-groups
   of 2 aN + 2 rN each, `~ group + cell`, coefficient groupB: every call is false. Ours: the
   rows of dml.parquet (Bayesian FDR 5%); DSS: fdrs < 0.05. Three splits (the three ways to
   halve the aN samples, each with the matching halving of the rN ones); --all-splits runs
   all 18 up to relabelling; --quick the first.
c. Speed: sites per second of our CPU path (the run's own "N sites in S s" line: reading
   included) and of DSS's fit + test of one coefficient (reading excluded, one core: the
   multiFactor functions take no ncores), side by side in this run, on the RRBS example and
   on a simulated study (100,000 sites; 5,000 with --quick): 16 samples, group A/B balanced
   with a two-level factor `batch` and a numeric covariate `age`, logit-normal sample noise,
   coverage 10-40, `~ group + batch + age`, coefficient groupB. The ratio is ours / DSS.

Until `methyl --design` exists, --self-test-compare runs the harness end to end with our side
as `methyl --compare` (the coefficient's factor as the sheet's group column, its reference
level first) and z = delta_mean / delta_sd: a test of the harness, not of the model.

Usage: python3 benches/design.py [--quick] [--all-splits] [--out DIR] [--seed N] [--bin PATH]
           [--data DIR] [--self-test-compare]
Needs python3 with pyarrow, and Rscript with Bioconductor's DSS. Prints a Markdown report and
writes it (report.md) with design.json and every fit to --out.
Exit codes: 0 done; 2 the binary, Rscript, DSS, pyarrow or the data is missing.
"""

import argparse
import atexit
import gzip
import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import pyarrow.parquet as pq
except ImportError as e:
    print(f"design.py: {e}: install pyarrow (pip install pyarrow)", file=sys.stderr)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DSS_SCRIPT = os.path.join(REPO, "benches", "design_dss.R")

# --- Our outputs: every column name the script reads from betagibbs is here ----------------


def coef_columns(coef):
    """sites.parquet's columns of the tested coefficient (logit scale)."""
    return {"mean": f"{coef}_mean", "sd": f"{coef}_sd", "q2_5": f"{coef}_q2_5",
            "q97_5": f"{coef}_q97_5"}


DELTA_MEAN, DELTA_SD = "delta_mean", "delta_sd"  # the methylation scale; --compare's z
P_DM = "p_dm"
CALLS_FILE = "dml.parquet"  # our calls: its rows (sites.parquet has no call column)
OUR_RATE_LINE = re.compile(r"betagibbs: (\d+) sites in ([0-9.]+) s")

# --- The studies ----------------------------------------------------------------------------
RRBS_FORMULA = "~ group + cell"
RRBS_COEFS = ["groupSLE", "cellrN"]
TOP_K = [100, 500]
NULL_FORMULA = "~ group + cell"
NULL_COEF = "groupB"  # pseudo-groups A and B: B against the reference A
DSS_FDR = 0.05  # DSS's calls: DMLtest.multiFactor's fdrs below this

SIM_SITES = 100_000
SIM_SITES_QUICK = 5_000
SIM_SAMPLES = 16  # 8 A + 8 B; batch x and y 4 each within a group; age uniform
SIM_FORMULA = "~ group + batch + age"
SIM_COEF = "groupB"
SIM_COVERAGE = (10, 40)  # per sample and site, uniform inclusive
SIM_METHYLATED_SHARE = 0.7  # sites whose baseline is methylated
SIM_BASELINE = ((2.0, 1.0), (-2.0, 1.0))  # logit baseline ~ N(mean, sd): methylated, not
SIM_DM_SHARE = 0.1  # sites with a group effect
SIM_GROUP_EFFECT = (0.5, 2.0)  # |logit effect| ~ U(this), random sign
SIM_BATCH_SD = 0.5  # batch's logit effect ~ N(0, this^2) at every site
SIM_AGE = (20.0, 70.0)  # ages ~ U(this)
SIM_AGE_SD_PER_DECADE = 0.1  # age's logit effect per 10 years ~ N(0, this^2)
SIM_SAMPLE_SD = 0.4  # logit-normal sample noise
SIM_P_CLIP = (0.001, 0.999)
SIM_CHROMS = 4  # the sites are spread over this many chromosomes, 100 bp apart


def die(msg, code=2):
    print(f"design.py: {msg}", file=sys.stderr)
    sys.exit(code)


# ==========================================================================================
# Sheets
# ==========================================================================================


def read_sheet(path):
    """Our sample sheet as a list of dicts (CSV, or TSV when the header holds a tab), with
    the file paths made absolute."""
    with open(path) as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
    sep = "\t" if "\t" in lines[0] else ","
    header = lines[0].split(sep)
    rows = [dict(zip(header, ln.split(sep))) for ln in lines[1:]]
    for r in rows:
        r["file"] = os.path.join(os.path.dirname(os.path.abspath(path)), r["file"])
    return rows


def write_sheet(path, rows, columns):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\t".join(columns) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in columns) + "\n")
    return path


def coef_factor(rows, coef):
    """(column, reference level, level) of a factor coefficient such as groupSLE, with R's
    default (sorted) level order; for --self-test-compare."""
    for col in rows[0]:
        if col in ("sample", "file") or not coef.startswith(col):
            continue
        levels = sorted({r[col] for r in rows})
        if coef[len(col):] in levels[1:] and len(levels) == 2:
            return col, levels[0], coef[len(col):]
    die(f"--self-test-compare: {coef} is not a two-level factor's coefficient of the sheet")


# ==========================================================================================
# Running the two tools
# ==========================================================================================


def run_ours(args, sheet, formula, coef, out):
    """betagibbs methyl on the sheet, for one coefficient. Returns per-site z, p_dm, the
    calls, and the run's sites and seconds."""
    rows = read_sheet(sheet)
    if args.self_test_compare:
        col, ref, level = coef_factor(rows, coef)
        if col != "group":  # --compare compares the group column: the factor becomes it
            for r in rows:
                r["group"] = r[col]
            sheet = write_sheet(os.path.join(out + ".sheet.tsv"), rows, ["sample", "file",
                                                                         "group"])
        how = ["--compare", f"{ref},{level}"]
    else:
        how = ["--design", formula, "--coef", coef]
    cmd = [args.bin, "methyl", sheet, *how, "--out", out, "--device", "cpu", "--quiet",
           "--seed", str(args.seed)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        die(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}", code=1)
    m = OUR_RATE_LINE.search(proc.stderr)
    if m is None:
        die(f"{' '.join(cmd)}: no 'N sites in S s' line on stderr:\n{proc.stderr}", code=1)
    sites = pq.read_table(os.path.join(out, "sites.parquet")).to_pydict()
    cols = coef_columns(coef)
    if args.self_test_compare:
        mean, sd = sites[DELTA_MEAN], sites[DELTA_SD]
    else:
        lacking = [c for c in (cols["mean"], cols["sd"], P_DM) if c not in sites]
        if lacking:
            die(f"{out}/sites.parquet lacks {', '.join(lacking)} (it has "
                f"{', '.join(sites)}): the names in coef_columns() need updating", code=1)
        mean, sd = sites[cols["mean"]], sites[cols["sd"]]
    z = {}
    for c, p, mu, s in zip(sites["chr"], sites["pos"], mean, sd):
        # A posterior all at the spike (sd 0) says no effect: z = 0.
        z[(c, int(p))] = 0.0 if not s else mu / s
    calls = pq.read_table(os.path.join(out, CALLS_FILE), columns=["chr", "pos"]).to_pydict()
    return {"z": z, "calls": len(calls["chr"]), "sites": int(m.group(1)),
            "seconds": float(m.group(2)), "wall_s": wall, "command": cmd}


def read_tsv(path):
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return {h: [r[i] for r in rows] for i, h in enumerate(header)}


def number(s):
    try:
        v = float(s)
    except ValueError:  # R's NA
        return math.nan
    return v


def run_dss(sheet, formula, coefs, prefix):
    """design_dss.R; returns per coefficient {site: (stat, fdr)}, its sites and the seconds
    of reading, fitting and each test."""
    cmd = ["Rscript", DSS_SCRIPT, sheet, formula, ",".join(coefs), prefix]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        die(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}", code=1)
    t = read_tsv(f"{prefix}.sites.tsv")
    keys = [(c, int(float(p))) for c, p in zip(t["chr"], t["pos"])]
    out = {"sites": len(keys), "wall_s": wall, "coefs": {}}
    for coef in coefs:
        stat = [number(v) for v in t[f"{coef}.stat"]]
        fdr = [number(v) for v in t[f"{coef}.fdrs"]]
        out["coefs"][coef] = {k: (s, q) for k, s, q in zip(keys, stat, fdr)}
    timing = read_tsv(f"{prefix}.timing.tsv")
    out["steps"] = dict(zip(timing["step"], (float(s) for s in timing["seconds"])))
    return out


# ==========================================================================================
# Metrics
# ==========================================================================================


def midranks(v):
    order = sorted(range(len(v)), key=v.__getitem__)
    ranks = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(x, y):
    n = len(x)
    if n < 3:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def spearman(x, y):
    return pearson(midranks(x), midranks(y))


def top_k_overlap(keys, ours, theirs, k):
    """Share of the top k sites by |ours| that are also in the top k by |theirs| (ties broken
    by site order), and the share of those common ones whose signs agree."""
    if k > len(keys):
        return None, None
    top = lambda v: set(sorted(range(len(keys)), key=lambda i: -abs(v[i]))[:k])  # noqa: E731
    common = top(ours) & top(theirs)
    same_sign = sum(1 for i in common if (ours[i] > 0) == (theirs[i] > 0))
    return len(common) / k, (same_sign / len(common) if common else None)


def agreement(ours, dss_coef):
    """Correlations of our z with DSS's stat on the sites both scored (finite values)."""
    keys = [k for k in ours["z"] if k in dss_coef and math.isfinite(dss_coef[k][0])
            and math.isfinite(ours["z"][k])]
    z = [ours["z"][k] for k in keys]
    stat = [dss_coef[k][0] for k in keys]
    res = {"common_sites": len(keys), "ours_sites": len(ours["z"]),
           "dss_sites": sum(1 for v in dss_coef.values() if math.isfinite(v[0])),
           "pearson": pearson(z, stat), "spearman": spearman(z, stat), "top_k": {}}
    for k in TOP_K:
        overlap, sign = top_k_overlap(keys, z, stat, k)
        res["top_k"][str(k)] = {"overlap": overlap, "sign_agreement": sign}
    return res


def dss_calls(dss_coef):
    return sum(1 for _, q in dss_coef.values() if math.isfinite(q) and q < DSS_FDR)


def speed(ours, dss, coef):
    """Sites per second of each: ours from the run's own line, DSS's fit + one test."""
    dss_s = dss["steps"]["fit"] + dss["steps"][f"test.{coef}"]
    ours_rate = ours["sites"] / ours["seconds"]
    dss_rate = dss["sites"] / dss_s
    return {"ours_sites": ours["sites"], "ours_s": ours["seconds"], "ours_wall_s": ours["wall_s"],
            "ours_sites_per_s": ours_rate, "dss_sites": dss["sites"], "dss_fit_test_s": dss_s,
            "dss_read_s": dss["steps"]["read"], "dss_wall_s": dss["wall_s"],
            "dss_sites_per_s": dss_rate, "ratio": ours_rate / dss_rate}


# ==========================================================================================
# The studies
# ==========================================================================================


def rrbs_sheet(data):
    path = os.path.join(data, "dss_rrbs", "sheet.tsv")
    if not os.path.isfile(path):
        die(f"{path} not found (pass --data)")
    rows = read_sheet(path)
    if not all("cell" in r for r in rows) or len(rows) != 16:
        die(f"{path}: expected 16 samples with a cell column")
    return rows


def null_splits(rows, which):
    """The healthy controls' balanced halvings: lists of (A samples, B samples). which: 'one',
    'three' or 'all' (18, up to relabelling)."""
    hc = [r for r in rows if r["group"] == "HC"]
    an = sorted((r["sample"] for r in hc if r["cell"] == "aN"), key=natural)
    rn = sorted((r["sample"] for r in hc if r["cell"] == "rN"), key=natural)
    if len(an) != 4 or len(rn) != 4:
        die(f"the RRBS sheet's healthy controls are {len(an)} aN and {len(rn)} rN, not 4 and 4")
    # The halvings of 4 up to relabelling: {0, k} against the rest, k = 1, 2, 3.
    halves = lambda s: [[s[0], s[k]] for k in (1, 2, 3)]  # noqa: E731
    all_pairs = lambda s: [[s[i], s[j]] for i in range(4) for j in range(i + 1, 4)]  # noqa: E731
    if which == "all":  # fixing aN's halving fixes the labels: rN's may be any of 6 pairs
        splits = [(a + r) for a in halves(an) for r in all_pairs(rn)]
    else:
        splits = [a + r for a, r in zip(halves(an), halves(rn))]
        if which == "one":
            splits = splits[:1]
    names = an + rn
    return [(s, [n for n in names if n not in s]) for s in splits]


def natural(name):
    m = re.match(r"(\D*)(\d+)$", name)
    return (m.group(1), int(m.group(2))) if m else (name, 0)


def binomial(rng, n, p):
    """Binomial(n, p) by inversion from one uniform (n is small here)."""
    if p > 0.5:
        return n - binomial(rng, n, 1 - p)
    q = 1 - p
    pmf = q ** n
    u, k, cdf = rng.random(), 0, pmf
    while u > cdf and k < n:
        pmf *= (n - k) / (k + 1) * p / q
        k += 1
        cdf += pmf
    return k


def simulate(folder, sites, seed):
    """The simulated study (see the module docstring): DSS-format files, a sheet with group,
    batch and age, and truth.tsv (each site's true logit effects). Returns the sheet path."""
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    samples = []
    for j in range(SIM_SAMPLES):
        group = "A" if j < SIM_SAMPLES // 2 else "B"
        batch = "x" if j % 2 == 0 else "y"
        age = round(rng.uniform(*SIM_AGE), 1)
        samples.append({"sample": f"{group}{j % (SIM_SAMPLES // 2) + 1}", "group": group,
                        "batch": batch, "age": age,
                        "file": os.path.join(folder, f"{group}{j % (SIM_SAMPLES // 2) + 1}.txt.gz")})
    mean_age = sum(s["age"] for s in samples) / len(samples)
    per_chrom = -(-sites // SIM_CHROMS)
    truth = ["chr\tpos\tbaseline\tgroup_effect\tbatch_effect\tage_effect_per_decade"]
    counts = [[] for _ in samples]
    lo, hi = SIM_P_CLIP
    for i in range(sites):
        chrom, pos = f"chr{i // per_chrom + 1}", 100 * (i % per_chrom + 1)
        m, s = SIM_BASELINE[0] if rng.random() < SIM_METHYLATED_SHARE else SIM_BASELINE[1]
        base = rng.gauss(m, s)
        g = rng.uniform(*SIM_GROUP_EFFECT) * rng.choice((-1, 1)) \
            if rng.random() < SIM_DM_SHARE else 0.0
        b = rng.gauss(0, SIM_BATCH_SD)
        a = rng.gauss(0, SIM_AGE_SD_PER_DECADE)
        truth.append(f"{chrom}\t{pos}\t{base:.4f}\t{g:.4f}\t{b:.4f}\t{a:.4f}")
        for j, smp in enumerate(samples):
            eta = base + g * (smp["group"] == "B") + b * (smp["batch"] == "y") \
                + a * (smp["age"] - mean_age) / 10 + rng.gauss(0, SIM_SAMPLE_SD)
            p = min(max(1 / (1 + math.exp(-eta)), lo), hi)
            n = rng.randint(*SIM_COVERAGE)
            counts[j].append(f"{chrom}\t{pos}\t{n}\t{binomial(rng, n, p)}")
    for smp, lines in zip(samples, counts):
        with gzip.open(smp["file"], "wt", compresslevel=1) as f:
            f.write("chr\tpos\tN\tX\n" + "\n".join(lines) + "\n")
    with open(os.path.join(folder, "truth.tsv"), "w") as f:
        f.write("\n".join(truth) + "\n")
    return write_sheet(os.path.join(folder, "sheet.tsv"), samples,
                       ["sample", "file", "group", "batch", "age"])


# ==========================================================================================
# Report
# ==========================================================================================


def fmt(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.{digits}f}"


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def report(res, args, sha):
    mode = "SELF-TEST (ours ran --compare; z = delta_mean/delta_sd; NOT the design model)" \
        if args.self_test_compare else "methyl --design"
    lines = [f"# betagibbs design benchmark ({'quick' if args.quick else 'full'}), {mode}",
             "",
             f"Seed {args.seed}; binary {args.bin} (sha256 {sha[:16]}); DSS "
             f"{res['dss_version']}: DMLfit.multiFactor (smoothing off, DSS's default) + "
             f"DMLtest.multiFactor, one core.", ""]
    a = res["rrbs"]
    lines += [f"## a. Agreement with DSS on the RRBS example, `{RRBS_FORMULA}`", "",
              md_table(["coefficient", "common sites", "Pearson z~stat", "Spearman z~stat"]
                       + [f"top {k} overlap (signs agree)" for k in TOP_K]
                       + ["ours calls", "DSS calls (fdrs<0.05)"],
                       [[c, fmt(r["common_sites"]), fmt(r["pearson"]), fmt(r["spearman"])]
                        + [f"{fmt(r['top_k'][str(k)]['overlap'])} "
                           f"({fmt(r['top_k'][str(k)]['sign_agreement'])})" for k in TOP_K]
                        + [fmt(r["ours_calls"]), fmt(r["dss_calls"])]
                        for c, r in a["coefs"].items()]), ""]
    b = res["null_splits"]
    lines += [f"## b. Null splits of the 8 healthy controls, `{NULL_FORMULA}`, coefficient "
              f"{NULL_COEF} (every call is false)", "",
              md_table(["group A (B: the other four)", "sites ours / DSS", "ours calls",
                        "DSS calls (fdrs<0.05)"],
                       [[",".join(s["a"]), f"{fmt(s['ours_sites'])} / {fmt(s['dss_sites'])}",
                         fmt(s["ours_calls"]), fmt(s["dss_calls"])] for s in b]), ""]
    c = res["speed"]
    lines += ["## c. Speed, side by side (ours: CPU path, the run's own seconds, reading "
              "included; DSS: fit + one test, reading excluded, one core)", "",
              md_table(["study", "ours sites", "ours s", "ours sites/s", "DSS sites",
                        "DSS fit+test s", "DSS sites/s", "ours / DSS"],
                       [[name, fmt(r["ours_sites"]), fmt(r["ours_s"], 2),
                         fmt(r["ours_sites_per_s"], 0), fmt(r["dss_sites"]),
                         fmt(r["dss_fit_test_s"], 2), fmt(r["dss_sites_per_s"], 0),
                         f"{r['ratio']:.2f}x"] for name, r in c.items()]), ""]
    s = res["sim"]
    lines += [f"Simulated study: {s['notes']}. Agreement on it (coefficient {SIM_COEF}): "
              f"Pearson {fmt(s['agreement']['pearson'])}, Spearman "
              f"{fmt(s['agreement']['spearman'])} over {fmt(s['agreement']['common_sites'])} "
              f"sites; calls ours {fmt(s['ours_calls'])}, DSS {fmt(s['dss_calls'])} "
              f"(truth: {fmt(s['true_dm'])} sites with a group effect).", "",
              f"Total wall time {res['total_wall_s']:.1f} s; outputs in {res['out']}."]
    return "\n".join(lines)


# ==========================================================================================
# Main
# ==========================================================================================


def check_tools(args, data):
    if not (os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        die(f"betagibbs binary not found at {args.bin} (cargo build --release, or pass --bin)")
    if shutil.which("Rscript") is None:
        die("Rscript not found: install R and Bioconductor's DSS (apt-get install r-bioc-dss)")
    probe = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(DSS)); "
                            "cat(as.character(packageVersion('DSS')))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        die("R's DSS package is missing (apt-get install r-bioc-dss):\n" + probe.stderr)
    if not os.path.isdir(os.path.join(data, "dss_rrbs")):
        die(f"{data}/dss_rrbs not found (pass --data)")
    if not args.self_test_compare:
        helptext = subprocess.run([args.bin, "methyl", "--help"], capture_output=True,
                                  text=True).stdout
        if "--design" not in helptext or "--coef" not in helptext:
            die(f"{args.bin}: methyl has no --design/--coef yet (issue 15); "
                "--self-test-compare runs this harness with --compare instead")
    return probe.stdout.strip()


def snapshot_binary(binary, out):
    """A private copy of the binary (a hard link where possible) for the whole run; returns
    (its path, its sha256)."""
    snap = os.path.join(out, ".betagibbs-under-test")
    if os.path.exists(snap):
        os.remove(snap)
    try:
        os.link(binary, snap)
    except OSError:
        shutil.copy2(binary, snap)
    atexit.register(lambda: os.path.exists(snap) and os.remove(snap))
    digest = hashlib.sha256()
    with open(snap, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return snap, digest.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"one null split and "
                    f"{SIM_SITES_QUICK:,} simulated sites (about a minute)")
    ap.add_argument("--all-splits", action="store_true",
                    help="all 18 balanced null splits (up to relabelling), not 3")
    ap.add_argument("--out", help="output folder (default: a new temporary folder)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the simulator and betagibbs")
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "betagibbs"))
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"),
                    help="folder holding dss_rrbs/ (default: ../shared/data)")
    ap.add_argument("--self-test-compare", action="store_true",
                    help="our side as methyl --compare (tests the harness before --design)")
    args = ap.parse_args()
    args.bin = given_bin = os.path.abspath(args.bin)
    data = os.path.abspath(args.data)
    dss_version = check_tools(args, data)
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="betagibbs-design-"))
    os.makedirs(out, exist_ok=True)
    args.bin, sha = snapshot_binary(args.bin, out)
    start = time.perf_counter()
    res = {"dss_version": dss_version, "out": out}

    print("design.py: a. RRBS example", file=sys.stderr)
    rows = rrbs_sheet(data)
    folder = os.path.join(out, "rrbs")
    sheet = write_sheet(os.path.join(folder, "sheet.tsv"), rows,
                        ["sample", "file", "group", "cell"])
    dss = run_dss(sheet, RRBS_FORMULA, RRBS_COEFS, os.path.join(folder, "dss"))
    res["rrbs"] = {"coefs": {}}
    first = None
    for coef in RRBS_COEFS:
        ours = run_ours(args, sheet, RRBS_FORMULA, coef, os.path.join(folder, f"ours_{coef}"))
        first = first or ours
        r = agreement(ours, dss["coefs"][coef])
        r.update(ours_calls=ours["calls"], dss_calls=dss_calls(dss["coefs"][coef]))
        res["rrbs"]["coefs"][coef] = r
    res["speed"] = {"RRBS example (16 samples)": speed(first, dss, RRBS_COEFS[0])}

    print("design.py: b. null splits", file=sys.stderr)
    which = "one" if args.quick else ("all" if args.all_splits else "three")
    by_name = {r["sample"]: r for r in rows}
    res["null_splits"] = []
    for k, (a, b) in enumerate(null_splits(rows, which)):
        split = [dict(by_name[n], group="A") for n in a] + \
                [dict(by_name[n], group="B") for n in b]
        folder = os.path.join(out, f"null_{k + 1}")
        sheet = write_sheet(os.path.join(folder, "sheet.tsv"), split,
                            ["sample", "file", "group", "cell"])
        dss = run_dss(sheet, NULL_FORMULA, [NULL_COEF], os.path.join(folder, "dss"))
        ours = run_ours(args, sheet, NULL_FORMULA, NULL_COEF, os.path.join(folder, "ours"))
        res["null_splits"].append({"a": a, "b": b, "ours_sites": ours["sites"],
                                   "dss_sites": dss["sites"], "ours_calls": ours["calls"],
                                   "dss_calls": dss_calls(dss["coefs"][NULL_COEF])})

    sites = SIM_SITES_QUICK if args.quick else SIM_SITES
    print(f"design.py: c. simulated study of {sites:,} sites", file=sys.stderr)
    folder = os.path.join(out, "sim")
    sheet = simulate(os.path.join(folder, "data"), sites, args.seed)
    dss = run_dss(sheet, SIM_FORMULA, [SIM_COEF], os.path.join(folder, "dss"))
    ours = run_ours(args, sheet, SIM_FORMULA, SIM_COEF, os.path.join(folder, "ours"))
    true_dm = sum(1 for r in read_tsv(os.path.join(folder, "data", "truth.tsv"))["group_effect"]
                  if float(r) != 0)
    res["sim"] = {"notes": f"{sites:,} sites, {SIM_SAMPLES} samples, `{SIM_FORMULA}`",
                  "agreement": agreement(ours, dss["coefs"][SIM_COEF]),
                  "ours_calls": ours["calls"], "dss_calls": dss_calls(dss["coefs"][SIM_COEF]),
                  "true_dm": true_dm}
    res["speed"][f"simulated, {sites:,} sites (16 samples)"] = speed(ours, dss, SIM_COEF)

    res["total_wall_s"] = time.perf_counter() - start
    args.bin = given_bin
    text = report(res, args, sha)
    print(text)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "design.json"), "w") as f:
        json.dump({"seed": args.seed, "quick": args.quick, "self_test_compare":
                   args.self_test_compare, "binary": given_bin, "binary_sha256": sha,
                   "constants": {"rrbs_formula": RRBS_FORMULA, "rrbs_coefs": RRBS_COEFS,
                                 "null_formula": NULL_FORMULA, "null_coef": NULL_COEF,
                                 "sim_formula": SIM_FORMULA, "sim_coef": SIM_COEF,
                                 "dss_fdr": DSS_FDR, "top_k": TOP_K},
                   "results": res}, f, indent=1)


if __name__ == "__main__":
    main()
