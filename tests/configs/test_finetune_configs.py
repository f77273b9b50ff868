"""Every fine-tuning / retrieval config parses, follows Table 9, and builds (model at tiny width,
all pipeline transforms, optimizer groups, sampler and evaluator types)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mavil.engine.optim_constructors import FinetuneOptimWrapperConstructor
from mavil.engine.schedules import resolve_epoch_schedule
from mavil.registry import DATA_SAMPLERS, METRICS, MODELS, TRANSFORMS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
FINETUNE = sorted((CONFIGS / 'finetune').glob('*.py'))
RETRIEVAL = sorted((CONFIGS / 'retrieval').glob('*.py'))
# Table 9: base lr, global batch, warm-up epochs, epochs, SpecAug (time, freq), mixup, loss,
# audio mean / std, weighted sampling
TABLE9 = {
    'as2m': (1e-4, 512, 20, 100, (192, 48), True, 'SoftBCELoss', (-4.268, 4.569), True),
    'as20k': (1e-3, 64, 4, 60, (192, 48), True, 'SoftBCELoss', (-4.268, 4.569), False),
    'vggsound': (2e-4, 256, 4, 60, (192, 48), True, 'SoftBCELoss', (-5.189, 3.260), True),
    'esc50': (5e-4, 64, 4, 60, (96, 24), False, 'SoftCrossEntropyLoss', (-6.627, 5.359), False),
    'spc': (1e-3, 256, 1, 10, (48, 48), True, 'SoftBCELoss', (-6.702, 5.448), False),
}
TINY = dict(embed_dim=32, depth=1, num_heads=2)


def pipelines(cfg: Config) -> list[list[dict]]:
    out = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader]['dataset']
        for ds in dataset.get('datasets', [dataset]):
            out.append(ds['pipeline'])
    return out


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mavil')


@pytest.mark.parametrize('path', FINETUNE, ids=lambda p: p.stem)
def test_finetune_config(path):
    cfg = Config.fromfile(str(path))
    dataset, modality = path.stem.split('_')
    lr, batch, warmup, epochs, specaug, mixup, loss, stats, weighted = TABLE9[dataset]
    model = cfg.model
    expected = {'audio': ('audio', ), 'video': ('video', ), 'av': ('audio', 'video')}[modality]
    assert tuple(model.modalities) == expected
    assert tuple(model.data_preprocessor.modalities) == expected
    assert cfg.optim_wrapper.optimizer.lr == lr and cfg.total_batch_size == batch
    assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.95)
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-5
    resolve_epoch_schedule(cfg)  # what MAViLRunner.from_cfg does
    assert cfg.param_scheduler[0].end == warmup and cfg.train_cfg.max_epochs == epochs
    assert cfg.param_scheduler[1].begin == warmup and cfg.param_scheduler[1].end == epochs
    assert cfg.param_scheduler[1].T_max == epochs - warmup
    assert cfg.param_scheduler[1].eta_min == 1e-6
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay == 0.75  # MAE / AudioMAE ViT-B FT
    # single-label data with video: label smoothing 0.1 (MAE-ST); audio-only unchanged
    smoothing = 0.1 if dataset == 'vggsound' and modality != 'audio' else 0.0
    assert model.get('label_smoothing', 0.0) == smoothing
    assert not model.get('encoder_norm', False)  # MAE global pool: fc_norm (head.norm)
    assert model.head.get('norm', True)
    assert (cfg.optim_wrapper.paramwise_cfg.module_lr_mult == {'video_encoder': 0.5}) == (
        modality == 'av')
    assert model.loss.type == loss and (model.batch_augment is not None) == mixup
    for name in ('audio_encoder', 'video_encoder'):
        if model.get(name):
            assert model[name].drop_path_rate == 0.1
    assert (cfg.train_dataloader.sampler.type == 'DistributedWeightedSampler') == weighted
    for pipeline in pipelines(cfg):
        types = [t['type'] for t in pipeline]
        assert types[0] == 'LoadAudioVideo' and types[-1] == 'PackAVInputs'
        assert tuple(pipeline[0]['modalities']) == expected == tuple(pipeline[-1]['modalities'])
        if 'audio' in expected:
            norm = next(t for t in pipeline if t['type'] == 'AudioNormalize')
            assert (norm['mean'], norm['std']) == stats
            crop = next(t for t in pipeline if t['type'] == 'AudioPadCrop')
            assert crop['target_length'] == model.audio_encoder.input_size[0]
        for t in pipeline:
            TRANSFORMS.build(t)  # every transform exists with these arguments
    train_types = [t['type'] for t in pipelines(cfg)[0]]
    if 'audio' in expected:
        spec = next(t for t in pipelines(cfg)[0] if t['type'] == 'SpecAugment')
        assert (spec['time_mask'], spec['freq_mask']) == specaug
        # SpecAugment masks the log-mel fbank (0 there), before normalisation (AST/AudioMAE)
        assert train_types.index('SpecAugment') < train_types.index('AudioNormalize')
        assert spec.get('mask_value', 0.0) == 0.0
    video_augment = ['VideoRandAugment', 'VideoRandomErasing']
    assert [t for t in train_types if t in video_augment] == (
        video_augment if 'video' in expected else [])
    if 'video' in expected:
        rand = next(t for t in pipelines(cfg)[0] if t['type'] == 'VideoRandAugment')
        erase = next(t for t in pipelines(cfg)[0] if t['type'] == 'VideoRandomErasing')
        assert (rand['num_ops'], rand['magnitude'], erase['prob']) == (4, 7, 0.25)
    # AudioMAE's waveform mixup (rate 0.5, Beta(10, 10)) before the fbank: audio-only, mixup sets
    waveform_mixup = mixup and expected == ('audio', )
    assert ('WaveformMixup' in train_types) == waveform_mixup
    if waveform_mixup:
        mix = next(t for t in pipelines(cfg)[0] if t['type'] == 'WaveformMixup')
        assert (mix['prob'], mix['alpha']) == (0.5, 10.0)
        assert train_types.index('AudioResample') < train_types.index('WaveformMixup') < \
            train_types.index('KaldiFbank')
    if 'audio' in expected:
        assert 'AudioRandomRoll' in train_types
        assert ('AudioAddNoise' in train_types) == (dataset in ('vggsound', 'spc'))
    if 'video' in expected:  # multi-clip testing (10 clips), one clip for validation
        assert cfg.test_dataloader.dataset.pipeline[0]['clip_sampler']['num_clips'] == 10
    assert DATA_SAMPLERS.get(cfg.train_dataloader.sampler.type) is not None
    assert METRICS.get(cfg.val_evaluator.type) is not None

    # the model at tiny width (same structure) and its optimizer groups
    for name in ('audio_encoder', 'video_encoder'):
        if model.get(name):
            model[name].arch = TINY
    if model.get('fusion'):
        model.fusion.num_heads = 2  # embed_dim follows the encoders
    if model.get('audio_encoder'):  # a short input keeps the build fast
        model.audio_encoder.input_size = (64, 128)
    built = MODELS.build(model)
    assert built.head.num_classes == {'as2m': 527, 'as20k': 527, 'vggsound': 309,
                                      'esc50': 50, 'spc': 12}[dataset]
    wrapper_cfg = dict(cfg.optim_wrapper)
    paramwise = wrapper_cfg.pop('paramwise_cfg')
    wrapper_cfg.pop('constructor')
    wrapper = FinetuneOptimWrapperConstructor(wrapper_cfg, paramwise)(built)
    assert sum(len(g['params']) for g in wrapper.optimizer.param_groups) == len(
        list(built.parameters()))


@pytest.mark.parametrize('path', RETRIEVAL, ids=lambda p: p.stem)
def test_retrieval_config(path):
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'AVRetriever'
    assert cfg.model.target.type == 'TeacherTargets'  # Eq. 6
    assert cfg.load_from == cfg.model.target.teacher_ckpt
    assert cfg.test_evaluator.type == 'RetrievalRecall'
    assert tuple(cfg.test_evaluator.directions) == ('a2v', 'v2a')
    for pipeline in pipelines(cfg):
        for t in pipeline:
            TRANSFORMS.build(t)
    # the retriever itself at tiny width, with raw targets (the teacher file is not here)
    model = cfg.model
    model.target = dict(type='RawTargets')
    for name in ('audio_encoder', 'video_encoder'):
        model[name].arch = TINY
        model[name].input_size = (64, 128) if name == 'audio_encoder' else (4, 64, 64)
    model.fusion.num_heads = 2  # embed_dim follows the encoders
    built = MODELS.build(model)
    assert built.extract_feat({'audio': torch.zeros(1, 1, 64, 128)})['audio'].shape == (1, 32)
