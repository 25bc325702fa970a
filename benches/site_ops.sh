#!/usr/bin/env bash
# The site update's operations per chain-sweep, counted on its scalar twin under callgrind,
# and the device's arithmetic limit they imply (benches/site_ops.py; docs/perf-notes.md).
# Needs valgrind. SITES (default 2000) simulated 2 x 2 sites, 4 chains; two runs whose stage
# 2 differs by 50 draws. About 3 minutes on 2 cores. Run from the repository root.
set -eu
SITES=${SITES:-2000}
cargo build --release --quiet
B=target/release/betagibbs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$B" simulate --sites "$SITES" --out "$work/sim" >/dev/null
for draws in 50 100; do
    RAYON_NUM_THREADS=1 valgrind --tool=callgrind --dump-instr=yes --compress-pos=no \
        --compress-strings=no --callgrind-out-file="$work/$draws.callgrind" \
        "$B" methyl "$work/sim/sheet.tsv" --compare A,B --device cpu --dev-scalar-twin \
        --chains 4 --draws "$draws" --out "$work/fit-$draws" --quiet 2>"$work/$draws.log" &
done
wait
python3 "$(dirname "$0")/site_ops.py" "$B" "$work/50.callgrind" "$work/100.callgrind" $((SITES * 4 * 50))
