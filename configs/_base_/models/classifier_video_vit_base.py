# Video-only fine-tuning (Sec. 4.3): the pre-trained video encoder, mean-pooled top-layer
# tokens, linear head. Everything else as the audio+video classifier.
_base_ = ['./classifier_av_vit_base.py']

model = dict(
    modalities=('video', ),
    data_preprocessor=dict(modalities=('video', )),
    audio_encoder=None,
    fusion=None)
