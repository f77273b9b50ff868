"""Fusion necks: MBT bottleneck averaging (App. B.2) and vanilla joint fusion (Sec. 3.1)."""
import pytest
import torch

from mavil.models.necks import JointFusion, MBTFusion

B, La, Lv, D, NB = 2, 5, 7, 16, 3


def make_mbt(depth: int, share_weights: bool) -> MBTFusion:
    return MBTFusion(embed_dim=D, depth=depth, num_heads=2, num_bottlenecks=NB,
                     share_weights=share_weights).eval()


def hand_mbt(fusion: MBTFusion, audio, video):
    """The equations of App. B.2 written out with the module's own layers."""
    b = fusion.bottlenecks.expand(audio.shape[0], -1, -1)
    bottlenecks = [b]
    for g_a, g_v in zip(fusion.audio_blocks, fusion.video_blocks):
        a_next = g_a(torch.cat([audio, b], dim=1))  # a^{l+1} || b_a^{l+1}
        v_next = g_v(torch.cat([video, b], dim=1))  # v^{l+1} || b_v^{l+1}
        audio, b_a = a_next[:, :La], a_next[:, La:]
        video, b_v = v_next[:, :Lv], v_next[:, Lv:]
        b = (b_a + b_v) / 2  # b^{l+1}
        bottlenecks.append(b)
    return fusion.audio_norm(audio), fusion.video_norm(video), bottlenecks


@pytest.mark.parametrize('share_weights', [True, False])
def test_mbt_matches_equations(share_weights):
    fusion = make_mbt(depth=3, share_weights=share_weights)
    assert (fusion.audio_blocks is fusion.video_blocks) == share_weights
    audio, video = torch.randn(B, La, D), torch.randn(B, Lv, D)
    with torch.no_grad():
        a_out, v_out = fusion(audio, video)
        a_ref, v_ref, _ = hand_mbt(fusion, audio, video)
    assert a_out.shape == (B, La, D) and v_out.shape == (B, Lv, D)
    torch.testing.assert_close(a_out, a_ref)
    torch.testing.assert_close(v_out, v_ref)


@pytest.mark.parametrize('share_weights', [True, False])
def test_mbt_next_bottleneck_is_average_of_both_modalities(share_weights):
    """Capture what layer 2 receives as b^1 and compare with (b_a^1 + b_v^1) / 2."""
    fusion = make_mbt(depth=2, share_weights=share_weights)
    audio, video = torch.randn(B, La, D), torch.randn(B, Lv, D)
    seen = []
    hooks = {id(m): m for m in (fusion.audio_blocks[1], fusion.video_blocks[1])}
    handles = [m.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
               for m in hooks.values()]
    with torch.no_grad():
        fusion(audio, video)
        b0 = fusion.bottlenecks.expand(B, -1, -1)
        b_a = fusion.audio_blocks[0](torch.cat([audio, b0], dim=1))[:, La:]
        b_v = fusion.video_blocks[0](torch.cat([video, b0], dim=1))[:, Lv:]
    for h in handles:
        h.remove()
    assert len(seen) == 2  # layer 2 runs once per modality
    expected = (b_a + b_v) / 2
    for layer_input in seen:
        torch.testing.assert_close(layer_input[:, -NB:], expected)
    assert not torch.allclose(b_a, b_v)  # the average is not trivially either one


@pytest.mark.parametrize('share_weights', [True, False])
def test_mbt_modalities_exchange_only_through_bottlenecks(share_weights):
    audio, video = torch.randn(B, La, D), torch.randn(B, Lv, D)
    other_video = torch.randn(B, Lv, D)
    with torch.no_grad():
        # depth 1: audio outputs see only audio and b^0, never video
        one = make_mbt(depth=1, share_weights=share_weights)
        torch.testing.assert_close(one(audio, video)[0], one(audio, other_video)[0])
        # depth 2: video reaches audio through b^1
        two = make_mbt(depth=2, share_weights=share_weights)
        assert not torch.allclose(two(audio, video)[0], two(audio, other_video)[0], atol=1e-4)


def test_mbt_bad_arguments_raise():
    with pytest.raises(ValueError):
        MBTFusion(embed_dim=D, depth=0, num_heads=2)
    with pytest.raises(ValueError):
        MBTFusion(embed_dim=D, depth=1, num_heads=2, num_bottlenecks=0)


def test_joint_fusion_matches_concatenated_transformer_and_mixes_modalities():
    fusion = JointFusion(embed_dim=D, depth=2, num_heads=2).eval()
    audio, video = torch.randn(B, La, D), torch.randn(B, Lv, D)
    with torch.no_grad():
        a_out, v_out = fusion(audio, video)
        assert a_out.shape == (B, La, D) and v_out.shape == (B, Lv, D)
        x = torch.cat([audio, video], dim=1)
        for block in fusion.blocks:
            x = block(x)
        x = fusion.norm(x)
        torch.testing.assert_close(a_out, x[:, :La])
        torch.testing.assert_close(v_out, x[:, La:])
        # audio outputs depend on video inputs (and vice versa)
        a_other, v_other = fusion(audio, torch.randn(B, Lv, D))
        assert not torch.allclose(a_out, a_other, atol=1e-4)
        _, v_other = fusion(torch.randn(B, La, D), video)
        assert not torch.allclose(v_out, v_other, atol=1e-4)
    with pytest.raises(ValueError, match='fusion=None'):
        JointFusion(embed_dim=D, depth=0, num_heads=2)
