"""The paper's ablation tables in miniature (``tools/reproduce.py``): which demo run makes each
column, the paper's numbers beside ours, and the ``tables.md`` report.

Runs (one pre-training each, per seed; configs under ``configs/demo/``):

==============  =================================  =====================================
run             config                             columns
==============  =================================  =====================================
mae_only        mae_only.py                        Table 1 None
joint_av_mae    ablations/contrast_none.py         Table 1 Vanilla, Table 3 None
mbt             ablations/fusion_mbt.py            Table 1 MBT
inter           ablations/contrast_inter.py        Table 3 Inter
intra           ablations/contrast_intra.py        Table 3 Intra
stage1          stage1.py                          Table 3 Inter+intra, Table 4a Raw
m_uni           ablations/target_m_uni.py          Table 4a M-Uni (teacher: stage1)
m_fusion        stage2_iter1.py                    Table 4a M-Fusion (teacher: stage1)
==============  =================================  =====================================

Table 4a's "Raw" column is the stage-1 model, as in the paper (its 39.0 / 22.2 are Table 3's
Inter+intra).
"""
import math
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Sequence

from .evaluate import evaluate_model
from .finetune import finetune


@dataclass(frozen=True)
class Run:
    name: str
    config: str  # relative to the repository root
    teacher: Optional[str] = None  # the run whose final checkpoint is the stage-2 teacher


RUNS = (
    Run('mae_only', 'configs/demo/mae_only.py'),
    Run('joint_av_mae', 'configs/demo/ablations/contrast_none.py'),
    Run('mbt', 'configs/demo/ablations/fusion_mbt.py'),
    Run('inter', 'configs/demo/ablations/contrast_inter.py'),
    Run('intra', 'configs/demo/ablations/contrast_intra.py'),
    Run('stage1', 'configs/demo/stage1.py'),
    Run('m_uni', 'configs/demo/ablations/target_m_uni.py', teacher='stage1'),
    Run('m_fusion', 'configs/demo/stage2_iter1.py', teacher='stage1'),
)
RUN_BY_NAME = {r.name: r for r in RUNS}


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple  # ((label, run name), ...); the first is the baseline
    paper: dict  # label -> (audio, video): AS-20K fine-tuned mAP from the paper's table


TABLES = (
    Table('table1', 'Table 1: fusion encoder (reconstruction only, no contrast); paper: '
          'Vanilla is 2 layers, MBT 4; demo: 1 and 2',
          (('None', 'mae_only'), ('Vanilla', 'joint_av_mae'), ('MBT', 'mbt')),
          {'None': (36.4, 17.4), 'Vanilla': (36.8, 17.7), 'MBT': (36.8, 17.7)}),
    Table('table3', 'Table 3: masked contrastive audio-video learning',
          (('None', 'joint_av_mae'), ('Inter', 'inter'), ('Intra', 'intra'),
           ('Inter+intra', 'stage1')),
          {'None': (36.8, 17.7), 'Inter': (38.4, 21.0), 'Intra': (38.1, 19.8),
           'Inter+intra': (39.0, 22.2)}),
    Table('table4a', 'Table 4a: stage-2 reconstruction targets (iteration 1)',
          (('Raw', 'stage1'), ('M-Uni', 'm_uni'), ('M-Fusion', 'm_fusion')),
          {'Raw': (39.0, 22.2), 'M-Uni': (40.2, 23.8), 'M-Fusion': (40.7, 24.1)}),
)
TABLE_BY_KEY = {t.key: t for t in TABLES}
MODALITIES = ('audio', 'video')


def runs_for(table_keys: Sequence[str]) -> list[Run]:
    """The runs the tables need, teachers included, in an order where a teacher comes first."""
    unknown = [k for k in table_keys if k not in TABLE_BY_KEY]
    if unknown:
        raise ValueError(f'unknown table(s) {unknown}; choose from {list(TABLE_BY_KEY)}')
    needed = {run for k in table_keys for _, run in TABLE_BY_KEY[k].columns}
    needed |= {RUN_BY_NAME[r].teacher for r in needed if RUN_BY_NAME[r].teacher}
    return [r for r in RUNS if r.name in needed]


# ----------------------------------------------------------------------------- statistics
def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, sd


def _sign(x: float, tol: float = 1e-12) -> int:
    return 0 if abs(x) <= tol else (1 if x > 0 else -1)


def order_agreement(ours: Sequence[float], paper: Sequence[float]) -> tuple[int, int]:
    """Column pairs (i < j) whose order ours reproduces, and the pairs the paper orders (a tie
    in the paper orders nothing and is not counted)."""
    agree = total = 0
    for i in range(len(ours)):
        for j in range(i + 1, len(ours)):
            expected = _sign(paper[j] - paper[i])
            if expected == 0:
                continue
            total += 1
            agree += int(_sign(ours[j] - ours[i]) == expected)
    return agree, total


# ---------------------------------------------------------------------------------- report
def format_tables(results: dict, seeds: Sequence[int], table_keys: Sequence[str], *,
                  metric: str, header: str = '') -> str:
    """Markdown of the tables: per modality, ours (mean +- s.d. over seeds), the paired
    difference to the baseline column (same seed) with the seeds on which it is > 0, and the
    paper's mAP with its difference; then whether the order agrees.

    Args:
        results: ``{run: {seed: {'audio': x, 'video': y, ...}}}`` (seed keys int or str).
        seeds: the seeds to use.
        table_keys: which tables.
        metric: what the numbers are (e.g. 'linear-probe accuracy'), said in the header.
        header: text put under the title.
    """
    lines = ['# MAViL ablation tables in miniature', '']
    if header:
        lines += [header, '']
    lines += [f'Ours: {metric}, mean +- sample s.d. over seeds {list(seeds)}; "diff" is the '
              'paired difference to the first column (same seed), with the number of seeds '
              'on which it is > 0. Paper: AS-20K fine-tuned mAP (ViT-B, AudioSet-2M '
              'pre-training).', '']
    for key in table_keys:
        table = TABLE_BY_KEY[key]
        labels = [label for label, _ in table.columns]
        lines += [f'## {table.title}', '',
                  '| modality | ' + ' | '.join(labels) + ' | order agrees |',
                  '|---' * (len(labels) + 2) + '|']
        for m, modality in enumerate(MODALITIES):
            per_col = [[_value(results, run, s, modality) for s in seeds]
                       for _, run in table.columns]
            base = per_col[0]
            ours_cells, paper_cells, means = [], [], []
            for c, values in enumerate(per_col):
                mean, sd = mean_sd(values)
                means.append(mean)
                cell = f'{mean:.3f} +- {sd:.3f}'
                if c:
                    diffs = [v - b for v, b in zip(values, base)]
                    d_mean, d_sd = mean_sd(diffs)
                    wins = sum(d > 0 for d in diffs)
                    cell += f' (diff {d_mean:+.3f} +- {d_sd:.3f}, > 0 on {wins}/{len(diffs)})'
                ours_cells.append(cell)
                p = table.paper[labels[c]][m]
                p0 = table.paper[labels[0]][m]
                paper_cells.append(f'{p:.1f}' + (f' ({p - p0:+.1f})' if c else ''))
            paper_col = [table.paper[label][m] for label in labels]
            agree, total = order_agreement(means, paper_col)
            verdict = 'yes' if agree == total else 'no'
            lines.append(f'| {modality}, ours | ' + ' | '.join(ours_cells)
                         + f' | {verdict} ({agree}/{total} pairs) |')
            lines.append(f'| {modality}, paper | ' + ' | '.join(paper_cells) + ' | |')
        lines.append('')
    return '\n'.join(lines)


def _value(results: dict, run: str, seed: int, modality: str) -> float:
    per_seed = results[run]
    row = per_seed[seed] if seed in per_seed else per_seed[str(seed)]
    return float(row[modality])


# ------------------------------------------------------------------------------ evaluation
@dataclass
class EvalRequest:
    """What an evaluation gets for one pre-trained model."""
    model: object  # the trained model (in memory)
    config: object  # its mmengine Config
    checkpoint: str  # its final checkpoint
    seed: int
    train: object  # EvalSplit: the labelled training split, decoded
    test: object  # EvalSplit: the held-out split
    num_classes: int
    probe_steps: int = 200
    data_root: str = 'data/demo'
    splits_file: Optional[str] = None  # the decoded clips (fine-tuning trains on them)
    finetune_epochs: Optional[int] = None  # None: configs/demo/finetune_<modality>.py's


class ProbeEvaluation:
    """The demo's evaluation: linear probes on full-view embeddings (``audio`` / ``video``
    accuracy on the held-out split), plus a2v / v2a retrieval."""
    description = 'linear-probe accuracy on the held-out split'

    def __call__(self, request: EvalRequest) -> dict:
        row = evaluate_model(request.model, request.train, request.test, request.num_classes,
                             probe_steps=request.probe_steps)
        return dict(audio=row['audio_probe_acc'], video=row['video_probe_acc'],
                    a2v_r5=row['a2v_r5'], v2a_r5=row['v2a_r5'], chance=row['chance_acc'])


class FinetuneEvaluation:
    """The paper's protocol (its Tables 1, 3, 4 report fine-tuned mAP): the pre-trained
    encoders fine-tuned on the training split's labels, once as an audio and once as a video
    classifier (:func:`mavil.demo.finetune.finetune`, ``configs/demo/finetune_<modality>.py``),
    top-1 accuracy on the held-out split."""
    description = 'fine-tuned top-1 accuracy on the held-out split'

    def __call__(self, request: EvalRequest) -> dict:
        run_dir = osp.dirname(request.checkpoint)
        return {modality: finetune(request.checkpoint, modality, request.seed,
                                   data_root=request.data_root,
                                   work_dir=osp.join(run_dir, f'finetune_{modality}'),
                                   splits_file=request.splits_file,
                                   epochs=request.finetune_epochs)
                for modality in MODALITIES}


# name -> callable(EvalRequest) -> {'audio': x, 'video': y, ...}; `description` says what
# the numbers are
EVALUATORS = {'probe': ProbeEvaluation(), 'finetune': FinetuneEvaluation()}
