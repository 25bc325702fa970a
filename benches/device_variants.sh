#!/usr/bin/env bash
# Times variants of the shaders on a lent GPU (the `device` tool): the committed build, then
# `methyl --dev-shader-dir` with each folder of .devrun/variants (benches/shader_variants.py,
# which benches/device_prepare.sh runs), on one simulated 2 x 2 study of SITES sites (default
# 2000000). Each variant leaves one part of a kernel out; the kernels' timestamps in each
# run's report say what that part costs. Writes $OUT/variants.txt.
set -u
SITES=${SITES:-2000000}
source "$(dirname "$0")/device_common.sh"
"$B" simulate --sites "$SITES" --out /tmp/sim-variants >/dev/null
for dir in committed .devrun/variants/*/; do
    args=()
    [ "$dir" != committed ] && args=(--dev-shader-dir "$dir")
    echo "== $(basename "$dir")"
    "$B" methyl /tmp/sim-variants/sheet.tsv --compare A,B --device gpu --out /tmp/fit-variant \
        "${args[@]}" 2>&1 | grep -E "sites in|kernel|rror"
    rm -rf /tmp/fit-variant
done 2>&1 | tee "$OUT/variants.txt"
