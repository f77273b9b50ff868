#!/usr/bin/env bash
# Distributed evaluation with torchrun; metrics are gathered over all processes.
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# GPUS is the total over all nodes; NNODES, NODE_RANK, MASTER_ADDR, PORT for multi-node.
exec "$(dirname "$0")/dist_run.sh" test.py "$3" "$1" "$2" "${@:4}"
