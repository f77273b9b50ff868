"""Run under torchrun (2 processes, gloo): global-batch InfoNCE on each rank's half of a fixed
batch (rank 0 holds the first SPLIT rows, rank 1 the rest). Writes per-rank loss and the DDP-averaged gradient of a shared projection to OUT."""
import sys

import torch
import torch.distributed as dist

from mavil.models.losses import InfoNCELoss


def main(out_path: str, split: int) -> None:
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)  # identical full batch and projection on every rank
    audio, video = torch.randn(8, 16), torch.randn(8, 16)
    proj = torch.nn.Linear(16, 16)
    local = slice(0, split) if rank == 0 else slice(split, 8)  # rank 0 holds `split` rows
    loss_fn = InfoNCELoss(temperature=0.1)
    loss = loss_fn(proj(audio[local]), proj(video[local])).loss
    loss.backward()
    grad = proj.weight.grad.clone()
    dist.all_reduce(grad)  # what DDP does: average gradients over ranks
    grad /= world
    losses = [torch.zeros(()) for _ in range(world)]
    dist.all_gather(losses, loss.detach())
    if rank == 0:
        torch.save(dict(losses=torch.stack(losses), grad=grad), out_path)
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
