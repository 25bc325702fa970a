#!/usr/bin/env bash
# The methylation benchmark on a lent GPU machine (the workplace's `device` tool), in one call:
# DSS's example through `bench --sheet`, then simulated studies on the GPU and the CPU paths.
# Expects what benches/device_common.sh does, and .devrun/data/ (DSS's cond*.txt.gz and
# dss.tsv). Writes logs to $OUT. SITES (default 28000000) sizes the genome-scale run; SMALL
# (2000000) the side-by-side run of both paths, and BIG_CHUNK (262144) the GPU's rerun of it
# with larger dispatches; RATS=0 skips the core sampler's bench, and SMALL=0 DSS's example and
# the side-by-side runs (the genome-scale run alone). The side-by-side runs include the GPU
# path with the summaries on the host (--summaries host), as they were before
# site_summaries.wgsl, and with BIG_CHUNK (VARIANTS=0 skips both); GENOME_HOST=1 reruns the
# genome-scale study with --summaries host. Where
# .devrun/baseline (another build, gzipped as .devrun/baseline.gz) exists, the genome-scale
# study runs on it too, first, so that a change is measured against it on the same machine.
set -u
SITES=${SITES:-28000000}
SMALL=${SMALL:-2000000}
BIG_CHUNK=${BIG_CHUNK:-262144}
RATS=${RATS:-1}
GENOME_HOST=${GENOME_HOST:-0}
VARIANTS=${VARIANTS:-1}
source "$(dirname "$0")/device_common.sh"

if [ "$SMALL" != 0 ]; then
    echo "== DSS example"
    "$B" bench --sheet .devrun/data/dss.tsv --compare cond1,cond2 2>&1 | tee "$OUT/dss.txt"
    echo "== $SMALL simulated sites, GPU then CPU"
    "$B" simulate --sites "$SMALL" --out /tmp/sim-small
    fit small-gpu gpu /tmp/sim-small/sheet.tsv --compare A,B
    fit small-cpu cpu /tmp/sim-small/sheet.tsv --compare A,B
    if [ "$VARIANTS" = 1 ]; then
        fit small-gpu-host gpu /tmp/sim-small/sheet.tsv --compare A,B --summaries host
        fit small-gpu-chunk gpu /tmp/sim-small/sheet.tsv --compare A,B --chunk-sites "$BIG_CHUNK"
    fi
    rm -rf /tmp/sim-small /tmp/fit-small-*
fi
echo "== $SITES simulated sites, GPU"
start=$SECONDS
"$B" simulate --sites "$SITES" --out /tmp/sim-genome
echo "simulate: $((SECONDS - start)) s"
ls -la /tmp/sim-genome
if [ -x .devrun/baseline ]; then
    B=.devrun/baseline fit genome-baseline gpu /tmp/sim-genome/sheet.tsv --compare A,B
    rm -rf /tmp/fit-genome-baseline
fi
fit genome-gpu gpu /tmp/sim-genome/sheet.tsv --compare A,B
ls -la /tmp/fit-genome-gpu
rm -rf /tmp/fit-genome-gpu
if [ "$GENOME_HOST" = 1 ]; then
    fit genome-gpu-host gpu /tmp/sim-genome/sheet.tsv --compare A,B --summaries host
    rm -rf /tmp/fit-genome-gpu-host
fi
rm -rf /tmp/sim-genome
[ "$RATS" = 0 ] && exit 0
echo "== the core sampler: rats, GPU and CPU"
timeout 150 "$B" bench --model rats 2>&1 | tee "$OUT/rats.txt"
