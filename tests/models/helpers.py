"""Tiny models, batches and reference tables the model tests share."""
import copy

import numpy as np
import torch

import mavil.models  # noqa: F401  (registers the components)
from mavil.registry import MODELS
from mavil.structures import AVDataSample

TINY = dict(embed_dim=64, depth=2, num_heads=4)
AUDIO = dict(type='AudioViT', arch=TINY, input_size=(64, 32), patch_size=(8, 8))
VIDEO = dict(type='VideoViT', arch=TINY, input_size=(4, 32, 32), patch_size=(2, 8, 8))


def classifier(modalities=('audio', 'video'), num_classes=5, **kwargs) -> torch.nn.Module:
    """A tiny AVClassifier on ``modalities`` (JointFusion when both); ``kwargs`` override."""
    cfg = dict(type='AVClassifier', modalities=modalities,
               data_preprocessor=dict(type='AVDataPreprocessor', modalities=modalities),
               head=dict(type='ClsHead', num_classes=num_classes))
    if 'audio' in modalities:
        cfg['audio_encoder'] = copy.deepcopy(AUDIO)
    if 'video' in modalities:
        cfg['video_encoder'] = copy.deepcopy(VIDEO)
    if len(modalities) == 2:
        cfg['fusion'] = dict(type='JointFusion', embed_dim=64, depth=2, num_heads=4)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def tiny_mavil() -> torch.nn.Module:
    """A tiny MAViL with the encoders of :func:`classifier` (its weights load into one)."""
    return MODELS.build(dict(
        type='MAViL', audio_encoder=copy.deepcopy(AUDIO), video_encoder=copy.deepcopy(VIDEO),
        fusion=dict(type='JointFusion', embed_dim=64, depth=1, num_heads=4),
        audio_decoder=dict(type='MaskedDecoder', embed_dim=32, depth=1, num_heads=4),
        video_decoder=dict(type='MaskedDecoder', embed_dim=32, depth=1, num_heads=4)))


def batch(n=3, clips=None) -> dict[str, torch.Tensor]:
    """Seeded inputs for the tiny models: audio [n, 1, 64, 32], video [n, 3, 4, 32, 32]
    (``clips`` per sample: [n, clips, 3, 4, 32, 32])."""
    torch.manual_seed(0)
    video = torch.randn(n, 3, 4, 32, 32) if clips is None else torch.randn(n, clips, 3, 4, 32, 32)
    return {'audio': torch.randn(n, 1, 64, 32), 'video': video}


def samples(labels) -> list[AVDataSample]:
    """One data sample per label list, with clip ids c0, c1, ..."""
    return [AVDataSample(metainfo=dict(clip_id=f'c{i}'), labels=torch.tensor(ls))
            for i, ls in enumerate(labels)]


def mae_1d(dim: int, positions: np.ndarray) -> np.ndarray:
    """MAE's 1D sin-cos code [sin(p * w_k), cos(p * w_k)], w_k = 1 / 10000^(2k / dim)."""
    omega = 1.0 / 10000**(np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    angles = np.outer(positions.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def mae_2d(dim: int, rows: int, cols: int, cls_token: bool = False) -> np.ndarray:
    """MAE's get_2d_sincos_pos_embed on a [rows, cols] grid (AudioMAE's rectangular form)."""
    first, second = np.meshgrid(np.arange(cols), np.arange(rows))  # 'xy': first = column
    table = np.concatenate([mae_1d(dim // 2, first), mae_1d(dim // 2, second)], axis=1)
    if cls_token:
        table = np.concatenate([np.zeros((1, dim)), table], axis=0)
    return table
