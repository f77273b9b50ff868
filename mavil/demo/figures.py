"""The demo's pictures: loss curves, the report as bars, the stage-1 reconstruction."""
import json
import os
import os.path as osp

from .report import FT_MODALITIES, METRICS

STAGE_COLOURS = {'random_init': '#9e9e9e', 'mae_only': '#64b5f6', 'stage1': '#1565c0',
                 'stage2_iter1': '#e65100'}


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_losses(curves_by_seed: dict, path: str) -> None:
    """One panel per trained stage: every loss term per iteration (log scale); the first
    seed's terms in colour, the other seeds' total loss as thin grey lines."""
    plt = _pyplot()
    seeds = list(curves_by_seed)
    stages = list(dict.fromkeys(s for c in curves_by_seed.values() for s in c))
    fig, axes = plt.subplots(1, len(stages), figsize=(5.5 * len(stages), 4), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        for seed in seeds[1:]:
            total = curves_by_seed[seed].get(stage, {}).get('loss')
            if total:
                ax.plot(range(1, len(total) + 1), total, color='0.6', linewidth=0.8,
                        label=f'loss (seed {seed})')
        losses = curves_by_seed[seeds[0]].get(stage, {})
        for name, values in sorted(losses.items(), key=lambda kv: kv[0] != 'loss'):
            ax.plot(range(1, len(values) + 1), values, linewidth=2 if name == 'loss' else 1,
                    label=f'{name} (seed {seeds[0]})' if name == 'loss' else name)
        ax.set_yscale('log')
        ax.set_xlabel('iteration')
        ax.set_title(f'{stage} training loss')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _bars(ax, rows: dict, columns: dict, chance: dict, legend: bool = True) -> None:
    """Grouped bars on ``ax``: one group per column, one bar per stage (mean over seeds, +-
    spread, each seed as a dot), chance as a dashed line per group."""
    stages = list(rows)
    width = 0.8 / max(1, len(stages))
    for j, stage in enumerate(stages):
        have = [i for i, c in enumerate(columns) if c in rows[stage]]
        xs = [i - 0.4 + width * (j + 0.5) for i in have]
        cells = [rows[stage][c] for c in columns if c in rows[stage]]
        ax.bar(xs, [c['mean'] for c in cells], width * 0.95, yerr=[c['spread'] for c in cells],
               color=STAGE_COLOURS.get(stage, f'C{j}'), label=stage, capsize=2)
        for x, cell in zip(xs, cells):
            ax.scatter([x] * len(cell['per_seed']), cell['per_seed'], s=6, color='k', zorder=3)
    for i, c in enumerate(columns):
        ax.hlines(chance[c], i - 0.45, i + 0.45, colors='k', linestyles='dashed',
                  linewidth=1, label='chance' if i == 0 else None)
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(list(columns.values()))
    top = max([v for r in rows.values() for cell in r.values() for v in cell['per_seed']]
              + list(chance.values()))
    ax.set_ylim(0, min(1.0, 1.3 * top))  # room for the legend
    if legend:
        ax.legend(fontsize=8, ncol=5, loc='upper left')
    ax.grid(axis='y', alpha=0.3)


def plot_report(report: dict, path: str) -> None:
    """Retrieval and probe scores per stage and, when fine-tuning ran, the fine-tuned top-1
    accuracy per head (bars: mean over seeds +- spread; dots: seeds; dashed: chance)."""
    plt = _pyplot()
    ft = report.get('finetune')
    fig, axes = plt.subplots(1, 2 if ft else 1, figsize=(17 if ft else 11, 4.2), squeeze=False,
                             gridspec_kw=dict(width_ratios=[2, 1]) if ft else None)
    rows = {s: {m: r[m] for m in METRICS} for s, r in report['stages'].items()}
    _bars(axes[0, 0], rows, METRICS, report['chance'])
    axes[0, 0].set_ylabel('held-out score')
    axes[0, 0].set_title(f'MAViL demo: frozen embeddings, seeds {report["seeds"]}')
    if ft:
        heads = {m: FT_MODALITIES[m] for m in ft['accuracy']}
        rows = {}
        for m in heads:
            for stage, cell in ft['accuracy'][m].items():
                rows.setdefault(stage, {})[m] = cell
        _bars(axes[0, 1], rows, heads, {m: report['chance']['audio_probe_acc'] for m in heads},
              legend=False)
        axes[0, 1].set_ylabel('held-out top-1')
        axes[0, 1].set_title(f'fine-tuned, seeds {ft["seeds"]}')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_reconstruction(model, test_split, path: str, *, index: int = 0, seed: int = 0) -> bool:
    """Fig. 3 style (original / masked / reconstructed fbank and frames) of a raw-target
    (stage-1) model on held-out clip ``index``, drawn by :mod:`mavil.visualization`.

    Returns False (and says so) when :mod:`mavil.visualization` is not available.
    """
    try:  # imported here: the figure is optional and visualization may be unavailable
        from mavil.visualization import visualize_reconstruction
    except ImportError as e:
        print(f'reconstruction figure skipped: mavil.visualization is unavailable ({e})')
        return False
    plt = _pyplot()
    data = {'inputs': {'audio': test_split.audio[index:index + 1],
                       'video': test_split.video[index:index + 1]}}
    name = test_split.filenames[index]
    name = os.path.basename(name) if name else f'test clip {index}'
    fig, _ = visualize_reconstruction(model, data, seed=seed, out_file=path,
                                      title=f'stage-1 MAViL on held-out {name}')
    plt.close(fig)
    return True


def write_outputs(work_dir: str, report: dict, results: dict) -> None:
    """``report.json``, ``report.png`` and (when any stage trained) ``loss_curve.png``."""
    with open(osp.join(work_dir, 'report.json'), 'w') as f:
        json.dump(report, f, indent=2)
    plot_report(report, osp.join(work_dir, 'report.png'))
    curves = {s: r['curves'] for s, r in results.items() if r['curves']}
    if curves:
        plot_losses(curves, osp.join(work_dir, 'loss_curve.png'))
