"""An example third-party MAViL plugin: importing it registers ``GatedCrossFusion``.

Configs load it with ``custom_imports = dict(imports=['example_plugin'])``.
"""
from .gated_fusion import CrossAttention, GatedCrossBlock, GatedCrossFusion

__all__ = ['CrossAttention', 'GatedCrossBlock', 'GatedCrossFusion']
