"""Evaluation of the demo: retrieval and linear probes on full-view embeddings.

Pure functions (tested against hand computations in ``tests/demo/test_evaluate.py``):

* :func:`a2v_recall` (audio -> video retrieval; the true match of query ``i`` is gallery item
  ``i``; the ranking itself is :class:`mavil.evaluation.RetrievalRecall`'s; called with the
  arguments swapped it is video -> audio retrieval),
* :func:`linear_probe` (multinomial logistic regression on whitened features, solved by
  L-BFGS, L2 strength by cross-validation),
* :func:`chance_accuracy`.

Plus the glue that decodes clips once with the test pipeline (:func:`load_eval_split`) and
embeds them with any model (:func:`extract_embeddings`), so several models (random init,
stage 1, stage 2) are compared on exactly the same inputs.
"""
import os
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mavil.evaluation.metrics.retrieval import RetrievalRecall
from mavil.structures import SKIPPED_KEY


# ----------------------------------------------------------------------- pure functions
def a2v_recall(audio: torch.Tensor, video: torch.Tensor,
               ks: Sequence[int] = (1, 5)) -> dict[int, float]:
    """Audio-to-video Recall@K as fractions: audio ``i`` must retrieve video ``i`` among all
    videos by cosine similarity. Uses :class:`mavil.evaluation.RetrievalRecall`'s pure
    functions (ties counted against the query)."""

    percent = RetrievalRecall.calculate(RetrievalRecall.similarity(audio, video), ks)
    return {k: percent[f'R@{k}'] / 100 for k in ks}


def chance_accuracy(train_labels: torch.Tensor, test_labels: torch.Tensor,
                    num_classes: int) -> float:
    """Accuracy of always predicting the training split's most frequent class; equals
    ``1 / num_classes`` on balanced splits."""
    counts = torch.bincount(train_labels, minlength=num_classes)
    majority = int(counts.argmax())
    return float((test_labels == majority).float().mean())


@dataclass
class ProbeResult:
    test_accuracy: float
    train_accuracy: float
    weight_decay: float  # the L2 strength cross-validation chose


PROBE_WEIGHT_DECAYS = (1e-2, 1e-1, 1.0)


def whitener(x: torch.Tensor, rel_eps: float = 1e-12):
    """The map ``z -> (z - mean) V / sqrt(lambda)`` that whitens ``x`` [N, D] (PCA on its
    covariance; directions with variance below ``rel_eps`` x the largest are dropped: they
    carry no signal, only round-off)."""
    x = x.double()
    mean = x.mean(0)
    centred = x - mean
    evals, evecs = torch.linalg.eigh(centred.t() @ centred / len(x))
    keep = evals > rel_eps * evals.max().clamp_min(1e-300)
    scale = evecs[:, keep] / evals[keep].sqrt()
    return lambda z: (z.double() - mean) @ scale


def fit_logistic(x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float,
                 max_iter: int = 200):
    """Multinomial logistic regression on whitened ``x``, L2 ``weight_decay`` on the
    weights, solved by L-BFGS (zero start: deterministic). Returns the predictor."""
    whiten = whitener(x)
    xw = whiten(x)
    weight = torch.zeros(xw.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-9, tolerance_change=1e-12,
                                  line_search_fn='strong_wolfe')

    def objective():
        optimizer.zero_grad()
        loss = F.cross_entropy(xw @ weight + bias, y) + weight_decay / 2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(objective)
    weight, bias = weight.detach(), bias.detach()
    return lambda z: (whiten(z) @ weight + bias).argmax(1)


def _accuracy(predict, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(x) == y).double().mean())


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                 test_y: torch.Tensor, num_classes: int, *,
                 weight_decays: Sequence[float] = PROBE_WEIGHT_DECAYS, folds: int = 5,
                 max_iter: int = 200) -> ProbeResult:
    """Linear probe: multinomial logistic regression on frozen features, solved to
    convergence.

    The features are whitened with the training split's mean and covariance, so the probe
    sees the same information whatever linear map the encoder ends with: a probe by a few
    hundred gradient steps on merely standardised features stays far from its optimum on the
    ill-conditioned features of a masked autoencoder (training accuracy near chance) and
    then measures the conditioning, not the information. The L2 strength is picked from
    ``weight_decays`` by ``folds``-fold cross-validation on the training split (fixed folds:
    deterministic; ties go to the stronger decay), then the probe is refitted on all of it.

    Returns:
        Test and training accuracy, and the chosen weight decay.
    """
    folds = max(2, folds)
    fold_of = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(0)) % folds
    best_wd, best_score = None, -1.0
    for wd in sorted(weight_decays, reverse=True):
        scores = []
        for k in range(folds):
            held = fold_of == k
            if held.all() or not held.any():  # fewer clips than folds
                continue
            predict = fit_logistic(train_x[~held], train_y[~held], num_classes, wd, max_iter)
            scores.append(_accuracy(predict, train_x[held], train_y[held]))
        score = sum(scores) / max(1, len(scores))
        if score > best_score + 1e-12:
            best_wd, best_score = wd, score
    predict = fit_logistic(train_x, train_y, num_classes, best_wd, max_iter)
    return ProbeResult(_accuracy(predict, test_x, test_y), _accuracy(predict, train_x, train_y),
                       best_wd)


# --------------------------------------------------------------------------------- glue
@dataclass
class EvalSplit:
    """Clips of one split decoded with the test pipeline (kept in memory).

    ``audio`` ``[N, 1, T, F]`` float, ``video`` ``[N, 3, T, H, W]`` uint8, ``labels`` ``[N]``.
    """
    audio: torch.Tensor
    video: torch.Tensor
    labels: torch.Tensor
    filenames: list

    def __len__(self) -> int:
        return len(self.labels)


def load_eval_split(dataset, *, desc: str = 'decode', progress: bool = True,
                    num_workers: int = 0) -> EvalSplit:
    """Run ``dataset``'s (test) pipeline on every clip once. Unreadable clips raise: the
    demo data is generated here, so one would be a bug, not noise to skip."""
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    loader = DataLoader(dataset, batch_size=1, num_workers=num_workers,
                        collate_fn=lambda batch: batch[0])
    audio, video, labels, names = [], [], [], []
    for item in tqdm(loader, total=len(dataset), desc=desc, unit='clip', disable=not progress,
                     dynamic_ncols=True):
        if SKIPPED_KEY in item:
            raise RuntimeError(f'unreadable demo clip {item[SKIPPED_KEY]["filename"]}: '
                               f'{item[SKIPPED_KEY]["reason"]}')
        sample = item['data_samples']
        if sample.labels.numel() != 1:
            raise ValueError(f'{sample.filename}: expected one label, got {sample.labels}')
        audio.append(item['inputs']['audio'])
        video.append(item['inputs']['video'])
        labels.append(int(sample.labels[0]))
        names.append(sample.metainfo.get('filename'))
    return EvalSplit(torch.stack(audio), torch.stack(video), torch.tensor(labels), names)


@torch.no_grad()
def extract_embeddings(model: nn.Module, split: EvalSplit, *, batch_size: int = 64,
                       desc: str = 'embed', progress: bool = False) -> dict[str, torch.Tensor]:
    """Full-view mean-pooled uni-modal embeddings ``{'audio': [N, D], 'video': [N, D]}``,
    through the model's own data preprocessor (RGB normalisation) and ``extract_feat``."""
    from tqdm import tqdm

    was_training = model.training
    model.eval()
    out: dict[str, list] = {'audio': [], 'video': []}
    starts = range(0, len(split), batch_size)
    try:
        for start in tqdm(starts, desc=desc, unit='batch', disable=not progress,
                          dynamic_ncols=True):
            batch = {'inputs': {'audio': split.audio[start:start + batch_size],
                                'video': split.video[start:start + batch_size]}}
            inputs = model.data_preprocessor(batch, False)['inputs']
            for modality, emb in model.extract_feat(inputs).items():
                out[modality].append(emb.float())
    finally:
        model.train(was_training)
    return {m: torch.cat(v) for m, v in out.items()}


def evaluate_embeddings(train: dict[str, torch.Tensor], train_labels: torch.Tensor,
                        test: dict[str, torch.Tensor], test_labels: torch.Tensor,
                        num_classes: int, *, probe_steps: int = 200) -> dict[str, float]:
    """The report row of one model: a2v and v2a R@1/R@5 (test split), chance, probe
    accuracies."""
    a2v = a2v_recall(test['audio'], test['video'], ks=(1, 5))
    v2a = a2v_recall(test['video'], test['audio'], ks=(1, 5))
    n_test = len(test_labels)
    row = dict(a2v_r1=a2v[1], a2v_r5=a2v[5], v2a_r1=v2a[1], v2a_r5=v2a[5], chance_r1=1 / n_test,
               chance_r5=min(5, n_test) / n_test)
    for modality in ('audio', 'video'):
        probe = linear_probe(train[modality], train_labels, test[modality], test_labels,
                             num_classes, max_iter=probe_steps)
        row[f'{modality}_probe_acc'] = probe.test_accuracy
    row['chance_acc'] = chance_accuracy(train_labels, test_labels, num_classes)
    return row


def evaluate_model(model: nn.Module, train: EvalSplit, test: EvalSplit, num_classes: int,
                   *, probe_steps: int = 200, batch_size: int = 64,
                   progress: bool = False) -> dict[str, float]:
    """Embed both splits with ``model`` and compute its report row."""
    train_emb = extract_embeddings(model, train, batch_size=batch_size, desc='embed train split',
                                   progress=progress)
    test_emb = extract_embeddings(model, test, batch_size=batch_size, desc='embed test split',
                                  progress=progress)
    return evaluate_embeddings(train_emb, train.labels, test_emb, test.labels, num_classes,
                               probe_steps=probe_steps)


def save_splits(path: str, train: EvalSplit, test: EvalSplit) -> None:
    """Both splits, read once, into one weights-only file (written atomically)."""
    data = {name: dict(audio=s.audio, video=s.video, labels=s.labels, filenames=s.filenames)
            for name, s in (('train', train), ('test', test))}
    torch.save(data, path + '.tmp')
    os.replace(path + '.tmp', path)


def load_splits(path: str) -> tuple[EvalSplit, EvalSplit]:
    data = torch.load(path, weights_only=True)
    return EvalSplit(**data['train']), EvalSplit(**data['test'])
