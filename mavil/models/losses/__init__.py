from .classification import SoftBCELoss, SoftCrossEntropyLoss
from .contrastive import ContrastOutput, InfoNCELoss, gather_with_grad, info_nce
from .reconstruction import MaskedMSELoss

__all__ = [
    'ContrastOutput', 'InfoNCELoss', 'gather_with_grad', 'info_nce', 'MaskedMSELoss',
    'SoftBCELoss', 'SoftCrossEntropyLoss'
]
