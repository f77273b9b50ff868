"""The demo's report: per-seed rows -> mean +- spread per stage and metric, and its text."""
import time
from contextlib import contextmanager
from typing import Iterator, Sequence

# metric key -> column title
METRICS = {'a2v_r1': 'a2v R@1', 'a2v_r5': 'a2v R@5', 'v2a_r1': 'v2a R@1', 'v2a_r5': 'v2a R@5',
           'audio_probe_acc': 'audio probe', 'video_probe_acc': 'video probe'}
CHANCE_OF = {'a2v_r1': 'chance_r1', 'a2v_r5': 'chance_r5', 'v2a_r1': 'chance_r1',
             'v2a_r5': 'chance_r5', 'audio_probe_acc': 'chance_acc',
             'video_probe_acc': 'chance_acc'}


class PhaseTimer:
    """Wall-clock seconds per named phase, in order."""

    def __init__(self, prefix: str = '') -> None:
        self.prefix = prefix
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        print(f'\n=== {self.prefix}{name} ===', flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start
            print(f'=== {self.prefix}{name}: {self.seconds[name]:.1f} s ===', flush=True)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def aggregate(rows_by_seed: dict[int, dict[str, dict[str, float]]], stages: Sequence[str], *,
              n_train: int, n_test: int) -> dict:
    """``{seed: {stage: row}}`` -> the report.

    Returns:
        ``{'seeds': [...], 'n_train', 'n_test', 'chance': {metric: value},
        'stages': {stage: {metric: {'mean', 'spread', 'per_seed'}}}}`` where ``spread`` is half
        the range over seeds (``(max - min) / 2``: with two seeds each lies at mean +- spread).
        Stages missing from every seed are left out.
    """
    seeds = sorted(rows_by_seed)
    first = next(iter(rows_by_seed[seeds[0]].values()))
    report = dict(seeds=seeds, n_train=n_train, n_test=n_test,
                  chance={m: first[c] for m, c in CHANCE_OF.items()}, stages={})
    for stage in stages:
        have = [s for s in seeds if stage in rows_by_seed[s]]
        if not have:
            continue
        if len(have) != len(seeds):
            raise ValueError(f'stage {stage!r} ran for seeds {have} but not for all of {seeds}')
        report['stages'][stage] = {}
        for metric in METRICS:
            values = [float(rows_by_seed[s][stage][metric]) for s in seeds]
            report['stages'][stage][metric] = dict(
                mean=sum(values) / len(values), spread=(max(values) - min(values)) / 2,
                per_seed=values)
    return report


def format_report(report: dict) -> str:
    """The report as a text table (mean +- spread over the seeds)."""
    seeds = report['seeds']
    lines = [f'MAViL demo: {report["n_test"]} held-out clips, probes trained on '
             f'{report["n_train"]} clips; mean +- spread over seeds {seeds}',
             f'{"stage":<14}' + ''.join(f'{t:>16}' for t in METRICS.values())]
    for stage, row in report['stages'].items():
        lines.append(f'{stage:<14}' + ''.join(
            f'{row[m]["mean"]:>9.3f} +-{row[m]["spread"]:.3f}' for m in METRICS))
    lines.append(f'{"chance":<14}' + ''.join(f'{report["chance"][m]:>16.3f}' for m in METRICS))
    return '\n'.join(lines)


def markdown_table(report: dict) -> str:
    """The report as a Markdown table (for the README)."""
    head = '| stage | ' + ' | '.join(METRICS.values()) + ' |'
    lines = [head, '|' + ' --- |' * (len(METRICS) + 1)]
    for stage, row in report['stages'].items():
        lines.append(f'| {stage} | ' + ' | '.join(
            f'{row[m]["mean"]:.3f} ± {row[m]["spread"]:.3f}' for m in METRICS) + ' |')
    lines.append('| chance | ' + ' | '.join(f'{report["chance"][m]:.3f}' for m in METRICS)
                 + ' |')
    return '\n'.join(lines)
