"""IN-SSL video initialisation through the shipped configs (Sec. 4.2, App. B.3, Table 5b).

A tiny fake ImageNet-MAE checkpoint is written here in MAE's release layout
(``{'model': {cls_token, pos_embed, patch_embed.proj.*, blocks.N.*, norm.*}}``, pos_embed =
MAE's fixed 2D table) and loaded through ``configs/mavil/stage1.py``'s ``init_cfg``.
"""
import hashlib
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from timm.models.vision_transformer import VisionTransformer

import mavil.engine  # noqa: F401  (registers the runner)
import mavil.models  # noqa: F401
from mavil.download import DownloadError
from mavil.models.pretrained import check_init_checkpoints, inflate_patch_embed
from mavil.registry import MODELS
from tests.helpers import serve
from tests.models.helpers import mae_2d

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / 'mavil'
MAE_URL = 'https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth'
MAE_INIT = dict(type='ImageViTInflateInit', checkpoint=MAE_URL, sha256=None)
TINY = dict(embed_dim=64, depth=2, num_heads=4)


def fake_mae_checkpoint(path: Path) -> VisionTransformer:
    """Write a tiny MAE pre-training checkpoint (encoder part, MAE's key names) to ``path``."""
    torch.manual_seed(0)
    vit = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                            num_classes=0).eval()
    vit.pos_embed.data.copy_(torch.from_numpy(mae_2d(64, 4, 4, cls_token=True)).float()[None])
    state = vit.state_dict()
    assert state['patch_embed.proj.weight'].shape == (64, 3, 8, 8)
    assert {k.split('.')[0] for k in state} == {'cls_token', 'pos_embed', 'patch_embed',
                                                'blocks', 'norm'}
    torch.save({'model': state}, path)
    return vit


def tiny_video_cfg(config: str, checkpoint: str, frames: int = 2) -> Config:
    """The config's model at tiny sizes, its video init_cfg kept but pointing at ``checkpoint``."""
    cfg = Config.fromfile(CONFIGS / config)
    assert cfg.model.video_encoder.init_cfg.type == 'ImageViTInflateInit'
    cfg.merge_from_dict({
        'model.audio_encoder.arch': dict(_delete_=True, **TINY),
        'model.audio_encoder.input_size': (64, 32),
        'model.audio_encoder.patch_size': (8, 8),
        'model.video_encoder.arch': dict(_delete_=True, **TINY),
        'model.video_encoder.input_size': (frames, 32, 32),
        'model.video_encoder.patch_size': (2, 8, 8),
        'model.video_encoder.init_cfg.checkpoint': checkpoint,
        'model.fusion.num_heads': 4,
        'model.audio_decoder': dict(embed_dim=32, depth=1, num_heads=4),
        'model.video_decoder': dict(embed_dim=32, depth=1, num_heads=4),
    })
    if 'embed_dim' in cfg.model.fusion:  # configs that still set the fusion width by hand
        cfg.model.fusion.embed_dim = TINY['embed_dim']
    return cfg


def test_stage1_config_initialises_the_video_encoder_from_mae(tmp_path):
    vit = fake_mae_checkpoint(tmp_path / 'mae_pretrain_vit_base.pth')
    model = MODELS.build(tiny_video_cfg('stage1.py', str(tmp_path / 'mae_pretrain_vit_base.pth'))
                         .model)
    audio_before = {k: v.clone() for k, v in model.audio_encoder.state_dict().items()}
    model.init_weights()
    video = model.video_encoder
    torch.testing.assert_close(video.patch_embed.proj.weight,
                               inflate_patch_embed(vit.patch_embed.proj.weight.detach(), 2))
    torch.testing.assert_close(video.blocks[1].attn.qkv.weight, vit.blocks[1].attn.qkv.weight)
    torch.testing.assert_close(video.norm.weight, vit.norm.weight)
    torch.testing.assert_close(video.cls_token, vit.cls_token)
    for key, value in model.audio_encoder.state_dict().items():  # audio stays from scratch
        torch.testing.assert_close(value, audio_before[key])
    # identical frames (one tubelet): the video encoder is the image MAE on the frame
    frame = torch.rand(2, 3, 32, 32)
    clip = frame[:, :, None].expand(-1, -1, 2, -1, -1).contiguous()
    with torch.no_grad():
        out, _ = video(clip, masked=False)
        torch.testing.assert_close(out, vit.forward_features(frame), rtol=1e-4, atol=1e-4)


def test_stage1_config_downloads_the_mae_checkpoint_by_url(tmp_path, monkeypatch):
    """A URL in init_cfg: fetched once into torch.hub's cache before training, checked
    against sha256, then loaded weights-only like a local file."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    vit = fake_mae_checkpoint(tmp_path / 'served.pth')
    body = (tmp_path / 'served.pth').read_bytes()
    with serve({'/mae/pretrain/mae_pretrain_vit_base.pth': body}) as server:
        url = server['url'] + '/mae/pretrain/mae_pretrain_vit_base.pth'
        cfg = tiny_video_cfg('stage1.py', url)
        cfg.model.video_encoder.init_cfg.sha256 = hashlib.sha256(body).hexdigest()
        model = MODELS.build(cfg.model)
        check_init_checkpoints(model)  # downloads (before the data loader would be built)
        model.init_weights()  # from the cache
        assert sum(server['hits'].values()) == 1
    assert (tmp_path / 'torch/hub/checkpoints/mae_pretrain_vit_base.pth').read_bytes() == body
    torch.testing.assert_close(model.video_encoder.blocks[1].attn.qkv.weight,
                               vit.blocks[1].attn.qkv.weight)

    cfg.model.video_encoder.init_cfg.sha256 = '0' * 64  # the cached copy no longer matches
    with pytest.raises(DownloadError, match='delete the file to download it again'):
        MODELS.build(cfg.model).init_weights()


@pytest.mark.parametrize('config', ['stage1.py', 'stage2_iter1.py', 'stage2_iter2.py',
                                    'stage2_iter3.py', 'ablations/init_in_ssl.py'])
def test_stage1_and_stage2_students_use_the_in_ssl_init(config):
    assert Config.fromfile(CONFIGS / config).model.video_encoder.init_cfg == MAE_INIT


def test_in_sl_config_takes_a_learned_position_table(tmp_path):
    """init_in_sl.py: a supervised timm / DeiT checkpoint (learned pos_embed) loads; the
    encoder keeps the fixed table. init_scratch.py has no image checkpoint at all."""
    torch.manual_seed(0)
    vit = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4,
                            num_classes=10)
    torch.save({'model': vit.state_dict()}, tmp_path / 'deit.pth')
    model = MODELS.build(tiny_video_cfg('ablations/init_in_sl.py', str(tmp_path / 'deit.pth'))
                         .model)
    fixed = model.video_encoder.pos_embed.clone()
    model.init_weights()
    torch.testing.assert_close(model.video_encoder.blocks[0].mlp.fc1.weight,
                               vit.blocks[0].mlp.fc1.weight)
    torch.testing.assert_close(model.video_encoder.pos_embed, fixed)
    assert Config.fromfile(CONFIGS / 'ablations/init_scratch.py').model.video_encoder.init_cfg \
        is None


def test_missing_mae_checkpoint_fails_before_training(tmp_path, monkeypatch):
    """The message names the expected file, where to download it, and the scratch config."""
    monkeypatch.chdir(tmp_path)  # no checkpoints/ here
    cfg = tiny_video_cfg('stage1.py', 'checkpoints/mae_pretrain_vit_base.pth')
    model = MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError) as error:
        check_init_checkpoints(model)
    message = str(error.value)
    for part in ('checkpoints/mae_pretrain_vit_base.pth',
                 'https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth',
                 'configs/mavil/ablations/init_scratch.py'):
        assert part in message
    with pytest.raises(FileNotFoundError, match='init_scratch.py'):
        model.init_weights()  # the initialiser itself says the same


def test_runner_checks_init_files_before_building_data(tmp_path, monkeypatch):
    """tools/train.py path: MAViLRunner.train() fails on the missing file first (the dataset
    of stage1.py does not exist here, so reaching the data loader would fail differently)."""
    from mavil.apis.stages import build_runner
    monkeypatch.chdir(tmp_path)
    cfg = tiny_video_cfg('stage1.py', 'checkpoints/mae_pretrain_vit_base.pth')
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    runner = build_runner(cfg)
    with pytest.raises(FileNotFoundError, match='mae_pretrain_vit_base.pth'):
        runner.train()
