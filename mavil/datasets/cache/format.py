"""The byte layout of one cached clip (a *record*) and of the frames and audio inside it.

A record is ``MAGIC | version (u8) | 3 reserved bytes | header length (u32 LE) | header
CRC-32 (u32 LE) | header | payload``. The header is UTF-8 JSON: ``key`` (the clip's name in the annotation file),
``meta`` (durations, rates, shapes, formats) and ``blobs``: ``name -> [offset, length, crc32]``
with offsets from the start of the payload. Blobs:

* ``frame_times``: float64 ``[N]``, the source video's frame start times (s), so a timestamp
  maps to the source frame exactly as :meth:`MediaReader.frame_indices` maps it;
* ``frame_index``: int32 ``[K]``, the sorted source indices of the cached frames;
* ``frame/<k>``: cached frame ``k`` (JPEG, or raw uint8 ``[h, w, 3]``), ``k < K``;
* ``audio``: int16 PCM ``[1, S]`` (``pcm16``), float32 ``[1, S]`` (``float32``), or a float16
  log-mel fbank ``[T, F]`` (``fbank16``).

The header and every blob carry a CRC-32, checked when they are read, so a damaged shard is
reported (naming the shard) instead of feeding garbage to training.
"""
import json
import struct
import zlib
from typing import Dict, Sequence, Tuple

import numpy as np
import simplejpeg
import torch
from torchvision.io import encode_jpeg

MAGIC = b'MVLC'
VERSION = 1
PREFIX = struct.Struct('<4sB3xII')  # magic, version, header length, header CRC-32
FRAME_FORMATS = ('jpeg', 'raw')
AUDIO_FORMATS = ('pcm16', 'float32', 'fbank16')
RECORD_SUFFIX = 'mavilclip'  # tar member suffix (a WebDataset field name)


class RecordError(ValueError):
    """A record's bytes are not a valid record (bad magic, header or checksum)."""


def encode_record(key: str, meta: dict, blobs: Dict[str, bytes]) -> bytes:
    """Pack ``blobs`` (name -> bytes) and ``meta`` into one record."""
    table, offset = {}, 0
    for name, data in blobs.items():
        table[name] = [offset, len(data), zlib.crc32(data)]
        offset += len(data)
    header = json.dumps(dict(key=key, meta=meta, blobs=table), separators=(',', ':')).encode()
    prefix = PREFIX.pack(MAGIC, VERSION, len(header), zlib.crc32(header))
    return b''.join([prefix, header, *blobs.values()])


def parse_prefix(data: bytes) -> int:
    """Header length from the first ``PREFIX.size`` bytes of a record."""
    if len(data) < PREFIX.size:
        raise RecordError(f'record is {len(data)} bytes, shorter than its {PREFIX.size}-byte '
                          'prefix')
    magic, version, header_len, _ = PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise RecordError(f'bad magic {magic!r} (expected {MAGIC!r}): not a clip record')
    if version != VERSION:
        raise RecordError(f'record format version {version}, this code reads {VERSION}')
    return header_len


def parse_header(data: bytes) -> dict:
    """The header dict of a record whose first bytes (prefix and header) are ``data``."""
    header_len = parse_prefix(data)
    end = PREFIX.size + header_len
    if len(data) < end:
        raise RecordError(f'header of {header_len} bytes is cut off at {len(data)} bytes')
    if zlib.crc32(data[PREFIX.size:end]) != PREFIX.unpack_from(data)[3]:
        raise RecordError('header fails its CRC-32 check (damaged bytes)')
    try:
        header = json.loads(bytes(data[PREFIX.size:end]))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(f'header is not valid JSON ({err})') from err
    if not isinstance(header, dict) or not {'key', 'meta', 'blobs'} <= set(header):
        raise RecordError('header lacks key, meta or blobs')
    return header


def payload_start(header_len: int) -> int:
    """Offset of the payload within the record."""
    return PREFIX.size + header_len


def check_blob(name: str, data: bytes, entry) -> bytes:
    """``data`` if its length and CRC-32 match the header's ``entry``; RecordError else."""
    _, length, crc = entry
    if len(data) != length:
        raise RecordError(f'blob {name!r} is {len(data)} bytes, header says {length}')
    if zlib.crc32(data) != crc:
        raise RecordError(f'blob {name!r} fails its CRC-32 check (damaged bytes)')
    return data


def decode_record(data: bytes) -> Tuple[dict, Dict[str, bytes]]:
    """A whole record's bytes -> (header, name -> checked blob bytes). For tools that get
    whole records, such as a WebDataset pipeline over the shards."""
    header = parse_header(data)
    start = payload_start(PREFIX.unpack_from(data)[2])
    blobs = {}
    for name, entry in header['blobs'].items():
        offset, length, _ = entry
        blobs[name] = check_blob(name, data[start + offset:start + offset + length], entry)
    return header, blobs


# --- frames ---------------------------------------------------------------------------------
def encode_frame(frame: torch.Tensor, frame_format: str, quality: int = 90) -> bytes:
    """uint8 ``[h, w, 3]`` -> bytes (JPEG at ``quality``, or the raw pixels)."""
    if frame_format == 'raw':
        return frame.contiguous().numpy().tobytes()
    return encode_jpeg(frame.permute(2, 0, 1).contiguous(), quality=quality).numpy().tobytes()


def _uint8(data) -> torch.Tensor:
    """A uint8 tensor over ``data``: no copy for a writable buffer (bytearray, or a memoryview
    of one); ``bytes`` are copied (torch wants writable memory)."""
    return torch.frombuffer(bytearray(data) if isinstance(data, bytes) else data,
                            dtype=torch.uint8)


def decode_frame_into(data, frame_format: str, out: torch.Tensor) -> None:
    """Decode one frame's bytes into ``out`` (uint8 ``[h, w, 3]``)."""
    decode_frames_into([data], frame_format, out[None])


def decode_frames_into(blobs: Sequence, frame_format: str, out: torch.Tensor) -> None:
    """Decode frames' bytes into ``out`` (uint8 ``[len(blobs), h, w, 3]``). JPEG frames are
    decoded by libjpeg-turbo (``simplejpeg``) straight into ``out``: the same pixels as
    torchvision's ``decode_jpeg`` (tested), without its copy."""
    if len(blobs) != len(out) or out.dtype != torch.uint8:
        raise ValueError(f'{len(blobs)} frames for a {out.dtype} buffer of {len(out)}')
    if not out.is_contiguous():  # the decoder writes whole C-ordered frames
        buffer = torch.empty(out.shape, dtype=torch.uint8)
        decode_frames_into(blobs, frame_format, buffer)
        out.copy_(buffer)
        return
    for k, (data, frame) in enumerate(zip(blobs, out.numpy())):
        if frame_format == 'raw':
            if len(data) != frame.size:
                raise RecordError(f'raw frame of {len(data)} bytes, expected '
                                  f'{tuple(frame.shape)}')
            frame[...] = np.frombuffer(data, dtype=np.uint8).reshape(frame.shape)
            continue
        try:
            image = simplejpeg.decode_jpeg(data, colorspace='RGB', buffer=frame)
        except (ValueError, RuntimeError) as err:
            raise RecordError(f'JPEG frame {k} fails to decode ({err})') from err
        if image.shape != frame.shape:
            raise RecordError(f'JPEG frame {k} is {image.shape}, expected {frame.shape}')


# --- audio ----------------------------------------------------------------------------------
def encode_audio(audio: torch.Tensor, audio_format: str) -> bytes:
    """float32 waveform ``[1, S]`` (pcm16, float32) or fbank ``[T, F]`` (fbank16) -> bytes."""
    if audio_format == 'pcm16':
        pcm = torch.round(audio.clamp(-1.0, 1.0) * 32767.0).to(torch.int16)
        return pcm.numpy().tobytes()
    dtype = np.float16 if audio_format == 'fbank16' else np.float32
    return audio.numpy().astype(dtype).tobytes()


def decode_audio(data, audio_format: str, shape) -> torch.Tensor:
    """Bytes -> float32 ``shape`` (a waveform in [-1, 1], or a log-mel fbank). ``data``
    writable (a bytearray or a view of one) is read in place; ``bytes`` are copied."""
    dtype = {'pcm16': torch.int16, 'float32': torch.float32, 'fbank16': torch.float16}[
        audio_format]
    size = len(data) // dtype.itemsize
    if size != int(np.prod(shape)) or len(data) % dtype.itemsize:
        raise RecordError(f'audio of {len(data)} bytes ({size} values), expected shape '
                          f'{tuple(shape)}')
    values = _uint8(data).view(dtype)  # [S]
    audio = values.float().view(*shape)  # exact widening (float32: the read buffer itself)
    return audio / 32767.0 if audio_format == 'pcm16' else audio


def array_bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()
