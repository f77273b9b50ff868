#!/usr/bin/env python
"""Import public checkpoints into our models, or export ours, as .safetensors (or .pth).

Examples:
    # AudioMAE pre-trained encoder -> the audio encoder of a MAViL / classifier config
    python tools/convert_weights.py audiomae pretrained.pth configs/finetune/as20k_audio.py \\
        --out work_dirs/audiomae_as20k.safetensors
    # ImageNet MAE / timm ViT -> the video encoder (2D patch kernel inflated to 2x16x16)
    python tools/convert_weights.py image-vit mae_pretrain_vit_base.pth \\
        configs/finetune/as20k_video.py --out work_dirs/in_mae_video.safetensors
    # MAViL fine-tuned weights released with av-superb (models_vitmm naming)
    python tools/convert_weights.py av-superb mavil_as_ft_av.pth configs/finetune/as20k_av.py \\
        --out work_dirs/mavil_as20k_av.safetensors
    # any of our checkpoints -> .safetensors with its config in the metadata
    python tools/convert_weights.py export CONFIG work_dirs/x/epoch_60.pth --out x.safetensors \\
        [--parts audio_encoder video_encoder fusion]

Checkpoints are read weights-only. The output .safetensors stores the config the weights need
as data (including options the import adds, e.g. the encoders' pos_layout), so
`init_model(None, OUT)` rebuilds the model; .pth outputs hold {'state_dict': ..., 'meta':
{'pos_layouts': ...}} and print the config options to use. Both formats record the encoders'
position-table layouts: loading them into a model built with other layouts is refused.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mavil.apis.cli import StrictDictAction  # noqa: E402
from mavil.weights.matching import key_listing  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source', choices=['audiomae', 'image-vit', 'av-superb', 'export'])
    parser.add_argument('checkpoint', nargs='?',
                        help='the checkpoint to convert (.pth, weights-only, or .safetensors)')
    parser.add_argument('config', help='our config the weights go into', nargs='?')
    parser.add_argument('--out', required=True, help='.safetensors (recommended) or .pth')
    parser.add_argument('--parts', nargs='+', help='export: top-level modules to keep')
    parser.add_argument('--pos-embed', choices=['check', 'ignore'], default='check',
                        help='image-vit: a learned (timm supervised) table must be dropped '
                        'knowingly with "ignore"')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of a trusted .pth checkpoint')
    parser.add_argument('--cfg-options', nargs='+', action=StrictDictAction, default={})
    args = parser.parse_args(argv)
    if args.source == 'export':  # export CONFIG CKPT: positional order as the other tools
        args.config, args.checkpoint = args.checkpoint, args.config
    if not args.checkpoint or not args.config:
        parser.error('give the checkpoint and the config')
    return args


def convert(args):
    """(model, Conversion or None) for the arguments."""
    from mavil.apis import init_model, load_config
    from mavil.registry import MODELS, build_component
    from mavil.weights import converters
    from mavil.weights.checkpoint_io import load_checkpoint_file
    from mavil.weights.matching import unwrap_state

    if args.source == 'export':
        return init_model(args.config, args.checkpoint, cfg_options=args.cfg_options,
                          unsafe_load=args.unsafe_load), None
    cfg = load_config(args.config, args.cfg_options)
    state = unwrap_state(load_checkpoint_file(args.checkpoint, trusted=args.unsafe_load))
    probe = build_component(MODELS, cfg.model)  # grids, modalities of the target
    if args.source == 'audiomae':
        conv = converters.convert_audiomae(state, grid_size=probe.audio_encoder.grid_size)
    elif args.source == 'image-vit':
        conv = converters.convert_image_vit(state, probe.video_encoder, pos_embed=args.pos_embed)
    else:
        conv = converters.convert_avsuperb_mavil(
            state, modalities=probe.modalities,
            audio_grid=getattr(probe.audio_encoder, 'grid_size', (64, 8)),
            video_grid=getattr(probe.video_encoder, 'grid_size', (4, 14, 14)))
    cfg.merge_from_dict(_applicable(conv.cfg_options, cfg))
    model = build_component(MODELS, cfg.model)
    own = model.state_dict()
    dropped = [k for k in conv.state if k not in own and k.split('.')[1] == 'norm'
               and k.split('.')[0] in ('audio_encoder', 'video_encoder')]
    if dropped:  # MAE fine-tuning: a classifier's head norm replaces the encoder's final norm
        conv.notes.append(f'encoder final norm not used by this model (encoder_norm=False): '
                          f'dropped {dropped}')
        conv.state = {k: v for k, v in conv.state.items() if k not in dropped}
    load_converted(model, conv.state)
    model.cfg = cfg
    return model.eval(), conv


def _applicable(options: dict, cfg) -> dict:
    """Drop options for keys this model type does not have (e.g. encoder_norm on MAViL)."""
    out = {}
    for key, value in options.items():
        if key in ('model.encoder_norm', 'model.head.num_classes') and \
                cfg.model.get('type') not in ('AVClassifier', 'mavil.AVClassifier'):
            continue
        out[key] = value
    return out


def load_converted(model, state: dict) -> None:
    """Every converted tensor must land on a model weight of the same shape."""
    own = model.state_dict()
    unknown = sorted(k for k in state if k not in own)
    wrong = sorted(f'{k} {list(v.shape)} vs {list(own[k].shape)}' for k, v in state.items()
                   if k in own and v.shape != own[k].shape)
    if unknown or wrong:
        raise RuntimeError(f'converted weights do not fit {type(model).__name__}: '
                           f'unknown keys [{key_listing(unknown, 10)}], shape mismatches '
                           f'[{key_listing(wrong, 10)}]')
    missing = model.load_state_dict(state, strict=False).missing_keys
    print(f'loaded {len(state)} tensors; {len(missing)} model tensors keep their '
          f'initialisation' + (f' (e.g. {key_listing(missing, 5)})' if missing else ''))


def main(argv=None):
    import torch

    from mavil.weights.checkpoint_io import with_pos_layouts
    from mavil.weights.safetensors_io import export_safetensors

    args = parse_args(argv)
    model, conv = convert(args)
    if conv is not None:
        print(conv)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if args.out.endswith('.safetensors'):
        export_safetensors(model, args.out, model.cfg, parts=args.parts)
    else:
        state = model.state_dict()
        if args.parts:
            state = {k: v for k, v in state.items() if k.split('.', 1)[0] in args.parts}
        tmp = f'{args.out}.tmp'
        # plain tensors and strings: loads weights-only
        torch.save(with_pos_layouts({'state_dict': state}, model), tmp)
        os.replace(tmp, args.out)
        if conv is not None and conv.cfg_options:
            print('build the model with: --cfg-options '
                  + ' '.join(f'{k}={v}' for k, v in conv.cfg_options.items()))
    print(f'wrote {args.out}')
    return model, conv


if __name__ == '__main__':
    main()
