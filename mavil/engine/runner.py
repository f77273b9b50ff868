"""MMEngine Runner with the fixes this stack needs (DESIGN.md §6).

* CPU distributed training: MMEngine 0.10.7 calls ``torch.cuda.set_device`` in ``init_dist``
  and passes ``device_ids`` to DDP unconditionally; without CUDA we start a gloo process group
  ourselves and wrap the model without device ids.
* ``env_cfg.dist_cfg.timeout`` (default 300 s) applies on every backend, gloo included; a
  collective that times out raises an error naming the rank and the collective.
* One training run per work dir (:mod:`.work_dir_lock`): a second writer is refused.
* torch >= 2.6 loading: weights-only for ``load_from`` and for resuming (a checkpoint can
  carry code that unpickling runs); full unpickling only with ``unsafe_load=True``
  (``--unsafe-load``).
* A checkpoint is loaded only if it fits the model: shape mismatches, or trainable
  parameters the file lacks, are an error listing them (not pages of warnings and a run
  with random weights).
* Atomic checkpoint writes: a kill during a save leaves the previous checkpoint intact
  (with :class:`AtomicCheckpointHook`, which deletes old checkpoints only afterwards).
  Auto-resume (``--resume`` without a path) takes the newest checkpoint that loads, also
  when ``last_checkpoint`` names a missing or broken file, and says so.
* ``total_batch_size`` (e.g. 512): the global batch per optimizer step; gradient accumulation
  fills the gap between it and per-GPU batch x GPUs, and ``auto_scale_lr`` scales by it.
* ``exact_contrast``: with accumulation, the contrastive losses still see the whole step's
  batch (two-pass step, :mod:`mavil.engine.accumulation`); the loader then yields the
  micro-batches of one step together and one iteration is one optimizer step.
"""
import contextlib
import copy
import datetime
import logging
import os
import os.path as osp
from typing import Callable, Iterator, Optional, Union

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.dist import is_distributed, master_only
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mavil.checkpoint_io import (check_pos_layouts, fsync_file, load_checkpoint_file,
                                 plain_data_message_hub, pos_layouts, recorded_pos_layouts,
                                 remove_stale_temporaries)
from mavil.registry import MODEL_WRAPPERS, RUNNERS
from mavil.structures import MicroBatches
from .accumulation import MicroBatchLoader, contrast_batch_note, resolve_exact_contrast
from .config_check import check_env_cfg, check_top_level_keys
from .dist_timeout import DEFAULT_TIMEOUT, naming_timeouts, resolve_timeout
from .resume import check_checkpoint_fits, check_complete_load, newest_intact_checkpoint
from .schedules import resolve_epoch_schedule
from .work_dir_lock import WorkDirLock, WorkDirLockedError


@MODEL_WRAPPERS.register_module()
class CPUCompatibleDDP(MMDistributedDataParallel):
    """MMDistributedDataParallel that drops ``device_ids`` when CUDA is unavailable, and hands
    the :class:`MicroBatches` of an exact-contrast step to the model (the default wrapper of
    ``MAViLRunner`` on CPU and CUDA)."""
    supports_micro_batches = True

    def __init__(self, module, device_ids: Optional[list] = None, **kwargs) -> None:
        if not torch.cuda.is_available():
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)

    def train_step(self, data, optim_wrapper):
        if isinstance(data, MicroBatches):
            return self.module.train_step(data, optim_wrapper, ddp=self)
        return super().train_step(data, optim_wrapper)


class _TextCachingConfig(Config):
    """A Config whose ``pretty_text`` (yapf formatting, ~1 s, done at start and at every
    checkpoint save) is computed once per distinct content."""

    @property
    def pretty_text(self) -> str:
        key = repr(self._cfg_dict)
        cached = self.__dict__.get('_pretty_text_cache')
        if cached is None or cached[0] != key:
            cached = (key, super().pretty_text)
            object.__setattr__(self, '_pretty_text_cache', cached)
        return cached[1]


@RUNNERS.register_module()
class MAViLRunner(Runner):

    @property
    def cfg(self) -> Config:
        return self._cfg

    @cfg.setter
    def cfg(self, value: Config) -> None:
        if type(value) is Config:
            object.__setattr__(value, '__class__', _TextCachingConfig)
        self._cfg = value

    @classmethod
    def from_cfg(cls, cfg) -> 'MAViLRunner':
        """Misspelt top-level and ``env_cfg`` keys are refused (:mod:`.config_check`);
        scheduler bounds follow ``warmup_epochs`` / ``train_cfg.max_epochs``
        (:func:`~mavil.engine.schedules.resolve_epoch_schedule`); then MMEngine's build."""
        check_top_level_keys(cfg, getattr(cfg, 'filename', None) or 'config')
        check_env_cfg(cfg, getattr(cfg, 'filename', None) or 'config')
        cfg = copy.deepcopy(cfg)
        resolve_epoch_schedule(cfg)
        return super().from_cfg(cfg)

    def setup_env(self, env_cfg: dict) -> None:
        """``env_cfg.dist_cfg.timeout`` (seconds, default 300) bounds every collective on
        every backend, so a frozen rank stops the others with an error, not a 30-min wait."""
        self._dist_timeout = resolve_timeout(env_cfg)
        env_cfg = dict(env_cfg, dist_cfg=dict(env_cfg.get('dist_cfg') or {},
                                              timeout=self._dist_timeout))
        if self.distributed and not is_distributed() and not torch.cuda.is_available():
            if self.launcher != 'pytorch':
                raise RuntimeError(f'launcher {self.launcher!r} without CUDA is not supported; '
                                   'use torchrun (launcher=pytorch) for CPU runs')
            # env:// rendezvous from torchrun's RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT
            dist.init_process_group(backend='gloo',
                                    timeout=datetime.timedelta(seconds=self._dist_timeout))
        super().setup_env(env_cfg)

    _dist_timeout: float = DEFAULT_TIMEOUT

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        if self.distributed and model_wrapper_cfg is None and not is_model_wrapper(model):
            model_wrapper_cfg = dict(
                type='mavil.CPUCompatibleDDP', broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    def _loader_batch_size(self) -> int:
        loader = self._train_dataloader
        return loader['batch_size'] if isinstance(loader, dict) else loader.batch_size

    def accumulation_count(self) -> int:
        """Micro-batches per optimizer step: total_batch_size / (per-GPU batch x processes),
        else the optimizer wrapper's ``accumulative_counts`` (1 by default)."""
        total = self.cfg.get('total_batch_size')
        if total is None:
            wrapper = self.cfg.get('optim_wrapper')
            return int(wrapper.get('accumulative_counts', 1)) if isinstance(wrapper, dict) else 1
        per_step = self._loader_batch_size() * self.world_size
        if total % per_step != 0:
            raise ValueError(f'total_batch_size={total} is not a multiple of batch_size '
                             f'{self._loader_batch_size()} x {self.world_size} processes')
        return total // per_step

    @property
    def exact_contrast(self) -> bool:
        """Whether optimizer steps run the two-pass exact contrast (config ``exact_contrast``)."""
        if not hasattr(self, '_exact_contrast'):
            model = self.model.module if is_model_wrapper(self.model) else self.model
            self._exact_contrast = resolve_exact_contrast(
                self.cfg.get('exact_contrast'), self.accumulation_count(), model)
        return self._exact_contrast

    def build_train_loop(self, loop):
        """With exact contrast, the loop's loader yields the micro-batches of one step."""
        if isinstance(loop, dict) and self._train_dataloader is not None:
            model = self.model.module if is_model_wrapper(self.model) else self.model
            if getattr(model, 'has_contrast', False):
                note = contrast_batch_note(self._loader_batch_size(), self.world_size,
                                           self.accumulation_count(), self.exact_contrast)
                self.logger.log(logging.INFO if self.exact_contrast or
                                self.accumulation_count() == 1 else logging.WARNING, note)
            if self.exact_contrast:
                if is_model_wrapper(self.model) and not getattr(self.model,
                                                                'supports_micro_batches', False):
                    raise ValueError(f'exact_contrast needs a model wrapper that hands micro-'
                                     f'batches to the model (mavil.CPUCompatibleDDP); '
                                     f'model_wrapper_cfg builds {type(self.model).__name__}')
                loader = self._train_dataloader
                if isinstance(loader, dict):
                    loader = self.build_dataloader(
                        loader, seed=self.seed,
                        diff_rank_seed=self._randomness_cfg.get('diff_rank_seed', False))
                self._train_dataloader = MicroBatchLoader(loader, self.accumulation_count())
                self.logger.info(f'exact contrast: one iteration = one optimizer step of '
                                 f'{self.accumulation_count()} micro-batches')
        if isinstance(loop, dict) and 'type' not in loop and 'by_epoch' in loop:
            loop = dict(loop)  # MMEngine would build its own loop class directly
            by_epoch = loop.pop('by_epoch')
            loop['type'] = ('mavil.SkipAwareEpochBasedTrainLoop' if by_epoch else
                            'mavil.SkipAwareIterBasedTrainLoop')
        return super().build_train_loop(loop)

    def build_optim_wrapper(self, optim_wrapper):
        if isinstance(optim_wrapper, dict) and (self.cfg.get('total_batch_size') is not None
                                                or self.exact_contrast):
            # exact contrast accumulates inside the model's step: one update per iteration
            counts = 1 if self.exact_contrast else self.accumulation_count()
            optim_wrapper = dict(optim_wrapper, accumulative_counts=counts)
        return super().build_optim_wrapper(optim_wrapper)

    def scale_lr(self, optim_wrapper, auto_scale_lr: Optional[dict] = None) -> None:
        """lr = base lr x (batch per optimizer step) / base_batch_size, counting accumulation."""
        if auto_scale_lr is None or not auto_scale_lr.get('enable', False):
            return
        accumulation = self.accumulation_count()
        real_batch = self.world_size * self._loader_batch_size() * accumulation
        ratio = real_batch / auto_scale_lr['base_batch_size']
        self.logger.info(f'global batch per step {real_batch} (accumulation {accumulation}): '
                         f'scaling lr by {ratio:g}')
        for group in optim_wrapper.optimizer.param_groups:
            group['lr'] = group['lr'] * ratio

    def build_val_loop(self, loop):
        if isinstance(loop, dict) and 'type' not in loop:
            loop = dict(loop, type='mavil.SkipAwareValLoop')
        return super().build_val_loop(loop)

    def build_test_loop(self, loop):
        if isinstance(loop, dict) and 'type' not in loop:
            loop = dict(loop, type='mavil.SkipAwareTestLoop')
        return super().build_test_loop(loop)

    def train(self):
        """Check the files the model's ``init_cfg`` needs (e.g. the IN-SSL image checkpoint)
        before building data loaders, then train."""
        from mavil.models.pretrained import check_init_checkpoints
        check_init_checkpoints(self.model)
        with naming_timeouts(self._dist_timeout), self._work_dir_lock():
            return super().train()

    @contextlib.contextmanager
    def _work_dir_lock(self) -> Iterator[None]:
        """Rank 0 holds ``work_dir/work_dir.lock`` while training; every rank stops when
        another run holds it."""
        lock, refusal = WorkDirLock(self.work_dir), [None]
        if self.rank == 0:
            try:
                lock.acquire(self.logger.warning)
            except WorkDirLockedError as err:
                refusal = [str(err)]
        if is_distributed():
            dist.broadcast_object_list(refusal, src=0)
        if refusal[0] is not None:
            raise WorkDirLockedError(refusal[0])
        try:
            yield
        finally:
            lock.release()

    def val(self) -> dict:
        with naming_timeouts(self._dist_timeout):
            return super().val()

    def test(self) -> dict:
        with naming_timeouts(self._dist_timeout):
            return super().test()

    def load_or_resume(self) -> None:
        """MMEngine's, except that auto-resume (``resume=True`` without ``load_from``) takes
        the newest checkpoint of the work dir that loads (see :mod:`.resume`)."""
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        for path in remove_stale_temporaries(self.work_dir):
            self.logger.warning(f'removed {path}, a partial checkpoint left by a crash')
        found = newest_intact_checkpoint(self.work_dir, self._load_trusted_file,
                                         self.logger.warning)
        if found is None:
            self.logger.warning(f'resume: no checkpoint in {self.work_dir}; training from '
                                'the start')
            return
        path, checkpoint = found
        self.logger.info(f'Auto-resuming from {path}')
        self._preloaded = (path, checkpoint)
        try:
            self.resume(path)
        finally:
            self._preloaded = None
        self._has_loaded = True

    _preloaded: Optional[tuple] = None
    _complete_weights_needed = False

    def test(self, *, allow_partial: bool = False) -> dict:
        """MMEngine's test; the checkpoint (``load_from``) must hold every trainable weight
        of the model, e.g. a fine-tuning head (a pre-training checkpoint leaves it random),
        unless ``allow_partial`` (``tools/test.py --allow-partial``)."""
        self._complete_weights_needed = not allow_partial
        try:
            return super().test()
        finally:
            self._complete_weights_needed = False

    def _load_trusted_file(self, filename: str, map_location='cpu') -> dict:
        return load_checkpoint_file(filename, map_location,
                                    trusted=bool(self.cfg.get('unsafe_load', False)),
                                    purpose='resuming' if self._resume else 'loading')

    def load_checkpoint(self, filename: str, map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False, revise_keys: list = [(r'^module.', '')]):
        if self._preloaded is not None and self._preloaded[0] == filename:
            checkpoint = self._preloaded[1]
        else:
            checkpoint = self._load_trusted_file(filename, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        check_pos_layouts(model, recorded_pos_layouts(checkpoint), filename)
        check_checkpoint_fits(model, checkpoint, filename, resuming=bool(self._resume))
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        if self._complete_weights_needed:
            check_complete_load(model, filename)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        """Write ``filename.tmp`` through MMEngine, then rename it into place; the file loads
        with ``weights_only=True`` and records the encoders' position-table layouts
        (``meta['pos_layouts']``). A failed write (disk full) removes the partial file and
        raises; the previous checkpoints are untouched."""
        tmp_name = f'{filename}.tmp'
        tmp_path = osp.join(out_dir, tmp_name)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if len(args) < 4:  # meta not given positionally: record the position-table layouts
            kwargs['meta'] = {**(kwargs.get('meta') or {}), 'pos_layouts': pos_layouts(model)}
        try:
            with plain_data_message_hub():
                super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
            fsync_file(tmp_path)
        except Exception as err:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise OSError(f'could not write checkpoint {osp.join(out_dir, filename)} '
                          f'({type(err).__name__}: {err}); the previous checkpoints are '
                          'intact, resume from them once the cause (e.g. a full disk) is '
                          'fixed') from err
        os.replace(tmp_path, osp.join(out_dir, filename))
