#!/usr/bin/env bash
# The GPU table in one call of the device tool (benchmarks/README.md has the call):
#
#   bash tools/device_bench.sh [--tiny] [OUT_DIR]
#
# On the GPU machine (PyTorch, no mmengine / mmcv-lite / kornia / cityscapesscripts, no network) it
# installs the wheels of .whl/ (`make device-wheels` here, carried with the call) into a temporary
# folder, then runs tools/benchmark.py for the final DAFormer (MiT-B5, 512x512) and HRDA (MiT-B5,
# 1024x1024 context + 512x512 detail) configs: reference and fast (bfloat16) modes, then fast with
# torch.compile; each JSON holds train ms/iter, inference ms/image and peak memory. The runs share a
# time budget (DEVICE_BENCH_BUDGET_S, default 420 s, so that all ends within 8 minutes on an H100):
# a run that would outlast it is stopped and reported as such. Last, a one-screen summary with each
# step time as a fraction of the H100's bfloat16 peak (the FLOPs of benchmarks/results/*__flops.json).
# Files go to OUT_DIR, else $OUT (the device tool's folder), else benchmarks/results/device/.
#
# --tiny: the steps on the CPU with the synthetic tiny config at 32x32 (FLOPs; reference and fast mode,
# the fast one compiled with the 'eager' backend; one iteration each) and nothing installed: the test
# of this script.
set -u -o pipefail
cd "$(dirname "$0")/.."

tiny=0
if [ "${1:-}" = "--tiny" ]; then
    tiny=1
    shift
fi
out=${1:-${OUT:-benchmarks/results/device}}
python=${PYTHON:-python3}
mkdir -p "$out"
exec > >(tee "$out/device_bench.log") 2>&1
started=$(date +%s)
budget=${DEVICE_BENCH_BUDGET_S:-420}
reserve=15  # seconds kept for the summary

if [ $tiny = 0 ] && ! "$python" -c 'import mmengine, mmcv, kornia, cityscapesscripts' 2>/dev/null; then
    if ! ls .whl/*.whl >/dev/null 2>&1; then
        echo "device_bench: mmengine, mmcv-lite, kornia or cityscapesscripts is missing and .whl/ holds no wheels:" \
             "run 'make device-wheels' on the development machine and carry .whl with the call"
        exit 2
    fi
    site=$(mktemp -d /tmp/device-bench-site.XXXXXX)
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" .whl/*.whl || exit 2
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    echo "device_bench: installed $(ls .whl/*.whl | wc -l) wheels into $site"
fi

if [ $tiny = 0 ]; then
    "$python" -c 'import torch; print("device_bench: torch", torch.__version__, "CUDA", torch.version.cuda,
                  torch.cuda.get_device_name() if torch.cuda.is_available() else "and no GPU")' || exit 2
fi

# name | arguments of tools/benchmark.py (each run writes its JSON into $out)
if [ $tiny = 1 ]; then
    synth=configs/synth/synth_gta2cs_dacs_rcs.py
    small='--crop 32 32 --batch-size 1 --test-size 32 32'
    runs=(
        "tiny flops|$synth --flops $small"
        "tiny reference + fast with compile|$synth --compile --compile-backend eager $small --iters 1 --warmup 1
            --inference-runs 1 --threads 1"
    )
else
    daformer=configs/daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py
    hrda=configs/hrda/gtaHR2csHR_hrda.py
    runs=(
        "DAFormer reference + fast|$daformer --warmup 10 --iters 30"
        "HRDA reference + fast|$hrda --warmup 5 --iters 20"
        "DAFormer fast + compile|$daformer --mode fast --compile --warmup 15 --iters 30"
        "HRDA fast + compile|$hrda --mode fast --compile --warmup 10 --iters 20"
    )
fi

status=()
for run in "${runs[@]}"; do
    name=${run%%|*}
    left=$((budget - reserve - ($(date +%s) - started)))
    if [ $left -lt 30 ]; then
        status+=("$name: skipped, ${left}s of the budget left")
        continue
    fi
    echo "device_bench: $name (at most ${left}s)"
    # shellcheck disable=SC2086  # the arguments are split on purpose
    timeout --kill-after=10 $left "$python" tools/benchmark.py ${run#*|} --out-dir "$out"
    rc=$?
    case $rc in
        0) status+=("$name: done") ;;
        124|137) status+=("$name: stopped after ${left}s (time budget)") ;;
        *) status+=("$name: failed (exit $rc)") ;;
    esac
done

printf '%s\n' "${status[@]}" > "$out/device_bench_status.txt"
"$python" tools/device_bench_summary.py "$out" --status "$out/device_bench_status.txt" | tee "$out/summary.txt"
echo "device_bench: $(($(date +%s) - started))s in all; files in $out"
grep -q -v ': done$' "$out/device_bench_status.txt" && exit 1
exit 0
