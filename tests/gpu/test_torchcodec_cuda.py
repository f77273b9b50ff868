"""torchcodec on CUDA (NVDEC) returns the same frames as on CPU (benchmarks/gpu_check.sh runs it
on a GPU machine; skipped without CUDA, torchcodec or NVDEC)."""
import numpy as np
import pytest
import torch

from mavil.datasets.readers import open_media
from tests.datasets.media import backend_params, frame_ids, write_clip

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


@pytest.mark.parametrize('backend', backend_params(['torchcodec']))
def test_cuda_frames_are_the_cpu_frames(tmp_path, backend):
    path = write_clip(tmp_path / 'clip.mp4', seconds=4.0, size=(64, 96))
    times = np.array([0.0, 0.5, 1.0, 3.9, 0.5])  # a repeat, out of order
    with open_media(path, backend=backend) as reader:
        cpu = reader.read_frames(times)
    with open_media(path, backend=backend, device='cuda') as reader:
        gpu = reader.read_frames(times)
        if reader.cpu_fallback:
            pytest.skip(f'torchcodec fell back to CPU: {reader.cpu_fallback}')
    assert gpu.device.type == 'cuda' and gpu.shape == cpu.shape and gpu.dtype == torch.uint8
    assert frame_ids(gpu.cpu()) == frame_ids(cpu) == [0, 5, 10, 39, 5]
    # NVDEC's colour conversion is not swscale's: a few levels apart at most
    assert (gpu.cpu().float() - cpu.float()).abs().mean() < 3.0
