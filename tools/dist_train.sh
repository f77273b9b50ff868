#!/usr/bin/env bash
# Distributed training with torchrun (NCCL on GPUs, gloo on CPU-only machines).
#   tools/dist_train.sh CONFIG GPUS [train.py args...]
# GPUS is the total over all nodes; NNODES, NODE_RANK, MASTER_ADDR, PORT for multi-node.
exec "$(dirname "$0")/dist_run.sh" train.py "$2" "$1" "${@:3}"
