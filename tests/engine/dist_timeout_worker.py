"""Run by torch.distributed.run with 2 CPU processes: tiny stage-1 training where rank 1 stops
answering (sleeps) before iteration 2. Rank 0 must give up after env_cfg.dist_cfg.timeout and
write the error it raised, with the seconds it waited, to ``OUT.0``."""
import json
import os
import sys
import threading
import time

import torch.distributed as dist
from mmengine.config import Config
from mmengine.hooks import Hook

from mavil.engine import MAViLRunner
from mavil.engine.dist_timeout import CollectiveTimeoutError


class FreezeRank1(Hook):
    """Rank 1 sleeps before iteration 2; rank 0 notes when it starts that iteration."""
    started = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 1:
            if dist.get_rank() == 1:
                time.sleep(600)
            FreezeRank1.started = time.monotonic()


def main(config: str, work_dir: str, out: str, timeout: str) -> None:
    watchdog = threading.Timer(280, os._exit, (3, ))  # no rank outlives a failed test
    watchdog.daemon = True
    watchdog.start()
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.launcher = 'pytorch'
    cfg.env_cfg.dist_cfg = dict(backend='gloo', timeout=float(timeout))
    cfg.train_cfg.max_iters = 3
    runner = MAViLRunner.from_cfg(cfg)
    runner.register_hook(FreezeRank1(), 'LOWEST')
    try:
        runner.train()
    except CollectiveTimeoutError as err:
        with open(f'{out}.{dist.get_rank()}', 'w') as f:
            json.dump(dict(error=str(err), waited=time.monotonic() - FreezeRank1.started), f)
        raise


if __name__ == '__main__':
    main(*sys.argv[1:])
