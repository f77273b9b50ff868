"""WaveformMixup (AST / AudioMAE dataset mixup): waveform mixed before the fbank, targets
mixed with the same weight, partner drawn by AVDataset from the other clips."""
import pytest
import torch

from mavil.datasets import AVDataset
from mavil.datasets.transforms import WaveformMixup
from mavil.models.algorithms import labels_to_targets
from tests.datasets.media import write_clip


def test_mixes_waveforms_and_keeps_the_length():
    torch.manual_seed(0)
    own, other = torch.randn(1, 1000), torch.randn(1, 600)  # a shorter partner: zero-padded
    results = dict(waveform=own, sample_rate=16000, labels=[1],
                   load_partner=lambda: dict(waveform=other, sample_rate=16000, labels=[3]))
    out = WaveformMixup(prob=1.0, alpha=10.0)(results)
    lam = out['mix_lambda']
    assert 0 < lam < 1 and out['mix_labels'] == [3] and 'load_partner' not in out
    expected = lam * own
    expected[:, :600] += (1 - lam) * other
    torch.testing.assert_close(out['waveform'], expected)
    assert out['waveform'].shape == (1, 1000)


def test_probability_and_a_missing_partner():
    results = dict(waveform=torch.zeros(1, 10), sample_rate=16000)
    assert WaveformMixup(prob=0.0)(dict(results))['mix_lambda'] is None
    with pytest.raises(RuntimeError, match='partner clip'):
        WaveformMixup(prob=1.0)(dict(results))  # not inside AVDataset
    unreadable = dict(results, load_partner=lambda: None)
    assert WaveformMixup(prob=1.0)(unreadable)['mix_lambda'] is None
    lams = [WaveformMixup(prob=1.0, alpha=10.0)(dict(results, load_partner=lambda: dict(
        waveform=torch.zeros(1, 10), sample_rate=16000, labels=[0])))['mix_lambda']
        for _ in range(300)]
    assert abs(sum(lams) / 300 - 0.5) < 0.03  # Beta(10, 10): mean 0.5, std 0.11


def test_dataset_supplies_the_partner_and_targets_mix(tmp_path):
    torch.manual_seed(0)
    for name in ('a', 'b'):
        write_clip(tmp_path / f'{name}.mp4', seconds=1.5, video=False)
    ann = tmp_path / 'ann.csv'
    ann.write_text('filename,labels\na.mp4,dog\nb.mp4,cat\n')
    pipeline = [
        dict(type='LoadAudioVideo', backend='pyav', modalities=('audio', )),
        dict(type='AudioResample', sample_rate=16000),
        dict(type='WaveformMixup', prob=1.0),
        dict(type='KaldiFbank', num_mel_bins=32),
        dict(type='AudioPadCrop', target_length=64),
        dict(type='AudioNormalize'),
        dict(type='PackAVInputs', modalities=('audio', )),
    ]
    dataset = AVDataset(ann_file=str(ann), data_prefix=str(tmp_path), pipeline=pipeline)
    sample = dataset[0]['data_samples']  # a.mp4 (dog); its only partner is b.mp4 (cat)
    cat, dog = dataset.metainfo['classes'].index('cat'), dataset.metainfo['classes'].index('dog')
    assert sample.labels.tolist() == [dog] and sample.mix_labels.tolist() == [cat]
    lam = sample.mix_lambda
    targets = labels_to_targets([sample], 2)
    assert targets[0, dog].item() == pytest.approx(lam)
    assert targets[0, cat].item() == pytest.approx(1 - lam)
