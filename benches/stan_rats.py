"""Stan's NUTS on the rat-tumour model, for `betagibbs bench --model rats --stan`.

The model is BDA3's (section 5.3): y_j ~ Binomial(n_j, theta_j), theta_j ~ Beta(alpha, beta),
p(alpha, beta) proportional to (alpha + beta)^(-5/2). Stan is given its best form of it, the
thetas integrated out (y_j ~ BetaBinomial(n_j, alpha, beta)), as betagibbs's collapsed update
has them, in BDA3's coordinates (mu and kappa = alpha + beta, which Stan moves on the logit
and log scales, as betagibbs's slice sampler does). PyStan 3 builds the model once (cached by httpstan), then samples; only the
sampling is timed, with Stan's progress output captured (printed to a pipe it costs Stan
several times its speed). Writes text to --out: `stan <version>`, `seconds <wall seconds of
the sampling>`, `overhead <wall seconds of a one-iteration call>`, then one line per parameter and chain, `draws <name> <chain> <values...>`,
for alpha, beta, mu and kappa, whose ESS betagibbs computes with its own estimator. Exit
status 3: PyStan is not installed.
"""

import argparse
import contextlib
import csv
import io
import os
import sys
import time

NO_PYSTAN = 3  # exit status: PyStan absent, the row is skipped with a note

MODEL = """
data {
  int<lower=1> J;
  array[J] int<lower=0> y;
  array[J] int<lower=0> n;
}
parameters {
  real<lower=0, upper=1> mu;
  real<lower=0> kappa;
}
transformed parameters {
  real alpha = mu * kappa;
  real beta = (1 - mu) * kappa;
}
model {
  // (alpha + beta)^(-5/2) times the Jacobian kappa of (mu, kappa) -> (alpha, beta).
  target += -1.5 * log(kappa);
  y ~ beta_binomial(n, alpha, beta);
}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="rats.csv: experiment,tumors,rats")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import stan
    except ImportError:
        print("PyStan is not installed (pip install pystan)", file=sys.stderr)
        sys.exit(NO_PYSTAN)
    rows = list(csv.DictReader(open(args.data)))
    # PyStan's first build of the model leaves a build/ folder in the working one: keep it
    # beside the output, not in the caller's folder.
    args.out = os.path.abspath(args.out)
    os.chdir(os.path.dirname(args.out))
    data = {
        "J": len(rows),
        "y": [int(r["tumors"]) for r in rows],
        "n": [int(r["rats"]) for r in rows],
    }
    import httpstan.cache

    def forget_fits():
        # httpstan keeps every fit and returns it again for the same model, data, seed and
        # settings: a second run would time the cache, not Stan.
        fits = httpstan.cache.model_directory(posterior.model_name) / "fits"
        for path in fits.glob("*.jsonlines.gz"):
            path.unlink()

    noise = io.StringIO()
    with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
        posterior = stan.build(MODEL, data=data, random_seed=args.seed)
        forget_fits()
        # PyStan's fixed cost of a call (its worker processes, the draws' transfer), timed on
        # one iteration per chain, so that Stan's own speed can be given the benefit of it.
        start = time.perf_counter()
        posterior.sample(num_chains=args.chains, num_samples=1, num_warmup=1)
        overhead = time.perf_counter() - start
        forget_fits()
        start = time.perf_counter()
        fit = posterior.sample(
            num_chains=args.chains, num_samples=args.draws, num_warmup=args.warmup
        )
        seconds = time.perf_counter() - start
    with open(args.out, "w") as f:
        f.write(f"stan PyStan {stan.__version__}\n")
        f.write(f"seconds {seconds!r}\n")
        f.write(f"overhead {overhead!r}\n")
        for name in ("alpha", "beta", "mu", "kappa"):
            # Shape (1, draws * chains): PyStan 3 stacks the chains, draw d of chain c at
            # d * chains + c.
            flat = [float(v) for v in fit[name].reshape(-1)]
            for c in range(args.chains):
                values = " ".join(repr(v) for v in flat[c :: args.chains])
                f.write(f"draws {name} {c} {values}\n")


if __name__ == "__main__":
    main()
