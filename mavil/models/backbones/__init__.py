from .vit_encoder import VIT_ARCHS, AudioViT, MaskedViTEncoder, VideoViT, resolve_arch

__all__ = ['VIT_ARCHS', 'AudioViT', 'MaskedViTEncoder', 'VideoViT', 'resolve_arch']
