# A tiny MAViL for tests and quick CPU runs: 64-wide, 2-block encoders on 64 x 32 fbanks
# (8 x 8 patches) and 4 x 32 x 32 clips (2 x 8 x 8 tubelets); 32-wide 1-block decoders.
# Derived configs take the parts they have, e.g.
#   model = dict(**_base_.tiny_encoders, **_base_.tiny_decoders, fusion=dict(depth=1, num_heads=4))
tiny_arch = dict(_delete_=True, embed_dim=64, depth=2, num_heads=4)
tiny_encoders = dict(
    audio_encoder=dict(arch=tiny_arch, input_size=(64, 32), patch_size=(8, 8)),
    video_encoder=dict(arch=tiny_arch, input_size=(4, 32, 32), patch_size=(2, 8, 8)))
tiny_decoders = dict(
    audio_decoder=dict(embed_dim=32, depth=1, num_heads=4),
    video_decoder=dict(embed_dim=32, depth=1, num_heads=4))
