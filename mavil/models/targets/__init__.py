"""Target generators: forward(inputs, encoders) -> {modality: [B, N, out_dim]}."""
from .raw_targets import RawTargets

__all__ = ['RawTargets']
