"""The plain way to read frames with PyAV, registered as ``'pyav_baseline'`` so that
``data_throughput.py`` times the ``'pyav'`` reader side by side with it.

It shares the index pass with :class:`PyAVReader` and differs where frames are read: FFmpeg
decodes a few frames while opening the file (``probe_decode``); frames are decoded after a
container seek to the keyframe and a second demux, fed until the wanted frame leaves the
decoder (so a few packets after it are decoded too); the sampled frames are always gathered
by advanced indexing.
"""
from typing import Dict, Optional

import av
import numpy as np
import torch

from mavil.datasets.readers import CorruptMediaError, PyAVReader
from mavil.registry import MEDIA_READERS


@MEDIA_READERS.register_module(name='pyav_baseline', force=True)
class PyAVBaselineReader(PyAVReader):
    """:class:`PyAVReader` with the plain frame reading described above."""

    probe_decode = True

    @staticmethod
    def _gather(frames: torch.Tensor, indices: np.ndarray,
                inverse: np.ndarray) -> torch.Tensor:
        return frames[torch.from_numpy(inverse.reshape(-1))]  # advanced indexing: always a copy

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
        self._check_all_found(indices, wanted, found)
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
