from .masked_decoder import MaskedDecoder

__all__ = ['MaskedDecoder']
from .cls_head import ClsHead  # noqa: E402

__all__ += ['ClsHead']
