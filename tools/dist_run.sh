#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh.
#   tools/dist_run.sh SCRIPT GPUS [script args...]
# GPUS is the total number of processes over all nodes (e.g. 64 = 8 nodes x 8 GPUs).
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# On a machine without CUDA the processes use gloo on CPU (see mavil/engine/runner.py).
set -euo pipefail
SCRIPT=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
if (( GPUS % NNODES != 0 )); then
  echo "GPUS=$GPUS is not divisible by NNODES=$NNODES" >&2; exit 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --master_port="$PORT" --nproc_per_node=$((GPUS / NNODES)) \
  "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
