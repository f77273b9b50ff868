# Audio-only fine-tuning (Sec. 4.3): the pre-trained audio encoder, mean-pooled top-layer
# tokens, linear head. Everything else as the audio+video classifier.
_base_ = ['./classifier_av_vit_base.py']

model = dict(
    modalities=('audio', ),
    data_preprocessor=dict(modalities=('audio', )),
    video_encoder=None,
    fusion=None)
