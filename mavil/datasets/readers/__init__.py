"""Media readers behind one interface, registered in ``MEDIA_READERS`` by backend name:
``'pyav'`` (the default: the fastest on the CPUs measured in docs/performance.md),
``'decord'`` or ``'torchcodec'`` (NVDEC on CUDA); a plugin adds its own through
``custom_imports``."""
from .base import (ClipTooShortError, CorruptMediaError, MediaError, MediaInfo,
                   MediaNotFoundError, MediaReader, MissingStreamError, check_file,
                   container_info, media_reader, open_container, open_media, probe)
from .decord_reader import DecordReader
from .pyav_reader import PyAVReader
from .torchcodec_reader import TorchCodecReader

__all__ = [
    'open_media', 'media_reader', 'MediaReader', 'DecordReader', 'PyAVReader', 'TorchCodecReader',
    'MediaInfo',
    'probe', 'check_file', 'open_container', 'container_info', 'MediaError',
    'MediaNotFoundError', 'CorruptMediaError', 'MissingStreamError', 'ClipTooShortError'
]
