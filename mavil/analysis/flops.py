"""FLOP and parameter counts per MAViL component (fvcore, plus an SDPA handle).

Views, traced at batch size 1::

    full    encoders: all N patch tokens + [CLS] (no masking; the teacher's / fine-tuning view).
            fusion: both full encoder outputs, (1 + Na) + (1 + Nv) tokens.
            decoders: 1 + N visible tokens in (mask ratio 0).
    masked  the pre-training view at each encoder's ``mask_ratio``, K = int(N * (1 - ratio)).
            encoders: patch-embed all N patches (as training does), blocks on 1 + K tokens.
            fusion: the concatenated masked outputs, (1 + Ka) + (1 + Kv) tokens.
            decoders: 1 + K visible tokens in.

A decoder always runs its blocks on 1 + N tokens ([MASK] tokens fill the gaps), so its two views
differ only in the input projection: (N - K) * in_dim * embed_dim FLOPs.

Counting convention (fvcore's): one fused multiply-add is one FLOP; biases and element-wise ops
(GELU, softmax, residual adds) are not counted; LayerNorm counts 5 per element. With these,
the ViT-B audio encoder on 1024x128 (512 patches + [CLS], patch embedding and final norm
included) is 48.57 GFLOPs, the paper's 48.6 G (Sec. 4.2).
"""
import json
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Iterator, Mapping, Optional, Sequence

import torch
from torch import nn

with warnings.catch_warnings():  # fvcore.nn scripts its losses with the deprecated torch.jit
    warnings.simplefilter('ignore', DeprecationWarning)
    from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_handles import Handle

from mavil.models.layers import MaskInfo, sample_mask
from mavil.structures import MODALITIES
from .op_handles import EXTRA_HANDLES, significant_unsupported_ops

COMPONENTS = ('audio_encoder', 'video_encoder', 'fusion', 'audio_decoder', 'video_decoder')
VIEWS = ('full', 'masked')
JSON_KEYS = ('component', 'view', 'gflops', 'params_m')


@dataclass
class FlopCount:
    """Total FLOPs of one traced call and the ops fvcore had no handle for (name -> calls)."""
    flops: int
    unsupported_ops: Counter


@dataclass
class ComponentView:
    """One component in one view, ready to trace: ``module(*inputs)``."""
    component: str
    view: str
    module: nn.Module
    inputs: tuple[torch.Tensor, ...]
    input_tokens: int  # sequence length fed to the component
    params: int


def count_flops(module: nn.Module,
                inputs: tuple[torch.Tensor, ...],
                handles: Mapping[str, Handle] = EXTRA_HANDLES) -> FlopCount:
    """fvcore count of ``module(*inputs)`` with ``handles`` added to fvcore's own.

    Unsupported ops are returned rather than logged.
    """
    analysis = (FlopCountAnalysis(module, inputs).set_op_handle(**handles)
                .unsupported_ops_warnings(False).uncalled_modules_warnings(False))
    with torch.no_grad():
        total = analysis.total()
    return FlopCount(flops=int(total), unsupported_ops=Counter(analysis.unsupported_ops()))


def count_params(module: nn.Module) -> int:
    """Parameters (shared ones once); fixed buffers such as sin-cos positions excluded."""
    return sum(p.numel() for p in module.parameters())


class _EncoderView(nn.Module):
    """``embed`` then ``encode`` as one traceable call: [B, C, *size] -> [B, 1 + K, D]."""

    def __init__(self, encoder: nn.Module, mask: Optional[MaskInfo]) -> None:
        super().__init__()
        self.encoder, self.mask = encoder, mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.encode(self.encoder.embed(x), self.mask)


class _DecoderView(nn.Module):
    """Decoder with a fixed mask: [B, 1 + K, in_dim] -> [B, N, out_dim]."""

    def __init__(self, decoder: nn.Module, mask: MaskInfo) -> None:
        super().__init__()
        self.decoder, self.mask = decoder, mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(x, self.mask)


def full_mask(num_tokens: int, device: torch.device | str = 'cpu') -> MaskInfo:
    """A batch-1 mask that keeps every token in order (mask ratio 0)."""
    ids = torch.arange(num_tokens, device=device)[None]  # [1, N]
    return MaskInfo(ids_keep=ids, ids_restore=ids,
                    mask=torch.zeros(1, num_tokens, device=device))


def training_mask(encoder: nn.Module, device: torch.device | str = 'cpu') -> MaskInfo:
    """A batch-1 mask as pre-training draws it (the encoder's ratio and masking type)."""
    generator = torch.Generator(device=device).manual_seed(0)
    return sample_mask(1, encoder.grid_size, encoder.mask_ratio, mode=encoder.mask_type,
                       device=device, generator=generator)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Count in eval mode (no drop-path), then restore every module's training flag."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes.items():
            m.training = training


def _trace_target(component: str, module: nn.Module, view: str, encoders: dict,
                  masks: dict, like: torch.Tensor) -> tuple[nn.Module, tuple, int]:
    """(callable, zero inputs, input sequence length) for one component in one view."""
    zeros = partial(torch.zeros, device=like.device, dtype=like.dtype)
    if component == 'fusion':  # both encoders' outputs, [1, 1 + K, D] each
        inputs = tuple(zeros(1, 1 + masks[m][view].num_kept, encoders[m].embed_dim)
                       for m in MODALITIES)
        return module, inputs, sum(x.shape[1] for x in inputs)
    modality, kind = component.split('_')
    mask = masks[modality][view]
    if kind == 'decoder':
        x = zeros(1, 1 + mask.num_kept, module.in_dim)  # [1, 1 + K, in_dim]
        return _DecoderView(module, mask), (x, ), x.shape[1]
    pe = module.patch_embed
    x = zeros(1, pe.in_channels, *pe.input_size)  # [1, C, *input_size]
    # the full view runs unmasked, as extract_feat and the stage-2 teacher do
    return (_EncoderView(module, mask if view == 'masked' else None), (x, ),
            1 + mask.num_kept)


def component_views(model: nn.Module,
                    components: Optional[Sequence[str]] = None,
                    views: Sequence[str] = VIEWS) -> list[ComponentView]:
    """Traceable (module, inputs) per present component and view, in ``COMPONENTS`` order.

    Components absent from ``model`` (or None) are skipped. Encoders are masked ViTs found
    as ``{modality}_encoder``; a decoder needs its modality's encoder, fusion needs both.
    """
    components = COMPONENTS if components is None else tuple(components)
    for names, allowed in ((components, COMPONENTS), (views, VIEWS)):
        unknown = set(names) - set(allowed)
        if unknown:
            raise ValueError(f'unknown {sorted(unknown)}; choose from {allowed}')
    like = next(model.parameters())  # device and dtype of the inputs
    encoders = {m: getattr(model, f'{m}_encoder', None) for m in MODALITIES}
    encoders = {m: enc for m, enc in encoders.items() if enc is not None}
    masks = {m: {'full': full_mask(enc.num_patches, like.device),
                 'masked': training_mask(enc, like.device)} for m, enc in encoders.items()}
    result = []
    for component in (c for c in COMPONENTS if c in components):
        module = getattr(model, component, None)
        if module is None:
            continue
        needed = MODALITIES if component == 'fusion' else (component.split('_')[0], )
        if not set(needed) <= set(encoders):
            raise ValueError(f'{component} needs the {" and ".join(needed)} encoder(s)')
        for view in views:
            traced, inputs, length = _trace_target(component, module, view, encoders, masks,
                                                   like)
            result.append(ComponentView(component, view, traced, inputs, length,
                                        count_params(module)))
    return result


def count_component_flops(model: nn.Module,
                          components: Optional[Sequence[str]] = None,
                          views: Sequence[str] = VIEWS) -> list[dict]:
    """FLOPs and parameters per component and view (see the module docstring).

    Returns:
        One dict per (component, view): ``component``, ``view``, ``gflops`` (1e9 FLOPs, one
        multiply-add = one FLOP), ``params_m`` (1e6 parameters), ``input_tokens`` and
        ``unsupported_ops`` (ops fvcore counted as 0, name -> calls).
    """
    records = []
    with eval_mode(model):
        for cv in component_views(model, components, views):
            count = count_flops(cv.module, cv.inputs)
            records.append(dict(component=cv.component, view=cv.view,
                                gflops=count.flops / 1e9, params_m=cv.params / 1e6,
                                input_tokens=cv.input_tokens,
                                unsupported_ops=dict(count.unsupported_ops)))
    return records


def records_to_json(records: Sequence[dict]) -> str:
    """One-line JSON list of {component, view, gflops, params_m}."""
    return json.dumps([{k: r[k] for k in JSON_KEYS} for r in records])


def unsupported_summary(records: Sequence[dict]) -> tuple[Counter, Counter]:
    """(all unsupported ops, the significant ones): op name -> calls over all records."""
    total = Counter()
    for r in records:
        total.update(r['unsupported_ops'])
    return total, significant_unsupported_ops(total)


def format_table(records: Sequence[dict]) -> str:
    """A readable table with the counting convention and the uncounted ops."""
    header = f'{"component":<15} {"view":<7} {"tokens in":>9} {"GFLOPs":>9} {"params (M)":>11}'
    lines = [header, '-' * len(header)]
    for r in records:
        lines.append(f'{r["component"]:<15} {r["view"]:<7} {r["input_tokens"]:>9} '
                     f'{r["gflops"]:>9.2f} {r["params_m"]:>11.2f}')
    for view in VIEWS:
        rows = [r for r in records if r['view'] == view]
        if rows:
            lines.append(f'{"sum":<15} {view:<7} {"":>9} {sum(r["gflops"] for r in rows):>9.2f}'
                         f' {sum(r["params_m"] for r in rows):>11.2f}')
    lines.append('fvcore, batch size 1: one multiply-add = one FLOP; attention QK^T and AV '
                 'counted.\nDecoders always run 1 + N tokens: their views differ in the input '
                 'projection only.')
    total, significant = unsupported_summary(records)
    if total:
        ops = ', '.join(f'{op} x{n}' for op, n in sorted(total.items()))
        lines.append(f'not counted (fvcore has no handle): {ops}')
    if significant:
        lines.append(f'WARNING: non-element-wise ops were counted as 0 FLOPs: '
                     f'{sorted(significant)}')
    return '\n'.join(lines)
