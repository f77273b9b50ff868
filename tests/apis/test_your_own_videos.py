"""README "Your own videos", end to end on generated clips with a tiny config.

Same tools, same order, same arguments as the README: preprocess -> build_annotations ->
compute_audio_stats -> a config inheriting configs/mavil/stage1.py (through the tiny test
config, which only shrinks the model) that sets data paths and statistics -> train ->
extract_features -> search -> visualize_reconstruction.
"""
import importlib
import json
import os.path as osp

import numpy as np

from .conftest import REPO, write_clip

# The README's config, with the tiny model sizes of tests/fixtures/configs/tiny_stage1.py
# (64 x 32 fbank, 4 frames of 32 x 32) instead of ViT-B's.
CONFIG = '''
_base_ = ['{repo}/tests/fixtures/configs/tiny_stage1.py']  # README: '../mavil/stage1.py'

data_root = '{root}/data/myvideos'
audio_mean, audio_std = {mean}, {std}  # tools/data/compute_audio_stats.py
clip = dict(num_frames=4, fps=4.0)
train_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=clip, min_duration=0.5),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=32),
    dict(type='AudioRandomRoll'),
    dict(type='AudioPadCrop', target_length=64),
    dict(type='AudioNormalize', mean=audio_mean, std=audio_std),
    dict(type='VideoRandomResizedCrop', size=32, scale=(0.2, 1.0)),
    dict(type='VideoRandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadAudioVideo', backend='pyav', clip_sampler=dict(clip, test_mode=True),
         min_duration=0.5),
    dict(type='AudioResample', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=32),
    dict(type='AudioPadCrop', target_length=64),
    dict(type='AudioNormalize', mean=audio_mean, std=audio_std),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoCenterCrop', size=32),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(_delete_=True, type='AVDataset', ann_file=f'{{data_root}}/train.csv',
                 data_prefix=f'{{data_root}}/videos', pipeline=train_pipeline))
train_cfg = dict(max_iters=3)
default_hooks = dict(checkpoint=dict(interval=3))
'''


def run_tool(capsys, script: str, *args: str) -> str:
    """Run a tool's ``main`` with the README's arguments (in this process: imports once);
    returns what it printed."""
    module = importlib.import_module(script[:-len('.py')].replace('/', '.'))
    capsys.readouterr()
    result = module.main(list(args))
    assert not isinstance(result, int) or result == 0, f'{script} returned {result}'
    return capsys.readouterr().out


def test_walkthrough(tmp_path, capsys):
    raw, root = tmp_path / 'raw', tmp_path / 'data' / 'myvideos'
    raw.mkdir()
    for i in range(4):
        write_clip(raw / f'clip_{i}.mp4', i, seconds=1.5)
    # 1. re-encode (here: 64-pixel longer side, to keep it quick)
    run_tool(capsys, 'tools/data/preprocess.py', str(raw), str(root / 'videos'),
             '--workers', '1', '--size', '64')
    # 2. annotations of the usable clips (no labels needed for pre-training)
    run_tool(capsys, 'tools/data/build_annotations.py', str(root / 'videos'), '--out',
             str(root / 'train.csv'), '--allow-unlabeled', '--workers', '1',
             '--min-duration', '0.5')
    # 3. fbank statistics, read with the config's own pipeline (placeholder stats first)
    config = tmp_path / 'myvideos_stage1.py'
    config.write_text(CONFIG.format(repo=REPO, root=tmp_path, mean=0.0, std=1.0))
    printed = run_tool(capsys, 'tools/data/compute_audio_stats.py', str(config), '--workers',
                       '1', '--json')
    stats = json.loads(printed.strip().splitlines()[-1])
    assert stats['num_clips'] == 4 and np.isfinite(stats['mean'])
    config.write_text(CONFIG.format(repo=REPO, root=tmp_path, mean=round(stats['mean'], 3),
                                    std=round(stats['std'], 3)))
    # 4. train
    work = tmp_path / 'work_dirs' / 'myvideos_stage1'
    run_tool(capsys, 'tools/train.py', str(config), '--work-dir', str(work))
    ckpt = work / 'iter_3.pth'
    assert ckpt.is_file()
    # 5. embed every clip, 6. search, 7. reconstruction figure
    feats = tmp_path / 'feats.npz'
    run_tool(capsys, 'tools/extract_features.py', str(config), str(ckpt), str(root / 'videos'),
             '--out', str(feats), '--workers', '0')
    with np.load(feats, allow_pickle=False) as data:
        assert data['audio'].shape[0] == data['video'].shape[0] == 4
    out = run_tool(capsys, 'tools/search.py', str(feats), '--query', 'clip_2.mp4', '--direction',
                   'a2v', '--topk', '3', '--html', str(tmp_path / 'search.html'))
    assert out.count('clip_') >= 4 and osp.isfile(tmp_path / 'search.html')
    png = tmp_path / 'recon.png'
    run_tool(capsys, 'tools/visualize_reconstruction.py', str(config), str(ckpt),
             str(root / 'videos' / 'clip_1.mp4'), '--out', str(png), '--seed', '0')
    assert png.stat().st_size > 10_000
