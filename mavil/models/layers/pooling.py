"""Instance embeddings from encoder tokens, and videos given as several clips."""
import torch
from torch import nn


def mean_pool(tokens: torch.Tensor) -> torch.Tensor:
    """Instance embedding: mean over patch tokens, [CLS] excluded. [B, 1 + K, D] -> [B, D]."""
    return tokens[:, 1:].mean(dim=1)


def flatten_clips(video: torch.Tensor) -> tuple[torch.Tensor, int]:
    """[B, N, 3, T, H, W] (N clips per video) -> ([B * N, 3, T, H, W], N); a single clip
    [B, 3, T, H, W] -> (video, 1)."""
    if video.dim() == 6:
        return video.flatten(0, 1), video.shape[1]
    if video.dim() == 5:
        return video, 1
    raise ValueError(f'video must be [B, 3, T, H, W] or [B, N, 3, T, H, W], got '
                     f'{list(video.shape)}')


def mean_over_clips(values: torch.Tensor, num_clips: int) -> torch.Tensor:
    """[B * N, ...] (the N clips of each video in a row) -> [B, ...]: the mean over clips."""
    return values.view(-1, num_clips, *values.shape[1:]).mean(dim=1)


def full_view_embedding(encoder: nn.Module, inputs: torch.Tensor,
                        modality: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Unmasked ``encoder`` pass -> (embedding [B, D], tokens [B, (N,) 1 + L, D]).

    A video of N clips ``[B, N, 3, T, H, W]`` is encoded clip by clip; its embedding is the
    mean of the clips' embeddings and its tokens keep the clip axis."""
    flat, num_clips = flatten_clips(inputs) if modality == 'video' else (inputs, 1)
    tokens = encoder(flat, masked=False)[0]  # [B * N, 1 + L, D]
    embedding = mean_pool(tokens)
    if flat.dim() < inputs.dim():  # the clip axis was flattened
        embedding = mean_over_clips(embedding, num_clips)
        tokens = tokens.view(-1, num_clips, *tokens.shape[1:])
    return embedding, tokens
