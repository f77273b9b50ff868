"""Fusion necks g_av: forward(audio [B, La, D], video [B, Lv, D]) -> (audio, video)."""
from .joint_fusion import JointFusion
from .mbt_fusion import MBTFusion

__all__ = ['JointFusion', 'MBTFusion']
