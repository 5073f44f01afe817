#!/usr/bin/env bash
# Runs the speed benchmark (crates/fkd-cli/benches/speed) on an NVIDIA GPU: installs the
# CUDA build of libtorch 2.9.0 (`cargo xtask libtorch --cuda`), builds the benchmark
# with `--features tch` in release, and times burn-tch and PyTorch on the GPU side by
# side. The report goes to a Markdown file and the whole log to a .log file beside it.
#
# Usage: scripts/gpu-bench.sh [--device cuda:N] [--output FILE] [-- SPEED OPTIONS...]
#
#   --device   cuda:N (0-based), default cuda:0. `cpu` runs the same steps with the CPU
#              libtorch instead, which checks everything but the GPU.
#   --output   report file, default bench-<device>.md in the workspace root.
#   SPEED OPTIONS are passed to the benchmark (see `cargo bench -p fkd-cli --bench speed
#   -- --help`). On a GPU they follow these defaults, which they can override:
#   --rounds 2 --steps 20 --single-repeats 50 --large-repeats 10 --whole-epoch.
#
# Environment:
#   FKD_SHARED_DATA    directory with Kaggle's facial-keypoints-detection.zip, for the
#                      training pass over the real data (skipped when unset).
#   FKD_LIBTORCH_DIR   install folder of libtorch, default libtorch/cuda for a GPU and
#                      libtorch for the CPU (the folders `cargo xtask libtorch` uses).
#   FKD_BENCH_PYTHON   Python with torch for the PyTorch side, default python3 with the
#                      libtorch install's site-packages on PYTHONPATH.
#   FKD_BENCH_TIME_LIMIT  seconds allowed for the whole script, default 600.
#
# Needs: a Rust toolchain, python3 with pip (for the install), network access to PyPI
# and crates.io on the first run (about 6.7 GB of wheels for CUDA), and nvidia-smi
# with a driver for CUDA 12.8 for a GPU device.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

device=cuda:0
output=
speed_options=()
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device=${2:?--device needs a value such as cuda:0}; shift 2 ;;
        --output) output=${2:?--output needs a file name}; shift 2 ;;
        --) shift; speed_options=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option '$1'; see $0 --help" >&2; exit 2 ;;
    esac
done

case "$device" in
    cpu)
        variant_flag=()
        default_dir="$root/libtorch"
        device_defaults=()
        ;;
    cuda:[0-9]*)
        variant_flag=(--cuda)
        default_dir="$root/libtorch/cuda"
        device_defaults=(--rounds 2 --steps 20 --single-repeats 50 --large-repeats 10 --whole-epoch)
        ;;
    *) echo "error: '$device' is not a device; expected cuda:N or cpu" >&2; exit 2 ;;
esac
output=${output:-$root/bench-${device/:/}.md}
log=${output%.md}.log
libtorch_dir=${FKD_LIBTORCH_DIR:-$default_dir}
time_limit=${FKD_BENCH_TIME_LIMIT:-600}
started=$SECONDS

# Everything from here on goes to the terminal and to the log.
exec > >(tee "$log") 2>&1

step() {
    echo
    echo "== $* ($(date -u +%H:%M:%S), $((SECONDS - started)) s elapsed)"
}

# Runs a command with what is left of the time limit, and fails when it runs out.
within_limit() {
    local left=$((time_limit - (SECONDS - started)))
    if [ "$left" -le 0 ]; then
        echo "error: the time limit of $time_limit s ran out before: $*" >&2
        return 1
    fi
    timeout "$left" "$@"
}

step "machine"
uname -srm
grep -m1 'model name' /proc/cpuinfo || true
echo "CPUs: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$device" != cpu ]; then
    if ! command -v nvidia-smi > /dev/null; then
        echo "error: nvidia-smi not found; $device needs an NVIDIA driver" >&2
        exit 1
    fi
    nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv
fi
cargo --version
rustc --version

step "cargo xtask libtorch ${variant_flag[*]} --dir $libtorch_dir"
exports=$(within_limit cargo xtask libtorch "${variant_flag[@]}" --dir "$libtorch_dir")
eval "$exports"
echo "LIBTORCH=$LIBTORCH"
site_packages=$(dirname "$LIBTORCH")

step "cargo bench --no-run (release build with --features tch)"
within_limit cargo bench -p fkd-cli --features tch --bench speed --no-run

python=${FKD_BENCH_PYTHON:-python3}
if [ -z "${FKD_BENCH_PYTHON:-}" ]; then
    # The CUDA install is the whole torch wheel with its Python dependencies.
    export PYTHONPATH="$site_packages${PYTHONPATH:+:$PYTHONPATH}"
fi

step "speed benchmark on $device"
within_limit cargo bench -p fkd-cli --features tch --bench speed -- \
    --device "$device" --python "$python" --output "$output" \
    "${device_defaults[@]}" "${speed_options[@]}"

step "done: report in $output, log in $log"
