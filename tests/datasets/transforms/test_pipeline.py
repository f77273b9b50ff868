"""Packing, registry builds and whole pipelines from a file to the model's preprocessor."""
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from mavil.datasets.transforms import PackAVInputs
from mavil.models.data_preprocessor import AVDataPreprocessor
from mavil.registry import TRANSFORMS
from mavil.structures import AVDataSample


def train_pipeline(backend='decord', target_length=1024, mel=128, size=224, frames=8):
    return [
        dict(type='LoadAudioVideo', backend=backend, clip_sampler=dict(num_frames=frames, fps=2)),
        dict(type='AudioResample', sample_rate=16000),
        dict(type='KaldiFbank', num_mel_bins=mel),
        dict(type='AudioRandomRoll'),
        dict(type='AudioPadCrop', target_length=target_length),
        dict(type='AudioNormalize', mean=-4.268, std=4.569),
        dict(type='AudioAddNoise', snr_db=20),
        dict(type='SpecAugment', time_mask=192, freq_mask=48),
        dict(type='VideoRandomResizedCrop', size=size, scale=(0.2, 1.0)),
        dict(type='VideoRandomFlip', prob=0.5),
        dict(type='PackAVInputs'),
    ]


def eval_pipeline(num_clips=1, target_length=1024):
    return [
        dict(type='LoadAudioVideo', backend='pyav',
             clip_sampler=dict(num_frames=8, fps=2, num_clips=num_clips, test_mode=True)),
        dict(type='AudioResample'),
        dict(type='KaldiFbank'),
        dict(type='AudioPadCrop', target_length=target_length),
        dict(type='AudioNormalize'),
        dict(type='VideoResize', short_side=224),
        dict(type='VideoCenterCrop', size=224),
        dict(type='PackAVInputs'),
    ]




@pytest.fixture
def mavil_scope():
    name = f'test_pipeline_{torch.randint(0, 10**9, ()).item()}'
    yield DefaultScope.get_instance(name, scope_name='mavil')


def test_registry_builds_every_transform():
    for name in ('LoadAudioVideo', 'AudioResample', 'KaldiFbank', 'AudioPadCrop',
                 'AudioNormalize', 'AudioRandomRoll', 'AudioAddNoise', 'SpecAugment',
                 'VideoRandomResizedCrop', 'VideoRandomFlip', 'VideoResize', 'VideoCenterCrop',
                 'PackAVInputs'):
        kwargs = dict(short_side=224) if name == 'VideoResize' else {}
        assert type(TRANSFORMS.build(dict(type=name, **kwargs))).__name__ == name


@pytest.mark.parametrize('backend', ['decord', 'pyav'])
@pytest.mark.parametrize('name', ['mp4', 'webm', 'mkv', 'odd', 'portrait', 'stereo_48k',
                                  'mono_8k', 'loop', 'silent'])
def test_train_pipeline_from_files(media, mavil_scope, name, backend):
    out = Compose(train_pipeline(backend))(dict(filename=str(media[name]), clip_id=name))
    audio, video = out['inputs']['audio'], out['inputs']['video']
    assert audio.shape == (1, 1024, 128) and audio.dtype == torch.float32
    assert torch.isfinite(audio).all()
    assert video.shape == (3, 8, 224, 224) and video.dtype == torch.uint8
    sample = out['data_samples']
    assert isinstance(sample, AVDataSample)
    assert sample.clip_id == name and sample.filename == str(media[name])


def test_sizes_come_from_config(media, mavil_scope):
    pipeline = train_pipeline(target_length=128, mel=64, size=(96, 112), frames=4)
    out = Compose(pipeline)(dict(filename=str(media['mp4'])))
    assert out['inputs']['audio'].shape == (1, 128, 64)
    assert out['inputs']['video'].shape == (3, 4, 96, 112)


def test_test_pipeline_multi_clip(media, mavil_scope):
    single = Compose(eval_pipeline(target_length=512))(dict(filename=str(media['long'])))
    assert single['inputs']['audio'].shape == (1, 512, 128)
    assert single['inputs']['video'].shape == (3, 8, 224, 224)
    multi = Compose(eval_pipeline(num_clips=3))(dict(filename=str(media['long'])))
    assert multi['inputs']['video'].shape == (3, 3, 8, 224, 224)  # [N, C, T, H, W]
    assert multi['data_samples'].num_clips == 3
    # deterministic
    again = Compose(eval_pipeline())(dict(filename=str(media['long'])))
    assert torch.equal(again['inputs']['video'], single['inputs']['video'])


def test_batches_through_data_preprocessor(media, mavil_scope):
    pipeline = Compose(train_pipeline('pyav'))
    batch = pseudo_collate([
        pipeline(dict(filename=str(media[name]), clip_id=name, labels=[i]))
        for i, name in enumerate(['mp4', 'portrait'])
    ])
    data = AVDataPreprocessor()(batch, training=True)
    assert data['inputs']['audio'].shape == (2, 1, 1024, 128)
    video = data['inputs']['video']
    assert video.shape == (2, 3, 8, 224, 224) and video.dtype == torch.float32
    assert -3 < video.min() and video.max() < 3  # 0-255 uint8 normalised with RGB mean/std
    assert [s.labels.tolist() for s in data['data_samples']] == [[0], [1]]


def test_pack_labels_and_meta():
    results = dict(audio=torch.zeros(1, 8, 4, dtype=torch.float64),
                   video=torch.zeros(3, 2, 4, 4, dtype=torch.uint8),
                   labels=torch.tensor([2, 7], dtype=torch.int32), clip_id='c1', filename='f.mp4',
                   waveform=torch.zeros(1, 10))
    out = PackAVInputs()(results)
    assert set(out) == {'inputs', 'data_samples'}
    assert out['inputs']['audio'].dtype == torch.float32
    assert out['inputs']['video'].dtype == torch.uint8
    sample = out['data_samples']
    assert sample.labels.dtype == torch.long and sample.labels.tolist() == [2, 7]
    assert sample.metainfo == {'clip_id': 'c1', 'filename': 'f.mp4'}
    assert PackAVInputs()(dict(audio=torch.zeros(1, 2, 2), video=torch.zeros(
        3, 1, 2, 2, dtype=torch.uint8), labels=3))['data_samples'].labels.tolist() == [3]
    assert 'labels' not in PackAVInputs()(dict(audio=torch.zeros(1, 2, 2), video=torch.zeros(
        3, 1, 2, 2)))['data_samples']


def test_pack_audio_only_and_missing_modality():
    out = PackAVInputs(modalities=('audio',))(dict(audio=torch.zeros(1, 4, 4)))
    assert set(out['inputs']) == {'audio'}
    with pytest.raises(KeyError, match=r"PackAVInputs needs results\['video'\] \(file a.mp4\)"):
        PackAVInputs()(dict(audio=torch.zeros(1, 4, 4), filename='a.mp4'))
