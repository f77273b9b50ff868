"""Clips whose media is unusable, at run time: ``SkippedSampleHook`` counts, logs and limits
them and decides when a training step is left out; MMEngine's loops, made skip-aware, honour
that decision.

* Training: when the hook (a ``before_train_iter`` hook) calls :func:`request_skip` on the
  step's data, the model is not run and nothing is updated; the hooks still see the iteration
  (the step counter, schedules and checkpoints advance as usual). Every process must take the
  same decision (the hook agrees it across ranks), or DDP's collective operations would wait
  forever.
* Validation / testing: a batch with no readable clip is counted by the hook and not run
  (there are no per-batch collectives there, so ranks need not agree).

The loops are registered in the ``mavil`` scope under MMEngine's names too, so configs that
say ``type='IterBasedTrainLoop'`` (or give ``max_iters`` / ``max_epochs`` only, see
``MAViLRunner``) get them.
"""
from collections import Counter
from typing import Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop

from mavil.registry import HOOKS, LOOPS
from mavil.structures import SKIPPED_KEY, MicroBatches

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


@HOOKS.register_module()
class SkippedSampleHook(Hook):
    """Counts, logs and limits the clips ``av_collate`` set aside (``data_batch['skipped']``).

    * Every skipped clip is logged with the step, its file and the reason (each line is unique,
      so MMEngine's filter of repeated warnings does not hide a clip skipped again); the
      running count is logged as ``skipped_samples``; each epoch ends with a summary of the
      files skipped in it.
    * A training step whose batch has no readable clip left, or fewer than
      ``min_batch_size`` after skips (the contrastive losses need 2), is left out: no forward,
      no update (the skip-aware loops honour it); it is logged with its files and counted as
      ``skipped_steps``, and its readable clips count as skipped too. Under DDP all processes
      agree (one small all-reduce per step), so every rank leaves out the same step.
    * Training stops with a clear error once more than ``max_skip_ratio`` of the clips seen
      (over all processes, after ``min_samples``) were skipped.
    * Evaluation skips are reported at the end of each evaluation.

    Args:
        max_skip_ratio: largest tolerated fraction of skipped training clips.
        min_samples: clips to see before the ratio is enforced.
        min_batch_size: fewest readable clips a batch that lost clips may train on.
    """
    priority = 'VERY_HIGH'

    def __init__(self, *, max_skip_ratio: float = 0.01, min_samples: int = 200,
                 min_batch_size: int = 2) -> None:
        if not 0 <= max_skip_ratio < 1:
            raise ValueError(f'max_skip_ratio must be in [0, 1), got {max_skip_ratio}')
        if min_batch_size < 1:
            raise ValueError(f'min_batch_size must be >= 1, got {min_batch_size}')
        self.max_skip_ratio = max_skip_ratio
        self.min_samples = min_samples
        self.min_batch_size = min_batch_size
        self.seen = {'train': 0, 'val': 0, 'test': 0}
        self.skipped = {'train': 0, 'val': 0, 'test': 0}
        self.skipped_steps = 0
        self.epoch_files: Counter = Counter()  # (filename, reason) -> times, this epoch

    def before_train(self, runner) -> None:
        if not getattr(runner.train_loop, 'honours_skip_step', False):
            raise TypeError(f'SkippedSampleHook needs a skip-aware training loop, got '
                            f'{type(runner.train_loop).__name__}; use mavil\'s '
                            'IterBasedTrainLoop / EpochBasedTrainLoop (default_scope="mavil")')

    def _log_skips(self, runner, skipped: list, where: str) -> None:
        for item in skipped:
            runner.logger.warning(f'{where}: skipped unreadable clip {item["filename"]}: '
                                  f'{item["reason"]}')
            self.epoch_files[(item['filename'], item['reason'])] += 1

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # exact contrast accumulation hands the loop all micro-batches of a step at once
        batches = [b for b in (data_batch if isinstance(data_batch, MicroBatches) else
                               [data_batch]) if isinstance(b, dict) and SKIPPED_KEY in b]
        if not batches:
            return
        step = runner.iter + 1
        skipped = [item for b in batches for item in b[SKIPPED_KEY]]
        samples = [s for b in batches for s in (b.get('data_samples') or [])]
        readable = len(samples)
        too_few = (any(not b.get('data_samples') for b in batches)
                   or (bool(skipped) and readable < self.min_batch_size))
        # [clips, skipped clips, processes with too few readable clips], summed over ranks
        counts = torch.tensor([readable + len(skipped), len(skipped), int(too_few)],
                              dtype=torch.float64)
        if get_world_size() > 1:
            all_reduce(counts, op='sum')
        seen, lost, ranks_too_few = (int(v) for v in counts.tolist())
        self._log_skips(runner, skipped, f'step {step}')
        if ranks_too_few:
            request_skip(data_batch)
            lost = seen  # none of this step's clips is trained on
            self.skipped_steps += 1
            files = [s.metainfo.get('filename', '?') for s in samples]
            why = (f'{readable} readable clip(s) left ({", ".join(files) or "none"}) after '
                   f'{len(skipped)} skipped, fewer than min_batch_size={self.min_batch_size}'
                   if too_few else 'another process has too few readable clips')
            runner.logger.warning(f'step {step}: step skipped without an update: {why} '
                                  f'(skipped steps so far: {self.skipped_steps})')
        self.seen['train'] += seen
        self.skipped['train'] += lost
        runner.message_hub.update_scalar('train/skipped_samples', self.skipped['train'])
        runner.message_hub.update_scalar('train/skipped_steps', self.skipped_steps)
        ratio = self.skipped['train'] / max(self.seen['train'], 1)
        if self.seen['train'] >= self.min_samples and ratio > self.max_skip_ratio:
            raise RuntimeError(
                f'{self.skipped["train"]} of {self.seen["train"]} training clips ({ratio:.1%}) '
                f'were skipped (unreadable, or left out with {self.skipped_steps} steps that '
                f'had too few readable clips), above max_skip_ratio={self.max_skip_ratio:.1%}; '
                'check the data (tools/data/build_annotations.py lists bad files) or raise '
                'the limit')

    def after_train_epoch(self, runner) -> None:
        if self.epoch_files:
            listing = '; '.join(f'{name} ({reason})' + (f' x{n}' if n > 1 else '')
                                for (name, reason), n in sorted(self.epoch_files.items()))
            runner.logger.warning(
                f'epoch {runner.epoch + 1}: {sum(self.epoch_files.values())} clip(s) skipped '
                f'({len(self.epoch_files)} distinct), {self.skipped_steps} step(s) skipped so '
                f'far: {listing}')
        self.epoch_files.clear()

    def _count_eval(self, runner, batch_idx: int, data_batch: Optional[dict],
                    mode: str) -> None:
        if not isinstance(data_batch, dict) or SKIPPED_KEY not in data_batch:
            return
        skipped = data_batch[SKIPPED_KEY]
        self.seen[mode] += len(data_batch.get('data_samples') or []) + len(skipped)
        self.skipped[mode] += len(skipped)
        for item in skipped:
            runner.logger.warning(f'{mode} batch {batch_idx}: skipped unreadable clip '
                                  f'{item["filename"]}: {item["reason"]}')

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._count_eval(runner, batch_idx, data_batch, 'val')

    def before_test_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._count_eval(runner, batch_idx, data_batch, 'test')

    def _report(self, runner, mode: str) -> None:
        if self.skipped[mode]:
            runner.logger.warning(f'{mode}: {self.skipped[mode]} of {self.seen[mode]} clips '
                                  'were unreadable and left out of the metrics')
        self.seen[mode] = self.skipped[mode] = 0

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'test')
