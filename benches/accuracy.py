#!/usr/bin/env python3
"""Accuracy of `betagibbs methyl` against Bioconductor's DSS, on the same files in one run.

What it measures
----------------
Three scenarios, each fitted by betagibbs and by DSS (`DMLtest` without and with smoothing,
through `benches/accuracy_dss.R`) on the same DSS-format count files:

1. Null splits of real data, where the groups cannot differ by design: DSS's example
   ({cond1_1, cond2_1} against {cond1_2, cond2_2}) and the eight healthy controls of DSS's
   RRBS example (4 against 4, two rN and two aN cells on each side). Every call is false.
2. Spike-in into the same null splits (the design of Korthauer et al. 2019, dmrseq's
   benchmark): K regions of 3-10 neighbouring CpGs (gaps <= 50 bp, relaxed to 100 bp where
   too few runs exist) get an effect |delta| ~ U[0.1, 0.5] in the group-B samples: each count
   is redrawn as Binomial(N, clip(p_hat + delta, 0.01, 0.99)) with p_hat that sample's X/N.
   The sign is random per region and flipped where the region's pooled group-B level plus
   delta leaves [0, 1]. Everything else is the real, untouched counts.
3. A smooth-profile simulator that is not betagibbs's model: the real positions and coverages
   of DSS's example (3 against 3 samples, the four files' coverages reused in turn); a
   bimodal methylation profile along the genome (a hidden two-state Markov chain, methylated
   ~0.85 / unmethylated ~0.1, with a logit-scale AR(1) wiggle); logit-normal sample noise
   (not beta-binomial); bump-shaped DMRs on ~5% of the sites in group B.

For each scenario and method it reports: the number of DML calls and their realised FDR and
power (each method's own call set at a target FDR of 5%, both about |delta| > 0.1); the power
at a matched realised FDR of 10% when the sites are ranked by each method's score; the AUC
of each score for DM against null sites (on the sites every method scored); DMR precision and
recall; and the calibration of betagibbs's P(|delta| > 0.1) per probability bin, with the
expected FDR it states for its own calls. Wall times are reported per method.

How
---
Each scenario writes its count files and a sample sheet under --out, runs
`betagibbs methyl SHEET --compare A,B --device cpu --quiet --seed N` and
`Rscript benches/accuracy_dss.R A_FILES B_FILES PREFIX`, reads their outputs back (Parquet via
pyarrow, TSV), and scores them against the truth the script planted. The whole run is
deterministic given --seed. Results go to --out as report.txt and accuracy.json.

Usage: python3 benches/accuracy.py [--quick] [--out DIR] [--seed N] [--bin PATH] [--data DIR]
Exit codes: 0 done; 2 the binary, Rscript, DSS or the data is missing.
"""

import argparse
import atexit
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import pyarrow.parquet as pq
except ImportError as e:  # the two third-party modules the script needs
    print(f"accuracy.py: {e}: install numpy and pyarrow (pip install numpy pyarrow)",
          file=sys.stderr)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DSS_SCRIPT = os.path.join(REPO, "benches", "accuracy_dss.R")

# --- What the calls are about -------------------------------------------------------------
THRESHOLD = 0.1  # |delta| the calls test against: betagibbs --threshold, DSS's delta
TARGET_FDR = 0.05  # the FDR both methods' own call sets aim at
MATCHED_FDR = 0.10  # realised FDR at which the ranked scores' power is compared
DSS_CALLDML_P = 0.5  # DSS call set: callDML(delta=0.1, p.threshold=this), i.e. P(|diff|>0.1) > 0.5 ...
DSS_FDR = 0.05  # ... and DMLtest's own (Benjamini-Hochberg) fdr below this
DSS_DEFAULT_P = 1e-5  # callDML's default p.threshold: the stricter DSS call set also reported
CALIBRATION_EDGES = [0.0, 0.5, 0.8, 0.95, 0.99, 1.0]  # bins of p_dm for the calibration table

# --- Null splits -------------------------------------------------------------------------
DSS_EXAMPLE_A = ["cond1_1", "cond2_1"]  # DSS's example, group A of the null split
DSS_EXAMPLE_B = ["cond1_2", "cond2_2"]  # ... and group B: one replicate of each condition a side
RRBS_HC_A = ["Sample1", "Sample2", "Sample12", "Sample13"]  # HC: 2 rN + 2 aN (checked on load)
RRBS_HC_B = ["Sample3", "Sample16", "Sample14", "Sample15"]  # HC: the other 2 rN + 2 aN

# --- Spike-in (scenario 2) ---------------------------------------------------------------
SPIKE_REGIONS = {"dss_example": 200, "rrbs_hc": 50}  # K true regions per dataset (full run)
SPIKE_REGIONS_QUICK = {"dss_example": 40, "rrbs_hc": 20}  # K with --quick
SPIKE_CPGS = (3, 10)  # CpGs per spiked region, inclusive range
SPIKE_MAX_GAPS = (50, 100)  # largest gap (bp) between a region's CpGs; the second if too few runs
SPIKE_DELTA = (0.1, 0.5)  # |delta| of a region ~ Uniform(this)
SPIKE_P_CLIP = (0.01, 0.99)  # the spiked sample's proportion is clipped to this

# --- Smooth-profile simulator (scenario 3) -----------------------------------------------
SIM_REPLICATES = 3  # samples per group
SIM_FILES = ["cond1_1", "cond1_2", "cond2_1", "cond2_2"]  # coverage donors, reused in turn
SIM_P_METHYLATED = 0.85  # level of the methylated state
SIM_P_UNMETHYLATED = 0.10  # level of the unmethylated state
SIM_BLOCK_METHYLATED_BP = 5000.0  # mean length of a methylated block along the genome
SIM_BLOCK_UNMETHYLATED_BP = 1000.0  # mean length of an unmethylated block
SIM_WIGGLE_SD = 0.5  # sd of the AR(1) wiggle on the logit scale
SIM_WIGGLE_BP = 500.0  # the wiggle's correlation decays as exp(-gap / this)
SIM_SAMPLE_SD = 0.4  # sample-level noise: logit p_sample = logit p_site + Normal(0, this^2)
SIM_DM_FRACTION = 0.05  # share of the sites inside a bump (null fraction ~0.95)
SIM_BUMP_CPGS = (5, 20)  # CpGs per bump, inclusive range
SIM_BUMP_MAX_GAP = 50  # largest gap (bp) between a bump's CpGs
SIM_BUMP_PEAK = (0.15, 0.5)  # the bump's peak |delta| ~ Uniform(this)
SIM_P_CLIP = (0.01, 0.99)  # site-level proportions are clipped to this

QUICK_SITES = 5000  # --quick: the first this many sites (union of positions) of each dataset
CHR_STRIDE = 10**10  # site key = chromosome index * CHR_STRIDE + position


# ==========================================================================================
# Studies: dense count matrices over the union of the samples' sites
# ==========================================================================================


class Study:
    """Counts of several samples on the union of their sites, in file order.

    chroms: chromosome names in order of appearance; chrom_idx, pos: per site;
    n, x: (sites, samples) coverage and methylated counts, 0 where a sample lacks the site;
    names, groups: per sample ("A" or "B").
    """

    def __init__(self, chroms, chrom_idx, pos, n, x, names, groups):
        self.chroms, self.chrom_idx, self.pos = chroms, chrom_idx, pos
        self.n, self.x, self.names, self.groups = n, x, names, np.asarray(groups)

    @property
    def keys(self):
        return self.chrom_idx.astype(np.int64) * CHR_STRIDE + self.pos

    def group_mask(self, g):
        return self.groups == g

    def analysable(self):
        """Sites with coverage in at least one sample of each group (both tools' default)."""
        a = (self.n[:, self.group_mask("A")] > 0).any(axis=1)
        b = (self.n[:, self.group_mask("B")] > 0).any(axis=1)
        return a & b

    def head(self, k):
        """The first k sites."""
        s = slice(0, k)
        return Study(self.chroms, self.chrom_idx[s], self.pos[s], self.n[s].copy(),
                     self.x[s].copy(), self.names, self.groups)

    def write(self, folder):
        """One DSS-format file per sample (rows with N = 0 left out) and a sheet; returns
        (sheet path, group-A files, group-B files)."""
        os.makedirs(folder, exist_ok=True)
        files = []
        for j, name in enumerate(self.names):
            path = os.path.join(folder, f"{name}.txt.gz")
            keep = self.n[:, j] > 0
            chrom = np.asarray(self.chroms, dtype=object)[self.chrom_idx[keep]]
            lines = ["chr\tpos\tN\tX"]
            lines += [f"{c}\t{p}\t{nn}\t{xx}" for c, p, nn, xx in
                      zip(chrom, self.pos[keep], self.n[keep, j], self.x[keep, j])]
            with gzip.open(path, "wt", compresslevel=1) as f:
                f.write("\n".join(lines) + "\n")
            files.append(path)
        sheet = os.path.join(folder, "sheet.tsv")
        with open(sheet, "w") as f:
            f.write("sample\tfile\tgroup\n")
            for name, path, g in zip(self.names, files, self.groups):
                f.write(f"{name}\t{path}\t{g}\n")
        a = [p for p, g in zip(files, self.groups) if g == "A"]
        b = [p for p, g in zip(files, self.groups) if g == "B"]
        return sheet, a, b


def read_dss_file(path):
    """(chr list, pos, N, X) of one DSS-format file (header `chr pos N X`)."""
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as f:
        header = f.readline().split()
        rows = [line.split("\t") for line in f.read().splitlines() if line]
    col = {name: i for i, name in enumerate(header)}
    if not all(k in col for k in ("chr", "pos", "N", "X")):
        die(f"{path}: not DSS's format (a header 'chr pos N X')")
    chrom = [r[col["chr"]] for r in rows]
    pos = np.array([int(r[col["pos"]]) for r in rows], dtype=np.int64)
    n = np.array([int(r[col["N"]]) for r in rows], dtype=np.int64)
    x = np.array([int(r[col["X"]]) for r in rows], dtype=np.int64)
    return chrom, pos, n, x


def load_study(paths, names, groups):
    """Merge the files into a Study on the union of their sites."""
    parsed = [read_dss_file(p) for p in paths]
    chroms = []
    for chrom, _, _, _ in parsed:
        for c in dict.fromkeys(chrom):
            if c not in chroms:
                chroms.append(c)
    code = {c: i for i, c in enumerate(chroms)}
    keys = [np.array([code[c] for c in chrom], dtype=np.int64) * CHR_STRIDE + pos
            for chrom, pos, _, _ in parsed]
    union = np.unique(np.concatenate(keys))
    n = np.zeros((len(union), len(paths)), dtype=np.int64)
    x = np.zeros_like(n)
    for j, (k, (_, _, nn, xx)) in enumerate(zip(keys, parsed)):
        idx = np.searchsorted(union, k)
        n[idx, j], x[idx, j] = nn, xx
    return Study(chroms, union // CHR_STRIDE, union % CHR_STRIDE, n, x, list(names), groups)


def dss_example_null(data):
    names = DSS_EXAMPLE_A + DSS_EXAMPLE_B
    paths = [os.path.join(data, f"{s}.txt.gz") for s in names]
    return load_study(paths, names, ["A"] * 2 + ["B"] * 2)


def rrbs_hc_null(data):
    folder = os.path.join(data, "dss_rrbs")
    with open(os.path.join(folder, "sheet.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        sheet = {r[0]: dict(zip(header, r)) for r in
                 (line.rstrip("\n").split("\t") for line in f) if r[0]}
    names = RRBS_HC_A + RRBS_HC_B
    missing = [s for s in names if s not in sheet]
    if missing:
        die(f"{folder}/sheet.tsv lacks {', '.join(missing)}")
    for side in (RRBS_HC_A, RRBS_HC_B):  # the split must be balanced HC rN/aN as documented
        cells = sorted(sheet[s]["cell"] for s in side)
        if any(sheet[s]["group"] != "HC" for s in side) or cells != ["aN", "aN", "rN", "rN"]:
            die(f"{folder}/sheet.tsv: {side} is not 2 rN + 2 aN healthy controls")
    paths = [os.path.join(folder, sheet[s]["file"]) for s in names]
    return load_study(paths, names, ["A"] * 4 + ["B"] * 4)


# ==========================================================================================
# Truth: per-site true delta (0 = null) and true regions
# ==========================================================================================


def runs_of_neighbours(study, eligible, max_gap, min_len):
    """Runs of consecutive eligible sites (in site order) on one chromosome whose neighbours
    are at most max_gap bp apart, at least min_len long: a list of index arrays."""
    idx = np.where(eligible)[0]
    if len(idx) == 0:
        return []
    gap = np.diff(study.pos[idx])
    same = np.diff(study.chrom_idx[idx]) == 0
    breaks = np.where(~((gap <= max_gap) & same))[0] + 1
    return [r for r in np.split(idx, breaks) if len(r) >= min_len]


def pick_regions(study, eligible, k, lengths, max_gaps, rng):
    """Up to k non-overlapping regions, one per run of neighbouring sites (so they are apart
    by more than the gap), each a random stretch of lengths[0]..lengths[1] CpGs; tries each gap
    of max_gaps in turn while fewer than k are found. Returns (regions, gap used)."""
    used = np.zeros(len(study.pos), dtype=bool)
    regions = []
    gap_used = max_gaps[0]
    for max_gap in max_gaps:
        gap_used = max_gap
        runs = runs_of_neighbours(study, eligible, max_gap, lengths[0])
        for i in rng.permutation(len(runs)):
            if len(regions) >= k:
                break
            run = runs[i]
            if used[run].any():
                continue
            length = int(rng.integers(lengths[0], min(lengths[1], len(run)) + 1))
            start = int(rng.integers(0, len(run) - length + 1))
            region = run[start:start + length]
            used[run] = True
            regions.append(region)
        if len(regions) >= k:
            break
    return regions, gap_used


def spike_in(study, k, rng):
    """Plant k DMRs into the group-B samples of a null study (see the module docstring).
    Returns (spiked study, true delta per site, true regions, notes)."""
    n, x = study.n, study.x.copy()
    b_cols = np.where(study.group_mask("B"))[0]
    regions, gap = pick_regions(study, study.analysable(), k, SPIKE_CPGS, SPIKE_MAX_GAPS, rng)
    truth = np.zeros(len(study.pos))
    out_regions = []
    for region in regions:
        d = rng.uniform(*SPIKE_DELTA) * rng.choice([-1.0, 1.0])
        nb, xb = n[np.ix_(region, b_cols)], study.x[np.ix_(region, b_cols)]
        level = xb.sum() / max(nb.sum(), 1)  # the region's pooled group-B level
        if not (0.0 <= level + d <= 1.0):
            d = -d  # flip so the shift fits
        for i in region:
            shifts = []
            for j in b_cols:
                if n[i, j] == 0:
                    continue
                p_hat = study.x[i, j] / n[i, j]
                p_new = float(np.clip(p_hat + d, *SPIKE_P_CLIP))
                x[i, j] = rng.binomial(n[i, j], p_new)
                shifts.append(p_new - p_hat)
            truth[i] = float(np.mean(shifts))  # analysable, so at least one B sample
        out_regions.append(region_bounds(study, region, d))
    spiked = Study(study.chroms, study.chrom_idx, study.pos, n, x, study.names, study.groups)
    notes = (f"{len(regions)} regions of {SPIKE_CPGS[0]}-{SPIKE_CPGS[1]} CpGs "
             f"(asked {k}; max gap {gap} bp), {int((truth != 0).sum())} spiked sites")
    return spiked, truth, out_regions, notes


def region_bounds(study, region, delta):
    return {"chr": study.chroms[study.chrom_idx[region[0]]], "start": int(study.pos[region[0]]),
            "end": int(study.pos[region[-1]]), "n_cpgs": len(region), "delta": float(delta)}


def logit(p):
    return np.log(p / (1 - p))


def expit(v):
    return 1 / (1 + np.exp(-v))


def smooth_profile(study, rng):
    """Group A's site-level methylation: a two-state Markov chain along the positions plus a
    logit-scale AR(1) wiggle (correlations decay with the gap in bp)."""
    pos, chrom = study.pos, study.chrom_idx
    rate = 1 / SIM_BLOCK_METHYLATED_BP + 1 / SIM_BLOCK_UNMETHYLATED_BP
    pi_m = SIM_BLOCK_METHYLATED_BP / (SIM_BLOCK_METHYLATED_BP + SIM_BLOCK_UNMETHYLATED_BP)
    level = np.array([logit(SIM_P_UNMETHYLATED), logit(SIM_P_METHYLATED)])
    m = len(pos)
    state = np.zeros(m, dtype=np.int64)
    wiggle = np.zeros(m)
    u, z = rng.random(m), rng.standard_normal(m)
    for i in range(m):
        if i == 0 or chrom[i] != chrom[i - 1]:
            state[i] = int(u[i] < pi_m)
            wiggle[i] = SIM_WIGGLE_SD * z[i]
            continue
        g = pos[i] - pos[i - 1]
        decay = np.exp(-g * rate)  # two-state chain: P(methylated next) given the state now
        p_m = pi_m + (1 - pi_m) * decay if state[i - 1] == 1 else pi_m * (1 - decay)
        state[i] = int(u[i] < p_m)
        rho = np.exp(-g / SIM_WIGGLE_BP)
        wiggle[i] = rho * wiggle[i - 1] + np.sqrt(1 - rho * rho) * SIM_WIGGLE_SD * z[i]
    return np.clip(expit(level[state] + wiggle), *SIM_P_CLIP)


def simulate(data, quick, rng):
    """Scenario 3's study: real positions and coverages, the smooth profile, bumps, and
    logit-normal sample noise. Returns (study, true delta per site, true regions, notes)."""
    donors = load_study([os.path.join(data, f"{s}.txt.gz") for s in SIM_FILES], SIM_FILES,
                        ["A"] * len(SIM_FILES))
    if quick:
        donors = donors.head(QUICK_SITES)
    k = 2 * SIM_REPLICATES
    cols = [j % len(SIM_FILES) for j in range(k)]
    names = [f"sim{'A' if j < SIM_REPLICATES else 'B'}{j % SIM_REPLICATES + 1}" for j in range(k)]
    groups = ["A"] * SIM_REPLICATES + ["B"] * SIM_REPLICATES
    n = donors.n[:, cols].copy()
    study = Study(donors.chroms, donors.chrom_idx, donors.pos, n, np.zeros_like(n), names, groups)

    p_a = smooth_profile(study, rng)
    p_b = p_a.copy()
    eligible = study.analysable()
    target = int(round(SIM_DM_FRACTION * len(study.pos)))
    # Enough candidate regions that their CpGs reach the target share; trimmed below.
    regions, _ = pick_regions(study, eligible, len(study.pos), SIM_BUMP_CPGS,
                              (SIM_BUMP_MAX_GAP,), rng)
    chosen, covered = [], 0
    for region in regions:
        if covered >= target:
            break
        peak = rng.uniform(*SIM_BUMP_PEAK) * rng.choice([-1.0, 1.0])
        if not (SIM_P_CLIP[0] <= p_a[region].mean() + peak <= SIM_P_CLIP[1]):
            peak = -peak  # flip so the bump fits
        shape = np.sin(np.pi * np.arange(1, len(region) + 1) / (len(region) + 1))
        p_b[region] = np.clip(p_a[region] + peak * shape, *SIM_P_CLIP)
        chosen.append(region_bounds(study, region, peak))
        covered += len(region)
    truth = p_b - p_a

    x = np.zeros_like(n)
    for j in range(k):
        p_site = p_a if groups[j] == "A" else p_b
        p_sample = expit(logit(p_site) + rng.normal(0.0, SIM_SAMPLE_SD, len(p_site)))
        x[:, j] = rng.binomial(n[:, j], p_sample)
    study.x = x
    notes = (f"{len(study.pos)} sites, {len(chosen)} bumps of {SIM_BUMP_CPGS[0]}-"
             f"{SIM_BUMP_CPGS[1]} CpGs on {covered} sites ({covered / len(study.pos):.1%}); "
             f"truth = difference of the site-level profiles")
    return study, truth, chosen, notes


# ==========================================================================================
# Running the two tools
# ==========================================================================================


def run_betagibbs(binary, sheet, out, seed):
    """betagibbs methyl on the sheet; returns its outputs and wall time."""
    cmd = [binary, "methyl", sheet, "--compare", "A,B", "--out", out, "--device", "cpu",
           "--quiet", "--seed", str(seed)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        die(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}", code=1)
    sites = pq.read_table(os.path.join(out, "sites.parquet")).to_pydict()
    dml_path = os.path.join(out, "dml.parquet")
    dml = pq.read_table(dml_path).to_pydict()
    meta = pq.read_metadata(dml_path).metadata or {}
    meta = {k.decode(): v.decode() for k, v in meta.items()}
    dmr = pq.read_table(os.path.join(out, "dmr.parquet")).to_pydict()
    stated = None
    for line in proc.stderr.splitlines():  # "... (expected FDR 0.0497 <= 0.05) ..."
        if "expected FDR" in line:
            try:
                stated = float(line.split("expected FDR")[1].split()[0])
            except (IndexError, ValueError):
                pass
    return {"sites": sites, "dml": dml, "dmr": dmr, "meta": meta, "wall": wall,
            "stderr_expected_fdr": stated}


def read_tsv(path):
    """A header-first TSV as a dict of columns (strings)."""
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return {h: [r[i] for r in rows] for i, h in enumerate(header)}


def run_dss(a_files, b_files, prefix):
    """accuracy_dss.R on the two groups; returns per mode its sites and DMRs, and timings."""
    cmd = ["Rscript", DSS_SCRIPT, ",".join(a_files), ",".join(b_files), prefix]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        die(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}", code=1)
    timing = read_tsv(f"{prefix}.timing.tsv")
    steps = dict(zip(timing["step"], (float(s) for s in timing["seconds"])))
    out = {"wall": wall, "steps": steps}
    for mode in ("nosmooth", "smooth"):
        out[mode] = {"sites": read_tsv(f"{prefix}.{mode}.sites.tsv"),
                     "dmr": read_tsv(f"{prefix}.{mode}.dmr.tsv")}
    return out


# ==========================================================================================
# Metrics
# ==========================================================================================


def site_index(study, chrom, pos):
    """Indices into the study's sites of (chr, pos) pairs; -1 where the study lacks one."""
    code = {c: i for i, c in enumerate(study.chroms)}
    keys = np.array([code.get(c, -1) for c in chrom], dtype=np.int64) * CHR_STRIDE \
        + np.asarray(pos, dtype=np.int64)
    all_keys = study.keys
    idx = np.searchsorted(all_keys, keys)
    idx = np.minimum(idx, len(all_keys) - 1)
    ok = all_keys[idx] == keys
    return np.where(ok, idx, -1)


def midranks(v):
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(v, kind="mergesort")
    sv = v[order]
    ranks = np.empty(len(v))
    starts = np.concatenate([[0], np.where(np.diff(sv) != 0)[0] + 1])
    ends = np.concatenate([starts[1:], [len(v)]])
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return ranks


def auc(score, positive):
    """Mann-Whitney AUC: P(score of a DM site > score of a null site), ties counting half."""
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        return None
    r = midranks(np.asarray(score, dtype=float))
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def power_at_fdr(score, positive, n_true, fdr):
    """Walk down the ranking (tied scores enter together): the most DM sites found while the
    realised FDR stays at or below fdr, as a share of all n_true DM sites."""
    if n_true == 0:
        return None
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    s, pos = np.asarray(score, dtype=float)[order], positive[order]
    tp, fp = np.cumsum(pos), np.cumsum(~pos)
    ends = np.concatenate([np.where(np.diff(s) != 0)[0], [len(s) - 1]])  # tie blocks' ends
    ok = fp[ends] <= fdr * (tp[ends] + fp[ends])
    best = int(tp[ends][ok].max()) if ok.any() else 0
    return best / n_true


def call_metrics(called_idx, dm, n_true):
    """Calls, false calls, realised FDR and power of one call set (indices into the study)."""
    called_idx = called_idx[called_idx >= 0]
    calls = len(called_idx)
    true_calls = int(dm[called_idx].sum())
    return {"calls": calls, "false_calls": calls - true_calls,
            "realised_fdr": (calls - true_calls) / calls if calls else None,
            "power": true_calls / n_true if n_true else None}


def dmr_metrics(called, true_regions):
    """Precision (called regions overlapping a true one) and recall (true regions overlapped
    by a called one); called: list of (chr, start, end)."""
    hit_called = 0
    hit_true = np.zeros(len(true_regions), dtype=bool)
    t_chr = np.array([t["chr"] for t in true_regions], dtype=object)
    t_start = np.array([t["start"] for t in true_regions], dtype=np.int64)
    t_end = np.array([t["end"] for t in true_regions], dtype=np.int64)
    for c, s, e in called:
        over = (t_chr == c) & (t_start <= e) & (t_end >= s) if len(true_regions) else np.array([])
        if over.any():
            hit_called += 1
            hit_true |= over
    return {"calls": len(called), "false_calls": len(called) - hit_called,
            "precision": hit_called / len(called) if called else None,
            "recall": float(hit_true.mean()) if len(true_regions) else None}


def calibration(p_dm, true_delta):
    """Per bin of p_dm: sites, the model's null fraction (mean 1 - p_dm) and the observed one
    (share with |true delta| < THRESHOLD)."""
    rows = []
    for lo, hi in zip(CALIBRATION_EDGES[:-1], CALIBRATION_EDGES[1:]):
        last = hi == CALIBRATION_EDGES[-1]
        m = (p_dm >= lo) & ((p_dm <= hi) if last else (p_dm < hi))
        k = int(m.sum())
        rows.append({"bin": f"[{lo:g},{hi:g}{']' if last else ')'}", "sites": k,
                     "stated_null": float(np.mean(1 - p_dm[m])) if k else None,
                     "observed_null": float(np.mean(np.abs(true_delta[m]) < THRESHOLD))
                     if k else None})
    return rows


def evaluate(study, truth, regions, bg, dss, quick_note):
    """All metrics of one dataset: a dict per method plus betagibbs's calibration."""
    dm = truth != 0
    n_true = int(dm.sum())
    methods = {}

    # betagibbs: its score is p_dm; p_differ (the mixture's P(delta != 0)) where present.
    s = bg["sites"]
    b_idx = site_index(study, s["chr"], s["pos"])
    p_dm = np.asarray(s["p_dm"], dtype=float)
    scores = {"p_dm": p_dm}
    if "p_differ" in s:
        scores["p_differ"] = np.asarray(s["p_differ"], dtype=float)
    dml_idx = site_index(study, bg["dml"]["chr"], bg["dml"]["pos"])
    called_p = p_dm[np.isin(b_idx, dml_idx)]
    bg_metrics = {
        "sites_scored": len(b_idx), "wall_s": bg["wall"],
        "calls_own": call_metrics(dml_idx, dm, n_true),
        "expected_fdr_mean_1_minus_p_dm": float(np.mean(1 - called_p)) if len(called_p) else None,
        "expected_fdr_stderr": bg["stderr_expected_fdr"],
        "footer": {k: v for k, v in bg["meta"].items()
                   if "fdr" in k.lower() or "threshold" in k.lower()},
        "median_r_hat": float(np.nanmedian(np.asarray(s["r_hat"], dtype=float)))
        if "r_hat" in s else None,
        "dmr": dmr_metrics(list(zip(bg["dmr"]["chr"], bg["dmr"]["start"], bg["dmr"]["end"])),
                           regions),
    }
    methods["betagibbs"] = (bg_metrics, b_idx, scores)

    for mode, label in (("nosmooth", "DSS"), ("smooth", "DSS smooth")):
        t = dss[mode]["sites"]
        idx = site_index(study, t["chr"], [int(float(p)) for p in t["pos"]])
        pv = np.array([float(v) for v in t["pvals"]])
        fdr = np.array([float(v) for v in t["fdr"]])
        post = np.array([float(v) for v in t["postprob.overThreshold"]])
        pv = np.where(np.isnan(pv), 1.0, pv)
        fdr = np.where(np.isnan(fdr), 1.0, fdr)
        post = np.where(np.isnan(post), 0.0, post)
        d = dss[mode]["dmr"]
        m = {
            "sites_scored": len(idx),
            "wall_s": dss["wall"],
            "dss_mode_s": sum(dss["steps"].get(f"{step}.{mode}", 0.0)
                              for step in ("DMLtest", "callDML", "callDMR")),
            "calls_own": call_metrics(idx[(fdr < DSS_FDR) & (1 - post < DSS_CALLDML_P)], dm, n_true),
            "calls_fdr_only": call_metrics(idx[fdr < DSS_FDR], dm, n_true),
            "calls_default_p": call_metrics(idx[1 - post < DSS_DEFAULT_P], dm, n_true),
            "dmr": dmr_metrics(list(zip(d["chr"], (int(float(v)) for v in d["start"]),
                                        (int(float(v)) for v in d["end"]))), regions),
        }
        methods[label] = (m, idx, {"1-pvals": 1 - pv, "postprob": post})

    # Ranked scores: power at a matched realised FDR on each method's own sites (a site it
    # did not score is never found), AUC on the sites every method scored.
    common = None
    for _, idx, _ in methods.values():
        ok = set(idx[idx >= 0].tolist())
        common = ok if common is None else common & ok
    common = np.array(sorted(common), dtype=np.int64)
    result = {"sites": len(study.pos), "true_dm_sites": n_true,
              "true_dm_sites_below_threshold": int((dm & (np.abs(truth) < THRESHOLD)).sum()),
              "true_regions": len(regions), "common_sites": len(common),
              "common_dm_sites": int(dm[common].sum()), "notes": quick_note, "methods": {}}
    for label, (m, idx, sc) in methods.items():
        keep = idx >= 0
        m["power_at_matched_fdr"], m["auc"] = {}, {}
        for name, v in sc.items():
            v = v[keep]
            m["power_at_matched_fdr"][name] = power_at_fdr(v, dm[idx[keep]], n_true, MATCHED_FDR)
            at = np.full(len(study.pos), np.nan)
            at[idx[keep]] = v
            m["auc"][name] = auc(at[common], dm[common])
        result["methods"][label] = m
    cal_keep = b_idx >= 0
    result["calibration"] = calibration(p_dm[cal_keep], truth[b_idx[cal_keep]])
    return result


# ==========================================================================================
# Report
# ==========================================================================================


def fmt(v, kind="num"):
    if v is None:
        return "-"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "int":
        return f"{v:,}"
    if kind == "s":
        return f"{v:.1f}"
    return f"{v:.3f}"


def table(rows, headers):
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    out = ["  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w)
                     for i, (h, w) in enumerate(zip(headers, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def report_dataset(title, res, null):
    meths = list(res["methods"])
    M = res["methods"]
    rows = []

    def row(label, get, kind="num"):
        vals = []
        for k in meths:
            try:
                vals.append(fmt(get(M[k]), kind))
            except (KeyError, TypeError):
                vals.append("-")
        rows.append([label] + vals)

    row("sites scored", lambda m: m["sites_scored"], "int")
    row("wall s (DSS: whole Rscript, both modes)", lambda m: m["wall_s"], "s")
    row("  DSS this mode: DMLtest+callDML+callDMR, s", lambda m: m["dss_mode_s"], "s")
    row("DML calls (own rule, FDR 5%, |d|>0.1)", lambda m: m["calls_own"]["calls"], "int")
    row("  false DML calls", lambda m: m["calls_own"]["false_calls"], "int")
    if not null:
        row("  realised FDR", lambda m: m["calls_own"]["realised_fdr"], "pct")
        row("  power", lambda m: m["calls_own"]["power"], "pct")
    for key, label in (("calls_fdr_only", "DSS fdr<0.05 alone (test d=0)"),
                       ("calls_default_p", "DSS callDML(0.1) p.threshold 1e-5")):
        row(label + ": calls", lambda m, k=key: m[k]["calls"], "int")
        if not null:
            row("  realised FDR", lambda m, k=key: m[k]["realised_fdr"], "pct")
            row("  power", lambda m, k=key: m[k]["power"], "pct")
    row("betagibbs expected FDR, mean(1-p_dm) of calls",
        lambda m: m["expected_fdr_mean_1_minus_p_dm"])
    row("betagibbs expected FDR, as it prints", lambda m: m["expected_fdr_stderr"])
    if not null:
        for name, label in (("p_dm", "p_dm"), ("1-pvals", "1-pvals"), ("postprob", "postprob"),
                            ("p_differ", "p_differ")):
            if any(name in M[k]["auc"] for k in meths):
                row(f"power at realised FDR<=10%, {label}",
                    lambda m, n=name: m["power_at_matched_fdr"][n], "pct")
        for name in ("p_dm", "1-pvals", "postprob", "p_differ"):
            if any(name in M[k]["auc"] for k in meths):
                row(f"AUC (common sites), {name}", lambda m, n=name: m["auc"][n])
    row("DMR calls", lambda m: m["dmr"]["calls"], "int")
    if not null:
        row("  DMR precision", lambda m: m["dmr"]["precision"], "pct")
        row("  DMR recall", lambda m: m["dmr"]["recall"], "pct")
    row("median R-hat", lambda m: m["median_r_hat"])

    head = [f"== {title}",
            f"   {res['sites']:,} sites in the files; {res['true_dm_sites']:,} true DM sites "
            f"({res['true_dm_sites_below_threshold']:,} of them with |true delta| < 0.1, still "
            f"counted DM for FDR and power); {res['true_regions']} true regions; AUC on the "
            f"{res['common_sites']:,} sites all methods scored ({res['common_dm_sites']:,} DM)"]
    if res["notes"]:
        head.append(f"   {res['notes']}")
    if null:
        head.append("   null split: every call is false")
    foot = M["betagibbs"].get("footer")
    lines = head + [table(rows, ["metric"] + meths)]
    if foot:
        lines.append("   betagibbs dml.parquet footer: " +
                     ", ".join(f"{k}={v}" for k, v in sorted(foot.items())))
    cal = [[c["bin"], fmt(c["sites"], "int"), fmt(c["stated_null"]), fmt(c["observed_null"])]
           for c in res["calibration"]]
    lines.append("   betagibbs calibration (observed null: |true delta| < 0.1, since p_dm is "
                 "P(|delta| > 0.1)):")
    lines.append(table(cal, ["p_dm bin", "sites", "stated null", "observed null"]))
    return "\n".join(lines)


# ==========================================================================================
# Main
# ==========================================================================================


def die(msg, code=2):
    print(f"accuracy.py: {msg}", file=sys.stderr)
    sys.exit(code)


def check_tools(binary, data):
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        die(f"betagibbs binary not found at {binary} (build it: cargo build --release, "
            "or pass --bin)")
    if shutil.which("Rscript") is None:
        die("Rscript not found: install R and Bioconductor's DSS (apt-get install r-bioc-dss)")
    probe = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(DSS))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        die("R's DSS package is missing (apt-get install r-bioc-dss):\n" + probe.stderr)
    for f in [f"{s}.txt.gz" for s in DSS_EXAMPLE_A + DSS_EXAMPLE_B] + ["dss_rrbs/sheet.tsv"]:
        if not os.path.isfile(os.path.join(data, f)):
            die(f"data file {os.path.join(data, f)} not found (pass --data)")


def snapshot_binary(binary, out):
    """A private copy of the binary (a hard link where possible) for the whole run, so that
    a rebuild in the middle of it cannot mix two builds; returns (its path, its sha256)."""
    snap = os.path.join(out, ".betagibbs-under-test")
    if os.path.exists(snap):
        os.remove(snap)
    try:
        os.link(binary, snap)  # keeps this build's inode even if cargo replaces the file
    except OSError:
        shutil.copy2(binary, snap)
    atexit.register(lambda: os.path.exists(snap) and os.remove(snap))  # also on a failure
    digest = hashlib.sha256()
    with open(snap, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return snap, digest.hexdigest()


def run_dataset(name, study, truth, regions, args, out, notes):
    folder = os.path.join(out, name)
    sheet, a_files, b_files = study.write(os.path.join(folder, "data"))
    bg = run_betagibbs(args.bin, sheet, os.path.join(folder, "betagibbs"), args.seed)
    dss = run_dss(a_files, b_files, os.path.join(folder, "dss"))
    with open(os.path.join(folder, "truth.json"), "w") as f:
        json.dump({"regions": regions,
                   "dm_sites": [{"chr": study.chroms[study.chrom_idx[i]],
                                 "pos": int(study.pos[i]), "delta": float(truth[i])}
                                for i in np.where(truth != 0)[0]]}, f)
    res = evaluate(study, truth, regions, bg, dss, notes)
    print(f"   {name}: betagibbs {bg['wall']:.1f} s, DSS {dss['wall']:.1f} s", file=sys.stderr)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"first {QUICK_SITES} sites of each dataset and fewer regions")
    ap.add_argument("--out", help="output folder (default: a new temporary folder)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the spike-in, the simulator "
                    "and betagibbs (default 1)")
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "betagibbs"),
                    help="the betagibbs binary (default: target/release/betagibbs)")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"),
                    help="folder of DSS's example and dss_rrbs/ (default: ../shared/data)")
    args = ap.parse_args()
    args.bin = given_bin = os.path.abspath(args.bin)
    data = os.path.abspath(args.data)
    check_tools(args.bin, data)
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="betagibbs-accuracy-"))
    os.makedirs(out, exist_ok=True)
    args.bin, bin_sha256 = snapshot_binary(args.bin, out)
    root = np.random.SeedSequence(args.seed)
    rng_spike_dss, rng_spike_rrbs, rng_sim = (np.random.default_rng(s) for s in root.spawn(3))
    start = time.perf_counter()

    nulls = {"dss_example": dss_example_null(data), "rrbs_hc": rrbs_hc_null(data)}
    if args.quick:
        nulls = {k: v.head(QUICK_SITES) for k, v in nulls.items()}
    spike_k = SPIKE_REGIONS_QUICK if args.quick else SPIKE_REGIONS
    results = {}
    print("accuracy.py: scenario 1, null splits", file=sys.stderr)
    for name, study in nulls.items():
        results[f"null/{name}"] = run_dataset(
            f"null_{name}", study, np.zeros(len(study.pos)), [], args, out,
            "A = " + ",".join(n for n, g in zip(study.names, study.groups) if g == "A")
            + "; B = " + ",".join(n for n, g in zip(study.names, study.groups) if g == "B"))
    print("accuracy.py: scenario 2, spike-in", file=sys.stderr)
    for name, rng in (("dss_example", rng_spike_dss), ("rrbs_hc", rng_spike_rrbs)):
        study, truth, regions, notes = spike_in(nulls[name], spike_k[name], rng)
        results[f"spike/{name}"] = run_dataset(f"spike_{name}", study, truth, regions, args,
                                               out, notes)
    print("accuracy.py: scenario 3, smooth-profile simulator", file=sys.stderr)
    study, truth, regions, notes = simulate(data, args.quick, rng_sim)
    results["sim/smooth_profile"] = run_dataset("sim_smooth_profile", study, truth, regions,
                                                args, out, notes)
    total = time.perf_counter() - start
    args.bin = given_bin  # the report names the binary asked for; the snapshot goes at exit

    titles = {
        "null/dss_example": "Scenario 1: null split, DSS example",
        "null/rrbs_hc": "Scenario 1: null split, RRBS healthy controls (4 vs 4)",
        "spike/dss_example": "Scenario 2: spike-in, DSS example null split",
        "spike/rrbs_hc": "Scenario 2: spike-in, RRBS healthy-control null split",
        "sim/smooth_profile": "Scenario 3: smooth-profile simulator (logit-normal noise), 3 vs 3",
    }
    text = [f"betagibbs accuracy benchmark ({'quick' if args.quick else 'full'}), seed "
            f"{args.seed}, binary {args.bin} (sha256 {bin_sha256[:16]})",
            f"Calls: betagibbs dml.parquet (Bayesian FDR {TARGET_FDR:g} on P(|delta|>{THRESHOLD:g}));"
            f" DSS 'own rule': DMLtest fdr < {DSS_FDR:g} and callDML(delta={THRESHOLD:g}) "
            f"postprob > {1 - DSS_CALLDML_P:g}. DMRs: betagibbs dmr.parquet; DSS callDMR(delta="
            f"{THRESHOLD:g}, p.threshold=1e-5). Power at matched FDR: most true sites found at a "
            f"realised FDR <= {MATCHED_FDR:.0%} walking down each score's ranking.",
            "CpG-level truth: only the planted sites are DM, so DSS smooth's scores of a true "
            "region's unplanted neighbours (its 500 bp smoothing span) count as false."]
    for key, res in results.items():
        text.append("")
        text.append(report_dataset(titles[key], res, key.startswith("null/")))
    text.append("")
    text.append(f"total wall time {total:.1f} s; outputs in {out}")
    report = "\n".join(text)
    print(report)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(report + "\n")
    with open(os.path.join(out, "accuracy.json"), "w") as f:
        json.dump({"seed": args.seed, "quick": args.quick, "binary": args.bin, "binary_sha256": bin_sha256,
                   "total_wall_s": total,
                   "constants": {"threshold": THRESHOLD, "target_fdr": TARGET_FDR,
                                 "matched_fdr": MATCHED_FDR, "dss_fdr": DSS_FDR,
                                 "dss_calldml_p": DSS_CALLDML_P},
                   "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
