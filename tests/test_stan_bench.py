"""`bench --model rats --stan`: Stan's NUTS (PyStan 3) beside our samplers in one run.

Stan's row must come out converged, with a sensible ESS, and every row of ours must get its
ratio to Stan's. Needs PyStan (pip install pystan; its first run compiles the model, about a
minute) and the binary (BETAGIBBS_BIN, default target/debug/betagibbs).
"""

import os
import re
import subprocess
import sys

import pytest

BIN = os.environ.get("BETAGIBBS_BIN", os.path.join("target", "debug", "betagibbs"))


def test_stan_runs_beside_our_samplers():
    try:
        import stan  # noqa: F401
    except ImportError:
        pytest.fail("this test needs PyStan (pip install pystan)")
    # The benchmark's python3 is this interpreter's (PyStan is installed here).
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    result = subprocess.run(
        [BIN, "bench", "--model", "rats", "--stan", "--chains", "4,64", "--update", "collapsed",
         "--cpu-only", "--warmup", "500", "--draws", "500"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    row = re.search(r"^stan: PyStan \S+ \(thetas integrated out\)\s+nuts\s+4\s+(\S+)\s+-\s+(\S+)\s+\S+\s+(\S+)",
                    out, re.M)
    assert row, out
    seconds, ess_per_second, r_hat = (float(g) for g in row.groups())
    # 4 x 500 draws of a two-parameter posterior: NUTS converges and keeps hundreds of ESS.
    assert r_hat < 1.05, out
    assert ess_per_second * seconds > 200, out
    ratios = re.findall(r"chains: min ESS/s (\S+)x, log\(alpha \+ beta\) (\S+)x", out)
    assert len(ratios) == 2, out
    assert all(float(a) > 0 and float(b) > 0 for a, b in ratios), out
    # The whole `sample` command, timed as separate processes, against Stan's rate.
    whole = re.search(r"^the whole command .* 3 runs: (.+) s, ESS of log\(alpha \+ beta\) (\S+): "
                      r"(.+) ESS/s, (.+) Stan's$", out, re.M)
    assert whole, out
    assert len(whole.group(1).split(", ")) == 3 and float(whole.group(2)) > 1000, out
    assert all(float(r.rstrip("x")) > 0 for r in whole.group(4).split(", ")), out
