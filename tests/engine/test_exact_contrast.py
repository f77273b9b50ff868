"""Exact contrast accumulation: 4 micro-batches of 2 make the same optimizer step as one batch
of 8 (float64, inter + intra contrast), with the same masks in both passes, the same logged
values, and a stage-2 teacher run once per clip."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from mavil.engine import MicroBatchLoader, contrast_batch_note, resolve_exact_contrast
from mavil.registry import MODELS
from mavil.structures import MicroBatches
from .exact_contrast_utils import (NUM_CLIPS, TINY_STAGE1, batch, build_tiny, clips, fix_masks,
                                   tiny_model_cfg)

MICRO = 2


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny float64 steps: one thread is fastest, and immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _sgd(model, accumulation: int = 1) -> OptimWrapper:
    # SGD: the update is lr x gradient, so parameters compare gradients directly
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5),
                        accumulative_counts=accumulation)


def _micro_batches(data) -> MicroBatches:
    return MicroBatches(batch(data, slice(i, i + MICRO)) for i in range(0, NUM_CLIPS, MICRO))


def _big_batch_step(cfg=None):
    model = build_tiny(cfg)
    fix_masks(model)
    log_vars = model.train_step(batch(clips(), slice(None)), _sgd(model))
    return model, log_vars


def _assert_same_params(a, b, **tol):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(p, q, msg=lambda m: f'{name}: {m}', **tol)


@pytest.mark.parametrize('contrast', ['inter+intra', 'intra', 'standardised inter+intra'])
def test_accumulated_step_equals_big_batch_step(contrast):
    cfg = tiny_model_cfg()
    if contrast == 'intra':
        cfg['inter_loss'] = None
    if contrast.startswith('standardised'):  # statistics of the whole accumulated batch
        cfg['inter_loss'] = dict(cfg['inter_loss'], batch_standardize=True)
    big, big_log = _big_batch_step(cfg)
    exact = build_tiny(cfg)
    before = copy.deepcopy(exact)
    fix_masks(exact)
    exact_log = exact.train_step(_micro_batches(clips()), _sgd(exact))

    _assert_same_params(exact, big, rtol=1e-9, atol=1e-12)
    moved = max((p - q).abs().max() for p, q in zip(exact.parameters(), before.parameters()))
    assert moved > 1e-4  # a real update happened
    # logged values are the big batch's, negatives included (8 clips -> 7 per query)
    assert set(exact_log) == set(big_log)
    for key, value in big_log.items():
        torch.testing.assert_close(exact_log[key], value, rtol=1e-9, atol=1e-12, msg=key)
    assert float(exact_log['negatives_intra']) == NUM_CLIPS - 1
    if contrast == 'inter+intra':
        assert float(exact_log['negatives_inter']) == NUM_CLIPS - 1


def test_plain_accumulation_differs_from_big_batch():
    """What exact mode fixes: MMEngine's accumulation contrasts each micro-batch alone."""
    big, _ = _big_batch_step()
    plain = build_tiny()
    fix_masks(plain)
    wrapper = _sgd(plain, accumulation=NUM_CLIPS // MICRO)
    for data in _micro_batches(clips()):
        log_vars = plain.train_step(data, wrapper)
    assert float(log_vars['negatives_inter']) == MICRO - 1
    diff = max((p - q).abs().max() for p, q in zip(plain.parameters(), big.parameters()))
    assert diff > 1e-6


def test_pass_two_replays_pass_one_views_with_drop_path():
    """Masks and drop-path draws of pass 2 equal pass 1's: same embeddings, bit for bit."""
    cfg = tiny_model_cfg()
    cfg['audio_encoder']['drop_path_rate'] = cfg['video_encoder']['drop_path_rate'] = 0.5
    model = build_tiny(cfg)
    masks = {True: [], False: []}  # grad enabled -> ids_keep passed to the audio encoder
    embeddings = {True: [], False: []}
    encode_tokens, encode_views = model.audio_encoder.encode_views, model.encode

    def spy_tokens(tokens, view_masks):  # both views of a modality in one batched pass
        masks[torch.is_grad_enabled()].extend(m.ids_keep.clone() for m in view_masks)
        return encode_tokens(tokens, view_masks)

    def spy_views(inputs, step_masks):
        views = encode_views(inputs, step_masks)
        embeddings[torch.is_grad_enabled()].append(
            {k: v.detach().clone() for k, v in views.embeddings.items()})
        return views

    model.audio_encoder.encode_views, model.encode = spy_tokens, spy_views
    sampled = []
    sample_masks = model.sample_masks
    model.sample_masks = lambda b, device: sampled.append(b) or sample_masks(b, device)
    model.train_step(_micro_batches(clips()), _sgd(model))

    assert sampled == [MICRO] * (NUM_CLIPS // MICRO)  # masks drawn in pass 1 only
    assert len(masks[False]) == len(masks[True]) == 2 * NUM_CLIPS // MICRO  # two views each
    for first, second in zip(masks[False], masks[True]):
        assert torch.equal(first, second)
    for first, second in zip(embeddings[False], embeddings[True]):
        for key in first:
            assert torch.equal(first[key], second[key]), key
    # drop path is active: a fresh draw would give other embeddings
    assert not torch.equal(embeddings[False][0]['audio'], embeddings[False][0]['audio_2'])


def test_stage2_teacher_runs_once_per_clip(tmp_path):
    torch.manual_seed(3)
    teacher = MODELS.build(tiny_model_cfg())
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'meta': {}, 'state_dict': teacher.state_dict()}, ckpt)
    cfg = tiny_model_cfg()
    cfg['target'] = dict(type='TeacherTargets', teacher_config=str(TINY_STAGE1),
                         teacher_ckpt=str(ckpt), autocast=False)
    model = build_tiny(cfg)
    model.target.teacher.double()
    seen = []
    forward = model.target.teacher.audio_encoder.forward
    model.target.teacher.audio_encoder.forward = \
        lambda x, masked=True: seen.append(x.shape[0]) or forward(x, masked)
    model.train_step(_micro_batches(clips()), _sgd(model))
    assert sum(seen) == NUM_CLIPS and len(seen) == NUM_CLIPS // MICRO


def test_micro_batch_loader_groups_and_keeps_the_tail():
    loader = torch.utils.data.DataLoader(list(range(10)), batch_size=2)
    grouped = MicroBatchLoader(loader, 4)
    groups = list(grouped)
    assert len(grouped) == len(groups) == 2
    assert [len(g) for g in groups] == [4, 1] and all(isinstance(g, MicroBatches) for g in groups)
    assert [int(x) for g in groups for b in g for x in b] == list(range(10))  # each once
    assert grouped.batch_size == 2 and grouped.dataset is loader.dataset


def test_exact_contrast_switch():
    model = build_tiny()
    assert resolve_exact_contrast(None, 4, model) and not resolve_exact_contrast(None, 1, model)
    assert not resolve_exact_contrast(False, 4, model)
    model.inter_loss = model.intra_loss = None
    assert not resolve_exact_contrast(None, 4, model)
    with pytest.raises(ValueError, match='no contrastive loss'):
        resolve_exact_contrast(True, 4, model)
    with pytest.raises(ValueError, match='no two-pass'):
        resolve_exact_contrast(True, 4, torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match='None .auto., True or False'):
        resolve_exact_contrast('yes', 4, model)


def test_stage1_config_on_8_gpus_contrasts_512_clips():
    """configs/mavil/stage1.py: per-GPU batch 8 x 8 GPUs -> accumulation 8, 512 clips."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(TINY_STAGE1.parents[3] / 'configs' / 'mavil' / 'stage1.py'))
    per_gpu, gpus = cfg.train_dataloader.batch_size, 8
    accumulation = cfg.total_batch_size // (per_gpu * gpus)
    assert (per_gpu, accumulation) == (8, 8)
    assert resolve_exact_contrast(cfg.get('exact_contrast'), accumulation, build_tiny())
    assert '512 clips per step' in contrast_batch_note(per_gpu, gpus, accumulation, True)
    assert '511 negatives' in contrast_batch_note(per_gpu, gpus, accumulation, True)
    assert 'only 64 clips' in contrast_batch_note(per_gpu, gpus, accumulation, False)
