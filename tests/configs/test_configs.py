"""Every config under configs/ loads and builds; each ablation sets what its paper column says.

Models are built at the tiny sizes of tests/fixtures/configs/tiny_stage1.py (ViT-B would take
minutes for ~25 configs on 2 cores). Only the sizes are changed: the fusion type and depth,
the masking ratios and types, and the losses stay as the config under test sets them.
"""
from functools import lru_cache
from pathlib import Path
from typing import Optional

import pytest
import torch
from mmengine.config import Config

from mavil.datasets.cache import build_cache, settings_from_pipelines
from mavil.models.algorithms import MAViL
from mavil.registry import MODELS, TRANSFORMS
from mavil.structures import AVDataSample
from tests.datasets.media import write_clip

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / 'configs'
ABLATION_DIR = CONFIG_DIR / 'mavil' / 'ablations'
TINY_CONFIG = ROOT / 'tests' / 'fixtures' / 'configs' / 'tiny_stage1.py'
TINY_AV_MAE = ROOT / 'tests' / 'fixtures' / 'configs' / 'tiny_av_mae.py'
CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py')
                 if '_base_' not in p.relative_to(CONFIG_DIR).parts)
ENCODERS = ('audio_encoder', 'video_encoder')
DECODERS = ('audio_decoder', 'video_decoder')

# What each config must produce, as changes to Joint AV-MAE (ablations/_joint_av_mae.py):
# fusion (type, depth) or None; mask ratio and type (audio, video); enabled contrast losses.
JOINT_AV_MAE = dict(fusion=('JointFusion', 2), mask_ratio=(0.8, 0.8),
                    mask_type=('random', 'random'), contrast=())
BOTH = ('inter', 'intra')
EXPECTED = {
    'mavil/stage1': dict(contrast=BOTH),
    'mavil/ablations/_joint_av_mae': {},
    # Table 1: fusion encoder
    'mavil/ablations/fusion_none': dict(fusion=None),
    'mavil/ablations/fusion_vanilla_l2': {},
    'mavil/ablations/fusion_vanilla_l4': dict(fusion=('JointFusion', 4)),
    'mavil/ablations/fusion_mbt_l4': dict(fusion=('MBTFusion', 4)),
    # Table 2: one masking ratio for both modalities
    **{f'mavil/ablations/mask_ratio_{r}': dict(mask_ratio=(r / 100, r / 100))
       for r in (40, 60, 70, 80, 90)},
    # Table 12a: per-modality masking ratios (off-diagonal cells)
    **{f'mavil/ablations/mask_ratio_a{a}_v{v}': dict(mask_ratio=(a / 100, v / 100))
       for a in (70, 80, 90) for v in (70, 80, 90) if a != v},
    # Table 12b: masking types at 80%
    'mavil/ablations/mask_type_random': {},
    'mavil/ablations/mask_type_time_freq_audio': dict(mask_type=('time_freq', 'random')),
    'mavil/ablations/mask_type_space_time_video': dict(mask_type=('random', 'space_time')),
    'mavil/ablations/mask_type_time_freq_space_time': dict(
        mask_type=('time_freq', 'space_time')),
    # Table 3: contrastive objectives
    'mavil/ablations/contrast_none': {},
    'mavil/ablations/contrast_inter': dict(contrast=('inter', )),
    'mavil/ablations/contrast_intra': dict(contrast=('intra', )),
    'mavil/ablations/contrast_inter_intra': dict(contrast=BOTH),
    # Table 12b at 70% / 90% (both modalities)
    **{f'mavil/ablations/mask_type_{name}_{r}': dict(mask_ratio=(r / 100, r / 100),
                                                     mask_type=types)
       for name, types in (('time_freq_audio', ('time_freq', 'random')),
                           ('space_time_video', ('random', 'space_time')),
                           ('time_freq_space_time', ('time_freq', 'space_time')))
       for r in (70, 90)},
    # Table 5b: video encoder initialisation (full MAViL)
    **{f'mavil/ablations/init_{init}': dict(contrast=BOTH) for init in ('scratch', 'in_ssl',
                                                                        'in_sl')},
}


def config_id(path: Path) -> str:
    return str(path.relative_to(CONFIG_DIR).with_suffix(''))


@lru_cache(maxsize=None)
def tiny_model_cfg() -> Config:
    return Config.fromfile(TINY_CONFIG)


@pytest.fixture(scope='module')
def tiny_teacher_ckpt(tmp_path_factory) -> str:
    """A tiny stage-1 model's weights: the teacher of shrunk stage-2 / retrieval configs."""
    path = tmp_path_factory.mktemp('teacher') / 'tiny_stage1.pth'
    torch.save({'state_dict': MODELS.build(tiny_model_cfg().model).state_dict()}, path)
    return str(path)


def shrink(cfg: Config, teacher_ckpt: Optional[str] = None) -> Config:
    """Tiny encoder / fusion / decoder sizes; everything else as ``cfg`` sets it. A teacher
    (stage 2) becomes the tiny stage-1 model saved at ``teacher_ckpt``."""
    tiny, model = tiny_model_cfg().model, cfg.model
    options = {}
    if model.get('target', {}).get('type') == 'TeacherTargets':
        assert teacher_ckpt is not None, 'a stage-2 config needs the tiny teacher checkpoint'
        options['model.target.teacher_config'] = str(
            TINY_AV_MAE if model.target.get('target_type') == 'A/V-MAE' else TINY_CONFIG)
        options['model.target.teacher_ckpt'] = teacher_ckpt
    for name in ENCODERS:
        if isinstance(model.get(name), dict):
            # `arch` may be a preset name ('base'): a dict cannot merge into a string.
            options[f'model.{name}.arch'] = dict(_delete_=True, **tiny[name].arch)
            options[f'model.{name}.input_size'] = tiny[name].input_size
            options[f'model.{name}.patch_size'] = tiny[name].patch_size
    if isinstance(model.get('fusion'), dict):  # None (no fusion) must stay None
        # embed_dim follows the encoders; depth is the config's
        options['model.fusion.num_heads'] = tiny.fusion.num_heads
    for name in DECODERS:
        if isinstance(model.get(name), dict):
            for key in ('embed_dim', 'depth', 'num_heads'):
                options[f'model.{name}.{key}'] = tiny[name][key]
    cfg.merge_from_dict(options)
    return cfg


def tiny_inputs(batch_size: int = 4) -> dict[str, torch.Tensor]:
    dataset = tiny_model_cfg().train_dataloader.dataset
    return {'audio': torch.randn(batch_size, *dataset.audio_size),
            'video': torch.randn(batch_size, *dataset.video_size)}


def fusion_layers(fusion: Optional[torch.nn.Module]) -> Optional[tuple[str, int]]:
    if fusion is None:
        return None
    blocks = fusion.blocks if hasattr(fusion, 'blocks') else fusion.audio_blocks
    return type(fusion).__name__, len(blocks)


def test_configs_found():
    assert CONFIG_DIR / 'mavil' / 'stage1.py' in CONFIGS
    assert len([p for p in CONFIGS if p.parent == ABLATION_DIR]) >= 20


def test_expected_ablations_exist():
    """EXPECTED covers the stage-1 cells whose model setting is checked below; the README
    table and each config's difference from its base: tests/configs/test_ablation_configs.py."""
    ablations = {config_id(p) for p in CONFIGS if p.parent == ABLATION_DIR}
    declared = {k for k in EXPECTED if k.startswith('mavil/ablations/')}
    assert declared <= ablations


def pipelines(node) -> list[list]:
    """Every ``pipeline`` list in a config (datasets nest, e.g. in ConcatDataset)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'pipeline' and isinstance(value, (list, tuple)):
                found.append(value)
            else:
                found += pipelines(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found += pipelines(value)
    return found


def tiny_cache(config_pipelines: list[list], root: Path) -> str:
    """A one-clip cache built with the settings ``config_pipelines`` ask for: what a
    ``LoadCachedClip`` step of the config checks its sampler and format against."""
    root.mkdir(parents=True, exist_ok=True)
    clip = root / 'clip.mp4'
    write_clip(clip, seconds=4.0, fps=4.0, size=(64, 64))
    settings = settings_from_pipelines(config_pipelines)
    build_cache([('clip.mp4', str(clip))], str(root / 'cache'), settings, progress=False)
    return str(root / 'cache')


def check_config(path: Path, teacher_ckpt: str, tmp_path: Path) -> None:
    """Build what a run of ``path`` builds first and take one loss on tiny inputs: the model
    the config names (at tiny sizes) and every transform of its data pipelines (a clip
    cache the config reads is stood in for by a one-clip cache of the same settings)."""
    cfg = Config.fromfile(path)
    config_pipelines = pipelines(cfg._cfg_dict.to_dict())
    cache = None
    for pipeline in config_pipelines:
        for transform in pipeline:
            if transform['type'] == 'LoadCachedClip':
                cache = cache or tiny_cache(config_pipelines, tmp_path)
                transform = dict(transform, cache=cache)
            TRANSFORMS.build(transform)  # an unknown argument or value fails here
    model = MODELS.build(shrink(cfg, teacher_ckpt).model)
    assert type(model) is MODELS.get(cfg.model.type), (type(model), cfg.model.type)
    torch.manual_seed(0)
    inputs = tiny_inputs(2)
    if isinstance(model, MAViL):
        losses = model.loss(inputs)
        assert {'loss_rec_audio', 'loss_rec_video'} <= set(losses)
    else:
        samples = [AVDataSample(labels=torch.tensor([i])) for i in range(2)]
        losses = model(inputs, samples, mode='loss')
    assert all(torch.isfinite(v).all() for k, v in losses.items() if k.startswith('loss')), losses


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_loads_and_builds(path: Path, tiny_teacher_ckpt: str, tmp_path: Path):
    check_config(path, tiny_teacher_ckpt, tmp_path)


def test_a_config_with_a_misspelt_transform_argument_fails(tmp_path, tiny_teacher_ckpt):
    broken = tmp_path / 'broken.py'
    broken.write_text(f"_base_ = ['{CONFIG_DIR / 'finetune' / 'esc50_audio.py'}']\n"
                      "train_pipeline = [dict(type='KaldiFbank', num_mel_bin=128)]\n"
                      "train_dataloader = dict(dataset=dict(pipeline=train_pipeline))\n")
    with pytest.raises(TypeError, match='num_mel_bin'):
        check_config(broken, tiny_teacher_ckpt, tmp_path)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_ablation_setting_and_loss(name: str):
    expected = {**JOINT_AV_MAE, **EXPECTED[name]}
    cfg = shrink(Config.fromfile(CONFIG_DIR / f'{name}.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)

    assert fusion_layers(model.fusion) == expected['fusion']
    assert (model.audio_encoder.mask_ratio, model.video_encoder.mask_ratio) == pytest.approx(
        expected['mask_ratio'])
    assert (model.audio_encoder.mask_type, model.video_encoder.mask_type) == expected['mask_type']
    assert (model.inter_loss is not None) == ('inter' in expected['contrast'])
    assert (model.intra_loss is not None) == ('intra' in expected['contrast'])
    if model.fusion is not None and type(model.fusion).__name__ == 'MBTFusion':
        assert model.fusion.bottlenecks.shape[1] == 4  # App. B.2

    losses = model.loss(tiny_inputs())
    loss_keys = {k for k in losses if k.startswith('loss_')}
    assert loss_keys == {'loss_rec_audio', 'loss_rec_video',
                         *(f'loss_nce_{c}' for c in expected['contrast'])}
    assert all(torch.isfinite(v).all() for v in losses.values()), losses
