"""Linear classification head on pooled encoder features (MAE / Audio-MAE fine-tuning)."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mavil.registry import MODELS


@MODELS.register_module()
class ClsHead(BaseModule):
    """[B, in_dim] pooled features -> [B, num_classes] logits.

    LayerNorm (MAE's ``fc_norm`` for mean pooling) -> dropout -> linear. The linear layer starts
    near zero (trunc-normal std ``init_std``, zero bias), as in MAE fine-tuning, so the first
    predictions are uninformative whatever the pre-trained features' scale.

    Chosen pooling: MAE's ``global_pool`` head, which the paper cites ("Following MAE [2], we
    only keep the pre-trained encoders and use the average-pooled top-layer outputs", Sec. 4.3)
    and AudioMAE / MAE-ST fine-tune with: the mean of the top block's patch tokens WITHOUT the
    encoder's final norm (``AVClassifier(encoder_norm=False)`` removes it), then this
    LayerNorm as ``fc_norm``. Normalising twice (encoder norm + fc_norm) is what MAE avoids.

    Args:
        num_classes: number of classes.
        in_dim: feature width; filled in by the classifier from its encoders.
        norm: LayerNorm the pooled features first.
        dropout: dropout before the linear layer.
        init_std: std of the linear weights' initialisation.
    """

    def __init__(self,
                 *,
                 num_classes: int,
                 in_dim: int,
                 norm: bool = True,
                 dropout: float = 0.0,
                 init_std: float = 2e-5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        self.num_classes = num_classes
        self.in_dim = in_dim
        self.norm = nn.LayerNorm(in_dim, eps=1e-6) if norm else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_dim, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=init_std)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.norm(x)))
