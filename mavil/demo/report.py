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


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished children (the seed
    processes, data-loader workers, generator workers): on an idle machine with C cores the
    demo cannot take less than this / C."""
    import resource
    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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


# ------------------------------------------------------------------------ fine-tuning
FT_MODALITIES = {'audio': 'audio', 'video': 'video', 'av': 'audio+video'}
# each step of the paper's order: (better, worse) as the paper has it
COMPARISONS = (('mae_only', 'random_init'), ('stage1', 'mae_only'), ('stage2_iter1', 'stage1'))


def _summary(values: list[float]) -> dict:
    """mean, spread (half the range) and the values."""
    return dict(mean=sum(values) / len(values), spread=(max(values) - min(values)) / 2,
                per_seed=values)


def finetune_section(finetuned: dict, stages: Sequence[str]) -> dict:
    """``{seed: {modality: {stage: FinetuneResult as dict}}}`` -> the report's ``finetune``
    entry: :func:`aggregate_finetune` of the accuracies, plus each run's held-out and
    training accuracy and training time (``runs``)."""
    section = aggregate_finetune(
        {seed: {m: {st: r['accuracy'] for st, r in by_stage.items()}
                for m, by_stage in by_mod.items()} for seed, by_mod in finetuned.items()},
        stages)
    section['runs'] = {
        seed: {m: {st: {k: r[k] for k in ('accuracy', 'train_accuracy', 'train_seconds')}
                   for st, r in by_stage.items()} for m, by_stage in by_mod.items()}
        for seed, by_mod in finetuned.items()}
    return section


def aggregate_finetune(acc_by_seed: dict, stages: Sequence[str]) -> dict:
    """``{seed: {modality: {stage: accuracy}}}`` -> ``{'accuracy': {modality: {stage:
    summary}}, 'paired': {modality: {'A - B': summary + 'holds' (seeds with A > B)}}}``.

    A paired difference is taken within each seed (same seed, same fine-tuning draws apart
    from the initial weights), so it shows whether an order holds seed by seed.
    """
    seeds = sorted(acc_by_seed)
    modalities = [m for m in FT_MODALITIES if m in acc_by_seed[seeds[0]]]
    out: dict = dict(seeds=seeds, accuracy={}, paired={})
    for modality in modalities:
        have = [s for s in stages if all(s in acc_by_seed[seed].get(modality, {})
                                          for seed in seeds)]
        out['accuracy'][modality] = {
            s: _summary([float(acc_by_seed[seed][modality][s]) for seed in seeds]) for s in have}
        out['paired'][modality] = {}
        for better, worse in COMPARISONS:
            if better in have and worse in have:
                diffs = [float(acc_by_seed[seed][modality][better])
                         - float(acc_by_seed[seed][modality][worse]) for seed in seeds]
                out['paired'][modality][f'{better} - {worse}'] = dict(
                    _summary(diffs), holds=sum(d > 0 for d in diffs))
    return out


def paired_probe_differences(report: dict) -> dict:
    """The same paired differences for the linear probes of ``report['stages']``."""
    out = {}
    for metric in ('audio_probe_acc', 'video_probe_acc'):
        out[metric] = {}
        for better, worse in COMPARISONS:
            if better in report['stages'] and worse in report['stages']:
                diffs = [b - w for b, w in zip(report['stages'][better][metric]['per_seed'],
                                               report['stages'][worse][metric]['per_seed'])]
                out[metric][f'{better} - {worse}'] = dict(_summary(diffs),
                                                          holds=sum(d > 0 for d in diffs))
    return out


def format_finetune(ft: dict, n_train: int, n_test: int, chance: float) -> str:
    """Fine-tuning accuracy per stage and head, then the paired differences per seed."""
    mods = list(ft['accuracy'])
    n = len(ft['seeds'])
    lines = [f'Fine-tuning (configs/demo/finetune_*.py): top-1 on {n_test} held-out clips, '
             f'trained on {n_train}; mean +- spread over seeds {ft["seeds"]}',
             f'{"stage":<14}' + ''.join(f'{FT_MODALITIES[m]:>18}' for m in mods)]
    stages = list(dict.fromkeys(s for m in mods for s in ft['accuracy'][m]))
    for stage in stages:
        lines.append(f'{stage:<14}' + ''.join(
            f'{ft["accuracy"][m][stage]["mean"]:>11.3f} +-{ft["accuracy"][m][stage]["spread"]:.3f}'
            if stage in ft['accuracy'][m] else f'{"-":>18}' for m in mods))
    lines.append(f'{"chance":<14}' + ''.join(f'{chance:>18.3f}' for _ in mods))
    lines.append(f'\nPaired differences (same seed), mean +- spread, seeds where it is > 0 of '
                 f'{n}, per seed:')
    for m in mods:
        lines += [paired_line(FT_MODALITIES[m], name, d, n)
                  for name, d in ft['paired'][m].items()]
    return '\n'.join(lines)


def paired_line(metric: str, comparison: str, d: dict, n: int) -> str:
    """One paired difference: mean +- spread, on how many of ``n`` seeds it is > 0, per seed."""
    per_seed = ', '.join(f'{v:+.3f}' for v in d['per_seed'])
    return (f'  {metric:<12} {comparison:<26} {d["mean"]:+.3f} +-{d["spread"]:.3f}  '
            f'{d["holds"]}/{n}  [{per_seed}]')


def format_paired_probes(paired: dict, n: int) -> str:
    lines = ['Linear probes, paired differences (same seed):']
    for metric, rows in paired.items():
        lines += [paired_line(METRICS[metric], name, d, n) for name, d in rows.items()]
    return '\n'.join(lines)


def markdown_finetune(ft: dict, chance: float) -> str:
    """The fine-tuning tables as Markdown (docs/demo.md)."""
    mods = list(ft['accuracy'])
    n = len(ft['seeds'])
    lines = ['| stage | ' + ' | '.join(FT_MODALITIES[m] for m in mods) + ' |',
             '|' + ' --- |' * (len(mods) + 1)]
    stages = list(dict.fromkeys(s for m in mods for s in ft['accuracy'][m]))
    for stage in stages:
        lines.append(f'| {stage} | ' + ' | '.join(
            f'{ft["accuracy"][m][stage]["mean"]:.3f} ± {ft["accuracy"][m][stage]["spread"]:.3f}'
            if stage in ft['accuracy'][m] else '-' for m in mods) + ' |')
    lines.append('| chance | ' + ' | '.join(f'{chance:.3f}' for _ in mods) + ' |')
    lines += ['', '| head | comparison | mean ± spread | > 0 on | per seed |',
              '| --- | --- | --- | --- | --- |']
    for m in mods:
        for name, d in ft['paired'][m].items():
            lines.append(f'| {FT_MODALITIES[m]} | {name} | {d["mean"]:+.3f} ± {d["spread"]:.3f} '
                         f'| {d["holds"]}/{n} | '
                         + ', '.join(f'{v:+.3f}' for v in d['per_seed']) + ' |')
    return '\n'.join(lines)


def format_full_report(report: dict) -> str:
    """Retrieval and probes, their paired differences, and fine-tuning when it ran."""
    parts = [format_report(report)]
    if 'probe_paired' in report:
        parts.append(format_paired_probes(report['probe_paired'], len(report['seeds'])))
    if 'finetune' in report:
        parts.append(format_finetune(report['finetune'], report['n_train'], report['n_test'],
                                     report['chance']['audio_probe_acc']))
    return '\n\n'.join(parts)
