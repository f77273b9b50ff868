"""A CheckpointHook that never leaves a run without a whole checkpoint.

MMEngine 0.10.7's ``CheckpointHook`` deletes the oldest checkpoint *before* writing the new
one and writes ``last_checkpoint`` in place: with ``max_keep_ckpts=1`` a kill during the save
leaves no checkpoint, and a kill during the pointer write leaves an empty pointer. Here:

1. the new checkpoint is written (``NAME.tmp``, renamed into place by ``MAViLRunner``);
2. ``last_checkpoint`` is replaced atomically;
3. only then are checkpoints beyond ``max_keep_ckpts`` (and a superseded best one) deleted.

``*.pth.tmp`` files left by a crash are removed before training starts. Registered in the
``mavil`` scope under MMEngine's name ``CheckpointHook`` too, so every config of this project
gets it; keyword arguments are MMEngine's.
"""
import os.path as osp
from collections import deque

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mavil.weights.checkpoint_io import atomic_write_text, remove_stale_temporaries
from mavil.registry import HOOKS
from .config_check import check_checkpoint_hook_kwargs
from .resume import LAST_CHECKPOINT


class _DeferredRemovals:
    """File-backend proxy that records ``remove``/``rmtree`` calls instead of running them."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.pending: list[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)

    def run(self) -> None:
        for path in self.pending:
            if self._backend.isfile(path):
                self._backend.remove(path)
            elif self._backend.isdir(path):  # DeepSpeed checkpoints are folders
                self._backend.rmtree(path)


@HOOKS.register_module(name=['AtomicCheckpointHook', 'CheckpointHook'])
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's CheckpointHook with crash-safe ordering (see the module docstring).
    Unknown keyword arguments are an error here, not at the first save."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        check_checkpoint_hook_kwargs(self.args)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process():
            for path in remove_stale_temporaries(self.out_dir):
                runner.logger.warning(f'removed {path}, a partial checkpoint left by a crash '
                                      'during a save')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        removals = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            kept = list(self.keep_ckpt_ids) + [step]
            removals = [self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(s))
                        for s in kept[:-self.max_keep_ckpts]]
            self.keep_ckpt_ids = deque(kept[-self.max_keep_ckpts:], self.max_keep_ckpts)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, LAST_CHECKPOINT), self.last_ckpt)
        deferred = _DeferredRemovals(self.file_backend)
        for path in removals:
            deferred.remove(path)
        deferred.run()

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:  # MMEngine sets key_indicators only with save_best
            return
        # MMEngine deletes the previous best checkpoint before writing the new one
        backend, deferred = self.file_backend, _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        current = ([self.best_ckpt_path] if len(self.key_indicators) == 1 else
                   list(self.best_ckpt_path_dict.values()))
        deferred.pending = [p for p in deferred.pending if p not in current]
        if is_main_process():
            deferred.run()
