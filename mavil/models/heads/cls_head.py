"""Linear classification head on pooled encoder features (MAE / Audio-MAE fine-tuning)."""
import math
from typing import Optional, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mavil.registry import MODELS


BIAS_INITS = ('zero', 'prior')
NORMS = (True, False, 'layer', 'batch')


def prior_logit(num_classes: int) -> float:
    """Log-odds of the uniform class prior ``1 / num_classes``: ``-log(num_classes - 1)``
    (0 for a single class, whose prior is not defined here)."""
    return -math.log(num_classes - 1) if num_classes > 1 else 0.0


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

    Bias initialisation: ``'zero'`` (MAE, AudioMAE) or ``'prior'``: every class's bias at
    the log-odds of the uniform class prior, ``log(p / (1 - p))`` with ``p = 1 / num_classes``,
    so that sigmoid scores (BCE) start at the mean target (RetinaNet's prior initialisation,
    Lin et al. 2017). With BCE and a zero bias, the first gradient asks every logit of every
    clip to fall from 0 to about ``log(p / (1 - p))``; AdamW moves the bias by about ``lr`` a
    step, so the fastest way down is to align every row of the linear weights with one shared
    direction of the normalised features and make that direction every clip's feature. A
    small model on a small data set does exactly that and does not recover (the fine-tuned
    classifier stays at chance, even on its training split); ``'prior'`` leaves no such
    shared push. Softmax scores are unchanged by a bias equal for all classes.

    Args:
        num_classes: number of classes.
        in_dim: feature width; filled in by the classifier from its encoders.
        norm: normalise the pooled features first: ``True`` / ``'layer'`` LayerNorm (MAE's
            ``fc_norm``), ``'batch'`` BatchNorm without affine (MAE's linear-probe head: it
            centres every channel across clips, so a part all clips share does not reach the
            linear layer), ``False`` none.
        dropout: dropout before the linear layer.
        init_std: std of the linear weights' initialisation.
        bias_init: ``'zero'`` or ``'prior'`` (see above).
    """

    def __init__(self,
                 *,
                 num_classes: int,
                 in_dim: int,
                 norm: Union[bool, str] = True,
                 dropout: float = 0.0,
                 init_std: float = 2e-5,
                 bias_init: str = 'zero',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if bias_init not in BIAS_INITS:
            raise ValueError(f'ClsHead.bias_init must be one of {BIAS_INITS}, got {bias_init!r}')
        self.num_classes = num_classes
        self.in_dim = in_dim
        if norm not in NORMS:
            raise ValueError(f'ClsHead.norm must be one of {NORMS}, got {norm!r}')
        if norm == 'batch':  # MAE's linear-probe head: BatchNorm without affine
            self.norm = nn.BatchNorm1d(in_dim, affine=False, eps=1e-6)
        elif norm:
            self.norm = nn.LayerNorm(in_dim, eps=1e-6)
        else:
            self.norm = nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_dim, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=init_std)
        nn.init.constant_(self.fc.bias, prior_logit(num_classes) if bias_init == 'prior' else 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.norm(x)))
