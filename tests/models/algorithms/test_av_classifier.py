"""AVClassifier / AVRetriever, fine-tuning masking, mixup and the optimizer constructor."""
import copy

import pytest
import torch
from mmengine.dataset import pseudo_collate

from mavil.engine.optim_constructors import FinetuneOptimWrapperConstructor
from mavil.models.algorithms import labels_to_targets
from mavil.models.mixup import BatchMixup
from mavil.models.layers import FinetuneMasking
from mavil.registry import MODELS
from mavil.structures import AVDataSample
from tests.models.helpers import AUDIO, VIDEO, batch, classifier, samples, tiny_mavil


@pytest.mark.parametrize('modalities,dim', [(('audio', ), 64), (('video', ), 64),
                                            (('audio', 'video'), 128)])
def test_modes_train_and_predict(modalities, dim):
    model = classifier(modalities)
    inputs = batch()
    assert model.head.in_dim == dim
    losses = model(inputs, samples([[0], [1, 2], [4]]), mode='loss')
    assert set(losses) == {'loss_cls'} and losses['loss_cls'].requires_grad
    losses['loss_cls'].backward()
    model.eval()
    out = model(inputs, samples([[0], [1], [2]]), mode='predict')
    assert out[0].pred_score.shape == (5, ) and ((out[0].pred_score > 0) &
                                                (out[0].pred_score < 1)).all()
    assert model(inputs, mode='tensor').shape == (3, 5)


def test_build_errors():
    with pytest.raises(ValueError, match='needs a video_encoder'):
        MODELS.build(dict(type='AVClassifier', modalities=('audio', 'video'), audio_encoder=AUDIO,
                          head=dict(type='ClsHead', num_classes=3)))
    with pytest.raises(ValueError, match='does not use a video_encoder'):
        MODELS.build(dict(type='AVClassifier', modalities=('audio', ), audio_encoder=AUDIO,
                          video_encoder=VIDEO, head=dict(type='ClsHead', num_classes=3)))
    with pytest.raises(ValueError, match='fusion needs both modalities'):
        classifier(('audio', ), fusion=dict(type='JointFusion', embed_dim=64, depth=2,
                                            num_heads=4))
    with pytest.raises(ValueError, match='does not provide'):
        classifier(('video', ), data_preprocessor=dict(type='AVDataPreprocessor',
                                                       modalities=('audio', )))
    with pytest.raises(ValueError, match='modalities must be one of'):
        classifier(('audio', 'audio'))


def test_multi_clip_prediction_averages_clip_scores_with_the_same_audio():
    model = classifier().eval()
    inputs = batch(n=2, clips=3)
    out = model.predict(inputs)
    per_clip = [model.predict({'audio': inputs['audio'], 'video': inputs['video'][:, k]})
                for k in range(3)]
    for i in range(2):
        expected = torch.stack([p[i].pred_score for p in per_clip]).mean(0)
        torch.testing.assert_close(out[i].pred_score, expected, rtol=1e-5, atol=1e-6)
    # audio-only models ignore the video entirely
    audio_model = classifier(('audio', )).eval()
    a = audio_model.predict(batch(n=2, clips=3))
    b = audio_model.predict({'audio': inputs['audio']})
    torch.testing.assert_close(a[1].pred_score, b[1].pred_score)
    with pytest.raises(ValueError, match='multi-clip video is for testing'):
        model.train().loss(inputs, samples([[0], [1]]))


def test_data_preprocessor_batches_multi_clip_video():
    model = classifier()
    data = [dict(inputs={'audio': torch.randn(1, 64, 32),
                         'video': torch.randint(0, 255, (3, 3, 4, 32, 32), dtype=torch.uint8)},
                 data_samples=AVDataSample(labels=torch.tensor([0]))) for _ in range(2)]
    out = model.data_preprocessor(pseudo_collate(data), False)
    assert out['inputs']['video'].shape == (2, 3, 3, 4, 32, 32)
    ref = (data[1]['inputs']['video'][2].float() - model.data_preprocessor.rgb_mean) / \
        model.data_preprocessor.rgb_std
    torch.testing.assert_close(out['inputs']['video'][1, 2], ref)


def test_finetuning_masking_drops_whole_slots():
    torch.manual_seed(0)
    audio = FinetuneMasking('time_freq', 0.2)(4, (64, 8))
    assert audio.num_kept == 51 * 6  # App. B.3 sizes: 1024x128 audio, 16x16 patches
    grid = audio.mask.view(4, 64, 8).bool()
    for m in grid:
        dropped_rows = m.all(dim=1).sum()
        dropped_cols = m.all(dim=0).sum()
        assert dropped_rows == 13 and dropped_cols == 2
        # every masked token lies in a dropped row or a dropped column
        assert (m == (m.all(dim=1, keepdim=True) | m.all(dim=0, keepdim=True))).all()
    assert (audio.ids_keep.diff(dim=1) > 0).all()  # kept tokens in grid order
    video = FinetuneMasking('space_time', 0.2)(2, (4, 14, 14))
    assert video.num_kept == 3 * 156
    v = video.mask.view(2, 4, 196).bool()
    assert (v.all(dim=2).sum(dim=1) == 1).all() and (v.all(dim=1).sum(dim=1) == 40).all()
    assert FinetuneMasking('time_freq', 0.0)(2, (64, 8)) is None
    with pytest.raises(ValueError, match='unknown fine-tuning masking mode'):
        FinetuneMasking('time', 0.2)


def test_training_encodes_masked_tokens_and_testing_all():
    model = classifier(('audio', ))
    seen = []
    model.audio_encoder.blocks[0].register_forward_hook(lambda m, i, o: seen.append(o.shape[1]))
    model.loss(batch(), samples([[0], [1], [2]]))
    model.eval().predict(batch())
    # tiny grid 8 x 4: 6 of 8 time rows x 3 of 4 frequency columns kept (+ [CLS])
    assert seen == [1 + 18, 1 + 32]


def test_mixup_mixes_modalities_and_targets_consistently():
    torch.manual_seed(1)
    mixup = BatchMixup(alpha=0.5)
    inputs = {'audio': torch.randn(4, 1, 8, 8), 'video': torch.randn(4, 3, 2, 8, 8)}
    targets = torch.eye(4)
    mixed, mixed_targets = mixup(inputs, targets)
    lam = float(mixed_targets[0, 0])
    assert 0 < lam < 1 and mixed_targets[0, 3] == pytest.approx(1 - lam)
    for m in inputs:
        torch.testing.assert_close(mixed[m], lam * inputs[m] + (1 - lam) * inputs[m].flip(0))
    with pytest.raises(ValueError, match='alpha must be > 0'):
        BatchMixup(alpha=0)


def test_labels_outside_the_head_fail_naming_the_clip():
    targets = labels_to_targets(samples([[0, 2], [1]]), 3)
    assert targets.tolist() == [[1, 0, 1], [0, 1, 0]]
    with pytest.raises(ValueError, match=r'c1 has labels \[7\] outside \[0, 5\)'):
        classifier(('audio', )).loss(batch(n=2), samples([[0], [7]]))


def test_optimizer_groups_lr_multipliers_and_weight_decay():
    model = classifier()
    cfg = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
    wrapper = FinetuneOptimWrapperConstructor(
        cfg, dict(module_lr_mult=dict(video_encoder=0.5)))(model)
    by_param = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            by_param[p] = (group['lr'], group['weight_decay'])
    names = dict(model.named_parameters())
    assert by_param[names['video_encoder.blocks.0.attn.qkv.weight']] == (5e-4, 0.05)
    assert by_param[names['video_encoder.blocks.0.norm1.weight']] == (5e-4, 0.0)
    assert by_param[names['video_encoder.cls_token']] == (5e-4, 0.0)
    assert by_param[names['audio_encoder.blocks.1.mlp.fc1.weight']] == (1e-3, 0.05)
    assert by_param[names['audio_encoder.blocks.1.mlp.fc1.bias']] == (1e-3, 0.0)
    assert by_param[names['head.fc.weight']] == (1e-3, 0.05)
    assert len(by_param) == len(names)

    decayed = FinetuneOptimWrapperConstructor(cfg, dict(layer_decay=0.5))(model)
    lrs = {}
    for group in decayed.optimizer.param_groups:
        for p in group['params']:
            lrs[p] = group['lr']
    # depth 2: patch embed id 0, blocks 1-2, everything after id 3 (4 ids)
    assert lrs[names['audio_encoder.patch_embed.proj.weight']] == pytest.approx(1e-3 * 0.5**3)
    assert lrs[names['video_encoder.blocks.0.attn.proj.weight']] == pytest.approx(1e-3 * 0.25)
    assert lrs[names['audio_encoder.blocks.1.attn.proj.weight']] == pytest.approx(1e-3 * 0.5)
    assert lrs[names['av_fusion.blocks.0.attn.proj.weight']] == pytest.approx(1e-3)
    with pytest.raises(KeyError, match='does not have'):
        FinetuneOptimWrapperConstructor(cfg, dict(module_lr_mult=dict(video=0.5)))(model)
    with pytest.raises(KeyError, match='unknown paramwise_cfg'):
        FinetuneOptimWrapperConstructor(cfg, dict(custom_keys={}))


def test_retriever_predicts_uni_modal_embeddings_and_averages_clips():
    mavil = tiny_mavil().eval()
    cfg = dict(type='AVRetriever', audio_encoder=copy.deepcopy(AUDIO),
               video_encoder=copy.deepcopy(VIDEO),
               fusion=dict(type='JointFusion', embed_dim=64, depth=1, num_heads=4),
               audio_decoder=dict(type='MaskedDecoder', embed_dim=32, depth=1, num_heads=4),
               video_decoder=dict(type='MaskedDecoder', embed_dim=32, depth=1, num_heads=4))
    retriever = MODELS.build(cfg).eval()
    retriever.load_state_dict(mavil.state_dict(), strict=True)  # a MAViL checkpoint as is
    inputs = batch(n=2)
    out = retriever.predict(inputs)
    ref = mavil.extract_feat(inputs)
    torch.testing.assert_close(out[1].audio_embedding, ref['audio'][1])
    torch.testing.assert_close(out[1].video_embedding, ref['video'][1])
    clips = batch(n=2, clips=3)
    multi = retriever.predict(clips)
    per_clip = torch.stack([mavil.extract_feat({'video': clips['video'][:, k]})['video']
                            for k in range(3)]).mean(0)
    torch.testing.assert_close(multi[0].video_embedding, per_clip[0], rtol=1e-5, atol=1e-6)
    # training is MAViL's objective
    assert set(retriever.train().loss(inputs)) >= {'loss_rec_audio', 'loss_rec_video',
                                                  'loss_nce_inter', 'loss_nce_intra'}
