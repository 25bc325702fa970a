#!/usr/bin/env bash
# The methylation benchmark on a lent GPU machine (the workplace's `device` tool), in one call:
# DSS's example through `bench --sheet`, then simulated studies on the GPU and the CPU paths.
# Expects, carried from the build machine: .devrun/betagibbs (a stripped release build),
# .devrun/data/ (DSS's cond*.txt.gz and dss.tsv) and .gl/ (the Vulkan loader's .deb files).
# Release test binaries under .devrun/tests/ (stripped, optional) run first, GPU tests included.
# Writes logs to $OUT. SITES (default 28000000) sizes the genome-scale run; SMALL (2000000) the
# side-by-side run of both paths.
set -u
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
B=.devrun/betagibbs
SITES=${SITES:-28000000}
SMALL=${SMALL:-2000000}
if command -v nvidia-smi >/dev/null; then # the device machine: bring the Vulkan loader
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv | tee "$OUT/machine.txt"
fi
{ nproc; grep "model name" /proc/cpuinfo | head -1; free -g; df -h /tmp; } | tee -a "$OUT/machine.txt"

# The fit, with its resident memory and output size sampled every 20 s.
fit() { # name sheet device
    local log="$OUT/$1.txt"
    "$B" methyl "$2" --compare A,B --device "$3" --out "/tmp/fit-$1" >"$log" 2>&1 &
    local pid=$!
    while kill -0 $pid 2>/dev/null; do
        sleep 20
        echo "t+20s: $(grep VmRSS /proc/$pid/status 2>/dev/null) $(du -sm /tmp/fit-$1 2>/dev/null | cut -f1) MB written" >>"$OUT/$1-monitor.txt"
    done
    wait $pid
    echo "exit $?" >>"$log"
    cat "$log"
}

if [ -d .devrun/tests ]; then
    echo "== the GPU tests"
    for t in .devrun/tests/*; do CI=true timeout 120 "$t" --include-ignored --nocapture; done 2>&1 | tee "$OUT/gputests.txt"
fi
echo "== DSS example"
"$B" bench --sheet .devrun/data/dss.tsv --compare cond1,cond2 2>&1 | tee "$OUT/dss.txt"
echo "== $SMALL simulated sites, GPU then CPU"
"$B" simulate --sites "$SMALL" --out /tmp/sim-small
fit small-gpu /tmp/sim-small/sheet.tsv gpu
fit small-cpu /tmp/sim-small/sheet.tsv cpu
rm -rf /tmp/sim-small /tmp/fit-small-*
echo "== $SITES simulated sites, GPU"
start=$SECONDS
"$B" simulate --sites "$SITES" --out /tmp/sim-genome
echo "simulate: $((SECONDS - start)) s"
ls -la /tmp/sim-genome
fit genome-gpu /tmp/sim-genome/sheet.tsv gpu
ls -la /tmp/fit-genome-gpu
rm -rf /tmp/sim-genome /tmp/fit-genome-gpu
echo "== the core sampler: rats, GPU and CPU"
timeout 150 "$B" bench --model rats 2>&1 | tee "$OUT/rats.txt"
