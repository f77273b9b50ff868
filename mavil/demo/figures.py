"""The demo's pictures: loss curves, the report as bars, the stage-1 reconstruction."""
import os

from .report import METRICS

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


def plot_report(report: dict, path: str) -> None:
    """Grouped bars: one group per metric, one bar per stage (mean over seeds, each seed as a
    dot), chance as a dashed line per group."""
    plt = _pyplot()
    stages = list(report['stages'])
    metrics = list(METRICS)
    width = 0.8 / max(1, len(stages))
    fig, ax = plt.subplots(figsize=(11, 4.2))
    for j, stage in enumerate(stages):
        row = report['stages'][stage]
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(metrics))]
        means = [row[m]['mean'] for m in metrics]
        ax.bar(xs, means, width * 0.95, yerr=[row[m]['spread'] for m in metrics],
               color=STAGE_COLOURS.get(stage, f'C{j}'), label=stage, capsize=2)
        for x, m in zip(xs, metrics):
            ax.scatter([x] * len(row[m]['per_seed']), row[m]['per_seed'], s=6, color='k',
                       zorder=3)
    for i, m in enumerate(metrics):
        ax.hlines(report['chance'][m], i - 0.45, i + 0.45, colors='k', linestyles='dashed',
                  linewidth=1, label='chance' if i == 0 else None)
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels(list(METRICS.values()))
    top = max(max(v for m in metrics for v in report['stages'][s][m]['per_seed'])
              for s in stages)
    ax.set_ylim(0, min(1.0, 1.3 * max(top, max(report['chance'].values()))))  # room for legend
    ax.set_ylabel('held-out score')
    ax.set_title(f'MAViL demo: mean over seeds {report["seeds"]} (bars: +- spread, dots: seeds)')
    ax.legend(fontsize=8, ncol=5, loc='upper left')
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_reconstruction(model, test_split, path: str, *, index: int = 0, seed: int = 0) -> bool:
    """Fig. 3 style (original / masked / reconstructed fbank and frames) of a raw-target
    (stage-1) model on held-out clip ``index``, drawn by :mod:`mavil.visualization`.

    Returns False (and says so) when :mod:`mavil.visualization` is not available.
    """
    try:
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
