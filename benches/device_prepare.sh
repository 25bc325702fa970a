#!/usr/bin/env bash
# Packs what benches/device_*.sh need into .devrun/ (ignored; name it and .gl in the device
# tool's `carry`): a stripped release build, the GPU tests' release binaries, and DSS's
# example with its sheet, gzipped to fit the tool's 64 MiB. Run from the repository root.
# BASELINE=path/to/betagibbs packs another build as .devrun/baseline, which
# benches/device_methyl.sh runs on the genome-scale study beside this one.
set -eu
DATA=${DATA:-../shared/data}
TESTS=(gpu_vs_cpu gpu_rng beta_distribution baseball_posterior rats_posterior methyl_calibration site_regression_twins site_summaries_twins)
rm -rf .devrun && mkdir -p .devrun/tests .devrun/data
cargo build --release --quiet
strip -o .devrun/betagibbs target/release/betagibbs
for t in "${TESTS[@]}"; do
    bin=$(cargo test --release --no-run --message-format=json --test "$t" 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("executable") and m.get("target", {}).get("kind") == ["test"]: print(m["executable"])')
    strip -o ".devrun/tests/$t" "$bin"
done
if [ -n "${BASELINE:-}" ]; then
    strip -o .devrun/baseline "$BASELINE"
    gzip -9 .devrun/baseline
fi
gzip -9 .devrun/betagibbs .devrun/tests/*
# Shader variants for benches/device_variants.sh, from this build's expanded shaders.
python3 benches/shader_variants.py --out .devrun/variants >/dev/null
cp "$DATA"/cond*.txt.gz .devrun/data/
printf 'sample\tfile\tgroup\n' >.devrun/data/dss.tsv
for f in cond1_1 cond1_2 cond2_1 cond2_2; do
    printf '%s\t%s.txt.gz\t%s\n' "$f" "$f" "${f%_*}" >>.devrun/data/dss.tsv
done
du -sh .devrun
