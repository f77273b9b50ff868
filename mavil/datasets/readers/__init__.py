"""Media readers behind one interface, picked by name: ``'decord'`` (default) or ``'pyav'``."""
from typing import Dict, Type

from .base import (ClipTooShortError, CorruptMediaError, MediaError, MediaInfo,
                   MediaNotFoundError, MediaReader, MissingStreamError, check_file,
                   container_info, open_container, probe)
from .decord_reader import DecordReader
from .pyav_reader import PyAVReader

READERS: Dict[str, Type[MediaReader]] = {'decord': DecordReader, 'pyav': PyAVReader}


def open_media(filename: str, *, backend: str = 'decord', **kwargs) -> MediaReader:
    """Open ``filename`` with the named backend.

    Args:
        filename: path of the media file.
        backend: a key of :data:`READERS`.
        **kwargs: reader options (``duration_tolerance``, ``num_threads``).
    """
    if backend not in READERS:
        raise KeyError(f'unknown media backend {backend!r}; choose one of {sorted(READERS)}')
    return READERS[backend](str(filename), **kwargs)


__all__ = [
    'READERS', 'open_media', 'MediaReader', 'DecordReader', 'PyAVReader', 'MediaInfo', 'probe',
    'check_file', 'open_container', 'container_info', 'MediaError', 'MediaNotFoundError',
    'CorruptMediaError', 'MissingStreamError', 'ClipTooShortError'
]
