"""A clip cache written once: every frame and the audio the pipelines can ask for, decoded
from the source files once and stored in tar shards with an index (``build_cache``, or
``tools/data/build_cache.py``), read back by the ``LoadCachedClip`` transform."""
from .build import BuildReport, build_cache, choose_jpeg_quality, key_hash
from .format import decode_record, encode_record
from .reader import CacheError, CachedRecord, ClipCache
from .settings import CacheSettings, settings_from_pipelines
from .transform import CACHED_FBANK, LoadCachedClip

__all__ = [
    'build_cache', 'BuildReport', 'choose_jpeg_quality', 'key_hash', 'encode_record',
    'decode_record', 'ClipCache', 'CachedRecord', 'CacheError', 'CacheSettings',
    'settings_from_pipelines', 'LoadCachedClip', 'CACHED_FBANK'
]
