"""Shared command-line plumbing of the tools (MMEngine conventions): parsers, config loading."""
import argparse
import os
import os.path as osp
import tempfile

from mmengine.config import Config, DictAction

from .inference import load_config


class StrictDictAction(DictAction):
    """MMEngine's ``DictAction`` (``--cfg-options k=v ...``), refusing an item without ``=``
    (MMEngine fails on it with a bare unpacking error) and values with whitespace, which
    MMEngine would silently strip (``work_dir=/my runs`` -> ``/myruns``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values:
            key, eq, value = item.partition('=')
            if not eq or not key:
                parser.error(f'{option_string} {item!r}: expected KEY=VALUE, e.g. '
                             'model.inter_loss.temperature=0.5')
            if any(ch.isspace() for ch in value):
                parser.error(f'{option_string} {item!r}: MMEngine removes whitespace from '
                             'values, so this would silently become '
                             f'{key}={"".join(value.split())!r}; set it in a config file '
                             'instead (or use a path without spaces)')
        super().__call__(parser, namespace, values, option_string)


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """A tool's parser: ``doc``'s first line as description, the rest (from the third line)
    as epilog, kept as written."""
    return argparse.ArgumentParser(description=doc.split('\n')[0],
                                   epilog=doc.split('\n', 2)[2],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_model_args(parser: argparse.ArgumentParser,
                   config_help: str = 'config the model was trained with') -> None:
    """CONFIG and CHECKPOINT (positional), --device, --unsafe-load, --cfg-options,
    --allow-partial: what ``init_model`` takes, for the tools that use a trained model."""
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help='.pth (loaded weights-only) or .safetensors')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of a trusted .pth checkpoint')
    parser.add_argument('--cfg-options', nargs='+', action=StrictDictAction, default={},
                        help='config overrides, e.g. model.audio_encoder.mask_ratio=0.5')
    parser.add_argument('--allow-partial', action='store_true',
                        help='use a checkpoint that lacks trainable weights this needs (they '
                        'keep their random initialisation); refused by default')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """--work-dir, --cfg-options, --launcher, --local-rank, --unsafe-load."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of checkpoints (load_from and resume): '
                        'only for trusted files that need it, as unpickling can run code')
    parser.add_argument('--cfg-options', nargs='+', action=StrictDictAction, default={},
                        help='override config keys, e.g. model.fusion.type=MBTFusion')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def config_from_args(args: argparse.Namespace) -> Config:
    """Config file + --cfg-options, launcher, default work dir work_dirs/<config name>."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.unsafe_load:
        cfg.unsafe_load = True
    return cfg


def check_writable(path: str, what: str, *, folder: bool = False) -> None:
    """Exit with a message naming ``path`` unless a file can be written there (or, with
    ``folder``, into it): checked before any work, creating the missing folders."""
    target = path if folder else osp.dirname(osp.abspath(path))
    try:
        if not folder and osp.isdir(path):
            raise IsADirectoryError(f'{path} is a folder')
        os.makedirs(target, exist_ok=True)
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError as err:
        raise SystemExit(f'error: cannot write {what} {path}: {err}') from None
