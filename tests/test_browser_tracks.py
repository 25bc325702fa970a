"""`methyl --export`'s genome-browser tracks read by bedtools, as genome tools read them.

bedtools parses every BED and bedGraph line strictly (a bad interval, a start past its end or
a non-number stops it). `bedtools merge` needs the sorted, 0-based half-open intervals that
IGV and the UCSC browser need; the merged DMLs must fall inside the regions' chromosomes.
The bigWigs are read by pyBigWig (libBigWig, the reader deepTools uses): same chromosomes,
same intervals and values as their bedGraphs. Needs `bedtools` on the PATH (Debian: apt-get
install bedtools), pyBigWig (pip install pybigwig) and the binary (BETAGIBBS_BIN, default
target/debug/betagibbs).
"""

import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BETAGIBBS_BIN", os.path.join(REPO, "target", "debug", "betagibbs"))


def run(*args):
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One simulated study's fit with its tracks, shared by the tests: `DIR/browser`."""
    tmp_path = tmp_path_factory.mktemp("tracks")
    study, fit = tmp_path / "study", tmp_path / "fit"
    run(BIN, "simulate", "--sites", "3000", "--out", str(study))
    run(BIN, "methyl", str(study / "sheet.tsv"), "--compare", "A,B", "--device", "cpu",
        "--hyper-sites", "300", "--quiet", "--export", "--out", str(fit))
    browser = fit / "browser"
    return browser


def test_bedtools_reads_every_track(browser):
    if shutil.which("bedtools") is None:
        pytest.fail("bedtools is not on the PATH (Debian: apt-get install bedtools)")
    for name in ["dml.bed", "dmr.bed", "delta.bedGraph", "mu_A.bedGraph", "mu_B.bedGraph"]:
        path = browser / name
        rows = [l for l in path.read_text().splitlines() if not l.startswith("track ")]
        assert rows, name
        # bedtools skips track lines itself; merge fails on a malformed or unsorted interval.
        merged = run("bedtools", "merge", "-i", str(path))
        assert merged.strip(), name
        for line in merged.splitlines():
            chrom, start, end = line.split("\t")
            assert int(start) < int(end), line
    # The DMLs lie within the study's chromosomes, as the sites' bedGraph covers them.
    covered = run("bedtools", "intersect", "-u", "-a", str(browser / "dml.bed"),
                  "-b", str(browser / "delta.bedGraph"))
    n_dml = sum(1 for l in (browser / "dml.bed").read_text().splitlines()
                if not l.startswith("track "))
    assert len(covered.splitlines()) == n_dml


def test_pybigwig_reads_every_bigwig_as_its_bedgraph(browser):
    try:
        import pyBigWig
    except ImportError:
        pytest.fail("pyBigWig is not installed (pip install pybigwig)")
    for stem in ["delta", "mu_A", "mu_B"]:
        rows = [l.split("\t") for l in (browser / f"{stem}.bedGraph").read_text().splitlines()
                if not l.startswith("track ")]
        bw = pyBigWig.open(str(browser / f"{stem}.bw"))
        assert bw.isBigWig(), stem
        chroms = bw.chroms()
        assert sorted(chroms) == sorted({r[0] for r in rows}), stem
        got = [(c, s, e, v) for c in chroms for (s, e, v) in (bw.intervals(c) or [])]
        assert len(got) == len(rows), stem
        by_site = {(c, s, e): v for (c, s, e, v) in got}
        for chrom, start, end, value in rows:
            v = by_site[(chrom, int(start), int(end))]
            # The bedGraph has 4 decimals; the bigWig the f32 of the full value.
            assert abs(v - float(value)) <= 5.1e-5, (stem, chrom, start, v, value)
        bw.close()
