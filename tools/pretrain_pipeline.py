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
stage's final checkpoint; model.target.teacher_config = that stage's config file as this command
line names it, with that stage's options as model.target.teacher_cfg_options.*), so no config
file needs editing. The config copies in the work dirs are never loaded, also not on a re-run:
configs are Python, and an edited copy would run its code.

Re-running the same command continues a crashed pipeline: a stage whose final checkpoint exists
is skipped; a stage with partial checkpoints is resumed (tools/train.py --resume: the newest
checkpoint of its work dir that loads, weights-only; a stale ``last_checkpoint`` or a broken
newest file falls back to the previous one, with a warning); the rest run from scratch. "Final checkpoint" is the name the CheckpointHook
gives the last epoch / iteration of the stage's schedule (epoch_{max_epochs}.pth or
iter_{max_iters}.pth); it is written atomically, so its presence means the stage finished.

Every stage-2 stage must share stage 1's alpha, beta, training data, video init, epochs and
model size (CHAIN_KEYS in mavil/apis/stages.py): an ablation cell of Tables 5 / 13 is the
final model's setting, so the pipeline refuses a chain whose students would inherit other
values, naming the --stage2-cfg-options that align them (--allow-stage-differences KEY for
an intended difference).

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
from typing import Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout

from mavil.apis.stages import Stage, check_chain, plan_stages  # noqa: E402

TRAIN_TOOL = osp.join(ROOT, 'tools', 'train.py')
DIST_TOOL = osp.join(ROOT, 'tools', 'dist_train.sh')


def log(msg: str) -> None:
    print(f'[pipeline] {msg}', flush=True)


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
    parser.add_argument('--allow-stage-differences', nargs='+', default=[], metavar='KEY',
                        help='settings (e.g. train_cfg.max_epochs) the stage-2 stages may have '
                        'other than stage 1; any other difference in alpha, beta, data, init, '
                        'epochs or model size is refused')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast for every stage')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan and the commands, run nothing')
    args = parser.parse_args(argv)
    if args.iters < 0:
        parser.error('--iters must be >= 0')
    if args.gpus < 1:
        parser.error('--gpus must be >= 1')
    return args


def refuse_whitespace(stages: list[Stage]) -> None:
    """Teacher paths reach tools/train.py through --cfg-options, whose values MMEngine strips
    of whitespace: a path with a space would change silently (after stage 1 has run), so
    such paths are refused before anything runs."""
    for stage in stages:
        for option in stage.cfg_options + stage.teacher_options():
            if any(ch.isspace() for ch in option.partition('=')[2]):
                raise SystemExit(
                    f'[pipeline] {stage.name}: {option!r} contains whitespace, which '
                    'MMEngine strips from --cfg-options values; use a --work-root and config '
                    'paths without spaces (e.g. a symlink to the folder)')


def plan(args: argparse.Namespace) -> list[Stage]:
    try:
        stages = plan_stages(args.config, args.iters, args.work_root,
                             stage2_configs=args.stage2_configs, cfg_options=args.cfg_options,
                             stage2_cfg_options=args.stage2_cfg_options)
        check_chain(stages, args.allow_stage_differences)
    except FileNotFoundError as err:
        raise SystemExit(str(err)) from err
    except ValueError as err:
        raise SystemExit(f'[pipeline] {err}') from None
    refuse_whitespace(stages)
    return stages


def command(stage: Stage, args: argparse.Namespace, resume: Optional[str]) -> list[str]:
    extra = ['--work-dir', stage.work_dir]
    if resume:  # the runner picks the newest intact checkpoint of the work dir
        extra += ['--resume']
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
    resume = stage.latest_checkpoint()
    cmd = command(stage, args, resume)
    log(f'{stage.name}: resuming from {resume} (the newest checkpoint; tools/train.py falls '
        'back to an older one if it does not load)' if resume else
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
