"""Fusion necks g_av: forward(audio [B, La, D], video [B, Lv, D]) -> (audio, video)."""
from .builder import build_fusion
from .joint_fusion import JointFusion
from .mbt_fusion import MBTFusion

__all__ = ['build_fusion', 'JointFusion', 'MBTFusion']
