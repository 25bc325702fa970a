#!/usr/bin/env bash
# The sharded run against the single run on one simulated study, one after the other on this
# machine: the single `methyl`, the stages by hand (prior, a fit per chromosome, call), the
# Snakemake workflow, and `methyl --resume`; each job's wall time and peak memory, and
# whether the outputs are the single run's.
#   SITES=1000000 CHROMOSOMES=5 bash benches/sharding.sh
# Needs the release binary (target/release/betagibbs), GNU time, and a Python with pyarrow and
# snakemake (target/ci-venv, as .ci/run makes it, or PYTHON=...).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
sites=${SITES:-1000000}
chromosomes=${CHROMOSOMES:-5}
python=${PYTHON:-$repo/target/ci-venv/bin/python}
export PATH="$repo/target/release:$(dirname "$python"):$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Each job's wall time and peak memory go to $work/times, printed at the end.
timed() { local label=$1; shift; /usr/bin/time -a -o "$work/times" -f "$label: wall %e s, peak %M KB" "$@"; }
q=(--compare A,B --device cpu)
betagibbs simulate --sites "$sites" --chromosomes "$chromosomes" --out study >/dev/null 2>&1
echo "study: $sites sites on $chromosomes chromosomes, 4 samples; $(nproc) cores"
timed "single methyl" betagibbs methyl study/sheet.tsv "${q[@]}" --quiet --out single
timed "methyl prior" betagibbs methyl prior study/sheet.tsv "${q[@]}" --quiet --out stages/prior
parts=()
while IFS=$'\t' read -r chr _; do
  timed "methyl fit $chr" betagibbs methyl fit study/sheet.tsv "${q[@]}" --prior stages/prior \
    --region "$chr" --quiet --out "stages/$chr"
  parts+=("stages/$chr")
done < <(tail -n +2 stages/prior/shards.tsv)
timed "methyl call" betagibbs methyl call "${parts[@]}" --prior stages/prior --quiet --out stages
timed "snakemake --cores $(nproc)" snakemake -s "$repo/workflow/Snakefile" --cores "$(nproc)" --quiet \
  --config sheet=study/sheet.tsv out=workflow compare=A,B device=cpu shards=auto threads="$(nproc)" >/dev/null 2>&1
timed "methyl --resume" betagibbs methyl study/sheet.tsv "${q[@]}" --quiet --resume --out resumed
cat "$work/times"
"$python" - <<'PY'
import pyarrow.parquet as pq
for run in ["stages", "workflow", "resumed"]:
    same = [pq.read_table(f"single/{f}.parquet").equals(pq.read_table(f"{run}/{f}.parquet"))
            for f in ["dml", "dmr"]]
    print(f"{run}: dml.parquet and dmr.parquet the single run's: {all(same)}")
PY
