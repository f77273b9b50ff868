"""Run under torchrun (2 processes, gloo): one exact-contrast optimizer step of the tiny float64
MAViL through the DDP wrapper, each rank holding half of 8 fixed clips as 2 micro-batches of 2.
Rank 0 writes the updated parameters and the rank-averaged logged values to OUT."""
import gc
import sys

import torch
import torch.distributed as dist
from mmengine.optim import OptimWrapper

from mavil.engine import CPUCompatibleDDP
from mavil.structures import MicroBatches
from tests.engine.exact_contrast_utils import NUM_CLIPS, batch, build_tiny, clips, fix_masks

MICRO = 2


def main(out_path: str) -> None:
    dist.init_process_group('gloo')
    torch.set_num_threads(1)
    rank, world = dist.get_rank(), dist.get_world_size()
    per_rank = NUM_CLIPS // world
    model = build_tiny()  # same weights on every rank
    fix_masks(model, start=rank * per_rank)  # clip i gets the same mask as in one process
    ddp = CPUCompatibleDDP(module=model, broadcast_buffers=False)
    data = clips()
    first = rank * per_rank
    micro = MicroBatches(batch(data, slice(i, i + MICRO))
                         for i in range(first, first + per_rank, MICRO))
    log_vars = ddp.train_step(micro, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5)))
    logged = {}
    for key, value in log_vars.items():
        value = value.detach().clone().double()
        dist.all_reduce(value)
        logged[key] = value / world
    if rank == 0:
        torch.save(dict(params={n: p.detach() for n, p in model.named_parameters()},
                        logged=logged), out_path)
    # Free DDP's reducer while its process group is alive: destroyed the other way round, a
    # gloo rank can hang at exit (seen here, in DDP's destructor after main returned).
    del ddp, log_vars
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
