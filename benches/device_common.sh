# Sourced by the benches/device_*.sh scripts: the Vulkan loader on the device machine, a
# record of the machine, the carried GPU tests, and a fit that samples its resident memory.
# Expects, carried from the build machine (benches/device_prepare.sh packs them): .devrun/betagibbs (a stripped release build),
# optionally .devrun/tests/* (stripped release test binaries, of which the GPU tests (the ignored ones) run), and .gl/ (the Vulkan loader's
# .deb files, see the device tool's README). Writes logs to $OUT.
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
B=.devrun/betagibbs
# benches/device_prepare.sh gzips the binaries to fit the tool's transfer limit.
for f in .devrun/*.gz .devrun/tests/*.gz; do
    [ -f "$f" ] && gunzip -f "$f" && chmod +x "${f%.gz}"
done
if command -v nvidia-smi >/dev/null; then # the device machine: bring the Vulkan loader
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv | tee "$OUT/machine.txt"
fi
{ nproc; grep "model name" /proc/cpuinfo | head -1; free -g; df -h /tmp; } | tee -a "$OUT/machine.txt"
if [ -d .devrun/tests ]; then
    echo "== the GPU tests"
    for t in .devrun/tests/*; do CI=true timeout 120 "$t" --ignored --nocapture; done 2>&1 | tee "$OUT/gputests.txt"
fi

# fit NAME DEVICE SHEET ARGS...: `methyl SHEET ARGS --device DEVICE`, its resident memory and
# output size sampled every 20 s, and the GPU's clock every second.
fit() {
    local name=$1 device=$2 sheet=$3
    shift 3
    local log="$OUT/$name.txt"
    "$B" methyl "$sheet" "$@" --device "$device" --out "/tmp/fit-$name" >"$log" 2>&1 &
    local pid=$!
    # The GPU's SM clock and use every second, where nvidia-smi exists: do the kernels slow
    # down because the clocks drop while the GPU waits for the host?
    local clocks=
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=timestamp,clocks.sm,utilization.gpu --format=csv,noheader \
            -lms 1000 >"$OUT/$name-clocks.txt" 2>&1 &
        clocks=$!
    fi
    # Polled every second (a run ends within a second of its end, not of the next 20 s),
    # sampled every 20 s.
    local polls=0
    while kill -0 $pid 2>/dev/null; do
        sleep 1
        polls=$((polls + 1))
        [ $((polls % 20)) = 0 ] &&
            echo "t+${polls}s: $(grep VmRSS /proc/$pid/status 2>/dev/null) $(du -sm /tmp/fit-$name 2>/dev/null | cut -f1) MB written" >>"$OUT/$name-monitor.txt"
    done
    [ -n "$clocks" ] && kill "$clocks"
    wait $pid
    echo "exit $?" >>"$log"
    cat "$log"
}
