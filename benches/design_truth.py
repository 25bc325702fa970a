#!/usr/bin/env python3
"""Study designs against a known truth (issue 15): `simulate` with covariates and pairs (its
generator is logit-normal, not the fitted beta-binomial), then `methyl --design`.

Reports, per scenario: coverage of the tested coefficient's 95% interval (against
truth.tsv's `groupB_logit`), realised FDR and power of the calls at the nominal 5% (against
`dm`), and for pairs the power with and without the subject in the design.

    python3 benches/design_truth.py [--bin target/release/betagibbs] [--sites 20000]

Reads Parquet through pyarrow, as benches/accuracy.py does.
"""

import argparse
import csv
import os
import subprocess
import tempfile

import pyarrow.parquet as pq


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def truth(study):
    with open(os.path.join(study, "truth.tsv")) as f:
        return {(r["chr"], int(r["pos"])): r for r in csv.DictReader(f, delimiter="\t")}


def score(fit, study, coef):
    t = truth(study)
    sites = pq.read_table(os.path.join(fit, "sites.parquet")).to_pydict()
    dml = pq.read_table(os.path.join(fit, "dml.parquet")).to_pydict()
    called = set(zip(dml["chr"], dml["pos"]))
    n_dm = sum(1 for r in t.values() if r["dm"] == "1")
    false = sum(1 for k in called if t[k]["dm"] != "1")
    covered = n = covered_dm = n_dm_sites = 0
    lo, hi = sites.get(f"{coef}_q2_5"), sites.get(f"{coef}_q97_5")
    if lo is not None:
        for k, a, b in zip(zip(sites["chr"], sites["pos"]), lo, hi):
            value = float(t[k][f"{coef}_logit"])
            n += 1
            # The interval of a coefficient with an atom at 0 is closed: [0, 0] covers 0.
            inside = a - 1e-12 <= value <= b + 1e-12
            covered += inside
            if t[k]["dm"] == "1":
                n_dm_sites += 1
                covered_dm += inside
    return {
        "sites": len(sites["pos"]),
        "calls": len(called),
        "fdr": false / len(called) if called else float("nan"),
        "power": (len(called) - false) / n_dm if n_dm else float("nan"),
        "coverage": covered / n if n else float("nan"),
        "coverage_dm": covered_dm / n_dm_sites if n_dm_sites else float("nan"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default="target/release/betagibbs")
    p.add_argument("--sites", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="design-truth-")
    rows = []
    common = ["--sites", str(a.sites), "--seed", str(a.seed)]

    def methyl(study, formula, name):
        fit = os.path.join(tmp, name)
        run([a.bin, "methyl", os.path.join(study, "sheet.tsv"), "--design", formula,
             "--coef", "groupB", "--device", "cpu", "--quiet", "--out", fit])
        return score(fit, study, "groupB")

    study = os.path.join(tmp, "covariates")
    run([a.bin, "simulate", *common, "--replicates", "4", "--covariate", "cell=factor:2",
         "--covariate", "age=numeric:30,70", "--covariate-effect", "cell=0.8",
         "--out", study])
    rows.append(("4 + 4, cell and age", "~ group + cell + age",
                 methyl(study, "~ group + cell + age", "cov")))
    study = os.path.join(tmp, "pairs")
    run([a.bin, "simulate", *common, "--replicates", "4", "--pairs", "--subject-sd", "1.0",
         "--out", study])
    rows.append(("4 pairs, subject sd 1", "~ group + subject",
                 methyl(study, "~ group + subject", "paired")))
    rows.append(("4 pairs, subject sd 1", "~ group (pairing ignored)",
                 methyl(study, "~ group", "unpaired")))
    print("| study | design | sites | calls | realised FDR | power | 95% coverage of groupB | at DM sites |")
    print("|---|---|---|---|---|---|---|---|")
    for name, formula, r in rows:
        print(f"| {name} | `{formula}` | {r['sites']:,} | {r['calls']:,} | {r['fdr']:.1%} | "
              f"{r['power']:.1%} | {r['coverage']:.1%} | {r['coverage_dm']:.1%} |")


if __name__ == "__main__":
    main()
