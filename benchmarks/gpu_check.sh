#!/usr/bin/env bash
# One unattended GPU check, under 8 minutes on one CUDA GPU:
#   1. the CUDA-only tests (tests/gpu: xformers == SDPA forward + backward, a bf16 autocast
#      training step, a one-process NCCL group) and the CUDA cases of the attention tests;
#   2. the ViT-B stage-1 training step at batch 32: sdpa vs xformers, fp32 vs bf16, torch.compile
#      off / on, with peak memory and MFU against the device's measured bf16 peak
#      (benchmarks/gpu_step.py);
#   3. torchcodec frame decoding on the GPU (NVDEC, device='cuda') vs one CPU thread, same
#      clips and timestamps (benchmarks/gpu_decode.py; the CUDA row is skipped, saying why,
#      where CUDA, torchcodec or NVDEC is missing);
#   4. the markdown tables, printed and written to $OUT_DIR/gpu_table.md and decode_table.md.
# Usage: benchmarks/gpu_check.sh [--dry-run]      (PYTHON=..., OUT_DIR=... to override;
#        STEPS="tests step decode" by default: a subset runs only those steps)
# Without a CUDA device it stops with exit status 2 and says so; --dry-run then runs the
# Python parts on CPU with a tiny model and tiny files instead (a smoke test of this script).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
[ -x .venv/bin/python ] && [ "$PYTHON" = python ] && PYTHON=.venv/bin/python
OUT_DIR=${OUT_DIR:-work_dirs/gpu_check}
STEPS=" ${STEPS:-tests step decode} "
DRY_RUN=0
[ "${1:-}" = "--dry-run" ] && DRY_RUN=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT_DIR"
start=$(date +%s)

if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>&1)
    if [ $DRY_RUN = 0 ]; then
        echo "gpu_check: no CUDA device is visible to torch ($torch_version) on $(hostname):" \
             "nothing was checked. Run it on a CUDA machine (or --dry-run for a CPU smoke run)." >&2
        exit 2
    fi
    echo "gpu_check: dry run on CPU (no CUDA device; torch $torch_version)"
fi
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "| cuda", torch.version.cuda,
"|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")'
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version \
    --format=csv,noheader

tests_status=0
if [[ $STEPS == *" tests "* ]]; then
    echo "== 1. CUDA-only tests"
    timeout 240 "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/gpu \
        tests/models/layers/test_transformer.py 2>&1 | tail -n 15
    tests_status=${PIPESTATUS[0]}
fi

tables=()  # the tables this run writes (a table of an earlier run is not printed)
step_status=0
if [[ $STEPS == *" step "* ]]; then
    echo "== 2. ViT-B stage-1 step timings"
    rm -f "$OUT_DIR/gpu_table.md"
    tables+=("$OUT_DIR/gpu_table.md")
    step_args=(--out "$OUT_DIR/gpu_table.md")
    [ $DRY_RUN = 1 ] && step_args+=(--dry-run)
    # 420 s on a GPU machine; a dry run on a small shared CPU gets longer (imports dominate)
    timeout $([ $DRY_RUN = 1 ] && echo 1500 || echo 420) "$PYTHON" benchmarks/gpu_step.py \
        "${step_args[@]}"
    step_status=$?
fi

decode_status=0
if [[ $STEPS == *" decode "* ]]; then
    echo "== 3. torchcodec decoding: CUDA (NVDEC) vs CPU"
    rm -f "$OUT_DIR/decode_table.md"
    tables+=("$OUT_DIR/decode_table.md")
    decode_args=(--out "$OUT_DIR/decode_table.md" --data-dir "$OUT_DIR/decode_files")
    # ~1 min on a GPU machine (writing the 4 files of 10 s dominates); tiny files when dry
    [ $DRY_RUN = 1 ] && decode_args+=(--sets 96x64:16000:250 --seconds 5 --files 1 --clips 3)
    timeout 240 "$PYTHON" benchmarks/gpu_decode.py "${decode_args[@]}"
    decode_status=$?
fi

echo "== 4. tables: $OUT_DIR/gpu_table.md, decode_table.md ($(( $(date +%s) - start )) s in" \
     "all; tests exit $tests_status, timings exit $step_status, decoding exit $decode_status)"
for table in ${tables[@]+"${tables[@]}"}; do
    [ -f "$table" ] && cat "$table"
done
[ $tests_status = 0 ] && [ $step_status = 0 ] && [ $decode_status = 0 ]
