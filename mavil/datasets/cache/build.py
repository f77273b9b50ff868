"""Building a cache: the clip list cut into shards, encoded on worker processes, written in
order, resumable.

Layout of a cache folder::

    cache.json            settings, JPEG quality, the clip list's fingerprint, shard plan
    shard-000000.tar      records of clips 0 .. clips_per_shard - 1 (tar members)
    shard-000000.json     where each record lies in it, and the shard's unusable clips
    ...
    index.npz             all shards' entries, sorted by key hash (read by ClipCache)
    unusable.tsv          key, error type and reason of every clip that could not be cached

A shard counts as finished when its ``.json`` exists and its tar has the size recorded
there; a rerun keeps finished shards and rebuilds the others.
"""
import hashlib
import json
import multiprocessing
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

from mavil.datasets.readers import MediaError
from .format import VERSION, decode_frame_into, encode_frame
from .settings import CacheSettings
from .writer import ShardWriter, encode_clip, keys_digest, source_frames

MANIFEST = 'cache.json'
INDEX = 'index.npz'
UNUSABLE = 'unusable.tsv'
JPEG_QUALITIES = (75, 80, 85, 90, 95, 100)


def shard_name(i: int) -> str:
    return f'shard-{i:06d}'


def clip_key(filename: str, data_prefix: str = '') -> str:
    """A clip's cache key: its file name relative to ``data_prefix``, with ``/`` separators."""
    if data_prefix:
        name, prefix = osp.abspath(str(filename)), osp.abspath(data_prefix)
        if (name + os.sep).startswith(prefix + os.sep):
            return osp.relpath(name, prefix).replace(os.sep, '/')
    return osp.normpath(str(filename)).replace(os.sep, '/')


def key_hash(key: str) -> int:
    """Signed 64-bit hash of a clip key (the index's lookup key)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), 'little',
                          signed=True)


@dataclass
class BuildReport:
    """What a build did: clips cached and unusable, shards written now and kept."""
    clips: int
    unusable: int
    shards_written: int
    shards_kept: int
    bytes: int
    jpeg_quality: Optional[int]


# --- worker side ----------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(settings: dict, quality: int, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER.update(settings=CacheSettings.from_dict(settings), quality=quality)


def _encode(item: Tuple[str, str]) -> Tuple[str, Optional[bytes], str]:
    key, filename = item
    try:
        return key, encode_clip(key, filename, _WORKER['settings'], _WORKER['quality']), ''
    except MediaError as err:
        return key, None, f"{type(err).__name__}\t{' '.join(err.problem.split())}"


def _ordered_map(items: List[Tuple[str, str]], workers: int, initargs: tuple,
                 desc: str, progress: bool) -> Iterator[Tuple[str, Optional[bytes], str]]:
    """``_encode`` over ``items`` in order, on ``workers`` processes, with a progress bar."""
    with tqdm(total=len(items), desc=desc, unit='clip', disable=not progress,
              dynamic_ncols=True) as bar:
        if workers <= 1:
            _init_worker(*initargs)
            for item in items:
                yield _encode(item)
                bar.update()
            return
        context = multiprocessing.get_context('spawn' if torch.cuda.is_initialized() else None)
        with context.Pool(workers, initializer=_init_worker, initargs=initargs) as pool:
            for result in pool.imap(_encode, items, chunksize=2):
                yield result
                bar.update()


# --- JPEG quality ---------------------------------------------------------------------------
def choose_jpeg_quality(files: Sequence[str], settings: CacheSettings,
                        sample_clips: int = 4) -> Tuple[int, float]:
    """Lowest quality in ``JPEG_QUALITIES`` whose mean absolute pixel error (0-255) over the
    cached frames of the first ``sample_clips`` usable files is at most
    ``settings.max_pixel_error``; returns (quality, its measured error)."""
    from mavil.datasets.readers import open_media
    frames, used = [], 0
    for filename in files:
        try:
            with open_media(filename, backend=settings.backend, num_threads=1) as reader:
                frames += list(source_frames(reader, settings)[1])  # [h, w, 3] each
        except MediaError:
            continue
        used += 1
        if used == sample_clips:
            break
    if not frames:
        return JPEG_QUALITIES[-1], float('nan')
    for quality in JPEG_QUALITIES:
        error = 0.0
        for frame in frames:
            decoded = torch.empty_like(frame)
            decode_frame_into(encode_frame(frame, 'jpeg', quality), 'jpeg', decoded)
            error += (decoded.float() - frame.float()).abs().mean().item()
        error /= len(frames)
        if error <= settings.max_pixel_error or quality == JPEG_QUALITIES[-1]:
            return quality, error
    raise AssertionError('unreachable')


# --- the build ------------------------------------------------------------------------------
def _write_json(path: str, data: dict) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _shard_finished(out_dir: str, i: int) -> bool:
    meta_path = osp.join(out_dir, shard_name(i) + '.json')
    tar_path = osp.join(out_dir, shard_name(i) + '.tar')
    if not (osp.isfile(meta_path) and osp.isfile(tar_path)):
        return False
    with open(meta_path) as f:
        return json.load(f).get('bytes') == osp.getsize(tar_path)


def _check_manifest(path: str, manifest: dict) -> dict:
    """The manifest of a previous build if it matches ``manifest`` (else ValueError naming the
    first field that differs); ``manifest`` when there is none."""
    if not osp.isfile(path):
        return manifest
    with open(path) as f:
        old = json.load(f)
    for field in ('format', 'settings', 'num_clips', 'keys_digest', 'clips_per_shard'):
        if old.get(field) != manifest.get(field):
            raise ValueError(f'{path}: this cache was built with another {field} '
                             f'({old.get(field)!r}, now {manifest.get(field)!r}); use a new '
                             'folder, or delete this one to rebuild it')
    return old


def build_cache(files: Sequence[Tuple[str, str]], out_dir: str, settings: CacheSettings, *,
                data_prefix: str = '', clips_per_shard: int = 512, workers: int = 1,
                threads_per_worker: int = 1, progress: bool = True) -> BuildReport:
    """Cache every ``(key, filename)`` of ``files`` (keys unique) into ``out_dir``.

    Args:
        files: clip key (its name in the annotation file) and the path to decode.
        out_dir: cache folder (created; a previous build there is resumed).
        settings: what to cache per clip.
        data_prefix: the folder the keys are relative to (recorded: readers strip it from
            the file names a dataset passes).
        clips_per_shard: clips per shard file (~1 MB each measured at 10 s, 360p sources,
            JPEG q95, short side 224).
        workers: encoding processes (1: in this process).
        threads_per_worker: torch threads per process.
        progress: show a tqdm progress bar.
    """
    keys = [key for key, _ in files]
    if len(set(keys)) != len(keys):
        raise ValueError('build_cache: clip keys must be unique')
    if clips_per_shard < 1:
        raise ValueError(f'clips_per_shard must be >= 1, got {clips_per_shard}')
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = osp.join(out_dir, MANIFEST)
    settings_json = json.loads(json.dumps(settings.to_dict()))  # as a rerun reads it back
    manifest = dict(format=VERSION, settings=settings_json, num_clips=len(keys),
                    keys_digest=keys_digest(keys), clips_per_shard=clips_per_shard,
                    num_shards=-(-len(keys) // clips_per_shard))
    manifest = _check_manifest(manifest_path, manifest)
    manifest['data_prefix'] = osp.abspath(data_prefix) if data_prefix else ''
    if 'jpeg_quality' not in manifest:
        quality, error = settings.jpeg_quality, None
        if settings.frame_format == 'jpeg' and quality is None:
            quality, error = choose_jpeg_quality([f for _, f in files], settings)
        manifest.update(jpeg_quality=quality, jpeg_pixel_error=error)
    _write_json(manifest_path, manifest)
    quality = manifest['jpeg_quality'] or 90

    num_shards = manifest['num_shards']
    todo = [i for i in range(num_shards) if not _shard_finished(out_dir, i)]
    if todo and osp.isfile(osp.join(out_dir, INDEX)):
        os.remove(osp.join(out_dir, INDEX))  # readers refuse the folder until it is whole
    items = [files[j] for i in todo
             for j in range(i * clips_per_shard, min((i + 1) * clips_per_shard, len(files)))]
    results = _ordered_map(items, workers, (settings.to_dict(), quality, threads_per_worker),
                           desc=f'cache {osp.basename(osp.normpath(out_dir))}',
                           progress=progress)
    for i in todo:
        count = min((i + 1) * clips_per_shard, len(files)) - i * clips_per_shard
        writer, unusable = ShardWriter(osp.join(out_dir, shard_name(i) + '.tar')), []
        try:
            for number in range(count):
                key, record, reason = next(results)
                if record is None:
                    unusable.append([key, reason])
                else:
                    writer.add(i * clips_per_shard + number, key, record)
        except BaseException:
            writer.abort()
            raise
        size = writer.close()
        _write_json(osp.join(out_dir, shard_name(i) + '.json'),
                    dict(shard=shard_name(i) + '.tar', bytes=size,
                         clips=[list(e) for e in writer.entries], unusable=unusable))
    total, bad = write_index(out_dir, num_shards)
    size = sum(osp.getsize(osp.join(out_dir, shard_name(i) + '.tar')) for i in range(num_shards))
    return BuildReport(clips=total, unusable=bad, shards_written=len(todo),
                       shards_kept=num_shards - len(todo), bytes=size,
                       jpeg_quality=manifest['jpeg_quality'])


def write_index(out_dir: str, num_shards: int) -> Tuple[int, int]:
    """Merge the shards' entries into ``index.npz`` and ``unusable.tsv``; returns the counts
    of cached and unusable clips."""
    hashes, shards, offsets, sizes, unusable = [], [], [], [], []
    for i in range(num_shards):
        with open(osp.join(out_dir, shard_name(i) + '.json')) as f:
            meta = json.load(f)
        for key, offset, size in meta['clips']:
            hashes.append(key_hash(key))
            shards.append(i)
            offsets.append(offset)
            sizes.append(size)
        unusable += meta['unusable']
    hashes = np.asarray(hashes, dtype=np.int64)
    order = np.argsort(hashes, kind='stable')
    if len(hashes) and np.any(np.diff(hashes[order]) == 0):
        raise ValueError(f'{out_dir}: two clip keys share a 64-bit hash; rename one')
    shard_sizes = [osp.getsize(osp.join(out_dir, shard_name(i) + '.tar'))
                   for i in range(num_shards)]
    tmp = osp.join(out_dir, INDEX + '.tmp.npz')
    np.savez(tmp, hash=hashes[order], shard=np.asarray(shards, np.int32)[order],
             offset=np.asarray(offsets, np.int64)[order],
             size=np.asarray(sizes, np.int64)[order],
             shard_bytes=np.asarray(shard_sizes, np.int64))
    os.replace(tmp, osp.join(out_dir, INDEX))
    with open(osp.join(out_dir, UNUSABLE + '.tmp'), 'w') as f:
        for key, reason in unusable:
            f.write(f'{key}\t{reason}\n')
    os.replace(osp.join(out_dir, UNUSABLE + '.tmp'), osp.join(out_dir, UNUSABLE))
    return len(hashes), len(unusable)
