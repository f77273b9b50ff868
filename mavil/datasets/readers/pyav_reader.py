"""PyAV (FFmpeg bindings) reader: maintained, no native build of our own.

Cost model (10-s 360p H.264/AAC clip, one core; benchmarks/data_throughput.py): opening a
file costs a few milliseconds, demuxing all of its packets about one, decoding the 10 s of
AAC a few, and decoding video about 0.25-0.4 ms per frame, so decoding the frames *between*
the wanted ones dominates. Hence the file is opened once, demuxed once (video index and
audio packets together), and frames are decoded from the keyframe nearest before each wanted
frame, jumping ahead whenever a keyframe lies between two wanted frames.
"""
from typing import Dict, Optional

import av
import numpy as np
import torch

from mavil.registry import MEDIA_READERS
from .base import CorruptMediaError, MediaReader


@MEDIA_READERS.register_module(name='pyav')
class PyAVReader(MediaReader):
    """Reads frames by seeking to the keyframe before each wanted frame and decoding forward;
    audio by decoding the whole first track.

    On opening, the packets are demuxed (not decoded) once: the video packets index the frames
    and their keyframes, so a truncated file shows up as fewer frames than its header
    declares; the audio packets are kept for :meth:`read_audio`.

    Args:
        filename: path of the media file.
        duration_tolerance, read_video: see :class:`MediaReader`.
        num_threads: decoder threads (keep 1 inside data-loader workers).
    """

    def __init__(self, filename: str, *, duration_tolerance: float = 0.5,
                 num_threads: int = 1, read_video: bool = True) -> None:
        super().__init__(filename, duration_tolerance=duration_tolerance,
                         read_video=read_video)
        self.num_threads = num_threads
        self._frame_pts = np.zeros(0, dtype=np.int64)  # [N] sorted, stream time base
        self._key_pts = np.zeros(0, dtype=np.int64)  # [K] sorted pts of keyframes
        try:
            if self.has_video and self.read_video:
                # before the decoder opens (at the first decode); fixed from then on
                self._container.streams.video[0].thread_count = num_threads
                self._index()
                self._check_video_index()
        except BaseException:
            self.close()
            raise

    def _index(self) -> None:
        """One demux pass: video packet timestamps and keyframes, and the audio packets."""
        video = self._container.streams.video[0]
        audio = self._container.streams.audio[0] if self.has_audio else None
        pts, keys, audio_packets = [], [], []
        try:
            for packet in self._container.demux(*(s for s in (video, audio) if s is not None)):
                if packet.size == 0:  # end-of-stream marker
                    continue
                if packet.stream is video:
                    if packet.pts is not None:
                        pts.append(packet.pts)
                        if packet.is_keyframe:
                            keys.append(packet.pts)
                else:
                    audio_packets.append(packet)
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'cannot demux ({err})') from err
        if audio is not None:
            self._audio_packets = audio_packets
        self._frame_pts = np.unique(np.asarray(pts, dtype=np.int64))  # sorted
        self._key_pts = np.unique(np.asarray(keys, dtype=np.int64))
        time_base = float(video.time_base)
        starts = self._frame_pts * time_base
        self.frame_times = starts - starts[0] if len(starts) else starts
        rate = video.average_rate or video.guessed_rate
        if rate:
            self.fps = float(rate)
        elif len(starts) > 1:
            self.fps = (len(starts) - 1) / (starts[-1] - starts[0])

    def _decode_frames(self, indices: np.ndarray) -> torch.Tensor:
        wanted = self._frame_pts[indices]  # [U] sorted pts
        try:
            found = self._decode_from_keyframes(wanted)
            if len(found) < len(wanted):
                # the index's keyframe flags or an imprecise seek misled us: decode everything
                # from the first frame (slow but sure)
                found.update(self._decode_from_keyframes(
                    np.asarray([p for p in wanted.tolist() if p not in found]), from_start=True))
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'video fails to decode ({err})') from err
        missing = [int(i) for i, p in zip(indices, wanted.tolist()) if p not in found]
        if missing:
            raise CorruptMediaError(self.filename,
                                    f'video frames {missing[:5]} could not be decoded')
        return torch.from_numpy(np.stack([found[p] for p in wanted.tolist()]))  # [U, H, W, 3]

    def _decode_from_keyframes(self, wanted: np.ndarray,
                               from_start: bool = False) -> Dict[int, np.ndarray]:
        """Decode the frames with the sorted pts ``wanted``; returns {pts: RGB [H, W, 3]}.

        For each wanted frame not decoded yet, decoding restarts at the keyframe before it
        when that keyframe lies after the last decoded frame (the frames in between are not
        needed), and otherwise continues forward. ``from_start`` decodes from the first frame
        instead, without seeking again.
        """
        stream = self._container.streams.video[0]
        wanted_pts = frozenset(wanted.tolist())
        found: Dict[int, np.ndarray] = {}
        frames = None  # the running decode generator
        last = None  # pts of the last decoded frame
        for target in wanted.tolist():
            if target in found:
                continue
            if from_start:
                key = int(self._frame_pts[0])
            else:
                pos = np.searchsorted(self._key_pts, target, side='right') - 1
                key = int(self._key_pts[pos]) if pos >= 0 else int(self._frame_pts[0])
            if frames is None or (not from_start and last is not None and key > last):
                self._container.seek(key, stream=stream, backward=True, any_frame=False)
                # the fallback decodes every frame, in case skipping was what failed
                frames = self._decode_packets(stream, None if from_start else wanted_pts)
            for frame in frames:
                if frame.pts is None:
                    raise CorruptMediaError(self.filename,
                                            'decoded a video frame without timestamp')
                last = frame.pts
                if last in wanted_pts and last not in found:
                    # every frame at the size of the stream (decord does the same)
                    found[last] = frame.to_ndarray(width=stream.codec_context.width,
                                                   height=stream.codec_context.height,
                                                   format='rgb24')  # [H, W, 3]
                if last >= target:
                    break
            else:  # end of stream
                break
        return found

    def _decode_packets(self, stream, wanted_pts: Optional[frozenset]):
        """Decode ``stream`` from the current position. With ``wanted_pts``, the packets of
        other frames are decoded only if other frames refer to them: FFmpeg skips the
        non-reference ones (most B-frames), ~15-20% of the decoding time of H.264."""
        codec = stream.codec_context
        for packet in self._container.demux(stream):
            skip = wanted_pts is not None and packet.size > 0 and packet.pts not in wanted_pts
            codec.skip_frame = 'NONREF' if skip else 'DEFAULT'
            yield from codec.decode(packet)
