"""benchmarks/data_throughput.py runs end to end (tiny files) and times every reader."""
import pytest

from mavil.datasets.readers import media_reader

from .conftest import load_script

try:  # the benchmark leaves out (and names) a reader whose library cannot load here
    media_reader('torchcodec').check_available()
    TORCHCODEC = {'torchcodec'}
except ImportError:
    TORCHCODEC = set()


def test_benchmark_smoke(tmp_path, capsys):
    benchmark = load_script('benchmarks/data_throughput.py')
    results = benchmark.main(['--sets', '96x64:22050:250', '--seconds', '2', '--files', '1',
                              '--clips', '2', '--warmup', '0', '--preset', 'ultrafast',
                              '--data-dir', str(tmp_path), '--json'])
    rates = results['96x64:22050:250']['clips_per_s_cpu']
    assert set(rates) == {'decord', 'pyav_baseline', 'pyav', 'naive'} | TORCHCODEC
    assert all(r > 0 for r in rates.values())
    ratios = results['96x64:22050:250']['ratios']
    pairs = [('pyav', 'pyav_baseline')] + [('torchcodec', r) for r in ('pyav', 'decord')
                                           if TORCHCODEC]
    assert set(ratios) == {f'{a} / {b}' for a, b in pairs}
    for a, b in pairs:
        assert ratios[f'{a} / {b}'] == pytest.approx(rates[a] / rates[b])
    stages = results['96x64:22050:250']['stages_ms']
    assert {'LoadAudioVideo', '  read frames', 'KaldiFbank', 'VideoRandomResizedCrop'} <= set(
        stages)
    out = capsys.readouterr().out
    assert 'clips/s per worker (CPU)' in out


def test_benchmarked_readers_return_the_frames_of_a_full_decode(tmp_path):
    """The side-by-side rows time the same work: every reader gives exactly the frames of a
    full decode (x264 'medium': B-frames other frames refer to, one keyframe)."""
    import av
    import numpy as np
    import torch

    from mavil.datasets.readers import open_media
    benchmark = load_script('benchmarks/data_throughput.py')
    path = benchmark.write_clip(str(tmp_path / 'clip.mp4'), seconds=4, width=96, height=64)
    with av.open(path) as container:
        reference = torch.from_numpy(np.stack(
            [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]))  # [N, H, W, 3]
    rng = np.random.default_rng(0)
    for backend in ['pyav_baseline', 'pyav', 'decord', *TORCHCODEC]:
        with open_media(path, backend=backend) as reader:
            for _ in range(5):
                times = rng.uniform(0, 0.5) + np.arange(8) / 2  # a stage-1 clip
                idx = reader.frame_indices(times)
                assert torch.equal(reader.read_frames(times), reference[idx])
