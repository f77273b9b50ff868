#!/usr/bin/env python
"""MAViL pre-training end to end: stage 1, then K stage-2 self-training iterations (Fig. 2).

    python tools/pretrain_pipeline.py configs/mavil/stage1.py --iters 3 [--gpus 8]
        [--work-root work_dirs] [--stage2-configs CFG ...] [--cfg-options k=v ...]
        [--stage2-cfg-options k=v ...] [--amp] [--dry-run]

Stages and work dirs (tools/train.py's defaults for configs/mavil/*, so the configs' default
teacher paths agree):
    stage1        WORK_ROOT/stage1          STAGE1_CONFIG, raw targets
    stage2_iterK  WORK_ROOT/stage2_iterK    teacher = the previous stage's final checkpoint

Each stage-2 run gets its teacher through --cfg-options (model.target.teacher_ckpt = the previous
stage's final checkpoint, model.target.teacher_config = the config that stage was trained with,
as dumped in its work dir), so no config file needs editing.

Re-running the same command continues a crashed pipeline: a stage whose final checkpoint exists
is skipped; a stage with partial checkpoints is resumed from its newest one (tools/train.py
--resume PATH); the rest run from scratch. "Final checkpoint" is the name the CheckpointHook
gives the last epoch / iteration of the stage's schedule (epoch_{max_epochs}.pth or
iter_{max_iters}.pth); it is written atomically, so its presence means the stage finished.

Stage-2 configs: by default stage2_iter1.py, stage2_iter2.py, ... next to the stage-1 config
(those that exist); iterations past the last one reuse it (the teacher is overridden anyway).

``main(argv)`` is importable (e.g. by a demo) and returns {stage name: final checkpoint}.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout

from mmengine.config import Config, DictAction  # noqa: E402

TRAIN_TOOL = osp.join(ROOT, 'tools', 'train.py')
DIST_TOOL = osp.join(ROOT, 'tools', 'dist_train.sh')


def log(msg: str) -> None:
    print(f'[pipeline] {msg}', flush=True)


@dataclass
class Stage:
    name: str  # stage1 | stage2_iter{k}
    config: str  # the config file given to tools/train.py
    work_dir: str
    final_ckpt: str  # absolute path of the final checkpoint
    cfg_options: list[str]  # raw k=v strings passed to tools/train.py (teacher excluded)
    teacher: Optional['Stage'] = None  # the stage whose final model teaches this one

    def teacher_options(self) -> list[str]:
        if self.teacher is None:
            return []
        return [f'model.target.teacher_config={teacher_config_of(self.teacher)}',
                f'model.target.teacher_ckpt={self.teacher.final_ckpt}']

    def summary(self) -> dict:
        return dict(name=self.name, config=self.config, work_dir=self.work_dir,
                    final_ckpt=self.final_ckpt,
                    teacher_ckpt=self.teacher.final_ckpt if self.teacher else None)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='MAViL stage 1 then K stage-2 iterations; re-run to resume')
    parser.add_argument('config', help='stage-1 config, e.g. configs/mavil/stage1.py')
    parser.add_argument('--iters', type=int, default=3, help='stage-2 iterations K (paper: 3)')
    parser.add_argument('--stage2-configs', nargs='+', default=None,
                        help='config of each stage-2 iteration; the last one is reused for '
                        'further iterations (default: stage2_iter*.py next to CONFIG)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per stage; > 1 launches tools/dist_train.sh')
    parser.add_argument('--work-root', default='work_dirs', help='parent of the stage work dirs')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='overrides for every stage (as tools/train.py --cfg-options)')
    parser.add_argument('--stage2-cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='overrides for the stage-2 iterations only, e.g. '
                        'model.target.target_type=M-Uni')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast for every stage')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan and the commands, run nothing')
    args = parser.parse_args(argv)
    if args.iters < 0:
        parser.error('--iters must be >= 0')
    if args.gpus < 1:
        parser.error('--gpus must be >= 1')
    return args


def default_stage2_configs(stage1_config: str) -> list[str]:
    folder = osp.dirname(stage1_config)
    found, k = [], 1
    while osp.isfile(osp.join(folder, f'stage2_iter{k}.py')):
        found.append(osp.join(folder, f'stage2_iter{k}.py'))
        k += 1
    return found


def load_config(path: str, cfg_options: list[str]) -> Config:
    cfg = Config.fromfile(path)
    if cfg_options:
        parsed = argparse.ArgumentParser()
        parsed.add_argument('--o', nargs='+', action=DictAction, default={})
        cfg.merge_from_dict(parsed.parse_args(['--o', *cfg_options]).o)
    return cfg


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


def plan(args: argparse.Namespace) -> list[Stage]:
    stage2 = args.stage2_configs or default_stage2_configs(args.config)
    if args.iters > 0 and not stage2:
        raise SystemExit(f'no stage-2 config: none of {osp.dirname(args.config)}/stage2_iter*.py '
                         'exists; pass --stage2-configs')
    work_root = osp.abspath(args.work_root)
    stages: list[Stage] = []
    configs = [('stage1', args.config, list(args.cfg_options))] + [
        (f'stage2_iter{k}', stage2[min(k, len(stage2)) - 1],
         list(args.cfg_options) + list(args.stage2_cfg_options))
        for k in range(1, args.iters + 1)]
    for name, config, options in configs:
        if not osp.isfile(config):
            raise SystemExit(f'{name}: config not found: {config}')
        work_dir = osp.join(work_root, name)
        final = final_checkpoint_name(load_config(config, options), f'{name} ({config})')
        teacher = stages[-1] if stages else None  # the previous stage's final model
        stages.append(Stage(name, config, work_dir, osp.join(work_dir, final), options, teacher))
    return stages


def teacher_config_of(stage: Stage) -> str:
    """The config ``stage`` was trained with: MMEngine's dump in its work dir (with every
    --cfg-options applied). Before that stage has run (dry run), its source config."""
    dumped = osp.join(stage.work_dir, osp.basename(stage.config))
    return dumped if osp.isfile(dumped) else osp.abspath(stage.config)


def latest_checkpoint(stage: Stage) -> Optional[str]:
    """The newest checkpoint of an unfinished stage, or None. By modification time rather than
    MMEngine's ``last_checkpoint`` file, which a kill right after a save may not have updated.
    Checkpoints are renamed into place once complete, so a ``.pth`` file is a whole one."""
    if not osp.isdir(stage.work_dir):
        return None
    found = [osp.join(stage.work_dir, f) for f in os.listdir(stage.work_dir)
             if f.endswith('.pth')]
    return max(found, key=osp.getmtime) if found else None


def command(stage: Stage, args: argparse.Namespace, resume: Optional[str]) -> list[str]:
    extra = ['--work-dir', stage.work_dir]
    if resume:
        extra += ['--resume', resume]
    if args.amp:
        extra.append('--amp')
    options = stage.cfg_options + stage.teacher_options()
    if options:
        extra += ['--cfg-options', *options]
    if args.gpus > 1:
        return ['bash', DIST_TOOL, stage.config, str(args.gpus), *extra]
    return [sys.executable, TRAIN_TOOL, stage.config, *extra]


def write_state(work_root: str, stages: list[Stage], status: dict[str, str]) -> None:
    os.makedirs(work_root, exist_ok=True)
    state = [dict(s.summary(), status=status.get(s.name, 'pending')) for s in stages]
    tmp = osp.join(work_root, 'pipeline.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, osp.join(work_root, 'pipeline.json'))


def run_stage(stage: Stage, args: argparse.Namespace) -> None:
    resume = latest_checkpoint(stage)
    cmd = command(stage, args, resume)
    log(f'{stage.name}: resuming from {resume}' if resume else
        f'{stage.name}: training in {stage.work_dir}')
    log('$ ' + ' '.join(cmd))
    if args.dry_run:
        return
    env = dict(os.environ)
    env.setdefault('PYTHON', sys.executable)  # dist_train.sh's interpreter
    env['PYTHONPATH'] = ROOT + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    start = time.time()
    proc = subprocess.run(cmd, cwd=os.getcwd(), env=env)
    if proc.returncode != 0:
        raise SystemExit(f'[pipeline] {stage.name} failed (exit {proc.returncode}); fix the '
                         'cause and re-run the same command to continue from here')
    if not osp.isfile(stage.final_ckpt):
        last = osp.join(stage.work_dir, 'last_checkpoint')
        latest = open(last).read().strip() if osp.isfile(last) else None
        raise SystemExit(f'[pipeline] {stage.name} exited normally but its final checkpoint '
                         f'{stage.final_ckpt} is missing (last_checkpoint: {latest})')
    log(f'{stage.name}: done in {time.time() - start:.0f} s -> {stage.final_ckpt}')


def main(argv=None) -> dict[str, str]:
    args = parse_args(argv)
    stages = plan(args)
    work_root = osp.abspath(args.work_root)
    status: dict[str, str] = {}
    log(f'{len(stages)} stages under {work_root}: ' + ', '.join(s.name for s in stages))
    for stage in stages:
        if osp.isfile(stage.final_ckpt):
            log(f'{stage.name}: final checkpoint {stage.final_ckpt} exists, skipping')
            status[stage.name] = 'done'
        else:
            status[stage.name] = 'running'
            if not args.dry_run:
                write_state(work_root, stages, status)
            run_stage(stage, args)
            status[stage.name] = 'planned' if args.dry_run else 'done'
    if not args.dry_run:
        write_state(work_root, stages, status)
        log('all stages complete')
    return {s.name: s.final_ckpt for s in stages}


if __name__ == '__main__':
    main()
