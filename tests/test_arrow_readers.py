"""The Parquet outputs read back by the Arrow tools people use: pyarrow, pandas, polars, DuckDB.

Run by .ci/run after `cargo test`: pytest tests/test_arrow_readers.py with BETAGIBBS_BIN
pointing at a built betagibbs binary.
"""

import os
import subprocess

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq
import pytest

CHAINS, WARMUP, DRAWS = 4, 200, 300
N_PARAMS = 71 + 4  # 71 thetas, then alpha, beta, mu, kappa


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    binary = os.environ.get("BETAGIBBS_BIN", "target/debug/betagibbs")
    subprocess.run(
        [binary, "demo", "--out", str(d), "--device", "cpu", "--quiet",
         "--chains", str(CHAINS), "--warmup", str(WARMUP), "--draws", str(DRAWS), "--seed", "5",
         "--contrast", "theta[71] - theta[1]"],
        check=True, capture_output=True,
    )
    return d


def test_pyarrow_draws_schema_metadata_and_compression(out):
    f = pq.ParquetFile(out / "draws.parquet")
    schema = f.schema_arrow
    assert schema.field("chain").type == pa.int32()
    assert schema.field("draw").type == pa.int32()
    assert schema.field("parameter").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("value").type == pa.float64()
    assert f.metadata.num_rows == N_PARAMS * CHAINS * DRAWS
    # Key-value metadata of the Parquet footer.
    meta = {k.decode(): v.decode() for k, v in f.metadata.metadata.items()}
    assert meta["betagibbs.prior"] == "bda3"
    assert meta["betagibbs.seed"] == "5"
    assert meta["betagibbs.chains"] == str(CHAINS)
    assert meta["betagibbs.draws"] == str(DRAWS)
    assert len(meta["betagibbs.input_sha256"]) == 64
    for i in range(f.metadata.num_columns):
        assert f.metadata.row_group(0).column(i).compression == "ZSTD"
    # The encodings docs/outputs.md states, which every reader here must decode.
    encodings = {c: f.metadata.row_group(0).column(i).encodings for i, c in enumerate(schema.names)}
    assert "DELTA_BINARY_PACKED" in encodings["chain"]
    assert "DELTA_BINARY_PACKED" in encodings["draw"]
    assert "BYTE_STREAM_SPLIT" in encodings["value"]
    t = f.read()
    assert sorted(set(t.column("chain").to_pylist())) == list(range(1, CHAINS + 1))
    assert sorted(set(t.column("draw").to_pylist())) == list(range(1, DRAWS + 1))


def test_pyarrow_summary_schema(out):
    t = pq.read_table(out / "summary.parquet")
    assert t.schema.names == ["parameter", "mean", "sd", "q2_5", "median", "q97_5",
                              "hdi_low", "hdi_high", "p_positive",
                              "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
    assert t.schema.field("parameter").type in (pa.string(), pa.large_string())
    for name in t.schema.names[1:]:
        assert t.schema.field(name).type == pa.float64()
    names = t.column("parameter").to_pylist()
    assert names[:2] == ["theta[1]", "theta[2]"] and names[70] == "theta[71]"
    assert names[71:] == ["alpha", "beta", "mu", "kappa", "theta[71] - theta[1]"]
    row = t.filter(pa.compute.equal(t.column("parameter"), "theta[71] - theta[1]")).to_pylist()[0]
    assert row["hdi_low"] < row["mean"] < row["hdi_high"] and 0.5 < row["p_positive"] <= 1.0


def test_pandas_means_match_the_summary(out):
    draws = pd_read(out / "draws.parquet")
    summary = pd_read(out / "summary.parquet").set_index("parameter")
    means = draws.groupby("parameter", observed=True)["value"].mean()
    assert len(means) == N_PARAMS
    # The contrast is the difference of the two thetas' draws, so of their means.
    contrast = summary.loc["theta[71] - theta[1]", "mean"]
    assert abs(contrast - (means["theta[71]"] - means["theta[1]"])) < 1e-9
    for p, m in means.items():
        assert abs(m - summary.loc[p, "mean"]) < 1e-9 * max(1.0, abs(m))
    # Thetas are proportions; the rat data's population mean is near 0.14 (BDA3 §5.3).
    assert 0.0 < summary.loc["theta[71]", "mean"] < 1.0
    assert 0.10 < summary.loc["mu", "mean"] < 0.20


def pd_read(path):
    return pq.read_table(path).to_pandas()


def test_polars_reads_both_files(out):
    draws = pl.read_parquet(out / "draws.parquet")
    counts = draws.group_by("parameter").len()
    assert counts.height == N_PARAMS
    assert counts["len"].to_list() == [CHAINS * DRAWS] * N_PARAMS
    summary = pl.read_parquet(out / "summary.parquet")
    assert summary.height == N_PARAMS + 1  # and the contrast
    assert (summary["r_hat"] < 1.1).all()


def test_duckdb_queries_match_the_summary(out):
    con = duckdb.connect()
    worst = con.execute(
        f"""
        SELECT max(abs(d.m - s.mean)) FROM
          (SELECT parameter::VARCHAR AS parameter, avg(value) AS m
           FROM read_parquet('{out / "draws.parquet"}') GROUP BY 1) d
        JOIN read_parquet('{out / "summary.parquet"}') s USING (parameter)
        """
    ).fetchone()[0]
    assert worst < 1e-9
    n = con.execute(f"SELECT count(DISTINCT parameter) FROM '{out / 'draws.parquet'}'").fetchone()[0]
    assert n == N_PARAMS


@pytest.fixture(scope="module")
def methyl_out(tmp_path_factory):
    """A small simulated study fitted by `methyl`: sites, calls and region draws."""
    d = tmp_path_factory.mktemp("methyl")
    binary = os.environ.get("BETAGIBBS_BIN", "target/debug/betagibbs")
    subprocess.run([binary, "simulate", "--sites", "400", "--out", str(d / "study")],
                   check=True, capture_output=True)
    # The region of the first six sites of chr1, from the truth table.
    with open(d / "study" / "truth.tsv") as f:
        rows = [line.split("\t") for line in f.read().splitlines()[1:]]
    pos = [int(r[1]) for r in rows if r[0] == "chr1"][:6]
    subprocess.run(
        [binary, "methyl", str(d / "study" / "sheet.tsv"), "--compare", "A,B", "--device", "cpu",
         "--quiet", "--hyper-sites", "300", "--hyper-warmup", "100", "--hyper-draws", "20",
         "--draws-region", f"chr1:{pos[0]}-{pos[-1]}", "--out", str(d / "fit")],
        check=True, capture_output=True,
    )
    return d / "fit"


def test_methyl_outputs_read_in_every_tool(methyl_out):
    sites = pq.read_table(methyl_out / "sites.parquet")
    assert sites.num_rows == 400
    assert sites.schema.field("chr").type in (pa.string(), pa.large_string())
    assert sites.schema.field("pos").type == pa.int64()
    meta = {k.decode(): v.decode() for k, v in pq.ParquetFile(methyl_out / "sites.parquet").metadata.metadata.items()}
    assert meta["betagibbs.schema"] == "methylation-sites/2"
    assert meta["betagibbs.delta"] == "mu_B - mu_A"
    df = sites.to_pandas()
    # delta's posterior has a point mass at 0 ("same"), so its mean may lie outside its
    # central 95% interval (98% of draws at 0 and 2% at 0.3: mean 0.006, q97.5 0).
    assert (df.delta_q2_5 <= df.delta_q97_5).all()
    assert ((df.delta_mean >= -1) & (df.delta_mean <= 1)).all()
    assert ((df.p_dm >= 0) & (df.p_dm <= 1)).all()
    dml = pl.read_parquet(methyl_out / "dml.parquet")
    threshold = float(pq.ParquetFile(methyl_out / "dml.parquet").metadata.metadata[b"betagibbs.p_dm_threshold"])
    assert (dml["p_dm"] >= threshold).all()
    con = duckdb.connect()
    n_dmr = con.execute(f"SELECT count(*) FROM '{methyl_out / 'dmr.parquet'}' WHERE n_cpgs >= 3").fetchone()[0]
    assert n_dmr == pq.read_table(methyl_out / "dmr.parquet").num_rows
    # Region draws: the first 6 sites of chr1 x (mu[A], mu[B], delta).
    n = con.execute(f"SELECT count(DISTINCT parameter) FROM '{methyl_out / 'draws.parquet'}'").fetchone()[0]
    assert n == 6 * 3


@pytest.fixture(scope="module")
def ladder_out(tmp_path_factory):
    """`demo --ppc` and `compare` on the rats: predictive draws, observations, the comparison table."""
    d = tmp_path_factory.mktemp("ladder")
    binary = os.environ.get("BETAGIBBS_BIN", "target/debug/betagibbs")
    subprocess.run(
        [binary, "demo", "--out", str(d / "run"), "--device", "cpu", "--quiet", "--chains", "2",
         "--warmup", "100", "--draws", "100", "--ppc"],
        check=True, capture_output=True,
    )
    subprocess.run(
        [binary, "compare", "--demo", "rats", "--out", str(d / "cmp"), "--device", "cpu", "--quiet",
         "--draws", "200", "--sir-proposals", "2000"],
        check=True, capture_output=True,
    )
    return d


def test_predictive_observations_and_comparison_read_in_every_tool(ladder_out):
    run, cmp = ladder_out / "run", ladder_out / "cmp"
    f = pq.ParquetFile(run / "predictive.parquet")
    meta = {k.decode(): v.decode() for k, v in f.metadata.metadata.items()}
    assert meta["betagibbs.schema"] == "draws/1"
    assert meta["betagibbs.ppc.zero_counts"].startswith("observed=14;p=")
    con = duckdb.connect()
    # 71 y_rep, one y_new, three statistics' replicates; 2 chains x 100 draws each.
    n = con.execute(f"SELECT count(DISTINCT parameter), count(*) FROM '{run / 'predictive.parquet'}'").fetchone()
    assert n == (71 + 1 + 3, 75 * 200)
    obs = pl.read_parquet(run / "observations.parquet")
    assert obs.columns == ["parameter", "successes", "trials"]
    assert obs.height == 71 and obs["successes"].sum() == 267
    t = pq.read_table(cmp / "comparison.parquet")
    assert t.schema.names == ["estimator", "parameter", "mean", "q2_5", "q97_5"]
    df = t.to_pandas()
    assert set(df.estimator) == {"complete-pooling", "no-pooling", "eb-moments", "eb-ml", "laplace-sir", "gibbs"}
    # EB point estimates of alpha and beta have no interval: null, not NaN.
    eb = df[(df.estimator == "eb-ml") & (df.parameter == "alpha")]
    assert len(eb) == 1 and eb.q2_5.isna().all()
    thetas = df[df.parameter.str.startswith("theta[")]
    assert ((thetas.q2_5 <= thetas["mean"]) & (thetas["mean"] <= thetas.q97_5)).all()
