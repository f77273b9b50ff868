"""PyAV (FFmpeg bindings) reader: maintained, no native build of our own.

Cost model (10-s 640x360 H.264/AAC clip, one core; benchmarks/data_throughput.py): opening a
file costs ~1 ms (FFmpeg's probing decode skipped), demuxing all of its packets ~2, decoding
the 10 s of AAC ~8 with conversion, and decoding video ~0.5 ms per frame (~0.7 for a P-frame),
so decoding the frames *between* the wanted ones dominates. Hence the file is opened once and
demuxed once (video and audio packets together, kept in memory), and frames are decoded from
those packets: from the keyframe before each wanted frame, skipping the frames no other frame
refers to, up to the last wanted packet, then the decoder is drained instead of fed further.
What is left is the decoding of every reference frame up to the last wanted one, which no
bit-exact reader can skip (an x264 P-frame may refer to a B-frame).
"""
import threading
from typing import Dict, List

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter

from mavil.registry import MEDIA_READERS
from .base import CorruptMediaError, MediaReader

_THREAD_LOCAL = threading.local()  # per-thread swscale context (see PyAVReader._convert)


@MEDIA_READERS.register_module(name='pyav')
class PyAVReader(MediaReader):
    """Reads frames by decoding the file's own packets from the keyframe before each wanted
    frame up to it; audio by decoding the whole first track.

    On opening, the packets are demuxed (not decoded) once: the video packets index the frames
    and their keyframes, so a truncated file shows up as fewer frames than its header
    declares, and are kept for :meth:`read_frames`; the audio packets for :meth:`read_audio`.

    Args:
        filename: path of the media file.
        duration_tolerance, read_video: see :class:`MediaReader`.
        num_threads: decoder threads (keep 1 inside data-loader workers).
    """

    probe_decode = False  # the index pass below reads what FFmpeg's probing decode would

    def __init__(self, filename: str, *, duration_tolerance: float = 0.5,
                 num_threads: int = 1, read_video: bool = True) -> None:
        super().__init__(filename, duration_tolerance=duration_tolerance,
                         read_video=read_video)
        self.num_threads = num_threads
        self._frame_pts = np.zeros(0, dtype=np.int64)  # [N] sorted, stream time base
        self._key_pts = np.zeros(0, dtype=np.int64)  # [K] sorted pts of keyframes
        self._packets: List[av.Packet] = []  # [P] video packets in decode order
        self._packet_pts = np.zeros(0, dtype=np.int64)  # [P] their pts (-1: none)
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
        """One demux pass: the video packets (timestamps, keyframes) and the audio packets."""
        video = self._container.streams.video[0]
        audio = self._container.streams.audio[0] if self.has_audio else None
        packets, audio_packets = [], []
        try:
            for packet in self._container.demux(*(s for s in (video, audio) if s is not None)):
                if packet.size == 0:  # end-of-stream marker
                    continue
                (packets if packet.stream is video else audio_packets).append(packet)
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'cannot demux ({err})') from err
        if audio is not None:
            self._audio_packets = audio_packets
        self._packets = packets
        self._packet_pts = np.asarray([-1 if p.pts is None else p.pts for p in packets],
                                      dtype=np.int64)
        timed = self._packet_pts >= 0
        keys = np.asarray([p.is_keyframe for p in packets], dtype=bool)
        self._frame_pts = np.unique(self._packet_pts[timed])  # sorted
        self._key_pts = np.unique(self._packet_pts[timed & keys])
        time_base = float(video.time_base)
        starts = self._frame_pts * time_base
        self.frame_times = starts - starts[0] if len(starts) else starts
        rate = video.average_rate or video.guessed_rate
        if rate:
            self.fps = float(rate)
        elif len(starts) > 1:
            self.fps = (len(starts) - 1) / (starts[-1] - starts[0])

    def close(self) -> None:
        self._packets = []  # they hold the file's compressed video
        super().close()

    def _check_all_found(self, indices: np.ndarray, wanted: np.ndarray, found: dict) -> None:
        """Raise naming the frames (of ``indices``, pts ``wanted``) that did not decode."""
        missing = [int(i) for i, p in zip(indices, wanted.tolist()) if p not in found]
        if missing:
            raise CorruptMediaError(self.filename,
                                    f'video frames {missing[:5]} could not be decoded')

    def _decode_frames(self, indices: np.ndarray) -> torch.Tensor:
        wanted = self._frame_pts[indices]  # [U] sorted pts
        try:
            found = self._decode_runs(wanted, self._runs(wanted))
            if len(found) < len(wanted):
                # the index's keyframe flags misled us: decode every frame from the first
                # packet to the last (slow but sure)
                rest = np.asarray([p for p in wanted.tolist() if p not in found])
                found.update(self._decode_runs(rest, [(0, len(self._packets) - 1)],
                                               skip=False))
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'video fails to decode ({err})') from err
        self._check_all_found(indices, wanted, found)
        first = found[int(wanted[0])]
        frames = torch.empty((len(wanted), *first.shape), dtype=torch.uint8)  # [U, H, W, 3]
        for i, pts in enumerate(wanted.tolist()):  # into torch's (aligned) memory
            frames[i].numpy()[...] = found[pts]
        return frames

    @staticmethod
    def _convert(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
        """RGB ``[H, W, 3]`` of a decoded frame. One converter per thread, reused across
        frames and files: ``to_ndarray`` sets swscale up anew for every frame (~1.5 ms per
        640x360 frame in a reader, against ~0.15 ms reused); same output. One swscale
        thread, as in a data-loader worker."""
        converter = getattr(_THREAD_LOCAL, 'rgb', None)
        if converter is None:
            converter = _THREAD_LOCAL.rgb = VideoReformatter()
        return converter.reformat(frame, width=width, height=height, format='rgb24',
                                  threads=1).to_ndarray()

    def _runs(self, wanted: np.ndarray) -> List[tuple]:
        """(first, last) packet positions (decode order, inclusive) to decode for the sorted
        pts ``wanted``: each wanted packet from the keyframe shown last before it, merged
        with the previous run where that keyframe's packet was reached by it already."""
        position = {p: i for i, p in enumerate(self._packet_pts.tolist())}
        runs: List[list] = []
        for target in wanted.tolist():
            last = position[target]
            pos = np.searchsorted(self._key_pts, target, side='right') - 1
            first = position[int(self._key_pts[pos])] if pos >= 0 else 0
            if runs and first <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], last)
            else:
                runs.append([first, last])
        return [tuple(r) for r in runs]

    def _decode_runs(self, wanted: np.ndarray, runs: List[tuple],
                     skip: bool = True) -> Dict[int, np.ndarray]:
        """Decode the packets of each run and return {pts: RGB [H, W, 3]} of the frames with
        pts in ``wanted``. Each run starts from a flushed decoder and ends by draining it, so
        no packet after a run's last wanted one is decoded. With ``skip``, the packets of
        unwanted frames are decoded only if other frames refer to them: FFmpeg skips the
        non-reference ones (most B-frames) without converting anything."""
        codec = self._container.streams.video[0].codec_context
        wanted_pts = frozenset(wanted.tolist())
        found: Dict[int, np.ndarray] = {}

        def keep(frames) -> None:
            for frame in frames:
                if frame.pts is None:
                    raise CorruptMediaError(self.filename,
                                            'decoded a video frame without timestamp')
                if frame.pts in wanted_pts and frame.pts not in found:
                    # every frame at the size of the stream (decord does the same)
                    found[frame.pts] = self._convert(frame, codec.width, codec.height)

        for first, last in runs:
            codec.flush_buffers()  # a fresh start at a keyframe (and after a drain)
            for packet, pts in zip(self._packets[first:last + 1],
                                   self._packet_pts[first:last + 1].tolist()):
                codec.skip_frame = 'NONREF' if skip and pts not in wanted_pts else 'DEFAULT'
                keep(codec.decode(packet))
            codec.skip_frame = 'DEFAULT'
            keep(codec.decode(None))  # drain: the frames still held for reordering
        return found
