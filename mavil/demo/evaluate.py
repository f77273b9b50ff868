"""Evaluation of the demo: retrieval and linear probes on full-view embeddings.

Pure functions (tested against hand computations in ``tests/demo/test_evaluate.py``):

* :func:`a2v_recall` (audio -> video retrieval; the true match of query ``i`` is gallery item
  ``i``; the ranking itself is :class:`mavil.evaluation.RetrievalRecall`'s; called with the
  arguments swapped it is video -> audio retrieval),
* :func:`linear_probe` (multinomial logistic regression by full-batch gradient descent),
* :func:`chance_accuracy`.

Plus the glue that decodes clips once with the test pipeline (:func:`load_eval_split`) and
embeds them with any model (:func:`extract_embeddings`), so several models (random init,
stage 1, stage 2) are compared on exactly the same inputs.
"""
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mavil.structures import SKIPPED_KEY


# ----------------------------------------------------------------------- pure functions
def a2v_recall(audio: torch.Tensor, video: torch.Tensor,
               ks: Sequence[int] = (1, 5)) -> dict[int, float]:
    """Audio-to-video Recall@K as fractions: audio ``i`` must retrieve video ``i`` among all
    videos by cosine similarity. Uses :class:`mavil.evaluation.RetrievalRecall`'s pure
    functions (ties counted against the query)."""
    from mavil.evaluation.metrics.retrieval import RetrievalRecall

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


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                 test_y: torch.Tensor, num_classes: int, *, steps: int = 300, lr: float = 0.5,
                 weight_decay: float = 1e-3) -> ProbeResult:
    """Multinomial logistic regression on frozen features.

    Features are standardised with the training split's mean and standard deviation, then
    a linear layer (zero-initialised, so the result is deterministic) is fitted by
    ``steps`` full-batch gradient-descent steps on cross-entropy + L2 (``weight_decay``).

    Returns:
        Test and training accuracy.
    """
    train_x, test_x = train_x.double(), test_x.double()
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    weight = torch.zeros(train_x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([weight, bias], lr=lr, momentum=0.9)
    with torch.enable_grad():
        for _ in range(steps):
            loss = F.cross_entropy(train_x @ weight + bias, train_y)
            loss = loss + weight_decay / 2 * weight.pow(2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        def accuracy(x, y):
            return float(((x @ weight + bias).argmax(1) == y).double().mean())
        return ProbeResult(accuracy(test_x, test_y), accuracy(train_x, train_y))


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
                        num_classes: int, *, probe_steps: int = 300) -> dict[str, float]:
    """The report row of one model: a2v and v2a R@1/R@5 (test split), chance, probe
    accuracies."""
    a2v = a2v_recall(test['audio'], test['video'], ks=(1, 5))
    v2a = a2v_recall(test['video'], test['audio'], ks=(1, 5))
    n_test = len(test_labels)
    row = dict(a2v_r1=a2v[1], a2v_r5=a2v[5], v2a_r1=v2a[1], v2a_r5=v2a[5], chance_r1=1 / n_test,
               chance_r5=min(5, n_test) / n_test)
    for modality in ('audio', 'video'):
        probe = linear_probe(train[modality], train_labels, test[modality], test_labels,
                             num_classes, steps=probe_steps)
        row[f'{modality}_probe_acc'] = probe.test_accuracy
    row['chance_acc'] = chance_accuracy(train_labels, test_labels, num_classes)
    return row


def evaluate_model(model: nn.Module, train: EvalSplit, test: EvalSplit, num_classes: int,
                   *, probe_steps: int = 300, batch_size: int = 64,
                   progress: bool = False) -> dict[str, float]:
    """Embed both splits with ``model`` and compute its report row."""
    train_emb = extract_embeddings(model, train, batch_size=batch_size, desc='embed train split',
                                   progress=progress)
    test_emb = extract_embeddings(model, test, batch_size=batch_size, desc='embed test split',
                                  progress=progress)
    return evaluate_embeddings(train_emb, train.labels, test_emb, test.labels, num_classes,
                               probe_steps=probe_steps)
