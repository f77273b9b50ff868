"""tools/data/build_cache.py: a config's clips into a cache that its pipelines then read."""
import json

import pytest

from tests.datasets.media import write_clip

CONFIG = '''
default_scope = 'mavil'
clip = dict(num_frames=4, fps=2.0)
train_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=clip),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=16),
    dict(type='AudioPadCrop', target_length=200),
    dict(type='VideoRandomResizedCrop', size=24),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(clip, test_mode=True)),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=16),
    dict(type='AudioPadCrop', target_length=200),
    dict(type='VideoResize', short_side=24),
    dict(type='VideoCenterCrop', size=24),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(dataset=dict(type='AVDataset', ann_file='{root}/ann.csv',
                                     data_prefix='{root}', pipeline=train_pipeline))
'''


def test_build_cache_cli(tmp_path, build_cache_tool, capsys):
    root = tmp_path / 'data'
    for name in ('a.mp4', 'b.mp4'):
        write_clip(root / name, seconds=3.0, fps=6.0, size=(40, 60), faststart=True)
    (root / 'ann.csv').write_text('filename,labels,split\na.mp4,x,train\nb.mp4,y,test\n'
                                  'gone.mp4,x,train\n')
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(root=root))
    out = tmp_path / 'cache'
    report = build_cache_tool.main([str(config), str(out), '--workers', '1', '--no-progress'])
    assert (report.clips, report.unusable, report.shards_written) == (2, 1, 1)
    printed = capsys.readouterr().out
    assert '2 clips cached, 1 unusable' in printed and 'clips/s' in printed
    manifest = json.loads((out / 'cache.json').read_text())
    settings = manifest['settings']
    # from the pipelines: the fbank (only spectrogram steps follow it), short side 24
    assert settings['audio_format'] == 'fbank16' and settings['short_side'] == 24
    assert settings['test_samplers'] == [[4, 2.0, 1]]
    # a rerun keeps the finished shard
    again = build_cache_tool.main([str(config), str(out), '--workers', '1', '--no-progress'])
    assert (again.shards_written, again.shards_kept) == (0, 1)

    from mmengine.config import Config
    from mavil.datasets import AVDataset
    cfg = Config.fromfile(str(config))
    for name in ('train_pipeline', 'test_pipeline'):
        pipeline = list(cfg[name])
        pipeline[0] = dict(type='LoadCachedClip', cache=str(out),
                           clip_sampler=pipeline[0]['clip_sampler'])
        ds = AVDataset(ann_file=str(root / 'ann.csv'), data_prefix=str(root),
                       pipeline=pipeline)
        sample = ds[1]
        assert sample['inputs']['video'].shape == (3, 4, 24, 24)
        assert sample['inputs']['audio'].shape == (1, 200, 16)
        assert 'skipped' in ds[2]


def test_build_cache_cli_concat_dataset(tmp_path, build_cache_tool):
    """A ConcatDataset's annotation files in one cache, keyed relative to their common
    folder; each dataset's own data_prefix finds its clips."""
    for part in ('one', 'two'):
        write_clip(tmp_path / part / 'clip.mp4', seconds=3.0, fps=6.0, size=(40, 60),
                   faststart=True)
        (tmp_path / f'{part}.csv').write_text('filename,labels\nclip.mp4,x\n')
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.split('train_dataloader')[0].format(root=tmp_path) + f'''
part = dict(type='AVDataset', pipeline=train_pipeline)
train_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=[
    dict(part, ann_file='{tmp_path}/one.csv', data_prefix='{tmp_path}/one'),
    dict(part, ann_file='{tmp_path}/two.csv', data_prefix='{tmp_path}/two')]))
''')
    out = tmp_path / 'cache'
    report = build_cache_tool.main([str(config), str(out), '--workers', '1', '--no-progress'])
    assert (report.clips, report.unusable) == (2, 0)

    from mavil.datasets.cache import LoadCachedClip
    load = LoadCachedClip(cache=str(out), clip_sampler=dict(num_frames=4, fps=2.0))
    for part in ('one', 'two'):
        assert load(dict(filename=str(tmp_path / part / 'clip.mp4')))['video'].shape[1] == 4


def test_build_cache_cli_unknown_backend_fails_first(tmp_path, build_cache_tool):
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(root=tmp_path))
    with pytest.raises(KeyError, match="unknown media backend 'nope'.*pyav"):
        build_cache_tool.main([str(config), str(tmp_path / 'cache'), '--backend', 'nope'])
    assert not (tmp_path / 'cache').exists()
