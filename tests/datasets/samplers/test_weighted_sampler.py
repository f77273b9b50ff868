"""DistributedWeightedSampler: App. B.3 weights, empirical frequencies, rank shards."""
from collections import Counter

import pytest
import torch

from mavil.datasets.samplers import weighted_sampler as ws
from mavil.datasets.samplers import (DistributedWeightedSampler, dataset_labels,
                                     label_inverse_frequency_weights)


class LabelledDataset:
    """Annotations only (as AVDataset: ``get_data_info(i)['labels']``)."""

    def __init__(self, labels: list[list[int]]) -> None:
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def get_data_info(self, index: int) -> dict:
        return dict(labels=self.labels[index])


def imbalanced_labels() -> list[list[int]]:
    # class 0: 600 clips, class 1: 150, class 2: 30, class 3: 20 (some clips also carry 0)
    labels = [[0]] * 600 + [[1]] * 150 + [[2]] * 30 + [[3]] * 10 + [[3, 0]] * 10
    return [list(x) for x in labels]


def make_sampler(dataset, rank: int = 0, world: int = 1, monkeypatch=None, **kwargs):
    monkeypatch.setattr(ws, 'get_dist_info', lambda: (rank, world))
    return DistributedWeightedSampler(dataset, seed=kwargs.pop('seed', 3), **kwargs)


def test_weights_follow_the_paper_formula():
    labels = [[0], [0], [1], [0, 1], [2]]
    w = label_inverse_frequency_weights(labels)
    w0, w1, w2 = 1000 / (3 + 0.01), 1000 / (2 + 0.01), 1000 / (1 + 0.01)
    expected = torch.tensor([w0, w0, w1, w0 + w1, w2], dtype=torch.float64)
    torch.testing.assert_close(w, expected)


def test_empirical_class_frequencies_follow_the_weights(monkeypatch):
    labels = imbalanced_labels()
    sampler = make_sampler(LabelledDataset(labels), monkeypatch=monkeypatch, num_samples=40000)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 40000
    # expected share of draws whose clip carries class c: sum of w_i over such clips / sum w
    w = sampler.weights
    counts = Counter(c for i in drawn for c in labels[i])
    for c in range(4):
        carrying = torch.tensor([c in ls for ls in labels])
        expected = float(w[carrying].sum() / w.sum())
        assert counts[c] / len(drawn) == pytest.approx(expected, abs=0.01), c
    # inverse-frequency weighting evens out the rare classes: each single-label class gets a
    # similar share although class 0 has 60x the clips of class 3
    single = Counter(labels[i][0] for i in drawn if len(labels[i]) == 1)
    shares = [single[c] / len(drawn) for c in range(3)]
    assert max(shares) / min(shares) < 1.3
    # per-clip frequencies follow w_i / sum(w) too
    per_clip = Counter(drawn)
    rare = 790  # a [3] clip
    assert per_clip[rare] / len(drawn) == pytest.approx(float(w[rare] / w.sum()), rel=0.25)


def test_ranks_share_one_draw_and_get_disjoint_shards(monkeypatch):
    dataset = LabelledDataset(imbalanced_labels())
    world = 3
    shards = []
    for rank in range(world):
        sampler = make_sampler(dataset, rank, world, monkeypatch, num_samples=1000)
        sampler.set_epoch(5)
        shards.append(list(sampler))
        if rank == 0:
            global_draw = sampler.global_indices(5).tolist()
    assert len(global_draw) == 1002  # 1000 rounded up to a multiple of the world size
    assert all(len(s) == 334 for s in shards)
    # disjoint positions of the same global draw, together the whole draw
    for rank, shard in enumerate(shards):
        assert shard == global_draw[rank::world]
    assert sorted(sum(shards, [])) == sorted(global_draw)
    # identical across ranks for an epoch and seed; a new epoch or seed draws anew
    again = make_sampler(dataset, 1, world, monkeypatch, num_samples=1000)
    again.set_epoch(5)
    assert list(again) == shards[1]
    again.set_epoch(6)
    assert list(again) != shards[1]
    other_seed = make_sampler(dataset, 1, world, monkeypatch, num_samples=1000, seed=4)
    other_seed.set_epoch(5)
    assert list(other_seed) != shards[1]


def test_without_replacement_ranks_get_disjoint_clips(monkeypatch):
    dataset = LabelledDataset(imbalanced_labels())
    shards = []
    for rank in range(2):
        sampler = make_sampler(dataset, rank, 2, monkeypatch, num_samples=300,
                               replacement=False)
        shards.append(set(sampler))
    assert len(shards[0]) == len(shards[1]) == 150
    assert not shards[0] & shards[1]
    with pytest.raises(ValueError, match='distinct samples'):
        make_sampler(dataset, 0, 1, monkeypatch, num_samples=2000, replacement=False)


def test_labels_come_from_annotations_or_samples(monkeypatch):
    logged = []
    monkeypatch.setattr(ws, 'print_log', lambda msg, **kwargs: logged.append(msg))
    assert dataset_labels(LabelledDataset([[1], [0, 2]])) == [[1], [0, 2]]

    class Loaded:  # no annotation access: samples are loaded (with a warning)
        def __len__(self):
            return 2

        def __getitem__(self, i):
            from mavil.structures import AVDataSample
            return dict(data_samples=AVDataSample(labels=torch.tensor([i + 3])))

    assert dataset_labels(Loaded()) == [[3], [4]]
    assert 'loading all 2 samples' in ' '.join(logged)
    with pytest.raises(TypeError, match='label map'):
        dataset_labels(LabelledDataset([['dog'], ['cat']]))


def test_unlabelled_clips_are_never_drawn(monkeypatch):
    sampler = make_sampler(LabelledDataset([[0], [], [1], []]), monkeypatch=monkeypatch,
                           num_samples=500)
    assert set(sampler) <= {0, 2}
    with pytest.raises(ValueError, match='labelled samples'):
        make_sampler(LabelledDataset([[], []]), monkeypatch=monkeypatch)
