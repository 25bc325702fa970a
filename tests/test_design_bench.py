"""`betagibbs bench --design --quick`: the embedded study-design benchmark (issue 15) runs end
to end, `methyl --design` beside DSS's DMLfit/DMLtest.multiFactor on the same files, and its
tested coefficient agrees with DSS's Wald statistic on DSS's RRBS example while it makes at
most a handful of calls on a null split of the healthy controls.

It needs the shared real data at ../shared/data, Rscript with Bioconductor's DSS, pyarrow in
this interpreter, and a betagibbs whose `methyl` has --design and --coef (.ci/run installs the
rest); without them it fails, naming what is missing."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
BINARY = os.environ.get("BETAGIBBS_BIN", "target/debug/betagibbs")
MAX_NULL_CALLS = 5  # "a handful" of false calls on a null split
# Two models of the same counts (a shrunk Bayesian coefficient against DSS's Wald test after
# its own dispersion shrinkage) rank the sites alike, not identically.
MIN_SPEARMAN = 0.7


@pytest.fixture(scope="module")
def report(tmp_path_factory, dss_available):
    missing = []
    if not (DATA / "dss_rrbs" / "sheet.tsv").exists():
        missing.append(f"{DATA}/dss_rrbs (the shared real data)")
    if not dss_available:
        missing.append("Rscript with Bioconductor's DSS (apt-get install r-bioc-dss)")
    if importlib.util.find_spec("pyarrow") is None:
        missing.append("python's pyarrow (pip install pyarrow)")
    helptext = subprocess.run([BINARY, "methyl", "--help"], capture_output=True, text=True)
    if "--design" not in helptext.stdout:
        missing.append(f"{BINARY} methyl --design (issue 15)")
    if missing:
        pytest.fail("this test needs " + ", ".join(missing))
    out = tmp_path_factory.mktemp("design")
    # The benchmark's python3 is this interpreter's (pyarrow is installed here).
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    result = subprocess.run(
        [BINARY, "bench", "--design", "--quick", "--data", str(DATA), "--design-out", str(out)],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "## a. Agreement with DSS" in result.stdout  # the Markdown report is printed
    return json.loads((out / "design.json").read_text())["results"]


def test_the_tested_coefficient_ranks_the_sites_as_dss_does(report):
    for coef, r in report["rrbs"]["coefs"].items():
        assert r["common_sites"] > 4000, (coef, r)
        assert r["spearman"] >= MIN_SPEARMAN, (coef, r)


def test_a_null_split_makes_at_most_a_handful_of_calls(report):
    for split in report["null_splits"]:
        assert split["ours_calls"] <= MAX_NULL_CALLS, split


def test_both_tools_are_timed_side_by_side(report):
    for study, r in report["speed"].items():
        assert r["ours_sites"] > 0 and r["dss_sites"] > 0, study
        assert r["ours_sites_per_s"] > 0 and r["dss_sites_per_s"] > 0, study

