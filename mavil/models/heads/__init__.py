from .cls_head import ClsHead
from .masked_decoder import MaskedDecoder

__all__ = ['MaskedDecoder', 'ClsHead']
