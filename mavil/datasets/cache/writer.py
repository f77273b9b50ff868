"""Writing a cache: one source file -> one record (:func:`encode_clip`), records -> a tar
shard (:class:`ShardWriter`)."""
import os
import tarfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mavil.datasets.readers import MissingStreamError, open_media
from mavil.datasets.transforms.audio import AudioResample, KaldiFbank
from mavil.datasets.transforms.video import ClipSampler, VideoResize, resize_video
from .format import RECORD_SUFFIX, array_bytes, encode_audio, encode_frame, encode_record
from .settings import CacheSettings, fbank_settings


def cached_times(settings: CacheSettings, video_duration: float) -> np.ndarray:
    """Timestamps whose frames a clip of ``video_duration`` s caches: the ``settings.fps``
    grid over the whole clip and every test sampler's timestamps. float64 ``[M]``."""
    grid = np.arange(int(np.ceil(video_duration * settings.fps - 1e-9))) / settings.fps
    tests = [ClipSampler(num_frames=f, fps=r, num_clips=n, test_mode=True)(video_duration)
             for f, r, n in settings.test_samplers]
    return np.concatenate([grid] + [t.reshape(-1) for t in tests])


def cached_size(settings: CacheSettings, height: int, width: int) -> Tuple[int, int]:
    """Cached frame size: short side ``settings.short_side`` (never enlarged)."""
    if settings.short_side is None or min(height, width) <= settings.short_side:
        return height, width
    return VideoResize(short_side=settings.short_side).output_size(height, width)


def source_frames(reader, settings: CacheSettings
                  ) -> Tuple[np.ndarray, torch.Tensor, Tuple[int, int]]:
    """(sorted source indices ``[K]``, frames uint8 ``[K, h, w, 3]`` at the cached size,
    the source frame size ``(H, W)``)."""
    index = np.unique(reader.frame_indices(cached_times(settings, reader.video_duration)))
    frames = reader.read_frames(reader.frame_times[index])  # [K, H, W, 3]
    source_size = tuple(frames.shape[1:3])
    size = cached_size(settings, *source_size)
    if size != source_size:
        # the pipelines' own resize (VideoResize), on the [3, K, H, W] layout they see
        frames = resize_video(frames.permute(3, 0, 1, 2), size).permute(1, 2, 3, 0)
    return index, frames, source_size


def clip_audio(reader, settings: CacheSettings, filename: str) -> Tuple[torch.Tensor, float]:
    """(mono waveform ``[1, S]`` at the cache rate, or its fbank ``[T, F]`` (fbank16); the
    decoded audio's length in seconds)."""
    results = dict(filename=filename)
    results['waveform'], results['sample_rate'] = reader.read_audio()
    seconds = results['waveform'].shape[1] / results['sample_rate']
    results = AudioResample(sample_rate=settings.sample_rate).transform(results)
    if settings.audio_format != 'fbank16':
        return results['waveform'], seconds
    return KaldiFbank(**fbank_settings(settings)).transform(results)['audio'][0], seconds


def encode_clip(key: str, filename: str, settings: CacheSettings,
                jpeg_quality: int) -> bytes:
    """Decode ``filename`` once and pack what ``settings`` asks for into a record.

    Raises:
        MediaError: the file is unusable (missing, corrupt, truncated, lacks a stream).
    """
    blobs: Dict[str, bytes] = {}
    with open_media(filename, backend=settings.backend, num_threads=1,
                    **({} if 'video' in settings.modalities else {'read_video': False})) as reader:
        for modality in settings.modalities:
            if not getattr(reader, f'has_{modality}'):
                raise MissingStreamError(filename, f'has no {modality} stream, which the '
                                         f'cache needs (modalities={settings.modalities})')
        meta = dict(duration=reader.duration, modalities=list(settings.modalities))
        if 'video' in settings.modalities:
            index, frames, source_size = source_frames(reader, settings)
            height, width = frames.shape[1:3]
            blobs['frame_times'] = array_bytes(reader.frame_times.astype(np.float64))
            blobs['frame_index'] = array_bytes(index.astype(np.int32))
            for k, frame in enumerate(frames):
                blobs[f'frame/{k}'] = encode_frame(frame, settings.frame_format, jpeg_quality)
            meta.update(video_duration=reader.video_duration, fps=reader.fps,
                        num_frames=reader.num_frames, frame_shape=[height, width],
                        frame_format=settings.frame_format,
                        original_shape=list(source_size))
        if 'audio' in settings.modalities:
            audio, seconds = clip_audio(reader, settings, filename)
            blobs['audio'] = encode_audio(audio, settings.audio_format)
            meta.update(audio_format=settings.audio_format, audio_shape=list(audio.shape),
                        sample_rate=settings.sample_rate, audio_seconds=seconds)
    return encode_record(key, meta, blobs)


class ShardWriter:
    """Appends records to ``path`` (a tar file, each record one member
    ``<number>.mavilclip``) and remembers where each record's bytes lie.

    Written to ``path + '.tmp'`` and renamed on :meth:`close`, so a shard file that exists is
    complete.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._tmp = path + '.tmp'
        self._tar = tarfile.open(self._tmp, 'w', format=tarfile.USTAR_FORMAT)
        self.entries: List[Tuple[str, int, int]] = []  # (key, data offset, size)

    def add(self, number: int, key: str, record: bytes) -> None:
        info = tarfile.TarInfo(f'{number:09d}.{RECORD_SUFFIX}')
        info.size = len(record)
        info.mode = 0o644
        self._tar.addfile(info, _BytesReader(record))
        # the member's data ends at the offset, less the padding to a 512-byte block
        padded = -(-len(record) // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
        self.entries.append((key, self._tar.offset - padded, len(record)))

    def close(self) -> int:
        """Finish the tar and move it into place; returns its size in bytes."""
        self._tar.close()
        os.replace(self._tmp, self.path)
        return os.path.getsize(self.path)

    def abort(self) -> None:
        self._tar.close()
        if os.path.exists(self._tmp):
            os.remove(self._tmp)


class _BytesReader:
    """Minimal file object over ``bytes`` for ``TarFile.addfile`` (no copy into BytesIO)."""

    def __init__(self, data: bytes) -> None:
        self._view, self._pos = memoryview(data), 0

    def read(self, size: Optional[int] = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        chunk = self._view[self._pos:end]
        self._pos += len(chunk)
        return bytes(chunk)

    def readinto(self, buffer) -> int:
        chunk = self._view[self._pos:self._pos + len(buffer)]
        buffer[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def keys_digest(keys: Sequence[str]) -> str:
    """A fingerprint of the ordered clip list (a resumed build must see the same list)."""
    import hashlib
    digest = hashlib.sha1()
    for key in keys:
        digest.update(key.encode())
        digest.update(b'\0')
    return digest.hexdigest()
