"""tools/data/compute_audio_stats.py against a direct computation on generated files."""
import json

import av
import numpy as np
import pytest
import torch
import torchaudio

from tests.datasets.media import write_clip
from .conftest import REPO

# (file, sample rate, channels): every rate and layout goes through resampling / down-mixing
CLIPS = [('a.mp4', 16000, 1), ('b.mkv', 44100, 2), ('c.webm', 48000, 2)]

CONFIG = '''
default_scope = 'mavil'
train_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(num_frames=8, fps=2.0)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=64),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=1024),
    dict(type='AudioNormalize', mean=-4.268, std=4.569),
    dict(type='AudioAddNoise'),
    dict(type='VideoRandomResizedCrop', size=32, scale=(0.2, 1.0)),
    dict(type='PackAVInputs'),
]
common = dict(type='AVDataset', data_prefix='{root}', pipeline=train_pipeline)
train_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=[
    dict(common, ann_file='{root}/part1.csv'), dict(common, ann_file='{root}/part2.csv')]))
'''


def reference_fbank(path: str) -> torch.Tensor:
    """Decode with PyAV directly, mix to mono, resample and fbank with torchaudio."""
    with av.open(path) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        chunks = [frame.to_ndarray().reshape(stream.channels, -1).astype(np.float32)
                  for frame in container.decode(stream)]
    wave = torch.from_numpy(np.concatenate(chunks, axis=1)).mean(0, keepdim=True)
    wave = torchaudio.functional.resample(wave, rate, 16000)
    return torchaudio.compliance.kaldi.fbank(
        wave - wave.mean(), htk_compat=True, sample_frequency=16000, use_energy=False,
        window_type='hanning', num_mel_bins=64, dither=0.0, frame_length=25,
        frame_shift=10).double()


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp('stats')
    for i, (name, rate, channels) in enumerate(CLIPS):
        write_clip(root / name, seconds=1.0 + i, sample_rate=rate, channels=channels)
    (root / 'broken.mp4').write_bytes(b'')
    (root / 'part1.csv').write_text('filename\na.mp4\nbroken.mp4\n')
    (root / 'part2.csv').write_text('filename\nb.mkv\nc.webm\n')
    path = root / 'config.py'
    path.write_text(CONFIG.replace('{root}', str(root)))
    return path


def test_matches_direct_computation(compute_audio_stats, config, capsys):
    stats = compute_audio_stats.main([str(config), '--num-samples', '0', '--workers', '1',
                                      '--json'])
    values = torch.cat([reference_fbank(str(config.parent / name)).flatten()
                        for name, _, _ in CLIPS])
    assert stats['num_clips'] == 3 and stats['num_values'] == values.numel()
    assert stats['mean'] == pytest.approx(values.mean().item(), abs=1e-4)
    assert stats['std'] == pytest.approx(values.std(unbiased=False).item(), abs=1e-4)
    assert [s['filename'] for s in stats['skipped']] == [str(config.parent / 'broken.mp4')]
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1])['num_clips'] == 3
    assert any("dict(type='AudioNormalize', mean=" in line for line in lines)


def test_workers_and_subsets(compute_audio_stats, config):
    one = compute_audio_stats.main([str(config), '--num-samples', '0', '--workers', '1'])
    two = compute_audio_stats.main([str(config), '--num-samples', '0', '--workers', '2'])
    # thread counts differ (1 per worker), so reductions may round differently
    assert (two['mean'], two['std']) == pytest.approx((one['mean'], one['std']), abs=1e-6)
    subset = compute_audio_stats.main([str(config), '--num-samples', '2', '--workers', '1'])
    assert subset['num_clips'] + len(subset['skipped']) == 2


def test_pipeline_is_cut_after_fbank(compute_audio_stats):
    from mmengine.config import Config
    cfg = Config.fromfile(REPO / 'configs/_base_/datasets/audioset_pretrain.py')
    pipeline = compute_audio_stats.stats_pipeline(cfg.train_pipeline)
    assert [t['type'] for t in pipeline] == ['LoadAudioVideo', 'AudioResample', 'KaldiFbank']
    assert pipeline[0]['modalities'] == ('audio', )
    assert pipeline[2]['num_mel_bins'] == 128
    with pytest.raises(ValueError, match='no KaldiFbank'):
        compute_audio_stats.stats_pipeline([dict(type='LoadAudioVideo')])
