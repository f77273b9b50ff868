"""MMEngine's loops, able to leave out a step whose batch lost its clips to unreadable media.

* Training: when a ``before_train_iter`` hook (``SkippedSampleHook``) calls
  :func:`request_skip` on the step's data, the model is not run and nothing is updated; the hooks still
  see the iteration (the step counter, schedules and checkpoints advance as usual). Every
  process must take the same decision (the hook agrees it across ranks), or DDP's collective
  operations would wait forever.
* Validation / testing: a batch with no readable clip is counted by the hooks and not run
  (there are no per-batch collectives there, so ranks need not agree).

Registered in the ``mavil`` scope under MMEngine's names too, so configs that say
``type='IterBasedTrainLoop'`` (or give ``max_iters`` / ``max_epochs`` only, see
``MAViLRunner``) get them.
"""
from typing import Optional

from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop

from mavil.registry import LOOPS
from mavil.structures import SKIPPED_KEY

SKIP_STEP = 'skip_step'  # data_batch key (attribute of MicroBatches): leave this step out


def request_skip(data_batch) -> None:
    """Ask the loop to leave out the step of ``data_batch`` (a dict, or MicroBatches)."""
    if isinstance(data_batch, dict):
        data_batch[SKIP_STEP] = True
    else:
        setattr(data_batch, SKIP_STEP, True)


def _take_skip_request(data_batch) -> bool:
    if isinstance(data_batch, dict):
        return bool(data_batch.pop(SKIP_STEP, False))
    return bool(getattr(data_batch, SKIP_STEP, False))


def _train_iter(runner, batch_idx: int, data_batch: dict) -> None:
    runner.call_hook('before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
    outputs: Optional[dict] = None
    if not _take_skip_request(data_batch):
        outputs = runner.model.train_step(data_batch, optim_wrapper=runner.optim_wrapper)
    runner.call_hook('after_train_iter', batch_idx=batch_idx, data_batch=data_batch,
                     outputs=outputs)


def _nothing_readable(data_batch) -> bool:
    return (isinstance(data_batch, dict) and SKIPPED_KEY in data_batch
            and not data_batch.get('data_samples'))


@LOOPS.register_module(name=['SkipAwareEpochBasedTrainLoop', 'EpochBasedTrainLoop'])
class SkipAwareEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that honours ``data_batch['skip_step']``."""
    honours_skip_step = True

    def run_iter(self, idx: int, data_batch: dict) -> None:
        _train_iter(self.runner, idx, data_batch)
        self._iter += 1


@LOOPS.register_module(name=['SkipAwareIterBasedTrainLoop', 'IterBasedTrainLoop'])
class SkipAwareIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that honours ``data_batch['skip_step']``."""
    honours_skip_step = True

    def run_iter(self, data_batch: dict) -> None:
        _train_iter(self.runner, self._iter, data_batch)
        self._iter += 1


class _SkipAwareEvalIter:
    """``run_iter`` of an evaluation loop that counts, but does not run, a batch without any
    readable clip (its hooks see it, with no outputs)."""
    mode: str  # 'val' | 'test': the hooks it calls

    def run_iter(self, idx: int, data_batch: dict) -> None:
        if not _nothing_readable(data_batch):
            return super().run_iter(idx, data_batch)
        self.runner.call_hook(f'before_{self.mode}_iter', batch_idx=idx, data_batch=data_batch)
        self.runner.call_hook(f'after_{self.mode}_iter', batch_idx=idx, data_batch=data_batch,
                              outputs=[])


@LOOPS.register_module(name=['SkipAwareValLoop', 'ValLoop'])
class SkipAwareValLoop(_SkipAwareEvalIter, ValLoop):
    """``ValLoop`` that counts, but does not run, a batch without any readable clip."""
    mode = 'val'


@LOOPS.register_module(name=['SkipAwareTestLoop', 'TestLoop'])
class SkipAwareTestLoop(_SkipAwareEvalIter, TestLoop):
    """``TestLoop`` that counts, but does not run, a batch without any readable clip."""
    mode = 'test'
