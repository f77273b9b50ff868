"""Use a trained model: load it, embed clips, classify clips.

    model = init_model('configs/demo/stage1.py', 'work_dirs/demo/stage1/iter_300.pth')
    feats = extract_features(model, ['a.mp4', 'b.mp4'])     # {'audio': [N, D], 'video': ...}
    init_model(ft_config, ft_ckpt) -> inference_classifier(model, 'clip.mp4')

Inputs go through the config's TEST pipeline (:mod:`mavil.apis.pipeline`): no augmentation,
centre crop, deterministic clip placement (multi-clip where the config says so).
"""
import os.path as osp
from typing import Optional, Sequence, Union

import torch
from mmengine.config import Config
from torch import nn

from mavil.datasets.annotations import load_annotations, read_label_file
from mavil.registry import MODELS, build_component
from mavil.weights.checkpoint_io import (check_pos_layouts, load_checkpoint_file,
                                         model_state_dict, recorded_pos_layouts)
from mavil.weights.matching import key_listing, summarize_keys
from mavil.weights.safetensors_io import is_safetensors_file, stored_parts
from .pipeline import ClipLoader
from .stored_config import config_from_safetensors

ConfigLike = Union[str, Config, dict]


def load_config(config: ConfigLike, cfg_options: Optional[dict] = None) -> Config:
    """A config file, ``Config`` or dict -> ``Config`` with ``cfg_options`` merged in."""
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
        cfg = Config.fromfile(config)
    elif isinstance(config, Config):
        cfg = config.copy()
    elif isinstance(config, dict):
        cfg = Config(config)
    else:
        raise TypeError(f'config must be a path, Config or dict, got {type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config {getattr(cfg, "filename", None) or "<dict>"} has no "model"')
    return cfg


def init_model(config: Optional[ConfigLike], checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu', *, cfg_options: Optional[dict] = None,
               unsafe_load: bool = False, strict: bool = True,
               allow_partial: bool = False) -> nn.Module:
    """Build the config's model, load a checkpoint, move it to ``device``, eval mode.

    Args:
        config: any of our configs (``MAViL`` pre-training, ``AVClassifier``,
            ``AVRetriever``), as a path, ``Config`` or dict; None for a ``.safetensors``
            checkpoint that stores its config as data
            (:func:`mavil.weights.safetensors_io.export_safetensors`; checked before it is built,
            never executed).
        checkpoint: a ``.pth`` checkpoint (loaded weights-only: tensors and plain data, nothing
            else is unpickled unless ``unsafe_load``) or a ``.safetensors`` file (never
            unpickled; when it holds only some modules, e.g. the encoders, only those must
            match). None: the config's initial weights.
        device: where the model goes.
        cfg_options: overrides merged into the config first.
        unsafe_load: allow full unpickling of a ``.pth`` file you trust.
        strict: every model weight must be in the checkpoint and vice versa.
        allow_partial: trainable weights the checkpoint lacks (other modules of a partial
            export, ``strict=False``) may keep their random initialisation; otherwise the
            functions that would use them (:func:`inference_classifier`,
            ``extract_features``, ``reconstruct``) refuse, naming them.

    Returns:
        The model in eval mode; ``model.cfg`` is the config it was built from.
    """
    if config is None:
        if not (checkpoint or '').endswith('.safetensors'):
            raise ValueError('config=None needs a .safetensors checkpoint that stores its config')
        config = config_from_safetensors(checkpoint)
    cfg = load_config(config, cfg_options)
    model = build_component(MODELS, cfg.model)
    if checkpoint is not None:
        load_weights(model, checkpoint, unsafe_load=unsafe_load, strict=strict,
                     allow_partial=allow_partial)
    model.cfg = cfg
    return model.to(device).eval()


def load_weights(model: nn.Module, checkpoint: str, *, unsafe_load: bool = False,
                 strict: bool = True, allow_partial: bool = False) -> None:
    """Load ``.pth`` (weights-only) or ``.safetensors`` weights into ``model`` in place.

    Trainable weights left out (modules a partial ``.safetensors`` export does not hold, or
    anything with ``strict=False``) are recorded as ``model.missing_weights`` for
    :func:`require_weights`, unless ``allow_partial``."""
    parts = stored_parts(checkpoint) if is_safetensors_file(checkpoint) else None
    loaded = load_checkpoint_file(checkpoint, trusted=unsafe_load)
    check_pos_layouts(model, recorded_pos_layouts(loaded), checkpoint)
    state = model_state_dict(loaded)
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatches: another architecture or stage
        raise RuntimeError(f'{checkpoint} does not fit {type(model).__name__} (another '
                           f'architecture, or another stage\'s checkpoint?): {err}') from None
    missing = [k for k in result.missing_keys if parts is None or k.split('.', 1)[0] in parts]
    problems = []
    if missing:
        problems.append(f'missing in the checkpoint: {key_listing(missing, 8)}')
    if result.unexpected_keys:
        problems.append(f'not in the model: {key_listing(result.unexpected_keys, 8)}')
    if strict and problems:
        raise RuntimeError(f'{checkpoint} does not fit {type(model).__name__}: '
                           + '; '.join(problems) + '. Is it a checkpoint of this config?')
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    model.missing_weights = ([] if allow_partial else
                             [k for k in result.missing_keys if k in trainable])
    model.weights_source = checkpoint


def require_weights(model: nn.Module, modules: Optional[Sequence[nn.Module]], what: str) -> None:
    """Refuse to ``what`` with trainable weights of ``modules`` (None: the whole model) that
    the loaded checkpoint did not hold (``model.missing_weights``, see :func:`load_weights`):
    they are random. ``init_model(..., allow_partial=True)`` / ``--allow-partial`` accepts
    them knowingly."""
    missing = getattr(model, 'missing_weights', None)
    if not missing:
        return
    if modules is not None:
        ids = {id(p) for module in modules if module is not None for p in module.parameters()}
        named = dict(model.named_parameters())
        missing = [k for k in missing if k in named and id(named[k]) in ids]
    if missing:
        raise RuntimeError(
            f'cannot {what}: {getattr(model, "weights_source", "the checkpoint")} lacks '
            f'{len(missing)} trainable weights this needs, which would keep their random '
            f'initialisation: {summarize_keys(missing)}. Use a checkpoint that holds them '
            '(e.g. an export with those --parts), or pass --allow-partial '
            '(allow_partial=True) to use them random knowingly.')


# ------------------------------------------------------------------------ classification
def class_names(cfg: Config, num_classes: int) -> list[str]:
    """Class names of a fine-tuning config: a dataset's ``classes``, its ``label_file``, or
    the names in its ``.csv`` / ``.jsonl`` annotation file (test, val, then train dataset);
    ``class_<i>`` when none is readable here or the count differs from the head's."""
    from mmengine.logging import print_log
    for split in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(split) or {}).get('dataset') or {}
        while 'dataset' in dataset or 'datasets' in dataset:  # wrappers
            dataset = dataset.get('dataset') or dataset['datasets'][0]
        names = None
        try:
            if dataset.get('classes'):
                names = list(dataset['classes'])
            elif dataset.get('label_file') and osp.isfile(dataset['label_file']):
                names = list(read_label_file(dataset['label_file']).classes)
            elif (dataset.get('ann_format', 'csv') in ('csv', 'jsonl')
                  and dataset.get('ann_file') and osp.isfile(dataset['ann_file'])):
                names = list(load_annotations(dataset['ann_file'],
                                              ann_format=dataset.get('ann_format', 'csv'))[1]
                             .classes)
        except (OSError, ValueError) as err:
            print_log(f'class names from {split}: {err}', logger='current')
        if names is not None and len(names) == num_classes:
            return names
    return [f'class_{i}' for i in range(num_classes)]


@torch.no_grad()
def inference_classifier(model: nn.Module, path: str, *, topk: int = 5,
                         classes: Optional[list[str]] = None) -> dict:
    """Classify one file with a fine-tuned ``AVClassifier`` (from :func:`init_model`).

    The file goes through the config's test pipeline (multi-clip where it says so; the clips'
    scores are averaged by the model). Sigmoid scores for multi-label heads (AudioSet), softmax
    for single-label ones.

    Returns:
        ``dict(file, scores [C] numpy, pred_labels [topk] names, pred_indices, pred_scores)``.
    """
    if not hasattr(model, 'head') or not hasattr(model, 'modalities'):
        raise TypeError(f'{type(model).__name__} is not a classifier (AVClassifier); use a '
                        f'fine-tuning config and checkpoint')
    require_weights(model, None, f'classify with {type(model).__name__}')
    names = classes or getattr(model, 'class_names', None) or class_names(
        model.cfg, model.num_classes)
    sample = ClipLoader(model.cfg, model.modalities)(path, model.modalities)
    data = {'inputs': {m: [x] for m, x in sample['inputs'].items()},
            'data_samples': [sample['data_samples']]}
    data = model.data_preprocessor(data, False)
    result = model.predict(data['inputs'], data['data_samples'])[0]
    scores = result.pred_score.float().cpu()
    top = scores.topk(min(topk, scores.numel()))
    return dict(file=str(path), scores=scores.numpy(),
                pred_indices=top.indices.tolist(),
                pred_labels=[names[i] for i in top.indices.tolist()],
                pred_scores=top.values.tolist())
