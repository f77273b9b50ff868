"""Epoch schedules that follow the epoch count (Table 9: warm-up, then half-cycle cosine).

A config states ``warmup_epochs`` and ``train_cfg.max_epochs`` once; its ``param_scheduler``
is a warm-up entry and a decay entry, both ``by_epoch=True``, normally WITHOUT ``begin`` /
``end`` / ``T_max``::

    warmup_epochs = 4
    param_scheduler = [
        dict(type='LinearLR', start_factor=1e-3, by_epoch=True, convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, convert_to_iter_based=True),
    ]
    train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)

:func:`resolve_epoch_schedule` (called by ``MAViLRunner.from_cfg``) fills in
``[0, warmup_epochs)`` and ``[warmup_epochs, max_epochs)`` (and ``T_max`` of a cosine), so
``--cfg-options train_cfg.max_epochs=25`` stretches the cosine to 25 epochs. Values written
in the config that disagree with the epoch counts raise, naming the key: a schedule never
silently ends before (or after) training does.
"""
from typing import MutableMapping

# schedulers whose period is T_max (end - begin when unset)
_PERIODIC = ('CosineAnnealingLR', 'CosineAnnealingParamScheduler', 'CosineAnnealingMomentum')


def _set_or_check(entry: MutableMapping, key: str, value: int, where: str, why: str) -> None:
    given = entry.get(key)
    if given is not None and given != value:
        raise ValueError(f'{where}.{key}={given} disagrees with {why} (= {value}): the schedule '
                         f'would not follow the epoch count. Remove {key} (it is derived) or '
                         'make them agree.')
    entry[key] = value


def resolve_epoch_schedule(cfg: MutableMapping) -> None:
    """Fill / check the epoch bounds of ``cfg.param_scheduler`` in place (see module doc).

    Does nothing when the config has no ``warmup_epochs`` or no ``by_epoch`` scheduler (e.g.
    iteration-based test configs).
    """
    schedulers = cfg.get('param_scheduler')
    if 'warmup_epochs' not in cfg or not schedulers:
        return
    if isinstance(schedulers, MutableMapping):
        schedulers = [schedulers]
    by_epoch = [s for s in schedulers if s.get('by_epoch', True)]
    if not by_epoch:
        return
    warmup = cfg['warmup_epochs']
    max_epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
    if max_epochs is None:
        raise ValueError('warmup_epochs and epoch-based param_scheduler entries need '
                         'train_cfg.max_epochs (an EpochBasedTrainLoop)')
    if len(by_epoch) != 2:
        raise ValueError(f'an epoch schedule is [warm-up, decay]; got {len(by_epoch)} '
                         f'by_epoch entries in param_scheduler: {[s.get("type") for s in by_epoch]}')
    if not 0 < warmup < max_epochs:
        raise ValueError(f'warmup_epochs={warmup} must be in (0, train_cfg.max_epochs='
                         f'{max_epochs})')
    warm, decay = by_epoch
    _set_or_check(warm, 'begin', 0, 'param_scheduler[warm-up]', 'the start')
    _set_or_check(warm, 'end', warmup, 'param_scheduler[warm-up]', 'warmup_epochs')
    _set_or_check(decay, 'begin', warmup, 'param_scheduler[decay]', 'warmup_epochs')
    _set_or_check(decay, 'end', max_epochs, 'param_scheduler[decay]', 'train_cfg.max_epochs')
    if decay.get('type') in _PERIODIC:
        _set_or_check(decay, 'T_max', max_epochs - warmup, 'param_scheduler[decay]',
                      'max_epochs - warmup_epochs')
