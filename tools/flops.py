#!/usr/bin/env python
"""FLOPs and parameters per MAViL component, full and masked views (fvcore, batch size 1).

    python tools/flops.py CONFIG [--json] [--components audio_encoder ...]
                          [--views full masked] [--cfg-options k=v ...]

With --json, the last line of stdout is a JSON list of
{"component", "view", "gflops", "params_m"} objects. Conventions: mavil/analysis/flops.py.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmengine.config import Config  # noqa: E402
from mmengine.utils import import_modules_from_strings  # noqa: E402

from mavil.analysis import (COMPONENTS, VIEWS, count_component_flops, format_table,  # noqa: E402
                            records_to_json, unsupported_summary)
from mavil.apis.cli import StrictDictAction  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Count FLOPs and parameters per component')
    parser.add_argument('config', help='config file')
    parser.add_argument('--json', action='store_true',
                        help='also print the results as a JSON list on the last line')
    parser.add_argument('--components', nargs='+', choices=COMPONENTS, default=None,
                        help='count only these components (default: all present)')
    parser.add_argument('--views', nargs='+', choices=VIEWS, default=list(VIEWS))
    parser.add_argument('--cfg-options', nargs='+', action=StrictDictAction, default={},
                        help='override config keys, e.g. model.fusion.type=MBTFusion')
    return parser.parse_args(argv)


def build_model(args: argparse.Namespace):
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    import mavil.models  # noqa: F401  (registers the components)
    from mavil.registry import MODELS
    return MODELS.build(cfg.model)


def main(argv=None) -> None:
    args = parse_args(argv)
    records = count_component_flops(build_model(args), args.components, args.views)
    print(f'{args.config}\n{format_table(records)}')
    _, significant = unsupported_summary(records)
    if significant:
        print(f'warning: ops without a FLOP handle (counted as 0): {dict(significant)}',
              file=sys.stderr)
    if args.json:
        print(records_to_json(records))


if __name__ == '__main__':
    main()
