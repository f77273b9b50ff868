"""Reading a cache: clip key -> (shard, offset, size) from ``index.npz``, then the record's
header and just the blobs a sample needs, each with one ``os.pread``."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from mavil.datasets import readers
from mavil.datasets.readers import CorruptMediaError, MediaError, MediaNotFoundError
from .build import INDEX, MANIFEST, UNUSABLE, clip_key, key_hash, shard_name
from .format import (VERSION, RecordError, check_blob, decode_audio, decode_frames_into,
                     parse_header, parse_prefix, payload_start)
from .settings import CacheSettings

HEADER_READ = 8192  # first read of a record: prefix, header and usually the small blobs


class CacheError(RuntimeError):
    """The cache folder itself is unusable (missing files, a shard of the wrong size)."""


class CachedRecord:
    """One clip's record, opened: ``meta`` and lazily read, checked blobs.

    The first read (``HEADER_READ`` bytes) is kept: blobs inside it (the frame times and
    index, and whole small records) are served from it without another read."""

    def __init__(self, cache: 'ClipCache', filename: str, shard: int, offset: int,
                 size: int) -> None:
        self.cache, self.filename, self.shard = cache, filename, shard
        self.offset, self.size = offset, size
        head = self._pread_into(offset, min(size, HEADER_READ))
        header_len = self._call(parse_prefix, head)
        if len(head) < payload_start(header_len):
            if payload_start(header_len) > size:
                raise self.error(f'header of {header_len} bytes exceeds the {size}-byte record')
            head = self._pread_into(offset, payload_start(header_len))
        header = self._call(parse_header, head)
        self._head = head
        self._payload = offset + payload_start(header_len)
        self.key, self.meta, self.blobs = header['key'], header['meta'], header['blobs']

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except RecordError as err:
            raise self.error(str(err)) from err

    def error(self, problem: str) -> CorruptMediaError:
        """A CorruptMediaError for the clip that names the shard and the record."""
        path = self.cache.shard_path(self.shard)
        return CorruptMediaError(self.filename, f'cache shard {path} (record at byte '
                                 f'{self.offset}): {problem}')

    def _pread_into(self, offset: int, length: int) -> memoryview:
        """``length`` bytes at ``offset`` of the shard, in writable memory (decoders then
        read it without a copy; not zero-filled first)."""
        buffer = np.empty(length, dtype=np.uint8)
        got = os.preadv(self.cache.shard_fd(self.shard), [buffer], offset)
        if got != length:
            raise self.error(f'shard ends at byte {offset + got}, the record needs '
                             f'{offset + length} (truncated shard)')
        return memoryview(buffer)

    def _span(self, start: int, end: int) -> memoryview:
        """Payload bytes ``[start, end)``: from the first read when it holds them."""
        head_start = self._payload - self.offset
        if head_start + end <= len(self._head):
            return self._head[head_start + start:head_start + end]
        return self._pread_into(self._payload + start, end - start)

    def read(self, names: Sequence[str]) -> Dict[str, memoryview]:
        """The named blobs (one read over the span they cover), checked against their CRC;
        writable views of that read."""
        if not names:
            return {}
        missing = [n for n in names if n not in self.blobs]
        if missing:
            raise self.error(f'record has no blob {missing[0]!r}')
        start = min(self.blobs[n][0] for n in names)
        end = max(self.blobs[n][0] + self.blobs[n][1] for n in names)
        if self._payload + end > self.offset + self.size:
            raise self.error('a blob lies past the end of its record')
        span = self._span(start, end)
        out = {}
        for name in names:
            offset, length, _ = self.blobs[name]
            out[name] = self._call(check_blob, name, span[offset - start:offset - start + length],
                                   self.blobs[name])
        return out

    def frames(self, positions: np.ndarray) -> torch.Tensor:
        """Cached frames at ``positions`` (indices into ``frame_index``): uint8
        ``[len(positions), h, w, 3]``; each distinct frame is decoded once."""
        unique, inverse = np.unique(positions, return_inverse=True)
        names = [f'frame/{k}' for k in unique]
        data = self.read(names)
        height, width = self.meta['frame_shape']
        frames = torch.empty(len(unique), height, width, 3, dtype=torch.uint8)
        self._call(decode_frames_into, [data[n] for n in names], self.meta['frame_format'],
                   frames)
        if len(unique) == len(positions) and np.all(np.diff(positions) > 0):
            return frames
        return frames.index_select(0, torch.from_numpy(inverse.reshape(-1)))

    def audio(self) -> torch.Tensor:
        data = self.read(['audio'])['audio']
        return self._call(decode_audio, data, self.meta['audio_format'],
                          self.meta['audio_shape'])


class ClipCache:
    """A built cache folder, opened for reading (see :mod:`.build` for its layout).

    The index is loaded and shard files are opened lazily, per process (a data-loader worker
    opens its own after the fork).

    Args:
        root: the cache folder.
        data_prefix: prefix of the file names the dataset passes (its ``data_prefix``): a
            name is looked up with it removed. None: the prefix recorded at build time.
    """

    def __init__(self, root: str, data_prefix: Optional[str] = None) -> None:
        self.root = str(root)
        manifest_path = osp.join(self.root, MANIFEST)
        if not osp.isfile(manifest_path):
            raise CacheError(f'{self.root} is not a clip cache: no {MANIFEST} (build one with '
                             'tools/data/build_cache.py)')
        with open(manifest_path) as f:
            self.manifest = json.load(f)
        if not osp.isfile(osp.join(self.root, INDEX)):
            raise CacheError(f'{self.root}: no {INDEX}; the build did not finish (run '
                             'tools/data/build_cache.py again to resume it)')
        if self.manifest.get('format') != VERSION:
            raise CacheError(f'{self.root} holds records of format {self.manifest.get("format")}'
                             f', this code reads format {VERSION}: rebuild it')
        self.settings = CacheSettings.from_dict(self.manifest['settings'])
        self.data_prefix = (self.manifest.get('data_prefix', '') if data_prefix is None else
                            data_prefix)
        self._pid: Optional[int] = None
        self._fds: Dict[int, int] = {}

    # --- per-process state ----------------------------------------------------------------
    def _load(self) -> None:
        if self._pid == os.getpid():
            return
        self._fds = {}  # descriptors of the parent process are not ours to reuse
        with np.load(osp.join(self.root, INDEX), allow_pickle=False) as index:
            self._hash, self._shard = index['hash'], index['shard']
            self._offset, self._size = index['offset'], index['size']
            self._shard_bytes = index['shard_bytes']
        self._unusable = {}
        path = osp.join(self.root, UNUSABLE)
        if osp.isfile(path):
            with open(path) as f:
                for line in f:
                    key, kind, reason = line.rstrip('\n').split('\t', 2)
                    self._unusable[key] = (kind, reason)
        self._pid = os.getpid()

    def shard_path(self, shard: int) -> str:
        return osp.join(self.root, shard_name(shard) + '.tar')

    def shard_fd(self, shard: int) -> int:
        fd = self._fds.get(shard)
        if fd is None:
            path = self.shard_path(shard)
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError as err:
                raise CacheError(f'cache shard {path} is missing') from err
            if os.fstat(fd).st_size != self._shard_bytes[shard]:
                size = os.fstat(fd).st_size
                os.close(fd)
                raise CacheError(f'cache shard {path} is {size} bytes, the index says '
                                 f'{self._shard_bytes[shard]} (truncated or replaced: run '
                                 'tools/data/build_cache.py again to rebuild it)')
            self._fds[shard] = fd
        return fd

    def check_shards(self) -> List[str]:
        """Problems of the shard files (missing, wrong size), one line each."""
        self._load()
        problems = []
        for i, expected in enumerate(self._shard_bytes):
            path = self.shard_path(i)
            if not osp.isfile(path):
                problems.append(f'{path} is missing')
            elif osp.getsize(path) != expected:
                problems.append(f'{path} is {osp.getsize(path)} bytes, the index says {expected}')
        return problems

    # --- lookup ---------------------------------------------------------------------------
    def key_of(self, filename: str) -> str:
        """The cache key of a dataset file name: the name relative to ``data_prefix``."""
        return clip_key(filename, self.data_prefix)

    def open(self, filename: str) -> CachedRecord:
        """The record of ``filename``; a MediaError naming it when it is not in the cache
        (never listed, or unusable when the cache was built: the same error type then)."""
        self._load()
        key = self.key_of(filename)
        if key in self._unusable:
            kind, reason = self._unusable[key]
            error = getattr(readers, kind, MediaError)
            error = error if isinstance(error, type) and issubclass(error, MediaError) else \
                MediaError
            raise error(str(filename), f'{reason} (found unusable when the cache was built)')
        wanted = key_hash(key)
        row = int(np.searchsorted(self._hash, wanted))
        if row == len(self._hash) or self._hash[row] != wanted:
            raise MediaNotFoundError(str(filename), f'not in the clip cache {self.root} (key '
                                     f'{key!r}; data_prefix {self.data_prefix!r})')
        record = CachedRecord(self, str(filename), int(self._shard[row]),
                              int(self._offset[row]), int(self._size[row]))
        if record.key != key:
            raise record.error(f'holds clip {record.key!r}, the index says {key!r}')
        return record

    def __len__(self) -> int:
        self._load()
        return len(self._hash)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}

    def __getstate__(self) -> dict:  # pickled into data-loader workers without its state
        return dict(root=self.root, manifest=self.manifest, settings=self.settings,
                    data_prefix=self.data_prefix, _pid=None, _fds={})

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def frame_positions(record: CachedRecord, times: np.ndarray) -> np.ndarray:
    """Positions in ``frame_index`` of the cached frames shown at ``times`` (s): the source
    frame on screen at each time (as :meth:`MediaReader.frame_indices` finds it), or the
    latest cached frame before it when that one is not cached. int64 ``[len(times)]``."""
    blobs = record.read(['frame_times', 'frame_index'])
    frame_times = np.frombuffer(blobs['frame_times'], dtype=np.float64)
    cached = np.frombuffer(blobs['frame_index'], dtype=np.int32)
    source = np.searchsorted(frame_times, times.reshape(-1) + 1e-6, side='right') - 1
    source = np.clip(source, 0, len(frame_times) - 1)
    return np.clip(np.searchsorted(cached, source, side='right') - 1, 0, len(cached) - 1)

