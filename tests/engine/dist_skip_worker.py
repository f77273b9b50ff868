"""Run by torch.distributed.run with 2 CPU processes: rank 0's batch lost all but one clip,
rank 1's is whole. Both must leave out the same step (SkippedSampleHook), and a NaN loss on
rank 1 only must stop both ranks (FiniteLossModel)."""
import json
import sys
from types import SimpleNamespace

import torch
import torch.distributed as dist

from mavil.engine import SkippedSampleHook
from mavil.engine.skipping import SKIP_STEP
from mavil.models.algorithms.base import FiniteLossModel
from mavil.structures import AVDataSample


class Tiny(FiniteLossModel):
    def forward(self, *args, **kwargs):
        raise NotImplementedError


def main(out: str) -> None:
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    logged = []
    runner = SimpleNamespace(iter=6, logger=SimpleNamespace(warning=logged.append),
                             message_hub=SimpleNamespace(update_scalar=lambda k, v: None))
    hook = SkippedSampleHook(max_skip_ratio=0.9, min_samples=100)
    samples = [AVDataSample(metainfo=dict(filename=f'r{rank}_{i}.mp4')) for i in range(4)]
    skipped = [dict(index=9, filename='bad.mp4', reason='corrupt')]
    batch = dict(data_samples=samples[:1] if rank == 0 else samples, skipped=skipped)
    hook.before_train_iter(runner, 6, batch)
    whole = dict(data_samples=samples, skipped=[])
    hook.before_train_iter(runner, 7, whole)

    loss = torch.tensor(float('nan') if rank == 1 else 1.0)
    try:
        Tiny().parse_losses({'loss_x': loss})
        nan_error = None
    except FloatingPointError as err:
        nan_error = str(err)
    with open(f'{out}.{rank}', 'w') as f:
        json.dump(dict(first_skipped=batch.get(SKIP_STEP, False),
                       second_skipped=whole.get(SKIP_STEP, False),
                       seen=hook.seen['train'], lost=hook.skipped['train'],
                       logged=logged, nan_error=nan_error), f)
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
