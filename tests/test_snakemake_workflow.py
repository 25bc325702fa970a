"""workflow/Snakefile on a simulated study of three chromosomes: the sharded run's outputs are
the single `methyl` run's, bit for bit, and its Hive-partitioned sites read back in DuckDB,
polars and pyarrow with the single run's columns.

Needs snakemake (pip install snakemake), duckdb, polars and pyarrow, and the binary
(BETAGIBBS_BIN, default target/debug/betagibbs), which the workflow finds on the PATH.
"""

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BETAGIBBS_BIN", os.path.join(REPO, "target", "debug", "betagibbs"))
# The small settings of the Rust tests: a short stage 1, chunks of 64 sites.
SETTINGS = "--hyper-sites 300 --hyper-warmup 50 --hyper-draws 10 --chunk-sites 64"


def run(*args, env=None):
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def snakemake():
    """The snakemake beside this Python (the CI venv's), or on the PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "snakemake")
    found = here if os.path.exists(here) else shutil.which("snakemake")
    if found is None:
        pytest.fail("snakemake is not installed (pip install snakemake)")
    return found


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A simulated study of 6,000 CpGs on chr1-chr3 and its single run: (sheet, run dir)."""
    tmp = tmp_path_factory.mktemp("workflow")
    run(BIN, "simulate", "--sites", "6000", "--chromosomes", "3", "--out", str(tmp / "study"))
    sheet = tmp / "study" / "sheet.tsv"
    single = tmp / "single"
    run(BIN, "methyl", str(sheet), "--compare", "A,B", "--device", "cpu", *SETTINGS.split(),
        "--quiet", "--out", str(single))
    return sheet, single


def workflow(study, out, shards, *more):
    sheet, _ = study
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(BIN)) + os.pathsep + os.environ["PATH"])
    run(snakemake(), "-s", os.path.join(REPO, "workflow", "Snakefile"), "--cores", "2", "--quiet",
        "--directory", str(out.parent),
        "--config", f"sheet={sheet}", f"out={out}", "compare=A,B", "device=cpu",
        f"shards={shards}", f"extra={SETTINGS}", *more, env=env)


def assert_same_as_single(single, out):
    import duckdb
    import polars as pl
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    whole = pq.read_table(single / "sites.parquet")
    con = duckdb.connect()
    hive = con.sql(f"select * from read_parquet('{out}/sites/**/*.parquet', hive_partitioning = true)"
                   " order by chr, pos").to_arrow_table()
    assert sorted(hive.column_names) == sorted(whole.column_names)
    hive = hive.select(whole.column_names)
    assert hive.num_rows == whole.num_rows
    for name in whole.column_names:
        assert hive.column(name).to_pylist() == whole.column(name).to_pylist(), name
    lazy = pl.scan_parquet(f"{out}/sites/**/*.parquet", hive_partitioning=True).collect()
    assert sorted(lazy.columns) == sorted(whole.column_names) and lazy.height == whole.num_rows
    dataset = ds.dataset(out / "sites", format="parquet", partitioning="hive").to_table()
    assert sorted(dataset.column_names) == sorted(whole.column_names)
    for name in ["dml.parquet", "dmr.parquet"]:
        assert pq.read_table(single / name).equals(pq.read_table(out / name)), name
    footer = pq.read_metadata(out / "dml.parquet").metadata
    assert footer[b"betagibbs.schema"] == b"methylation-dml/1"
    assert footer[b"betagibbs.region"] == b"all"


def test_the_workflow_with_a_shard_per_chromosome_is_the_single_run(study, tmp_path):
    out = tmp_path / "sharded"
    workflow(study, out, "auto")
    assert sorted(p.name for p in (out / "sites").iterdir()) == ["chr=chr1", "chr=chr2", "chr=chr3"]
    assert_same_as_single(study[1], out)


def test_the_workflow_with_regions_cut_inside_a_chromosome_is_the_single_run(study, tmp_path):
    import pyarrow.parquet as pq

    # Cut chr2 inside its first called DMR: the region is joined across the two shards.
    dmr = pq.read_table(study[1] / "dmr.parquet").to_pylist()
    first = next(r for r in dmr if r["chr"] == "chr2")
    cut = (first["start"] + first["end"]) // 2
    out = tmp_path / "regions"
    workflow(study, out, f"chr1,chr2:1-{cut},chr2:{cut + 1}-4000000000,chr3")
    parts = sorted(p.name for p in (out / "sites" / "chr=chr2").iterdir())
    assert parts == ["part-0.parquet", "part-1.parquet"]
    assert_same_as_single(study[1], out)


def test_the_workflow_can_write_one_sites_file(study, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "one"
    workflow(study, out, "auto", "sites_file=true")
    assert not (out / "sites").exists()
    for name in ["sites.parquet", "dml.parquet", "dmr.parquet"]:
        assert pq.read_table(study[1] / name).equals(pq.read_table(out / name)), name


def test_a_design_passes_through_the_workflow(tmp_path):
    """design= and coef= reach prior and fit: the sharded design run is the single one."""
    import pyarrow.parquet as pq

    run(BIN, "simulate", "--sites", "3000", "--replicates", "3", "--covariate", "batch=factor:2",
        "--out", str(tmp_path / "study"))
    sheet = tmp_path / "study" / "sheet.tsv"
    question = ["--design", "~ group + batch", "--coef", "groupB"]
    single = tmp_path / "single"
    run(BIN, "methyl", str(sheet), *question, "--device", "cpu", *SETTINGS.split(), "--quiet",
        "--out", str(single))
    out = tmp_path / "sharded"
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(BIN)) + os.pathsep + os.environ["PATH"])
    run(snakemake(), "-s", os.path.join(REPO, "workflow", "Snakefile"), "--cores", "2", "--quiet",
        "--directory", str(tmp_path),
        "--config", f"sheet={sheet}", f"out={out}", "design=~ group + batch", "coef=groupB",
        "device=cpu", "shards=auto", f"extra={SETTINGS}", "sites_file=true", env=env)
    for name in ["sites.parquet", "dml.parquet", "dmr.parquet"]:
        assert pq.read_table(single / name).equals(pq.read_table(out / name)), name
    assert "groupB_mean" in pq.read_table(out / "sites.parquet").column_names
