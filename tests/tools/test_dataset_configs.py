"""The AudioSet / VGGSound pre-training dataset configs build on their documented layout and
yield the paper's sample sizes (App. B.1); without data they fail naming the missing file."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mavil.datasets import av_collate
from mavil.registry import DATASETS, FUNCTIONS
from tests.datasets.media import write_clip
from .conftest import REPO

STAGE1 = REPO / 'configs' / 'mavil' / 'stage1.py'
AUDIOSET = REPO / 'configs' / '_base_' / 'datasets' / 'audioset_pretrain.py'
VGGSOUND = REPO / 'configs' / '_base_' / 'datasets' / 'vggsound_pretrain.py'
CLASS_INDICES = 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05zppz,"Male speech"\n'


@pytest.fixture
def mavil_scope():
    name = f'test_dataset_configs_{torch.randint(0, 10**9, ()).item()}'
    yield DefaultScope.get_instance(name, scope_name='mavil')


def build_train_dataset(config):
    return DATASETS.build(Config.fromfile(config).train_dataloader.dataset)


def test_stage1_without_data_names_the_missing_annotation(tmp_path, monkeypatch, mavil_scope):
    monkeypatch.chdir(tmp_path)  # paths in the config are relative: data/audioset/...
    cfg = Config.fromfile(STAGE1)
    assert cfg.train_dataloader.dataset.type == 'ConcatDataset'
    assert FUNCTIONS.get(cfg.train_dataloader.collate_fn.type) is av_collate
    with pytest.raises(FileNotFoundError, match='annotation file not found: '
                       'data/audioset/annotations/unbalanced_train_segments.csv'):
        build_train_dataset(STAGE1)


def test_audioset_layout_gives_paper_sample(tmp_path, monkeypatch, mavil_scope):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / 'data' / 'audioset'
    (root / 'annotations').mkdir(parents=True)
    (root / 'annotations' / 'class_labels_indices.csv').write_text(CLASS_INDICES)
    header = '# YTID, start_seconds, end_seconds, positive_labels\n'
    (root / 'annotations' / 'unbalanced_train_segments.csv').write_text(
        header + '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/05zppz"\n')
    (root / 'annotations' / 'balanced_train_segments.csv').write_text(
        header + '--ZhevVpy1s, 50.000, 60.000, "/m/05zppz"\n'
        '--aE2O5G5WE, 0.000, 10.000, "/m/09x0r"\n')  # this one was not downloaded
    write_clip(root / 'videos' / 'unbalanced_train' / '--PJHxphWEs.mp4', seconds=3.0,
               size=(90, 160), sample_rate=44100, channels=2, fps=25)
    write_clip(root / 'videos' / 'balanced_train' / '--ZhevVpy1s.mp4', seconds=3.0,
               size=(160, 90), sample_rate=48000, channels=2, fps=25)

    for config in (AUDIOSET, STAGE1):
        dataset = build_train_dataset(config)
        assert len(dataset) == 3
    samples = [dataset[i] for i in range(3)]
    batch = av_collate(samples)
    assert len(batch['skipped']) == 1 and 'does not exist' in batch['skipped'][0]['reason']
    for audio, video in zip(batch['inputs']['audio'], batch['inputs']['video']):
        assert audio.shape == (1, 1024, 128) and audio.dtype == torch.float32
        assert video.shape == (3, 8, 224, 224) and video.dtype == torch.uint8
    assert [s.labels.tolist() for s in batch['data_samples']] == [[0, 1], [1]]
    # normalised with AudioSet's statistics: padding (fbank 0) lands at 4.268 / (2 * 4.569)
    assert batch['inputs']['audio'][0][0, -1, 0].item() == pytest.approx(4.268 / 9.138)


def test_vggsound_layout(tmp_path, monkeypatch, mavil_scope):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / 'data' / 'vggsound'
    root.mkdir(parents=True)
    (root / 'vggsound.csv').write_text('---g-f_I2yQ,1,people marching,test\n'
                                       '--0PQM4-hqg,30,waterfall burbling,train\n')
    write_clip(root / 'videos' / '--0PQM4-hqg_000030.mp4', seconds=2.0, fps=25)
    dataset = build_train_dataset(VGGSOUND)
    assert len(dataset) == 1 and dataset.metainfo['classes'] == ('people marching',
                                                                  'waterfall burbling')
    sample = dataset[0]
    assert sample['inputs']['audio'].shape == (1, 1024, 128)
    assert sample['inputs']['video'].shape == (3, 8, 224, 224)
    assert sample['data_samples'].labels.tolist() == [1]
