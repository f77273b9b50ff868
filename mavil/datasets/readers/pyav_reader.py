"""PyAV (FFmpeg bindings) reader: maintained, no native build of our own."""
from typing import Tuple

import av
import numpy as np
import torch

from .base import CorruptMediaError, MediaReader


class PyAVReader(MediaReader):
    """Reads frames by seeking to the keyframe before the first wanted frame and decoding
    forward; audio by decoding the whole first track.

    On opening, the video packets are demuxed (not decoded) to index the frames, so a
    truncated file shows up as fewer frames than its header declares.

    Args:
        filename: path of the media file.
        duration_tolerance: see :class:`MediaReader`.
        num_threads: decoder threads (keep 1 inside data-loader workers).
    """

    def __init__(self, filename: str, *, duration_tolerance: float = 0.5,
                 num_threads: int = 1) -> None:
        super().__init__(filename, duration_tolerance=duration_tolerance)
        self.num_threads = num_threads
        self._container = None
        self._frame_pts = np.zeros(0, dtype=np.int64)  # [N] in stream time base
        if self.has_video:
            self._container = self._open()
            self._index_video()
            self._check_video_index()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def _open(self):
        try:
            return av.open(self.filename)
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'cannot open ({err})') from err

    def _index_video(self) -> None:
        stream = self._container.streams.video[0]
        stream.thread_count = self.num_threads
        pts = []
        try:
            for packet in self._container.demux(stream):
                if packet.pts is not None and packet.size > 0:
                    pts.append(packet.pts)
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'cannot demux video ({err})') from err
        self._frame_pts = np.unique(np.asarray(pts, dtype=np.int64))  # sorted
        time_base = float(stream.time_base)
        starts = self._frame_pts * time_base
        self.frame_times = starts - starts[0] if len(starts) else starts
        rate = stream.average_rate or stream.guessed_rate
        if rate:
            self.fps = float(rate)
        elif len(starts) > 1:
            self.fps = (len(starts) - 1) / (starts[-1] - starts[0])

    def _decode_audio(self) -> Tuple[torch.Tensor, int]:
        return decode_audio(self.filename)

    def _decode_frames(self, indices: np.ndarray) -> torch.Tensor:
        wanted = self._frame_pts[indices]  # [U] sorted pts
        try:
            found = self._scan(wanted, seek_to=int(wanted[0]))
            if len(found) < len(wanted):  # an imprecise seek landed past a wanted frame
                found.update(self._scan(wanted, seek_to=int(self._frame_pts[0])))
        except av.error.FFmpegError as err:
            raise CorruptMediaError(self.filename, f'video fails to decode ({err})') from err
        missing = [int(i) for i, p in zip(indices, wanted.tolist()) if p not in found]
        if missing:
            raise CorruptMediaError(self.filename,
                                    f'video frames {missing[:5]} could not be decoded')
        return torch.from_numpy(np.stack([found[p] for p in wanted.tolist()]))  # [U, H, W, 3]

    def _scan(self, wanted: np.ndarray, seek_to: int) -> dict:
        """Seek to the keyframe at or before ``seek_to`` and decode forward until every
        ``wanted`` pts is seen; returns {pts: RGB [H, W, 3]} for those found."""
        stream = self._container.streams.video[0]
        wanted_set = set(wanted.tolist())
        last = int(wanted[-1])
        found: dict = {}
        self._container.seek(seek_to, stream=stream, backward=True, any_frame=False)
        for frame in self._container.decode(stream):
            if frame.pts is None:
                raise CorruptMediaError(self.filename, 'decoded a video frame without timestamp')
            if frame.pts > last:
                break
            if frame.pts in wanted_set and frame.pts not in found:
                # every frame at the size of the stream (decord does the same)
                found[frame.pts] = frame.to_ndarray(width=stream.codec_context.width,
                                                    height=stream.codec_context.height,
                                                    format='rgb24')  # [H, W, 3]
                if len(found) == len(wanted_set):
                    break
        return found


def decode_audio(filename: str) -> Tuple[torch.Tensor, int]:
    """Decode the whole first audio track of ``filename`` at its native rate.

    Returns:
        (float32 waveform ``[C, S]``, sample rate in Hz).
    """
    chunks = []
    try:
        with av.open(filename) as container:
            stream = container.streams.audio[0]
            rate = stream.rate
            # Planar float at the native rate and layout: to_ndarray() gives [C, n].
            resampler = av.AudioResampler(format='fltp', layout=stream.layout, rate=rate)
            for frame in container.decode(stream):
                chunks += [f.to_ndarray() for f in resampler.resample(frame)]
            chunks += [f.to_ndarray() for f in resampler.resample(None)]
    except av.error.FFmpegError as err:
        raise CorruptMediaError(filename, f'audio fails to decode ({err})') from err
    if not chunks:
        raise CorruptMediaError(filename, 'audio stream decodes to no samples')
    return torch.from_numpy(np.concatenate(chunks, axis=1)), rate  # [C, S]
