"""End to end with tools/train.py, tools/test.py and tools/dist_test.sh on tiny configs."""
import json
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.train_utils import assert_ok, logged_scalars, run_train

FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures' / 'configs'
TINY_AUDIO = FIXTURES / 'tiny_ft_audio.py'
TINY_AV = FIXTURES / 'tiny_ft_av.py'
TINY_RETRIEVAL = FIXTURES / 'tiny_retrieval.py'


def run_test(repo, config, ckpt, work_dir, env, *extra) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(repo / 'tools' / 'test.py'), str(config), str(ckpt),
           '--work-dir', str(work_dir), *extra]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def final_val_metrics(work_dir: Path, key: str) -> dict:
    records = [r for r in logged_scalars(work_dir) if key in r]
    assert records, f'no validation record with {key} in {work_dir}'
    return records[-1]


def read_test_metrics(work_dir: Path) -> dict:
    files = sorted(work_dir.glob('*/*.json'))
    assert files, f'no test metrics written under {work_dir}'
    return json.loads(files[-1].read_text().splitlines()[-1])


def assert_same_metrics(a: dict, b: dict, keys) -> None:
    for key in keys:
        assert a[key] == pytest.approx(b[key], abs=1e-9), (key, a[key], b[key])


def test_finetuning_pretrained_beats_random_init_and_test_tool_reproduces(
        repo, subprocess_env, tmp_path, pretrained_ckpt):
    pre = run_train(repo, TINY_AUDIO, tmp_path / 'pretrained', subprocess_env,
                    '--cfg-options', f'load_from={pretrained_ckpt}')
    assert_ok(pre)
    log = pre.stdout + pre.stderr
    # the audio encoder without its final norm (MAE global pool: the head's fc_norm replaces it)
    assert 'checkpoint (MAViL pre-training): 27 tensors matched' in log
    rnd = run_train(repo, TINY_AUDIO, tmp_path / 'random', subprocess_env)
    assert_ok(rnd)
    pre_val = final_val_metrics(tmp_path / 'pretrained', 'top1')
    rnd_val = final_val_metrics(tmp_path / 'random', 'top1')
    print(f'\ntiny audio fine-tuning (200 steps, 8 classes, chance 12.5%): top-1 from '
          f'pre-trained {pre_val["top1"]:.2f}% vs random init {rnd_val["top1"]:.2f}%; mAP '
          f'{pre_val["mAP"]:.2f} vs {rnd_val["mAP"]:.2f}')
    assert pre_val['top1'] >= rnd_val['top1'] + 10.0, (pre_val, rnd_val)

    # tools/test.py on the final checkpoint reproduces the final validation exactly
    out = tmp_path / 'preds.pkl'
    test = run_test(repo, TINY_AUDIO, tmp_path / 'pretrained' / 'iter_200.pth',
                    tmp_path / 'test', subprocess_env, '--out', str(out))
    assert_ok(test)
    assert_same_metrics(read_test_metrics(tmp_path / 'test'), pre_val, ('top1', 'top5', 'mAP'))
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 128 and preds[0]['pred_score'].shape == (8, )
    assert {'labels', 'clip_id'} <= set(preds[0])

    # a checkpoint of another architecture (8 classes into a 5-class head): a clear error
    wrong = run_test(repo, TINY_AUDIO, tmp_path / 'pretrained' / 'iter_200.pth',
                     tmp_path / 'wrong', subprocess_env, '--cfg-options',
                     'model.head.num_classes=5')
    assert wrong.returncode != 0
    assert 'head.fc.weight: checkpoint [8, 64] vs model [5, 64]' in wrong.stderr


def test_av_finetuning_multi_clip_and_distributed_test(repo, subprocess_env, tmp_path,
                                                      pretrained_ckpt):
    train = run_train(repo, TINY_AV, tmp_path / 'av', subprocess_env, '--cfg-options',
                      f'load_from={pretrained_ckpt}')
    assert_ok(train)
    log = train.stdout + train.stderr
    assert 'missing (keep their initialisation): av_fusion.* (26), head.* (4)' in log
    assert 'param group: lr x0.5' in log  # the video encoder's halved lr
    val = final_val_metrics(tmp_path / 'av', 'mAP')
    ckpt = tmp_path / 'av' / 'iter_40.pth'

    single = run_test(repo, TINY_AV, ckpt, tmp_path / 'test1', subprocess_env)
    assert_ok(single)
    assert_same_metrics(read_test_metrics(tmp_path / 'test1'), val, ('top1', 'mAP'))

    # 3 clips per video, 125 samples: 2 processes (one padded by the sampler) gather the same
    # metrics as 1 process
    options = ['--cfg-options', 'test_dataloader.dataset.num_clips=3',
               'test_dataloader.dataset.num_samples=125']
    multi = run_test(repo, TINY_AV, ckpt, tmp_path / 'multi', subprocess_env,
                     '--out', str(tmp_path / 'multi.pkl'), *options)
    assert_ok(multi)
    multi_metrics = read_test_metrics(tmp_path / 'multi')
    assert multi_metrics['mAP'] != pytest.approx(val['mAP'], abs=1e-6)  # other inputs
    env = dict(subprocess_env, PORT=str(random.randint(20000, 40000)))
    dist = subprocess.run(
        ['bash', str(repo / 'tools' / 'dist_test.sh'), str(TINY_AV), str(ckpt), '2',
         '--work-dir', str(tmp_path / 'dist'), '--out', str(tmp_path / 'dist.pkl'), *options],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert_ok(dist)
    assert 'Distributed training: True' in dist.stdout + dist.stderr
    assert_same_metrics(read_test_metrics(tmp_path / 'dist'), multi_metrics,
                        ('top1', 'top5', 'mAP'))
    with open(tmp_path / 'dist.pkl', 'rb') as f:
        assert len(pickle.load(f)) == 125


def test_retrieval_finetuning_eq6_and_test_tool(repo, subprocess_env, tmp_path,
                                               pretrained_ckpt):
    options = ['--cfg-options', f'load_from={pretrained_ckpt}',
               f'model.target.teacher_ckpt={pretrained_ckpt}']
    train = run_train(repo, TINY_RETRIEVAL, tmp_path / 'ret', subprocess_env, *options)
    assert_ok(train)
    losses = [r for r in logged_scalars(tmp_path / 'ret') if 'loss' in r]
    assert {'loss_rec_audio', 'loss_rec_video', 'loss_nce_inter', 'loss_nce_intra'} <= set(
        losses[-1])
    val = final_val_metrics(tmp_path / 'ret', 'a2v_R@1')
    keys = [f'{d}_{m}' for d in ('a2v', 'v2a') for m in ('R@1', 'R@5', 'R@10', 'MedR')]
    assert set(keys) <= set(val)
    assert val['a2v_R@1'] > 100 / 64  # above chance on 64 test pairs
    test = run_test(repo, TINY_RETRIEVAL, tmp_path / 'ret' / 'iter_10.pth', tmp_path / 'test',
                    subprocess_env, '--cfg-options',
                    f'model.target.teacher_ckpt={pretrained_ckpt}')
    assert_ok(test)
    assert_same_metrics(read_test_metrics(tmp_path / 'test'), val, keys)
