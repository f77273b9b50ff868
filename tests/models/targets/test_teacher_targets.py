"""TeacherTargets: Eq. 5 targets from a frozen teacher on the full view, kept out of training."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mavil.checkpoint_io import load_checkpoint_file
from mavil import hardware
from mavil.registry import MODELS
from tests.conftest import TINY_STAGE1
from tests.models.targets.conftest import save_model


def reference_teacher(stage1_cfg, ckpt, fusion=True):
    """The teacher built independently: a whole stage-1 MAViL loaded with the checkpoint."""
    model = MODELS.build(copy.deepcopy(stage1_cfg.model))
    model.load_state_dict(torch.load(ckpt)['state_dict'])
    return model.eval()


def full_view(model, inputs, fuse: bool):
    """a_T, v_T by hand: patch-embed, no mask, blocks, (fusion); [CLS] dropped."""
    with torch.no_grad():
        a = model.audio_encoder.encode(model.audio_encoder.embed(inputs['audio']))
        v = model.video_encoder.encode(model.video_encoder.embed(inputs['video']))
        if fuse:
            a, v = model.fusion(a, v)
    return a[:, 1:], v[:, 1:]


def test_m_fusion_targets_equal_direct_full_view_forward(build_student, stage1_cfg,
                                                         teacher_ckpt, inputs):
    student = build_student()
    targets = student.target(inputs, student.encoders)
    a_ref, v_ref = full_view(reference_teacher(stage1_cfg, teacher_ckpt), inputs, fuse=True)
    assert targets['audio'].shape == (4, 32, 64)  # N = (64/8)*(32/8) patches, H = 64
    assert targets['video'].shape == (4, 32, 64)  # N = (4/2)*(32/8)*(32/8) tubelets
    assert targets['audio'].dtype == targets['video'].dtype == torch.float32
    torch.testing.assert_close(targets['audio'], a_ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(targets['video'], v_ref, rtol=0, atol=1e-6)
    assert not targets['audio'].requires_grad


def test_m_uni_selects_encoder_outputs_before_fusion(build_student, stage1_cfg, teacher_ckpt,
                                                     inputs):
    student = build_student(target_type='M-Uni')
    assert student.target.teacher.fusion is None  # not built: never run
    targets = student.target(inputs, student.encoders)
    ref = reference_teacher(stage1_cfg, teacher_ckpt)
    a_uni, v_uni = full_view(ref, inputs, fuse=False)
    a_fused, v_fused = full_view(ref, inputs, fuse=True)
    torch.testing.assert_close(targets['audio'], a_uni, rtol=0, atol=1e-6)
    torch.testing.assert_close(targets['video'], v_uni, rtol=0, atol=1e-6)
    assert not torch.allclose(targets['audio'], a_fused, atol=1e-3)
    assert not torch.allclose(targets['video'], v_fused, atol=1e-3)


def test_av_mae_teacher_pair(stage1_cfg, stage2_cfg, inputs, tmp_path):
    """Table 4a 'A/V-MAE': a fusion-free, contrast-free teacher's uni-modal outputs."""
    mae_cfg = Config(copy.deepcopy(stage1_cfg._cfg_dict.to_dict()))
    mae_cfg.model.fusion = mae_cfg.model.inter_loss = mae_cfg.model.intra_loss = None
    mae = MODELS.build(copy.deepcopy(mae_cfg.model)).eval()
    ckpt = save_model(mae, tmp_path / 'av_mae.pth')
    cfg = copy.deepcopy(stage2_cfg.model)
    cfg.target.update(teacher_config=mae_cfg, teacher_ckpt=ckpt, target_type='A/V-MAE',
                      autocast=False)
    student = MODELS.build(cfg)
    targets = student.target(inputs)
    a_ref, v_ref = full_view(mae, inputs, fuse=False)
    torch.testing.assert_close(targets['audio'], a_ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(targets['video'], v_ref, rtol=0, atol=1e-6)

    cfg.target.target_type = 'M-Fusion'  # a fusion-free teacher has no fusion outputs
    with pytest.raises(ValueError, match="fusion=None.*A/V-MAE"):
        MODELS.build(copy.deepcopy(cfg))


def test_av_mae_rejects_a_mavil_teacher(build_student):
    with pytest.raises(ValueError, match=r"A/V-MAE.*\['fusion', 'inter_loss', 'intra_loss'\]"):
        build_student(target_type='A/V-MAE')
    with pytest.raises(ValueError, match='target_type must be one of'):
        build_student(target_type='fusion')


def test_bf16_autocast_targets_close_and_float32(build_student, inputs):
    fp32 = build_student(autocast=False)
    bf16 = build_student(autocast=True)
    ref, out = fp32.target(inputs), bf16.target(inputs)
    for m in ('audio', 'video'):
        assert out[m].dtype == torch.float32
        rel = (out[m] - ref[m]).norm() / ref[m].norm()
        assert 0 < rel < 2e-2, (m, rel)


def test_teacher_precision_is_its_own_not_the_callers(build_student, inputs):
    model = build_student(autocast=False)
    ref = model.target(inputs)
    with torch.autocast('cpu', dtype=torch.bfloat16):  # the student's AMP
        under_amp = model.target(inputs)
    torch.testing.assert_close(under_amp['audio'], ref['audio'], rtol=0, atol=0)


@pytest.mark.parametrize('fast', [True, False])
def test_automatic_precision_is_the_measured_decision(monkeypatch, build_student, inputs, fast):
    calls = []
    monkeypatch.setattr(hardware, 'bf16_is_faster', lambda device: calls.append(device) or fast)
    auto = build_student(autocast=None).target
    assert auto.use_autocast('cpu') == fast
    ref = build_student(autocast=False).target(inputs)['audio']
    out = auto(inputs)['audio']
    assert out.dtype == torch.float32
    # bf16 rounding shows in the targets exactly when the decision chose bf16
    assert (out - ref).abs().max().item() > 0 if fast else torch.equal(out, ref)
    assert set(calls) == {'cpu'}


def test_normalize_option(build_student, inputs):
    raw = build_student().target(inputs)
    normed = build_student(normalize=True).target(inputs)
    for m in ('audio', 'video'):
        t = normed[m]
        torch.testing.assert_close(t.mean(-1), torch.zeros(t.shape[:2]), rtol=0, atol=1e-5)
        torch.testing.assert_close(t.var(-1, unbiased=False), torch.ones(t.shape[:2]),
                                   rtol=0, atol=1e-3)
        assert not torch.allclose(raw[m], t, atol=1e-3)  # default: off (paper)


def test_teacher_not_in_parameters_state_dict_or_children(build_student, stage1_cfg):
    model = build_student()
    teacher = model.target.teacher
    teacher_ids = {id(p) for p in teacher.parameters()}
    assert teacher_ids and not teacher_ids & {id(p) for p in model.parameters()}
    assert all(m is not teacher for m in model.modules())
    assert not [n for n, _ in model.named_modules() if 'teacher' in n]
    stage1_keys = set(MODELS.build(copy.deepcopy(stage1_cfg.model)).state_dict())
    assert set(model.state_dict()) == stage1_keys | {'target._extra_state'}
    assert all(p.requires_grad is False for p in teacher.parameters())
    model.train()
    assert teacher.training is False
    teacher.train()
    assert teacher.training is False  # always eval


def test_device_and_dtype_moves_reach_teacher(build_student, inputs):
    model = build_student()
    model.double()
    assert all(p.dtype == torch.float64 for p in model.target.teacher.parameters())
    out = model.target({m: x.double() for m, x in inputs.items()})
    assert out['audio'].dtype == torch.float32  # targets are always float32
    model.float()
    assert all(p.dtype == torch.float32 for p in model.target.teacher.parameters())


def test_top_level_init_cfg_does_not_reach_teacher(build_student):
    def with_init_cfg(cfg):
        cfg.init_cfg = dict(type='Constant', val=0.5, bias=0.0, layer='Linear')

    model = build_student(edit=with_init_cfg)
    before = {k: v.clone() for k, v in model.target.teacher.state_dict().items()}
    model.init_weights()
    assert torch.all(model.audio_decoder.head.weight == 0.5)  # the init_cfg did run
    after = model.target.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_student_training_leaves_teacher_untouched(stage2_cfg, teacher_ckpt, tmp_path):
    """Real runner, real optimizer constructor: 3 student steps."""
    from mavil.engine import MAViLRunner
    cfg = copy.deepcopy(stage2_cfg)
    cfg.work_dir = str(tmp_path)
    cfg.model.target.update(teacher_config=str(TINY_STAGE1), teacher_ckpt=teacher_ckpt)
    cfg.train_cfg.max_iters = 3
    cfg.default_hooks.checkpoint.interval = 3
    runner = MAViLRunner.from_cfg(cfg)
    teacher = runner.model.target.teacher
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student_before = runner.model.audio_encoder.cls_token.detach().clone()
    runner.train()
    after = teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not torch.equal(student_before, runner.model.audio_encoder.cls_token)  # trained
    assert all(p.grad is None for p in teacher.parameters())
    optimized = {id(p) for g in runner.optim_wrapper.optimizer.param_groups for p in g['params']}
    assert not optimized & {id(p) for p in teacher.parameters()}
    saved = load_checkpoint_file(str(tmp_path / 'iter_3.pth'))['state_dict']  # weights-only
    assert not [k for k in saved if k.startswith('target.') and k != 'target._extra_state']


def test_reconstruction_loss_uses_masked_positions_only(build_student, inputs):
    model = build_student()
    masks = {}
    for modality, enc in model.encoders.items():
        def record(batch, device, _sample=enc.sample_mask, _m=modality):
            info = _sample(batch, device)
            masks.setdefault(_m, info.mask)  # the first view is the reconstruction view
            return info
        enc.sample_mask = record
    teacher_forward = model.target.forward
    noise_gen = torch.Generator().manual_seed(123)

    def loss_with_noise(where):
        masks.clear()

        def noisy(inp, encoders=None):
            out = teacher_forward(inp, encoders)
            for m, t in out.items():
                keep = masks[m] if where == 'masked' else 1 - masks[m]
                noise = torch.randn(t.shape, generator=noise_gen)
                out[m] = t + 100.0 * keep[..., None] * noise if where else t
            return out

        model.target.forward = noisy
        torch.manual_seed(7)
        with torch.no_grad():
            losses = model.loss(inputs)
        return losses['loss_rec_audio'], losses['loss_rec_video']

    clean = loss_with_noise(None)
    visible_noise = loss_with_noise('visible')
    masked_noise = loss_with_noise('masked')
    assert masks['audio'].sum() == 4 * (32 - int(32 * 0.2))  # 80% of the tokens masked
    for c, v, m in zip(clean, visible_noise, masked_noise):
        torch.testing.assert_close(v, c, rtol=1e-6, atol=0)  # visible targets do not count
        assert m > 100 * c  # masked targets do


def test_eq6_terms_and_teacher_width_decoders(build_student, inputs):
    model = build_student()
    losses = model.loss(inputs)
    assert {k for k in losses if k.startswith('loss_')} == {
        'loss_rec_audio', 'loss_rec_video', 'loss_nce_inter', 'loss_nce_intra'}
    # decoders predict the teacher's 64-d tokens, not raw patches (64 audio / 384 video values)
    assert model.audio_decoder.head.out_features == model.video_decoder.head.out_features == 64


# ------------------------------------------------------------------------------ bad input
def test_missing_checkpoint_names_expected_path_and_previous_stage(build_student, tmp_path):
    expected = tmp_path / 'work_dirs' / 'tiny_stage1' / 'iter_30.pth'
    with pytest.raises(FileNotFoundError) as err:
        build_student(teacher_ckpt=str(expected))
    msg = str(err.value)
    assert str(expected) in msg and 'work_dirs/tiny_stage1/' in msg
    assert 'previous stage' in msg and 'model.target.teacher_ckpt=PATH' in msg

    expected.parent.mkdir(parents=True)
    (expected.parent / 'iter_10.pth').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=r"iter_10.pth.*did the previous stage finish"):
        build_student(teacher_ckpt=str(expected))


def test_teacher_config_not_found(build_student):
    with pytest.raises(FileNotFoundError, match='teacher config not found'):
        build_student(teacher_config='configs/mavil/no_such_stage.py')


def teacher_config(stage1_cfg, **model):
    cfg = Config(copy.deepcopy(stage1_cfg._cfg_dict.to_dict()))
    for key, value in model.items():
        cfg.model[key] = value
    return cfg


def test_checkpoint_config_key_mismatch_lists_keys(build_student, stage1_cfg):
    deeper = teacher_config(stage1_cfg, fusion=dict(type='JointFusion', embed_dim=64, depth=2,
                                                    num_heads=4))
    with pytest.raises(RuntimeError) as err:
        build_student(teacher_config=deeper)
    msg = str(err.value)
    assert 'does not match teacher config' in msg and 'missing keys' in msg
    assert 'fusion.blocks.1.attn.qkv.weight' in msg

    mbt = teacher_config(stage1_cfg, fusion=dict(type='MBTFusion', embed_dim=64, depth=1,
                                                 num_heads=4))
    with pytest.raises(RuntimeError) as err:
        build_student(teacher_config=mbt)
    msg = str(err.value)
    assert 'unexpected keys' in msg and 'fusion.blocks.0.attn.qkv.weight' in msg
    assert 'missing keys' in msg and 'fusion.bottlenecks' in msg


def test_embed_dim_mismatch_lists_shapes(build_student, stage1_cfg):
    narrow = dict(_delete_=True, embed_dim=32, depth=2, num_heads=4)
    cfg = teacher_config(stage1_cfg)
    cfg.model.audio_encoder.arch = narrow
    cfg.model.video_encoder.arch = narrow
    with pytest.raises(RuntimeError) as err:
        build_student(teacher_config=cfg)
    msg = str(err.value)
    assert 'shape mismatches' in msg
    assert 'audio_encoder.blocks.0.attn.qkv.weight: checkpoint (192, 64) vs config (96, 32)' in msg


def test_token_grid_mismatch_fails_at_build(build_student):
    def coarser_audio(cfg):
        cfg.audio_encoder.patch_size = (16, 8)

    with pytest.raises(ValueError, match=r'(?s)token grids differ.*audio.*\(8, 4\).*\(4, 4\)'):
        build_student(edit=coarser_audio)


# --------------------------------------------------------------------------------- resume
def test_checkpoint_records_teacher_and_resume_verifies_it(build_student, stage1_cfg,
                                                           teacher_ckpt, tmp_path):
    trained = build_student()
    state = trained.state_dict()
    assert state['target._extra_state'] == {
        'teacher_ckpt': teacher_ckpt, 'teacher_sha256': trained.target.teacher_sha256,
        'target_type': 'M-Fusion'}

    # same weights in another file (moved / re-saved): fine
    moved = tmp_path / 'moved.pth'
    moved.write_bytes(open(teacher_ckpt, 'rb').read())
    _load_checkpoint_to_model(build_student(teacher_ckpt=str(moved)), {'state_dict': state})

    # another teacher: refused, through the runner's loading path too
    other = reference_teacher(stage1_cfg, teacher_ckpt)
    with torch.no_grad():
        other.fusion.norm.weight.add_(1e-3)
    changed = save_model(other, tmp_path / 'changed.pth')
    with pytest.raises(RuntimeError, match='teacher file changed'):
        _load_checkpoint_to_model(build_student(teacher_ckpt=changed), {'state_dict': state})
    with pytest.raises(RuntimeError, match='M-Fusion.*M-Uni'):
        build_student(target_type='M-Uni').load_state_dict(state)
    _load_checkpoint_to_model(build_student(teacher_ckpt=changed, verify_teacher=False),
                              {'state_dict': state})


def test_bf16_cpu_flag_without_a_fast_probe_keeps_the_teacher_fp32(monkeypatch, tmp_path,
                                                                   build_student):
    """AVX512-BF16 without AMX: bf16 measured slower than fp32, so the teacher stays fp32."""
    monkeypatch.setenv('MAVIL_CACHE_DIR', str(tmp_path))
    monkeypatch.setattr(hardware, '_probes', {})
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: True, raising=False)
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: False, raising=False)
    monkeypatch.setattr(hardware, 'measure_bf16',
                        lambda: hardware.Bf16Probe(fp32_flops=100e9, bf16_flops=84e9))
    assert not build_student(autocast=None).target.use_autocast('cpu')
