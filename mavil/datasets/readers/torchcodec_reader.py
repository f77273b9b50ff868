"""torchcodec reader: torchcodec (the PyTorch team's FFmpeg decoder, CPU or NVDEC on CUDA)
decodes the frames; PyAV reads the header, indexes the packets and decodes the audio.

The frame index is the one :class:`~.pyav_reader.PyAVReader` builds (one demux pass, no
decoding), handed to torchcodec as its frame mapping, so torchcodec neither scans the file
again nor can disagree with the other backends about which frame is on screen at a given
time; each decoded frame's timestamp is checked against the index. The audio is decoded by
:class:`~.base.MediaReader` (PyAV), as for every backend, so all backends give the same
waveform bit for bit.

torchcodec loads the system's FFmpeg shared libraries (major versions 4 to 8 for
torchcodec 0.17): on Debian 12 ``apt-get install libavcodec59 libavformat59 libavutil57
libavdevice59 libavfilter8 libswscale6 libswresample4`` (or the ``ffmpeg`` package).
"""
import json
from typing import Optional

import numpy as np
import torch

from mavil.registry import MEDIA_READERS
from .base import CorruptMediaError, import_backend
from .pyav_reader import PyAVReader


def import_torchcodec():
    """The ``torchcodec.decoders`` module; ImportError saying what is missing otherwise
    (torchcodec itself, or the FFmpeg shared libraries it loads on import)."""
    return import_backend('torchcodec', 'torchcodec.decoders', install='pip install torchcodec',
                          libraries='the FFmpeg shared libraries (major version 4-8; Debian: '
                                    'apt-get install ffmpeg)')


@MEDIA_READERS.register_module(name='torchcodec')
class TorchCodecReader(PyAVReader):
    """Reads frames with ``torchcodec.decoders.VideoDecoder`` at the indexed frames.

    Args:
        filename: path of the media file.
        duration_tolerance, read_video: see :class:`~.base.MediaReader`.
        num_threads: FFmpeg decoder threads on CPU (keep 1 inside data-loader workers).
        device: ``'cpu'``, or ``'cuda'`` / ``'cuda:N'`` to decode on the GPU (NVDEC); frames
            then come back as CUDA tensors. NVDEC's colour conversion is not swscale's, so
            CUDA frames may differ from CPU frames by a few levels.
    """

    @classmethod
    def check_available(cls) -> None:
        import_torchcodec()

    def __init__(self, filename: str, *, duration_tolerance: float = 0.5,
                 num_threads: int = 1, read_video: bool = True, device: str = 'cpu') -> None:
        self._decoder = None
        self.device = str(device)
        decoders = import_torchcodec()  # before any file is opened
        if self.device.startswith('cuda') and not torch.cuda.is_available():
            raise RuntimeError(f"{filename}: backend 'torchcodec' with device={device!r}, "
                               'but torch sees no CUDA device')
        super().__init__(filename, duration_tolerance=duration_tolerance,
                         num_threads=num_threads, read_video=read_video)
        try:
            if self.has_video and self.read_video:
                self._open_decoder(decoders, num_threads)
        except BaseException:
            self.close()
            raise

    def _open_decoder(self, decoders, num_threads: int) -> None:
        mappings = self._frame_mappings()
        self._packets = []  # the compressed video stays with torchcodec, not here
        try:
            self._decoder = decoders.VideoDecoder(
                self.filename, stream_index=self._container.streams.video[0].index,
                dimension_order='NHWC', num_ffmpeg_threads=num_threads, device=self.device,
                custom_frame_mappings=mappings)
        except (RuntimeError, ValueError) as err:
            raise CorruptMediaError(self.filename, f'video cannot be opened by torchcodec on '
                                    f'{self.device} ({err})') from err
        # (``len(self._decoder)`` and its metadata come from the header, not the mapping;
        # every decode is checked against the index instead)

    def _frame_mappings(self) -> str:
        """The index as torchcodec's frame-mapping JSON: per frame (sorted by pts) its pts,
        duration (to the next frame; the last packet's own) and keyframe flag."""
        pts = self._frame_pts  # [N] sorted
        durations = np.diff(pts)  # [N - 1]
        last = max((p.duration or 0 for p in self._packets if p.pts == pts[-1]), default=0)
        if not last:
            last = int(np.median(durations)) if len(durations) else 1
        keys = np.isin(pts, self._key_pts)
        frames = [dict(pts=int(p), duration=int(d), key_frame=int(k))
                  for p, d, k in zip(pts.tolist(), durations.tolist() + [last], keys.tolist())]
        return json.dumps(dict(frames=frames))

    def close(self) -> None:
        self._decoder = None
        super().close()

    def _decode_frames(self, indices: np.ndarray) -> torch.Tensor:
        try:
            batch = self._decoder.get_frames_at(indices.tolist())
        except (RuntimeError, IndexError, ValueError) as err:
            raise CorruptMediaError(self.filename, f'video fails to decode with torchcodec '
                                    f'({err})') from err
        time_base = float(self._container.streams.video[0].time_base)
        expected = self._frame_pts[indices] * time_base  # [U] seconds
        got = batch.pts_seconds.cpu().numpy()
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=0, atol=1e-6):
            raise CorruptMediaError(self.filename, 'torchcodec returned frames at '
                                    f'{got[:5].tolist()} s for {expected[:5].tolist()} s')
        return batch.data  # [U, H, W, 3] uint8, on self.device

    @property
    def cpu_fallback(self) -> Optional[str]:
        """On CUDA, once a frame is decoded: '' when torchcodec decodes on the GPU, else its
        reason for decoding on the CPU instead (e.g. no NVCUVID). None on CPU or before."""
        if self._decoder is None or not self.device.startswith('cuda'):
            return None
        status = self._decoder.cpu_fallback
        if not status.status_known:
            return None
        return str(status) if status else ''
