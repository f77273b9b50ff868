"""Chaining the pre-training stages (Sec. 3.3, Fig. 2): stage 1 on raw targets, then stage-2
iterations, each taught by the final model of the stage before.

One plan for every driver: ``tools/pretrain_pipeline.py`` runs each stage as a
``tools/train.py`` process (resumable), the demo runs them in-process. A stage's teacher is
given as config options: ``model.target.teacher_config`` = the previous stage's config file as
the command line names it, ``model.target.teacher_cfg_options.*`` = that stage's options,
``model.target.teacher_ckpt`` = its final checkpoint. The copy of a config that MMEngine dumps
into a work dir is never loaded (configs are Python: an edited copy would run its code), and
no config file is edited.
"""
import argparse
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mavil.engine  # noqa: F401  (registers MAViLRunner, hooks, optim wrappers)
from mavil.registry import RUNNERS
from .inference import load_config


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type`` (``MAViLRunner`` in our runtime) or MMEngine's Runner."""
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)


def parse_cfg_options(options: Sequence[str]) -> dict:
    """``['a.b=1', 'c=[1,2]']`` -> ``{'a.b': 1, 'c': [1, 2]}``, as ``--cfg-options`` parses."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o if options else {}


def final_checkpoint_name(cfg: Config, where: str) -> str:
    """The file name the CheckpointHook gives the last step of ``cfg``'s training schedule."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if not hook:
        raise ValueError(f'{where}: no default_hooks.checkpoint, so no final checkpoint')
    if hook.get('out_dir'):
        raise ValueError(f'{where}: default_hooks.checkpoint.out_dir is not supported here; '
                         'checkpoints must go to the stage work dir')
    train_cfg = cfg.get('train_cfg') or {}
    by_epoch = hook.get('by_epoch', True)
    if by_epoch and 'max_epochs' in train_cfg:
        step = train_cfg['max_epochs']
    elif not by_epoch and 'max_iters' in train_cfg:
        step = train_cfg['max_iters']
    else:
        raise ValueError(
            f'{where}: cannot tell the final checkpoint name from train_cfg={dict(train_cfg)} '
            f'and checkpoint by_epoch={by_epoch}; use max_epochs with by_epoch=True or '
            'max_iters with by_epoch=False')
    interval = hook.get('interval', -1)
    if hook.get('save_last', True) is False and (interval <= 0 or step % interval != 0):
        raise ValueError(f'{where}: default_hooks.checkpoint.save_last=False skips the final '
                         f'checkpoint ({step} is not a multiple of the interval) that the next '
                         'stage needs; set save_last=True')
    tmpl = hook.get('filename_tmpl') or ('epoch_{}.pth' if by_epoch else 'iter_{}.pth')
    return tmpl.format(step)


def teacher_options(teacher_config: str, teacher_ckpt: str,
                    teacher_cfg_options: Sequence[str] = ()) -> dict:
    """Config options that make a stage-2 config learn from this teacher: its config file,
    its checkpoint, and the ``KEY=VALUE`` options its stage was trained with (merged into the
    teacher config, as ``model.target.teacher_cfg_options.KEY``)."""
    options = {'model.target.teacher_config': teacher_config,
               'model.target.teacher_ckpt': teacher_ckpt}
    for option in teacher_cfg_options:
        key, _, value = option.partition('=')
        options[f'model.target.teacher_cfg_options.{key}'] = value
    return options


@dataclass
class Stage:
    """One training run of the chain.

    Attributes:
        name: 'stage1' or 'stage2_iter{k}'.
        config: the config file it trains.
        work_dir: its checkpoints and logs.
        final_ckpt: absolute path of its final checkpoint (its presence = the stage is done).
        cfg_options: ``KEY=VALUE`` overrides (``--cfg-options`` form), teacher excluded.
        teacher: the stage whose final model teaches this one (None for stage 1).
    """
    name: str
    config: str
    work_dir: str
    final_ckpt: str
    cfg_options: list[str] = field(default_factory=list)
    teacher: Optional['Stage'] = None

    def teacher_options(self) -> list[str]:
        """``KEY=VALUE`` options naming its teacher (none for stage 1)."""
        if self.teacher is None:
            return []
        options = teacher_options(osp.abspath(self.teacher.config), self.teacher.final_ckpt,
                                  self.teacher.cfg_options)
        return [f'{key}={value}' for key, value in options.items()]

    def load_config(self, extra: Optional[dict] = None) -> Config:
        """The stage's Config: its file, its options, its teacher, then ``extra``."""
        options = parse_cfg_options(self.cfg_options + self.teacher_options())
        cfg = load_config(self.config, dict(options, **(extra or {})))
        cfg.work_dir = self.work_dir
        return cfg

    def latest_checkpoint(self) -> Optional[str]:
        """The newest checkpoint of its work dir (None: nothing to resume). By modification
        time rather than MMEngine's ``last_checkpoint`` file, which a kill right after a save
        may not have updated; checkpoints are renamed into place once complete."""
        if not osp.isdir(self.work_dir):
            return None
        found = [osp.join(self.work_dir, f) for f in os.listdir(self.work_dir)
                 if f.endswith('.pth')]
        return max(found, key=osp.getmtime) if found else None

    def summary(self) -> dict:
        return dict(name=self.name, config=self.config, work_dir=self.work_dir,
                    final_ckpt=self.final_ckpt,
                    teacher_ckpt=self.teacher.final_ckpt if self.teacher else None)


def default_stage2_configs(stage1_config: str) -> list[str]:
    """``stage2_iter1.py``, ``stage2_iter2.py`` ... next to the stage-1 config (those that
    exist, in order)."""
    folder = osp.dirname(stage1_config)
    found, k = [], 1
    while osp.isfile(osp.join(folder, f'stage2_iter{k}.py')):
        found.append(osp.join(folder, f'stage2_iter{k}.py'))
        k += 1
    return found


def plan_stages(stage1_config: str,
                iters: int,
                work_root: str,
                *,
                stage2_configs: Optional[Sequence[str]] = None,
                cfg_options: Sequence[str] = (),
                stage2_cfg_options: Sequence[str] = ()) -> list[Stage]:
    """Stage 1 and ``iters`` stage-2 iterations under ``work_root/<stage name>``.

    Args:
        stage1_config: the stage-1 config file.
        iters: number of stage-2 iterations (paper: 3).
        work_root: parent of the stage work dirs.
        stage2_configs: config of each iteration; the last is reused past its end (the
            teacher is overridden anyway). Default: :func:`default_stage2_configs`.
        cfg_options: ``KEY=VALUE`` overrides of every stage.
        stage2_cfg_options: overrides of the stage-2 iterations only.
    """
    stage2 = list(stage2_configs or default_stage2_configs(stage1_config))
    if iters > 0 and not stage2:
        raise FileNotFoundError(f'no stage-2 config: none of {osp.dirname(stage1_config)}/'
                                'stage2_iter*.py exists; give the stage-2 configs')
    work_root = osp.abspath(work_root)
    runs = [('stage1', stage1_config, list(cfg_options))] + [
        (f'stage2_iter{k}', stage2[min(k, len(stage2)) - 1],
         list(cfg_options) + list(stage2_cfg_options)) for k in range(1, iters + 1)]
    stages: list[Stage] = []
    for name, config, options in runs:
        if not osp.isfile(config):
            raise FileNotFoundError(f'{name}: config not found: {config}')
        work_dir = osp.join(work_root, name)
        cfg = load_config(config, parse_cfg_options(options))
        final = osp.join(work_dir, final_checkpoint_name(cfg, f'{name} ({config})'))
        teacher = stages[-1] if stages else None  # the previous stage's final model
        stages.append(Stage(name, config, work_dir, final, options, teacher))
    return stages


# Settings every stage of one chain shares: a pre-training ablation cell (Tables 5 and 13:
# data, init, epochs, model size, alpha, beta) changes them for the final model, so for all
# stages; a stage-2 config that inherits other values would train another cell.
CHAIN_KEYS = ('model.inter_loss', 'model.intra_loss', 'model.audio_encoder.arch',
              'model.video_encoder.arch', 'model.fusion', 'model.video_encoder.init_cfg',
              'train_cfg.max_epochs', 'train_cfg.max_iters', 'train_dataloader.dataset')
_ABSENT = '<not set>'


def _lookup(cfg: Config, key: str):
    value = cfg.to_dict()
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _diff(have, want, key: str) -> list[tuple]:
    """``(key, have, want)`` for each place the two values differ, descending into dicts."""
    if isinstance(have, dict) and isinstance(want, dict) and \
            have.get('type') == want.get('type'):  # of one kind: compare their settings
        return [d for k in sorted(set(have) | set(want), key=str)
                for d in _diff(have.get(k, _ABSENT), want.get(k, _ABSENT), f'{key}.{k}')]
    return [] if have == want else [(key, have, want)]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def chain_differences(stages: Sequence[Stage], allowed: Sequence[str] = ()) -> dict:
    """``{(key, stage-2 value, stage-1 value): [stage names]}`` for the :data:`CHAIN_KEYS`
    settings of the stage-2 stages (every option applied) that differ from stage 1's; keys
    equal to or below one of ``allowed`` are left out."""
    found: dict = {}
    if len(stages) < 2:
        return found
    first = stages[0].load_config()
    for stage in stages[1:]:
        cfg = stage.load_config()
        for key in CHAIN_KEYS:
            for leaf, have, want in _diff(_lookup(cfg, key), _lookup(first, key), key):
                if not any(leaf == a or leaf.startswith(f'{a}.') for a in allowed):
                    found.setdefault((leaf, _short(have), _short(want)), []).append(stage.name)
    return found


def check_chain(stages: Sequence[Stage], allowed: Sequence[str] = ()) -> None:
    """Refuse a chain whose stage-2 stages would train with other :data:`CHAIN_KEYS` settings
    than its stage 1 (e.g. an ablation cell's alpha in stage 1 only, or a ViT-L teacher with
    ViT-B students), naming each setting and the options that align them."""
    found = chain_differences(stages, allowed)
    if not found:
        return
    first = stages[0].load_config()
    lines = [f'{", ".join(names)}: {key} = {have} (stage 1: {want})'
             for (key, have, want), names in found.items()]
    keys = sorted({key for key, _, _ in found})
    values = {key: _lookup(first, key) for key in keys}
    simple = all(isinstance(v, (int, float, str, type(None))) and v != _ABSENT and
                 not (isinstance(v, str) and (not v or any(c.isspace() for c in v)))
                 for v in values.values())
    fix = ('add --stage2-cfg-options ' + ' '.join(f'{k}={v}' for k, v in values.items())
           if simple else 'give stage-2 configs with these settings')
    raise ValueError(
        f'the stage-2 stages would train with settings other than stage 1\'s '
        f'({stages[0].config}), which every stage of a chain shares (an ablation cell of '
        f'Tables 5 / 13 is the final model\'s setting):\n  ' + '\n  '.join(lines) +
        f'\nTo train the cell: {fix}; or pass --allow-stage-differences KEY ... for a '
        f'difference you intend')
