from .masked_decoder import MaskedDecoder

__all__ = ['MaskedDecoder']
