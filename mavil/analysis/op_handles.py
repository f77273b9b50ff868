"""fvcore op handles missing from fvcore's defaults, and the ops it may leave uncounted.

fvcore counts one fused multiply-add as one FLOP (its ``aten::matmul`` handle counts
``[.., M, K] @ [.., K, N]`` as ``.. * M * K * N``); the handles here keep that convention.
"""
from collections import Counter
from math import prod
from typing import Any, Mapping

from fvcore.nn.jit_handles import Handle, get_shape

SDPA_OP = 'aten::scaled_dot_product_attention'

# Ops fvcore counts as 0 by design: element-wise work (~tokens x width each) that is < 0.5 %
# of a ViT's FLOPs. Any other unsupported op is reported as significant (possibly dropped
# matmul-like work, e.g. an attention kernel without a handle).
ELEMENTWISE_OPS = frozenset({
    'aten::add', 'aten::add_', 'aten::sub', 'aten::rsub', 'aten::mul', 'aten::mul_',
    'aten::div', 'aten::div_', 'aten::neg', 'aten::gelu', 'aten::relu', 'aten::silu',
    'aten::sigmoid', 'aten::tanh', 'aten::softmax', 'aten::exp', 'aten::pow', 'aten::sqrt',
    'aten::rsqrt', 'aten::mean', 'aten::sum',
})


def _shape(value: Any, what: str) -> list[int]:
    shape = get_shape(value)
    if shape is None:
        raise ValueError(f'{SDPA_OP}: the traced graph has no complete shape for {what}')
    return shape


def sdpa_flop_jit(inputs: list[Any], outputs: list[Any]) -> int:
    """FLOPs of ``scaled_dot_product_attention(query, key, value, ...)``: QK^T plus AV.

    query [*, L, d], key [*, S, d], value [*, S, dv] -> ``prod(*) * L * S * (d + dv)``, the
    same count as the two explicit matmuls of the 'math' backend. Softmax, scaling, masks and
    dropout are element-wise and not counted (fvcore's convention); a causal mask is counted
    as the dense product (what the math path computes).
    """
    q, k, v = (_shape(x, name) for x, name in zip(inputs[:3], ('query', 'key', 'value')))
    *batch, length, head_dim = q  # batch = (B, heads) for our attention
    kv_length, value_dim = k[-2], v[-1]
    return prod(batch) * length * kv_length * (head_dim + value_dim)


EXTRA_HANDLES: dict[str, Handle] = {SDPA_OP: sdpa_flop_jit}


def significant_unsupported_ops(unsupported: Mapping[str, int]) -> Counter:
    """The unsupported ops (name -> calls) that are not known element-wise ops."""
    return Counter({op: n for op, n in unsupported.items() if op not in ELEMENTWISE_OPS})
