"""What one training step of MAViL draws and encodes: masks, views, and the RNG state that
reproduces the encoders' random draws (for the replay pass of exact contrast accumulation)."""
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

import torch

from ..layers import MaskInfo


@dataclass
class StepMasks:
    """One masked view per modality (reconstructed; first view of both contrasts) and, with
    intra-modal contrast, a second one (``*_2``)."""
    audio: MaskInfo
    video: MaskInfo
    audio_2: Optional[MaskInfo] = None
    video_2: Optional[MaskInfo] = None


@dataclass
class EncodedViews:
    """a_um [B, 1 + Ka, D], v_um [B, 1 + Kv, D] and the contrastive embeddings [B, D]:
    'audio', 'video' and, with intra-modal contrast, 'audio_2', 'video_2'."""
    audio: torch.Tensor
    video: torch.Tensor
    embeddings: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class RNGState:
    """The global CPU generator's state and, on CUDA, that of the given device."""
    cpu: torch.Tensor
    device: torch.device
    cuda: Optional[torch.Tensor] = None

    @classmethod
    def capture(cls, device: torch.device) -> 'RNGState':
        device = torch.device(device)
        cuda = torch.cuda.get_rng_state(device) if device.type == 'cuda' else None
        return cls(cpu=torch.get_rng_state(), device=device, cuda=cuda)

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, self.device)


@contextmanager
def replay_rng(state: RNGState) -> Iterator[None]:
    """Run the body with the generators set to ``state``; afterwards they continue from where
    they were before (the replayed draws are not drawn again by later code)."""
    outer = RNGState.capture(state.device)
    state.restore()
    try:
        yield
    finally:
        outer.restore()
