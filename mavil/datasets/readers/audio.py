"""Audio decoding shared by every backend: the whole first audio track, with PyAV, at the
file's own rate and channel layout (decord's AudioReader corrupts multi-channel audio; see
:mod:`mavil.datasets.readers.decord_reader`)."""
from typing import List, Optional, Tuple

import av
import numpy as np
import torch

from .base import CorruptMediaError, MissingStreamError, open_container


class ContainerAudio:
    """``_decode_audio`` from the reader's own PyAV container (``MediaReader._container``),
    for both backends: the audio packets are demuxed once (by the PyAV reader's index pass,
    or here) and decoded by a fresh decoder. A second read decodes from a new container, as
    a drained decoder cannot restart exactly where a fresh one does (AAC keeps state)."""

    _audio_packets: Optional[List[av.Packet]] = None
    _audio_decoded: bool = False

    def _decode_audio(self) -> Tuple[torch.Tensor, int]:
        if self._audio_decoded:
            return decode_audio(self.filename)
        if self._audio_packets is None:
            self._audio_packets = demux_audio(self._container, self.filename)
        packets, self._audio_packets = self._audio_packets, None
        self._audio_decoded = True
        return decode_audio_packets(self._container.streams.audio[0], packets, self.filename)


def demux_audio(container, filename: str) -> List[av.Packet]:
    """All packets of the first audio stream of a freshly opened ``container``."""
    stream = container.streams.audio[0]
    try:
        return [p for p in container.demux(stream) if p.size > 0]
    except av.error.FFmpegError as err:
        raise CorruptMediaError(filename, f'cannot demux audio ({err})') from err


def decode_audio_packets(stream, packets: List[av.Packet],
                         filename: str) -> Tuple[torch.Tensor, int]:
    """Decode ``packets`` of audio ``stream`` at its native rate and layout.

    Returns:
        (float32 waveform ``[C, S]``, sample rate in Hz).
    """
    rate = stream.rate
    chunks = []
    try:
        codec = stream.codec_context
        # Planar float at the native rate and layout: to_ndarray() gives [C, n]; a no-op for
        # decoders that output planar float already (AAC, Opus, Vorbis).
        resampler = av.AudioResampler(format='fltp', layout=stream.layout, rate=rate)
        for packet in packets + [None]:  # None drains the decoder
            for frame in codec.decode(packet):
                chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    except av.error.FFmpegError as err:
        raise CorruptMediaError(filename, f'audio fails to decode ({err})') from err
    if not chunks:
        raise CorruptMediaError(filename, 'audio stream decodes to no samples')
    return torch.from_numpy(np.concatenate(chunks, axis=1)), rate  # [C, S]


def decode_audio(filename: str) -> Tuple[torch.Tensor, int]:
    """Decode the whole first audio track of ``filename`` at its native rate.

    Returns:
        (float32 waveform ``[C, S]``, sample rate in Hz).
    """
    with open_container(filename) as container:
        if not container.streams.audio:
            raise MissingStreamError(filename, 'has no audio stream')
        return decode_audio_packets(container.streams.audio[0],
                                    demux_audio(container, filename), filename)
