"""Model analysis: FLOP and parameter counting (fvcore with an attention handle)."""
from .flops import (COMPONENTS, VIEWS, ComponentView, FlopCount, component_views,
                    count_component_flops, count_flops, count_params, format_table,
                    records_to_json, unsupported_summary)
from .op_handles import EXTRA_HANDLES, significant_unsupported_ops, sdpa_flop_jit

__all__ = [
    'COMPONENTS', 'VIEWS', 'ComponentView', 'FlopCount', 'component_views',
    'count_component_flops', 'count_flops', 'count_params', 'format_table', 'records_to_json',
    'unsupported_summary', 'EXTRA_HANDLES', 'significant_unsupported_ops', 'sdpa_flop_jit'
]
