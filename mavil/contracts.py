"""What a model component must provide to plug into ``MAViL`` and ``AVClassifier``.

Each contract is a :class:`typing.Protocol`: a plugin meets it by having the members, without
importing or subclassing anything from mavil. Models check their parts against these at
build time (:func:`check_contract`), so a component that lacks a member fails with the
member's name instead of an ``AttributeError`` deep inside a training step.

The data-side contracts are base classes beside the code they share:
:class:`mavil.datasets.readers.MediaReader` (a media backend) and
:class:`mavil.datasets.annotations.AnnotationFormat` (an annotation file format).
"""
from typing import TYPE_CHECKING, Optional, Protocol, Sequence, runtime_checkable

import torch

if TYPE_CHECKING:  # the contracts stay importable without the model package
    from mavil.models.layers import MaskInfo


@runtime_checkable
class PatchGrid(Protocol):
    """The patch embedding of an encoder: how its input is cut into tokens.

    Attributes:
        input_size: input size without channels, e.g. (1024, 128) or (8, 224, 224).
        patch_size: patch size per input dimension, e.g. (16, 16) or (2, 16, 16).
        grid_size: tokens per input dimension (``input_size // patch_size``).
        in_channels: input channels (1 for fbank, 3 for RGB).
    """
    input_size: Sequence[int]
    patch_size: Sequence[int]
    grid_size: Sequence[int]
    in_channels: int


@runtime_checkable
class MaskedEncoder(Protocol):
    """An encoder of one modality that sees masked views (``AudioViT``, ``VideoViT``).

    Attributes:
        embed_dim: token width D; fusion necks, decoders and the contrast derive theirs from it.
        grid_size: token grid N = prod(grid_size) patches; decoders unshuffle onto it.
        patch_embed: the :class:`PatchGrid` (raw targets are cut with its ``patch_size``).
        mask_ratio: fraction of tokens removed in a training view.
        mask_type: masking mode passed to ``mavil.models.layers.sample_mask``.
    """
    embed_dim: int
    grid_size: Sequence[int]
    patch_embed: PatchGrid
    mask_ratio: float
    mask_type: str

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, *input_size] -> [B, N, D] patch tokens with positions, no [CLS]."""

    def sample_mask(self, batch_size: int, device: torch.device) -> 'MaskInfo':
        """A fresh mask per sample, keeping K of the N tokens."""

    def encode(self, tokens: torch.Tensor, mask: Optional['MaskInfo'] = None) -> torch.Tensor:
        """[B, N, D] embedded tokens -> [B, 1 + K, D] ([CLS] first); K = N without a mask."""

    def encode_views(self, tokens: torch.Tensor,
                     masks: Sequence['MaskInfo']) -> list[torch.Tensor]:
        """V masked views of the same tokens -> V tensors [B, 1 + K, D]."""

    def forward(self, x: torch.Tensor,
                masked: bool = True) -> tuple[torch.Tensor, Optional['MaskInfo']]:
        """One view of raw input: ([B, 1 + K, D], its mask or None when ``masked=False``)."""


@runtime_checkable
class FusionNeck(Protocol):
    """The audio-video fusion g_av (``JointFusion``, ``MBTFusion``).

    Attributes:
        embed_dim: token width; ``build_fusion`` sets it to the encoders' width.
    """
    embed_dim: int

    def forward(self, audio: torch.Tensor,
                video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """audio [B, La, D], video [B, Lv, D] -> fused tokens of the same shapes."""


@runtime_checkable
class TargetGenerator(Protocol):
    """The reconstruction targets (``RawTargets`` in stage 1, ``TeacherTargets`` in stage 2)."""

    def check_compatible(self, encoders: dict[str, torch.nn.Module]) -> None:
        """Raise ValueError if targets cannot be made for these student encoders (e.g. a
        teacher's token grid differs from the student's). Called once, at build time."""

    def out_dim(self, encoder: torch.nn.Module) -> int:
        """Target width P for one student encoder; it sizes that modality's decoder head."""

    def forward(self, inputs: dict[str, torch.Tensor],
                encoders: dict[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
        """inputs {modality: raw batch} -> {modality: [B, N, P]}, one target per token."""


def contract_members(contract: type) -> list[str]:
    """The attribute and method names a :class:`typing.Protocol` requires, sorted."""
    names = set()
    for klass in contract.__mro__:
        if klass in (Protocol, object) or not getattr(klass, '_is_protocol', False):
            continue
        names.update(getattr(klass, '__annotations__', {}))
        names.update(name for name, value in vars(klass).items()
                     if callable(value) and not name.startswith('_'))
    return sorted(names)


def check_contract(component: object, contract: type, where: str) -> None:
    """Raise TypeError naming ``where`` and each missing member if ``component`` does not
    meet ``contract``.

    Args:
        component: a built component.
        contract: one of the protocols above.
        where: the config field that built it, e.g. ``'model.target'``.
    """
    if isinstance(component, contract):
        return
    missing = [name for name in contract_members(contract) if not hasattr(component, name)]
    raise TypeError(f'{where}: {type(component).__name__} does not meet the '
                    f'{contract.__name__} contract (mavil.contracts); missing: '
                    f'{", ".join(missing)}')
