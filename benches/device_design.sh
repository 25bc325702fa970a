#!/usr/bin/env bash
# Study designs on a lent GPU machine (the workplace's `device` tool), in one call: the GPU
# tests, then `methyl --design '~ group + batch + age' --coef groupB` on simulated studies of
# 16 samples (8 per group, a two-level batch and an age), on the GPU and the CPU path side by
# side, and a larger study on the GPU alone. Expects what benches/device_common.sh does.
# SMALL (default 200000) sizes the side-by-side study, LARGE (2000000) the GPU's.
set -u
SMALL=${SMALL:-200000}
LARGE=${LARGE:-2000000}
source "$(dirname "$0")/device_common.sh"
DESIGN=(--design '~ group + batch + age' --coef groupB)
study() { # SITES DIR
    "$B" simulate --sites "$1" --replicates 8 --covariate batch=factor:2 \
        --covariate age=numeric:20,60 --out "$2" >/dev/null
}
echo "== $SMALL sites of 16 samples, GPU then CPU"
study "$SMALL" /tmp/design-small
fit design-small-gpu gpu /tmp/design-small/sheet.tsv "${DESIGN[@]}"
fit design-small-cpu cpu /tmp/design-small/sheet.tsv "${DESIGN[@]}"
rm -rf /tmp/design-small /tmp/fit-design-small-*
echo "== $LARGE sites of 16 samples, GPU"
start=$SECONDS
study "$LARGE" /tmp/design-large
echo "simulate: $((SECONDS - start)) s"
fit design-large-gpu gpu /tmp/design-large/sheet.tsv "${DESIGN[@]}"
ls -la /tmp/fit-design-large-gpu
