"""What a stage-1 (raw-target) MAViL reconstructs: the paper's Fig. 3.

:func:`reconstruct` masks one sample with a seeded mask (the encoders' own ratio and masking
type), runs encoders -> fusion -> decoders and returns, per modality, the input, the masked
input and the reconstruction with the visible patches pasted back, all in the model's input
space (normalised fbank; ImageNet-normalised RGB). :func:`plot_reconstruction` draws them:
three fbank rows (original / masked / reconstruction) and the frames in the same three rows.

Per-patch-normalised targets (``RawTargets(norm_per_patch=True)``, MAE's ``norm_pix_loss``):
the decoder predicts each patch with zero mean and unit variance, so its output must be put
back on the input's scale. By default (``denorm='visible'``) every predicted patch gets the
mean of the visible patches' means and the mean of their standard deviations: statistics of
what the model saw, nothing of the hidden patches leaks into the picture. ``denorm='oracle'``
uses each hidden patch's own mean/std instead (what VideoMAE's visualisation script does); it
looks better but borrows the answer's brightness and contrast.
"""
from dataclasses import dataclass
from typing import Literal, Optional, Sequence

import numpy as np
import torch
from torch import nn

from mavil.models.layers import patchify, sample_mask, unpatchify
from mavil.models.layers.masking import MaskInfo
from mavil.models.targets import RawTargets
from mavil.structures import MODALITIES, AVDataSample

Denorm = Literal['visible', 'oracle', 'none']
ROW_NAMES = ('original', 'masked input', 'reconstruction\n+ visible')


@dataclass
class ModalityReconstruction:
    """One modality of one sample, in the model's input space, ``[C, *S]`` float32 arrays.

    Attributes:
        original: the encoder's input.
        masked: ``original`` with the masked patches set to NaN.
        reconstruction: the decoder's prediction where masked, ``original`` where visible.
        prediction: the decoder's prediction everywhere (de-normalised, nothing pasted).
        pixel_mask: ``[*S]`` bool, True where the patch was masked.
        token_mask: ``[N]`` 1 = masked, 0 = visible (MAE convention).
        patch_size: the encoder's patch (tubelet) size.
    """
    original: np.ndarray
    masked: np.ndarray
    reconstruction: np.ndarray
    prediction: np.ndarray
    pixel_mask: np.ndarray
    token_mask: np.ndarray
    patch_size: tuple[int, ...]

    @property
    def mask_ratio(self) -> float:
        return float(self.token_mask.mean())


def as_batch(data: dict) -> dict:
    """A packed sample (``PackAVInputs`` output) or a collated batch -> a collated batch."""
    samples = data.get('data_samples')
    if isinstance(samples, AVDataSample) or (
            samples is None and all(isinstance(x, torch.Tensor) for x in data['inputs'].values())
            and _looks_single(data['inputs'])):
        return dict(inputs={m: [x] for m, x in data['inputs'].items()},
                    data_samples=None if samples is None else [samples])
    return data


def _looks_single(inputs: dict) -> bool:
    # one sample: audio [1, T, F] (3-D), video [3, T, H, W] (4-D)
    return all(x.dim() == (3 if m == 'audio' else 4) for m, x in inputs.items())


def check_raw_targets(model: nn.Module) -> RawTargets:
    """The model's target generator, if it predicts raw patches; a clear error otherwise."""
    target = getattr(model, 'target', None)
    if not isinstance(target, RawTargets):
        kind = type(target).__name__ if target is not None else 'no target generator'
        raise TypeError(
            f'reconstruction figures need a model trained on raw patches (RawTargets, stage 1); '
            f'{type(model).__name__} predicts {kind} targets, which are teacher tokens, '
            f'not pixels or fbank values, so there is nothing to draw')
    return target


@torch.no_grad()
def reconstruct(model: nn.Module, data: dict, *, seed: int = 0, index: int = 0,
                denorm: Denorm = 'visible') -> dict[str, ModalityReconstruction]:
    """Mask one sample, reconstruct it, return the arrays of Fig. 3.

    Args:
        model: a ``MAViL`` model with ``RawTargets`` (stage 1).
        data: one packed sample ``{'inputs': {'audio': [1, T, F], 'video': [3, T, H, W]},
            'data_samples': AVDataSample}`` or a collated batch of them (raw, as the data
            pipeline packs them: the model's data preprocessor normalises).
        seed: seeds the masks (audio first, then video); the same seed gives the same figure.
        index: which sample of a batch.
        denorm: how predictions of per-patch-normalised targets are de-normalised (see the
            module docstring); ignored when the targets are not normalised per patch.

    Returns:
        ``{'audio': ModalityReconstruction, 'video': ModalityReconstruction}``.
    """
    target = check_raw_targets(model)
    from mavil.apis.inference import require_weights
    require_weights(model, [*model.encoders.values(), model.fusion, model.audio_decoder,
                            model.video_decoder], 'reconstruct')
    if denorm not in ('visible', 'oracle', 'none'):
        raise ValueError(f"denorm must be 'visible', 'oracle' or 'none', got {denorm!r}")
    was_training = model.training
    model.eval()
    try:
        batch = model.data_preprocessor(as_batch(data), False)['inputs']
        inputs = {m: batch[m][index:index + 1] for m in MODALITIES}  # [1, C, *S]
        if inputs['video'].dim() == 6:  # multi-clip test pipeline: the first clip
            inputs['video'] = inputs['video'][:, 0]
        generator = torch.Generator().manual_seed(seed)
        masks, encoded = {}, {}
        for m in MODALITIES:
            encoder = model.encoders[m]
            masks[m] = _to(sample_mask(1, encoder.grid_size, encoder.mask_ratio,
                                       mode=encoder.mask_type, generator=generator),
                           inputs[m].device)
            encoded[m] = encoder.encode(encoder.embed(inputs[m]), masks[m])  # [1, 1 + K, D]
        fused = dict(zip(MODALITIES, model.fuse(encoded['audio'], encoded['video'])))
        decoders = {'audio': model.audio_decoder, 'video': model.video_decoder}
        return {m: _assemble(inputs[m], decoders[m](fused[m], masks[m]),  # [1, N, P]
                             masks[m], model.encoders[m], target, denorm)
                for m in MODALITIES}
    finally:
        model.train(was_training)


def _to(mask: MaskInfo, device: torch.device) -> MaskInfo:
    return MaskInfo(mask.ids_keep.to(device), mask.ids_restore.to(device), mask.mask.to(device))


def _assemble(x: torch.Tensor, pred: torch.Tensor, mask: MaskInfo, encoder: nn.Module,
              target: RawTargets, denorm: Denorm) -> ModalityReconstruction:
    """x [1, C, *S], pred [1, N, P] -> arrays with the visible patches pasted back."""
    patch_size = tuple(encoder.patch_embed.patch_size)
    grid, channels = tuple(encoder.grid_size), x.shape[1]
    patches = patchify(x, patch_size)  # [1, N, P]
    masked = mask.mask[..., None].bool()  # [1, N, 1]
    pred = pred.float()
    if target.norm_per_patch and denorm != 'none':
        pred = denormalize_patches(pred, patches, masked[..., 0], mode=denorm, eps=target.eps)
    pasted = torch.where(masked, pred, patches)
    hidden = torch.where(masked, torch.full_like(patches, float('nan')), patches)
    pixel_mask = unpatchify(masked.expand_as(patches).float(), patch_size, grid, channels)

    def image(p: torch.Tensor) -> np.ndarray:
        return unpatchify(p, patch_size, grid, channels)[0].cpu().numpy()

    return ModalityReconstruction(
        original=x[0].float().cpu().numpy(), masked=image(hidden), reconstruction=image(pasted),
        prediction=image(pred), pixel_mask=pixel_mask[0, 0].bool().cpu().numpy(),
        token_mask=mask.mask[0].cpu().numpy(), patch_size=patch_size)


def denormalize_patches(pred: torch.Tensor, patches: torch.Tensor, masked: torch.Tensor, *,
                        mode: Denorm = 'visible', eps: float = 1e-6) -> torch.Tensor:
    """Undo per-patch normalisation of predictions ``pred`` [B, N, P].

    ``patches`` [B, N, P] are the true patches, ``masked`` [B, N] bool. 'visible': one mean
    (the average of the visible patches' means) and one scale (the average of their standard
    deviations, ``sqrt(var + eps)`` as in the target) per sample; 'oracle': each patch's own.
    """
    mean = patches.mean(dim=-1, keepdim=True)  # [B, N, 1]
    std = (patches.var(dim=-1, keepdim=True) + eps).sqrt()
    if mode == 'oracle':
        return pred * std + mean
    visible = (~masked).float()[..., None]  # [B, N, 1]
    count = visible.sum(dim=1, keepdim=True)
    mean_vis = (mean * visible).sum(dim=1, keepdim=True) / count  # [B, 1, 1]
    std_vis = (std * visible).sum(dim=1, keepdim=True) / count
    return pred * std_vis + mean_vis


# ------------------------------------------------------------------------------ drawing
def display_arrays(recs: dict[str, ModalityReconstruction], *,
                   rgb_mean: Sequence[float], rgb_std: Sequence[float],
                   mask_gray: float = 0.5) -> dict[str, list[np.ndarray]]:
    """What the figure shows, row by row (original, masked, reconstruction).

    audio: three ``[F, T]`` fbank images (frequency up, time to the right; NaN = masked);
    video: three ``[T, H, W, 3]`` RGB stacks in [0, 1] (masked patches gray)."""
    out = {}
    if 'audio' in recs:
        a = recs['audio']
        out['audio'] = [r[0].T for r in (a.original, a.masked, a.reconstruction)]
    if 'video' in recs:
        v = recs['video']
        mean = np.asarray(rgb_mean, dtype=np.float32).reshape(-1, 1, 1, 1) / 255.0
        std = np.asarray(rgb_std, dtype=np.float32).reshape(-1, 1, 1, 1) / 255.0
        rows = []
        for r in (v.original, v.masked, v.reconstruction):
            rgb = np.clip(r * std + mean, 0.0, 1.0)  # [3, T, H, W]
            rgb = np.where(np.isnan(r), mask_gray, rgb)
            rows.append(rgb.transpose(1, 2, 3, 0))  # [T, H, W, 3]
        out['video'] = rows
    return out


def plot_reconstruction(recs: dict[str, ModalityReconstruction], *,
                        rgb_mean: Sequence[float], rgb_std: Sequence[float],
                        title: Optional[str] = None):
    """Fig. 3 layout: fbank rows on top (spanning the width), then one column per frame.

    Returns a matplotlib ``Figure`` (Agg); the caller saves or closes it.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib import gridspec

    shown = display_arrays(recs, rgb_mean=rgb_mean, rgb_std=rgb_std)
    frames = shown['video'][0].shape[0] if 'video' in shown else 1
    fig = plt.figure(figsize=(max(1.6 * frames, 8), 9.5))
    # rows: 3 fbank, a caption row for the video, 3 frame rows
    grid = gridspec.GridSpec(7, frames, figure=fig, height_ratios=[1.2] * 3 + [0.25] + [1] * 3,
                             hspace=0.35, wspace=0.05)
    if 'audio' in shown:
        a = recs['audio']
        cmap = matplotlib.colormaps['magma'].with_extremes(bad='0.5')  # NaN = masked: gray
        vmin, vmax = np.nanmin(shown['audio'][0]), np.nanmax(shown['audio'][0])
        for row, (name, img) in enumerate(zip(ROW_NAMES, shown['audio'])):
            ax = fig.add_subplot(grid[row, :])
            ax.imshow(img, origin='lower', aspect='auto', cmap=cmap, vmin=vmin, vmax=vmax,
                      interpolation='nearest')
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_ylabel(f'audio\n{name}', fontsize=8)
        fig.axes[0].set_title(f'fbank (time ->, {a.original.shape[1]} frames x '
                              f'{a.original.shape[2]} mel bins), {a.mask_ratio:.0%} of '
                              f'{a.token_mask.size} patches masked', fontsize=9)
    if 'video' in shown:
        v = recs['video']
        for row, (name, stack) in enumerate(zip(ROW_NAMES, shown['video'])):
            for t in range(frames):
                ax = fig.add_subplot(grid[4 + row, t])
                ax.imshow(stack[t], interpolation='nearest')
                ax.set_xticks([]), ax.set_yticks([])
                if t == 0:
                    ax.set_ylabel(f'video\n{name}', fontsize=8)
                if row == 0:
                    ax.set_title(f'frame {t}', fontsize=8)
        caption = fig.add_subplot(grid[3, :])
        caption.axis('off')
        caption.text(0.5, 0.0, f'video ({frames} frames): {v.mask_ratio:.0%} of '
                     f'{v.token_mask.size} tubelets {"x".join(map(str, v.patch_size))} masked',
                     ha='center', va='bottom', fontsize=9, transform=caption.transAxes)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def visualize_reconstruction(model: nn.Module, data: dict, *, seed: int = 0, index: int = 0,
                             denorm: Denorm = 'visible', out_file: Optional[str] = None,
                             title: Optional[str] = None):
    """:func:`reconstruct` + :func:`plot_reconstruction`; saves to ``out_file`` if given.

    Returns:
        (figure, arrays): the matplotlib ``Figure`` and the :func:`reconstruct` arrays.
    """
    recs = reconstruct(model, data, seed=seed, index=index, denorm=denorm)
    pre = model.data_preprocessor
    fig = plot_reconstruction(recs, rgb_mean=pre.rgb_mean.flatten().tolist(),
                              rgb_std=pre.rgb_std.flatten().tolist(), title=title)
    if out_file is not None:
        fig.savefig(out_file, dpi=110, bbox_inches='tight')
    return fig, recs
