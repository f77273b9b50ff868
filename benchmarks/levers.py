#!/usr/bin/env python
"""A/B timings of speed levers on the ViT-B MAViL stage-1 shapes, each pair interleaved.

    python benchmarks/levers.py [--threads 2] [--rounds 7] [--batch-size 2]
        [--levers adamw attention compile gather] [--dry-run]

Every lever is timed as ``baseline`` vs ``candidate`` in alternation (A B A B ...) in this
process, so load from other processes on a shared machine hits both alike; a row gives the
median and the best of the per-pair ratios candidate / baseline (< 1: the candidate is
faster) and the median baseline time. The fp32 matmul peak is measured before and after.

Levers:
    adamw      torch.optim.AdamW default (foreach) vs fused=True, on the parameters of the
               stage-1 model.
    attention  'sdpa' vs 'math' attention, forward + backward, per token count of the model
               (masked encoders, fusion, decoders).
    compile    one Transformer block forward + backward, eager vs torch.compile (what
               MMEngine's ``compile`` runner option applies to the model), per block shape.
    gather     the decoder's [MASK]-fill + unshuffle (cat + gather) vs one scatter into a
               [MASK]-filled buffer, forward + backward.
    views      an encoder's two masked views (reconstruction view + intra-modal view), forward
               + backward: two ``encode`` calls vs one batched ``encode_views`` call.
``--dry-run`` uses tiny shapes and one round (a smoke run of this script).
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time
from typing import Callable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

LEVERS = ('adamw', 'attention', 'compile', 'gather', 'views')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--rounds', type=int, default=7, help='timed A/B pairs per row')
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--levers', nargs='+', default=list(LEVERS), choices=LEVERS)
    p.add_argument('--dry-run', action='store_true', help='tiny shapes, one round')
    return p.parse_args(argv)


def ab(baseline: Callable[[], None], candidate: Callable[[], None], rounds: int) -> dict:
    """Interleaved timing: one warm-up call each, then ``rounds`` pairs in alternating order."""
    baseline()
    candidate()
    base, cand, ratios = [], [], []
    for r in range(rounds):
        pair = {}
        for name, fn in ((('b', baseline), ('c', candidate)) if r % 2 == 0 else
                         (('c', candidate), ('b', baseline))):
            t0 = time.perf_counter()
            fn()
            pair[name] = time.perf_counter() - t0
        base.append(pair['b'])
        cand.append(pair['c'])
        ratios.append(pair['c'] / pair['b'])
    return dict(base_s=statistics.median(base), cand_s=statistics.median(cand),
                ratio_median=statistics.median(ratios), ratio_best=min(ratios))


def fwd_bwd(fn: Callable, *inputs):
    def run() -> None:
        out = fn(*inputs)
        out.float().pow(2).mean().backward()
    return run


def adamw_rows(args, model) -> list:
    import torch
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    kw = dict(lr=1e-4, betas=(0.9, 0.95), weight_decay=1e-5)
    plain = torch.optim.AdamW(params, **kw)
    fused = torch.optim.AdamW(params, fused=True, **kw)
    n = sum(p.numel() for p in params)
    return [(f'AdamW step, {n / 1e6:.0f}M params', 'foreach (default)', 'fused=True',
             ab(plain.step, fused.step, args.rounds))]


def attention_shapes(model, batch: int) -> list:
    """(label, tokens, dim, heads) of every attention in the stage-1 step."""
    from mavil.models.layers.masking import num_kept
    shapes = []
    for m, enc in model.encoders.items():
        block = enc.blocks[0].attn
        shapes.append((f'{m} encoder (masked)', 1 + num_kept(enc.num_patches, enc.mask_ratio),
                       enc.embed_dim, block.num_heads))
    if model.fusion is not None and hasattr(model.fusion, 'blocks'):
        total = sum(s[1] for s in shapes)
        shapes.append(('fusion', total, model.fusion.embed_dim,
                       model.fusion.blocks[0].attn.num_heads))
    for m in ('audio', 'video'):
        dec = getattr(model, f'{m}_decoder')
        attn = dec.blocks[0].attn
        shapes.append((f'{m} decoder', 1 + model.encoders[m].num_patches,
                       attn.qkv.in_features, attn.num_heads))
    return shapes


def attention_rows(args, model) -> list:
    import torch
    from mavil.models.layers import Attention
    rows = []
    for label, tokens, dim, heads in attention_shapes(model, args.batch_size):
        x = torch.randn(args.batch_size, tokens, dim, requires_grad=True)
        sdpa = Attention(dim, heads, backend='sdpa')
        math = Attention(dim, heads, backend='math')
        math.load_state_dict(sdpa.state_dict())
        rows.append((f'attention {label}: L={tokens}, {heads}x{dim // heads}', 'sdpa', 'math',
                     ab(fwd_bwd(sdpa, x), fwd_bwd(math, x), args.rounds)))
    return rows


def compile_rows(args, model) -> list:
    import torch
    rows = []
    blocks = [('video encoder block', model.video_encoder.blocks[0],
               attention_shapes(model, 1)[1][1]),
              ('video decoder block', model.video_decoder.blocks[0],
               1 + model.video_encoder.num_patches)]
    for label, block, tokens in blocks:
        dim = block.norm1.normalized_shape[0]
        x = torch.randn(args.batch_size, tokens, dim, requires_grad=True)
        compiled = torch.compile(block)
        t0 = time.perf_counter()
        fwd_bwd(compiled, x)()  # compile outside the timing
        took = time.perf_counter() - t0
        rows.append((f'{label} [B, {tokens}, {dim}] (compile {took:.0f} s)', 'eager',
                     'torch.compile', ab(fwd_bwd(block, x), fwd_bwd(compiled, x), args.rounds)))
    return rows


def gather_rows(args, model) -> list:
    import torch
    from mavil.models.layers import gather_tokens
    dec = model.video_decoder
    enc = model.video_encoder
    B, N, E = args.batch_size, enc.num_patches, dec.mask_token.shape[-1]
    mask = enc.sample_mask(B, 'cpu')
    K = mask.num_kept
    x = torch.randn(B, 1 + K, E, requires_grad=True)
    token = dec.mask_token

    def cat_gather(x):  # MaskedDecoder's gather (concatenate cls + visible)
        cls, visible = x[:, :1], x[:, 1:]
        fill = token.expand(B, N - K, -1)
        tokens = gather_tokens(torch.cat([visible, fill], dim=1), mask.ids_restore)
        return torch.cat([cls, tokens], dim=1)

    def scatter(x):
        out = token.expand(B, 1 + N, -1).clone()
        out = out.scatter(1, (1 + mask.ids_keep).unsqueeze(-1).expand(-1, -1, E), x[:, 1:])
        return torch.cat([x[:, :1], out[:, 1:]], dim=1)

    torch.testing.assert_close(cat_gather(x), scatter(x))
    return [(f'decoder unshuffle [B, {N}, {E}]', 'cat + gather', 'scatter',
             ab(fwd_bwd(cat_gather, x), fwd_bwd(scatter, x), args.rounds))]


def views_rows(args, model) -> list:
    import torch
    rows = []
    for m, enc in model.encoders.items():
        pe = enc.patch_embed
        x = torch.randn(args.batch_size, pe.num_patches, enc.embed_dim, requires_grad=True)
        masks = [enc.sample_mask(args.batch_size, 'cpu') for _ in range(2)]

        def separate(enc=enc, x=x, masks=masks):
            outs = [enc.encode(x, mask) for mask in masks]
            sum(o.pow(2).mean() for o in outs).backward()

        def batched(enc=enc, x=x, masks=masks):
            outs = enc.encode_views(x, masks)
            sum(o.pow(2).mean() for o in outs).backward()

        rows.append((f'{m} encoder, 2 masked views of [B, {pe.num_patches}, {enc.embed_dim}]',
                     '2 encode calls', '1 encode_views call', ab(separate, batched, args.rounds)))
    return rows


def main(argv=None) -> list:
    args = parse_args(argv)
    import torch

    sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
    from profile_step import TINY
    from train_step import _load_cfg

    import mavil.models  # noqa: F401
    from mavil.analysis.throughput import matmul_flops_per_s
    from mavil.registry import MODELS
    if args.dry_run:
        args.rounds = 1
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MODELS.build(_load_cfg(osp.join(ROOT, 'configs/mavil/stage1.py'),
                                   TINY if args.dry_run else []).model).train()
    load = os.getloadavg()[0]
    size = 256 if args.dry_run else 1024
    peaks = [matmul_flops_per_s(size=size)]
    rows = []
    for lever in args.levers:
        rows += globals()[f'{lever}_rows'](args, model)
        print(f'  {lever} done', file=sys.stderr, flush=True)
    peaks.append(matmul_flops_per_s(size=size))
    print(f'\n{args.threads} threads, batch {args.batch_size}, torch {torch.__version__}; fp32 '
          f'matmul peak {peaks[0] / 1e9:.0f} / {peaks[1] / 1e9:.0f} GFLOP/s (before / after); '
          f'load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; {args.rounds} '
          'interleaved pairs per row')
    print('| what | baseline | candidate | baseline s (median) | candidate / baseline '
          '(median) | (best) |')
    print('| --- | --- | --- | ---: | ---: | ---: |')
    for what, base, cand, r in rows:
        print(f'| {what} | {base} | {cand} | {r["base_s"]:.3f} | {r["ratio_median"]:.2f} | '
              f'{r["ratio_best"]:.2f} |')
    return rows


if __name__ == '__main__':
    main()
