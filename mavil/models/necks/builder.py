"""Building a fusion neck for given encoders: its width is theirs, derived like a decoder's
``in_dim``, so configs never repeat it."""
import copy
from typing import Mapping, Union

from torch import nn

from mavil.contracts import FusionNeck, check_contract
from mavil.registry import MODELS, build_component


def build_fusion(cfg: Union[dict, nn.Module], encoders: Mapping[str, nn.Module]) -> nn.Module:
    """Build the fusion neck ``cfg`` with ``embed_dim`` set to the encoders' token width.

    Args:
        cfg: fusion config (``embed_dim`` may be left out) or a built neck.
        encoders: modality -> encoder with an ``embed_dim`` attribute.

    Raises:
        ValueError: the encoders differ in width (fusion mixes their tokens), or an explicit
            ``embed_dim`` (config or built neck) differs from theirs.
        TypeError: the neck does not meet :class:`~mavil.contracts.FusionNeck`.
    """
    widths = {f'{m}_encoder': enc.embed_dim for m, enc in encoders.items()}
    if len(set(widths.values())) != 1:
        raise ValueError(f'fusion needs one embedding size across the encoders, got {widths}')
    width = next(iter(widths.values()))
    if isinstance(cfg, dict):
        cfg = copy.deepcopy(cfg)
        given = cfg.setdefault('embed_dim', width)
        if given != width:
            raise ValueError(f'fusion embed_dim={given} differs from the encoders\' width '
                             f'{width} ({widths}); leave embed_dim out of the fusion config, '
                             'it is derived from the encoders')
    fusion = build_component(MODELS, cfg)
    check_contract(fusion, FusionNeck, 'fusion')
    if fusion.embed_dim != width:
        raise ValueError(f'the given fusion neck has embed_dim={fusion.embed_dim}, but the '
                         f'encoders output {width}-d tokens ({widths})')
    return fusion
