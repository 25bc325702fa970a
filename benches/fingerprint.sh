#!/usr/bin/env bash
# Behaviour fingerprint: runs fixed-seed fits (rats, baseball, the estimator ladder, DSS's
# 2 x 2 methylation example, the simulator) on the CPU and, where a Vulkan adapter exists,
# the GPU, draws the figures, and prints one hash per output table's rows and per other file
# (footer metadata and run.json excluded: they hold run times and run ids). Two builds behave
# the same when their fingerprints match line for line.
# Usage: benches/fingerprint.sh BINARY [DATA_DIR]   (DATA_DIR defaults to ../shared/data)
set -euo pipefail
bin=$(realpath "$1")
data=$(realpath "${2:-$(dirname "$0")/../../shared/data}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
q=(--quiet)
for device in cpu gpu; do
  "$bin" demo rats --device "$device" --seed 7 --chains 8 --warmup 200 --draws 200 --ppc --out "rats-$device" "${q[@]}" >/dev/null
  for update in collapsed gibbs; do
    "$bin" demo baseball --device "$device" --update "$update" --seed 7 --chains 4 --warmup 100 --draws 100 \
      --out "baseball-$update-$device" "${q[@]}" >/dev/null
  done
done
"$bin" compare --demo rats --draws 500 --out compare-rats >/dev/null
printf 'sample,file,group\nC1,%s/cond1_1.txt.gz,C\nC2,%s/cond1_2.txt.gz,C\nT1,%s/cond2_1.txt.gz,T\nT2,%s/cond2_2.txt.gz,T\n' \
  "$data" "$data" "$data" "$data" >dss.csv
for device in cpu gpu; do
  "$bin" methyl dss.csv --compare C,T --device "$device" --out "dss-$device" >/dev/null 2>&1
done
"$bin" simulate --sites 2000 --seed 3 --out sim >/dev/null 2>&1
"$bin" plot rats-cpu --out figures-rats >/dev/null
"$bin" plot baseball-collapsed-cpu --out figures-baseball >/dev/null
python3 - <<'PY'
import glob, hashlib, pyarrow.parquet as pq
for path in sorted(glob.glob("**/*.parquet", recursive=True)):
    table = pq.read_table(path).replace_schema_metadata(None)
    digest = hashlib.sha256()
    for batch in table.to_batches():
        for column in batch.columns:
            for buf in column.buffers():
                if buf is not None:
                    digest.update(buf.to_pybytes())
    print(f"{path}\t{table.num_rows}\t{digest.hexdigest()[:16]}")
PY
# The simulator's text files and every figure, byte for byte.
find sim figures-* compare-rats -type f ! -name '*.parquet' ! -name run.json | sort | xargs sha256sum | cut -c1-16,65-
