"""Hooks: counting (and limiting) clips skipped because their media is unusable."""
from typing import Optional

from mmengine.hooks import Hook

from mavil.registry import HOOKS
from mavil.structures import SKIPPED_KEY, MicroBatches


@HOOKS.register_module()
class SkippedSampleHook(Hook):
    """Counts the ``skipped`` entries ``av_collate`` puts in each batch.

    Every skipped clip is logged with its file and reason; the running count is logged as
    ``skipped_samples``; training stops with a clear error once more than ``max_skip_ratio``
    of the samples seen (after ``min_samples``) were skipped. Evaluation skips are reported
    at the end of each evaluation.
    """
    priority = 'VERY_HIGH'

    def __init__(self, *, max_skip_ratio: float = 0.01, min_samples: int = 200) -> None:
        if not 0 <= max_skip_ratio < 1:
            raise ValueError(f'max_skip_ratio must be in [0, 1), got {max_skip_ratio}')
        self.max_skip_ratio = max_skip_ratio
        self.min_samples = min_samples
        self.seen = {'train': 0, 'val': 0, 'test': 0}
        self.skipped = {'train': 0, 'val': 0, 'test': 0}

    def _count(self, runner, data_batch: Optional[dict], mode: str) -> None:
        if not isinstance(data_batch, dict) or SKIPPED_KEY not in data_batch:
            return
        skipped = data_batch[SKIPPED_KEY]
        self.seen[mode] += len(data_batch.get('data_samples') or []) + len(skipped)
        self.skipped[mode] += len(skipped)
        for item in skipped:
            runner.logger.warning(f'skipped unreadable clip {item["filename"]}: '
                                  f'{item["reason"]}')
        if mode != 'train':
            return
        runner.message_hub.update_scalar('train/skipped_samples', self.skipped['train'])
        ratio = self.skipped['train'] / max(self.seen['train'], 1)
        if self.seen['train'] >= self.min_samples and ratio > self.max_skip_ratio:
            raise RuntimeError(
                f'{self.skipped["train"]} of {self.seen["train"]} training clips ({ratio:.1%}) '
                f'were unreadable, above max_skip_ratio={self.max_skip_ratio:.1%}; check the '
                'data (tools/data/build_annotations.py lists bad files) or raise the limit')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # exact contrast accumulation hands the loop all micro-batches of a step at once
        for batch in (data_batch if isinstance(data_batch, MicroBatches) else [data_batch]):
            self._count(runner, batch, 'train')

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._count(runner, data_batch, 'val')

    def before_test_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._count(runner, data_batch, 'test')

    def _report(self, runner, mode: str) -> None:
        if self.skipped[mode]:
            runner.logger.warning(f'{mode}: {self.skipped[mode]} of {self.seen[mode]} clips '
                                  'were unreadable and left out of the metrics')
        self.seen[mode] = self.skipped[mode] = 0

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'test')
